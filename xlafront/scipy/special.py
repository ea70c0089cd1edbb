"""Special functions (mirrors jax.scipy.special).

Each function promotes its operands to an inexact dtype (as jax.scipy.special does)
and follows JAX's formula, so values, dtypes and weak types agree with JAX. The
functions with derivatives that autodiff of the formula would get wrong at a point
(xlogy, xlog1py, logit, log_ndtr, entr) carry JAX's custom derivatives.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront import primitives as P
from xlafront import primitives_special as S
from xlafront.api import jit
from xlafront.api_autodiff import custom_jvp
from xlafront.core import get_aval
from xlafront.lax._special import igamma, igammac
from xlafront.nn.functions import logsumexp, softmax, log_softmax  # noqa: F401
from xlafront.scipy._util import const, promote

__all__ = [
    "betaln", "beta", "digamma", "entr", "erf", "erfc", "erfinv", "expit", "factorial", "gamma",
    "gammainc", "gammaincc", "gammaln", "gammasgn", "kl_div", "log_ndtr", "log_softmax", "logit",
    "logsumexp", "loggamma", "multigammaln", "ndtr", "ndtri", "polygamma", "rel_entr", "softmax",
    "xlog1py", "xlogy", "zeta",
]


def _dtype(x):
    return get_aval(x).dtype


def _concrete_int(v, what):
    if isinstance(v, core.Tracer):
        c = v.to_concrete_value()
        if c is None:
            raise core.ConcretizationTypeError(f"{what} must be concrete, got a traced value "
                                               f"{get_aval(v).str_short()} (at {core.user_site()})")
        v = c
    return int(v)


def _no_complex(name, x):
    if dtypes.is_complex(_dtype(x)):
        raise ValueError(f"{name} does not support complex-valued inputs.")


# ----------------------------------------------------------------------------- gamma family

def gammaln(x):
    """log|Gamma(x)|."""
    x, = promote("gammaln", x)
    return P.lgamma(x)


def loggamma(x):
    """The principal branch of log(Gamma(x)); for real x, nan where x <= 0 (as scipy)."""
    x, = promote("loggamma", x)
    if dtypes.is_complex(_dtype(x)):
        raise NotImplementedError("loggamma of complex inputs is not implemented yet in xlafront")
    return xnp.where(x > 0, P.lgamma(x), np.nan)


def gammasgn(x):
    """The sign of the gamma function (nan at the poles)."""
    x, = promote("gammasgn", x)
    _no_complex("gammasgn", x)
    return _gammasgn(x)


@jit
def _gammasgn(x):
    # Gamma is positive for x > 0 and changes sign at each pole 0, -1, -2, ...: it is negative
    # on (-1, 0), (-3, -2), ..., the intervals whose floor is odd; at x = 0 the sign follows
    # the sign of the zero (Gamma(-0) = -inf).
    dt = _dtype(x).type
    below = P.floor(x)
    negative = xnp.where(x < 0, P.rem(below, dt(2)) != 0, (x == 0) & xnp.signbit(x))
    at_pole = ((x < 0) & (x == below)) | xnp.isnan(x)
    return xnp.where(at_pole, dt(np.nan), xnp.where(negative, dt(-1), dt(1)))


def gamma(x):
    """The gamma function, gammasgn(x) * exp(gammaln(x))."""
    x, = promote("gamma", x)
    if dtypes.is_complex(_dtype(x)):
        raise NotImplementedError("gamma of complex inputs is not implemented yet in xlafront")
    return gammasgn(x) * P.exp(P.lgamma(x))


def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x) (lax.igamma of the promoted,
    broadcast operands)."""
    a, x = xnp.broadcast_arrays(*promote("gammainc", a, x))
    return igamma(a, x)


