"""Special functions (mirrors jax.scipy.special).

Each function promotes its operands to an inexact dtype (as jax.scipy.special does)
and follows JAX's formula, so values, dtypes and weak types agree with JAX. The
functions with derivatives that autodiff of the formula would get wrong at a point
(xlogy, xlog1py, logit, log_ndtr, entr) carry JAX's custom derivatives.
"""
from __future__ import annotations

import math

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
    "betaln", "beta", "betainc", "dawsn", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "expit",
    "factorial", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i0e", "i1", "i1e",
    "exp1", "expi", "expn", "hyp1f1",
    "kl_div", "log_ndtr", "log_softmax", "logit", "logsumexp", "loggamma", "multigammaln", "ndtr",
    "ndtri", "poch", "polygamma", "rel_entr", "softmax", "spence", "xlog1py", "xlogy", "zeta",
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
    # p log(p / q): exactly 0 at p == q (x log x - x log y cancels to thousands at 1e10, by
    # how the two logs round); the difference of logs only where p / q overflows or underflows
    r = ps / qs
    ok = xnp.isfinite(r) & (r > zero)
    pr, qr = xnp.where(ok, ps, 1), xnp.where(ok, qs, 1)   # 1s where not ok: no inf/nan in the derivative
    inside = xnp.where(ok, pr * xnp.log(pr / qr), _xlogx(ps) - xlogy(ps, qs))
    outside = xnp.where((p == zero) & (q >= zero), zero, np.inf)
    return xnp.where(defined, inside, outside)


def kl_div(p, q):
    """p log(p / q) - p + q elementwise."""
    p, q = promote("kl_div", p, q)
    _no_complex("kl_div", p)
    return rel_entr(p, q) - p + q

# ----------------------------------------------------------------------------- Bessel, erfcx, dawsn, spence
#
# Each is one jitted body over the elementwise primitives, computed in float32 for the narrow
# floats (float16, bfloat16) and in the operand's own dtype otherwise, with the derivative
# given by a custom_jvp rule from its closed form (as JAX's rules give them).

from xlafront.lax._bessel import (_from_work, _i0e, _i1e, _inner_horner, _is_f64,  # noqa: E402
                                  _to_work, _work_dtype)


def _real_only(name, x):
    if dtypes.is_complex(_dtype(x)):
        raise ValueError(f"{name} does not support complex-valued inputs (at {core.user_site()}).")


def i0e(x):
    """The exponentially scaled modified Bessel function of order 0, exp(-|x|) I0(x)."""
    x, = promote("i0e", x)
    _real_only("i0e", x)
    return _i0e(x)


def i1e(x):
    """The exponentially scaled modified Bessel function of order 1, exp(-|x|) I1(x)."""
    x, = promote("i1e", x)
    _real_only("i1e", x)
    return _i1e(x)


def i0(x):
    """The modified Bessel function of order 0, exp(|x|) i0e(x) (inf where exp(|x|) overflows
    the dtype, as JAX's)."""
    x, = promote("i0", x)
    _real_only("i0", x)
    return _i0(x)


@custom_jvp
def _i0(x):
    return P.exp(P.abs(x)) * _i0e(x)


# d/dx I0 = I1 (the product rule through exp(|x|) i0e(x) gives inf - inf = NaN where exp
# overflows; JAX's rule is I1 too)
_i0.defjvps(lambda g, ans, x: g * (P.exp(P.abs(x)) * _i1e(x)))


def i1(x):
    """The modified Bessel function of order 1, exp(|x|) i1e(x)."""
    x, = promote("i1", x)
    _real_only("i1", x)
    return P.exp(P.abs(x)) * _i1e(x)


# erfcx: (asymptotic series from x >= this, its terms, bound below which 2 exp(x^2) overflows,
# scale of the split x = xh + xl with xh^2 exact)
_ERFCX_PARAMS = {False: (5.0, 10, -10.0, 256.0), True: (12.0, 14, -27.0, 2.0 ** 20)}
_ERFCX_CF_TERMS = 40


