"""scipy.special.hyp1f1 (the confluent hypergeometric function 1F1(a; b; x)) against
jax.scipy.special.hyp1f1 and scipy.special.hyp1f1: values at ordinary points (float32 and
float64), JAX's values at its edges (a == 0, a == b, b == 0, b a non-positive integer,
|x| >= 100, x = +-inf, NaN), broadcasting, dtypes and weak types, derivatives in a, b and x
(against JAX and finite differences), jit, vmap and bad input."""
import numpy as np
import pytest
import scipy.special as ss

import jax
import jax.scipy.special as jsp

import xlafront as xf
import xlafront.scipy.special as xsp
from jax_ref import jax_side


def _jhyp1f1(a, b, x):
    """jax.scipy.special.hyp1f1(a, b, x), through jax_side."""
    return jax_side(lambda a, b, x: jsp.hyp1f1(a, b, x), a, b, x)

# ordinary points: 0 < a, b <= 6, -5 <= x <= 20 (where the float32 series is well-conditioned:
# for x << 0 its terms cancel, at x = -20 to ~1e7 times the sum, and JAX's float32 value and
# xlafront's are both rounding noise, different noise)
_A = np.array([0.25, 0.5, 1.0, 1.5, 3.0, 6.0])
_B = np.array([0.5, 1.0, 2.0, 3.5, 6.0])
_X = np.array([-5.0, -2.5, -1.0, -0.1, 0.0, 0.3, 1.0, 4.0, 12.0, 20.0])
GA, GB, GX = [v.ravel() for v in np.meshgrid(_A, _B, _X, indexing="ij")]

# the edges
_EA = np.array([-2.0, -0.5, 0.0, 1.0, 1.5, 2.0, np.inf, np.nan])
_EB = np.array([-2.0, -1.0, 0.0, 0.5, 2.0, np.inf, np.nan])
_EX = np.array([-np.inf, -1e10, -200.0, -100.0, -99.0, -3.5, -0.0, 0.0, 0.5, 3.5, 99.0, 100.0,
                150.0, 1e10, np.inf, np.nan])
EA, EB, EX = [v.ravel() for v in np.meshgrid(_EA, _EB, _EX, indexing="ij")]


def _taylor(a, b, x, weight=None, terms=400):
    """The float64 Taylor series in NumPy, summed to `terms` terms (the reference: scipy's
    hyp1f1 switches methods and is off by up to 1e-3 near some points, e.g. b = 0.5, x = -0.5)."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, x)))
    s = np.zeros_like(x) if weight else np.ones_like(x)
    t = np.ones_like(x)
    for k in range(1, terms):
        t = t * (a + k - 1) / (b + k - 1) * x / k
        s = s + (t * weight(a, b, k) if weight else t)
    return s


def _same(ours, theirs, rtol, limit=np.inf):
    """dtype, shape and nan/+inf/-inf positions equal; finite values with |theirs| < limit within
    rtol."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(theirs))
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    fin = np.isfinite(theirs) & (np.abs(theirs) < limit)
    np.testing.assert_allclose(ours[fin], theirs[fin], rtol=rtol, atol=rtol * 1e-3)


def _cancellation_scale(a, b, x):
    # sum_k |(a)_k / (b)_k x^k / k!| = 1F1(a; b; |x|) for a, b > 0: the rounding error of the
    # series is ~eps times this, not eps times the (for x < 0 much smaller) sum
    return ss.hyp1f1(a, b, np.abs(x))


def test_float32_values_match_jax_and_scipy():
    a, b, x = (v.astype(np.float32) for v in (GA, GB, GX))
    ours = xsp.hyp1f1(a, b, x)
    theirs = _jhyp1f1(a, b, x)
    _same(ours, theirs, 1.0)   # dtype, shape, nan/inf positions
    scale = _cancellation_scale(GA, GB, GX)
    np.testing.assert_array_less(np.abs(np.asarray(ours, np.float64) - np.asarray(theirs)),
                                 2e-6 * np.abs(np.asarray(theirs)) + 1e-6 * scale)
    np.testing.assert_array_less(np.abs(np.asarray(ours, np.float64) - ss.hyp1f1(GA, GB, GX)),
                                 2e-6 * np.abs(ss.hyp1f1(GA, GB, GX)) + 1e-6 * scale)


