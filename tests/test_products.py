"""xnp products (dot, matmul, einsum, ...) and linalg.norm against jax.numpy."""
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


def check(f, *args, rtol=1e-5, atol=1e-5, jit=False):
    return check_like_jnp(f, *args, rtol=rtol, atol=atol, jit=jit)


rng = np.random.RandomState(1)


def randf(*shape, dtype=np.float32):
    return np.asarray(rng.randn(*shape)).astype(dtype)


def randi(*shape):
    return rng.randint(-4, 5, size=shape).astype(np.int32)


def weak(m, shape):
    return m.broadcast_to(m.asarray(0.5), shape)


V3, V4 = randf(3), randf(4)
M34, M43, M33 = randf(3, 4), randf(4, 3), randf(3, 3)
B234, B243, B143 = randf(2, 3, 4), randf(2, 4, 3), randf(1, 4, 3)
I34, I43 = randi(3, 4), randi(4, 3)
C34 = (randf(3, 4) + 1j * randf(3, 4)).astype(np.complex64)
C43 = (randf(4, 3) + 1j * randf(4, 3)).astype(np.complex64)


# ----------------------------------------------------------------------------- matmul, dot


def test_matmul_shapes():
    check(lambda m, a, b, c, v3, v4, d, e: [m.asarray(a) @ b, m.matmul(a, b), m.matmul(v3, a), m.matmul(a, v4),
                                            m.matmul(v4, v4), m.matmul(c, d), m.matmul(c, e), m.matmul(e, a),
                                            m.matmul(c, v4), m.matmul(v4, d), m.matmul(a, d)],
          M34, M43, B234, V3, V4, B243, B143)


def test_matmul_dtypes_and_weak():
    check(lambda m, a, b: [m.asarray(a) @ b, m.matmul(a, b.astype(m.float32)), m.matmul(a.astype(m.int8), b.astype(m.int8)),
                           m.matmul(weak(m, (2, 3)), weak(m, (3, 2))), m.matmul(weak(m, (3, 4)), b.astype(m.float32)),
                           m.matmul(a, b, preferred_element_type=m.float32)], I34, I43)
    check(lambda m, a, b: [m.asarray(a) @ b, m.dot(a, b), m.vdot(a, a), m.inner(a, b.T)], C34, C43, rtol=1e-4)


def test_matmul_precision_accepted():
    check(lambda m, a, b: [m.matmul(a, b, precision="highest"), m.dot(a, b, precision=("highest", "highest")),
                           m.einsum("ij,jk", a, b, precision="highest")], M34, M43)


def test_matmul_shape_mismatch_error_then_ok():
    a, b = xnp.asarray(M34), xnp.asarray(M34)
    with pytest.raises(TypeError) as e:
        a @ b
    msg = str(e.value)
    assert "(3, 4)" in msg and "test_products.py" in msg
    with pytest.raises(TypeError, match=re.escape("test_products.py")):
        xnp.matmul(V3, M43)
    with pytest.raises(ValueError, match="ndim at least 1"):
        xnp.matmul(np.float32(1), V3)
    with pytest.raises(ValueError):
        xnp.matmul(B234, randf(3, 4, 5))
    with pytest.raises(TypeError, match="dot_general requires contracting dimensions"):
        xf.jit(lambda x, y: x @ y)(M34, M34)
    np.testing.assert_allclose(a @ b.T, M34 @ M34.T, rtol=1e-5)
    np.testing.assert_allclose(xf.jit(lambda x, y: x @ y)(M34, M43), M34 @ M43, rtol=1e-5)


def test_dot_inner_outer_vdot():
    check(lambda m, a, b, v3, v4, t, s: [
        m.dot(a, b), m.dot(a, v4), m.dot(v3, a), m.dot(v4, v4), m.dot(t, b), m.dot(a, s), m.dot(2.0, a),
        m.dot(t, v4), m.inner(v3, v3), m.inner(a, a), m.inner(t, a), m.inner(3.0, v3), m.outer(v3, v4),
        m.outer(a, v3), m.vdot(a, a), m.vdot(v3, v3), m.dot(weak(m, (2, 3)), weak(m, (3,))),
        m.outer(2.0, 3.0), m.vecdot(a, a), m.vecdot(t, a), m.vecdot(a, a, axis=0)],
        M34, M43, V3, V4, B234, B243, jit=True)
    with pytest.raises(TypeError, match="test_products.py"):
        xnp.dot(M34, M34)
    with pytest.raises(TypeError, match="test_products.py"):
        xnp.vdot(V3, V4)


def test_tensordot():
    check(lambda m, a, b, t, u: [m.tensordot(a, b.T), m.tensordot(a, b.T, 2), m.tensordot(a, b, 1),
                                 m.tensordot(a, b, 0), m.tensordot(t, u, ((1, 2), (2, 1))),
                                 m.tensordot(t, a, ((-1,), (1,))), m.tensordot(t, a, (2, 1)),
                                 m.tensordot(t, u, [[0], [0]])],
          M34, M43, B234, B243)
    with pytest.raises(TypeError, match="test_products.py"):
        xnp.tensordot(M34, M34, 1)