def _exp_x2(x, scale):
    """exp(x^2) to the dtype's precision: x = xh + xl with xh a multiple of 1/scale (so xh^2
    is exact), exp(x^2) = exp(xh^2) (1 + expm1(xl (x + xh))) (not a product of two exps, which
    XLA folds back into exp(x^2) and its rounded argument)."""
    dt = _dtype(x).type
    xh = P.floor(x * dt(scale) + dt(0.5)) / dt(scale)
    xl = x - xh
    a = xh * xh
    if _is_f64(x):
        # XLA's float64 exp loses ~arg * eps at large arguments: reduce by k ln 2 in two
        # parts (Cody-Waite; k ln2_hi is exact) and scale by 2^k exactly
        k = P.floor(a * dt(1 / math.log(2)) + dt(0.5))
        r = (a - k * dt(_LN2_HI)) - k * dt(_LN2_LO)
        e = xnp.ldexp(P.exp(r), P.convert_element_type(k, np.int32))
    else:
        e = P.exp(a)
    return e * (1 + P.expm1(xl * (x + xh)))


_LN2_HI = 6.93147180369123816490e-01   # ln 2 to 32 bits (trailing zeros: k * _LN2_HI is exact)
_LN2_LO = 1.90821492927058770002e-10   # ln 2 - _LN2_HI


def _asym_inv_square_series(x, nterms, sign):
    """1 + sum_k sign^k (2k-1)!! / (2 x^2)^k, truncated after nterms terms."""
    dt = _dtype(x).type
    z = dt(1) / (dt(2) * x * x)
    r = xnp.ones_like(x)
    for k in range(nterms, 0, -1):
        r = 1 + (z * dt(sign * (2 * k - 1))) * r
    return r


@jit
def _erfcx_impl(x):
    y = _to_work(x)
    dt = _dtype(y).type
    thresh, nterms, low, scale = _ERFCX_PARAMS[_is_f64(y)]
    # below the threshold: exp(x^2) erfc(x) (inf once exp(x^2) overflows, for x << 0)
    ym = xnp.minimum(xnp.maximum(y, dt(low)), dt(thresh))
    mid = _exp_x2(ym, scale) * S.erfc(ym)
    # beyond: erfcx(x) ~ 1 / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(2x^2)^2 - ...)
    yl = xnp.maximum(y, dt(thresh))
    asym = _asym_inv_square_series(yl, nterms, -1) / (yl * dt(np.sqrt(np.pi)))
    out = xnp.where(y < dt(thresh), mid, asym)
    if not _is_f64(y):
        # float32's erfc loses digits on [2, 5]: Laplace's continued fraction there,
        # erfcx(x) = 1 / (sqrt(pi) (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))))
        yc = xnp.minimum(xnp.maximum(y, dt(2)), dt(thresh))
        f = yc
        for k in range(_ERFCX_CF_TERMS, 0, -1):
            f = yc + dt(k / 2) / f
        out = xnp.where((y >= dt(2)) & (y < dt(thresh)), dt(1 / np.sqrt(np.pi)) / f, out)
    out = xnp.where(y <= dt(low), dt(np.inf), out)   # 2 exp(x^2) overflows the dtype there
    out = xnp.where(xnp.isnan(y), y, out)
    return _from_work(out, x, False)


@custom_jvp
def _erfcx(x):
    return _erfcx_impl(x)


@_erfcx.defjvp
def _erfcx_jvp(primals, tangents):
    # d/dx erfcx(x) = 2 x erfcx(x) - 2 / sqrt(pi)
    (x,), (t,) = primals, tangents
    y = _erfcx(x)
    return y, t * (2 * x * y - np.asarray(2 / np.sqrt(np.pi), _dtype(y))[()])


def erfcx(x):
    """The scaled complementary error function exp(x^2) erfc(x), accurate for large x."""
    x, = promote("erfcx", x)
    if dtypes.is_complex(_dtype(x)):
        raise NotImplementedError("erfcx of complex inputs is not implemented yet in xlafront")
    return _erfcx(x)