def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (lax.igammac)."""
    a, x = xnp.broadcast_arrays(*promote("gammaincc", a, x))
    return igammac(a, x)


def _algdiv(a, b):
    """log(Gamma(b) / Gamma(a + b)) for large b (TOMS 708's algdiv)."""
    c0 = 0.0833333333333333
    c1 = -0.00277777777760991
    c2 = 0.00079365066682539
    c3 = -0.00059520293135187
    c4 = 0.000837308034031215
    c5 = -0.00165322962780713
    h = a / b
    c = h / (1 + h)
    x = h / (1 + h)
    d = b + (a - 0.5)
    x2 = x * x
    s3 = 1.0 + (x + x2)
    s5 = 1.0 + (x + x2 * s3)
    s7 = 1.0 + (x + x2 * s5)
    s9 = 1.0 + (x + x2 * s7)
    s11 = 1.0 + (x + x2 * s9)
    t = (1.0 / b) ** 2
    w = ((((c5 * s11 * t + c4 * s9) * t + c3 * s7) * t + c2 * s5) * t + c1 * s3) * t + c0
    w = w * (c / b)
    u = d * P.log1p(a / b)
    v = a * (P.log(b) - 1.0)
    return xnp.where(u <= v, w - v - u, w - u - v)


def betaln(a, b):
    """log|B(a, b)|, accurate for large arguments (lgamma differences lose digits there)."""
    a, b = promote("betaln", a, b)
    return _betaln(a, b)


@jit
def _betaln(a, b):
    a, b = xnp.minimum(a, b), xnp.maximum(a, b)
    small_b = P.lgamma(a) + (P.lgamma(b) - P.lgamma(a + b))
    large_b = P.lgamma(a) + _algdiv(a, b)
    return xnp.where(b < 8, small_b, large_b)


def beta(a, b):
    """The beta function B(a, b)."""
    a, b = promote("beta", a, b)
    _no_complex("beta", a)
    sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
    return sign * P.exp(betaln(a, b))


def factorial(n, exact: bool = False):
    """n! = Gamma(n + 1) (0 for n < 0)."""
    if exact:
        raise NotImplementedError("factorial with exact=True")
    n, = promote("factorial", n)
    return xnp.where(n < 0, 0, P.exp(P.lgamma(n + 1)))


def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d:
    log Gamma_d(a) = d (d - 1) / 4 log(pi) + sum_{j < d} log Gamma(a - j / 2)."""
    d = _concrete_int(d, "d argument of multigammaln")
    a, _ = promote("multigammaln", a, d)   # (d takes part in the result dtype, as in JAX)
    dt = _dtype(a)
    total = np.asarray(d * (d - 1) / 4 * np.log(np.pi), dt)   # (strong constants: a strong result, as JAX)
    for j in range(d):
        total = total + gammaln(a - np.asarray(j / 2, dt))
    return total


def digamma(x):
    """The logarithmic derivative of the gamma function."""
    x, = promote("digamma", x)
    return P.digamma(x)


def polygamma(n, x):
    """The n-th derivative of the digamma function; n must be of integer type."""
    if not dtypes.is_int(get_aval(n).dtype):
        raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype {get_aval(n).dtype}.")
    n, x = xnp.broadcast_arrays(*promote("polygamma", n, x))
    _no_complex("polygamma", x)
    return S.polygamma(n, x)


def zeta(x, q=None):
    """The Hurwitz zeta function zeta(x, q), differentiable in both arguments (d/dx from the
    Euler-Maclaurin form differentiated term by term, transforms/rules_special.py)."""
    if q is None:
        raise NotImplementedError("Riemann zeta function not implemented; pass q != None to compute "
                                  "the Hurwitz Zeta function.")
    x, q = xnp.broadcast_arrays(*promote("zeta", x, q))
    return S.zeta(x, q)


# ----------------------------------------------------------------------------- error function family

def erf(x):
    """The error function."""
    x, = promote("erf", x)
    return P.erf(x)


def erfc(x):
    """The complementary error function 1 - erf(x), accurate for large x."""
    x, = promote("erfc", x)
    return S.erfc(x)


def erfinv(x):
    """The inverse of erf."""
    x, = promote("erfinv", x)
    return P.erf_inv(x)


def ndtr(x):
    """The standard normal CDF."""
    x = xnp.asarray(x)
    if _dtype(x) not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"x.dtype={_dtype(x)} is not supported, see docstring for supported types.")
    return _ndtr(x)


@jit
def _ndtr(x):
    dtype = _dtype(x).type
    half_sqrt_2 = dtype(0.5) * np.sqrt(2.0, dtype=dtype)
    w = x * half_sqrt_2
    z = P.abs(w)
    y = xnp.where(z < half_sqrt_2, dtype(1.0) + P.erf(w),
                  xnp.where(w > dtype(0.0), dtype(2.0) - S.erfc(z), S.erfc(z)))
    return dtype(0.5) * y


def _polyval(coeffs, x):
    """Horner's rule, highest power first (as jnp.polyval: starts from 0 * x)."""
    y = xnp.zeros_like(x)
    for c in coeffs:
        y = y * x + c
    return y


_NDTRI_P0 = [-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
             1.39312609387279679503e1, -1.23916583867381258016e0]
_NDTRI_Q0 = [1.0, 1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
             -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
             1.59056225126211695515e1, -1.18331621121330003142e0]
_NDTRI_P1 = [4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
             4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
             -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4]
_NDTRI_Q1 = [1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
             1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
             -3.80806407691578277194e-2, -9.33259480895457427372e-4]
_NDTRI_P2 = [3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
             1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
             3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9]
_NDTRI_Q2 = [1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
             2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
             2.89247864745380683936e-6, 6.79019408009981274425e-9]


def ndtri(p):
    """The inverse of the standard normal CDF (Cephes' rational approximations)."""
    p = xnp.asarray(p)
    if _dtype(p) not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"x.dtype={_dtype(p)} is not supported, see docstring for supported types.")
    return _ndtri(p)


