"""scipy.special's expi, exp1, expn, poch; scipy.linalg.toeplitz; scipy.fft's DCT; against JAX
0.10.2: values (float32, float64 under x64) at random and special points, dtypes and weak types,
derivatives (JAX and closed forms), vmap against a Python loop, errors.

JAX 0.10.2's own exp1/expn (and expi below 0) never return on an array that mixes a tiny x
with larger ones, so tiny points go to JAX one at a time."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.scipy.fft as jfft
import jax.scipy.linalg as jla
import jax.scipy.special as jsp

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.fft as xfft
import xlafront.scipy.linalg as xla
import xlafront.scipy.special as xsp
from jax_ref import jax_side


def _pos_points(dt):
    # no tiny x here (JAX hangs on the mix); 0 and -0 are fine
    rng = np.random.default_rng(3)
    return np.concatenate([rng.uniform(0.01, 3, 150), rng.uniform(3, 60, 100), rng.uniform(60, 700, 30),
                           [0.5, 1.0, 1.0000001, 2.0, 19.99, 20.0, 20.01, 39.9, 40.0, 40.1, 1e10,
                            np.inf, np.nan, -0.5, -3.0, -np.inf]]).astype(dt)


def _tol(dt):
    return dict(rtol=4e-6, atol=0) if dt == np.float32 else dict(rtol=2e-14, atol=0)


def _close(g, w, dt, err_msg="", atol_near_zero=None):
    g, w = np.asarray(g), np.asarray(w)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=err_msg)
    inf = np.isinf(w)
    np.testing.assert_array_equal(g[inf], w[inf], err_msg=err_msg)
    ok = np.isfinite(w)
    tol = _tol(dt)
    if atol_near_zero is not None:
        tol = dict(tol, atol=atol_near_zero)
    np.testing.assert_allclose(g[ok], w[ok], err_msg=err_msg, **tol)


def _expint_values(dt):
    x = _pos_points(dt)
    _close(xf.jit(xsp.exp1)(x), jax_side(lambda x: jax.jit(jsp.exp1)(x), x), dt, "exp1")
    nz = x != 0   # JAX's E_n(0) for n >= 2 is 1/n (wrong): test_expn_at_zero
    for n in (0, 1, 2, 3, 7, 30):
        xs = x if n < 2 else x[nz]
        _close(xf.jit(xsp.expn)(n, xs), jax_side(lambda n, xs: jax.jit(jsp.expn)(n, xs), n, xs), dt, f"expn {n}")
    xx = np.concatenate([x, -x[:280]])
    # Ei has a zero at 0.3725: compare there to an absolute error of a few ulps of its terms
    _close(xf.jit(xsp.expi)(xx), jax_side(lambda x: jax.jit(jsp.expi)(x), xx), dt, "expi",
           atol_near_zero=1e-7 if dt == np.float32 else 1e-16)
    # an array of orders against an array of points (broadcast)
    n = np.arange(6)[:, None]
    xs = x[nz][None, :40]
    _close(xf.jit(xsp.expn)(n, xs), jax_side(lambda n, xs: jax.jit(jsp.expn)(n, xs), n, xs), dt, "expn broadcast")


def test_expint_values_float32():
    _expint_values(np.float32)


def test_expint_values_float64(x64):
    _expint_values(np.float64)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_expint_tiny_points_one_at_a_time(dt, request):
    if dt == np.float64:
        request.getfixturevalue("x64")
    fns = [("exp1", xsp.exp1, lambda v: jsp.exp1(v)), ("expi", xsp.expi, lambda v: jsp.expi(v)),
           ("expn1", lambda v: xsp.expn(1, v), lambda v: jsp.expn(1, v)),
           ("expn3", lambda v: xsp.expn(3, v), lambda v: jsp.expn(3, v))]
    pts = [1e-30, 1e-20, 1e-7, -1e-30, -1e-7]
    for name, f, jf in fns:
        x = np.array(pts, dt)
        got = np.asarray(xf.jit(f)(x))
        want = jax_side(lambda x: np.array([np.asarray(jf(np.array([v], dt)))[0] for v in x]), x)
        _close(got, want, dt, name)
    # the values themselves: E_1(x) ~ -gamma - log x, E_3(0+) = 1/2, Ei(-x) = -E_1(x)
    np.testing.assert_allclose(np.asarray(xsp.exp1(np.array(1e-30, dt))), -np.euler_gamma - np.log(1e-30),
                               rtol=1e-6)
    assert np.asarray(xsp.expn(3, np.array(1e-30, dt))) == 0.5
    assert np.asarray(xsp.expi(np.array(-1e-30, dt))) == -np.asarray(xsp.exp1(np.array(1e-30, dt)))


def test_expint_special_points_exact():
    x = np.array([0., -0., 1., np.inf, -np.inf, np.nan, -1., 1e10], np.float32)
    e11 = 0.21938393439552029
    np.testing.assert_allclose(xsp.exp1(x), [np.inf, np.inf, e11, np.nan, np.nan, np.nan, np.nan, 0],
                               rtol=2e-6)   # (float32's series at x = 1 cancels ~4x; JAX's is off as much)
    np.testing.assert_allclose(xsp.expi(x), [np.nan, np.nan, 1.8951178163559368, np.nan, np.nan, np.nan,
                                             -e11, np.inf], rtol=2e-6)
    np.testing.assert_allclose(xsp.expn(0, x), [np.inf, -np.inf, np.exp(-1), np.nan, np.nan, np.nan,
                                                np.nan, 0], rtol=3e-7)
    # orders that are not non-negative integers: nan
    np.testing.assert_array_equal(np.isnan(xsp.expn(np.array([-1., 1.5, np.nan, 2.]), 1.0)),
                                  [True, True, True, False])


def test_expn_at_zero():
    # E_n(0) = 1/(n - 1) for n >= 2 (the limit x -> 0+, scipy's value); JAX 0.10.2 gives 1/n
    # there (but 1/(n - 1) just above 0): docs/differences.md
    n = np.array([2, 3, 7, 30])
    got = np.asarray(xsp.expn(n, np.float32(0)))
    np.testing.assert_allclose(got, 1 / (n - 1), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(jax_side(lambda n: jsp.expn(n, np.float32(0)), n)), 1 / n, rtol=1e-7)  # JAX's
    # (JAX's expn at a tiny x, one order at a time: an array of orders there never returns)
    np.testing.assert_allclose(got, jax_side(lambda n: [np.asarray(jsp.expn(int(k), np.float32(1e-30))) for k in n], n), rtol=1e-7)
    assert np.asarray(xsp.expn(1, 0.0)) == np.inf


def test_expint_dtypes_and_errors():
    for f, jf in ((xsp.expi, lambda v: jsp.expi(v)), (xsp.exp1, lambda v: jsp.exp1(v)), (lambda v: xsp.expn(2, v), lambda v: jsp.expn(2, v))):
        for c in (1.0, 1, np.float32(1.0), np.int32(1), xnp.bfloat16(1.0)):
            jc = jnp.bfloat16(1.0) if isinstance(c, type(xnp.bfloat16(1.0))) and not isinstance(c, float) else c
            g, w = f(c), jax_side(lambda c: jf(c), jc)
            assert (g.dtype, g.weak_type) == (w.dtype, w.weak_type), c
            # (JAX computes bfloat16 in bfloat16: 0.2148 for E_1(1) = 0.2194; xlafront rounds a
            # float32 result)
            np.testing.assert_allclose(np.float32(g), np.float32(w), rtol=3e-2)
    for c in ((1.0, 2.0), (np.float32(1), 2.0), (1, 2), (np.int32(3), 2.0), (np.float32(2.5), np.float32(1.5))):
        g, w = xsp.poch(*c), jax_side(lambda *c: jsp.poch(*c), *c)
        assert (g.dtype, g.weak_type) == (w.dtype, w.weak_type), c
        np.testing.assert_allclose(g, w, rtol=1e-6)
    g, w = xsp.expn(np.float32(2), np.float16(1)), jax_side(lambda a, b: jsp.expn(a, b), np.float32(2), np.float16(1))
    assert g.dtype == w.dtype == np.float32
    for f in (xsp.expi, xsp.exp1, lambda v: xsp.expn(1, v), lambda v: xsp.poch(v, 1.0)):
        with pytest.raises(ValueError, match="complex"):
            f(np.complex64(1 + 1j))
    with pytest.raises(TypeError):
        xsp.expi("a")
    assert float(xsp.expi(1.0)) == pytest.approx(1.8951178, rel=1e-6)   # the next good call works


def _fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_expint_grads(x64):
    x = np.array([0.05, 0.3, 0.7, 1.0, 1.5, 3.0, 10.0, 45.0], np.float64)
    xn = np.concatenate([x, -x[:6]])
    for name, f, jf, pts in (("expi", xsp.expi, lambda v: jsp.expi(v), xn), ("exp1", xsp.exp1, lambda v: jsp.exp1(v), x),
                             ("expn3", lambda v: xsp.expn(3, v), lambda v: jsp.expn(3, v), x)):
        g = np.asarray(xf.jit(xf.vmap(xf.grad(f)))(pts))
        w = np.asarray(jax_side(lambda p: jax.vmap(jax.grad(jf))(p), pts))
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(g, _fd(lambda v: np.asarray(f(v)), pts), rtol=2e-7, err_msg=name)
    # the closed forms and their edges: Ei' = exp(x)/x, E_1' = -exp(-x)/x, E_n' = -E_(n-1)
    np.testing.assert_allclose(xf.vmap(xf.grad(xsp.expi))(x), np.exp(x) / x, rtol=1e-14)
    np.testing.assert_allclose(xf.vmap(xf.grad(xsp.exp1))(x), -np.exp(-x) / x, rtol=1e-14)
    edge = np.array([0.0, -0.0, -1.0, np.inf, np.nan])
    for f, jf in ((xsp.expi, lambda v: jsp.expi(v)), (xsp.exp1, lambda v: jsp.exp1(v)), (lambda v: xsp.expn(2, v), lambda v: jsp.expn(2, v))):
        g = np.asarray(xf.vmap(xf.grad(f))(edge))
        w = np.asarray(jax_side(lambda e: jax.vmap(jax.grad(jf))(e), edge))
        np.testing.assert_array_equal(g, w)
    # second derivative of expi: d/dx exp(x)/x = exp(x) (x - 1) / x^2
    np.testing.assert_allclose(xf.vmap(xf.grad(xf.grad(xsp.expi)))(x), np.exp(x) * (x - 1) / x ** 2, rtol=1e-12)


def test_expint_vmap_and_jvp():
    n = np.array([0, 1, 2, 3, 5], np.int32)
    x = np.array([0.5, 1.0, 2.5, 7.0, 30.0], np.float32)
    got = np.asarray(xf.vmap(xsp.expn)(n, x))
    loop = np.array([np.asarray(xsp.expn(int(a), b)) for a, b in zip(n, x)])
    np.testing.assert_allclose(got, loop, rtol=1e-6)
    np.testing.assert_allclose(got, np.asarray(jax_side(lambda n, x: jax.vmap(jsp.expn)(n, x), n, x)), rtol=4e-6)
    got = np.asarray(xf.vmap(xsp.expn, in_axes=(None, 0))(2, x))
    np.testing.assert_allclose(got, [np.asarray(xsp.expn(2, b)) for b in x], rtol=1e-6)
    for f, jf in ((xsp.expi, lambda v: jsp.expi(v)), (xsp.exp1, lambda v: jsp.exp1(v))):
        p, t = xf.jvp(f, (x,), (np.ones_like(x),))
        jp, jt = jax_side(lambda x: jax.jvp(jf, (x,), (np.ones_like(x),)), x)
        np.testing.assert_allclose(p, jp, rtol=4e-6)
        np.testing.assert_allclose(t, jt, rtol=4e-6)


def test_poch_values_grads_vmap():
    z = np.array([0., -0., -1., -1.5, -2., 1., 2.5, np.inf, np.nan, 0.5, 3., 7.5], np.float32)
    m = np.array([0., 1., 2., -1., 0.5, -3., np.inf, 1., 0., 2.5, -0.5, 4.], np.float32)
    g, w = np.asarray(xsp.poch(z, m)), np.asarray(jax_side(lambda z, m: jsp.poch(z, m), z, m))
    _close(g, w, np.float32, "poch")
    np.testing.assert_array_equal(np.signbit(g[g == 0]), np.signbit(w[g == 0]))
    rng = np.random.default_rng(1)
    z, m = rng.uniform(0.1, 6, 200).astype(np.float32), rng.uniform(-0.09, 4, 200).astype(np.float32)
    np.testing.assert_allclose(xf.jit(xsp.poch)(z, m), jax_side(lambda z, m: jax.jit(jsp.poch)(z, m), z, m), rtol=2e-5)
    for arg in (0, 1):
        g = xf.vmap(xf.grad(xsp.poch, argnums=arg))(z[:20], m[:20])
        w = jax_side(lambda z, m: jax.vmap(jax.grad(jsp.poch, argnums=arg))(z, m), z[:20], m[:20])
        np.testing.assert_allclose(g, w, rtol=5e-5)
    loop = [np.asarray(xsp.poch(a, b)) for a, b in zip(z[:5], m[:5])]
    np.testing.assert_allclose(xf.vmap(xsp.poch)(z[:5], m[:5]), loop, rtol=1e-6)


def test_poch_grads_finite_differences(x64):
    z, m = np.array([0.7, 1.5, 3.2]), np.array([0.4, 2.0, 1.3])
    g = np.asarray(xf.vmap(xf.grad(xsp.poch, argnums=0))(z, m))
    np.testing.assert_allclose(g, _fd(lambda v: np.asarray(xsp.poch(v, m)), z), rtol=1e-7)
    g = np.asarray(xf.vmap(xf.grad(xsp.poch, argnums=1))(z, m))
    np.testing.assert_allclose(g, _fd(lambda v: np.asarray(xsp.poch(z, v)), m), rtol=1e-7)


# ----------------------------------------------------------------------------- toeplitz

def test_toeplitz_values_and_dtypes():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(2, 4)).astype(np.float32)
    r = rng.normal(size=5).astype(np.float32)
    cz = (c[0] + 1j * c[1]).astype(np.complex64)
    cases = [(c[0],), (c[0], r), (c,), (c, r), (cz,), (cz, r), (np.arange(3),), (np.arange(3), r),
             (np.zeros(0, np.float32), r), (c[0], np.zeros(0, np.float32)), (np.float32(2.5),)]
    for args in cases:
        g, w = xla.toeplitz(*args), jax_side(lambda *a: jla.toeplitz(*a), *args)
        assert (g.shape, g.dtype, g.weak_type) == (w.shape, w.dtype, w.weak_type), [a.shape for a in args]
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-7)
    g = xla.toeplitz(1.0)
    assert (g.shape, g.weak_type) == ((1, 1), jax_side(lambda v: jla.toeplitz(v), 1.0).weak_type)
    # the diagonal of the 1-argument complex form is c[0] itself, the first row conj(c)
    t = np.asarray(xla.toeplitz(cz))
    assert t[0, 0] == cz[0] and t[0, 1] == np.conj(cz[1]) and t[1, 0] == cz[1]


def test_toeplitz_grad_vmap_errors():
    c = np.array([1., 2., 3.], np.float32)
    r = np.array([9., 4., 5., 6.], np.float32)
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    f = lambda c, r: (xla.toeplitz(c, r) * w).sum()   # noqa: E731
    jf = lambda c, r: (jla.toeplitz(c, r) * w).sum()  # noqa: E731
    for arg in (0, 1):
        np.testing.assert_array_equal(xf.grad(f, argnums=arg)(c, r), jax_side(lambda c, r: jax.grad(jf, argnums=arg)(c, r), c, r))
    cs = np.stack([c, c + 1])
    got = xf.vmap(xla.toeplitz, in_axes=(0, None))(cs, r)
    np.testing.assert_array_equal(got, np.stack([np.asarray(xla.toeplitz(a, r)) for a in cs]))
    with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
        xla.toeplitz(np.ones((2, 3)), np.ones((5, 4)))
    with pytest.raises(TypeError, match="toeplitz requires ndarray or scalar arguments"):
        xla.toeplitz([1.0, 2.0])
    assert xla.toeplitz(c).shape == (3, 3)


# ----------------------------------------------------------------------------- DCT

@pytest.mark.parametrize("name", ["dct", "idct"])
def test_dct_matches_jax(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6)).astype(np.float32)
    for kw in ({}, {"norm": "ortho"}, {"n": 4}, {"n": 8, "axis": 0}, {"axis": 0, "norm": "ortho"}):
        g, w = getattr(xfft, name)(x, **kw), jax_side(lambda x: getattr(jfft, name)(x, **kw), x)
        assert (g.shape, g.dtype) == (w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=3e-6, err_msg=str(kw))
    c = (x[0] + 1j * x[1]).astype(np.complex64)
    g, w = getattr(xfft, name)(c), jax_side(lambda c: getattr(jfft, name)(c), c)
    assert g.dtype == w.dtype == np.complex64
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=3e-6)
    for v in (np.arange(4), np.arange(4, dtype=np.float16)):
        assert getattr(xfft, name)(v).dtype == jax_side(lambda v: getattr(jfft, name)(v), v).dtype


@pytest.mark.parametrize("name", ["dctn", "idctn"])
def test_dctn_matches_jax(name):
    x = np.random.default_rng(1).normal(size=(3, 4, 5)).astype(np.float32)
    for kw in ({}, {"norm": "ortho"}, {"s": (4, 4)}, {"axes": (1,)}, {"s": (2, 6), "axes": (0, 2)}):
        g, w = getattr(xfft, name)(x, **kw), jax_side(lambda x: getattr(jfft, name)(x, **kw), x)
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=str(kw))


def test_dct_inverse_grad_vmap_errors(x64):
    x = np.random.default_rng(2).normal(size=(4, 7))
    for norm in (None, "ortho"):
        np.testing.assert_allclose(xfft.idct(xfft.dct(x, norm=norm), norm=norm), x, atol=1e-13)
        np.testing.assert_allclose(xfft.idctn(xfft.dctn(x, norm=norm), norm=norm), x, atol=1e-13)
    wts = np.arange(7.0)
    f = lambda v: (xfft.dct(v, norm="ortho") * wts).sum()   # noqa: E731
    jf = lambda v: (jfft.dct(v, norm="ortho") * wts).sum()  # noqa: E731
    np.testing.assert_allclose(xf.grad(f)(x[0]), jax_side(lambda v: jax.grad(jf)(v), x[0]), rtol=1e-12)
    np.testing.assert_allclose(xf.vmap(xfft.dct)(x), np.stack([np.asarray(xfft.dct(r)) for r in x]), rtol=1e-13)
    with pytest.raises(NotImplementedError, match="Only DCT type 2"):
        xfft.dct(x, type=3)
    with pytest.raises(ValueError, match="norm='forward'"):
        xfft.dct(x, norm="forward")
    with pytest.raises(ValueError, match="out of bounds"):
        xfft.dct(x, axis=2)


# ----------------------------------------------------------------------------- gaussian_kde

def test_gaussian_kde_matches_jax():
    from jax.scipy.stats import gaussian_kde as JK
    from xlafront.scipy.stats import gaussian_kde as XK
    rng = np.random.default_rng(0)
    d = rng.normal(size=(2, 30)).astype(np.float32)
    w = rng.uniform(0.1, 1, 30).astype(np.float32)
    p = rng.normal(size=(2, 7)).astype(np.float32)
    far = np.array([[40.0], [-40.0]], np.float32)   # logpdf without underflow far from the data
    for kw in ({}, {"bw_method": "silverman"}, {"bw_method": 0.3}, {"weights": w},
               {"bw_method": lambda k: 0.5}):
        def jax_kde(d, p, far):
            b = JK(d, **kw)
            return (b.evaluate(p), b.pdf(p), b.logpdf(p), b.logpdf(far), b.covariance, float(b.neff),
                    float(b.integrate_gaussian(jnp.zeros(2), jnp.eye(2))), float(b.integrate_kde(b)))
        a, b = XK(d, **kw), jax_side(jax_kde, d, p, far)
        np.testing.assert_allclose(a.evaluate(p), b[0], rtol=2e-6, err_msg=str(kw))
        np.testing.assert_allclose(a(p), b[1], rtol=2e-6)
        np.testing.assert_allclose(a.logpdf(p), b[2], rtol=2e-6)
        np.testing.assert_allclose(a.logpdf(far), b[3], rtol=2e-6)
        np.testing.assert_allclose(a.covariance, b[4], rtol=2e-6)
        np.testing.assert_allclose(float(a.neff), b[5], rtol=1e-7)
        np.testing.assert_allclose(float(a.integrate_gaussian(np.zeros(2), np.eye(2))), b[6], rtol=2e-6)
        np.testing.assert_allclose(float(a.integrate_kde(a)), b[7], rtol=4e-6)
    a = XK(d[0])
    b = jax_side(lambda d, p: (lambda b: (b.dataset, float(b.integrate_box_1d(-1, 0.5)), b(p)))(JK(d)), d[0], p[0])
    assert a.dataset.shape == b[0].shape == (1, 30)
    np.testing.assert_allclose(float(a.integrate_box_1d(-1, 0.5)), b[1], rtol=1e-6)
    np.testing.assert_allclose(a(p[0]), b[2], rtol=2e-6)


def test_gaussian_kde_jit_grad_vmap_errors():
    from jax.scipy.stats import gaussian_kde as JK
    from xlafront.scipy.stats import gaussian_kde as XK
    rng = np.random.default_rng(1)
    d = rng.normal(size=(2, 20)).astype(np.float32)
    p = rng.normal(size=(2, 5)).astype(np.float32)
    kde = XK(d)
    np.testing.assert_allclose(xf.jit(lambda k, x: k.logpdf(x))(kde, p), kde.logpdf(p), rtol=1e-6)
    np.testing.assert_allclose(xf.grad(lambda x: XK(d).logpdf(x).sum())(p),
                               jax_side(lambda d, p: jax.grad(lambda x: JK(d).logpdf(x).sum())(p), d, p), rtol=1e-5, atol=1e-6)
    got = xf.vmap(lambda x: kde.pdf(x[:, None])[0], in_axes=1)(p)
    np.testing.assert_allclose(got, [float(kde.pdf(p[:, j:j + 1])[0]) for j in range(5)], rtol=1e-6)
    with pytest.raises(ValueError, match="multiple elements"):
        XK(np.ones(1, np.float32))
    with pytest.raises(ValueError, match="bw_method"):
        XK(d, bw_method="foo")
    with pytest.raises(ValueError, match="points have dimension 3, dataset has dimension 2"):
        kde.evaluate(np.ones((3, 4), np.float32))
    assert kde.evaluate(np.ones(2, np.float32)).shape == (1,)


# ----------------------------------------------------------------------------- betainc

def test_betainc_values_edges_dtypes():
    x = np.array([-1, -0., 0, 0.2, 0.5, 1, 1.5, np.nan, np.inf], np.float32)
    _close_rel = dict(rtol=2e-6, atol=1e-7)
    g, w = xsp.betainc(np.float32(2), np.float32(3), x), jax_side(lambda x: jsp.betainc(np.float32(2), np.float32(3), x), x)
    np.testing.assert_allclose(g, w, equal_nan=True, **_close_rel)
    np.testing.assert_allclose(xsp.betainc(np.float32(2), np.float32(3), np.float32(0.5)), 0.6875, rtol=3e-7)
    a = np.array([-1, 0, 1e-3, 0.5, 1, 2, 10, 100, 1e4, np.inf, np.nan], np.float32)
    half, three = np.float32(0.5), np.float32(3)
    np.testing.assert_allclose(xsp.betainc(a, three, half), jax_side(lambda *v: jsp.betainc(*v), a, three, half), rtol=5e-5,
                               atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(xsp.betainc(three, a, half), jax_side(lambda *v: jsp.betainc(*v), three, a, half), rtol=5e-5,
                               atol=1e-7, equal_nan=True)
    rng = np.random.default_rng(0)
    A, B, X = (rng.uniform(0.1, 50, 300).astype(np.float32), rng.uniform(0.1, 50, 300).astype(np.float32),
               rng.uniform(0, 1, 300).astype(np.float32))
    np.testing.assert_allclose(xf.jit(xsp.betainc)(A, B, X), jax_side(lambda *v: jax.jit(jsp.betainc)(*v), A, B, X), rtol=1e-3, atol=2e-5)
    for args in ((2., 3., 0.5), (np.float32(2), 3., 0.5), (1, 2, 0.5)):
        g, w = xsp.betainc(*args), jax_side(lambda *v: jsp.betainc(*v), *args)
        assert (g.dtype, g.weak_type) == (w.dtype, w.weak_type), args
    np.testing.assert_allclose(xf.vmap(xsp.betainc)(A[:4], B[:4], X[:4]),
                               [float(xsp.betainc(*t)) for t in zip(A[:4], B[:4], X[:4])], rtol=1e-6)


def test_betainc_float64_and_grads(x64):
    rng = np.random.default_rng(2)
    A, B, X = rng.uniform(0.1, 30, 200), rng.uniform(0.1, 30, 200), rng.uniform(0, 1, 200)
    np.testing.assert_allclose(xf.jit(xsp.betainc)(A, B, X), jax_side(lambda *v: jax.jit(jsp.betainc)(*v), A, B, X), rtol=1e-9, atol=1e-13)
    g = np.asarray(xf.vmap(xf.grad(xsp.betainc, argnums=2))(A[:20], B[:20], X[:20]))
    np.testing.assert_allclose(g, jax_side(lambda *v: jax.vmap(jax.grad(jsp.betainc, argnums=2))(*v), A[:20], B[:20], X[:20]), rtol=1e-9)
    np.testing.assert_allclose(g, _fd(lambda v: np.asarray(xsp.betainc(A[:20], B[:20], v)), X[:20]), rtol=1e-6,
                               atol=1e-9)
    for arg in (0, 1):
        with pytest.raises(ValueError, match="Betainc gradient with respect to a and b not supported"):
            xf.grad(xsp.betainc, argnums=arg)(2., 3., 0.5)
    assert float(xf.grad(xsp.betainc, argnums=2)(2., 3., 0.5)) == pytest.approx(1.5, rel=1e-12)
