"""`xf.Array` is the array type of user code, as jax.Array: `isinstance(x, xf.Array)` holds
for the device array, every tracer (jit, grad, jvp, vmap, scan bodies, nested) and typed key
arrays, and not for numpy arrays or Python scalars. The concrete device array is its own
class (`ArrayImpl`, as JAX's). Tracers print as JAX 0.10 prints them, and `xf.typeof`
matches `jax.typeof`. Every expected text is computed live from JAX running the same code."""
from __future__ import annotations

import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core
from xlafront.array import ArrayImpl


def _probe_run(m, build):
    """Run `build(m, probe)`; per value the probe sees: (repr, str of typeof, isinstance of
    m.Array, isinstance of m.numpy.ndarray)."""
    seen = []

    def probe(v):
        seen.append((repr(v), str(m.typeof(v)), isinstance(v, m.Array), isinstance(v, m.numpy.ndarray)))
        return v
    build(m, probe)
    return seen


def _ones(m, shape, dtype=None):
    return m.numpy.ones(shape, dtype if dtype is not None else m.numpy.float32)


# (name, build(m, probe)): the same program for xlafront (m = xf) and JAX (m = jax)
CASES = [
    ("jit weak scalar", lambda m, p: m.jit(p)(1.0)),
    ("jit strong scalar", lambda m, p: m.jit(p)(m.numpy.float32(1.0))),
    ("jit f32[3,2]", lambda m, p: m.jit(p)(_ones(m, (3, 2)))),
    ("jit weak int", lambda m, p: m.jit(p)(1)),
    ("jit int32[3]", lambda m, p: m.jit(p)(m.numpy.arange(3, dtype=m.numpy.int32))),
    ("jit bool[]", lambda m, p: m.jit(p)(m.numpy.ones((), bool))),
    ("jit bf16[2]", lambda m, p: m.jit(p)(_ones(m, (2,), m.numpy.bfloat16))),
    ("jvp scalar", lambda m, p: m.jvp(p, (1.0,), (2.0,))),
    ("jvp vector", lambda m, p: m.jvp(p, (m.numpy.arange(3.0),), (_ones(m, (3,)),))),
    ("jvp derived value", lambda m, p: m.jvp(lambda x: p(x * 2), (1.0,), (2.0,))),
    ("vmap", lambda m, p: m.vmap(p)(_ones(m, (2,)))),
    ("vmap in_axes=1", lambda m, p: m.vmap(p, in_axes=1)(_ones(m, (2, 3)))),
    ("vmap of vmap", lambda m, p: m.vmap(m.vmap(p))(_ones(m, (2, 3)))),
    ("jit of vmap", lambda m, p: m.jit(m.vmap(p))(_ones(m, (2,)))),
    ("linearize", lambda m, p: m.linearize(p, 1.0)),
    ("linearize vector", lambda m, p: m.linearize(p, m.numpy.arange(3.0))),
    ("vjp", lambda m, p: m.vjp(p, 1.0)),
    ("jit of grad", lambda m, p: m.jit(m.grad(p))(1.0)),
    ("grad of jit", lambda m, p: m.grad(m.jit(p))(1.0)),
    ("jit of jvp", lambda m, p: m.jit(lambda x: m.jvp(p, (x,), (x,)))(1.0)),
    ("vmap of jvp", lambda m, p: m.vmap(lambda x: m.jvp(p, (x,), (x,)))(_ones(m, (2,)))),
    ("grad of vmap", lambda m, p: m.grad(lambda x: m.vmap(p)(x).sum())(_ones(m, (2,)))),
    ("scan body", lambda m, p: m.lax.scan(lambda c, x: (p(c), p(x)), 0.0, _ones(m, (3,)))),
    ("cond branch", lambda m, p: m.lax.cond(m.numpy.asarray(True), p, lambda x: x, 1.0)),
    ("while body", lambda m, p: m.lax.while_loop(lambda c: c < 3, lambda c: p(c) + 1, 0.0)),
    ("make_jaxpr", lambda m, p: m.make_jaxpr(p)(1.0)),
    ("eval_shape", lambda m, p: m.eval_shape(p, 1.0)),
    ("key eager", lambda m, p: p(m.random.key(0))),
    ("keys eager", lambda m, p: p(m.random.split(m.random.key(0)))),
    ("key under jit", lambda m, p: m.jit(p)(m.random.key(0))),
    ("keys under jit", lambda m, p: m.jit(p)(m.random.split(m.random.key(0), 3))),
    ("key under vmap", lambda m, p: m.vmap(p)(m.random.split(m.random.key(0)))),
]


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
def test_isinstance_repr_typeof_match_jax(name, build):
    want = _probe_run(jax, build)
    got = _probe_run(xf, build)
    assert want, name
    assert all(w[2] and w[3] for w in want), (name, want)   # JAX: every one is a jax.Array
    # a body may be traced a different number of times; every distinct value must match
    assert sorted(set(got)) == sorted(set(want)), (name, got, want)


