"""device_put / device_get / block_until_ready of pytrees, eval_shape and ShapeDtypeStruct,
against JAX."""
import dataclasses

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import tree_util as tu


def _same_tree(ours, ref):
    ol, ot = tu.tree_flatten(ours)
    rl, rt = jax.tree_util.tree_flatten(ref)
    assert str(ot) == str(rt)
    for a, b in zip(ol, rl):
        assert type(a).__name__ == type(b).__name__ or (isinstance(a, xf.Array) and isinstance(b, jax.Array))
        if isinstance(b, (jax.Array, np.ndarray, np.generic)):
            assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
            assert getattr(a, "weak_type", False) == getattr(b, "weak_type", False), (a, b)
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        else:
            assert a == b


@dataclasses.dataclass
class State:
    step: object
    params: object


jax.tree_util.register_dataclass(State, data_fields=["step", "params"], meta_fields=[])
tu.register_dataclass(State, data_fields=["step", "params"], meta_fields=[])


def test_device_put_pytrees():
    tree = {"a": np.ones((2, 3), np.float32), "b": [3, 2.5, True, None], "c": (np.float64(2.0), np.arange(3)),
            "s": State(0, {"w": np.zeros(2, np.float32)})}
    got, ref = xf.device_put(tree), jax.device_put(tree)
    _same_tree(got, ref)
    assert all(isinstance(x, xf.Array) for x in tu.tree_leaves(got))
    x = xnp.ones(3)
    assert xf.device_put(x) is x
    assert xf.device_put(x, xf.devices()[0]) is not None
    np.testing.assert_array_equal(xf.device_put([x])[0], np.ones(3, np.float32))
    # inside a trace: the identity
    np.testing.assert_allclose(xf.jit(lambda y: xf.device_put(y) * 2)(1.0), 2.0)
    np.testing.assert_allclose(xf.grad(lambda y: xf.device_put(y) ** 2)(3.0), 6.0)
    # bad leaves: TypeError naming the value, and the next good call works
    with pytest.raises(TypeError, match="not a valid JAX type") as e:
        xf.device_put([1, "a"])
    assert "test_api_misc.py" in str(e.value)
    with pytest.raises(TypeError):
        jax.device_put([1, "a"])
    _same_tree(xf.device_put([1.0]), jax.device_put([1.0]))


def test_device_get_pytrees():
    tree = {"a": xnp.ones(2) * 2, "b": 1, "c": "x", "d": xnp.float32(1.5), "e": [xnp.arange(3), None]}
    jtree = {"a": jnp.ones(2) * 2, "b": 1, "c": "x", "d": jnp.float32(1.5), "e": [jnp.arange(3), None]}
    got, ref = xf.device_get(tree), jax.device_get(jtree)
    assert str(tu.tree_structure(got)) == str(jax.tree_util.tree_structure(ref))
    for a, b in zip(tu.tree_leaves(got), jax.tree_util.tree_leaves(ref)):
        assert type(a) is type(b)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b
    s = xf.device_get(State(xnp.int32(3), {"w": xnp.zeros(2)}))
    assert isinstance(s, State) and isinstance(s.params["w"], np.ndarray) and int(s.step) == 3


def test_block_until_ready_pytrees():
    a = xnp.arange(4.0) * 2
    tree = {"a": a, "b": [a + 1, 3, "s", None], "st": State(a, ())}
    out = xf.block_until_ready(tree)
    assert out is tree
    assert all(x.is_ready() for x in tu.tree_leaves(tree) if isinstance(x, xf.Array))
    assert xf.block_until_ready(5) == 5
    assert a.block_until_ready() is a