# dawsn: (series below |x| <, its terms, Rybicki step h, Rybicki terms (odd n up to),
# asymptotic series from |x| >=, its terms)
_DAWSN_PARAMS = {False: (0.5, 7, 0.375, 13, 5.0, 10), True: (0.5, 13, 0.25, 27, 12.0, 14)}


@jit
def _dawsn_impl(x):
    y = _to_work(x)
    dt = _dtype(y).type
    lo, ns, h, nr, hi, na = _DAWSN_PARAMS[_is_f64(y)]
    ay = P.abs(y)
    # |x| < lo: F(x) = x sum_n (-2x^2)^n / (2n+1)!!
    ys = xnp.where(ay < dt(lo), y, dt(0))
    small = ys * _inner_horner(dt(-2) * ys * ys, [dt(1.0 / (2 * n + 1)) for n in range(1, ns + 1)])
    # lo <= |x| < hi: Rybicki's sum F(x) ~ 1/sqrt(pi) sum_{n odd} exp(-(x' - n h)^2) / (n + n0),
    # n0 the even integer nearest x / h, x' = x - n0 h (exact: h is a power-of-two fraction)
    am = xnp.minimum(xnp.maximum(ay, dt(lo)), dt(hi))
    n0 = dt(2) * P.floor(am / dt(2 * h) + dt(0.5))
    xp = am - n0 * dt(h)
    mid = xnp.zeros_like(am)
    for n in range(nr, 0, -2):
        for m in (n, -n):
            mid = mid + P.exp(-P.square(xp - dt(m * h))) / (n0 + dt(m))
    mid = mid * dt(1 / np.sqrt(np.pi))
    # |x| >= hi: F(x) ~ 1/(2x) (1 + 1/(2x^2) + 3/(2x^2)^2 + ...)
    al = xnp.maximum(ay, dt(hi))
    big = _asym_inv_square_series(al, na, 1) / (dt(2) * al)
    odd = xnp.where(ay < dt(hi), mid, big)
    odd = xnp.where(y < 0, -odd, odd)
    out = xnp.where(ay < dt(lo), small, odd)
    out = xnp.where(xnp.isnan(y), y, out)
    return _from_work(out, x, False)


@custom_jvp
def _dawsn(x):
    return _dawsn_impl(x)


@_dawsn.defjvp
def _dawsn_jvp(primals, tangents):
    # d/dx F(x) = 1 - 2 x F(x)
    (x,), (t,) = primals, tangents
    y = _dawsn(x)
    return y, t * (1 - 2 * x * y)


def dawsn(x):
    """Dawson's integral F(x) = exp(-x^2) int_0^x exp(t^2) dt."""
    x, = promote("dawsn", x)
    _real_only("dawsn", x)
    return _dawsn(x)


