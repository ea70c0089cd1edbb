"""The regularized incomplete gamma functions, as jax.lax's: igamma (P), igammac (Q),
igamma_grad_a (dP/da) and random_gamma_grad (d sample / d a of a Gamma(a) sample).

They are written with the elementwise primitives and while loops, elementwise over the
broadcast operands (each entry iterates until it converges; the loop runs while any does):

- P(a, x) = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)), the power series, where
  not (x >= 1 and x > a);
- Q(a, x) = x^a e^-x / Gamma(a) * (continued fraction), Legendre's continued fraction
  (Cephes' recurrence), where x >= 1 and x > a; P = 1 - Q there;
- Q for small a and x <= 1, where P is near 1 and 1 - P would lose the digits of Q:
  Q = -expm1(t) - a e^t sum_{n>=1} (-x)^n / (n! (a+n)), t = a log x - lgamma(1+a) (the
  latter from its Taylor series near 0 and 1, as 1 + a rounds a away);
- P and Q for large a (float32: a >= 20, float64: a >= 1e5) and |x/a - 1| <= 1/2: Temme's
  uniform asymptotic expansion (erfc plus two correction terms), see _temme_q.

Derivatives with respect to a are carried through the recurrences in closed form (the
series' terms have log-derivatives -sum 1/(a+k); the continued fraction's numerators and
denominators are differentiated term by term), to second order, so that
igamma_grad_a is itself differentiable. The a-derivative of the sample (implicit
reparameterization) is -(dP/da) / density, computed from the same sums with the common
factor x^a e^-x / Gamma(a) cancelled, so it does not underflow.

custom_jvp gives igamma/igammac their derivatives: d/dx P = x^(a-1) e^-x / Gamma(a) (in log
space) and d/da P = igamma_grad_a. As in JAX, random_gamma_grad has no derivative.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront import primitives as P
from xlafront import primitives_special as S
from xlafront.api import jit
from xlafront.api_autodiff import custom_jvp, jvp
from xlafront.array import ArrayImpl
from xlafront.core import Tracer, get_aval
from xlafront.lax._control_flow import while_loop

core.register_internal_path(__file__)

__all__ = ["igamma", "igammac", "igamma_grad_a", "random_gamma_grad"]

_MAX_ITERS_CF = 2000        # the continued fraction's cap
_MAX_ITERS_SERIES = 10 ** 7  # the series' terms shrink from the first (x < a + 1): a safety cap only
_BIG = 4.503599627370496e15      # 2^52: rescale the continued fraction's terms past this
_BIGINV = 2.220446049250313e-16  # 2^-52


# ----------------------------------------------------------------------------- arguments
def _check_args(name, a, x):
    """Operands as arrays of one float dtype and one shape (lax's rules: the same dtype, a
    Python scalar being a weak array of the default float; equal shapes, or rank 0)."""
    args = []
    for i, v in enumerate((a, x)):
        if not isinstance(v, (ArrayImpl, Tracer, np.ndarray, np.generic, bool, int, float, complex)):
            raise TypeError(f"Error interpreting argument to {name} as a JAX value. The problematic "
                            f"value is of type {type(v)} and was passed to {name} at position {i} "
                            f"(at {core.user_site()}).")
        if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind in "OSUMmV" and not dtypes.is_float(v.dtype):
            raise TypeError(f"Error interpreting argument to {name} as a JAX value. The problematic "
                            f"value has dtype {v.dtype} and was passed to {name} at position {i} "
                            f"(at {core.user_site()}).")
        args.append(v if isinstance(v, (ArrayImpl, Tracer)) else xnp.asarray(v))
    avals = [get_aval(v) for v in args]
    for i, av in enumerate(avals):
        if not dtypes.is_float(av.dtype):
            raise TypeError(f"{name} does not accept dtype {av.dtype.name} at position {i}. Accepted "
                            f"dtypes at position {i} are subtypes of floating (at {core.user_site()}).")
    if avals[0].dtype != avals[1].dtype:
        raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got "
                        f"{avals[0].dtype.name}, {avals[1].dtype.name} (at {core.user_site()}).")
    shapes = [av.shape for av in avals]
    if shapes[0] != shapes[1] and shapes[0] != () and shapes[1] != ():
        if len(shapes[0]) != len(shapes[1]):
            raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                            f"{{{len(shapes[0])}, {len(shapes[1])}}} (at {core.user_site()})")
        raise TypeError(f"{name} got incompatible shapes for broadcasting: {shapes[0]}, {shapes[1]} "
                        f"(at {core.user_site()}).")
    shape = shapes[0] or shapes[1]
    return [v if get_aval(v).shape == shape else xnp.broadcast_to(v, shape) for v in args]


# ----------------------------------------------------------------------------- helpers
def _c(v, dt):
    return np.array(v, dt)[()]


def _compute_dtype(dt):
    """Narrow floats are computed in float32 (the loops need the range and the digits)."""
    return np.dtype(np.float32) if np.dtype(dt).itemsize < 4 else np.dtype(dt)


def _masked_loop(step, state, enabled, max_iters):
    """Iterate `state, going = step(state)` on the entries still enabled, until none is
    (or max_iters); disabled entries keep their state."""
    def cond(c):
        n, en, _ = c
        return P.bitwise_and(P.lt(n, np.int32(max_iters)), xnp.any(en))

    def body(c):
        n, en, s = c
        new, going = step(s)
        s = {k: P.select(en, new[k], s[k]) for k in s}
        return P.add(n, np.int32(1)), P.bitwise_and(en, going), s

    _, _, state = while_loop(cond, body, (np.int32(0), enabled, state))
    return state


def _gt_rel(delta, scale, eps):
    """|delta| > eps * |scale| (not converged yet)."""
    return P.gt(P.abs(delta), P.mul(P.abs(scale), eps))


def _series(a, x, enabled, order):
    """sum_n c_n, c_0 = 1, c_n = c_{n-1} x / (a+n), and its first `order` a-derivatives
    (d c_n = -c_n S1_n, d2 c_n = c_n (S1_n^2 + S2_n), S_k = sum 1/(a+j)^k)."""
    dt = get_aval(a).dtype
    eps = _c(dtypes.finfo(dt).eps, dt)
    one = xnp.ones_like(a)
    zero = xnp.zeros_like(a)
    state = {"r": a, "c": one, "ans": one}
    if order >= 1:
        state.update(s1=zero, dans=zero)
    if order >= 2:
        state.update(s2=zero, d2ans=zero)

    def step(s):
        r = P.add(s["r"], _c(1, dt))
        c = P.mul(s["c"], P.div(x, r))
        ans = P.add(s["ans"], c)
        new = {"r": r, "c": c, "ans": ans}
        going = _gt_rel(c, ans, eps)
        if order >= 1:
            inv = P.div(_c(1, dt), r)
            s1 = P.add(s["s1"], inv)
            dc = P.neg(P.mul(c, s1))
            dans = P.add(s["dans"], dc)
            new.update(s1=s1, dans=dans)
            going = P.bitwise_or(going, _gt_rel(dc, dans, eps))
        if order >= 2:
            s2 = P.add(s["s2"], P.mul(inv, inv))
            d2c = P.mul(c, P.add(P.mul(s1, s1), s2))
            d2ans = P.add(s["d2ans"], d2c)
            new.update(s2=s2, d2ans=d2ans)
            going = P.bitwise_or(going, _gt_rel(d2c, d2ans, eps))
        return new, going

    s = _masked_loop(step, state, enabled, _MAX_ITERS_SERIES)
    return [s["ans"], s.get("dans"), s.get("d2ans")][:order + 1]


def _continued_fraction(a, x, enabled, order):
    """Legendre's continued fraction for Q(a, x) e^x x^-a Gamma(a) (Cephes' recurrence
    p_k = p_{k-1} z_k - p_{k-2} y_k k, the same for q, and their value p/q), with its
    first `order` a-derivatives (dy = dz = -1)."""
    dt = get_aval(a).dtype
    eps = _c(dtypes.finfo(dt).eps, dt)
    one, two = _c(1, dt), _c(2, dt)
    zero = xnp.zeros_like(a)
    y = P.sub(one, a)
    z = P.add(P.add(x, y), one)
    qkm1 = P.mul(z, x)
    pkm1 = P.add(x, one)
    ans = P.div(pkm1, qkm1)
    state = {"c": zero, "y": y, "z": z, "pkm2": xnp.ones_like(a), "qkm2": x, "pkm1": pkm1,
             "qkm1": qkm1, "ans": ans}
    if order >= 1:
        dqkm1 = P.neg(x)
        dans = P.div(P.mul(ans, x), qkm1)
        state.update(dpkm2=zero, dqkm2=zero, dpkm1=zero, dqkm1=dqkm1, dans=dans)
    if order >= 2:
        state.update(d2pkm2=zero, d2qkm2=zero, d2pkm1=zero, d2qkm1=zero,
                     d2ans=P.div(P.mul(P.mul(two, dans), x), qkm1))

    def step(s):
        c = P.add(s["c"], one)
        y = P.add(s["y"], one)
        z = P.add(s["z"], two)
        yc = P.mul(y, c)
        pk = P.sub(P.mul(s["pkm1"], z), P.mul(s["pkm2"], yc))
        qk = P.sub(P.mul(s["qkm1"], z), P.mul(s["qkm2"], yc))
        qnz = P.ne(qk, _c(0, dt))
        r = P.div(pk, P.select(qnz, qk, xnp.ones_like(qk)))
        ans = P.select(qnz, r, s["ans"])
        going = P.bitwise_or(P.bitwise_not(qnz), _gt_rel(P.sub(s["ans"], r), r, eps))
        new = {"c": c, "y": y, "z": z, "ans": ans}
        terms = [("p", pk), ("q", qk)]
        if order >= 1:
            # d(p_{k-1} z - p_{k-2} y c) = dp_{k-1} z - p_{k-1} - dp_{k-2} y c + p_{k-2} c
            dpk = P.add(P.sub(P.sub(P.mul(s["dpkm1"], z), s["pkm1"]), P.mul(s["dpkm2"], yc)),
                        P.mul(s["pkm2"], c))
            dqk = P.add(P.sub(P.sub(P.mul(s["dqkm1"], z), s["qkm1"]), P.mul(s["dqkm2"], yc)),
                        P.mul(s["qkm2"], c))
            dr = P.div(P.sub(dpk, P.mul(r, dqk)), P.select(qnz, qk, xnp.ones_like(qk)))
            new["dans"] = P.select(qnz, dr, s["dans"])
            going = P.bitwise_or(going, _gt_rel(P.sub(s["dans"], dr), dr, eps))
            terms += [("dp", dpk), ("dq", dqk)]
        if order >= 2:
            d2pk = P.add(P.sub(P.sub(P.mul(s["d2pkm1"], z), P.mul(two, s["dpkm1"])),
                               P.mul(s["d2pkm2"], yc)), P.mul(P.mul(two, s["dpkm2"]), c))
            d2qk = P.add(P.sub(P.sub(P.mul(s["d2qkm1"], z), P.mul(two, s["dqkm1"])),
                               P.mul(s["d2qkm2"], yc)), P.mul(P.mul(two, s["dqkm2"]), c))
            d2r = P.div(P.sub(P.sub(d2pk, P.mul(P.mul(two, dr), dqk)), P.mul(r, d2qk)),
                        P.select(qnz, qk, xnp.ones_like(qk)))
            new["d2ans"] = P.select(qnz, d2r, s["d2ans"])
            going = P.bitwise_or(going, _gt_rel(P.sub(s["d2ans"], d2r), d2r, eps))
            terms += [("d2p", d2pk), ("d2q", d2qk)]
        # shift, and rescale all terms together when they grow large (the ratios stay)
        rescale = P.gt(P.abs(pk), _c(_BIG, dt))
        scale = P.select(rescale, xnp.full_like(pk, _BIGINV), xnp.ones_like(pk))
        for name, val in terms:
            new[name + "km2"] = P.mul(s[name + "km1"], scale)
            new[name + "km1"] = P.mul(val, scale)
        return new, going

    s = _masked_loop(step, state, enabled, _MAX_ITERS_CF)
    return [s["ans"], s.get("dans"), s.get("d2ans")][:order + 1]


def _zeta_values(kmax):
    """zeta(k) for k = 2..kmax (direct sum to N plus the Euler-Maclaurin tail)."""
    n = np.arange(1, 100, dtype=np.float64)
    N = 100.0
    out = []
    for k in range(2, kmax + 1):
        tail = N ** (1 - k) / (k - 1) + 0.5 * N ** -k + k * N ** (-k - 1) / 12 \
            - k * (k + 1) * (k + 2) * N ** (-k - 3) / 720
        out.append(np.sum(n[::-1] ** -float(k)) + tail)
    return np.array(out)


# lgamma(1 + t) = -euler_gamma t + sum_{k>=2} zeta(k) (-t)^k / k, for |t| <= 1/2
_LGAM1P_K = 56
_LGAM1P_COEFFS = np.concatenate([[0.0, -0.5772156649015329],
                                 _zeta_values(_LGAM1P_K) * (-1.0) ** np.arange(2, _LGAM1P_K + 1)
                                 / np.arange(2, _LGAM1P_K + 1)])


def _lgamma1p(a):
    """lgamma(1 + a) accurate for small a (where 1 + a would round a away)."""
    dt = get_aval(a).dtype
    half = _c(0.5, dt)
    small = P.le(a, half)
    t = P.select(small, a, P.sub(a, _c(1, dt)))
    poly = xnp.zeros_like(a)
    for coef in _LGAM1P_COEFFS[::-1]:
        poly = P.add(P.mul(poly, t), _c(coef, dt))
    near = P.add(poly, P.select(small, xnp.zeros_like(a), P.log(P.select(small, xnp.ones_like(a), a))))
    return P.select(P.le(a, _c(1.5, dt)), near, P.lgamma(P.add(a, _c(1, dt))))


def _igammac_small_series(a, x, enabled):
    """Q(a, x) for small a and x <= 1, without cancellation (see the module docstring)."""
    dt = get_aval(a).dtype
    eps = _c(dtypes.finfo(dt).eps, dt)
    state = {"n": xnp.zeros_like(a), "fac": xnp.ones_like(a), "sum": xnp.zeros_like(a)}

    def step(s):
        n = P.add(s["n"], _c(1, dt))
        fac = P.mul(s["fac"], P.div(P.neg(x), n))
        term = P.div(fac, P.add(a, n))
        total = P.add(s["sum"], term)
        return {"n": n, "fac": fac, "sum": total}, _gt_rel(term, total, eps)

    s = _masked_loop(step, state, enabled, _MAX_ITERS_SERIES)
    t = P.sub(P.mul(a, P.log(x)), _lgamma1p(a))  # log(x^a / Gamma(1+a)), accurate for small a
    return P.sub(P.neg(P.expm1(t)), P.mul(P.mul(a, P.exp(t)), s["sum"]))


# Temme's uniform asymptotic expansion, for large a and x near a (where the series and the
# fraction need ~sqrt(a) terms and x^a e^-x / Gamma(a) cancels to nothing in a, x log x):
#   Q(a, x) = erfc(eta sqrt(a/2)) / 2 + exp(-a eta^2/2) / sqrt(2 pi a) (C0(eta) + C1(eta)/a),
#   P = 1 - Q, with lambda = x/a, eta^2/2 = lambda - 1 - log(lambda), eta signed as lambda - 1.
# C0 = 1/(lambda-1) - 1/eta and C1 = 1/eta^3 - 1/(lambda-1)^3 - 1/(lambda-1)^2 - 1/(12(lambda-1))
# cancel near eta = 0; their Taylor coefficients below were derived with exact rational series
# arithmetic (reverting eta(mu)). The next term is O(a^-2.5): used from _asym_min_a(dtype) on.
_TEMME_C0 = (
    -0.3333333333333333, 0.08333333333333333, -0.014814814814814815, 0.0011574074074074073,
    0.0003527336860670194, -0.0001787551440329218, 3.919263178522438e-05,
    -2.185448510679992e-06, -1.85406221071516e-06, 8.296711340953087e-07,
    -1.7665952736826078e-07, 6.707853543401498e-09, 1.0261809784240309e-08,
    -4.382036018453353e-09, 9.14769958223679e-10, -2.5514193994946248e-11)
_TEMME_C1 = (
    -0.001851851851851852, -0.003472222222222222, 0.0026455026455026454,
    -0.0009902263374485596, 0.00020576131687242798, -4.018775720164609e-07,
    -1.8098550334489977e-05, 7.64916091608111e-06, -1.6120900894563446e-06,
    4.647127802807434e-09, 1.378633446915721e-07, -5.752545603517705e-08,
    1.1951628599778148e-08)
_ASYM_MAX_MU = 0.5    # |x/a - 1| up to which the expansion is used (|eta| <= 0.62)


def _asym_min_a(dt):
    return 20.0 if np.dtype(dt).itemsize <= 4 else 1e5


def _poly(coefs, t):
    dt = get_aval(t).dtype
    out = xnp.zeros_like(t)
    for c in coefs[::-1]:
        out = P.add(P.mul(out, t), _c(c, dt))
    return out


def _temme_q(a, x, upper):
    """Q(a, x) (upper) or P(a, x) by the expansion above, for a large and |x/a - 1| <= 0.5."""
    dt = get_aval(a).dtype
    mu = P.div(P.sub(x, a), a)
    # mu - log1p(mu) without cancellation: with t = mu / (2 + mu), log1p(mu) = 2 atanh(t),
    # so mu - log1p(mu) = t mu - 2 t^3 (1/3 + t^2/5 + t^4/7 + ...)
    t = P.div(mu, P.add(mu, _c(2, dt)))
    t2 = P.mul(t, t)
    tail = _poly([1.0 / (2 * k + 3) for k in range(24)], t2)
    half_eta2 = P.sub(P.mul(t, mu), P.mul(P.mul(_c(2, dt), P.mul(t2, t)), tail))
    half_eta2 = P.max(half_eta2, xnp.zeros_like(a))
    eta = P.mul(P.sign(mu), P.sqrt(P.mul(_c(2, dt), half_eta2)))
    arg = P.mul(eta, P.sqrt(P.mul(a, _c(0.5, dt))))
    corr = P.mul(P.div(P.exp(P.neg(P.mul(a, half_eta2))), P.sqrt(P.mul(a, _c(2 * np.pi, dt)))),
                 P.add(_poly(_TEMME_C0, eta), P.div(_poly(_TEMME_C1, eta), a)))
    if upper:
        return P.add(P.mul(_c(0.5, dt), S.erfc(arg)), corr)
    return P.sub(P.mul(_c(0.5, dt), S.erfc(P.neg(arg))), corr)


def _trigamma(a):
    return S.polygamma(xnp.ones_like(a), a)


def _log_density(a, x):
    """log of the Gamma(a) density at x: (a-1) log x - x - lgamma(a)."""
    return P.sub(P.sub(P.mul(P.sub(a, _c(1, get_aval(a).dtype)), P.log(x)), x), P.lgamma(a))


# ----------------------------------------------------------------------------- implementations
def _impl(a, x, kind):
    """kind: "p", "q", "da" (dP/da), "daa" (d2P/da2), "sample" (d sample / d a)."""
    out_aval = get_aval(a)
    weak = out_aval.weak_type and get_aval(x).weak_type
    dt = _compute_dtype(out_aval.dtype)
    a = P.convert_element_type(a, dt)
    x = P.convert_element_type(x, dt)
    C = lambda v: _c(v, dt)  # noqa: E731
    zeros, ones = xnp.zeros_like(a), xnp.ones_like(a)
    nan = xnp.full_like(a, np.nan)

    is_nan = P.bitwise_or(P.ne(a, a), P.ne(x, x))
    x_zero = P.eq(x, C(0))
    x_inf = P.eq(x, C(np.inf))
    a_zero = P.eq(a, C(0))
    domain = P.bitwise_or(P.lt(x, C(0)), P.lt(a, C(0)))
    use_cf = P.bitwise_and(P.ge(x, C(1)), P.gt(x, a))
    safe_x = P.select(P.bitwise_or(x_zero, domain), ones, x)  # keeps log finite where unused
    log_x = P.log(safe_x)
    log_ax = P.sub(P.sub(P.mul(a, log_x), safe_x), P.lgamma(a))  # log(x^a e^-x / Gamma(a))
    underflow = P.lt(log_ax, C(-np.log(dtypes.finfo(dt).max)))
    ax = P.exp(log_ax)
    enabled = P.bitwise_not(P.bitwise_or(P.bitwise_or(P.bitwise_or(x_zero, domain), a_zero),
                                         P.bitwise_or(P.bitwise_or(underflow, is_nan), x_inf)))
    order = {"p": 0, "q": 0, "da": 1, "sample": 1, "daa": 2}[kind]
    if kind in ("p", "q"):
        # large a, x near a: the uniform asymptotic expansion (the loops skip these entries;
        # not gated by `underflow`: x^a e^-x / Gamma(a) is what cancels there)
        valid = P.bitwise_not(P.bitwise_or(P.bitwise_or(P.bitwise_or(x_zero, domain), a_zero),
                                           P.bitwise_or(is_nan, x_inf)))
        asym = P.bitwise_and(P.bitwise_and(valid, P.ge(a, C(_asym_min_a(dt)))),
                             P.le(P.abs(P.sub(x, a)), P.mul(a, C(_ASYM_MAX_MU))))
        asym = P.bitwise_and(asym, P.lt(a, C(np.inf)))
        enabled = P.bitwise_and(enabled, P.bitwise_not(asym))
        safe = xnp.full_like(a, 1e3)   # in place of the entries the expansion does not serve
    series_on = P.bitwise_and(enabled, P.bitwise_not(use_cf))
    cf_on = P.bitwise_and(enabled, use_cf)

    if kind == "q":
        # small a, x <= 1: P is near 1, so Q gets its own series (regions as scipy's igamc)
        small = P.bitwise_and(P.le(x, C(1)), P.select(
            P.le(x, C(0.5)), P.le(a, P.div(C(-0.4), P.select(P.lt(x, C(1)), log_x, -ones))),
            P.le(a, P.mul(C(1.1), x))))
        small = P.bitwise_and(small, P.bitwise_not(use_cf))
        qs = _igammac_small_series(a, P.select(small, x, ones), P.bitwise_and(enabled, small))
        series_on = P.bitwise_and(series_on, P.bitwise_not(small))

    ser = _series(a, x, series_on, order)
    cf = _continued_fraction(a, x, cf_on, order)
    x_over_a = P.div(x, a)
    ax_over_a = P.div(ax, a)

    if kind == "p":
        out = P.select(use_cf, P.sub(C(1), P.mul(cf[0], ax)), P.mul(ser[0], ax_over_a))
        out = P.select(asym, _temme_q(P.select(asym, a, safe), P.select(asym, x, safe), False), out)
        out = P.select(x_zero, zeros, out)
        out = P.select(P.bitwise_or(x_inf, P.bitwise_and(a_zero, P.bitwise_not(x_zero))), ones, out)
        bad = P.bitwise_or(P.bitwise_or(domain, is_nan), P.bitwise_and(a_zero, x_zero))
    elif kind == "q":
        out = P.select(use_cf, P.mul(cf[0], ax), P.select(small, qs, P.sub(C(1), P.mul(ser[0], ax_over_a))))
        out = P.select(asym, _temme_q(P.select(asym, a, safe), P.select(asym, x, safe), True), out)
        out = P.select(x_zero, ones, out)
        out = P.select(P.bitwise_or(x_inf, P.bitwise_and(a_zero, P.bitwise_not(x_zero))), zeros, out)
        bad = P.bitwise_or(P.bitwise_or(domain, is_nan), P.bitwise_and(a_zero, x_zero))
    else:
        # series: P = F ans, F = x^a e^-x / Gamma(a+1), dF/da = F L, L = log x - digamma(a+1)
        # continued fraction: Q = E r, E = x^a e^-x / Gamma(a), dE/da = E Lc, Lc = log x - digamma(a)
        L = P.sub(log_x, P.digamma(P.add(a, C(1))))
        Lc = P.sub(log_x, P.digamma(a))
        ser_d = P.add(ser[1], P.mul(L, ser[0]))
        cf_d = P.add(cf[1], P.mul(Lc, cf[0]))
        if kind == "da":
            out = P.select(use_cf, P.neg(P.mul(ax, cf_d)), P.mul(ax_over_a, ser_d))
        elif kind == "sample":
            # -(dP/da) / density: the density is F a / x (series) and E / x (fraction)
            out = P.select(use_cf, P.mul(x, cf_d), P.neg(P.mul(x_over_a, ser_d)))
        else:
            ser_d2 = P.add(P.add(ser[2], P.mul(P.mul(C(2), L), ser[1])),
                           P.mul(P.sub(P.mul(L, L), _trigamma(P.add(a, C(1)))), ser[0]))
            cf_d2 = P.add(P.add(cf[2], P.mul(P.mul(C(2), Lc), cf[1])),
                          P.mul(P.sub(P.mul(Lc, Lc), _trigamma(a)), cf[0]))
            out = P.select(use_cf, P.neg(P.mul(ax, cf_d2)), P.mul(ax_over_a, ser_d2))
        bad = P.bitwise_or(P.bitwise_or(domain, is_nan), P.bitwise_or(a_zero, x_inf))
        # a = inf: nan for x > 0, as JAX (the recurrences give inf - inf), 0 at x = 0
        bad = P.bitwise_or(bad, P.bitwise_and(P.eq(a, C(np.inf)), P.bitwise_not(x_zero)))
        out = P.select(x_zero, zeros, out)
    out = P.select(bad, nan, out)
    return P.convert_element_type(out, out_aval.dtype, weak_type=weak)


_impl = jit(_impl, static_argnames=("kind",))


def _density_terms(a, x):
    """(density of Gamma(a) at x, log x - digamma(a)): d/dx P and its a-derivative's factor."""
    return P.exp(_log_density(a, x)), P.sub(P.log(x), P.digamma(a))


