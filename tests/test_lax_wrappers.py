"""lax-level wrapper semantics that differ from the raw StableHLO ops."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp


@pytest.mark.parametrize("start", [-3, -1, 0, 2, 9])
def test_dynamic_slice_negative_start_wraps_like_lax(start):
    x = np.arange(10.0, dtype=np.float32)
    want = jax.lax.dynamic_slice(jnp.asarray(x), (start,), (2,))
    np.testing.assert_array_equal(xf.lax.dynamic_slice(xnp.asarray(x), (start,), (2,)), want)
    f = xf.jit(lambda x, i: xf.lax.dynamic_slice(x, (i,), (2,)))
    np.testing.assert_array_equal(f(x, start), want)  # traced start index


@pytest.mark.parametrize("start", [-2, 0, 3])
def test_dynamic_update_slice_negative_start_wraps_like_lax(start):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    u = np.full((1, 2), -1.0, np.float32)
    want = jax.lax.dynamic_update_slice(jnp.asarray(x), jnp.asarray(u), (start, start))
    got = xf.jit(lambda x, u, i: xf.lax.dynamic_update_slice(x, u, (i, i)))(x, u, start)
    np.testing.assert_array_equal(got, want)


def test_dynamic_slice_start_indices_of_mixed_types_raise_jax_error():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    with pytest.raises(TypeError) as jerr:
        jax.lax.dynamic_slice(jnp.asarray(x), [0, jnp.int8(1)], (2, 2))
    with pytest.raises(TypeError, match=r"must be integers of the same type, got: int32, int8 \(at .*test_lax_wrappers.py"):
        xf.lax.dynamic_slice(xnp.asarray(x), [0, xnp.int8(1)], (2, 2))
    assert "must be integers of the same type, got: int32, int8" in str(jerr.value)
    with pytest.raises(TypeError, match="same type"):
        xf.jit(lambda x, i: xf.lax.dynamic_update_slice(x, x[:1], (i, xnp.int16(0))))(x, 1)
    # one dtype throughout works, and so does the next call
    want = jax.lax.dynamic_slice(jnp.asarray(x), [jnp.int8(1), jnp.int8(1)], (2, 2))
    np.testing.assert_array_equal(xf.lax.dynamic_slice(xnp.asarray(x), [xnp.int8(1), xnp.int8(1)], (2, 2)), want)