def _bernoulli(nmax):
    """B_0 ... B_nmax as exact fractions, with B_1 = -1/2 (the Akiyama-Tanigawa recurrence)."""
    from fractions import Fraction
    a = [Fraction(0)] * (nmax + 1)
    out = []
    for m in range(nmax + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        out.append(a[0])
    out[1] = -out[1]
    return out


# Li2(z) = sum_{n>=0} B_n u^(n+1) / (n+1)!, u = -log(1 - z), |u| <= log 4 here: the coefficients
# of u^1 .. u^31, lowest first
_LI2_COEFS = [float(b / math.factorial(n + 1)) for n, b in enumerate(_bernoulli(30))]


def _li2_of_u(u):
    r = xnp.zeros_like(u)
    for c in _LI2_COEFS[::-1]:
        r = (r + _dtype(u).type(c)) * u
    return r


@jit
def _spence_impl(x):
    # spence(x) = Li2(1 - x):
    #   1/4 <= x <= 4:  Li2(1 - x) with u = -log(x)
    #   0 < x < 1/4:    pi^2/6 - log(x) log(1-x) - Li2(x)             (reflection)
    #   x > 4:          -pi^2/6 - log(x-1)^2 / 2 - Li2(1/(1-x)), u = log1p(-1/x)   (inversion)
    # (log1p is used only on (-1/4, 0]: XLA's loses digits on [-0.41, -0.35])
    dt = _dtype(x).type
    pi2_6 = dt(np.pi ** 2 / 6)
    mid_x = xnp.minimum(xnp.maximum(x, dt(0.25)), dt(4))
    mid = _li2_of_u(-P.log(mid_x))
    lo_x = xnp.minimum(xnp.maximum(x, dt(np.finfo(dt).tiny)), dt(0.25))
    low = pi2_6 - P.log(lo_x) * P.log1p(-lo_x) - _li2_of_u(-P.log1p(-lo_x))
    hi_x = xnp.maximum(x, dt(4))
    high = -pi2_6 - dt(0.5) * P.square(P.log(hi_x - dt(1))) - _li2_of_u(P.log1p(dt(-1) / hi_x))
    out = xnp.where(x < dt(0.25), low, xnp.where(x > dt(4), high, mid))
    out = xnp.where(x == dt(0), pi2_6, xnp.where(x == dt(1), dt(0), out))   # (+0 at 1, not -0)
    bad = (x < dt(0)) | xnp.isnan(x) | (x == dt(np.inf))
    return xnp.where(bad, dt(np.nan), out)


@custom_jvp
def _spence(x):
    return _spence_impl(x)


@_spence.defjvp
def _spence_jvp(primals, tangents):
    # d/dx spence(x) = log(x) / (1 - x); 0 where JAX's piecewise definition takes a constant
    # (x < 0, x == 0, x == 1)
    (x,), (t,) = primals, tangents
    y = _spence(x)
    dt = _dtype(x).type
    const_piece = (x < dt(0)) | (x == dt(0)) | (x == dt(1))
    safe = xnp.where(const_piece, dt(2), x)
    d = xnp.where(const_piece, xnp.zeros_like(x), P.log(safe) / (dt(1) - safe))
    return y, t * d


def spence(x):
    """Spence's function int_1^x log(t) / (1 - t) dt = Li2(1 - x) for x >= 0 (nan for x < 0);
    float32 and float64 only."""
    x = xnp.asarray(x)
    if _dtype(x) not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"x.dtype={_dtype(x)} is not supported, see docstring for supported types.")
    x = P.convert_element_type(x, _dtype(x), weak_type=False)
    return _spence(x)


# ----------------------------------------------------------------------------- incomplete beta

_BETAINC_STEPS = {False: 200, True: 600}