@custom_jvp
def _igamma(a, x):
    return _impl(a, x, "p")


@custom_jvp
def _igammac(a, x):
    return _impl(a, x, "q")


@custom_jvp
def _igamma_grad_a(a, x):
    return _impl(a, x, "da")


@custom_jvp
def _igamma_grad_aa(a, x):
    return _impl(a, x, "daa")


@custom_jvp
def _random_gamma_grad(a, x):
    return _impl(a, x, "sample")


@_igamma.defjvp
def _igamma_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    dens, _ = _density_terms(a, x)
    return _igamma(a, x), P.add(P.mul(_igamma_grad_a(a, x), a_dot), P.mul(dens, x_dot))


@_igammac.defjvp
def _igammac_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    dens, _ = _density_terms(a, x)
    return _igammac(a, x), P.neg(P.add(P.mul(_igamma_grad_a(a, x), a_dot), P.mul(dens, x_dot)))


@_igamma_grad_a.defjvp
def _igamma_grad_a_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    dens, lx = _density_terms(a, x)  # d/dx dP/da = d/da density = density (log x - digamma(a))
    return _igamma_grad_a(a, x), P.add(P.mul(_igamma_grad_aa(a, x), a_dot), P.mul(P.mul(dens, lx), x_dot))


@_igamma_grad_aa.defjvp
def _igamma_grad_aa_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    dens, lx = _density_terms(a, x)
    # the third a-derivative: forward mode through the second-order recurrences
    _, d3 = jvp(lambda a_: _impl(a_, x, "daa"), (a,), (xnp.ones_like(a),))
    dx = P.mul(dens, P.sub(P.mul(lx, lx), _trigamma(a)))
    return _igamma_grad_aa(a, x), P.add(P.mul(d3, a_dot), P.mul(dx, x_dot))


@_random_gamma_grad.defjvp
def _random_gamma_grad_jvp(primals, tangents):
    raise NotImplementedError(f"Differentiation rule for 'random_gamma_grad' not implemented "
                              f"(at {core.user_site()})")


# ----------------------------------------------------------------------------- public API
def igamma(a, x):
    """The regularized lower incomplete gamma function P(a, x)."""
    return _igamma(*_check_args("igamma", a, x))


def igammac(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), computed
    without cancellation where P is near 1."""
    return _igammac(*_check_args("igammac", a, x))


def igamma_grad_a(a, x):
    """The derivative of P(a, x) with respect to a."""
    return _igamma_grad_a(*_check_args("igamma_grad_a", a, x))


def random_gamma_grad(a, x):
    """The derivative with respect to a of a Gamma(a) sample x (implicit reparameterization:
    -(dP(a, x)/da) / density of Gamma(a) at x)."""
    return _random_gamma_grad(*_check_args("random_gamma_grad", a, x))
