"""Edge cases matched to JAX: nan-statistics gradients, derivatives on empty arrays, integer
division by zero, negative integer powers, Python ints wrapping into narrow integer dtypes,
and the class of broadcasting errors."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax as jlax

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xlax
from jax_ref import jax_side

HERE = os.path.basename(__file__)


def _same(got, expected):
    got, expected = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape), (g.shape, e.shape)
        assert np.dtype(g.dtype) == np.dtype(e.dtype), (g.dtype, e.dtype)
        assert bool(g.weak_type) == bool(e.weak_type)
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-6, atol=1e-6, equal_nan=True)


def both(f, *args):
    """f(jax, jnp, *args) and f(xf, xnp, *args) agree (values, NaN places, dtype, weak type)."""
    expected = jax_side(lambda *args: f(jax, jnp, *[jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]),
                        *args)
    got = f(xf, xnp, *[xnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
    _same(got, expected)
    return got


# ----------------------------------------------------------------------------- 1. nanvar/nanstd gradients

A = np.array([1., np.nan, 3.], np.float32)
A2 = np.array([[1., np.nan], [2., 5.]], np.float32)


@pytest.mark.parametrize("name", ["nanvar", "nanstd"])
@pytest.mark.parametrize("ddof", [0, 1, 2, 3])
def test_nan_statistics_grad_with_nan_entry(name, ddof):
    g = both(lambda J, N, a: J.grad(lambda x: getattr(N, name)(x, ddof=ddof))(a), A)
    assert np.asarray(g)[1] == 0          # the NaN entry gets 0, not NaN
    if ddof == 0:
        np.testing.assert_allclose(np.asarray(g), [-1, 0, 1] if name == "nanvar" else [-.5, 0, .5])


@pytest.mark.parametrize("name", ["nanvar", "nanstd", "nanmean"])
@pytest.mark.parametrize("axis", [0, 1])
def test_nan_statistics_grad_axis_and_where(name, axis):
    both(lambda J, N, a: J.grad(lambda x: getattr(N, name)(x, axis=axis).sum())(a), A2)
    both(lambda J, N, a: J.grad(lambda x: getattr(N, name)(x, where=np.array([True, False, True])))(a), A)
    both(lambda J, N, a: J.grad(getattr(N, name))(a), np.array([np.nan, np.nan], np.float32))
    both(lambda J, N, a: J.grad(getattr(N, name))(a), np.array([2., np.nan, 2.], np.float32))


def test_nanstd_grad_finite_differences():
    x = np.array([0.3, np.nan, -1.2, 2.5], np.float32)
    g = np.asarray(xf.grad(xnp.nanstd)(x))
    valid = x[~np.isnan(x)].astype(np.float64)
    for i in np.flatnonzero(~np.isnan(x)):
        e = np.zeros_like(valid)
        e[list(np.flatnonzero(~np.isnan(x))).index(i)] = 1e-4
        fd = (np.std(valid + e) - np.std(valid - e)) / 2e-4
        np.testing.assert_allclose(g[i], fd, rtol=1e-3)
    assert g[1] == 0
    # vmap of the gradient against a loop
    xs = np.array([[1, np.nan, 2], [np.nan, np.nan, 1.]], np.float32)
    got = np.asarray(xf.vmap(xf.grad(xnp.nanstd))(xs))
    np.testing.assert_array_equal(got, np.stack([np.asarray(xf.grad(xnp.nanstd)(r)) for r in xs]))


@pytest.mark.parametrize("name", ["var", "nanvar", "std", "nanstd"])
@pytest.mark.parametrize("ddof", [2, 3, 4])
def test_not_positive_normalizer_is_nan_with_zero_tangent(name, ddof):
    t = np.array([1., 2., 3.], np.float32)
    both(lambda J, N, a, t: J.jvp(lambda x: getattr(N, name)(x, ddof=ddof), (a,), (t,)), A, t)
    both(lambda J, N, a, t: J.jvp(lambda x: getattr(N, name)(x, ddof=ddof), (a,), (t,)),
         np.array([1., 2., 3.], np.float32), t)


# ----------------------------------------------------------------------------- 2. empty arrays

@pytest.mark.parametrize("name", ["var", "nanmean", "mean", "std", "nanvar", "nanstd", "sum", "nansum"])
def test_jvp_of_statistics_of_empty_arrays(name):
    e, e2 = np.zeros((0,), np.float32), np.zeros((0, 3), np.float32)
    both(lambda J, N, a: J.jvp(getattr(N, name), (a,), (a,)), e)
    both(lambda J, N, a: J.jit(lambda v: J.jvp(getattr(N, name), (v,), (v,)))(a), e)
    both(lambda J, N, a: J.grad(getattr(N, name))(a), e)
    for axis in (0, 1):
        both(lambda J, N, a: J.jvp(lambda x: getattr(N, name)(x, axis=axis), (a,), (a,)), e2)


def test_where_of_empty_result_is_x():
    e = np.zeros((0,), np.float32)
    out = both(lambda J, N, a: J.jvp(lambda v: N.where(v > 0, 0., v).sum() / 0., (a,), (a,)), e)
    assert np.asarray(out[1]) == 0
    both(lambda J, N, a: J.jvp(lambda v: N.where(v > 0, v, 0.).sum() / 0., (a,), (a,)), e)


def test_sort_and_median_derivatives_on_empty_arrays():
    e, e2 = np.zeros((0,), np.float32), np.zeros((0, 3), np.float32)
    both(lambda J, N, a: J.grad(lambda x: N.sort(x).sum())(a), e)
    both(lambda J, N, a: J.jvp(N.sort, (a,), (a,)), e)
    both(lambda J, N, a: J.grad(lambda x: N.sort(x, axis=0).sum())(a), e2)
    both(lambda J, N, a: J.grad(lambda x: N.sort(x, axis=1).sum())(a), e2)
    both(lambda J, N, a: J.grad(lambda x: x[N.argsort(x)].sum())(a), e)
    both(lambda J, N, a: J.grad(lambda x: N.median(x, axis=1).sum())(a), e2)
    both(lambda J, N, a: J.grad(lambda x: N.nanmedian(x, axis=1).sum())(a), e2)


# ----------------------------------------------------------------------------- 3. integer division by 0

INT_CASES = [(np.int32, [7, -7, 0, -5]), (np.int8, [7, -7, 0, -128]), (np.uint8, [7, 0, 5, 3]),
             (np.uint32, [7, 0, 5, 3])]


@pytest.mark.parametrize("dt,vals", INT_CASES)
@pytest.mark.parametrize("name", ["fmod", "remainder", "floor_divide", "mod", "divmod"])
def test_integer_division_by_zero(dt, vals, name):
    x, z = np.array(vals, dt), np.array([0, 0, 2, 0], dt)
    both(lambda J, N, a, b: getattr(N, name)(a, b), x, z)
    both(lambda J, N, a, b: J.jit(getattr(N, name))(a, b), x, z)
    both(lambda J, N, a: getattr(N, name)(a, 0), x)


def test_integer_division_by_zero_operators_and_bools():
    x = np.array([7, -7, 0, -5], np.int32)
    both(lambda J, N, a: (a % 0, a // 0), x)
    both(lambda J, N: N.fmod(5, 0))
    b1, b2 = np.array([True, False, True, True]), np.array([False, False, True, False])
    for name in ["fmod", "remainder", "floor_divide"]:
        both(lambda J, N, a, b: getattr(N, name)(a, b), b1, b2)
    assert np.asarray(xnp.fmod(np.array([7, -7]), 0)).tolist() == [0, 0]


# ----------------------------------------------------------------------------- 4. integer_pow

@pytest.mark.parametrize("dt", [np.int32, np.uint8, np.int8])
def test_integer_pow_negative_power_of_ints_raises(dt):
    x = np.array([1, 2, 3], dt)
    with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
        jlax.integer_pow(jnp.asarray(x), -1)
    with pytest.raises(TypeError, match=rf"negative powers, got integer_pow\({np.dtype(dt).name}\[3\], -1\).*{HERE}"):
        xlax.integer_pow(xnp.asarray(x), -1)
    with pytest.raises(TypeError, match=rf"negative powers.*{HERE}"):
        xf.jit(lambda a: xlax.integer_pow(a, -2))(x)
    with pytest.raises(TypeError, match=r"integer_pow\(~int32\[\], -2\)"):
        xlax.integer_pow(2, -2)
    # the next good call works; float negative powers and their derivatives too
    both(lambda J, N, a: J.lax.integer_pow(a, 2), x)
    f = np.array([1., 2., -4.], np.float32)
    both(lambda J, N, a: J.lax.integer_pow(a, -3), f)
    both(lambda J, N, a: J.grad(lambda v: J.lax.integer_pow(v, -3).sum())(a), f)
    both(lambda J, N: J.lax.integer_pow(2.0, -2))


# ----------------------------------------------------------------------------- 7. Python ints wrap

@pytest.mark.parametrize("dt", ["int8", "uint8", "int16", "uint16", "uint32"])
@pytest.mark.parametrize("v", [300, -300, 1000, 70000, 2 ** 31 - 1, -2 ** 31])
def test_python_int_wraps_into_narrow_dtype(dt, v):
    both(lambda J, N: N.ones(2, dtype=dt) + v)
    both(lambda J, N: v * N.ones(2, dtype=dt))
    both(lambda J, N: J.jit(lambda a: a - v)(N.ones(2, dtype=dt)))


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparison_with_wrapped_python_int(op):
    i8, u8 = np.array([1, 100, -5], np.int8), np.array([1, 255, 0], np.uint8)
    both(lambda J, N, a: eval(f"a {op} 300"), i8)
    both(lambda J, N, a: eval(f"a {op} -1"), u8)
    both(lambda J, N, a: J.jit(lambda v: eval(f"v {op} 300"))(a), i8)


def test_python_int_wraps_in_other_functions():
    a = np.array([1, 100], np.int8)
    both(lambda J, N, a: (N.maximum(a, 300), N.where(a > 1, a, 300), a // 300, a % 300, a & 300,
                          N.clip(a, -300, 300)), a)
    both(lambda J, N: (N.full(2, 300, dtype=np.int8), N.zeros(2, dtype="int8").at[0].set(300)))


@pytest.mark.parametrize("v", [2 ** 31, -2 ** 31 - 1, 2 ** 40, 2 ** 64])
def test_python_int_beyond_default_int_overflows(v):
    with pytest.raises(OverflowError):
        jnp.ones(2, dtype="int8") + v
    with pytest.raises(OverflowError, match=HERE):
        xnp.ones(2, dtype="int8") + v
    with pytest.raises(OverflowError):
        xf.jit(lambda a: a + v)(xnp.ones(2, dtype="float32"))
    _same(xnp.ones(2, dtype="int8") + 3, jax_side(lambda: jnp.ones(2, dtype="int8") + 3))   # the next good call


def test_python_int_under_x64(x64):
    both(lambda J, N: N.ones(2, dtype="int8") + 2 ** 40)
    both(lambda J, N: N.ones(2, dtype="uint32") + -2 ** 40)
    with pytest.raises(OverflowError):
        xnp.ones(2, dtype="uint64") + 2 ** 63


# ----------------------------------------------------------------------------- 8. broadcasting errors

def test_broadcasting_error_classes_match_jax():
    a, b = np.ones(100, np.float32), np.ones((100, 10), np.float32)
    for f in (lambda N, x, y: x + y, lambda N, x, y: N.add(x, y), lambda N, x, y: N.where(x > 0, x, y)):
        with pytest.raises(ValueError, match=r"Incompatible shapes for broadcasting: shapes=\[\(100,\), "):
            f(jnp, jnp.asarray(a), jnp.asarray(b))
        with pytest.raises(ValueError, match=rf"Incompatible shapes for broadcasting: shapes=\[\(100,\), .*{HERE}"):
            f(xnp, xnp.asarray(a), xnp.asarray(b))
        with pytest.raises(ValueError, match=HERE):
            xf.jit(lambda x, y: f(xnp, x, y))(a, b)
    # one rank: the op's TypeError (as jnp)
    with pytest.raises(TypeError):
        jnp.maximum(jnp.ones(3), jnp.ones(4))
    with pytest.raises(TypeError, match=HERE):
        xnp.maximum(xnp.ones(3), xnp.ones(4))
    # lax ops: TypeError (JAX's wording for different ranks)
    with pytest.raises(TypeError, match="same number of dimensions"):
        jlax.add(jnp.asarray(a), jnp.asarray(b))
    with pytest.raises(TypeError, match=rf"same number of dimensions, got \{{1, 2\}}.*{HERE}"):
        xlax.add(xnp.asarray(a), xnp.asarray(b))
    # user code catching ValueError works; the next good call works
    try:
        xnp.asarray(a) * xnp.asarray(b)
    except ValueError:
        pass
    _same(xnp.asarray(a)[:, None] * xnp.asarray(b), jax_side(lambda a, b: jnp.asarray(a)[:, None] * jnp.asarray(b), a, b))
