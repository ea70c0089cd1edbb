"""xf.vmap: JAX's in_axes/out_axes semantics, composition with jit and autodiff, the
batched graph, and bad input (each error is followed by a good call that works)."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import primitives as P
from jax_ref import jax_side

rng = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same data whatever ran before it (pytest-xdist splits the file)."""
    global rng
    rng = np.random.default_rng(1)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def close(a, b, rtol=1e-5, atol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def same_tree(got, ref, **kw):
    gl, gt = xf.tree_util.tree_flatten(got)
    rl, rt = jax.tree_util.tree_flatten(ref)
    assert len(gl) == len(rl), (gt, rt)
    for g, r in zip(gl, rl):
        close(g, r, **kw)


def eqn_names(closed):
    return [e.prim.name for e in closed.eqns]


# ----------------------------------------------------------------------------- in_axes / out_axes
def test_in_axes_forms():
    x, y = f32(3, 4), f32(4, 3)

    def f(a, b):
        return a * 2.0 + b

    # (in_axes, args): both mapped over 3 examples of shape (4,)
    for in_axes, a, b in [(0, x, y.T), ((0, 1), x, y), ([0, 1], x, y), ((-2, -1), x, y), ((1, 0), x.T, y.T),
                          ((0, -1), x, y)]:
        same_tree(xf.vmap(f, in_axes)(a, b), jax_side(lambda: jax.vmap(f, in_axes)(a, b)))
    # None: not mapped, broadcast against the batch
    same_tree(xf.vmap(f, (None, 0))(x[0], x), jax_side(lambda: jax.vmap(f, (None, 0))(x[0], x)))
    same_tree(xf.vmap(f, in_axes=(0, None))(x, 1.5), jax_side(lambda: jax.vmap(f, in_axes=(0, None))(x, 1.5)))


def test_in_axes_pytree_prefixes():
    d = {"a": f32(3, 2), "b": f32(2)}
    g = lambda d: d["a"] * d["b"]  # noqa: E731
    same_tree(xf.vmap(g, in_axes=({"a": 0, "b": None},))(d), jax_side(lambda: jax.vmap(g, in_axes=({"a": 0, "b": None},))(d)))
    # a tuple of weights mapped with one None (prefix of the whole tuple)
    W = (f32(5, 4), f32(2, 5))
    net = lambda x, W: W[1] @ xnp.tanh(W[0] @ x)  # noqa: E731
    jnet = lambda x, W: W[1] @ jnp.tanh(W[0] @ x)  # noqa: E731
    xs = f32(6, 4)
    same_tree(xf.vmap(net, in_axes=(0, None))(xs, W), jax_side(lambda: jax.vmap(jnet, in_axes=(0, None))(xs, W)))
    # nested prefix: one leaf mapped along 1, the other not mapped
    t = (f32(2, 3), [f32(4)])
    h = lambda t: t[0].sum() + t[1][0]  # noqa: E731
    same_tree(xf.vmap(h, in_axes=((1, [None]),))(t), jax_side(lambda: jax.vmap(h, in_axes=((1, [None]),))(t)))


def test_out_axes_forms():
    x, y = f32(3, 2), f32(2)

    def f(a, b):
        return {"s": a + b, "t": b, "u": (a * 2.0, 3.0)}

    for out_axes in [0, -1, {"s": 1, "t": None, "u": (0, -1)}, {"s": 0, "t": 1, "u": (1, 0)}]:
        same_tree(xf.vmap(f, in_axes=(0, None), out_axes=out_axes)(x, y),
                  jax_side(lambda: jax.vmap(f, in_axes=(0, None), out_axes=out_axes)(x, y)))
    _raises(ValueError, "out of bounds", xf.vmap(f, in_axes=(0, None), out_axes=1), x, y)  # the 3.0
    # negative in and out axes together
    z = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    close(xf.vmap(lambda v: v * 2.0, in_axes=-1, out_axes=-1)(z), z * 2.0)


def test_kwargs_are_mapped_over_axis_0():
    x, y = f32(3, 2), f32(3, 2)
    f = lambda a, *, b: a * b  # noqa: E731
    same_tree(xf.vmap(f, in_axes=1)(x.T, b=y), jax_side(lambda: jax.vmap(f, in_axes=1)(x.T, b=y)))
    same_tree(xf.vmap(f)(x, b=y), x * y)


def test_constant_and_unbatched_outputs_broadcast():
    x = f32(3, 2)
    same_tree(xf.vmap(lambda a: 1.0)(x), jax_side(lambda: jax.vmap(lambda a: 1.0)(x)))
    r = xf.vmap(lambda a: 1.0)(x)
    assert r.weak_type == jax_side(lambda x: jax.vmap(lambda a: 1.0)(x), x).weak_type
    w = f32(2)
    same_tree(xf.vmap(lambda a: (a.sum(), w), out_axes=(0, 1))(x),
              jax_side(lambda: jax.vmap(lambda a: (a.sum(), w), out_axes=(0, 1))(x)))
    same_tree(xf.vmap(lambda: xnp.ones(2), axis_size=4)(), jax_side(lambda: jax.vmap(lambda: jnp.ones(2), axis_size=4)()))
    same_tree(xf.vmap(lambda a: (a, 2), in_axes=None, axis_size=3)(w),
              jax_side(lambda: jax.vmap(lambda a: (a, 2), in_axes=None, axis_size=3)(w)))
    # out_axes=None keeps an unbatched output as it is
    same_tree(xf.vmap(lambda a, b: (a + b, b), in_axes=(0, None), out_axes=(0, None))(x, w),
              jax_side(lambda: jax.vmap(lambda a, b: (a + b, b), in_axes=(0, None), out_axes=(0, None))(x, w)))


def test_dtypes_and_weak_types_follow_jax():
    x = np.arange(3, dtype=np.int32)
    for f in [lambda a: a + 1, lambda a: a * 1.5, lambda a: a > 1, lambda a: a.astype(np.float32) / 2]:
        g, r = xf.vmap(f)(x), jax_side(lambda x: jax.vmap(f)(x), x)
        close(g, r)
        assert g.weak_type == r.weak_type
    g, r = xf.vmap(lambda a: a * 2.0, in_axes=None, axis_size=2)(1.0), \
        jax_side(lambda: jax.vmap(lambda a: a * 2.0, in_axes=None, axis_size=2)(1.0))
    close(g, r)
    assert g.weak_type == r.weak_type


def test_nested_vmap():
    x, y = f32(3, 5), f32(4, 5)
    k = lambda a, b: xnp.sum((a - b) * (a - b))  # noqa: E731
    jk = lambda a, b: jnp.sum((a - b) * (a - b))  # noqa: E731
    g1 = xf.vmap(lambda a: xf.vmap(lambda b: k(a, b))(y))(x)
    g2 = xf.vmap(xf.vmap(k, (None, 0)), (0, None))(x, y)
    r = jax_side(lambda x, y: jax.vmap(jax.vmap(jk, (None, 0)), (0, None))(x, y), x, y)
    same_tree(g1, r)
    same_tree(g2, r)
    # the same axis mapped by both levels, different in/out axes
    z = f32(2, 3, 4)
    f = lambda v: v * xnp.sum(v)  # noqa: E731
    jf = lambda v: v * jnp.sum(v)  # noqa: E731
    same_tree(xf.vmap(xf.vmap(f, 1, 0), 2, 1)(z), jax_side(lambda: jax.vmap(jax.vmap(jf, 1, 0), 2, 1)(z)))


def test_eager_vmap_of_numpy_functions():
    """Rules under the eager trace (no jit around the vmap)."""
    x, y, yb = f32(4, 3), f32(3, 2), f32(3, 2, 4)
    fs = [
        (lambda a, b: a @ b, lambda a, b: a @ b, (0, None), y),
        (lambda a, b: xnp.max(a) * b, lambda a, b: jnp.max(a) * b, (0, None), y),
        (lambda a, b: a.reshape(3, 1) + b, lambda a, b: a.reshape(3, 1) + b, (0, 2), yb),
        (lambda a, b: xnp.where(a > 0, a, 0.0) + b.sum(), lambda a, b: jnp.where(a > 0, a, 0.0) + b.sum(),
         (0, -1), yb),
        (lambda a, b: a[1:] * b[0, 0], lambda a, b: a[1:] * b[0, 0], (0, 2), yb),
        (lambda a, b: xnp.concatenate([a, b[:, 0]]).T, lambda a, b: jnp.concatenate([a, b[:, 0]]).T, (0, 2), yb),
    ]
    for f, jf, axes, b in fs:
        same_tree(xf.vmap(f, axes)(x, b), jax_side(lambda: jax.vmap(jf, axes)(x, b)))


# ----------------------------------------------------------------------------- the batched graph
def test_make_jaxpr_shows_the_batched_graph():
    f = lambda x, w: xnp.tanh(w @ x)  # noqa: E731
    closed = xf.make_jaxpr(xf.vmap(f, in_axes=(0, None)))(np.ones((7, 3), np.float32), np.ones((2, 3), np.float32))
    text = str(closed)
    assert "dot_general" in text and "tanh" in text
    assert closed.in_avals[0].shape == (7, 3)
    assert closed.out_avals[0].shape == (7, 2)
    names = eqn_names(closed)
    assert names.count("dot_general") == 1 and "broadcast_in_dim" not in names, text


def test_unbatched_operands_stay_unbatched():
    w = np.ones((3, 3), np.float32)
    closed = xf.make_jaxpr(xf.vmap(lambda x: xnp.sin(w) * 2.0 + x))(np.ones((5, 3, 3), np.float32))
    # sin(w) * 2.0 is computed once at its own shape; only the add meets the batch
    avals = {e.prim.name: e.outvars[0].aval.shape for e in closed.eqns}
    assert avals["sin"] == (3, 3) and avals["mul"] == (3, 3), str(closed)
    # a scalar operand needs no broadcast at all
    closed = xf.make_jaxpr(xf.vmap(lambda x, s: x * s, (0, None)))(np.ones((5, 3), np.float32), np.float32(2))
    assert eqn_names(closed) == ["mul"], str(closed)
    # an all-unbatched primitive is not batched (and stays concrete, so Python control flow works)
    def f(x, n):
        m = xnp.asarray(n) * 2
        if m > 3:
            return x * m
        return x
    close(xf.vmap(f, (0, None))(np.ones((2, 2), np.float32), 3), np.full((2, 2), 6, np.float32))


# ----------------------------------------------------------------------------- jit
def test_vmap_of_jit_stays_jitted_and_cached():
    @xf.jit
    def g(a, x):
        return a * x - a * x * x

    xs = np.linspace(0.1, 0.9, 5, dtype=np.float32)
    vec = xf.vmap(lambda a: g(0.5, a))
    close(vec(xs), jax_side(lambda: jax.vmap(lambda a: 0.5 * a - 0.5 * a * a)(xs)))
    closed = xf.make_jaxpr(vec)(xs)
    assert eqn_names(closed) == ["jit"]
    n = g.trace_count
    close(vec(xs + 1), jax_side(lambda: jax.vmap(lambda a: 0.5 * a - 0.5 * a * a)(xs + 1)))
    assert g.trace_count == n  # no retrace; the batched graph is cached
    # jit of vmap, and jit of vmap of jit
    j = xf.jit(xf.vmap(lambda a: g(a, 2.0)))
    close(j(xs), xs * 2.0 - xs * 4.0)
    assert j.trace_count == 1
    close(j(xs * 2), xs * 4.0 - xs * 8.0)
    assert j.trace_count == 1
    # mapped jit arguments along other axes, and an unbatched output of the jitted function
    h = xf.jit(lambda a, b: (a @ b, b.sum()))
    A, Bs = f32(2, 3), f32(3, 4, 5)
    same_tree(xf.vmap(h, in_axes=(None, 2), out_axes=(1, 0))(A, Bs),
              jax_side(lambda: jax.vmap(lambda a, b: (a @ b, jnp.sum(b)), in_axes=(None, 2), out_axes=(1, 0))(A, Bs)), rtol=1e-4,
              atol=1e-5)
    g2 = xf.jit(lambda a, b: (a * 2.0, b.sum()))
    out = xf.vmap(g2, in_axes=(0, None), out_axes=(0, None))(A, Bs)
    close(out[1], np.float32(Bs.sum()), rtol=1e-4)


def test_vmap_of_vmap_of_jit():
    g = xf.jit(lambda a, b: xnp.sum(a * b))
    x, y = f32(3, 4), f32(5, 4)
    same_tree(xf.vmap(xf.vmap(g, (None, 0)), (0, None))(x, y), x @ y.T, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- autodiff
def test_vmap_of_grad_and_grad_of_vmap():
    xs = np.linspace(-2, 2, 7).astype(np.float32)
    close(xf.vmap(xf.grad(xnp.sin))(xs), np.cos(xs))
    f = lambda x: xnp.sin(x) + xnp.cos(x) * x * x  # noqa: E731
    jf = lambda x: jnp.sin(x) + jnp.cos(x) * x * x  # noqa: E731
    same_tree(xf.jit(xf.vmap(xf.grad(f)))(xs), jax_side(lambda: jax.vmap(jax.grad(jf))(xs)), rtol=1e-5, atol=1e-5)
    same_tree(xf.grad(lambda x: xnp.sum(xf.vmap(f)(x)))(xs), jax_side(lambda: jax.grad(lambda x: jnp.sum(jax.vmap(jf)(x)))(xs)),
              rtol=1e-5, atol=1e-5)
    W = f32(3, 4)
    loss = lambda W, x: xnp.sum(xnp.tanh(W @ x))  # noqa: E731
    jloss = lambda W, x: jnp.sum(jnp.tanh(W @ x))  # noqa: E731
    X = f32(6, 4)
    # per-example gradients, and the gradient of a batched loss
    same_tree(xf.vmap(xf.grad(loss), (None, 0))(W, X), jax_side(lambda: jax.vmap(jax.grad(jloss), (None, 0))(W, X)), rtol=1e-4,
              atol=1e-5)
    same_tree(xf.grad(lambda W: xnp.sum(xf.vmap(loss, (None, 0))(W, X)))(W),
              jax_side(lambda: jax.grad(lambda W: jnp.sum(jax.vmap(jloss, (None, 0))(W, X)))(W)), rtol=1e-4, atol=1e-5)


def _jacobians(lib, np_):
    f = lambda x: np_.sin(x) * x[0] + x @ x  # noqa: E731

    def all_of_them(x, X, e4):
        return (lib.jacfwd(f)(x), lib.jacrev(f)(x), lib.hessian(lambda x: np_.sum(f(x)))(x),
                # Jacobians by vmapping jvp over eye(n) and vjp over eye(m)
                lib.vmap(lambda v: lib.jvp(f, (x,), (v,))[1], out_axes=1)(e4),
                lib.vmap(lambda w: lib.vjp(f, x)[1](w)[0])(e4),
                # vmap of a jacobian (batched through vmap of vmap)
                lib.vmap(lib.jacrev(f))(X), lib.vmap(lib.jacfwd(f))(X))
    return all_of_them


def test_jacobians_and_hessian():
    x, X, e4 = f32(4), f32(3, 4), np.eye(4, dtype=np.float32)
    got = xf.jit(_jacobians(xf, xnp))(x, X, e4)
    ref = jax_side(lambda x, X, e4: jax.jit(_jacobians(jax, jnp))(x, X, e4), x, X, e4)
    same_tree(got, ref, rtol=1e-4, atol=1e-4)
    ref_fwd = jax_side(lambda x: jax.jacfwd(lambda x: jnp.sin(x) * x[0] + x @ x)(x), x)
    same_tree(got[3], ref_fwd, rtol=1e-5, atol=1e-5)
    same_tree(got[4], ref_fwd, rtol=1e-5, atol=1e-5)
    # eagerly too (rules under the eager trace)
    same_tree(xf.jacrev(lambda x: xnp.sin(x) * x[0])(x), jax_side(lambda: jax.jacrev(lambda x: jnp.sin(x) * x[0])(x)))


# ----------------------------------------------------------------------------- indexing and .at[]
def test_indexing_and_updates_batched():
    x, i = f32(4, 5), np.array([0, 3, 1, 4], np.int32)
    same_tree(xf.vmap(lambda r, j: r[j])(x, i), jax_side(lambda: jax.vmap(lambda r, j: r[j])(x, i)))
    same_tree(xf.vmap(lambda r, j: r[j], (None, 0))(xnp.asarray(x[0]), i),
              jax_side(lambda: jax.vmap(lambda r, j: r[j], (None, 0))(jnp.asarray(x[0]), i)))
    same_tree(xf.vmap(lambda r: r[1:3] * 2.0)(x), jax_side(lambda: jax.vmap(lambda r: r[1:3] * 2.0)(x)))
    same_tree(xf.vmap(lambda r, j: r.at[j].set(9.0))(x, i), jax_side(lambda: jax.vmap(lambda r, j: r.at[j].set(9.0))(x, i)))
    same_tree(xf.vmap(lambda r, j: r.at[j].add(1.0), (0, None))(x, 2),
              jax_side(lambda: jax.vmap(lambda r, j: r.at[j].add(1.0), (0, None))(x, 2)))
    same_tree(xf.vmap(lambda r, j: P.dynamic_slice(r, (j,), (2,)))(x, i),
              jax_side(lambda: jax.vmap(lambda r, j: jax.lax.dynamic_slice(r, (j,), (2,)))(x, i)))


# ----------------------------------------------------------------------------- bad input
def _raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_inconsistent_sizes():
    f = xf.vmap(lambda x, y: x + y)
    msg = _raises(ValueError, "inconsistent sizes", f, np.ones(3, np.float32), np.ones(4, np.float32))
    assert "size 3" in msg and "size 4" in msg and "argument x" in msg and "argument y" in msg
    assert "test_vmap.py" in msg
    msg = _raises(ValueError, "inconsistent sizes", f, np.ones((3, 2), np.float32), [np.ones((4, 2), np.float32)])
    assert "argument y[0]" in msg and "float32[4,2]" in msg
    msg = _raises(ValueError, "inconsistent sizes", xf.vmap(lambda x: x, axis_size=4), np.ones(3, np.float32))
    assert "axis_size" in msg
    close(f(np.ones(3, np.float32), np.ones(3, np.float32)), np.full(3, 2.0, np.float32))


def test_in_axes_tree_mismatch():
    f = lambda x, y: x  # noqa: E731
    _raises(ValueError, "in_axes", xf.vmap(f, in_axes=(0,)), np.ones(3), np.ones(3))
    _raises(ValueError, "tree prefix", xf.vmap(f, in_axes=(0, {"a": 0})), np.ones(3), np.ones(3))
    _raises(ValueError, "tree prefix", xf.vmap(f, in_axes=(0, (0, 0))), np.ones(3), (np.ones(3),))
    _raises(TypeError, "in_axes must be an int", xf.vmap, f, in_axes="a")
    _raises(TypeError, "in_axes must be an int", xf.vmap, f, in_axes=np.int64(0))  # as JAX
    _raises(TypeError, "in_axes must be an int", xf.vmap, f, in_axes=(np.int64(0), 1))
    _raises(TypeError, "in_axes must be an int", xf.vmap, f, in_axes=(0, 1.5))
    _raises(TypeError, "out_axes must be an int", xf.vmap, f, out_axes=(0, "b"))
    _raises(ValueError, "out_axes", xf.vmap(lambda x: (x, x), out_axes=(0, 0, 0)), np.ones(3))
    close(xf.vmap(f, in_axes=(0, None))(np.ones(3, np.float32), np.ones(3)), np.ones(3, np.float32))


def test_axis_out_of_range():
    msg = _raises(ValueError, "axis 2", xf.vmap(lambda x: x, in_axes=2), np.ones(3, np.float32))
    assert "(3,)" in msg
    _raises(ValueError, "axis -2", xf.vmap(lambda x: x, in_axes=-2), np.ones(3, np.float32))
    _raises(ValueError, "out of bounds", xf.vmap(lambda x: x, out_axes=3), np.ones(3, np.float32))
    _raises(ValueError, "out of bounds", xf.vmap(lambda x: x, out_axes=-3), np.ones(3, np.float32))
    close(xf.vmap(lambda x: x * 2, in_axes=1, out_axes=-1)(np.ones((2, 3), np.float32)),
          np.full((2, 3), 2.0, np.float32))


def test_mapping_a_scalar():
    _raises(ValueError, "rank should be at least 1", xf.vmap(lambda x: x), 1.0)
    _raises(ValueError, "rank should be at least 1", xf.vmap(lambda x: x), np.float32(1.0))
    close(xf.vmap(lambda x: x)(np.ones(2, np.float32)), np.ones(2, np.float32))


def test_axis_size_needed():
    _raises(ValueError, "axis_size", xf.vmap(lambda x: x, in_axes=None), np.ones(3))
    _raises(ValueError, "axis_size", xf.vmap(lambda: 1.0))
    close(xf.vmap(lambda x: x, in_axes=None, axis_size=2)(np.ones(3, np.float32)), np.ones((2, 3), np.float32))


def test_batched_output_with_out_axes_none():
    _raises(ValueError, "out_axes", xf.vmap(lambda x: x * 2, out_axes=None), np.ones(3, np.float32))
    close(xf.vmap(lambda x: x * 2, out_axes=0)(np.ones(3, np.float32)), np.full(3, 2.0, np.float32))


def test_python_control_flow_on_batched_values():
    def f(x):
        if x > 0:
            return x
        return -x
    _raises(xf.ConcretizationTypeError, "batched", xf.vmap(f), np.ones(3, np.float32))
    close(xf.vmap(lambda x: xnp.where(x > 0, x, -x))(np.array([-1.0, 2.0], np.float32)),
          np.array([1.0, 2.0], np.float32))


def test_leaked_tracer():
    box = []
    xf.vmap(lambda x: box.append(x) or x)(np.ones(3, np.float32))
    _raises(xf.UnexpectedTracerError, "unexpected tracer", lambda: box[0] + 1.0)
    close(xf.vmap(lambda x: x + 1.0)(np.ones(3, np.float32)), np.full(3, 2.0, np.float32))


def test_errors_inside_the_mapped_function():
    # a shape error while batching names the user's line; the next call works
    f = xf.vmap(lambda x, y: x @ y)
    _raises(TypeError, "test_vmap.py", f, np.ones((2, 3), np.float32), np.ones((2, 4), np.float32))
    close(f(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)), np.full(2, 3.0, np.float32))
    _raises(TypeError, "callable", xf.vmap, 3)


def _batched_indexing_derivatives(lib, np_, lax_):
    def all_of_them(x, u, i, x3, i3):
        dus = lambda x, u: lib.vmap(lambda r, v, j: lax_.dynamic_update_slice(r, v * v, (j,)))(x, u, i3)  # noqa
        return (lib.vmap(lib.grad(lambda r, j: r[j] * r[0]))(x, i),
                lib.grad(lambda x: np_.sum(lib.vmap(lambda r, j: r[j] * r[j])(x, i)))(x),
                lib.grad(lambda x: np_.sum(lib.vmap(lambda r, j: lax_.dynamic_slice(r, (j,), (2,)))(x, i) ** 2))(x),
                lib.jacfwd(lambda x: lib.vmap(lambda r, j: r.at[j].mul(r[0]))(x, i))(x),
                lib.grad(lambda x, u: np_.sum(dus(x, u) ** 2), (0, 1))(x3, u),
                lib.jacfwd(lambda u: dus(x3, u))(u))
    return all_of_them


def test_autodiff_through_batched_indexing():
    """Gathers, scatters and dynamic slices made by batch rules, differentiated both ways."""
    args = (f32(4, 5), f32(3, 2), np.array([0, 3, 1, 4], np.int32), f32(3, 5), np.array([0, 3, 1], np.int32))
    got = xf.jit(_batched_indexing_derivatives(xf, xnp, P))(*args)
    ref = jax_side(lambda *args: jax.jit(_batched_indexing_derivatives(jax, jnp, jax.lax))(*args), *args)
    same_tree(got, ref)
    x, i = args[0], args[2]
    same_tree(xf.vmap(xf.grad(lambda r, j: r[j] * r[0]))(x, i), jax_side(lambda: jax.vmap(jax.grad(lambda r, j: r[j] * r[0]))(x, i)))


def test_shape_errors_name_the_per_example_shapes():
    f = xf.vmap(lambda x, y: P.dot_general(x, y, (((1,), (0,)), ((), ()))))
    msg = _raises(TypeError, "contracting", f, np.ones((2, 2, 3), np.float32), np.ones((2, 4, 5), np.float32))
    assert "(2, 3)" in msg and "(4, 5)" in msg and "test_vmap.py" in msg
    close(f(np.ones((2, 2, 3), np.float32), np.ones((2, 3, 5), np.float32)), np.full((2, 2, 5), 3.0, np.float32))


def test_vmap_of_numpy_layer_functions_against_jax():
    """The numpy layer composes many primitives; vmapped (in and out axes varied) it agrees
    with jax.vmap of jax.numpy. One compiled program per library keeps this cheap."""
    a, b, c, d = f32(3, 4, 5), f32(4, 5), f32(3, 2, 5), f32(5, 4)
    cases = [  # (xlafront fn, jax fn, in_axes, out_axes, args)
        (lambda x, y: xnp.mean(x, 0) + y[:, 0], lambda x, y: jnp.mean(x, 0) + y[:, 0], (2, None), 0, (a, b)),
        (lambda x, y: xnp.var(x, axis=1) * xnp.std(y), lambda x, y: jnp.var(x, axis=1) * jnp.std(y), (0, None), 1,
         (a, b)),
        (lambda x, y: xnp.cumsum(x, axis=0) - y.sum(), lambda x, y: jnp.cumsum(x, axis=0) - y.sum(), (1, 0), 0,
         (a, b)),
        (lambda x, y: xnp.argmax(x, axis=1), lambda x, y: jnp.argmax(x, axis=1), (2, None), -1, (a, b)),
        (lambda x, y: xnp.where(x > y, x, y), lambda x, y: jnp.where(x > y, x, y), (0, None), 0, (a, b)),
        (lambda x, y: xnp.clip(x, -0.5, y), lambda x, y: jnp.clip(x, -0.5, y), (0, None), 2, (a, b)),
        (lambda x, y: xnp.einsum("ij,kj->ik", x, y), lambda x, y: jnp.einsum("ij,kj->ik", x, y), (0, 0), 0, (a, c)),
        (lambda x, y: xnp.matmul(x, y.T), lambda x, y: jnp.matmul(x, y.T), (1, None), 1, (a, b[:2])),
        (lambda x, y: xnp.tensordot(x, y, 1), lambda x, y: jnp.tensordot(x, y, 1), (0, 1), 0, (a, f32(5, 3, 2))),
        (lambda x, y: xnp.concatenate([x, y]).reshape(-1), lambda x, y: jnp.concatenate([x, y]).reshape(-1),
         (0, None), 0, (a, b)),
        (lambda x, y: xnp.stack([x, x * 2.0], axis=-1), lambda x, y: jnp.stack([x, x * 2.0], axis=-1), (2, None), 1,
         (a, b)),
        (lambda x, y: xnp.take(x, xnp.array([2, 0]), axis=1), lambda x, y: jnp.take(x, jnp.array([2, 0]), axis=1),
         (0, None), 0, (a, b)),
        (lambda x, y: xnp.linalg.norm(x - y, axis=-1), lambda x, y: jnp.linalg.norm(x - y, axis=-1), (1, 0), 0,
         (a, b)),
        (lambda x, y: xnp.tile(xnp.flip(x, 0), (2, 1)), lambda x, y: jnp.tile(jnp.flip(x, 0), (2, 1)), (1, None), 0,
         (a, b)),
        (lambda x, y: xnp.roll(x, 2, axis=1) * xnp.max(y, axis=0),
         lambda x, y: jnp.roll(x, 2, axis=1) * jnp.max(y, axis=0), (2, 0), 0, (a, d)),
        (lambda x, y: xnp.tril(x) + xnp.diagonal(x).sum(), lambda x, y: jnp.tril(x) + jnp.diagonal(x).sum(),
         (0, None), 1, (a, b)),
        (lambda x, y: xnp.pad(x, ((1, 0), (0, 2))), lambda x, y: jnp.pad(x, ((1, 0), (0, 2))), (2, None), 0, (a, b)),
        (lambda x, y: xnp.moveaxis(x[None], 0, -1)[..., 0] @ y[0], lambda x, y: jnp.moveaxis(x[None], 0, -1)[..., 0]
         @ y[0], (0, None), 0, (a, b)),
    ]

    def run(lib_vmap, which):
        def all_cases(args):
            return [lib_vmap(c[which], in_axes=c[2], out_axes=c[3])(*xs) for c, xs in zip(cases, args)]
        return all_cases

    args = [c[4] for c in cases]
    got = xf.jit(run(xf.vmap, 0))(args)
    ref = jax_side(lambda args: jax.jit(run(jax.vmap, 1))(args), args)
    for k, (g, r) in enumerate(zip(got, ref)):
        try:
            close(g, r, rtol=1e-4, atol=1e-5)
        except AssertionError as e:
            raise AssertionError(f"case {k}: {e}") from None


def test_non_array_values():
    _raises(TypeError, "str", xf.vmap(lambda x: "abc"), np.ones(3, np.float32))
    _raises(TypeError, "not a valid", xf.vmap(lambda x: x), "abc")
    # a non-array argument that is not mapped is passed through as it is
    close(xf.vmap(lambda x, s: x * len(s), (0, None))(np.ones(3, np.float32), "ab"), np.full(3, 2.0, np.float32))
