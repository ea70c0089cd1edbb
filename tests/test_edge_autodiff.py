"""Derivatives at edge points (+-0, +-inf, NaN, ties) against JAX.

Each test builds the same function from xlafront and from jax (`build(np_module, grad,
nn_module, lax_module)`) and compares values and derivatives in float32, NaNs included.
These are the targeted checks for jvp rules that used to make their zeros as `x * 0`
(NaN at +-inf / NaN), for logaddexp's derivative, for pow's derivative at x = 0 / +-inf,
and for quantiles between repeated infinities.
"""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.lax as jlax
import jax.nn as jnn

import xlafront as xf
import xlafront.lax as xlax
import xlafront.nn as xnn
import xlafront.numpy as xnp
from jax_ref import jax_side

inf, nan = np.inf, np.nan
PTS = [0., -0., 1., -1., inf, -inf, nan]
F32 = np.float32

JAX = (jnp, jax.grad, jnn, jlax)
XF = (xnp, xf.grad, xnn, xlax)


def _f32(a):
    return np.asarray(a, F32)


def check(build, *args, rtol=1e-5, atol=1e-6):
    """build(np, grad, nn, lax) -> f; f(*args) must agree between xlafront and JAX."""
    args = [_f32(a) for a in args]
    want = np.asarray(jax_side(lambda *a: build(*JAX)(*a), *args))
    got = np.asarray(build(*XF)(*args))
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


