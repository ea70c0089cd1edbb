"""jax.lax helpers in xlafront/lax/_extras.py (the *_in_dim family, index_take, collapse,
batch_matmul, sort_key_val, top_k, reduce) and the misc primitives (clz, reduce_precision,
optimization_barrier): values, dtypes and weak types against JAX eagerly and under jit,
derivatives against JAX, vmap against a Python loop, bad input, StableHLO."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core
from jax_ref import jax_side

HERE = "test_lax_extras.py"
rng = np.random.default_rng(0)
X34 = rng.standard_normal((3, 4)).astype(np.float32)
X234 = rng.standard_normal((2, 3, 4)).astype(np.float32)
NAN = np.nan


def _leaves_equal(ours, ref, exact=True, where=""):
    o, r = xf.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(ref)
    assert len(o) == len(r), (where, ours, ref)
    assert xf.tree_util.tree_structure(ours).num_leaves == jax.tree_util.tree_structure(ref).num_leaves
    for a, b in zip(o, r):
        a_np, b_np = np.asarray(a), np.asarray(b)
        assert a_np.shape == b_np.shape and a_np.dtype == b_np.dtype, (where, a, b)
        assert bool(getattr(a, "weak_type", False)) == bool(getattr(b, "weak_type", False)), (where, a, b)
        if exact:
            np.testing.assert_array_equal(a_np, b_np, err_msg=where)
        else:
            np.testing.assert_allclose(a_np, b_np, rtol=1e-5, atol=1e-6, err_msg=where)


# Each case: (name, fn(lax, *args), args). Run under both libraries, eagerly and under jit.
CASES = [
    ("dynamic_slice_in_dim", lambda l, x: l.dynamic_slice_in_dim(x, 1, 2, axis=1), (X34,)),
    ("dynamic_slice_in_dim neg", lambda l, x: l.dynamic_slice_in_dim(x, -1, 2, 1), (X34,)),
    ("dynamic_slice_in_dim clamp", lambda l, x: l.dynamic_slice_in_dim(x, 3, 2, -2), (X34,)),
    ("dynamic_slice_in_dim traced", lambda l, x, i: l.dynamic_slice_in_dim(x, i, 2, 1), (X34, np.int32(-3))),
    ("dynamic_slice_in_dim int8", lambda l, x, i: l.dynamic_slice_in_dim(x, i, 2, 1), (X34, np.int8(2))),
    ("dynamic_slice_in_dim no neg", lambda l, x, i: l.dynamic_slice_in_dim(
        x, i, 2, 1, allow_negative_indices=False), (X34, np.int32(1))),
    ("dynamic_index_in_dim", lambda l, x: l.dynamic_index_in_dim(x, -1, 1, keepdims=False), (X34,)),
    ("dynamic_index_in_dim keep", lambda l, x, i: l.dynamic_index_in_dim(x, i), (X34, np.int32(2))),
    ("index_in_dim", lambda l, x: l.index_in_dim(x, -1, 1, keepdims=False), (X34,)),
    ("index_in_dim keep", lambda l, x: l.index_in_dim(x, 1), (X34,)),
    ("slice_in_dim", lambda l, x: l.slice_in_dim(x, None, -1, 2, axis=1), (X34,)),
    ("slice_in_dim axis0", lambda l, x: l.slice_in_dim(x, 1, None), (X34,)),
    ("dynamic_update_slice_in_dim", lambda l, x, u: l.dynamic_update_slice_in_dim(x, u, -1, axis=1),
     (X34, np.ones((3, 2), np.float32))),
    ("dynamic_update_slice_in_dim traced", lambda l, x, u, i: l.dynamic_update_slice_in_dim(x, u, i, 0),
     (X34, np.ones((1, 4), np.float32), np.int32(2))),
    ("dynamic_update_index_in_dim", lambda l, x, u: l.dynamic_update_index_in_dim(x, u, 1, axis=1),
     (X34, np.full((3,), 7.0, np.float32))),
    ("dynamic_update_index_in_dim keep", lambda l, x, u: l.dynamic_update_index_in_dim(x, u, -1, 0),
     (X34, np.full((1, 4), 7.0, np.float32))),
    ("index_take", lambda l, x: l.index_take(x, (jnp.array([0, 2, -1]) if l is jax.lax else
                                                 xnp.array([0, 2, -1]), np.array([1, 3, 5])), (0, 1)), (X34,)),
    ("index_take one axis", lambda l, x, i: l.index_take(x, (i,), (1,)), (X234, np.array([3, 0, -2], np.int32))),
    ("collapse", lambda l, x: l.collapse(x, 1, 3), (X234,)),
    ("collapse tail", lambda l, x: l.collapse(x, -2), (X234,)),
    ("collapse empty range", lambda l, x: l.collapse(x, 1, 1), (X34,)),
    ("batch_matmul", lambda l, a, b: l.batch_matmul(a, b), (X234, rng.standard_normal((2, 4, 5)).astype(np.float32))),
    ("batch_matmul 2d", lambda l, a, b: l.batch_matmul(a, b, precision="highest"), (X34, X34.T.copy())),
    ("sort_key_val", lambda l, k, v: l.sort_key_val(k, v), (np.array([3, 1, 2, 1], np.int32), X34[0])),
    ("sort_key_val dim0", lambda l, k, v: l.sort_key_val(k, v, dimension=0), (X34, X34 * 2)),
    ("top_k", lambda l, x: l.top_k(x, 2), (X34,)),
    ("top_k axis0", lambda l, x: l.top_k(x, 2, axis=0), (X34,)),
    ("top_k k=0", lambda l, x: l.top_k(x, 0), (X34,)),
    ("top_k specials", lambda l, x: l.top_k(x, 9),
     (np.array([1., NAN, 3., -NAN, 3., 0., -0., -np.inf, np.inf], np.float32),)),
    ("top_k ties", lambda l, x: l.top_k(x, 3), (np.array([-0., 0., -0., 2., 2.], np.float32),)),
    ("top_k int", lambda l, x: l.top_k(x, 4), (np.array([1, -2**31, 2**31 - 1, 1], np.int32),)),
    ("top_k uint8", lambda l, x: l.top_k(x, 2), (np.array([1, 200, 3], np.uint8),)),
    ("top_k bool", lambda l, x: l.top_k(x, 2), (np.array([True, False, True]),)),
    ("top_k bf16", lambda l, x: l.top_k(x, 2), (np.array([1., -2., 3.], jnp.bfloat16),)),
    ("top_k weak", lambda l: l.top_k(3.0 * (jnp.ones(3) if l is jax.lax else xnp.ones(3)), 2), ()),
    ("reduce add", lambda l, x: l.reduce(x, 0., l.add, (0,)), (X34,)),
    ("reduce int init", lambda l, x: l.reduce(x, 0, l.add, (1,)), (X34,)),
    ("reduce lambda", lambda l, x: l.reduce(x, 0., lambda a, b: a + b, (0, 1)), (X34,)),
    ("reduce max", lambda l, x: l.reduce(x, -np.inf, l.max, (1,)), (X34,)),
    ("reduce min none", lambda l, x: l.reduce(x, np.inf, l.min, ()), (X34,)),
    ("reduce mul init", lambda l, x: l.reduce(x, 2., l.mul, (0,)), (X34,)),
    ("reduce max init", lambda l, x: l.reduce(x, 0.5, l.max, (0, 1)), (X34,)),
    ("reduce pair", lambda l, x: l.reduce((x, x), (0., 1.), lambda a, b: (a[0] + b[0], a[1] * b[1]), (0,)), (X34,)),
    ("reduce dict", lambda l, x, n: l.reduce({"s": x, "n": n}, {"s": 0., "n": 0}, lambda a, b: {
        "s": l.max(a["s"], b["s"]), "n": l.bitwise_xor(b["n"], a["n"])}, (1,)),
     (X34, np.arange(12, dtype=np.int32).reshape(3, 4))),
    ("reduce and int", lambda l, x: l.reduce(x, -1, l.bitwise_and, (0,)), (np.array([[7, 5, -1], [3, 6, 12]], np.int32),)),
    ("reduce or int", lambda l, x: l.reduce(x, 0, l.bitwise_or, (0, 1)), (np.array([[1, 4, 0], [8, 2, 64]], np.int32),)),
    ("reduce or int init", lambda l, x: l.reduce(x, 16, l.bitwise_or, (1,)), (np.array([[1, 4, 0], [8, 2, 64]], np.int32),)),
    ("reduce and int empty", lambda l, x: l.reduce(x, -1, l.bitwise_and, (0,)), (np.zeros((0, 3), np.int32),)),
    ("reduce and bool", lambda l, x: l.reduce(x, True, l.bitwise_and, (1,)), (np.array([[True, False], [True, True]]),)),
    ("reduce int max", lambda l, x: l.reduce(x, np.iinfo(np.int32).min, l.max, (0,)), (np.array([[-3, 2], [5, -9]], np.int32),)),
    ("reduce_precision", lambda l, x: l.reduce_precision(x, 5, 10), (X34 * 1000,)),
    ("reduce_precision weak", lambda l: l.reduce_precision(1.2345, 5, 2), ()),
    ("reduce_precision bf16", lambda l, x: l.reduce_precision(x, 4, 3), (X34.astype(jnp.bfloat16),)),
    ("clz", lambda l, x: l.clz(x), (np.array([1, 2, 0, -1, 2**30], np.int32),)),
    ("clz uint8", lambda l, x: l.clz(x), (np.array([1, 3, 0, 255], np.uint8),)),
    ("clz weak", lambda l: l.clz(3), ()),
    ("optimization_barrier", lambda l, x: l.optimization_barrier((x, 2 * x)), (X34,)),
    ("optimization_barrier tree", lambda l, x: l.optimization_barrier([1, {"a": x}]), (X34,)),
    ("optimization_barrier one", lambda l: l.optimization_barrier(1.0), ()),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_against_jax(name, fn, args):
    exact = "matmul" not in name
    ref_jit = jax_side(lambda *args: jax.jit(lambda *a: fn(jax.lax, *a))(*args), *args)
    _leaves_equal(xf.jit(lambda *a: fn(xf.lax, *a))(*args), ref_jit, exact, name + " jit")
    # JAX computes the same eagerly (op by op); its eager run is compared where weak types are at stake
    ref = (jax_side(lambda *args: fn(jax.lax, *[jnp.asarray(a) for a in args]), *args)
           if "weak" in name or not args else ref_jit)
    _leaves_equal(fn(xf.lax, *[xnp.asarray(a) for a in args]), ref, exact, name + " eager")


def test_top_k_returns_a_list_and_sort_key_val_a_tuple_as_jax():
    x = xnp.asarray(X34)
    assert type(xf.lax.top_k(x, 1)) is type(jax.lax.top_k(jnp.asarray(X34), 1)) is list
    assert type(xf.lax.sort_key_val(x, x)) is type(jax.lax.sort_key_val(jnp.asarray(X34), jnp.asarray(X34))) \
        is tuple


def test_misc_primitives_print_and_lower_like_jax():
    f = lambda m: lambda x, n: (m.lax.optimization_barrier((x, 2 * x)), m.lax.reduce_precision(x, 5, 10),
                                m.lax.clz(n))
    x, n = np.float32(1.5), np.int32(3)
    ours, ref = str(xf.make_jaxpr(f(xf))(x, n)), str(jax.make_jaxpr(f(jax))(x, n))
    for eqn in ("optimization_barrier a c", "reduce_precision[exponent_bits=5 mantissa_bits=10] a", "clz"):
        assert eqn in ours and eqn in ref, (eqn, ours, ref)
    text = xf.jit(f(xf)).lower(x, n).as_text()
    assert re.search(r"%\d+:2 = stablehlo\.optimization_barrier %arg0, %\d+ : tensor<f32>, tensor<f32>", text), text
    assert "stablehlo.reduce_precision %arg0, format = e5m10 : tensor<f32>" in text, text
    assert "stablehlo.count_leading_zeros %arg1 : tensor<i32>" in text, text
    assert HERE in text   # each op carries the user's line


# ----------------------------------------------------------------------------- derivatives
GRAD_CASES = [
    ("dynamic_slice_in_dim", lambda l, x: l.dynamic_slice_in_dim(x, 1, 2, axis=1), (X34,)),
    ("dynamic_index_in_dim", lambda l, x: l.dynamic_index_in_dim(x, -1, 0, keepdims=False), (X34,)),
    ("slice_in_dim", lambda l, x: l.slice_in_dim(x, 0, 4, 3, axis=1), (X34,)),
    ("index_in_dim", lambda l, x: l.index_in_dim(x, 2, 1), (X34,)),
    ("dynamic_update_slice_in_dim", lambda l, x, u: l.dynamic_update_slice_in_dim(x, u, 2, 1),
     (X34, X34[:, :2] * 3)),
    ("dynamic_update_index_in_dim", lambda l, x, u: l.dynamic_update_index_in_dim(x, u, 0, 0), (X34, X34[1] * 3)),
    ("index_take", lambda l, x: l.index_take(x, (np.array([0, 2, 2]), np.array([3, 1, 3])), (0, 1)), (X34,)),
    ("collapse", lambda l, x: l.collapse(x, 0, 2), (X234,)),
    ("batch_matmul", lambda l, a, b: l.batch_matmul(a, b), (X234, X234.transpose(0, 2, 1) * 0.5)),
    ("sort_key_val", lambda l, k, v: l.sort_key_val(k, v)[1] * l.sort_key_val(k, v)[0], (X34, X34 * X34)),
    ("top_k", lambda l, x: l.top_k(x, 3)[0], (X34,)),
    ("top_k axis0", lambda l, x: l.top_k(x * x, 2, axis=0)[0], (X34,)),
    ("reduce add", lambda l, x: l.reduce(x, 0., l.add, (0,)), (X34,)),
    ("reduce max", lambda l, x: l.reduce(x, -np.inf, l.max, (1,)), (X34,)),
    ("reduce mul", lambda l, x: l.reduce(x, 1., l.mul, (0,)), (X34,)),
    ("reduce_precision", lambda l, x: l.reduce_precision(x * x, 5, 4), (X34,)),
    ("optimization_barrier", lambda l, x: l.optimization_barrier((x * x, l.sin(x)))[0] *
     l.optimization_barrier((x, l.sin(x)))[1], (X34,)),
]


def _scalarize(fn, l, m):
    return lambda *a: m.sum(m.sin(fn(l, *a)))


def _grad_and_jvp(m, l, fn, n):
    """grad of a scalar of fn, and fn's jvp along cos(3 x): one jitted program per library."""
    def both(*args):
        g = m.grad(_scalarize(fn, l, m.numpy), argnums=tuple(range(n)))(*args)
        tangents = tuple(m.numpy.cos(a * 3) for a in args)
        return g, m.jvp(lambda *a: fn(l, *a), args, tangents)
    return m.jit(both)


