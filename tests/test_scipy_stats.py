"""xlafront.scipy.stats against jax.scipy.stats: every distribution function's values,
dtypes and weak types, gradients (against JAX and finite differences in float64), vmap,
and multivariate_normal through the Cholesky factor."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.stats as xst
from jax_ref import jax_side


X = np.array([-2.5, -1., -0.3, 0., 0.3, 0.7, 1., 2.5, 7.], np.float32)
P = np.array([0., 1e-30, 1e-5, 0.01, 0.1, 0.5, 0.9, 0.999, 1.], np.float32)
K = np.array([-1, 0, 1, 2, 0, 1, 0.5, 1, 0], np.float32)

CASES = [
    ("norm", "logpdf", (X, 0.5, 2.)), ("norm", "pdf", (X,)), ("norm", "cdf", (X, 1., 2.)),
    ("norm", "logcdf", (X * 4,)), ("norm", "ppf", (P,)), ("norm", "sf", (X,)), ("norm", "logsf", (X * 4,)),
    ("norm", "isf", (P, 1., 3.)),
    ("bernoulli", "logpmf", (K, 0.3)), ("bernoulli", "pmf", (K, 0.3)), ("bernoulli", "cdf", (K, 0.3)),
    ("bernoulli", "ppf", (P, 0.3)),
    ("uniform", "logpdf", (X, -1., 2.)), ("uniform", "pdf", (X,)), ("uniform", "cdf", (X, -1., 2.)),
    ("uniform", "ppf", (P,)),
    ("expon", "logpdf", (X,)), ("expon", "pdf", (X, 0., 2.)), ("expon", "cdf", (X,)), ("expon", "logcdf", (X,)),
    ("expon", "sf", (X,)), ("expon", "logsf", (X,)), ("expon", "ppf", (P,)),
    ("laplace", "logpdf", (X,)), ("laplace", "pdf", (X,)), ("laplace", "cdf", (X, .5, 2.)),
    ("logistic", "logpdf", (X,)), ("logistic", "pdf", (X,)), ("logistic", "cdf", (X,)), ("logistic", "sf", (X,)),
    ("logistic", "ppf", (P,)), ("logistic", "isf", (P,)),
    ("beta", "logpdf", (P, 2., 3.)), ("beta", "pdf", (P, 2., 3.)), ("gamma", "logpdf", (X, 2.)),
    ("gamma", "pdf", (X, 2.5, 0., 2.)), ("poisson", "logpmf", (K, 2.)), ("poisson", "pmf", (K, 2.)),
    ("t", "logpdf", (X, 3.)), ("t", "pdf", (X, 3., 1., 2.)),
    ("cauchy", "logpdf", (X,)), ("cauchy", "pdf", (X,)), ("cauchy", "cdf", (X,)), ("cauchy", "logcdf", (X,)),
    ("cauchy", "sf", (X,)), ("cauchy", "logsf", (X,)), ("cauchy", "ppf", (P,)), ("cauchy", "isf", (P,)),
    ("chi2", "logpdf", (X, 3.)), ("chi2", "pdf", (X, 2.5, 0.5, 2.)), ("chi2", "logpdf", (X, 1.)),
    ("geom", "logpmf", (K, 0.3)), ("geom", "pmf", (K, 0.3, 1.)), ("geom", "logpmf", (K, 1.)),
]


def _fn(lib, dist, name):
    return getattr(getattr(lib, dist), name)


def _apply_all(lib, cases, arg_lists):
    return [_fn(lib, d, n)(*a) for (d, n, _), a in zip(cases, arg_lists)]


def test_values_match_jax():
    # every case in one jitted program per side (compiles are the cost of this file); the
    # Python-float parameters are weak-typed arguments, as under JAX
    arg_lists = [list(c[2]) for c in CASES]
    got = xf.jit(lambda al: _apply_all(xst, CASES, al))(arg_lists)
    want = jax_side(lambda al: jax.jit(lambda al: _apply_all(jst, CASES, al))(al), arg_lists)
    for (dist, name, _), g, w in zip(CASES, got, want):
        assert (g.dtype, g.shape, g.weak_type) == (w.dtype, w.shape, w.weak_type), f"{dist}.{name}"
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-6, atol=1e-7, equal_nan=True,
                                   err_msg=f"{dist}.{name}")


def test_eager_and_python_scalars():
    # op by op, with Python scalars: dtypes and weak types as JAX's
    for dist, name, args in [("norm", "logpdf", (0.3,)), ("norm", "cdf", (0.3, 1.)), ("norm", "ppf", (0.2,)),
                             ("bernoulli", "logpmf", (1., 0.3)), ("expon", "logpdf", (0.5,)),
                             ("norm", "logpdf", (X[:3], np.zeros((2, 1), np.float32), 2.))]:
        got, want = _fn(xst, dist, name)(*args), jax_side(lambda *a: _fn(jst, dist, name)(*a), *args)
        assert (got.dtype, got.shape, got.weak_type) == (want.dtype, want.shape, want.weak_type), (dist, name)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
    # integer data promote to the default float
    got, want = xst.poisson.logpmf(np.arange(4), 2.0), jax_side(lambda k: jst.poisson.logpmf(k, 2.0), np.arange(4))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)


GRAD_CASES = [
    ("norm", "logpdf", (0, 1, 2)), ("norm", "cdf", (0, 1, 2)), ("norm", "logcdf", (0,)), ("norm", "ppf", (0,)),
    ("norm", "logsf", (0,)), ("bernoulli", "logpmf", (1,)), ("expon", "logpdf", (0, 2)),
    ("laplace", "logpdf", (0, 2)), ("logistic", "logpdf", (0, 2)), ("beta", "logpdf", (0, 1, 2)),
    ("gamma", "logpdf", (0, 1)), ("poisson", "logpmf", (1,)), ("t", "logpdf", (0, 1, 3)), ("cauchy", "cdf", (0,)),
    ("chi2", "logpdf", (0, 1, 3)), ("chi2", "cdf", (0, 3)), ("chi2", "logsf", (0,)), ("geom", "logpmf", (1,)),
]
ARGS64 = {
    ("norm", "ppf"): (np.array([0.05, 0.3, 0.6, 0.97]),),
    ("expon", "logpdf"): (np.array([0.5, 0.9, 1.3, 3.]), 0.4, 1.7),
    ("bernoulli", "logpmf"): (np.array([0., 1., 1., 0.]), np.array([0.2, 0.4, 0.6, 0.8])),
    ("beta", "logpdf"): (np.array([0.1, 0.3, 0.6, 0.9]), np.array([1.5, 2., 3., 0.8]), np.array([2., 1.2, 3., 4.])),
    ("gamma", "logpdf"): (np.array([0.4, 1.3, 2.2, 5.]), np.array([1.5, 2., 3., 0.8])),
    ("poisson", "logpmf"): (np.array([0., 1., 3., 7.]), np.array([0.5, 1.5, 3., 6.])),
    ("t", "logpdf"): (np.array([-1.3, 0.2, 0.9, 3.]), np.array([1.5, 3., 5., 10.]), 0.3, 1.7),
    ("chi2", "logpdf"): (np.array([0.4, 1.3, 2.2, 5.]), np.array([1.5, 3., 4., 0.8]), 0.1, 1.7),
    ("chi2", "cdf"): (np.array([0.4, 1.3, 2.2, 5.]), 3., 0.1, 1.7),
    ("chi2", "logsf"): (np.array([0.4, 1.3, 2.2, 5.]), 2.5),
    ("geom", "logpmf"): (np.array([1., 2., 4., 7.]), np.array([0.2, 0.4, 0.6, 0.9])),
}


def test_grads_match_jax_and_finite_differences(x64):
    default = (np.array([-1.3, 0.2, 0.9, 3.]), 0.4, 1.7)
    cases = [(d, n, nums, [np.asarray(a, np.float64) for a in ARGS64.get((d, n), default)])
             for d, n, nums in GRAD_CASES]

    def grads(lib, np_, grad, arg_lists):
        return [grad(lambda *a, d=d, n=n: np_.sum(_fn(lib, d, n)(*a)), argnums=nums)(*al)
                for (d, n, nums, _), al in zip(cases, arg_lists)]
    arg_lists = [c[3] for c in cases]
    got = xf.jit(lambda al: grads(xst, xnp, xf.grad, al))(arg_lists)
    want = jax_side(lambda al: jax.jit(lambda al: grads(jst, jnp, jax.grad, al))(al), arg_lists)

    def jax_values(al):
        return [_fn(jst, d, n)(*a) for (d, n, _, _), a in zip(cases, al)]
    values = lambda al: jax_side(lambda al: jax.jit(jax_values)(al), al)  # noqa: E731 (one compile)
    eps = 1e-6
    for i in range(4):  # finite differences in argument i of every case that differentiates it
        hi = [[a + eps if k == i else a for k, a in enumerate(c[3])] for c in cases]
        lo = [[a - eps if k == i else a for k, a in enumerate(c[3])] for c in cases]
        with np.errstate(invalid="ignore"):  # (cases not differentiated in i may hold -inf)
            fds = [(np.asarray(h) - np.asarray(l)) / (2 * eps) for h, l in zip(values(hi), values(lo))]
        for (dist, name, nums, args), gs, ws, fd in zip(cases, got, want, fds):
            if i not in nums:
                continue
            g, w = gs[nums.index(i)], ws[nums.index(i)]
            msg = f"{dist}.{name} d/darg{i}"
            assert g.shape == w.shape and g.dtype == np.float64, msg
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=msg)
            np.testing.assert_allclose(g, fd if np.ndim(args[i]) else np.sum(fd), rtol=1e-5, atol=1e-7,
                                       err_msg=msg)


def test_vmap_matches_jax():
    xs = np.stack([X, X * 2, X - 1])
    loc = np.array([0., 1., -1.], np.float32)
    for dist, name in [("norm", "logpdf"), ("norm", "cdf"), ("logistic", "logpdf"), ("laplace", "cdf")]:
        got = xf.jit(xf.vmap(_fn(xst, dist, name), in_axes=(1, None)))(xs, loc[:, None][0])
        want = jax_side(lambda *a: jax.jit(jax.vmap(_fn(jst, dist, name), in_axes=(1, None)))(*a), xs, loc[:, None][0])
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{dist}.{name}")
    got = xf.vmap(xst.norm.logpdf)(xs, loc)
    np.testing.assert_allclose(got, jax_side(lambda *a: jax.vmap(jst.norm.logpdf)(*a), xs, loc), rtol=1e-6)
    got = xf.vmap(lambda p: xst.bernoulli.logpmf(K, p))(np.array([0.2, 0.7], np.float32))
    np.testing.assert_allclose(got, jax_side(lambda p: jax.vmap(lambda p: jst.bernoulli.logpmf(K, p))(p),
                                             np.array([0.2, 0.7], np.float32)))


# ----------------------------------------------------------------------------- multivariate normal

def _spd(n, rng):
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def test_multivariate_normal_values():
    rng = np.random.RandomState(0)
    n = 3
    cov = _spd(n, rng).astype(np.float32)
    mean = rng.normal(size=n).astype(np.float32)
    x1 = rng.normal(size=n).astype(np.float32)
    xb = rng.normal(size=(4, n)).astype(np.float32)
    covb = np.stack([_spd(n, rng) for _ in range(2)]).astype(np.float32)
    cases = [(x1, mean, cov), (xb, mean, cov), (xb[:, None], mean, covb), (x1, mean, 2.0),
             (xb[:, 0], 0.5, 2.0)]
    for k, args in enumerate(cases):
        # eager for the first case (op by op), jitted on both sides for the others
        got = (xst.multivariate_normal.logpdf if k == 0 else xf.jit(xst.multivariate_normal.logpdf))(*args)
        want = jax_side(lambda *a: jax.jit(jst.multivariate_normal.logpdf)(*a), *args)
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xf.jit(xst.multivariate_normal.pdf)(x1, mean, cov),
                               jax_side(lambda *a: jax.jit(jst.multivariate_normal.pdf)(*a), x1, mean, cov), rtol=1e-5)
    with pytest.raises(ValueError, match="incompatible shapes"):
        xst.multivariate_normal.logpdf(x1, mean, np.eye(2, dtype=np.float32))
    with pytest.raises(NotImplementedError):
        xst.multivariate_normal.logpdf(x1, mean, cov, allow_singular=True)
    assert xst.multivariate_normal.logpdf(x1, mean, cov).shape == ()


def test_multivariate_normal_grad_and_vmap(x64):
    rng = np.random.RandomState(1)
    n = 3
    cov = _spd(n, rng)
    mean = rng.normal(size=n)
    xb = rng.normal(size=(5, n))

    def xloss(m, c):
        return xnp.sum(xst.multivariate_normal.logpdf(xb, m, c))

    def jloss(m, c):
        return jnp.sum(jst.multivariate_normal.logpdf(xb, m, c))
    gm, gc = xf.jit(xf.grad(xloss, argnums=(0, 1)))(mean, cov)
    jm, jc = jax_side(lambda m, c: jax.jit(jax.grad(jloss, argnums=(0, 1)))(m, c), mean, cov)
    np.testing.assert_allclose(gm, jm, rtol=1e-9)
    np.testing.assert_allclose(gc, jc, rtol=1e-8, atol=1e-12)
    # finite differences in a symmetric direction of cov
    d = rng.normal(size=(n, n))
    d = d + d.T
    eps = 1e-6
    fd = jax_side(lambda m, c, d: (float(jax.jit(jloss)(m, c + eps * d)) - float(jax.jit(jloss)(m, c - eps * d)))
                  / (2 * eps), mean, cov, d)
    np.testing.assert_allclose(np.sum(np.asarray(gc) * d), fd, rtol=1e-6)
    got = xf.jit(xf.vmap(lambda v: xst.multivariate_normal.logpdf(v, mean, cov)))(xb)
    np.testing.assert_allclose(got, jax_side(lambda *a: jax.jit(jst.multivariate_normal.logpdf)(*a), xb, mean, cov), rtol=1e-10)


def test_gamma_and_poisson_cdfs_match_jax(x64):
    """gamma.cdf/sf/logcdf/logsf and poisson.cdf (on the incomplete gamma functions): values
    (with points outside the support, inf and nan), dtypes and weak types as JAX's; float32
    to the incomplete gamma's rounding, float64 tightly."""
    x = np.array([-1., 0., 0.5, 2., 7.5, np.inf, np.nan])
    k = np.array([-1., 0., 1.5, 2., 3., 9., np.inf])
    cases = [("gamma", "cdf", (x, 2.)), ("gamma", "cdf", (x, 0.7, 1., 3.)), ("gamma", "sf", (x, 2.5)),
             ("gamma", "logcdf", (x, 2.)), ("gamma", "logsf", (x, 3., 0.5, 2.)),
             ("poisson", "cdf", (k, 2.)), ("poisson", "cdf", (k, 3.5, 1.)), ("poisson", "cdf", (k, 0.)),
             ("chi2", "cdf", (x, 3.)), ("chi2", "cdf", (x, 1.5, 1., 3.)), ("chi2", "sf", (x, 4.)),
             ("chi2", "logcdf", (x, 2.)), ("chi2", "logsf", (x, 3., 0.5, 2.))]
    for dt, rtol in ((np.float32, 1e-5), (np.float64, 1e-10)):
        arg_lists = [[args[0].astype(dt), *args[1:]] for _, _, args in cases]
        got = xf.jit(lambda al: _apply_all(xst, cases, al))(arg_lists)   # one program per side
        want = jax_side(lambda al: jax.jit(lambda al: _apply_all(jst, cases, al))(al), arg_lists)
        for (dist, name, _), got, want in zip(cases, got, want):
            assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), (dist, name)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=rtol / 10,
                                       equal_nan=True, err_msg=f"{dist}.{name} {dt.__name__}")
    # Python scalars: a weak result, as JAX's
    for dist, name, args in [("gamma", "cdf", (1.0, 2.)), ("poisson", "cdf", (1, 2.)), ("chi2", "sf", (1.0, 2.)),
                             ("chi2", "logpdf", (1.0, 2.)), ("geom", "pmf", (2, 0.5))]:
        got, want = _fn(xst, dist, name)(*args), jax_side(lambda *a: _fn(jst, dist, name)(*a), *args)
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), (dist, name)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10)