def test_grad_tracers_print_as_jax_op_by_op():
    """Under disable_jit grad runs op by op as JAX's does, and its tracers print JAX's text."""
    def build(m, p):
        with m.disable_jit():
            m.grad(p)(1.0)
            m.grad(lambda x: p(x).sum())(m.numpy.arange(3.0))
            m.grad(lambda x: m.grad(p)(x))(2.0)
    want, got = _probe_run(jax, build), _probe_run(xf, build)
    assert got == want
    assert want[0][0] == "GradTracer(primal=1.0, typeof(tangent)=f32[])"


def test_eager_grad_tracer_primal_is_staged():
    """xlafront's eager grad first traces the function into one program (docs/differences.md):
    there the primal is a JitTracer where JAX prints its value; everything else is JAX's."""
    def build(m, p):
        m.grad(p)(1.0)
        m.grad(lambda x: p(x).sum())(_ones(m, (2,)))
    want, got = _probe_run(jax, build), _probe_run(xf, build)
    assert [w[0] for w in want] == ["GradTracer(primal=1.0, typeof(tangent)=f32[])",
                                    "GradTracer(primal=[1. 1.], typeof(tangent)=f32[2])"]
    assert [g[0] for g in got] == ["GradTracer(primal=JitTracer(~float32[]), typeof(tangent)=f32[])",
                                   "GradTracer(primal=JitTracer(float32[2]), typeof(tangent)=f32[2])"]
    assert [g[1:] for g in got] == [w[1:] for w in want]
    # a function that needs the value (Python `if` on it) runs op by op: JAX's text
    texts = {}

    def f(m):
        def g(x):
            texts.setdefault(m.__name__, []).append(repr(x))
            return x * x if x > 0 else -x
        return g
    assert float(xf.grad(f(xf))(3.0)) == float(jax.grad(f(jax))(3.0)) == 6.0
    assert texts["jax"] == ["GradTracer(primal=3.0, typeof(tangent)=f32[])"]
    assert texts["xlafront"][-1] == texts["jax"][0]


def test_nested_transforms_are_arrays():
    """Every tracer of a deep nest is an xf.Array, at every level."""
    levels = []

    def f(x):
        levels.append(x)
        return (x * x).sum()

    def inner(x):
        return xf.jvp(f, (x,), (xnp.ones_like(x),))[1]

    def outer(x):
        return xf.grad(lambda y: xf.vmap(inner)(y).sum())(x)
    out = xf.jit(lambda x: xf.vmap(outer)(x))(xnp.ones((2, 3, 4)))
    want = jax.jit(lambda x: jax.vmap(lambda v: jax.grad(lambda y: jax.vmap(
        lambda z: jax.jvp(lambda w: (w * w).sum(), (z,), (jnp.ones_like(z),))[1])(y).sum())(v))(x))(
        jnp.ones((2, 3, 4)))
    np.testing.assert_allclose(np.asarray(out), np.asarray(want))
    assert levels and all(isinstance(v, xf.Array) and isinstance(v, xnp.ndarray) for v in levels)
    assert all(isinstance(v, core.Tracer) and not isinstance(v, ArrayImpl) for v in levels)
    assert {type(v).__name__ for v in levels} >= {"JVPTracer"}