@jit
def _ndtri(p):
    # Cephes' ndtri: reflect p > 1 - e^-2 to q = 1 - p, so that q lies in the central region
    # (q > e^-2, |x| <= 2) or in the lower tail. Central: x = sqrt(2 pi) (w + w^3 R0(w^2)),
    # w = q - 1/2. Tail: with t = sqrt(-2 log q), x = -(t - log(t) / t - R(1/t) / t), R one
    # rational function for t < 8 and another beyond. The reflected result is -x.
    dt = _dtype(p).type
    reflect = p > dt(-np.expm1(-2.0))
    q = xnp.where(reflect, dt(1) - p, p)
    q = xnp.where(q == dt(0), dt(0.5), q)          # p = 0 or 1: fixed up at the end
    w = q - dt(0.5)
    w2 = P.square(w)
    central = dt(np.sqrt(2 * np.pi)) * (w + w * w2 * (_polyval(_NDTRI_P0, w2) / _polyval(_NDTRI_Q0, w2)))
    t = P.sqrt(dt(-2) * P.log(q))
    u = dt(1) / t
    r_far = _polyval(_NDTRI_P2, u) / _polyval(_NDTRI_Q2, u)
    r_near = _polyval(_NDTRI_P1, u) / _polyval(_NDTRI_Q1, u)
    tail = -(t - P.log(t) / t - xnp.where(t >= dt(8), r_far, r_near) / t)
    x = xnp.where(q > dt(np.exp(-2.0)), central, tail)
    x = xnp.where(reflect, -x, x)
    return xnp.where(p == dt(0), dt(-np.inf), xnp.where(p == dt(1), dt(np.inf), x))


_LOGNDTR_LOWER = {np.dtype(np.float64): np.array(-20, np.float64), np.dtype(np.float32): np.array(-10, np.float32)}
_LOGNDTR_UPPER = {np.dtype(np.float64): np.array(8, np.float64), np.dtype(np.float32): np.array(5, np.float32)}
_NORM_LOGPDF_CONSTANT = np.log(np.sqrt(2 * np.pi))


def _log_ndtr(x, series_order=3):
    if not isinstance(series_order, int):
        raise TypeError("series_order must be a Python integer.")
    if series_order < 0:
        raise ValueError("series_order must be non-negative.")
    if series_order > 30:
        raise ValueError("series_order must be <= 30.")
    x = xnp.asarray(x)
    dt = _dtype(x)
    if dt not in _LOGNDTR_LOWER:
        raise TypeError(f"x.dtype={np.dtype(dt)} is not supported.")
    return _log_ndtr_impl(x, series_order)


def _log_ndtr_impl(x, series_order):
    dt = _dtype(x)
    lower, upper = _LOGNDTR_LOWER[dt], _LOGNDTR_UPPER[dt]
    # upper tail: log(1 - ndtr(-x)) ~ -ndtr(-x); lower tail: the asymptotic series
    above = x > upper
    ndtr_res = _ndtr(xnp.where(above, -x, xnp.maximum(x, lower)))
    return xnp.where(above, -ndtr_res,
                     xnp.where(x > lower, P.log(ndtr_res), _log_ndtr_lower(xnp.minimum(x, lower), series_order)))


_log_ndtr_impl = jit(_log_ndtr_impl, static_argnames=("series_order",))


def _log_ndtr_lower(x, series_order):
    # far in the lower tail, ndtr(x) = phi(x) / (-x) * S(x) with S the asymptotic series below
    dt = _dtype(x).type
    log_phi_over_minus_x = -dt(0.5) * P.square(x) - P.log(-x) - dt(0.5 * np.log(2.0 * np.pi))
    return log_phi_over_minus_x + P.log(_mills_series(x, series_order))