def _betainc_cf(a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz, a fixed number of steps)."""
    from xlafront.lax import fori_loop
    dt = _dtype(x).type
    tiny = dt(np.finfo(dt).tiny * 1e4)

    def clamp(v):
        return xnp.where(P.abs(v) < tiny, tiny, v)

    qab, qap, qam = a + b, a + dt(1), a - dt(1)
    c = xnp.ones_like(x)
    d = dt(1) / clamp(dt(1) - qab * x / qap)
    h = d

    def step(m, carry):
        c, d, h = carry
        m = P.convert_element_type(m, _dtype(x))
        m2 = dt(2) * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = dt(1) / clamp(dt(1) + aa * d)
        c = clamp(dt(1) + aa / c)
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = dt(1) / clamp(dt(1) + aa * d)
        c = clamp(dt(1) + aa / c)
        return c, d, h * d * c

    _, _, h = fori_loop(1, _BETAINC_STEPS[_is_f64(x)] + 1, step, (c, d, h))
    return h


@jit
def _betainc_impl(a, b, x):
    dt = _dtype(x).type
    swap = x > (a + dt(1)) / (a + b + dt(2))
    a2, b2, x2 = xnp.where(swap, b, a), xnp.where(swap, a, b), xnp.where(swap, dt(1) - x, x)
    ok = (a > dt(0)) & (b > dt(0)) & (x > dt(0)) & (x < dt(1)) & P.is_finite(a) & P.is_finite(b)
    a2, b2 = xnp.where(ok, a2, dt(1)), xnp.where(ok, b2, dt(1))
    x2 = xnp.where(ok, x2, dt(0.5))
    # (log B from lgamma: betaln's large-b form is good to ~1e-6 only, as JAX's)
    log_beta = P.lgamma(a2) + P.lgamma(b2) - P.lgamma(a2 + b2)
    front = P.exp(a2 * P.log(x2) + b2 * P.log1p(-x2) - log_beta) / a2
    r = front * _betainc_cf(a2, b2, x2)
    out = xnp.where(swap, dt(1) - r, r)
    # the edges: x at 0 or 1, a or b at 0 or inf (their limits), and nan outside the domain
    out = xnp.where(x == dt(0), dt(0), xnp.where(x == dt(1), dt(1), out))
    out = xnp.where((a == dt(0)) | (b == dt(np.inf)), dt(1), out)
    out = xnp.where((b == dt(0)) | (a == dt(np.inf)), dt(0), out)
    bad = ((a < dt(0)) | (b < dt(0)) | (x < dt(0)) | (x > dt(1)) | ((a == dt(0)) & (b == dt(0)))
           | ((a == dt(np.inf)) & (b == dt(np.inf))) | xnp.isnan(a) | xnp.isnan(b) | xnp.isnan(x))
    return xnp.where(bad, dt(np.nan), out)


@custom_jvp
def _betainc(a, b, x):
    return _betainc_impl(a, b, x)


def _betainc_jvp(primals, tangents):
    # d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b); no derivative in a or b (as JAX)
    from xlafront.api_autodiff import SymbolicZero
    (a, b, x), (da, db, dx) = primals, tangents
    if not (isinstance(da, SymbolicZero) and isinstance(db, SymbolicZero)):
        raise ValueError("Betainc gradient with respect to a and b not supported.")
    out = _betainc(a, b, x)
    if isinstance(dx, SymbolicZero):
        return out, xnp.zeros_like(out)
    log_beta = P.lgamma(a) + P.lgamma(b) - P.lgamma(a + b)
    dens = P.exp((a - 1) * P.log(x) + (b - 1) * P.log1p(-x) - log_beta)
    return out, dens * dx


_betainc.defjvp(_betainc_jvp, symbolic_zeros=True)


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b) (derivative in x only, as JAX's)."""
    a, b, x = promote("betainc", a, b, x)
    _real_only("betainc", x)
    weak = get_aval(x).weak_type   # (promoted together: weak only when all are)
    a, b, x = xnp.broadcast_arrays(a, b, x)
    return P.convert_element_type(_betainc(a, b, x), _dtype(x), weak_type=weak)


# ----------------------------------------------------------------------------- exponential integrals
#
# E_n(x) = int_1^inf exp(-x t) / t^n dt (expn; exp1 = E_1) and Ei(x) = -E_1(-x) continued to
# x > 0 (expi), each one jitted body of elementwise ops (computed in float32 for the narrow
# floats) with its derivative from the closed form: d/dx E_n = -E_(n-1), d/dx Ei = exp(x) / x.
# No data-dependent loops: every series and continued fraction has a fixed length, enough for
# the dtype at the worst point of its range.

_EULER = 0.57721566490153286061

# (E_n: series for x <= 1 with this many terms, continued fraction beyond with this depth;
#  Ei: series up to this x with this many terms, asymptotic series beyond with this many)
_EXPINT_PARAMS = {False: (12, 32, 20.0, 60, 20), True: (22, 100, 40.0, 100, 40)}