def check_jvp(build, primals, tangents):
    """jvp of f at (primals, tangents): primal and tangent outputs agree with jax.jvp."""
    primals = tuple(_f32(a) for a in primals)
    tangents = tuple(_f32(a) for a in tangents)
    wp, wt = jax_side(lambda p, t: jax.jvp(build(*JAX), p, t), primals, tangents)
    gp, gt = xf.jvp(build(*XF), primals, tangents)
    np.testing.assert_allclose(np.asarray(gp), np.asarray(wp), rtol=1e-5, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(np.asarray(gt), np.asarray(wt), rtol=1e-5, atol=1e-6, equal_nan=True)


def vmap_vs_loop(f, xs):
    xs = _f32(xs)
    got = np.asarray(xf.vmap(f)(xs))
    want = np.stack([np.asarray(f(x)) for x in xs])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


# ----------------------------------------------------------------------------- max / min / clamp
@pytest.mark.parametrize("x", PTS)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_against_zero(name, x):
    check(lambda m, g, n, l: lambda a: getattr(m, name)(a, 0.), x)
    check(lambda m, g, n, l: g(lambda a: getattr(m, name)(a, 0.)), x)
    check(lambda m, g, n, l: g(lambda b: getattr(m, name)(1., b)), x)
    check(lambda m, g, n, l: g(lambda a: getattr(m, name)(a, a)), x)   # a tie with itself
    check_jvp(lambda m, g, n, l: lambda a, b: getattr(m, name)(a, b), (x, 0.), (1., 2.))


@pytest.mark.parametrize("x", PTS)
def test_clip_and_clamp(x):
    check(lambda m, g, n, l: g(lambda a: m.clip(a, 0., 1.)), x)
    check(lambda m, g, n, l: g(lambda a: l.clamp(0., a, 1.)), x)
    check(lambda m, g, n, l: g(lambda lo: l.clamp(lo, 0.5, 1.)), x)
    check(lambda m, g, n, l: g(lambda hi: l.clamp(0., 0.5, hi)), x)
    check(lambda m, g, n, l: g(lambda a: m.sum(l.clamp(0., a, 1.)), ), [x, 0.5, x])
    check_jvp(lambda m, g, n, l: lambda a: l.clamp(-1., a, 1.), ([x, 0.5],), ([1., 1.],))


VECS = [[inf, 1., inf], [-inf, 1., -inf], [nan, 1., 2.], [1., 1., 0.], [inf, inf, inf],
        [-inf, -inf], [2., 2., 2.], [0., -0., 0.]]


def check_grad_jitted(f, v):
    """grad of f(np_module, lax_module) at v: xlafront's, eager and jitted, against JAX's
    jitted grad. JAX's eager grad of max/min is NaN everywhere when the extremum is NaN, its
    jitted one 0 (XLA rewrites the mask product to a select); xlafront gives 0 in both modes."""
    v = _f32(v)
    want = np.asarray(jax.jit(jax.grad(lambda x: f(jnp, jlax)(x)))(v))
    for got in (xf.grad(lambda x: f(xnp, xlax)(x))(v), xf.jit(xf.grad(lambda x: f(xnp, xlax)(x)))(v)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("v", VECS, ids=str)
def test_reductions_that_choose(v):
    for red in ("max", "min", "nanmax", "nanmin", "ptp"):
        check(lambda m, g, n, l: lambda x: getattr(m, red)(x), v)
        check_grad_jitted(lambda m, l: getattr(m, red), v)
    check_grad_jitted(lambda m, l: lambda x: l.reduce_max(x, (0,)), v)
    check_grad_jitted(lambda m, l: lambda x: l.reduce_min(x, (0,)), v)
    check_grad_jitted(lambda m, l: lambda x: m.linalg.norm(x, ord=m.inf), v)
    check_grad_jitted(lambda m, l: lambda x: m.linalg.norm(x, ord=-m.inf), v)
    check_jvp(lambda m, g, n, l: lambda x: m.max(x), (v,), (np.arange(len(v)) + 1.,))


def test_max_grad_splits_between_infinities():
    # the example: the two +inf share the derivative, 1 gets none
    g = xf.grad(lambda x: xnp.max(x))(xnp.array([inf, 1., inf], xnp.float32))
    np.testing.assert_array_equal(np.asarray(g), [0.5, 0., 0.5])
    assert float(xf.grad(lambda x: xnp.maximum(x, 0.))(F32(inf))) == 1.
    assert float(xf.grad(lambda x: xnp.clip(x, 0., 1.))(F32(nan))) == 0.


@pytest.mark.parametrize("v", VECS + [[1., 2., 2., 2., 0.], [inf, -inf, inf, nan, inf]], ids=str)
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_choosers_and_products(v, reverse):
    for op in ("cummax", "cummin", "cumprod", "cumsum"):
        check(lambda m, g, n, l: lambda x: getattr(l, op)(x, reverse=reverse), v)
        check(lambda m, g, n, l: g(lambda x: m.sum(getattr(l, op)(x, reverse=reverse))), v)
        # one output at a time (the full Jacobian, row by row)
        for i in range(len(v)):
            check(lambda m, g, n, l: g(lambda x: getattr(l, op)(x, reverse=reverse)[i]), v)


@pytest.mark.parametrize("v", [[-inf, 1., -inf], [inf, inf, inf], [nan, 1., 2.], [-inf, -inf],
                               [1., 1., 1.], [0., -inf, 3., 3.], [-inf, -inf, 0.]], ids=str)
def test_cumlogsumexp(v):
    for reverse in (False, True):
        check(lambda m, g, n, l: lambda x: l.cumlogsumexp(x, reverse=reverse), v)
        check(lambda m, g, n, l: g(lambda x: m.sum(l.cumlogsumexp(x, reverse=reverse))), v)


def test_cumlogsumexp_finite_before_posinf_has_zero_derivative():
    # d/dx1 of logaddexp(x0, x1) is 0 once x0 = +inf; JAX's rule gives exp(x1) there
    # (docs/differences.md). The second output is +inf whatever x1 is.
    g = xf.grad(lambda x: xlax.cumlogsumexp(x)[1])(xnp.array([inf, 1.], xnp.float32))
    np.testing.assert_array_equal(np.asarray(g), [1., 0.])


def test_cummax_vmap_matches_loop():
    f = xf.grad(lambda x: xnp.sum(xlax.cummax(x)))
    vmap_vs_loop(f, [[inf, 1., inf], [2., 2., 2.], [nan, 1., 2.], [-inf, -inf, 3.]])


# ----------------------------------------------------------------------------- scatter max / mul
@pytest.mark.parametrize("v", [[inf, 1., inf], [-inf, 1., -inf], [nan, 1., 2.], [inf, inf, inf],
                               [0., 0., 1.]], ids=str)
def test_scatter_max_min_grads(v):
    idx = [0, 0, 1]
    for op in ("max", "min"):
        check(lambda m, g, n, l: g(lambda u: m.sum(getattr(m.zeros(2).at[m.array(idx)], op)(u))), v)
        check(lambda m, g, n, l: g(lambda x: m.sum(getattr(x.at[m.array([0, 1])], op)(m.array([1., 1.])))), v)


def test_scatter_max_nan_outside_the_indices_keeps_its_tangent():
    f = lambda m, g, n, l: g(lambda x: m.sum(x.at[m.array([1])].max(m.array([1.]))))
    check(f, [nan, 1., 0.])


@pytest.mark.parametrize("v", [[inf, 1., inf], [nan, 1., 2.], [0., 0., 1.], [-inf, 0., 1.]], ids=str)
def test_scatter_mul_unique_grads(v):
    idx = [0, 2, 1]
    check(lambda m, g, n, l: g(lambda u: m.sum(m.ones(3).at[m.array(idx)].multiply(u, unique_indices=True))), v)
    check(lambda m, g, n, l: g(lambda x: m.sum(x.at[m.array(idx)].multiply(m.array([2., 0., 3.]),
                                                                           unique_indices=True))), v)


# ----------------------------------------------------------------------------- logaddexp family
LAE_PTS = [0., -0., 1., -1., 3., inf, -inf, nan]


def _jax_agrees(a, b):
    """JAX's rule gives exp(x) for a finite x against +inf (docs/differences.md)."""
    return not ((a == inf and np.isfinite(b)) or (b == inf and np.isfinite(a)))


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
@pytest.mark.parametrize("a", LAE_PTS)
def test_logaddexp_value_and_derivatives(name, a):
    for b in LAE_PTS:
        f = lambda m: (lambda x, y: getattr(m, name)(x, y))
        check(lambda m, g, n, l: f(m), a, b)
        if not _jax_agrees(a, b):
            continue
        check(lambda m, g, n, l: g(f(m), 0), a, b)
        check(lambda m, g, n, l: g(f(m), 1), a, b)
        check(lambda m, g, n, l: g(g(f(m), 0), 0), a, b)
        check(lambda m, g, n, l: g(g(f(m), 0), 1), a, b)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
@pytest.mark.parametrize("a", [0., 1., -1., -inf, 3.])
def test_logaddexp_finite_against_posinf(name, a):
    # log(e^a + e^inf) does not depend on a: derivative 0 (and 1 for the +inf operand)
    f = getattr(xnp, name)
    ga, gb = xf.grad(f, (0, 1))(F32(a), F32(inf))
    assert (float(ga), float(gb)) == (0., 1.)
    gb, ga = xf.grad(f, (0, 1))(F32(inf), F32(a))
    assert (float(ga), float(gb)) == (0., 1.)
    assert float(xf.grad(xf.grad(f))(F32(a), F32(inf))) == 0.


def test_logaddexp_tie_repro():
    g = xf.grad(lambda a: xnp.sum(xnp.logaddexp(a, 0.)))(xnp.zeros((1, 1)))
    np.testing.assert_array_equal(np.asarray(g), [[0.5]])
    check(lambda m, g, n, l: g(lambda a: m.sum(m.logaddexp(a, 0.))), [[0., inf, -inf, nan]])
    check_jvp(lambda m, g, n, l: lambda a, b: m.logaddexp(a, b), ([0., inf, -inf, 2.], [0., inf, -inf, nan]),
              ([1., 1., 1., 1.], [2., 2., 2., 2.]))


def test_logaddexp_grad_vmap_matches_loop():
    f = xf.grad(lambda a: xnp.logaddexp(a, 0.))
    vmap_vs_loop(f, [0., -0., 1., inf, -inf, nan])
    f2 = xf.grad(lambda a: xnp.logaddexp2(a, a))
    vmap_vs_loop(f2, [0., 1., inf, -inf, nan])


@pytest.mark.parametrize("x", PTS + [3., -3.])
@pytest.mark.parametrize("name", ["softplus", "log_sigmoid", "celu", "silu", "mish", "elu", "relu"])
def test_activations(name, x):
    check(lambda m, g, n, l: getattr(n, name), x)
    check(lambda m, g, n, l: g(getattr(n, name)), x)
    check(lambda m, g, n, l: g(g(getattr(n, name))), x)


# ----------------------------------------------------------------------------- pow
POW_X = [0., -0., 1., -1., 2., inf, -inf, nan]
POW_Y = [0., 1., 2., 0.5, -1., inf, -inf, nan]


@pytest.mark.parametrize("x", POW_X)
def test_pow_derivatives(x):
    for y in POW_Y:
        check(lambda m, g, n, l: lambda a, b: l.pow(a, b), x, y)
        check(lambda m, g, n, l: g(lambda a, b: l.pow(a, b), 0), x, y)
        check(lambda m, g, n, l: g(lambda a, b: l.pow(a, b), 1), x, y)
        check(lambda m, g, n, l: g(lambda a, b: m.power(a, b), 0), x, y)
        check(lambda m, g, n, l: g(g(lambda a, b: a ** b, 0), 0), x, y)
    for k in (0, 1, 2, 3, -1, -2):
        check(lambda m, g, n, l: g(lambda a: l.integer_pow(a, k)), x)
        check(lambda m, g, n, l: g(lambda a: l.pow(a, m.int32(k))), x)   # an integer exponent
        check(lambda m, g, n, l: g(lambda a: a ** k), x)


def test_pow_zero_exponent_cases():
    # the float exponent has no guard (NaN at (0, 0)); the integer exponent is 0 everywhere
    assert np.isnan(float(xf.grad(xlax.pow)(F32(0.), F32(0.))))
    assert float(xf.grad(xlax.pow)(F32(inf), F32(0.))) == 0.
    for x in (0., inf, -inf, nan):
        assert float(xf.grad(lambda a: xlax.pow(a, xnp.int32(0)))(F32(x))) == 0.
    vmap_vs_loop(xf.grad(lambda a: xlax.pow(a, 0.)), [0., 1., inf, -inf, nan])


# ----------------------------------------------------------------------------- prod and quantiles
QVECS = [[inf, 2., 3.], [inf, inf, 1.], [-inf, -inf, 1.], [0., 2., 3.], [0., 0., 3.], [inf, 0., 2.],
         [nan, 1., 2.], [-inf, inf, 1.], [1., -inf, -inf, inf, inf], [inf, inf], [2., 2., 2.]]


@pytest.mark.parametrize("v", QVECS, ids=str)
def test_prod_and_cumprod(v):
    for fn in ("prod", "nanprod"):
        check(lambda m, g, n, l: getattr(m, fn), v)
        check(lambda m, g, n, l: g(getattr(m, fn)), v)
    for fn in ("cumprod", "nancumprod"):
        check(lambda m, g, n, l: getattr(m, fn), v)
        check(lambda m, g, n, l: g(lambda x: m.sum(getattr(m, fn)(x))), v)


@pytest.mark.parametrize("v", QVECS, ids=str)
def test_quantiles(v):
    for q in (0., 0.25, 0.5, 1.):
        for fn in ("quantile", "nanquantile"):
            check(lambda m, g, n, l: lambda x: getattr(m, fn)(x, q), v)
            check(lambda m, g, n, l: g(lambda x: getattr(m, fn)(x, q)), v)
    for method in ("lower", "higher", "nearest", "midpoint"):
        check(lambda m, g, n, l: lambda x: m.quantile(x, 0.25, method=method), v)
        check(lambda m, g, n, l: g(lambda x: m.quantile(x, 0.25, method=method)), v)
    for fn in ("median", "nanmedian"):
        check(lambda m, g, n, l: getattr(m, fn), v)
        check(lambda m, g, n, l: g(getattr(m, fn)), v)
    for fn in ("percentile", "nanpercentile"):
        check(lambda m, g, n, l: lambda x: getattr(m, fn)(x, 30.), v)
        check(lambda m, g, n, l: g(lambda x: getattr(m, fn)(x, 30.)), v)


def test_quantile_between_equal_infinities():
    # the weighted sum vlo * (1 - f) + vhi * f, as jnp: -inf * 0.8 + 1 * 0.2 is -inf
    x = xnp.array([1., inf, inf, -inf, -inf], xnp.float32)
    assert float(xnp.quantile(x, 0.3)) == -inf
    assert float(xnp.quantile(x, 0.9)) == inf
    assert float(xnp.nanmedian(xnp.array([inf, inf, 1.], xnp.float32))) == inf
    vmap_vs_loop(lambda r: xnp.quantile(r, 0.3), [[inf, inf, 1.], [-inf, -inf, 2.], [0., 1., 2.]])


# ----------------------------------------------------------------------------- neighbouring unary rules
@pytest.mark.parametrize("x", PTS + [1.0000001, -1.0000001, 0.99999994, 2.])
def test_arccosh_derivative(x):
    # d acosh = 1 / sqrt(x^2 - 1): +inf at x = -1 (not -inf from (x - 1)(x + 1) = -0)
    check(lambda m, g, n, l: g(m.arccosh), x)


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
def test_sinc_derivatives_of_every_order_at_zero(order):
    # the k-th derivative at 0 is the Maclaurin coefficient (sinc''(0) = -pi^2/3; the
    # quotient's own derivatives through the safe denominator would give 0): found by the fuzzer
    def build(np_, grad, nn, lax):
        f = np_.sinc
        for _ in range(order):
            f = grad(f)
        return lambda v: np_.stack([f(v[i]) for i in range(v.shape[0])])
    check(build, [0., -0., 0.3, -1.5, 2., inf, nan], rtol=2e-4, atol=1e-5)