def _mills_series(x, series_order):
    """S(x) = 1 + sum_{n=1}^{N} (-1)^n (2n - 1)!! / x^(2n): each term is the last one times
    -(2n - 1) / x^2."""
    dt = _dtype(x).type
    if series_order <= 0:
        return np.array(1, dt)
    step = dt(-1) / P.square(x)
    term = step
    total = dt(1) + term
    for n in range(2, series_order + 1):
        term = term * (dt(2 * n - 1) * step)
        total = total + term
    return total


def _norm_logpdf(x):
    return P.sub(P.mul(const(x, -0.5), P.square(x)), const(x, _NORM_LOGPDF_CONSTANT))


_log_ndtr_custom = custom_jvp(_log_ndtr, nondiff_argnums=(1,))
_log_ndtr_custom.__name__ = "log_ndtr"


@_log_ndtr_custom.defjvp
def _log_ndtr_jvp(series_order, primals, tangents):
    (x,), (t,) = primals, tangents
    ans = _log_ndtr_custom(x, series_order)
    return ans, P.mul(t, P.exp(P.sub(_norm_logpdf(x), ans)))


def log_ndtr(x, series_order=3):
    """log of the standard normal CDF, accurate far into both tails (series_order terms of the
    asymptotic series below x = -20 (float64) / -10 (float32))."""
    return _log_ndtr_custom(x, series_order)


# ----------------------------------------------------------------------------- logistic family

def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    x, = promote("expit", x)
    return P.logistic(x)


@custom_jvp
def logit(x):
    """log(x / (1 - x)), the inverse of expit."""
    x, = promote("logit", x)
    return P.log(P.div(x, P.sub(const(x, 1), x)))


logit.defjvps(lambda g, ans, x: P.div(g, P.mul(x, P.sub(const(x, 1), x))))


# ----------------------------------------------------------------------------- x log y family

def _times_log(x, y, log_y):
    """x * log_y, with 0 where x == 0 (0 * log(0) = 0), except where y is nan."""
    keep = (x != const(x, 0)) | xnp.isnan(y)
    return xnp.where(keep, x * log_y, xnp.zeros_like(x))


@custom_jvp
def xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (unless y is nan)."""
    x, y = promote("xlogy", x, y)
    return _times_log(x, y, P.log(y))


@xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    # d(x log y) = log(y) dx + (x / y) dy; the custom rule keeps d/dx finite at x = 0
    (x, y), (dx, dy) = primals, tangents
    out = xlogy(x, y)
    return out, (xnp.log(y) * dx + (x / y) * dy).astype(_dtype(out))


@custom_jvp
def xlog1py(x, y):
    """x * log1p(y), defined as 0 where x == 0 (unless y is nan)."""
    x, y = promote("xlog1py", x, y)
    return _times_log(x, y, P.log1p(y))


@xlog1py.defjvp
def _xlog1py_jvp(primals, tangents):
    (x, y), (dx, dy) = primals, tangents
    out = xlog1py(x, y)
    return out, (xnp.log1p(y) * dx + (x / (1 + y)) * dy).astype(_dtype(out))


@custom_jvp
def _xlogx(x):
    return xlogy(x, x)


@_xlogx.defjvp
def _xlogx_jvp(primals, tangents):
    x, = primals
    x_dot, = tangents
    return _xlogx(x), x_dot * (xnp.log(x) + 1)


def entr(x):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0."""
    x, = promote("entr", x)
    _no_complex("entr", x)
    return P.select(P.lt(x, const(x, 0)), xnp.full_like(x, -np.inf), P.neg(_xlogx(x)))


def rel_entr(p, q):
    """p log(p / q) elementwise: 0 where p == 0 <= q, inf where p < 0, q < 0, or q == 0 < p."""
    p, q = promote("rel_entr", p, q)
    _no_complex("rel_entr", p)
    zero = const(p, 0)
    defined = (p > zero) & (q > zero)
    # evaluate only where both are positive (1s elsewhere), so no nan leaks into the gradient
    ps, qs = xnp.where(defined, p, 1), xnp.where(defined, q, 1)
    inside = _xlogx(ps) - xlogy(ps, qs)
    outside = xnp.where((p == zero) & (q >= zero), zero, np.inf)
    return xnp.where(defined, inside, outside)


def kl_div(p, q):
    """p log(p / q) - p + q elementwise."""
    p, q = promote("kl_div", p, q)
    _no_complex("kl_div", p)
    return rel_entr(p, q) - p + q

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