def _expn_work(n, x):
    """E_n(x) for n (a float array holding integers) and x of the same work dtype."""
    dt = _dtype(x).type
    nser, ncf, *_ = _EXPINT_PARAMS[_is_f64(x)]
    one = dt(1)
    # x > 1: E_n(x) = exp(-x) / (x + n - 1 n / (x + n + 2 - 2 (n + 1) / (x + n + 4 - ...)))
    xc = xnp.maximum(x, one)
    t = xc + n + dt(2 * ncf)
    for k in range(ncf, 0, -1):
        t = xc + n + dt(2 * (k - 1)) - dt(k) * (n + dt(k - 1)) / t
    frac = P.exp(-xc) / t
    # 0 < x <= 1: E_n(x) = (-x)^(n-1) / (n-1)! (psi(n) - log x) - sum_{k != n-1} (-x)^k / ((k-n+1) k!)
    xs = xnp.minimum(xnp.maximum(x, dt(np.finfo(dt).tiny)), one)
    n1 = xnp.maximum(n, one)
    logx = P.log(xs)
    mag = P.exp((n1 - one) * logx - P.lgamma(n1))
    sign = xnp.where(P.rem(n1 - one, dt(2)) == dt(0), one, -one)
    series = sign * mag * (P.digamma(n1) - logx)
    tail = xnp.zeros_like(xs)   # Horner, highest power first: sum_k c_k (-x)^k
    for k in range(nser, -1, -1):
        c = xnp.where(n1 == dt(k + 1), dt(0), dt(1 / math.factorial(k)) / (n1 - dt(k + 1)))
        tail = tail * -xs + c
    series = series + tail
    out = xnp.where(x > one, frac, series)
    out = xnp.where(x == dt(0), xnp.where(n1 == one, dt(np.inf), one / (n1 - one)), out)
    out = xnp.where(n == dt(0), P.exp(-x) / x, out)
    bad = (x < dt(0)) | (n < dt(0)) | (n != P.floor(n)) | xnp.isnan(x) | xnp.isnan(n) | (x == dt(np.inf))
    return xnp.where(bad, dt(np.nan), out)


@jit
def _expn_impl(n, x):
    xw = _to_work(x)
    return _from_work(_expn_work(P.convert_element_type(n, _dtype(xw)), xw), x, False)


@custom_jvp
def _expn(n, x):
    return _expn_impl(n, x)


@_expn.defjvp
def _expn_jvp(primals, tangents):
    # d/dx E_n(x) = -E_(n-1)(x); n is an order, not differentiated (as JAX: its tangent is ignored)
    (n, x), (_, t) = primals, tangents
    return _expn(n, x), t * -_expn(n - const(n, 1), x)


def expn(n, x):
    """The generalized exponential integral E_n(x) = int_1^inf exp(-x t) / t^n dt, for integer
    orders n >= 0 (nan for other n, for x < 0 and at x = inf, as JAX)."""
    n, x = promote("expn", n, x)
    _real_only("expn", x)
    n, x = xnp.broadcast_arrays(n, x)
    return _expn(n, x)


@jit
def _exp1_impl(x):
    xw = _to_work(x)
    return _from_work(_expn_work(xnp.ones_like(xw), xw), x, False)


@custom_jvp
def _exp1(x):
    return _exp1_impl(x)


@_exp1.defjvp
def _exp1_jvp(primals, tangents):
    # d/dx E_1(x) = -E_0(x) = -exp(-x) / x (nan for x < 0, where E_0 is)
    (x,), (t,) = primals, tangents
    return _exp1(x), t * -_expn(xnp.zeros_like(x), x)


def exp1(x):
    """The exponential integral E_1(x) = int_x^inf exp(-t) / t dt (x >= 0; nan for x < 0 and at
    x = inf, as JAX)."""
    x, = promote("exp1", x)
    _real_only("exp1", x)
    return _exp1(x)