def test_support_edges_match_jax():
    """At +-0, the ends of the support, inf and NaN: values (zero signs too) and gradients as
    JAX's (which runs compiled): gamma.cdf / chi2.cdf have gradient 0 (not NaN) at x = inf and
    NaN (a clamp to [0, inf], whose derivative is 0 at its ends); expon.logpdf(-0) is +0 (-x,
    scipy's and JAX's compiled value), eagerly and under jit."""
    x = np.array([-np.inf, -1., -0., 0., np.finfo(np.float32).tiny, 0.5, 1., 3., 1e10, np.inf, np.nan], np.float32)
    fns = [("gamma", "cdf", (2.,)), ("gamma", "sf", (2.,)), ("chi2", "cdf", (3.,)), ("chi2", "sf", (3.,)),
           ("chi2", "logpdf", (3.,)), ("chi2", "pdf", (2.,)), ("expon", "logpdf", ()), ("expon", "pdf", ()),
           ("geom", "logpmf", (0.3,))]
    for dist, name, rest in fns:
        what = f"{dist}.{name}"
        want = np.asarray(jax_side(lambda x: jax.jit(lambda v: _fn(jst, dist, name)(v, *rest))(x), x))
        for got in (_fn(xst, dist, name)(x, *rest), xf.jit(lambda v: _fn(xst, dist, name)(v, *rest))(x)):
            got = np.asarray(got)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=0, equal_nan=True, err_msg=what)
            np.testing.assert_array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]), err_msg=what)
        gw = np.asarray(jax_side(lambda x: jax.jit(jax.grad(lambda v: jnp.sum(_fn(jst, dist, name)(v, *rest))))(x), x))
        gx = np.asarray(xf.jit(xf.grad(lambda v: xnp.sum(_fn(xst, dist, name)(v, *rest))))(x))
        np.testing.assert_allclose(gx, gw, rtol=1e-5, atol=0, equal_nan=True, err_msg=what + " grad")
