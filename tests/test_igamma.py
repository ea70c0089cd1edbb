"""The regularized incomplete gamma functions (lax.igamma, igammac, igamma_grad_a,
random_gamma_grad; scipy.special.gammainc, gammaincc) against jax.lax / jax.scipy.special
and scipy.special, and the reparameterization gradients of the gamma-family samplers
(gamma, loggamma, beta, dirichlet, ...) against jax.grad and finite differences of the
inverse CDF: values, edge cases, dtypes and weak types, derivatives, vmap, jit, bad input."""
import numpy as np
import pytest
import scipy.special as ss

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.special as xsp
from xlafront import lax
from jax_ref import jax_side

NAMES = ["igamma", "igammac", "igamma_grad_a", "random_gamma_grad"]

A = np.array([1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1., 1.5, 2., 3., 5., 10., 30., 100., 300., 1e3])
X = np.array([0., 1e-3, 0.01, 0.1, 0.3, 0.5, 0.9, 1., 1.1, 2., 3., 5., 10., 30., 100., 300., 1e3])
GRID_A, GRID_X = [v.ravel() for v in np.meshgrid(A, X, indexing="ij")]

# the edge cases: a <= 0, x < 0, x = 0, tiny x, x = inf, a = inf, nan
EDGE_A = np.array([-1., 0., 1e-3, 0.5, 1., 2., 100., np.inf, np.nan])
EDGE_X = np.array([-1., 0., 1e-30, 0.5, 1., 3., 1e3, 1e5, np.inf, np.nan])
EDGE_GRID_A, EDGE_GRID_X = [v.ravel() for v in np.meshgrid(EDGE_A, EDGE_X, indexing="ij")]


def _truth(name, a, x):
    """float64 reference: scipy for P and Q, JAX's float64 for the derivatives (which agree
    with finite differences of scipy's P; see test_derivatives_match_finite_differences)."""
    if name == "igamma":
        return ss.gammainc(a, x)
    if name == "igammac":
        return ss.gammaincc(a, x)
    return jax_side(lambda name, a, x: np.asarray(getattr(jax.lax, name)(a, x)), name, a, x)


def _rel_err(v, ref):
    return np.abs(np.asarray(v, np.float64) - ref) / np.abs(ref)


# ----------------------------------------------------------------------------- values
def test_float64_values_match_scipy_and_jax(x64):
    for name in NAMES:
        got = np.asarray(xf.jit(getattr(lax, name))(GRID_A, GRID_X))
        want = np.asarray(jax_side(lambda name, a, x: jax.jit(getattr(jax.lax, name))(a, x), name, GRID_A, GRID_X))
        assert got.dtype == np.float64
        ref = _truth(name, GRID_A, GRID_X)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300, err_msg=name)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300, err_msg=name)


def test_float32_values_as_accurate_as_jax(x64):
    # float32: where JAX's float32 is within 1e-6 of the float64 truth, ours agrees with JAX to
    # 1e-5; everywhere ours is at most twice JAX's error (+1e-5): at large a both lose digits
    # in a log x - x - lgamma(a) (JAX: 3e-4 relative at a = x = 1000), and the sample
    # derivative in the far tails more (JAX: 0.33 at a = 1000, x = 300).
    a32, x32 = GRID_A.astype(np.float32), GRID_X.astype(np.float32)
    a64, x64_ = a32.astype(np.float64), x32.astype(np.float64)
    for name in NAMES:
        got = xf.jit(getattr(lax, name))(a32, x32)
        want = np.asarray(jax_side(lambda name, a, x: jax.jit(getattr(jax.lax, name))(a, x), name, a32, x32), np.float64)
        assert got.dtype == np.float32 and not got.weak_type
        ref = _truth(name, a64, x64_)
        m = np.abs(ref) > 1e-30
        err, jax_err = _rel_err(np.asarray(got)[m], ref[m]), _rel_err(want[m], ref[m])
        assert np.all(err <= 2 * jax_err + 1e-5), (name, np.max(err - 2 * jax_err))
        good = jax_err <= 1e-6
        assert good.mean() > 0.6, name
        np.testing.assert_allclose(np.asarray(got, np.float64)[m][good], want[m][good], rtol=1e-5,
                                   err_msg=name)
        # and zero where the reference is (0, or underflowed): tiny in ours too
        assert np.all(np.abs(np.asarray(got, np.float64)[~m]) < 1e-29), name


