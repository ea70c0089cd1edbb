"""allclose, array_equal, array_equiv and round() against jax.numpy."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

CASES = [
    (np.array([1.0, 2.0, np.nan], np.float32), np.array([1.0, 2.0 + 1e-6, np.nan], np.float32)),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.5], np.float32)),
    (np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(3, dtype=np.int32)),
    (np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)),
]


@pytest.mark.parametrize("a,b", CASES)
def test_allclose_array_equal_equiv_match_jax(a, b):
    for equal_nan in (False, True):
        assert bool(xnp.allclose(a, b, equal_nan=equal_nan)) == bool(jnp.allclose(a, b, equal_nan=equal_nan))
        assert bool(xnp.array_equal(a, b, equal_nan=equal_nan)) == bool(jnp.array_equal(a, b, equal_nan=equal_nan))
    assert bool(xnp.array_equiv(a, b)) == bool(jnp.array_equiv(a, b))
    r = xnp.allclose(a, b)
    assert r.dtype == np.bool_ and r.shape == ()


def test_allclose_under_jit_is_traced():
    f = xf.jit(lambda a, b: xnp.allclose(a, b, atol=0.1))
    assert bool(f(np.ones(3, np.float32), np.ones(3, np.float32) + 0.05))
    assert not bool(f(np.ones(3, np.float32), np.ones(3, np.float32) + 0.5))


def test_python_round_of_array():
    x = np.array([1.26, -2.5, 3.5], np.float32)
    np.testing.assert_array_equal(round(xnp.asarray(x)), round(jnp.asarray(x)))
    np.testing.assert_allclose(round(xnp.asarray(x), 1), round(jnp.asarray(x), 1))
    assert float(round(xnp.asarray(x)[0], 1)) == pytest.approx(float(round(jnp.asarray(x)[0], 1)))