@pytest.mark.parametrize("name,fn,args", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_derivatives_against_jax(name, fn, args):
    ours = _grad_and_jvp(xf, xf.lax, fn, len(args))(*args)
    ref = jax_side(lambda *a: _grad_and_jvp(jax, jax.lax, fn, len(a))(*a), *args)
    _leaves_equal(ours, ref, False, name + " jit(grad), jit(jvp)")


def test_eager_derivatives_against_jax():
    for name, fn, args in GRAD_CASES[:1] + GRAD_CASES[10:11]:   # dynamic_slice_in_dim, top_k
        ours = xf.grad(_scalarize(fn, xf.lax, xnp))(*args)
        ref = jax_side(lambda *a: jax.grad(_scalarize(fn, jax.lax, jnp))(*a), *args)
        _leaves_equal(ours, ref, False, name + " grad")


def test_reduce_precision_rounds_its_tangent_as_jax():
    ours = xf.jvp(lambda x: xf.lax.reduce_precision(x, 5, 2), (1.0,), (1.2345,))
    ref = jax_side(lambda: jax.jvp(lambda x: jax.lax.reduce_precision(x, 5, 2), (1.0,), (1.2345,)))
    _leaves_equal(ours, ref, True, "reduce_precision jvp")
    assert float(ours[1]) == 1.25


def test_integer_operands_of_barrier_get_float0_tangents():
    o = xf.jvp(lambda x, n: xf.lax.optimization_barrier((x * 2, n)), (1.5, np.int32(2)),
               (1.0, np.zeros((), jax.dtypes.float0)))
    r = jax.jvp(lambda x, n: jax.lax.optimization_barrier((x * 2, n)), (1.5, np.int32(2)),
                (1.0, np.zeros((), jax.dtypes.float0)))
    assert float(o[1][0]) == float(r[1][0]) == 2.0
    assert np.asarray(o[1][1]).dtype == np.asarray(r[1][1]).dtype == jax.dtypes.float0


# ----------------------------------------------------------------------------- vmap
VMAP_CASES = [
    ("dynamic_slice_in_dim", lambda x, i: xf.lax.dynamic_slice_in_dim(x, i, 2, 0), (X34, np.array([-1, 0, 3], np.int32))),
    ("dynamic_update_index_in_dim", lambda x, u, i: xf.lax.dynamic_update_index_in_dim(x, u, i, 0),
     (X34, X34 * 2, np.array([0, 2, 1], np.int32))),
    ("index_take", lambda x, i: xf.lax.index_take(x, (i,), (0,)), (X34, np.array([[0, 3], [1, 1], [-1, 2]], np.int32))),
    ("collapse", lambda x: xf.lax.collapse(x, 0), (X234,)),
    ("batch_matmul", lambda a, b: xf.lax.batch_matmul(a, b), (X234, X234.transpose(0, 2, 1).copy())),
    ("sort_key_val", lambda k, v: xf.lax.sort_key_val(k, v), (X34, X34 * 3)),
    ("top_k", lambda x: xf.lax.top_k(x, 2), (X34,)),
    ("reduce", lambda x: xf.lax.reduce((x, x), (0., -np.inf), lambda a, b: (a[0] + b[0], xf.lax.max(a[1], b[1])), (0,)),
     (X234,)),
    ("reduce and int", lambda x: xf.lax.reduce(x, -1, xf.lax.bitwise_and, (0,)),
     (rng.integers(-50, 50, (3, 5, 2)).astype(np.int32),)),
    ("reduce_precision", lambda x: xf.lax.reduce_precision(x, 3, 2), (X34,)),
    ("clz", lambda x: xf.lax.clz(x), (rng.integers(0, 2**20, (3, 4)).astype(np.int32),)),
    ("optimization_barrier", lambda x, y: xf.lax.optimization_barrier((x, y * 2)), (X34, X234[:, 0])),
]


@pytest.mark.parametrize("name,fn,args", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_against_a_loop(name, fn, args):
    n = args[0].shape[0]
    for axis in (0, 1):
        if any(a.ndim <= axis or a.shape[axis] != n for a in args):
            continue
        batched = xf.vmap(fn, in_axes=axis)(*args)
        rows = [fn(*[np.take(a, i, axis=axis) for a in args]) for i in range(n)]
        stacked = xf.tree_util.tree_map(lambda *r: np.stack([np.asarray(v) for v in r]), *rows)
        for b, s in zip(xf.tree_util.tree_leaves(batched), xf.tree_util.tree_leaves(stacked)):
            assert np.asarray(b).dtype == s.dtype, name
            np.testing.assert_allclose(np.asarray(b), s, rtol=1e-6, err_msg=f"{name} in_axes={axis}")


# ----------------------------------------------------------------------------- bad input
def _raises_like_jax(ours_fn, jax_fn, cls, *patterns):
    with pytest.raises(cls):
        jax_fn()
    with pytest.raises(cls) as info:
        ours_fn()
    msg = str(info.value)
    assert re.search(HERE + r":\d+", msg), msg
    for p in patterns:
        assert re.search(p, msg), (p, msg)
    assert core.current_trace() is core.eval_trace
    return info.value


BAD = [
    (lambda l, x: l.index_in_dim(x, 5, axis=0), IndexError, r"index 5 is out of bounds for axis 0 with size 3"),
    (lambda l, x: l.index_in_dim(x, -4), IndexError, "size 3"),
    (lambda l, x: l.dynamic_slice_in_dim(x, 0, 5, axis=1), TypeError, r"\(3, 5\)"),
    (lambda l, x: l.dynamic_slice_in_dim(x, 1.0, 2, axis=1), TypeError, "integer"),
    (lambda l, x: l.dynamic_slice_in_dim(x, -2, 2, axis=1, allow_negative_indices=False), ValueError,
     "allow_negative_indices=False"),
    (lambda l, x: l.dynamic_slice_in_dim(x, 0, 2, axis=2), IndexError, "axis"),
    (lambda l, x: l.slice_in_dim(x, 0, 7, axis=1), TypeError, "limit_indices"),
    (lambda l, x: l.slice_in_dim(x, 3, 1, axis=1), TypeError, "greater than or equal to start"),
    (lambda l, x: l.slice_in_dim(x, -10, 4, axis=1), TypeError, "nonnegative"),
    (lambda l, x: l.dynamic_update_slice_in_dim(x, np.ones((3, 2), np.int32), 0, axis=1), TypeError, "int32"),
    (lambda l, x: l.dynamic_update_index_in_dim(x, np.ones((4,), np.float32), 0, axis=1), TypeError, r"\(3, 4\)"),
    (lambda l, x: l.collapse(x, 1, 0), ValueError, r"Invalid dimension range passed to collapse: \(3, 4\)\[1:0\]"),
    (lambda l, x: l.batch_matmul(x[0], x[0]), ValueError, "at least 2D"),
    (lambda l, x: l.batch_matmul(x[None], x), ValueError, "same ndim"),
    (lambda l, x: l.batch_matmul(x, x), TypeError, "contracting dimensions"),
    (lambda l, x: l.sort_key_val(x, x[0]), TypeError, "shape"),
    (lambda l, x: l.sort_key_val(x, x, dimension=3), ValueError, "axis 3 is out of bounds"),
    (lambda l, x: l.top_k(x, 5), ValueError, "k=5"),
    (lambda l, x: l.top_k(x, -1), ValueError, "nonnegative"),
    (lambda l, x: l.top_k(x, 1.5), TypeError, "integer"),
    (lambda l, x: l.top_k(x[0, 0], 1), ValueError, "out of bounds"),
    (lambda l, x: l.top_k(x * 1j, 1), ValueError, "complex"),
    (lambda l, x: l.top_k(x, 1, axis=2), ValueError, "axis 2"),
    (lambda l, x: l.reduce(x, 0., l.add, (2,)), ValueError, r"reduction axes \(2,\)"),
    (lambda l, x: l.reduce(x, 0., l.add, (0, 0)), ValueError, "duplicate"),
    (lambda l, x: l.reduce(x, 1, l.add, (0,)), TypeError, "initial value dtypes"),
    (lambda l, x: l.reduce((x, x), 0., l.add, (0,)), ValueError, "tree structure"),
    (lambda l, x: l.reduce(x, x[0], l.add, (0,)), ValueError, "non-scalar"),
    (lambda l, x: l.reduce_precision(x.astype(np.int32), 5, 2), TypeError, "int32"),
    (lambda l, x: l.reduce_precision(x, 0, 2), ValueError, "exponent_bits must be positive"),
    (lambda l, x: l.reduce_precision(x, 5, -1), ValueError, "mantissa_bits must be non-negative"),
    (lambda l, x: l.clz(x), TypeError, "clz does not accept dtype float32"),
    (lambda l, x: l.clz(x > 0), TypeError, "clz does not accept dtype bool"),
]


@pytest.mark.parametrize("k", range(len(BAD)))
@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_bad_input_raises_jax_error_class(k, jit):
    fn, cls, pattern = BAD[k]
    ours = (lambda x: xf.jit(lambda v: fn(xf.lax, v))(x)) if jit else (lambda x: fn(xf.lax, xnp.asarray(x)))
    ref = (lambda x: jax.jit(lambda v: fn(jax.lax, v))(x)) if jit else (lambda x: fn(jax.lax, jnp.asarray(x)))
    _raises_like_jax(lambda: ours(X34), lambda: ref(X34), cls, pattern)
    # the next good call works
    np.testing.assert_array_equal(xf.lax.index_in_dim(xnp.asarray(X34), 1, keepdims=False), X34[1])


def test_reduce_with_another_computation_says_not_implemented():
    x = xnp.asarray(X34)
    for comp in (xf.lax.sub, lambda a, b: a, lambda a, b: xnp.where(a > b, a, b), lambda a, b: a * 2 + b):
        with pytest.raises(NotImplementedError) as info:
            xf.lax.reduce(x, 0., comp, (0,))
        assert "lax.add" in str(info.value) and re.search(HERE + r":\d+", str(info.value))
    assert core.current_trace() is core.eval_trace
    np.testing.assert_allclose(xf.lax.reduce(x, 0., xf.lax.add, (0,)), X34.sum(0), rtol=1e-6)


def test_extras_are_exported_from_lax():
    for name in ("dynamic_slice_in_dim", "dynamic_index_in_dim", "dynamic_update_slice_in_dim",
                 "dynamic_update_index_in_dim", "index_in_dim", "slice_in_dim", "index_take", "collapse",
                 "batch_matmul", "sort_key_val", "top_k", "reduce", "reduce_precision", "clz",
                 "optimization_barrier", "clz_p", "reduce_precision_p", "optimization_barrier_p"):
        assert hasattr(jax.lax, name) and hasattr(xf.lax, name), name
    assert not hasattr(jax.lax, "tie_in")
    with pytest.raises(AttributeError, match="tie_in"):
        xf.lax.tie_in


def test_x64_dtypes_against_jax(x64):
    x = np.array([[1.5, -2., NAN], [0., -0., 3.]])
    f = lambda l, a, i: (l.top_k(a, 2), l.reduce(a, 2.0, l.mul, (1,)), l.dynamic_slice_in_dim(a, i, 1, 1),
                         l.index_take(a, (i[None],), (1,)), l.clz(i), l.reduce_precision(a, 5, 2),
                         l.reduce(a.astype(np.int64), -1, l.bitwise_and, (0,)))
    i = np.int64(-1)
    _leaves_equal(xf.jit(lambda a, i: f(xf.lax, a, i))(x, i),
                  jax_side(lambda x, i: jax.jit(lambda a, i: f(jax.lax, a, i))(x, i), x, i))
    with pytest.raises(TypeError):   # a float64 initial value for float32 operands, as in JAX
        jax.lax.reduce(x.astype(np.float32), 1.0, jax.lax.add, (0,))
    with pytest.raises(TypeError, match="initial value dtypes"):
        xf.lax.reduce(x.astype(np.float32), 1.0, xf.lax.add, (0,))


# (operand dtype, init, computation name): whether the initial value is accepted follows JAX
# (x64 off): the identity of the init's own dtype always is; any other init's canonical dtype
# (python int -> int32, float -> float32, bool -> bool) must be the operand's.
INIT_CASES = [
    (np.int32, 0, "add"), (np.int32, 0.0, "add"), (np.int32, np.float32(0), "add"), (np.int32, 1, "add"),
    (np.int32, 0.5, "add"), (np.int32, 2.0, "add"), (np.int32, True, "add"), (np.float32, 1, "add"),
    (np.float32, np.int32(1), "add"), (np.float32, 0, "add"), (np.float32, 0.5, "add"),
    (np.float32, np.float64(1), "add"), (np.int32, np.int64(3), "add"), (np.int32, -np.inf, "max"),
    (np.int32, np.uint8(0), "add"), (np.int32, np.uint8(3), "add"), (np.float32, np.float16(1), "add"),
    (np.uint8, -np.inf, "max"), (np.uint8, 255, "min"), (np.int32, np.nan, "max"), (np.float16, 0.5, "add"),
    (np.int32, True, "max"), (np.int32, False, "add"), (np.float32, 0j, "add"), (np.float32, 1 + 0j, "add"),
    (np.bool_, False, "add"), (np.bool_, True, "mul"), (np.bool_, False, "max"), (np.bool_, True, "max"),
]


def _init_outcome(run):
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # e.g. no "invalid value encountered in cast" for -inf
            return np.asarray(run())
    except TypeError as e:
        return TypeError, str(e)


@pytest.mark.parametrize("dt,init,op", INIT_CASES, ids=[f"{np.dtype(d).name}-{i!r}-{o}" for d, i, o in INIT_CASES])
def test_reduce_init_value_dtypes_as_jax(dt, init, op):
    x = np.arange(5).astype(dt)
    ours = _init_outcome(lambda: xf.lax.reduce(x, init, getattr(xf.lax, op), (0,)))
    # (a TypeError is not recorded: those cases run JAX each time)
    ref = _init_outcome(lambda: jax_side(lambda x, init, op: jax.lax.reduce(x, init, getattr(jax.lax, op), (0,)),
                                         x, init, op))
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple), (ours, ref)
    else:
        assert not isinstance(ours, tuple), ours
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)