def test_igammac_is_accurate_where_p_is_near_one(x64):
    # small a, x <= 1: P is near 1; Q must not be computed as 1 - P (JAX's float32 loses up to
    # 2.8e-3 relative there, its float64 3.6e-12)
    a = np.array([1e-3, 3e-3, 0.01, 0.05, 0.2, 1e-3, 0.01, 1e-3])
    x = np.array([0.9, 0.5, 0.3, 0.1, 0.9, 1e-3, 0.99, 0.2])
    ref = ss.gammaincc(a, x)
    assert np.all(ref < 0.5)
    np.testing.assert_allclose(lax.igammac(a, x), ref, rtol=5e-14)
    np.testing.assert_allclose(lax.igammac(a.astype(np.float32), x.astype(np.float32)),
                               ss.gammaincc(a.astype(np.float32), x.astype(np.float32)), rtol=1e-6)
    np.testing.assert_allclose(xsp.gammaincc(a, x), ref, rtol=5e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edge_cases_match_jax(x64, dtype):
    a, x = EDGE_GRID_A.astype(dtype), EDGE_GRID_X.astype(dtype)
    for name in NAMES:
        got = np.asarray(getattr(lax, name)(a, x))
        want = np.asarray(jax_side(lambda name, a, x: getattr(jax.lax, name)(a, x), name, a, x))
        same = np.isclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=0, equal_nan=True)
        if name == "igamma":
            # Where JAX and we differ on purpose: P(0, x) = 1 for x > 0 (the limit a -> 0+,
            # scipy's value, and 1 - igammac(0, x) of JAX's own igammac); JAX gives nan for 0 < x < 1.
            odd = (a == 0) & (x > 0) & (x < 1)
            assert np.all(np.isnan(want[odd])) and np.all(got[odd] == 1)
            assert np.all(ss.gammainc(a[odd], x[odd]) == 1)
            same |= odd
        if name == "igammac":
            # where JAX computes 1 - P with P near 1 (small a, x < 1) ours is closer to scipy's
            ref = ss.gammaincc(a.astype(np.float64), x.astype(np.float64))
            closer = np.abs(got - ref) <= np.abs(want.astype(np.float64) - ref)
            same |= closer & np.isclose(got, ref, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=0)
        bad = [(float(ai), float(xi), g, w) for ai, xi, g, w, s in zip(a, x, got, want, same) if not s]
        assert not bad, (name, bad)
    # the documented special values themselves, as jax.lax
    p = np.asarray(lax.igamma(np.array([2., 2., 2., -1., 2., np.nan], dtype), np.array([0., np.inf, -1., 1., np.nan, 1.], dtype)))
    np.testing.assert_array_equal(p, np.array([0., 1., np.nan, np.nan, np.nan, np.nan], dtype))
    q = np.asarray(lax.igammac(np.array([2., 2., 0., 0.], dtype), np.array([0., np.inf, 1., 0.], dtype)))
    np.testing.assert_array_equal(q, np.array([1., 0., 0., np.nan], dtype))