@jit
def _expi_impl(x):
    y = _to_work(x)
    dt = _dtype(y).type
    _, _, cross, nser, nasym = _EXPINT_PARAMS[_is_f64(y)]
    # 0 < x <= cross: Ei(x) = gamma + log x + sum_k x^k / (k k!) (positive terms)
    xs = xnp.minimum(xnp.maximum(y, dt(np.finfo(dt).tiny)), dt(cross))
    term = xnp.ones_like(xs)
    s = xnp.zeros_like(xs)
    for k in range(1, nser + 1):
        term = term * xs / dt(k)
        s = s + term / dt(k)
    series = dt(_EULER) + P.log(xs) + s
    # x > cross: Ei(x) ~ exp(x) / x (1 + 1! / x + 2! / x^2 + ...)
    xa = xnp.maximum(y, dt(cross))
    term = xnp.ones_like(xa)
    s = xnp.ones_like(xa)
    for k in range(1, nasym + 1):
        term = term * dt(k) / xa
        s = s + term
    asym = P.exp(xa) / xa * s
    pos = xnp.where(y <= dt(cross), series, asym)
    # x < 0: Ei(x) = -E_1(-x)
    neg = -_expn_work(xnp.ones_like(y), -xnp.minimum(y, dt(0)))
    out = xnp.where(y > dt(0), pos, neg)
    bad = (y == dt(0)) | (P.abs(y) == dt(np.inf)) | xnp.isnan(y)
    return _from_work(xnp.where(bad, dt(np.nan), out), x, False)


@custom_jvp
def _expi(x):
    return _expi_impl(x)


@_expi.defjvp
def _expi_jvp(primals, tangents):
    # d/dx Ei(x) = exp(x) / x
    (x,), (t,) = primals, tangents
    return _expi(x), t * (P.exp(x) / x)


def expi(x):
    """The exponential integral Ei(x) = -E_1(-x) (principal value for x > 0; nan at 0 and at
    +-inf, as JAX)."""
    x, = promote("expi", x)
    _real_only("expi", x)
    return _expi(x)


@custom_jvp
def _poch(z, m):
    dt = _dtype(z)
    ratio = gamma(z + m) / gamma(z)
    out = xnp.where(m == const(m, 0), np.ones((), dt), ratio)
    return P.convert_element_type(out, dt, weak_type=False)


# d/dz (z)_m = (psi(z + m) - psi(z)) (z)_m and d/dm (z)_m = psi(z + m) (z)_m, from the closed
# form (also at m == 0, where the value is the constant 1: as JAX's)
_poch.defjvps(lambda dz, ans, z, m: (P.digamma(z + m) - P.digamma(z)) * ans * dz,
              lambda dm, ans, z, m: P.digamma(z + m) * ans * dm)


def poch(z, m):
    """The Pochhammer symbol (rising factorial) (z)_m = Gamma(z + m) / Gamma(z), 1 where m == 0."""
    z, m = promote("poch", z, m)
    _real_only("poch", z)
    return _poch(z, m)


# ----------------------------------------------------------------------------- confluent hypergeometric
#
# 1F1(a; b; x) = sum_k (a)_k / (b)_k x^k / k! (Pearson, Olver & Porter 2014, "Numerical methods
# for the computation of the confluent and Gauss hypergeometric functions", arXiv:1407.7786):
# the Taylor series (their method (a)) for |x| < 100 and the large-|x| asymptotic series (their
# eq. 3.8, real case) beyond, each summed term by term until a term is below eps of the sum (at
# most 250 terms), per element. JAX's values follow from exactly this definition, including
# where it breaks down (the float32 series overflows for large negative x; the asymptotic form
# is nan for x <= -100 unless x = -inf): xlafront sums the same series in the same order.

_HYP1F1_MAX_TERMS = 250


def _series_sum(active, first_sum, first_term, ratio, add=None):
    """Sums a series elementwise: s = first_sum, t = first_term, then while (k < 250 and
    |t| > eps |s|) for each element still `active`: s += add(t, k) (default t); t *= ratio(k);
    k += 1. Elements stop independently (a finished element keeps its sum)."""
    from xlafront.lax import while_loop
    dt = _dtype(first_term)
    eps = np.asarray(np.finfo(dt).eps, dt)[()]
    add = add or (lambda t, k: t)

    def going(s, t, k):
        return active & (k < dt.type(_HYP1F1_MAX_TERMS)) & (P.abs(t) / P.abs(s) > eps)

    def cond(c):
        s, t, k, on = c
        return xnp.any(on)

    def body(c):
        s, t, k, on = c
        s2 = xnp.where(on, s + add(t, k), s)
        t2 = xnp.where(on, t * ratio(k), t)
        k2 = k + dt.type(1)
        return s2, t2, k2, going(s2, t2, k2)

    s0 = xnp.broadcast_to(first_sum, first_term.shape).astype(dt)
    k0 = np.asarray(1, dt)[()]
    s, _, _, _ = while_loop(cond, body, (s0, first_term, k0, going(s0, first_term, k0)))
    return s


