"""Array methods (x.sum(), x.reshape(2, 3), x.T, ...) on arrays and on tracers, against jax."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

jax.config.update("jax_platforms", "cpu")

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7 - 1
I = (np.arange(12, dtype=np.int32).reshape(3, 4) % 5) - 2

CALLS = [
    ("reshape", (6, 4), {}), ("reshape", ((6, 4),), {}), ("reshape", ([4, -1],), {}), ("reshape", (-1,), {}),
    ("reshape", (2, 12), {"order": "F"}),
    ("astype", (np.int32,), {}), ("astype", (jnp.float16,), {}), ("astype", (bool,), {}),
    ("sum", (), {}), ("sum", (1,), {}), ("sum", (), {"axis": (0, 2), "keepdims": True}),
    ("sum", (), {"dtype": np.int32}),
    ("mean", (), {"axis": -1}), ("max", (), {}), ("max", (0,), {"keepdims": True}), ("min", (), {"axis": 2}),
    ("prod", (), {"axis": 1}), ("argmax", (), {}), ("argmax", (), {"axis": 1}), ("argmin", (0,), {}),
    ("argmin", (), {"axis": 2, "keepdims": True}),
    ("repeat", (2,), {}), ("repeat", (2,), {"axis": 1}), ("ravel", (), {}), ("flatten", (), {}),
    ("squeeze", (), {}), ("transpose", (), {}), ("transpose", (1, 0, 2), {}), ("transpose", ((2, 0, 1),), {}),
    ("clip", (), {"min": -0.5, "max": 0.5}), ("clip", (-0.25,), {}), ("round", (), {}),
    ("round", (1,), {}), ("any", (), {}), ("all", (), {"axis": 0}), ("cumsum", (), {}),
    ("cumsum", (), {"axis": 1}), ("cumprod", (), {"axis": -1}), ("var", (), {}), ("var", (), {"ddof": 1, "axis": 0}),
    ("std", (), {"axis": 1, "keepdims": True}), ("swapaxes", (0, 2), {}), ("diagonal", (), {}),
    ("diagonal", (1, 1, 2), {}), ("trace", (), {}), ("trace", (), {"offset": 1, "axis1": 1, "axis2": 2}),
    ("ptp", (), {"axis": 0}),
]


def _compare(g, e, rtol=1e-5):
    assert tuple(g.shape) == tuple(e.shape), (g.shape, e.shape)
    assert np.dtype(g.dtype) == np.dtype(e.dtype), (g.dtype, e.dtype)
    assert bool(g.weak_type) == bool(e.weak_type)
    np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64), rtol=rtol, atol=1e-3)


@pytest.mark.parametrize("name,args,kw", CALLS, ids=[f"{c[0]}{i}" for i, c in enumerate(CALLS)])
def test_method_on_array(name, args, kw):
    e = getattr(jnp.asarray(A), name)(*args, **kw)
    g = getattr(xnp.asarray(A), name)(*args, **kw)
    _compare(g, e)


def test_methods_on_tracers():
    """Every method above, called on tracers inside one jitted function."""
    def run(m, x):
        return [getattr(x, name)(*args, **kw) for name, args, kw in CALLS]
    expected = jax.jit(lambda x: run(jnp, x))(A)
    got = xf.jit(lambda x: run(xnp, x))(A)
    for g, e in zip(got, expected):
        _compare(g, e)


def test_properties_and_dot():
    x, jx = xnp.asarray(A), jnp.asarray(A)
    _compare(x.T, jx.T)
    _compare(x.mT, jx.mT)
    _compare(x[0].dot(x[1].T), jx[0].dot(jx[1].T))
    _compare(x[0] @ x[1].T, jx[0] @ jx[1].T)
    _compare(xf.jit(lambda t: t.T)(A), jax.jit(lambda t: t.T)(A))
    _compare(xf.jit(lambda t: t[0].dot(t[1].T))(A), jax.jit(lambda t: t[0].dot(t[1].T))(A))


def test_int_methods():
    x, jx = xnp.asarray(I), jnp.asarray(I)
    for name, args, kw in [("sum", (), {}), ("mean", (), {}), ("prod", (0,), {}), ("max", (), {}),
                           ("cumsum", (), {}), ("clip", (0, 1), {}), ("round", (), {}), ("astype", (np.int8,), {}),
                           ("var", (), {}), ("all", (), {}), ("repeat", (np.array([1, 0, 2]),), {"axis": 0})]:
        _compare(getattr(x, name)(*args, **kw), getattr(jx, name)(*args, **kw))


def test_reshape_method_error_names_shapes_and_line_then_ok():
    x = xnp.asarray(A)
    with pytest.raises(TypeError) as e:
        x.reshape(5, 7)
    msg = str(e.value)
    assert "(2, 3, 4)" in msg and "(5, 7)" in msg and "test_array_methods.py" in msg
    with pytest.raises(TypeError) as e:
        xf.jit(lambda t: t.reshape((5, 5)))(A)
    assert "(2, 3, 4)" in str(e.value) and "(5, 5)" in str(e.value)
    _compare(x.reshape(3, 8), jnp.asarray(A).reshape(3, 8))
    _compare(xf.jit(lambda t: t.reshape(3, 8))(A), jnp.asarray(A).reshape(3, 8))