def test_dtypes_and_weak_types_match_jax():
    # dtype, shape and weak type from abstract evaluation (no compiles), values for two cases
    cases = [(2.0, 1.0), (np.float32(2), 1.0), (np.float32(2), np.ones(3, np.float32)),
             (np.ones(3, np.float32), 2.0), (np.full((2, 3), 2, np.float16), np.float16(1.5)),
             (np.ones(3, jnp.bfloat16), np.ones(3, jnp.bfloat16))]
    for name in NAMES:
        for args in cases:
            if name == "random_gamma_grad" and any(isinstance(v, float) for v in args):
                continue  # (jax.lax.random_gamma_grad needs arrays; ours takes scalars as igamma does)
            got = xf.eval_shape(getattr(lax, name), *args)
            want = jax.eval_shape(getattr(jax.lax, name), *args)
            assert (got.dtype, got.shape, got.weak_type) == (want.dtype, want.shape, want.weak_type), (name, args)
        got = getattr(lax, name)(np.float32(2), np.float32(1))
        want = jax_side(lambda name, a, x: getattr(jax.lax, name)(a, x), name, np.float32(2), np.float32(1))
        assert float(got) == pytest.approx(float(want), rel=1e-6)
    got = lax.igamma(2.0, 1.0)
    assert got.weak_type and float(got) == pytest.approx(ss.gammainc(2., 1.), rel=1e-7)
    # float16 and bfloat16: computed in float32, rounded once
    for dt, rtol in ((np.float16, 1e-3), (jnp.bfloat16, 8e-3)):
        got = lax.igammac(np.array([2., 0.5, 30.], dt), np.array([1., 3., 20.], dt))
        assert got.dtype == dt
        np.testing.assert_allclose(np.asarray(got, np.float32), ss.gammaincc([2., 0.5, 30.], [1., 3., 20.]), rtol=rtol)


def test_scipy_gammainc_promotes_as_jax():
    cases = [(2, 1), (2.0, 1), (np.float32(2), 1.0), (np.int32(2), 1), (np.ones(3, np.float32), 2),
             (np.full((3, 1), 2, np.float32), np.linspace(0.5, 3, 4, dtype=np.float32)), (np.float16(2), 1.0),
             (np.array([0.5, 5.]), np.float32(0.7))]
    for xfn, jfn, ref in ((xsp.gammainc, jsp.gammainc, ss.gammainc), (xsp.gammaincc, jsp.gammaincc, ss.gammaincc)):
        for args in cases:
            got, want = xfn(*args), jax_side(lambda *a: jfn(*a), *args)
            assert (got.dtype, got.shape, got.weak_type) == (want.dtype, want.shape, want.weak_type), args
            np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32),
                                       rtol=2e-3 if got.dtype == np.float16 else 2e-6, err_msg=str(args))
            np.testing.assert_allclose(np.asarray(got, np.float64),
                                       ref(*np.broadcast_arrays(*[np.asarray(v, np.float64) for v in args])),
                                       rtol=2e-3 if got.dtype == np.float16 else 2e-6)