def _hyp1f1_ratio(a, b, x):
    # t_(k+1) / t_k of the Taylor series
    return lambda k: (a + k) / (b + k) * x / (k + 1)


@jit
def _hyp1f1_impl(a, b, x):
    dt = _dtype(x).type
    one = dt(1)
    near = P.abs(x) < dt(100)
    taylor = _series_sum(near, one, a / b * x, _hyp1f1_ratio(a, b, x))
    # 1F1(a; b; x) ~ Gamma(b) / Gamma(a) e^x x^(a-b) sum_k (b-a)_k (1-a)_k / k! x^-k
    asym_sum = _series_sum(~near, one, (b - a) * (one - a) / x,
                           lambda k: (b - a + k) * (one - a + k) / (k + one) / x)
    asym = gamma(b) / gamma(a) * P.exp(x) * P.pow(x, a - b) * asym_sum
    out = xnp.where(near, taylor, asym)
    # closed forms: 1F1(0; b; x) = 1 (also for b = 0), 1F1(a; a; x) = e^x, and inf for b = 0
    zero = dt(0)
    out = xnp.where((b == zero) & (a != zero), dt(np.inf), out)
    out = xnp.where((a == b) & (a != zero), P.exp(x), out)
    return xnp.where(a == zero, one, out)


@jit
def _hyp1f1_da(a, b, x):
    # d/da 1F1 = sum_k (a)_k / (b)_k x^k / k! (psi(a + k) - psi(a)) (the Taylor series, any x)
    psi_a = P.digamma(a)
    return _series_sum(True, _dtype(x).type(0), a / b * x, _hyp1f1_ratio(a, b, x),
                       add=lambda t, k: t * (P.digamma(a + k) - psi_a))


@jit
def _hyp1f1_db(a, b, x):
    # d/db 1F1 = sum_k (a)_k / (b)_k x^k / k! (psi(b) - psi(b + k))
    psi_b = P.digamma(b)
    return _series_sum(True, _dtype(x).type(0), a / b * x, _hyp1f1_ratio(a, b, x),
                       add=lambda t, k: t * (psi_b - P.digamma(b + k)))


@custom_jvp
def _hyp1f1(a, b, x):
    return _hyp1f1_impl(a, b, x)


# the derivatives in a and b as series (their value at the closed-form points too, as JAX's), in
# x the closed form d/dx 1F1(a; b; x) = a / b 1F1(a + 1; b + 1; x)
_hyp1f1.defjvps(lambda da, ans, a, b, x: _hyp1f1_da(a, b, x) * da,
                lambda db, ans, a, b, x: _hyp1f1_db(a, b, x) * db,
                lambda dx, ans, a, b, x: a / b * _hyp1f1(a + const(a, 1), b + const(b, 1), x) * dx)


def hyp1f1(a, b, x):
    """The confluent hypergeometric function 1F1(a; b; x) = sum_k (a)_k / (b)_k x^k / k!, for real
    a, b, x (elementwise, broadcast; 1 where a == 0, also at b == 0, as JAX's). Large values lose
    accuracy in float32, as JAX's."""
    a, b, x = promote("hyp1f1", a, b, x)
    _real_only("hyp1f1", x)
    dt = _dtype(x)
    a, b, x = (P.convert_element_type(v, dt, weak_type=False) for v in xnp.broadcast_arrays(a, b, x))
    return _hyp1f1(a, b, x)


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