def test_shape_dtype_struct():
    S, JS = xf.ShapeDtypeStruct, jax.ShapeDtypeStruct
    cases = [((2, 3), np.float32, False), ((), np.float32, True), ((2,), jnp.float64, False),
             ((2,), int, False), ((0, 4), bool, False), ([5], "int8", False), ((2,), jnp.bfloat16, False)]
    for shape, dt, weak in cases:
        s, js = S(shape, dt, weak_type=weak), JS(shape, dt, weak_type=weak)
        assert repr(s) == repr(js) and str(s) == str(js)
        assert s.shape == js.shape and s.dtype == js.dtype and s.weak_type == js.weak_type
        assert s.ndim == js.ndim and s.size == js.size and s.sharding is None
    s = S((2, 3), np.float32)
    assert s == S([2, 3], "float32") and hash(s) == hash(S((2, 3), jnp.float32))
    assert s != S((2, 3), np.float32, weak_type=True) and s != S((3, 2), np.float32) and s != S((2, 3), np.int32)
    assert s != (2, 3) and len({s, S((2, 3), "float32")}) == 1
    assert len(s) == 2
    with pytest.raises(TypeError, match="unsized"):
        len(S((), np.float32))
    assert s.update(dtype=np.int32) == S((2, 3), np.int32) and s.update(shape=(1,)).shape == (1,)
    assert s.update(weak_type=True).weak_type
    with pytest.raises(TypeError):
        S((2,), "not-a-dtype")
    with pytest.raises(TypeError):
        JS((2,), "not-a-dtype")
    with pytest.raises(TypeError):
        S(None, np.float32)
    # a leaf of pytrees, as in JAX
    assert tu.tree_leaves([s, {"k": s}]) == [s, s]


def _sds_tree_equal(ours, ref):
    ol, ot = tu.tree_flatten(ours)
    rl, rt = jax.tree_util.tree_flatten(ref)
    assert str(ot) == str(rt)
    assert [repr(a) for a in ol] == [repr(b) for b in rl]


def test_eval_shape():
    S, JS = xf.ShapeDtypeStruct, jax.ShapeDtypeStruct
    cases = [
        (lambda n: (lambda x: x * 2), lambda S: (1.0,), {}),
        (lambda n: (lambda x, y: {"a": x @ y, "b": (x.sum(), 3)}),
         lambda S: (S((2, 3), np.float32), np.ones((3, 4), np.float32)), {}),
        (lambda n: (lambda x: x.astype(n.int32)), lambda S: (S((2, 3), np.float32),), {}),
        (lambda n: (lambda x, k: x * k), lambda S: (S((2, 3), np.float32),), {"k": 2}),
        (lambda n: (lambda x: x), lambda S: (S((2,), np.float64),), {}),
        (lambda n: (lambda: n.zeros(3)), lambda S: (), {}),
        (lambda n: (lambda x: None), lambda S: (1.0,), {}),
        (lambda n: (lambda st: State(st.step + 1, n.tanh(st.params["w"]))),
         lambda S: (State(0, {"w": S((4,), np.float16)}),), {}),
        (lambda n: (lambda x: (x > 0, x.shape[0] * x)), lambda S: (S((5,), np.int32, weak_type=True),), {}),
    ]
    for make, args, kwargs in cases:
        got = xf.eval_shape(make(xnp), *args(S), **kwargs)
        ref = jax.eval_shape(make(jnp), *args(JS), **kwargs)
        _sds_tree_equal(got, ref)
    # nothing runs: the function is only traced
    calls = []
    xf.eval_shape(lambda x: calls.append(type(x).__name__) or x, xnp.ones(2))
    assert calls and calls[0] != "ArrayImpl"
    # objects with .shape and .dtype (numpy arrays, JAX's ShapeDtypeStruct) stand in too
    _sds_tree_equal(xf.eval_shape(lambda x: x + 1, JS((2,), jnp.int32)), jax.eval_shape(lambda x: x + 1, JS((2,), jnp.int32)))
    # a jitted function
    _sds_tree_equal(xf.eval_shape(xf.jit(lambda x: x[::2]), S((6,), np.float32)),
                    jax.eval_shape(jax.jit(lambda x: x[::2]), JS((6,), np.float32)))
    # bad input: the error class of JAX, naming the argument path and the call site
    with pytest.raises(TypeError) as e:
        xf.eval_shape(lambda x, y: x, 1.0, y={"k": "str"})
    assert "y['k']" in str(e.value) and "test_api_misc.py" in str(e.value)
    with pytest.raises(TypeError):
        jax.eval_shape(lambda x, y: x, 1.0, y={"k": "str"})
    with pytest.raises(TypeError, match="dot_general"):
        xf.eval_shape(lambda x: x @ x, S((2, 3), np.float32))
    with pytest.raises(TypeError, match="dot_general"):
        jax.eval_shape(lambda x: x @ x, JS((2, 3), np.float32))
    _sds_tree_equal(xf.eval_shape(lambda x: x @ x.T, S((2, 3), np.float32)),
                    jax.eval_shape(lambda x: x @ x.T, JS((2, 3), np.float32)))