def test_kron_cross():
    a3, b3 = randf(5, 3), randf(5, 3)
    a2, b2 = randf(5, 2), randf(5, 2)
    check(lambda m, a, b, v, x3, y3, x2, y2: [
        m.kron(a, b), m.kron(v, a), m.kron(a, 2.0), m.kron(v, v),
        m.cross(x3, y3), m.cross(x2, y2), m.cross(x3, y3[0]), m.cross(x2, y3), m.cross(x3, y2),
        m.cross(x3.T, y3.T, axisa=0, axisb=0, axisc=0), m.cross(x3.T, y3.T, axis=0)],
        M34, randi(2, 2), V3, a3, b3, a2, b2)


# ----------------------------------------------------------------------------- einsum

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,kj->ki", [(3, 4), (5, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 4, 3)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(1, 3, 4), (2, 4, 5)]),
    ("...ij,jk", [(6, 3, 4), (4, 5)]),
    ("i...->...", [(3, 2, 4)]),
    ("...i,...i", [(2, 3), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,jk,kl", [(2, 3), (3, 4), (4, 5)]),
    ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)]),
    ("abc,cd,bd->a", [(2, 3, 4), (4, 5), (3, 5)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ijk,ikl->ijl", [(2, 3, 4), (2, 4, 1)]),
    ("ij,k->ijk", [(2, 3), (4,)]),
    ("ij,j->", [(2, 3), (3,)]),
    (",ij->ij", [(), (2, 3)]),
    ("ii,jj->ij", [(3, 3), (2, 2)]),
    ("bii->bi", [(2, 3, 3)]),
    ("ij,ij->", [(0, 3), (0, 3)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum(subscripts, shapes):
    ops = [randf(*s) for s in shapes]
    check(lambda m, *xs: m.einsum(subscripts, *xs), *ops, rtol=1e-4)


def test_einsum_dtypes_weak_and_jit():
    check(lambda m, a, b: [m.einsum("ij,jk->ik", a, b), m.einsum("ij,jk->ik", a, b.astype(m.float32)),
                           m.einsum("ij,jk->ik", a, b, preferred_element_type=m.float32),
                           m.einsum("ij->i", a), m.einsum("ij,jk->ik", weak(m, (3, 4)), weak(m, (4, 2))),
                           m.einsum("ii->i", weak(m, (3, 3)))], I34, I43)
    check(lambda m, a, b: m.einsum("bij,bjk->bik", a, b), B234, B243, jit=True, rtol=1e-4)
    check(lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), M34, M43)
    check(lambda m, a, b: m.einsum(a, [Ellipsis, 1], b, [1, 2]), B234, M43)


def test_einsum_errors_then_ok():
    with pytest.raises(ValueError, match="Size of label 'j'"):
        xnp.einsum("ij,jk->ik", M34, M34)
    with pytest.raises(ValueError, match="Size of label 'i'"):
        xnp.einsum("ii->i", M34)
    with pytest.raises(ValueError, match="operands"):
        xnp.einsum("ij,jk->ik", M34)
    with pytest.raises(ValueError, match="dimensions"):
        xnp.einsum("ijk->i", M34)
    with pytest.raises(ValueError, match="does not appear"):
        xnp.einsum("ij->z", M34)
    check(lambda m, a, b: m.einsum("ij,jk->ik", a, b), M34, M43)


# ----------------------------------------------------------------------------- linalg.norm

VEC_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1]
MAT_ORDS = [None, "fro", 1, -1, np.inf, -np.inf]


def test_norm_vector():
    x = randf(5)
    check(lambda m, x: [m.linalg.norm(x, o) for o in VEC_ORDS] +
          [m.linalg.norm(x, o, keepdims=True) for o in (None, 1)], x, rtol=1e-5)
    check(lambda m, x: [m.linalg.norm(x, o, axis=ax, keepdims=kd) for o in VEC_ORDS for ax in (0, -1, (2,))
                        for kd in (False, True)], B234, rtol=1e-5, jit=True)


def test_norm_matrix():
    check(lambda m, x: [m.linalg.norm(x, o) for o in MAT_ORDS] +
          [m.linalg.norm(x, o, keepdims=True) for o in MAT_ORDS], M34)
    check(lambda m, x: [m.linalg.norm(x, o, axis=ax, keepdims=kd) for o in MAT_ORDS
                        for ax in ((1, 2), (2, 0), (-1, -2)) for kd in (False, True)], B234, jit=True)


def test_norm_dtypes():
    check(lambda m, i, c, h: [m.linalg.norm(i), m.linalg.norm(i, 1), m.linalg.norm(i, np.inf, axis=0),
                              m.linalg.norm(c), m.linalg.norm(c, 1, axis=1), m.linalg.norm(c, "fro"),
                              m.linalg.norm(c, np.inf), m.linalg.norm(h), m.linalg.norm(weak(m, (3, 4))),
                              m.linalg.norm(2.0), m.linalg.norm(m.zeros((0,)))],
          I34, C34, randf(6, dtype=np.float16), rtol=2e-3)
    check(lambda m, x: [m.linalg.vector_norm(x), m.linalg.vector_norm(x, axis=1, ord=1),
                        m.linalg.matrix_norm(x), m.linalg.matrix_norm(x, ord=np.inf, keepdims=True)], B234)


def test_norm_errors_then_ok():
    # the SVD norms (ord 2, -2, 'nuc') are tested with the rest of linalg in tests/test_linalg.py
    check(lambda m, x: [m.linalg.norm(x, 2), m.linalg.norm(x, -2), m.linalg.norm(x, "nuc")], M34, rtol=1e-5)
    with pytest.raises(ValueError, match="Improper number of axes"):
        xnp.linalg.norm(B234, 2)
    with pytest.raises(ValueError, match="Invalid order 'fro' for vector norm"):
        xnp.linalg.norm(M34, "fro", axis=0)
    check(lambda m, x: m.linalg.norm(x, 1), M34)


def test_dot_method_and_rmatmul():
    x = xnp.asarray(M34)
    np.testing.assert_allclose(x.dot(M43), M34 @ M43, rtol=1e-5)
    np.testing.assert_allclose(M43 @ x, M43 @ M34, rtol=1e-5)
    np.testing.assert_allclose(x @ M43, M34 @ M43, rtol=1e-5)


GRAD_CASES = {
    "matmul": lambda m, x: (x @ x.T @ x).sum(),
    "dot_vec": lambda m, x: m.dot(x, x[0]).sum() + m.vdot(x, x) + m.inner(x, x).sum(),
    "einsum_chain": lambda m, x: m.einsum("ij,kj,kl->il", x, x, x).sum(),
    "einsum_diag": lambda m, x: m.einsum("ii->", x[:, :3]) + m.einsum("ij,ij->i", x, x).sum(),
    "tensordot_kron_outer": lambda m, x: m.tensordot(x, x, ((0, 1), (0, 1))) + m.kron(x, x).sum()
    + m.outer(x[0], x[1]).sum(),
    "norms": lambda m, x: m.linalg.norm(x) + m.linalg.norm(x, 1) + m.linalg.norm(x[0], 3)
    + m.linalg.norm(x, np.inf, axis=1).sum(),
    "cross": lambda m, x: (m.cross(x[:, :3], x[:, 1:]) ** 2).sum(),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_and_vmap_match_jax(name):
    f = GRAD_CASES[name]
    x = randf(3, 4)
    np.testing.assert_allclose(xf.grad(lambda x: f(xnp, x))(x), jax_side(lambda x: jax.grad(lambda x: f(jnp, x))(x), x),
                               rtol=1e-4, atol=1e-4)
    xs = np.stack([x, 2 * x])
    np.testing.assert_allclose(xf.vmap(lambda x: f(xnp, x))(xs), jax_side(lambda xs: jax.vmap(lambda x: f(jnp, x))(xs), xs),
                               rtol=1e-4, atol=1e-4)


def test_empty_and_scalar_operands():
    check(lambda m, a, b, c, d: [m.matmul(a, b), m.matmul(c, d), m.dot(c, d), m.einsum("ij,jk->ik", c, d),
                                 m.tensordot(c, d, 1), m.outer(a[:, 0], b[0]), m.vdot(c, c), m.inner(c, c),
                                 m.linalg.norm(c), m.kron(a, b), m.dot(np.float32(2), d), m.inner(3, 2.0)],
          np.zeros((0, 3), np.float32), np.ones((3, 2), np.float32), np.ones((2, 0), np.float32),
          np.ones((0, 3), np.float32))


def test_linalg_product_functions():
    a, v = randf(3, 3), randf(3)
    check(lambda m, a, b, v: [m.linalg.matrix_power(a, 0), m.linalg.matrix_power(a, 1), m.linalg.matrix_power(a, 5),
                              m.linalg.matrix_power(b, 3), m.linalg.multi_dot([v, a, a, v]),
                              m.linalg.multi_dot([a, a.T]), m.linalg.cross(a, a.T), m.linalg.outer(v, v),
                              m.linalg.vecdot(a, a), m.linalg.tensordot(a, a, axes=1), m.linalg.matmul(a, v),
                              m.linalg.matrix_transpose(b), m.linalg.diagonal(b, offset=1), m.linalg.trace(b)],
          a, randf(2, 3, 3), v, rtol=1e-4, atol=1e-4, jit=True)
    check(lambda m, i: [m.linalg.matrix_power(i, 3), m.linalg.matrix_power(i, 0)], randi(3, 3))
    # negative powers (an inverse) are tested in tests/test_linalg.py
    with pytest.raises(ValueError, match="square"):
        xnp.linalg.matrix_power(M34, 2)
