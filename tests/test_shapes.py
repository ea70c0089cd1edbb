"""xnp shape manipulation against jax.numpy: values, shapes, dtypes and weak types."""
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


def check(f, *args, jit=False):
    return check_like_jnp(f, *args, jit=jit, exact=True)


A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
M = np.arange(12, dtype=np.int32).reshape(3, 4)
V = np.arange(5, dtype=np.int8)
B = np.array([[True, False, True], [False, False, True]])
E = np.zeros((0, 3), np.float32)


def weak(mod, shape=(3, 4)):
    return mod.broadcast_to(mod.asarray(1.5), shape)


# ----------------------------------------------------------------------------- reshape & co


def test_reshape():
    check(lambda m, x: [m.reshape(x, (6, 4)), m.reshape(x, (-1,)), m.reshape(x, (4, -1)), m.reshape(x, 24),
                        m.reshape(x, (2, 12), order="F"), m.reshape(x, (1, 2, 1, 12)), m.ravel(x),
                        m.ravel(x, order="F")], A)
    check(lambda m, e: [m.reshape(2.0, (1, 1)), m.reshape(weak(m), (12,)), m.reshape(e, (3, 0)),
                        m.reshape(e, (-1, 3)), m.ravel(3)], E)


def test_reshape_bad_size_is_type_error_with_site_then_ok():
    x = xnp.asarray(A)
    with pytest.raises(TypeError) as e:
        x.reshape(5, 5)
    msg = str(e.value)
    assert "(2, 3, 4)" in msg and "(5, 5)" in msg and "test_shapes.py" in msg
    with pytest.raises(TypeError, match=re.escape("(7, -1)")):
        xnp.reshape(x, (7, -1))
    with pytest.raises(ValueError, match="only specify one unknown dimension"):
        xnp.reshape(x, (-1, -1))
    assert x.reshape(4, 6).shape == (4, 6)
    assert x.reshape((4, 6)).shape == (4, 6)
    assert x.reshape([4, 6]).shape == (4, 6)
    assert x.reshape(-1).shape == (24,)


def test_transpose_swap_move():
    check(lambda m, x: [m.transpose(x), m.transpose(x, (1, 0, 2)), m.transpose(x, (-1, 0, 1)),
                        m.swapaxes(x, 0, 2), m.swapaxes(x, -1, 1), m.moveaxis(x, 0, -1),
                        m.moveaxis(x, (0, 1), (2, 0)), m.moveaxis(x, -1, 0), m.rollaxis(x, 2),
                        m.rollaxis(x, 0, 3), m.permute_dims(x, (2, 1, 0)), m.matrix_transpose(x)], A)
    check(lambda m: [m.transpose(2.0), m.transpose(weak(m)), m.moveaxis(weak(m), 0, 1)])
    with pytest.raises(TypeError, match="permutation"):
        xnp.transpose(A, (0, 0, 1))
    with pytest.raises(ValueError, match="Inconsistent number of elements"):
        xnp.moveaxis(A, (0, 1), (0,))


def test_expand_squeeze():
    x = A.reshape(2, 1, 3, 1, 4)
    check(lambda m, x: [m.squeeze(x), m.squeeze(x, 1), m.squeeze(x, (1, -2)), m.expand_dims(x, 0),
                        m.expand_dims(x, -1), m.expand_dims(x, (0, 2, -1))], x)
    check(lambda m: [m.expand_dims(2.0, 0), m.squeeze(m.reshape(2.5, (1, 1))), m.expand_dims(weak(m), (0, 3))])
    with pytest.raises(ValueError, match="cannot select an axis to squeeze out"):
        xnp.squeeze(A, 0)
    with pytest.raises(ValueError, match="out of bounds"):
        xnp.expand_dims(A, 5)


# ----------------------------------------------------------------------------- broadcasting


def test_broadcasting():
    check(lambda m, x: [m.broadcast_to(x, (2, 3, 4)), m.broadcast_to(x[0], (5, 3, 4)),
                        m.broadcast_to(x[:, :1], (2, 3, 4)), m.broadcast_to(2.0, (3,)),
                        m.broadcast_to(x[0, 0, 0], 4)], A)
    check(lambda m, x, y: m.broadcast_arrays(x, y, 3.0), M[:, :1], V[:4].astype(np.int32))
    assert xnp.broadcast_shapes((2, 1), (3,), ()) == jnp.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    assert xnp.broadcast_shapes(3, (1,)) == (3,)
    with pytest.raises(ValueError, match=re.escape("(3,)")):
        xnp.broadcast_to(np.ones(3), (2, 4))
    with pytest.raises(ValueError):
        xnp.broadcast_shapes((2,), (3,))