def test_scipy_gammainc_float64(x64):
    a, x = GRID_A, GRID_X
    np.testing.assert_allclose(xsp.gammainc(a, x), ss.gammainc(a, x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(xsp.gammaincc(a, x), ss.gammaincc(a, x), rtol=1e-12, atol=1e-300)
    got = xsp.gammainc(3, 2)
    assert got.dtype == np.float64 and got.weak_type
    assert float(got) == pytest.approx(ss.gammainc(3, 2), rel=1e-14)


# ----------------------------------------------------------------------------- derivatives (float64)
DA = np.array([0.05, 0.3, 0.8, 1.7, 2.5, 4., 12., 40., 150.])
DX = np.array([0.02, 0.6, 1.3, 0.9, 6., 3.5, 9., 47., 140.])  # both methods, both sides of a


def _fd(f, args, argnum, rel=1e-5):
    """Fourth-order central differences of an elementwise f in one argument (relative step)."""
    args = [np.asarray(v, np.float64) for v in args]
    h = rel * args[argnum]

    def at(k):
        a = list(args)
        a[argnum] = args[argnum] + k * h
        return np.asarray(f(*a))
    return (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)


def test_derivatives_match_finite_differences(x64):
    # d/da and d/dx of P and Q (and of dP/da: the second derivatives) against differences of
    # the values; dP/da also against differences of scipy's P
    for name in ("igamma", "igammac", "igamma_grad_a"):
        f = getattr(lax, name)
        for argnum in (0, 1):
            got = xf.vmap(xf.grad(f, argnum))(DA, DX)
            np.testing.assert_allclose(got, _fd(f, (DA, DX), argnum), rtol=2e-7, atol=1e-13,
                                       err_msg=f"{name} d/darg{argnum}")
    np.testing.assert_allclose(lax.igamma_grad_a(DA, DX), _fd(ss.gammainc, (DA, DX), 0), rtol=1e-7)
    # the sample derivative: -dP/da / density, and the x-derivative is the density
    dens = np.exp((DA - 1) * np.log(DX) - DX - ss.gammaln(DA))
    np.testing.assert_allclose(lax.random_gamma_grad(DA, DX), -_fd(ss.gammainc, (DA, DX), 0) / dens, rtol=1e-7)
    np.testing.assert_allclose(xf.vmap(xf.grad(lax.igamma, 1))(DA, DX), dens, rtol=1e-12)


def test_grads_match_jax(x64):
    for name in ("igamma", "igammac"):
        for argnum in (0, 1):
            got = xf.jit(xf.vmap(xf.grad(getattr(lax, name), argnum)))(DA, DX)
            want = jax_side(lambda name, argnum, a, x: jax.jit(jax.vmap(jax.grad(getattr(jax.lax, name), argnum)))(a, x),
                            name, argnum, DA, DX)
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{name} {argnum}")
        # jvp with both tangents
        t = (np.linspace(0.5, 1.5, len(DA)), np.linspace(-1, 1, len(DA)))
        p, tout = xf.jvp(getattr(lax, name), (DA, DX), t)
        jp, jt = jax_side(lambda name, p, t: jax.jvp(getattr(jax.lax, name), p, t), name, (DA, DX), t)
        np.testing.assert_allclose(p, jp, rtol=1e-12)
        np.testing.assert_allclose(tout, jt, rtol=1e-11, atol=1e-300)
    # second derivatives where JAX has them (x then a, x then x), and the x-derivatives at x = 0
    for i, j in ((1, 0), (1, 1)):
        got = xf.vmap(xf.grad(xf.grad(lax.igamma, i), j))(DA, DX)
        want = jax_side(lambda i, j, a, x: jax.vmap(jax.grad(jax.grad(jax.lax.igamma, i), j))(a, x), i, j, DA, DX)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300, err_msg=f"{i}{j}")
    a0, x0 = np.array([1., 0.5, 2., 2., 0.]), np.array([0., 0., 0., np.inf, 1.])
    for argnum in (0, 1):
        got = np.asarray(xf.vmap(xf.grad(lax.igamma, argnum))(a0, x0))
        want = np.asarray(jax_side(lambda argnum, a, x: jax.vmap(jax.grad(jax.lax.igamma, argnum))(a, x), argnum, a0, x0))
        np.testing.assert_array_equal(got, want)
    # under jit, eager and jitted agree
    g = xf.grad(lambda a, x: lax.igamma(a, x).sum(), (0, 1))
    for u, v in zip(g(DA, DX), xf.jit(g)(DA, DX)):
        np.testing.assert_allclose(u, v, rtol=1e-13)


def test_hessian_and_third_derivative(x64):
    # beyond JAX (which does not differentiate igamma_grad_a): the a-a second derivative
    # comes from the second-order recurrences, the third from forward mode through them
    h = xf.vmap(xf.hessian(lax.igamma, (0, 1)))(DA, DX)
    da_da = _fd(lambda a, x: np.asarray(xf.vmap(xf.grad(lax.igamma, 0))(a, x)), (DA, DX), 0)
    np.testing.assert_allclose(h[0][0], da_da, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(h[0][1], h[1][0], rtol=1e-12)
    d3 = xf.vmap(xf.grad(xf.grad(xf.grad(lax.igamma, 0), 0), 0))(DA, DX)
    np.testing.assert_allclose(d3, _fd(lambda a, x: np.asarray(xf.vmap(xf.grad(xf.grad(lax.igamma, 0), 0))(a, x)),
                                       (DA, DX), 0), rtol=1e-5, atol=1e-11)
    d3x = xf.vmap(xf.grad(xf.grad(xf.grad(lax.igamma, 1), 1), 1))(DA, DX)
    np.testing.assert_allclose(d3x, jax_side(lambda a, x: jax.vmap(jax.grad(jax.grad(jax.grad(jax.lax.igamma, 1), 1), 1))(a, x),
                                             DA, DX),
                               rtol=1e-10, atol=1e-300)


def test_random_gamma_grad_is_not_differentiable_as_in_jax():
    with pytest.raises(NotImplementedError, match="random_gamma_grad"):
        xf.grad(lax.random_gamma_grad)(2.0, 1.0)
    assert float(lax.random_gamma_grad(2.0, 1.0)) == pytest.approx(float(jax_side(lambda: jax.lax.random_gamma_grad(
        jnp.float32(2), jnp.float32(1)))), rel=1e-6)


# ----------------------------------------------------------------------------- vmap, jit
def test_vmap_matches_loop():
    a = np.array([[0.2, 1.5, 7.], [0.9, 3., 40.]], np.float32)
    x = np.array([[0.1, 2., 5.], [1.4, 0.3, 45.]], np.float32)
    for name in NAMES:
        f = getattr(lax, name)
        loop = np.stack([np.asarray(f(a[i], x[i])) for i in range(2)])
        np.testing.assert_allclose(xf.vmap(f)(a, x), loop, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(xf.vmap(f, in_axes=(1, 1), out_axes=1)(a, x), loop, rtol=1e-6, err_msg=name)
    loop = np.stack([np.asarray(lax.igamma(a[i], x[0])) for i in range(2)])
    np.testing.assert_allclose(xf.vmap(lax.igamma, in_axes=(0, None))(a, x[0]), loop, rtol=1e-6)
    # nested, over gammaincc's scalar lanes; and vmap of grad against per-lane grads
    got = xf.vmap(xf.vmap(xsp.gammaincc))(a, x)
    np.testing.assert_allclose(got, np.stack([np.asarray(xsp.gammaincc(a[i], x[i])) for i in range(2)]), rtol=1e-6)
    got = xf.vmap(xf.grad(xsp.gammainc, (0, 1)))(a[0], x[0])
    for k in range(3):
        ga, gx = xf.grad(xsp.gammainc, (0, 1))(a[0, k], x[0, k])
        np.testing.assert_allclose([got[0][k], got[1][k]], [ga, gx], rtol=1e-6)


def test_jit_matches_eager_and_empty_and_scalar_shapes():
    a = np.array([0.2, 1.5, 7., 300.], np.float32)
    x = np.array([0.1, 2., 5., 290.], np.float32)
    for name in NAMES:
        f = getattr(lax, name)
        np.testing.assert_allclose(xf.jit(f)(a, x), f(a, x), rtol=1e-6, err_msg=name)
        e = f(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
        assert e.shape == (0, 3) and e.dtype == np.float32
        s = f(np.float32(1.5), x)  # rank 0 against an array broadcasts, as lax
        assert s.shape == (4,)
        np.testing.assert_allclose(s, f(np.full(4, 1.5, np.float32), x), rtol=1e-7)


# ----------------------------------------------------------------------------- samplers' gradients
KEY_SEEDS = [0, 11]


def _per_sample_grad(lib, name, key, alpha, dtype):
    """d sample_i / d alpha_i (each draw depends only on its own alpha)."""
    return lib.grad(lambda al: getattr(lib.random, name)(key, al, dtype=dtype).sum())(alpha)


@pytest.mark.parametrize("name", ["gamma", "loggamma"])
def test_gamma_sample_grads_match_jax(name):
    alpha = np.array([1e-3, 0.05, 0.3, 0.9, 1., 2.5, 10., 150.], np.float32)
    jitted = xf.jit(lambda al, k: _per_sample_grad(xf, name, k, al, xnp.float32))
    for seed in KEY_SEEDS:
        k, kj = xf.random.PRNGKey(seed), jax.random.PRNGKey(seed)
        s, sj = getattr(xf.random, name)(k, alpha), getattr(jax.random, name)(kj, alpha)
        np.testing.assert_array_equal(np.asarray(s), np.asarray(sj))  # the same samples, bit for bit
        want = _per_sample_grad(jax, name, kj, alpha, jnp.float32)
        got = _per_sample_grad(xf, name, k, alpha, xnp.float32)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-30, err_msg=f"{name} seed {seed}")
        np.testing.assert_allclose(jitted(alpha, k), want, rtol=2e-5, atol=1e-30, err_msg=f"{name} seed {seed} jit")
    # a scalar alpha broadcast over a shape: the gradient sums the draws'
    g = xf.grad(lambda al: getattr(xf.random, name)(xf.random.PRNGKey(1), al, (4,)).sum())(2.0)
    gj = jax.grad(lambda al: getattr(jax.random, name)(jax.random.PRNGKey(1), al, (4,)).sum())(2.0)
    assert g.weak_type == gj.weak_type
    assert float(g) == pytest.approx(float(gj), rel=2e-5)


def test_gamma_sample_grads_match_inverse_cdf_differences(x64):
    # implicit reparameterization: the draw's quantile u = P(alpha, x) stays fixed, so
    # dx/dalpha = d/dalpha P^-1(alpha, u): differences of scipy's gammaincinv in float64
    alpha = np.array([0.02, 0.3, 0.9, 1., 2.5, 10., 150.])
    for seed in KEY_SEEDS:
        k, kj = xf.random.PRNGKey(seed), jax.random.PRNGKey(seed)
        x = np.asarray(xf.random.gamma(k, alpha, dtype=xnp.float64))
        u = ss.gammainc(alpha, x)
        h = 1e-5 * alpha
        fd = (ss.gammaincinv(alpha + h, u) - ss.gammaincinv(alpha - h, u)) / (2 * h)
        got = np.asarray(_per_sample_grad(xf, "gamma", k, alpha, xnp.float64))
        np.testing.assert_allclose(got, fd, rtol=1e-6, err_msg=f"seed {seed}")
        np.testing.assert_allclose(got, _per_sample_grad(jax, "gamma", kj, alpha, jnp.float64), rtol=1e-10)
        lg = np.asarray(_per_sample_grad(xf, "loggamma", k, alpha, xnp.float64))
        np.testing.assert_allclose(lg, fd / x, rtol=1e-6, err_msg=f"loggamma seed {seed}")
        np.testing.assert_allclose(lg, _per_sample_grad(jax, "loggamma", kj, alpha, jnp.float64), rtol=1e-10)


def _beta_grads(lib, np_, k, a, b):
    return lib.grad(lambda a, b: (lib.random.beta(k, a, b) * np_.arange(1., 4.)).sum(), (0, 1))(a, b)


def test_beta_and_dirichlet_grads_match_jax():
    a, b = np.array([0.5, 2., 7.], np.float32), np.array([3., 0.2, 7.], np.float32)
    alpha = np.array([[0.5, 1., 3.], [0.1, 4., 20.]], np.float32)
    beta_jit = xf.jit(lambda k, a, b: _beta_grads(xf, xnp, k, a, b))
    dirichlet_jit = xf.jit(lambda k, al: xf.jacobian(lambda al: xf.random.dirichlet(k, al))(al))
    for seed in KEY_SEEDS:
        k, kj = xf.random.PRNGKey(seed), jax.random.PRNGKey(seed)
        want = _beta_grads(jax, jnp, kj, a, b)
        for g, j, w in zip(_beta_grads(xf, xnp, k, a, b), beta_jit(k, a, b), want):
            np.testing.assert_allclose(g, w, rtol=5e-5, atol=1e-6)
            np.testing.assert_allclose(j, w, rtol=5e-5, atol=1e-6)
        got = xf.jacobian(lambda al: xf.random.dirichlet(k, al))(alpha)
        want = jax.jacobian(lambda al: jax.random.dirichlet(kj, al))(alpha)
        np.testing.assert_allclose(got, want, rtol=5e-5, atol=1e-6)
        np.testing.assert_allclose(dirichlet_jit(k, alpha), want, rtol=5e-5, atol=1e-6)


def test_beta_and_dirichlet_grads_float64(x64):
    k, kj = xf.random.PRNGKey(5), jax.random.PRNGKey(5)
    a, b = np.array([0.5, 2., 7.]), np.array([3., 0.2, 7.])
    got = xf.grad(lambda a, b: xf.random.beta(k, a, b, dtype=xnp.float64).sum(), (0, 1))(a, b)
    want = jax.grad(lambda a, b: jax.random.beta(kj, a, b, dtype=jnp.float64).sum(), (0, 1))(a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    # a Beta(a, b) draw is Ga / (Ga + Gb) of two gamma draws: its derivative is the chain rule
    # of the gammas' implicit derivatives, which test_gamma_sample_grads_match_inverse_cdf_differences checks
    alpha = np.array([0.3, 1., 2.5])
    got = xf.jacobian(lambda al: xf.random.dirichlet(k, al, dtype=xnp.float64))(alpha)
    want = jax.jacobian(lambda al: jax.random.dirichlet(kj, al, dtype=jnp.float64))(alpha)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.asarray(got).sum(0), 0, atol=1e-12)  # the draw stays on the simplex


def test_other_gamma_based_samplers_differentiate_as_jax():
    k, kj = xf.random.PRNGKey(2), jax.random.PRNGKey(2)
    for name, args in [("chisquare", (3.0,)), ("t", (3.0,)), ("generalized_normal", (1.5,))]:
        argnums = tuple(range(len(args)))
        got = xf.grad(lambda *p: getattr(xf.random, name)(k, *p, shape=(4,)).sum(), argnums)(*args)
        want = jax.grad(lambda *p: getattr(jax.random, name)(kj, *p, shape=(4,)).sum(), argnums)(*args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=5e-5, atol=1e-6, err_msg=name)


def test_gamma_grad_under_vmap_and_jvp_and_key_has_no_tangent():
    k, kj = xf.random.PRNGKey(4), jax.random.PRNGKey(4)
    alpha = np.array([0.5, 2., 7.], np.float32)
    got = xf.vmap(xf.grad(lambda a: xf.random.gamma(k, a)))(alpha)
    want = jax.vmap(jax.grad(lambda a: jax.random.gamma(kj, a)))(alpha)
    np.testing.assert_allclose(got, want, rtol=2e-5)
    loop = [float(xf.grad(lambda a: xf.random.gamma(k, a))(alpha[i])) for i in range(3)]
    np.testing.assert_allclose(got, loop, rtol=1e-6)
    keys = xf.random.split(k, 3)
    got = xf.vmap(lambda key, a: xf.grad(lambda a: xf.random.gamma(key, a))(a))(keys, alpha)
    want = jax.vmap(lambda key, a: jax.grad(lambda a: jax.random.gamma(key, a))(a))(jax.random.split(kj, 3), alpha)
    np.testing.assert_allclose(got, want, rtol=2e-5)
    p, t = xf.jvp(lambda a: xf.random.gamma(k, a), (alpha,), (np.ones(3, np.float32),))
    jp, jt = jax.jvp(lambda a: jax.random.gamma(kj, a), (alpha,), (np.ones(3, np.float32),))
    np.testing.assert_array_equal(np.asarray(p), np.asarray(jp))
    np.testing.assert_allclose(t, jt, rtol=2e-5)
    # the key's tangent is float0, as JAX's
    f0 = np.zeros((2,), jax.dtypes.float0)
    p, t = xf.jvp(lambda key, a: xf.random.gamma(key, a), (k, alpha), (f0, np.ones(3, np.float32)))
    np.testing.assert_allclose(t, jt, rtol=2e-5)
    # float16 in log space (an underflowing exp(log sample) is raised to the dtype's tiny)
    a16 = np.array([1e-3, 0.5, 2.], np.float16)
    got = xf.grad(lambda a: xf.random.loggamma(k, a, dtype=xnp.float16).sum())(a16)
    want = jax.grad(lambda a: jax.random.loggamma(kj, a, dtype=jnp.float16).sum())(a16)
    assert got.dtype == np.float16
    np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32), rtol=2e-3)
    # differentiating with respect to the key is an error for a raw uint32 key, as in JAX
    with pytest.raises(TypeError):
        xf.grad(lambda key: xf.random.gamma(key, 2.0))(k)
    assert xf.grad(lambda a: xf.random.gamma(k, a, (0,)).sum())(2.0) == 0.0


# ----------------------------------------------------------------------------- bad input
def test_bad_input_names_the_call_site_and_next_call_works():
    here = __file__.rsplit("/", 1)[-1]
    for name in NAMES:
        f = getattr(lax, name)
        with pytest.raises(TypeError, match=rf"{name}.*{here}:\d+"):
            f("a", 1.0)
        with pytest.raises(TypeError, match=rf"does not accept dtype int32 at position 0.*{here}"):
            f(np.int32(2), np.float32(1))
        with pytest.raises(TypeError, match=rf"incompatible shapes.*{here}"):
            f(np.ones(3, np.float32), np.ones(2, np.float32))
        with pytest.raises(TypeError, match=rf"same number of dimensions.*{here}"):
            f(np.ones((3, 1), np.float32), np.ones(2, np.float32))
        with pytest.raises(TypeError, match=here):
            f([1.0, 2.0], 1.0)
        assert float(f(np.float32(2), np.float32(1))) == pytest.approx(
            float(jax_side(lambda name, a, x: getattr(jax.lax, name)(a, x), name, np.float32(2), np.float32(1))), rel=1e-6)
    for fn in (xsp.gammainc, xsp.gammaincc):
        with pytest.raises(TypeError, match=here):
            fn("a", 1.0)
        with pytest.raises(TypeError, match="does not accept dtype complex64"):
            fn(1 + 2j, 1.0)
        assert 0 < float(fn(2.0, 1.0)) < 1
    with pytest.raises(TypeError, match=rf"same dtypes, got float32, float16.*{here}"):
        xf.jit(lambda a, x: lax.igamma(a, x))(np.float32(1), np.float16(1))
    assert float(xf.jit(lax.igamma)(np.float32(2), np.float32(1))) == pytest.approx(ss.gammainc(2, 1), rel=1e-6)


def test_mixed_dtypes_raise_under_x64_as_jax(x64):
    here = __file__.rsplit("/", 1)[-1]
    with pytest.raises(TypeError, match=rf"same dtypes, got float32, float64.*{here}"):
        lax.igamma(np.float32(2), 1.0)  # (JAX too: lax's Python scalar is float64 under x64)
    with pytest.raises(TypeError):
        jax.lax.igamma(np.float32(2), 1.0)
    assert lax.igamma(2.0, 1.0).dtype == np.float64
