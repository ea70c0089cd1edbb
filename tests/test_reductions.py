"""xnp reductions against jax.numpy: values, shapes, dtypes and weak types."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jax_ref import jax_side
from jnp_compare import check_like_jnp

jax.config.update("jax_platforms", "cpu")


def check(f, *args, rtol=1e-5, atol=1e-6, jit=False):
    return check_like_jnp(f, *args, rtol=rtol, atol=atol, jit=jit)


rng = np.random.RandomState(0)
F = rng.randn(3, 4).astype(np.float32)
F3 = rng.randn(2, 3, 4).astype(np.float32)
I = rng.randint(-5, 6, size=(3, 4)).astype(np.int32)
I8 = rng.randint(-5, 6, size=(3, 4)).astype(np.int8)
U8 = rng.randint(0, 6, size=(3, 4)).astype(np.uint8)
B = rng.rand(3, 4) > 0.5
C = (rng.randn(3, 4) + 1j * rng.randn(3, 4)).astype(np.complex64)
H = rng.randn(3, 4).astype(np.float16)
E = np.zeros((0, 3), np.float32)
S = np.float32(2.5)
NAN = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 0.5, 7.0]], np.float32)
TIES = np.array([[1, 5, 5], [7, 7, 2], [0, 0, 0]], np.int32)


def weak(M):
    """A weak-typed float32 (3, 4) array in either library."""
    return M.broadcast_to(M.asarray(1.5), (3, 4))


# ----------------------------------------------------------------------------- sum, prod, max, min

SUM_LIKE = ["sum", "prod", "max", "min", "amax", "amin"]
ARRAYS = {"F": F, "I": I, "I8": I8, "U8": U8, "B": B, "C": C, "H": H, "S": S, "F3": F3}


@pytest.mark.parametrize("name", SUM_LIKE)
@pytest.mark.parametrize("arr", ["F", "I", "I8", "U8", "B", "H", "S"])
def test_basic_reductions_dtypes(name, arr):
    x = ARRAYS[arr]
    if name in ("max", "min", "amax", "amin") or arr == "S":
        check(lambda M, x: getattr(M, name)(x), x)
    else:
        check(lambda M, x: (getattr(M, name)(x), getattr(M, name)(x, axis=-1)), x, rtol=1e-2)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min"])
def test_reduction_axes_keepdims(name):
    check(lambda M, x: [getattr(M, name)(x, axis=ax, keepdims=kd)
                        for ax in (None, 0, -1, (0, 2), (2, 0, 1), ()) for kd in (False, True)], F3,
          rtol=1e-4, jit=True)


def test_complex_sum_prod():
    check(lambda M, x: (M.sum(x, axis=0), M.prod(x, axis=1), M.mean(x)), C, rtol=1e-4)


def test_weak_and_scalar_inputs_give_strong_results():
    check(lambda M: [M.sum(3.0), M.sum(3), M.sum(True), M.max(2.0), M.prod(2), M.mean(3), M.mean(2.0)])
    check(lambda M: [M.sum(weak(M)), M.max(weak(M), axis=0), M.mean(weak(M)), M.var(weak(M)),
                     M.argmax(weak(M)), M.cumsum(weak(M)), M.all(weak(M))])


def test_dtype_and_promote_integers():
    check(lambda M, x: [M.sum(x, dtype=M.int8), M.sum(x, promote_integers=False), M.sum(x, dtype=M.float32),
                        M.prod(x, dtype=M.int16)], I8)


def test_empty_reductions():
    check(lambda M, x: [M.sum(x), M.sum(x, axis=0), M.sum(x, axis=1), M.prod(x, axis=0), M.max(x, axis=1),
                        M.all(x), M.any(x), M.mean(x, axis=0)], E)


def test_where_and_initial():
    mask = np.array([[True, False, True, True]] * 3)
    check(lambda M, x: [M.sum(x, where=mask), M.sum(x, axis=1, where=mask, initial=2.0),
                        M.prod(x, where=mask), M.max(x, where=mask, initial=-1.0, axis=0),
                        M.min(x, initial=0.0), M.max(x, initial=10.0, axis=1),
                        M.mean(x, where=mask), M.mean(x, axis=1, where=mask), M.all(x > 0, where=mask),
                        M.any(x > 0, where=mask, axis=0), M.var(x, where=mask, axis=1)], F)
    check(lambda M, x: M.max(x, axis=0, initial=3, where=mask[:, :3].T[:3]), I[:, :3])


def test_min_max_errors_and_recovery():
    with pytest.raises(ValueError, match="zero-size array to reduction operation max"):
        xnp.max(E, axis=0)
    with pytest.raises(ValueError, match="does not have an identity"):
        xnp.min(F, where=F > 0)
    with pytest.raises(ValueError, match="out of bounds"):
        xnp.sum(F, axis=2)
    with pytest.raises(ValueError, match="duplicate value"):
        xnp.sum(F, axis=(0, 0))
    with pytest.raises(NotImplementedError, match="out"):
        xnp.sum(F, out=F)
    check(lambda M, x: M.max(x, axis=0), F)


def test_max_min_nan():
    check(lambda M, x: [M.max(x, axis=1), M.min(x, axis=0), M.max(x)], NAN)


# ----------------------------------------------------------------------------- all, any, count_nonzero, ptp


@pytest.mark.parametrize("arr", ["F", "I", "B", "C"])
def test_all_any(arr):
    x = ARRAYS[arr]
    check(lambda M, x: [M.all(x), M.any(x), M.all(x, axis=0), M.any(x, axis=-1, keepdims=True)], x)


def test_count_nonzero_ptp():
    check(lambda M: [M.count_nonzero(I), M.count_nonzero(I, axis=0), M.count_nonzero(B, axis=1, keepdims=True),
                     M.ptp(I8), M.ptp(F, axis=1), M.ptp(F, axis=0, keepdims=True)])


# ----------------------------------------------------------------------------- argmax, argmin


def test_argmax_argmin():
    check(lambda M, x: [M.argmax(x), M.argmin(x), M.argmax(x, axis=0), M.argmin(x, axis=-1),
                        M.argmax(x, axis=1, keepdims=True), M.argmin(x, keepdims=True)], F3, jit=True)
    check(lambda M, x: [M.argmax(x, axis=1), M.argmin(x, axis=1), M.argmax(x, axis=0), M.argmax(x)], TIES)
    check(lambda M, x: [M.argmax(x, axis=1), M.argmin(x, axis=1), M.argmax(x), M.argmin(x),
                        M.nanargmax(x, axis=1), M.nanargmin(x, axis=0, keepdims=True), M.nanargmax(x),
                        M.nanargmin(x[:, :1], axis=1)], NAN)
    check(lambda M, x: [M.argmax(x), M.argmin(x, axis=1)], B)
    check(lambda M: [M.argmax(S), M.argmin(3)])


def test_argmax_empty_error_then_ok():
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        xnp.argmax(E)
    with pytest.raises(ValueError, match="attempt to get argmin of an empty sequence"):
        xnp.argmin(E, axis=0)
    check(lambda M, x: M.argmin(x, axis=1), E)


# ----------------------------------------------------------------------------- mean, var, std, average


@pytest.mark.parametrize("arr", ["F", "I", "I8", "B", "C", "H"])
def test_mean_var_std_dtypes(arr):
    x = ARRAYS[arr]
    check(lambda M, x: [M.mean(x), M.mean(x, axis=0), M.var(x), M.var(x, axis=1, ddof=1), M.std(x),
                        M.std(x, axis=0, keepdims=True)], x, rtol=2e-3, atol=2e-3)


def test_mean_var_options():
    check(lambda M, x: [M.mean(x, axis=(0, 2), keepdims=True), M.mean(x, dtype=M.float16),
                        M.var(x, axis=(1, 2), ddof=2), M.var(x, correction=1), M.std(x, axis=-1, ddof=1),
                        M.var(x[:1, :1, :1], ddof=1), M.var(x[:1, :1, :1], ddof=3)], F3, rtol=1e-3)
    check(lambda M, x: [M.mean(x, dtype=M.int32), M.mean(x, axis=0, dtype=M.float32)], I)


def test_average():
    w = np.arange(4, dtype=np.float32)
    wi = np.array([1, 2, 3], np.int32)
    check(lambda M, x: [M.average(x), M.average(x, axis=1, weights=w), M.average(x, axis=0, weights=wi),
                        M.average(x, weights=np.ones((3, 4), np.float32) * 2),
                        M.average(x, axis=1, weights=w, returned=True),
                        M.average(x, axis=0, keepdims=True)], F)
    check(lambda M, x: M.average(x, axis=1, weights=np.array([1, 1, 0, 2], np.int32)), I)


# ----------------------------------------------------------------------------- nan-aware


def test_nan_functions():
    check(lambda M, x: [M.nansum(x), M.nansum(x, axis=1), M.nanprod(x, axis=0), M.nanmax(x, axis=1),
                        M.nanmin(x, axis=0), M.nanmax(x), M.nanmean(x, axis=1), M.nanmean(x),
                        M.nanvar(x, axis=1), M.nanstd(x, axis=0, ddof=1), M.nancumsum(x, axis=1),
                        M.nancumprod(x)], NAN, rtol=1e-5, jit=True)
    check(lambda M, x: [M.nansum(x), M.nanmax(x, axis=0), M.nanmean(x)], I)


def test_median():
    check(lambda M, x: [M.median(x), M.median(x, axis=0), M.median(x, axis=1, keepdims=True),
                        M.median(x, axis=(0, 1)), M.median(x[:, :3], axis=1)], F3, jit=True)
    check(lambda M, x: [M.median(x), M.median(x, axis=0)], I)
    check(lambda M, x: [M.median(x, axis=1), M.median(x)], NAN)


def test_quantiles():
    qs = np.array([0.0, 0.3, 0.5, 1.0], np.float32)
    methods = ("linear", "lower", "higher", "midpoint", "nearest")
    check(lambda M, x, q: [[M.quantile(x, q, axis=1, method=m), M.quantile(x, 0.25, method=m),
                            M.nanquantile(x, q, axis=0, method=m, keepdims=True)] for m in methods],
          NAN, qs, jit=True)
    check(lambda M, x, q: [M.quantile(x, q), M.quantile(x, 0.7, axis=(0, 2)), M.percentile(x, 30.0, axis=1),
                           M.percentile(x, q * 100, axis=-1, keepdims=True), M.nanmedian(x, axis=0),
                           M.nanpercentile(x, 90, axis=2), M.quantile(x, 1.5), M.quantile(x, -0.5, axis=0)],
          F3, qs, jit=True)
    check(lambda M, x: [M.quantile(x, 0.5), M.nanmedian(x), M.nanmedian(x, axis=1), M.quantile(x, 0.5, axis=1),
                        M.percentile(x, 50, method="lower")], NAN)
    check(lambda M, x: [M.quantile(x, 0.3, axis=0), M.nanmedian(x), M.percentile(x, np.float32(40))], I)
    with pytest.raises(ValueError, match="rank <= 1"):
        xnp.quantile(F, np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="method"):
        xnp.quantile(F, 0.5, method="bogus")


# ----------------------------------------------------------------------------- cumulative


@pytest.mark.parametrize("arr", ["F", "I", "I8", "U8", "B", "C"])
def test_cumsum_cumprod_dtypes(arr):
    x = ARRAYS[arr]
    check(lambda M, x: [M.cumsum(x), M.cumsum(x, axis=0), M.cumprod(x, axis=-1)], x, rtol=1e-4)


def test_cumulative_options():
    check(lambda M, x: [M.cumsum(x, axis=1, dtype=M.int8), M.cumprod(x, axis=0, dtype=M.float32),
                        M.cumsum(2.0), M.cumsum(x, axis=0)[:0], M.cumulative_sum(x, axis=1),
                        M.cumulative_sum(x, axis=0, include_initial=True),
                        M.cumulative_prod(x[0], include_initial=True)], I)
    check(lambda M, x: [M.cumsum(x, axis=1), M.cumprod(x, axis=2)], F3, jit=True, rtol=1e-4)
    check(lambda M, x: M.cumsum(x, axis=0), E)


# ----------------------------------------------------------------------------- methods and jit


def test_under_jit_and_grad_free_paths():
    check(lambda M, x: (M.sum(x, axis=0), M.mean(x), M.var(x, axis=1), M.argmax(x, axis=1), M.max(x),
                        M.all(x > -10), M.cumsum(x, axis=1), M.count_nonzero(x > 0)), F, jit=True)


def test_bad_operand_type_names_call_site():
    with pytest.raises(TypeError, match=re.escape("test_reductions.py")):
        xnp.sum("abc")
    check(lambda M, x: M.sum(x), F)


def test_x64_dtypes():
    xf.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    try:
        i32, u8, f32 = I, U8, F
        i64 = I.astype(np.int64)
        check(lambda M, i, u, f, l: [M.sum(i), M.sum(u), M.prod(B), M.mean(i), M.var(i, axis=0), M.cumsum(B),
                                     M.argmax(f), M.sum(f), M.mean(3), M.sum(3.0), M.mean(l), M.std(l),
                                     M.median(l), M.average(i, weights=f[:, :4] * 0 + 1), M.average(l[0, 0], weights=3),
                                     M.linalg.norm(3), M.linalg.norm(i), M.linalg.norm(l), M.var(2),
                                     M.count_nonzero(f), M.median(i), M.median(5)], i32, u8, f32, i64, rtol=1e-5)
    finally:
        xf.config.update("jax_enable_x64", False)
        jax.config.update("jax_enable_x64", False)
    check(lambda M, i: M.sum(i), I)


GRAD_CASES = {
    "sum": lambda M, x: M.sum(x * x, axis=0).sum(),
    "mean_keepdims": lambda M, x: (M.mean(x, axis=1, keepdims=True) * x).sum(),
    "var_std": lambda M, x: M.var(x, axis=0).sum() + M.std(x),
    "max": lambda M, x: M.max(x, axis=1).sum(),
    "prod": lambda M, x: M.prod(x, axis=0).sum(),
    "cumsum": lambda M, x: (M.cumsum(x, axis=1) * x).sum(),
    "average": lambda M, x: M.average(x, axis=1, weights=M.arange(4.0)).sum(),
    "median": lambda M, x: M.median(x, axis=0).sum(),
    "quantile": lambda M, x: M.quantile(x, 0.3, axis=1).sum() + M.nanmedian(x),
    "where": lambda M, x: M.sum(x * x, where=x > 0),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_and_vmap_match_jax(name):
    f = GRAD_CASES[name]
    x = F + 0.1
    np.testing.assert_allclose(xf.grad(lambda x: f(xnp, x))(x), jax_side(lambda x: jax.grad(lambda x: f(jnp, x))(x), x),
                               rtol=1e-4, atol=1e-5)
    xs = np.stack([x, 2 * x])
    np.testing.assert_allclose(xf.vmap(lambda x: f(xnp, x))(xs), jax_side(lambda xs: jax.vmap(lambda x: f(jnp, x))(xs), xs),
                               rtol=1e-4, atol=1e-5)