def test_not_arrays():
    values = [np.ones(2), np.float32(1.0), np.int32(3), 1.0, 1, True, 1j, None, [1.0], (1.0,),
              "a", core.ShapedArray((2,), np.dtype(np.float32)), np.dtype(np.float32)]
    for v in values:
        assert isinstance(v, jax.Array) is False, v
        assert isinstance(v, xf.Array) is False, v
        assert isinstance(v, xnp.ndarray) is False, v
    # a JAX array is not an xlafront array (nor the other way round)
    assert not isinstance(jnp.ones(2), xf.Array)
    assert not isinstance(xnp.ones(2), jax.Array)
    assert not issubclass(np.ndarray, xf.Array) and not issubclass(float, xf.Array)


def test_concrete_class():
    x = xnp.ones(3)
    assert type(x) is ArrayImpl
    assert type(x).__name__ == type(jnp.ones(3)).__name__ == "ArrayImpl"
    assert issubclass(ArrayImpl, xf.Array) and not issubclass(xf.Array, ArrayImpl)
    assert xnp.ndarray is xf.Array and jnp.ndarray is jax.Array
    assert isinstance(x, xf.Array) and isinstance(x, xnp.ndarray)
    # every tracer class and the key array derive from the base
    from xlafront.transforms.batching import BatchTracer
    from xlafront.transforms.jvp import JVPTracer
    from xlafront._random_prng import PRNGKeyArray
    for cls in (core.Tracer, core.GraphTracer, JVPTracer, BatchTracer, PRNGKeyArray):
        assert issubclass(cls, xf.Array) and not issubclass(cls, ArrayImpl), cls
    # results of every kind are the concrete class; a strong scalar type's value too (as JAX)
    for v, j in [(xnp.float32(2.0), jnp.float32(2.0)), (xf.jit(lambda a: a + 1)(x), None),
                 (xf.grad(lambda a: a * a)(2.0), None), (xf.vmap(xnp.sin)(x), None)]:
        assert type(v) is ArrayImpl, v
        if j is not None:
            assert isinstance(j, jax.Array)
    assert repr(x) == repr(jnp.ones(3)) and str(x) == str(jnp.ones(3))
    assert repr(xnp.asarray(2.0) * 1) == repr(jnp.asarray(2.0) * 1)
    with pytest.raises(TypeError, match="unhashable type: '.*ArrayImpl'"):
        hash(jnp.ones(2))
    with pytest.raises(TypeError, match="unhashable type: 'ArrayImpl'"):
        hash(x)
    for v in (x, xnp.asarray(2.0) * 1, xnp.arange(4, dtype=xnp.int8)):
        back = pickle.loads(pickle.dumps(v))
        assert type(back) is ArrayImpl and back.dtype == v.dtype and back.weak_type == v.weak_type
        np.testing.assert_array_equal(np.asarray(back), np.asarray(v))


def test_typeof_matches_jax():
    cases = [lambda m: m.numpy.ones(3), lambda m: m.numpy.asarray(2.0) * 1, lambda m: 1.0, lambda m: 1,
             lambda m: True, lambda m: np.ones((2, 1), np.int16), lambda m: m.numpy.ones((), bool),
             lambda m: m.random.key(0), lambda m: m.random.split(m.random.key(1), 4),
             lambda m: m.random.split(m.random.key(1), 6).reshape(2, 3)]
    for make in cases:
        w, g = jax.typeof(make(jax)), xf.typeof(make(xf))
        assert (str(g), repr(g)) == (str(w), repr(w)), (g, w)
    assert str(xf.typeof(xf.random.key(0))) == "key<fry>[]"
    assert xf.typeof(xf.random.key(0)).dtype == xf.random.key(0).dtype
    assert xf.typeof(xnp.ones(3)) == core.ShapedArray((3,), np.dtype(np.float32))
    with pytest.raises(TypeError):
        xf.typeof("a")
    xf.typeof(xnp.ones(2))   # the next good call works