# ----------------------------------------------------------------------------- joining


def test_concatenate_stack():
    y = M.astype(np.float32)
    check(lambda m, x, y: [m.concatenate([x, x]), m.concatenate([x, x + 1], axis=-1),
                           m.concatenate([x, y], axis=None), m.concatenate([x, 1.5 * m.ones((3, 2))], axis=1),
                           m.concatenate([x, x], dtype=m.float16), m.concat([x, x], axis=1),
                           m.concatenate([E[:, :0].T[:0].reshape(0, 4), x]),
                           m.stack([x, x]), m.stack([x, x], axis=-1), m.stack([x, x], 1), m.stack(x),
                           m.stack([1.0, 2.0]), m.concatenate([weak(m), weak(m)])], M, y)
    with pytest.raises(TypeError, match="different numbers of dimensions"):
        xnp.concatenate([M, V])
    with pytest.raises(TypeError, match="differ in dimensions other than"):
        xnp.concatenate([M, M[:2, :3]])
    with pytest.raises(ValueError, match="same shape"):
        xnp.stack([M, M[:2]])
    with pytest.raises(ValueError, match="Zero-dimensional"):
        xnp.concatenate([np.float32(1), np.float32(2)])
    check(lambda m, x: m.concatenate([x, x]), M)


def test_stack_family():
    check(lambda m, v, x: [m.vstack([v, v]), m.vstack([x, x]), m.hstack([v, v]), m.hstack([x, x]),
                           m.dstack([v, v]), m.dstack([x, x]), m.column_stack([v, v]), m.column_stack([x, x]),
                           m.vstack([1, 2]), m.hstack([1.0, 2.0]), m.atleast_1d(2.0), m.atleast_2d(v),
                           m.atleast_3d(x), m.atleast_3d(v), m.atleast_3d(3), m.atleast_1d(v, x),
                           m.append(x, x), m.append(x, x, axis=0), m.append(v, 7)], V, M)


def test_split():
    check(lambda m, x: [m.split(x, 2, axis=2), m.split(x, [1, 3], axis=-1), m.split(x, [1]),
                        m.array_split(x, 3, axis=2), m.array_split(x, [1, 1], axis=1),
                        m.hsplit(x, 3), m.vsplit(x, 2), m.dsplit(x, [2]), m.split(x[0, 0], [0, 4])], A)
    with pytest.raises(ValueError, match="equal division"):
        xnp.split(V, 2)
    check(lambda m, v: m.split(v, 5), V)


# ----------------------------------------------------------------------------- tile, repeat, resize


def test_tile_repeat():
    check(lambda m, x: [m.tile(x, 2), m.tile(x, (2, 1)), m.tile(x, (2, 1, 3)), m.tile(x, (1, 0)),
                        m.repeat(x, 2), m.repeat(x, 3, axis=0), m.repeat(x, 2, axis=-1),
                        m.repeat(x, np.array([1, 0, 2]), axis=0), m.repeat(x, np.array([2, 1, 0, 3]), axis=1),
                        m.repeat(x, 2, axis=1, total_repeat_length=5),
                        m.repeat(x, np.array([1, 0, 2]), axis=0, total_repeat_length=6),
                        m.repeat(2.0, 3), m.tile(3, 2), m.repeat(weak(m), 2, axis=0),
                        m.tile(weak(m), (1, 2))], M, jit=True)
    with pytest.raises(ValueError):
        xnp.repeat(M, [1, 2], axis=0)
    check(lambda m, x: m.repeat(x, 1), M)


def test_resize():
    check(lambda m, v: [m.resize(v, (3, 4)), m.resize(v, 3), m.resize(v, (2, 5))], V)


# ----------------------------------------------------------------------------- flip, roll, rot90


def test_flip_roll_rot90():
    check(lambda m, x: [m.flip(x), m.flip(x, 0), m.flip(x, (0, 2)), m.fliplr(x), m.flipud(x),
                        m.roll(x, 1), m.roll(x, -5), m.roll(x, 2, axis=1), m.roll(x, (1, 2), axis=(0, 2)),
                        m.roll(x, 7, axis=-1), m.rot90(x), m.rot90(x, 2), m.rot90(x, 3), m.rot90(x, -1),
                        m.rot90(x, 1, axes=(1, 2)), m.roll(x, (1, -1), axis=1), m.flip(2.0)], A)
    check(lambda m: [m.flip(weak(m)), m.roll(weak(m), 1), m.rot90(weak(m))])