INT_LOGICAL = [(np.int32, np.array([[7, 5, -1, 9], [3, 6, 12, -8], [-2, 14, 5, 1]])),
               (np.int8, np.array([[7, 5, -1, 9], [3, 6, 12, -8], [-2, 14, 5, 1]])),
               (np.uint8, np.array([[7, 5, 255, 9], [3, 6, 12, 248], [254, 14, 5, 1]])),
               (np.uint32, np.array([[7, 5, 2 ** 32 - 1, 9], [3, 6, 12, 2 ** 31], [2 ** 32 - 2, 14, 5, 1]]))]


@pytest.mark.parametrize("dt,vals", INT_LOGICAL, ids=[np.dtype(d).name for d, _ in INT_LOGICAL])
def test_integer_reduce_and_or_are_one_primitive_as_jax(dt, vals):
    x = vals.astype(dt)
    ident = {"bitwise_and": np.bitwise_not(np.zeros((), dt))[()], "bitwise_or": np.zeros((), dt)[()]}
    for name, prim in (("bitwise_and", "reduce_and"), ("bitwise_or", "reduce_or")):
        for axes in ((0,), (1,), (0, 1)):
            f = lambda l, a: l.reduce(a, ident[name], getattr(l, name), axes)  # noqa: E731
            ref = jax_side(lambda x, i, name, axes: jax.lax.reduce(x, i, getattr(jax.lax, name), axes),
                           x, ident[name], name, axes)
            for ours in (f(xf.lax, x), xf.jit(lambda a: f(xf.lax, a))(x)):
                _leaves_equal(ours, ref, True, f"{name} {axes}")
            # one reduce primitive, as in JAX's jaxpr
            eqns = [e.prim.name for e in xf.make_jaxpr(lambda a: f(xf.lax, a))(x).graph.eqns]
            assert eqns == [prim], eqns
            assert [e.primitive.name for e in jax.make_jaxpr(lambda a: f(jax.lax, a))(x).eqns] == [prim]
        # under vmap: against a loop over the rows, and against jax.vmap
        g = lambda l, a: l.reduce(a, ident[name], getattr(l, name), (0,))  # noqa: E731
        loop = np.stack([np.asarray(g(xf.lax, row)) for row in x])
        ours = xf.vmap(lambda a: g(xf.lax, a))(x)
        np.testing.assert_array_equal(ours, loop)
        _leaves_equal(ours, jax_side(lambda x: jax.vmap(lambda a: g(jax.lax, a))(x), x), True, f"vmap {name}")
        ours = xf.jit(xf.vmap(lambda a: g(xf.lax, a), in_axes=1))(x)
        _leaves_equal(ours, jax_side(lambda x: jax.vmap(lambda a: g(jax.lax, a), in_axes=1)(x), x), True,
                      f"jit vmap {name}")
    # the reduce_and/reduce_or primitives themselves take integers (identity all ones / zero)
    from jax import lax as jl
    for xp, jp, prim in ((xf.lax.reduce_and_p, jl.reduce_and_p, "and"), (xf.lax.reduce_or_p, jl.reduce_or_p, "or")):
        ours = xf.jit(lambda a: xp.bind(a, axes=(1,)))(x)
        _leaves_equal(ours, jax_side(lambda x, prim: jax.jit(lambda a: getattr(jl, f"reduce_{prim}_p").bind(a, axes=(1,)))(x),
                                     x, prim), True, prim)
