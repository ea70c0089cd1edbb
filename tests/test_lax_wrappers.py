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