def test_roll_traced_shift():
    f = lambda m: (lambda x, s: m.roll(x, s, axis=1))
    for s in (0, 1, -2, 9):
        np.testing.assert_array_equal(xf.jit(f(xnp))(A, s), jax_side(lambda x, s: f(jnp)(x, s), A, s))
    np.testing.assert_array_equal(xf.jit(lambda x, s: xnp.roll(x, s))(A, 5), jax_side(lambda x: jnp.roll(x, 5), A))


# ----------------------------------------------------------------------------- pad


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap", "maximum", "minimum",
                                  "mean", "empty"])
def test_pad_modes(mode):
    pw = [((1, 2), (0, 3)), 2, ((5, 1),), (0, 7)]
    x = M.astype(np.float32) if mode != "mean" else M
    fn = lambda m, x: [m.pad(x, p, mode=mode) for p in pw]
    if mode == "empty":  # the padding's contents are unspecified: compare shapes and the interior
        for p, g, e in zip(pw, fn(xnp, x), jax_side(lambda x: fn(jnp, jnp.asarray(x)), x)):
            assert g.shape == e.shape and g.dtype == e.dtype
            (lo0, _), (lo1, _) = np.broadcast_to(np.asarray(p), (2, 2))
            np.testing.assert_array_equal(np.asarray(g)[lo0:lo0 + 3, lo1:lo1 + 4], x)
        return
    check(fn, x)


def test_pad_constant_values_and_weak():
    check(lambda m, x: [m.pad(x, 1, constant_values=7), m.pad(x, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4))),
                        m.pad(x, (1, 2), constant_values=-1.5), m.pad(x[0], 3, mode="reflect"),
                        m.pad(weak(m), 1), m.pad(weak(m), 1, mode="edge")], M.astype(np.float32))
    check(lambda m, v: m.pad(v, (0, 3), mode="edge"), V)
    c = xf.jit(lambda x, c: xnp.pad(x, 1, constant_values=c))(M.astype(np.float32), np.float32(9))
    np.testing.assert_array_equal(c, jax_side(lambda x: jnp.pad(jnp.asarray(x, jnp.float32), 1, constant_values=9), M))
    with pytest.raises(ValueError):
        xnp.pad(M, -1)
    with pytest.raises(NotImplementedError, match="linear_ramp"):
        xnp.pad(M, 1, mode="linear_ramp")


# ----------------------------------------------------------------------------- diagonals and triangles


def test_diagonal_trace():
    check(lambda m, x: [m.diagonal(x), m.diagonal(x, 1), m.diagonal(x, -1, 1, 2), m.diagonal(x, 2, 2, 0),
                        m.diagonal(x, 10, 1, 2), m.diagonal(x, -3, 1, 2), m.trace(x), m.trace(x, 1, 1, 2),
                        m.trace(x, -1, -1, -2, dtype=m.int32)], A)
    check(lambda m, x: [m.diagonal(x), m.diagonal(x, 3), m.diagonal(x, -2), m.trace(x), m.trace(x, 1)], M)
    check(lambda m: [m.diagonal(weak(m)), m.trace(weak(m)), m.trace(m.ones((3, 3), m.int8)),
                     m.trace(m.ones((2, 2), bool))])
    with pytest.raises(ValueError):
        xnp.diagonal(V)


def test_diag_tril_triu():
    check(lambda m, v, x: [m.diag(v), m.diag(v, 2), m.diag(v, -1), m.diag(x), m.diag(x, 1), m.diag(x, -2),
                           m.diagflat(x[:2, :2]), m.diagflat(v, 1), m.tril(x), m.tril(x, 1), m.tril(x, -1),
                           m.triu(x), m.triu(x, 2), m.triu(x, -1), m.tril(A), m.triu(A, 1),
                           m.tril(B), m.diag(weak(m)[0]), m.tril(weak(m))], V, M, jit=True)
    with pytest.raises(ValueError, match="1d or 2d"):
        xnp.diag(A)
    with pytest.raises(ValueError):
        xnp.tril(V)


# ----------------------------------------------------------------------------- astype, under jit