def test_float64_values_match_jax_and_scipy(x64):
    ours = xsp.hyp1f1(GA, GB, GX)
    assert ours.dtype == np.float64
    theirs = _jhyp1f1(GA, GB, GX)
    _same(ours, theirs, 1.0)
    scale = _cancellation_scale(GA, GB, GX)
    np.testing.assert_array_less(np.abs(np.asarray(ours) - np.asarray(theirs)),
                                 1e-14 * np.abs(np.asarray(ours)) + 1e-14 * scale)
    np.testing.assert_array_less(np.abs(np.asarray(ours) - _taylor(GA, GB, GX)),
                                 1e-14 * np.abs(np.asarray(ours)) + 1e-14 * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edges_match_jax(dtype, request):
    # b a non-positive integer (the series' poles), a == 0 (1, even at b == 0), a == b (e^x),
    # b == 0 (inf), the asymptotic form at |x| >= 100 (nan for finite x <= -100), +-inf, nan
    if dtype == np.float64:
        request.getfixturevalue("x64")
    a, b, x = (v.astype(dtype) for v in (EA, EB, EX))
    # (finite values beyond 1e15 are the rounding noise of a diverging float sum, in both)
    _same(xsp.hyp1f1(a, b, x), _jhyp1f1(a, b, x), 1e-4 if dtype == np.float32 else 1e-10, 1e15)


def test_closed_forms():
    x = np.float32([-3.0, -0.5, 0.0, 0.5, 2.0, 50.0])
    np.testing.assert_array_equal(xsp.hyp1f1(np.float32(0), np.float32(0.0), x), np.ones(6, np.float32))
    np.testing.assert_allclose(xsp.hyp1f1(np.float32(2.5), np.float32(2.5), x), np.exp(x), rtol=1e-6)
    assert np.all(np.isposinf(np.asarray(xsp.hyp1f1(np.float32(1.0), np.float32(0.0), x))))
    # 1F1(1; 2; x) = (e^x - 1) / x
    np.testing.assert_allclose(xsp.hyp1f1(1.0, 2.0, x[x != 0]), np.expm1(x[x != 0]) / x[x != 0], rtol=2e-6)
    # a = -n: a polynomial (Laguerre), 1F1(-2; 3; x) = 1 - 2x/3 + x^2/12
    np.testing.assert_allclose(xsp.hyp1f1(-2.0, 3.0, x), 1 - 2 * x / 3 + x * x / 12, rtol=1e-5)


def test_broadcasting_dtypes_and_weak_types():
    a = np.float32([[0.5], [1.5]])
    b = np.float32([1.0, 2.0, 3.0])
    out = xsp.hyp1f1(a, b, np.float32(0.7))
    ref = _jhyp1f1(a, b, np.float32(0.7))
    assert out.shape == ref.shape == (2, 3)
    _same(out, ref, 1e-6)
    for args in [(1.5, 2.0, 0.5), (1, 2, 3), (np.float32(1.5), 2.0, 0.5), (1.5, 2.0, np.float16(0.5))]:
        o, r = xsp.hyp1f1(*args), _jhyp1f1(*args)
        assert (o.dtype, o.weak_type) == (r.dtype, r.weak_type), args
        np.testing.assert_allclose(np.asarray(o, np.float64), np.asarray(r, np.float64), rtol=1e-3)
    # empty
    assert xsp.hyp1f1(np.float32(1), np.float32(2), np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_bad_input():
    with pytest.raises(ValueError, match="complex"):
        xsp.hyp1f1(1.0, 2.0, np.complex64(1 + 1j))
    assert float(xsp.hyp1f1(1.0, 2.0, 0.0)) == 1.0   # the next good call still works
    with pytest.raises(ValueError):
        xsp.hyp1f1(np.ones(2, np.float32), np.ones(3, np.float32), 0.5)


def _grads(mod, a, b, x):
    f = lambda a, b, x: mod.scipy.special.hyp1f1(a, b, x)
    return mod.vmap(mod.grad(f, argnums=(0, 1, 2)))(a, b, x)


def test_derivatives_match_jax():
    # d/da and d/db: JAX's series (psi differences); d/dx = a/b 1F1(a+1; b+1; x)
    a, b, x = (v.astype(np.float32) for v in (GA, GB, GX))
    for ours, theirs in zip(_grads(xf, a, b, x), jax_side(lambda a, b, x: _grads(jax, a, b, x), a, b, x)):
        _same(ours, theirs, 1e-4)


def test_derivatives_at_edges_match_jax():
    a, b, x = (v.astype(np.float32) for v in (EA, EB, EX))
    (ga, gb, gx) = _grads(xf, a, b, x)
    (ja, jb, jx) = jax_side(lambda a, b, x: _grads(jax, a, b, x), a, b, x)
    _same(gx, jx, 1e-4)
    # d/da and d/db are Taylor series at every x. At x = -99 and -100 their float32 terms grow
    # to ~1e38 before they shrink: the sum overflows, and whether it ends as +inf, -inf or NaN
    # is rounding noise (whether XLA contracts s + t * w into one fused multiply-add, where
    # t * w alone overflows: JAX's own sign there flips between LLVM's -O0 and -O2). There
    # only the overflow is required; everywhere else the values match JAX's.
    overflow = (x > -101) & (x < -98)
    for ours, theirs in [(ga, ja), (gb, jb)]:
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        noise = overflow & ~np.isfinite(theirs)
        assert not np.isfinite(ours[noise]).any()
        _same(ours[~noise], theirs[~noise], 1e-4)


def test_derivatives_match_finite_differences(x64):
    a, b, x = GA[::3], GB[::3], GX[::3] * 0.5
    ga, gb, gx = (np.asarray(g) for g in _grads(xf, a, b, x))
    h = 1e-5
    for g, fd in [(ga, (_taylor(a + h, b, x) - _taylor(a - h, b, x)) / (2 * h)),
                  (gb, (_taylor(a, b + h, x) - _taylor(a, b - h, x)) / (2 * h)),
                  (gx, (_taylor(a, b, x + h) - _taylor(a, b, x - h)) / (2 * h))]:
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_grad_in_x_only_and_second_derivative():
    # a, b constants (their tangents zero): as JAX, also d2/dx2 = a(a+1)/(b(b+1)) 1F1(a+2; b+2; x)
    xs = np.float32([-3.5, -0.5, 0.0, 0.5, 2.0, 10.0])
    f_xf = lambda x: xsp.hyp1f1(np.float32(1.5), np.float32(2.0), x)
    f_jax = lambda x: jsp.hyp1f1(np.float32(1.5), np.float32(2.0), x)
    _same(xf.vmap(xf.grad(f_xf))(xs), jax_side(lambda xs: jax.vmap(jax.grad(f_jax))(xs), xs), 1e-5)
    d2 = xf.vmap(xf.grad(xf.grad(f_xf)))(xs)
    _same(d2, jax_side(lambda xs: jax.vmap(jax.grad(jax.grad(f_jax)))(xs), xs), 1e-5)
    np.testing.assert_allclose(d2, 1.5 * 2.5 / (2 * 3) * ss.hyp1f1(3.5, 4.0, xs.astype(np.float64)), rtol=1e-5)


def test_jit_and_vmap_match_loop():
    a, b, x = (v.astype(np.float32) for v in (GA[:40], GB[:40], GX[:40]))
    jitted = xf.jit(xsp.hyp1f1)(a, b, x)
    vmapped = xf.vmap(xsp.hyp1f1, in_axes=(0, 0, 0))(a, b, x)
    loop = np.array([np.asarray(xsp.hyp1f1(ai, bi, xi)) for ai, bi, xi in zip(a, b, x)])
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(xsp.hyp1f1(a, b, x)))
    np.testing.assert_allclose(np.asarray(vmapped), loop, rtol=1e-6)
    # vmap over x only, a and b unbatched
    v2 = xf.vmap(xsp.hyp1f1, in_axes=(None, None, 0))(np.float32(1.5), np.float32(2.0), x)
    _same(v2, _jhyp1f1(np.float32(1.5), np.float32(2.0), x), 1e-5)