@pytest.mark.filterwarnings("ignore:Casting from complex")
def test_astype():
    check(lambda m, x: [m.asarray(x).astype(m.float32),
                        m.astype(x, m.int8), m.astype(x, bool), m.astype(x, m.complex64),
                        m.astype(weak(m), m.float32), m.astype(weak(m), m.int32)], M)
    check(lambda m: m.astype(m.asarray(np.array([1 + 2j, -3.5 + 1j], np.complex64)), m.float32))


def test_under_jit():
    check(lambda m, x: [m.reshape(x, (4, 6)), m.transpose(x, (2, 0, 1)), m.concatenate([x, x], 1),
                        m.stack([x, x]), m.split(x, 2, axis=2), m.tile(x, 2), m.repeat(x, np.array([1, 2]), axis=0),
                        m.flip(x, 1), m.roll(x, 1, 2), m.pad(x, 1, mode="reflect"), m.diagonal(x, 1, 1, 2),
                        m.tril(x), m.squeeze(x[:, :1]), m.expand_dims(x, 1), m.broadcast_to(x, (2, 2, 3, 4))],
          A, jit=True)


GRAD_CASES = {
    "reshape_transpose": lambda m, x: (m.transpose(m.reshape(x, (4, 3))) * x).sum(),
    "concat_split": lambda m, x: sum((s * s).sum() for s in m.split(m.concatenate([x, 2 * x], 1), 4, axis=1)),
    "stack_tile": lambda m, x: (m.tile(m.stack([x, x * x]), (1, 2, 1)) ** 2).sum(),
    "repeat": lambda m, x: (m.repeat(x, np.array([2, 0, 1]), axis=0) ** 2).sum() + m.repeat(x, 2).sum(),
    "flip_roll_rot": lambda m, x: (m.roll(x, 1, 1) * m.flip(x, 0) + m.rot90(m.rot90(x))).sum(),
    "pad_modes": lambda m, x: sum((m.pad(x, 2, mode=md) ** 2).sum() for md in ("constant", "reflect", "edge", "wrap")),
    "diag_tri": lambda m, x: m.trace(x) + (m.diagonal(x, 1) ** 2).sum() + (m.triu(x) * m.tril(x, 1)).sum(),
    "broadcast_moveaxis": lambda m, x: (m.moveaxis(m.broadcast_to(x, (2, 3, 4)), 0, -1) ** 2).sum(),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_and_vmap_match_jax(name):
    f = GRAD_CASES[name]
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) / 3
    np.testing.assert_allclose(xf.grad(lambda x: f(xnp, x))(x), jax_side(lambda x: jax.grad(lambda x: f(jnp, x))(x), x),
                               rtol=1e-5, atol=1e-5)
    xs = np.stack([x, x[::-1] * 2])
    np.testing.assert_allclose(xf.vmap(lambda x: f(xnp, x))(xs), jax_side(lambda xs: jax.vmap(lambda x: f(jnp, x))(xs), xs),
                               rtol=1e-5, atol=1e-5)


def test_lists_are_refused_like_jax_then_ok():
    for fn in (lambda: xnp.reshape([1, 2], (2,)), lambda: xnp.concatenate([[1, 2], [3]]),
               lambda: xnp.stack([[1, 2], [3, 4]]), lambda: xnp.pad([1, 2], 1),
               lambda: xnp.broadcast_to([1, 2], (2, 2)), lambda: xnp.einsum("i,i", [1.0, 2.0], [1.0, 2.0]),
               lambda: xnp.ones(2) @ [1.0, 2.0], lambda: xnp.linalg.norm([3.0, 4.0]), lambda: xnp.sum([1, 2])):
        with pytest.raises(TypeError):
            fn()
    check(lambda m, a, b: m.concatenate([a, b]), np.array([1, 2]), np.array([3]))


def test_many_run_patterns_use_one_gather():
    v = np.arange(40, dtype=np.float32)
    reps = np.arange(40) % 3
    check(lambda m, v: [m.repeat(v, reps), m.pad(v[:3], 50, mode="reflect"), m.pad(v[:2], 45, mode="symmetric")],
          v, jit=True)
    check(lambda m, v: m.repeat(v, reps), v)
    jaxpr = str(xf.make_jaxpr(lambda v: xnp.repeat(v, reps))(v))
    assert "gather" in jaxpr and "concatenate" not in jaxpr
    np.testing.assert_allclose(xf.grad(lambda v: (xnp.repeat(v, reps) ** 2).sum())(v),
                               jax_side(lambda v: jax.grad(lambda v: (jnp.repeat(v, reps) ** 2).sum())(v), v))
