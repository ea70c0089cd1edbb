"""Index tricks against jax.numpy: nonzero/argwhere/flatnonzero/where(c), indices, ix_,
unravel_index, ravel_multi_index, the diag/tril/triu/mask index helpers, fill_diagonal,
place, put, extract, compress, delete, insert, select, piecewise, apply_along_axis,
apply_over_axes and block (values, dtypes, weak types eagerly and under jit, size=,
gradients against JAX and finite differences, vmap against a loop, errors)."""
import os
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jnp_compare import check, grad_fd, grads_like_jax, raises_like_jax, vmap_like_loop

jax.config.update("jax_platforms", "cpu")

RNG = np.random.RandomState(0)
F23 = RNG.randn(2, 3).astype(np.float32)
F6 = RNG.randn(6).astype(np.float32)
I23 = np.array([[0, 1, 2], [3, 0, 5]], np.int32)


# ----------------------------------------------------------------------------- nonzero family

NZ_INPUTS = [np.array([0, 2, 0, -1], np.int32), I23, np.array([[np.nan, 0.0], [-0.0, 1j]], np.complex64),
             np.array([[[True, False]], [[False, True]]]), np.zeros((0, 3), np.float32)]


@pytest.mark.parametrize("x", NZ_INPUTS, ids=["int1d", "int2d", "complex", "bool3d", "empty"])
def test_nonzero_argwhere_flatnonzero(x):
    check(lambda m, a: [m.nonzero(a), m.argwhere(a), m.flatnonzero(a), m.where(a), m.asarray(a).nonzero()],
          x, jit=False, jax_eager=True)
    check(lambda m, a: [m.nonzero(a, size=3), m.nonzero(a, size=5, fill_value=-1), m.argwhere(a, size=2),
                        m.argwhere(a, size=6, fill_value=7), m.flatnonzero(a, size=4, fill_value=-2),
                        m.where(a, size=3, fill_value=9), m.asarray(a).nonzero(size=2)], x)


def test_nonzero_0d_fill_tuple_and_vmap():
    check(lambda m: [m.argwhere(m.array(3)), m.argwhere(m.array(0)), m.flatnonzero(3), m.flatnonzero(0)],
          jit=False, jax_eager=True)
    check(lambda m, a: [m.nonzero(a, size=6, fill_value=(-1, -2)), m.argwhere(a, size=6, fill_value=(7, 8)),
                        m.nonzero(a, size=0), m.argwhere(a, size=5, fill_value=1.5)], I23)
    vmap_like_loop(lambda a: xnp.nonzero(a > 0, size=4, fill_value=-1), F23.reshape(3, 2) * np.array([1, -1]))
    vmap_like_loop(lambda a: xnp.argwhere(a, size=3), I23)


def test_nonzero_errors():
    raises_like_jax(lambda m, a: jax.jit(m.nonzero)(a) if m is jnp else xf.jit(m.nonzero)(a), I23,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, a: (jax.jit if m is jnp else xf.jit)(lambda b: m.argwhere(b))(a), I23,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m: m.nonzero(m.array(3)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.nonzero(a, size=3, fill_value=m.array([1, 2])), I23,
                    xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.nonzero([1, 0]), xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m, a: m.nonzero(a, size=2.0), I23, xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a: m.nonzero(a, size=2), I23)     # the next good call works


# ----------------------------------------------------------------------------- index grids

def test_indices_and_ix():
    check(lambda m: [m.indices((2, 3)), m.indices((2, 3), sparse=True), m.indices(()), m.indices((0, 2)),
                     m.indices((3,), dtype=m.float32), m.indices((2, 1, 2), dtype=m.int8, sparse=True)])
    check(lambda m, a, b: m.ix_(a, b, m.arange(2) * 2.0), np.array([0, 1]), np.array([2., 3, 4], np.float32))
    check(lambda m: m.ix_(), jit=False)
    raises_like_jax(lambda m: m.ix_(m.ones((2, 2), m.int32)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.ix_(1), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.ix_([1, 2]), xf_exc=TypeError, jax_exc=TypeError)
    with pytest.raises(NotImplementedError):
        xnp.ix_(xnp.array([True, False]))


def test_unravel_and_ravel_multi_index():
    idx = np.array([1, 5, 7, -1, 8, 100, -100, -9], np.int32)
    check(lambda m, i: [m.unravel_index(i, (2, 4)), m.unravel_index(i, (8,)), m.unravel_index(5, (2, 4)),
                        m.unravel_index(i.astype(m.int8), (2, 4)), m.unravel_index(i, (2, 0)),
                        m.unravel_index(i.astype(m.int8), (20, 20)),
                        m.unravel_index(m.array(3), (2, 2)), m.unravel_index(1.0, (2, 4))], idx)
    check(lambda m: m.unravel_index(0, ()), jit=False)
    a, b = np.array([0, 5, 1], np.int32), np.array([-2, 3, 3], np.int32)
    check(lambda m, a, b: [m.ravel_multi_index((a, b), (2, 4), mode="clip"),
                           m.ravel_multi_index((a, b), (2, 4), mode="wrap", order="F"),
                           m.ravel_multi_index((a, b), (2, 4), mode="ignore"),
                           m.ravel_multi_index((a.astype(m.int8), b.astype(m.int8)), (2, 4), mode="wrap"),
                           m.ravel_multi_index((a[:, None], b), (6, 4), mode="clip", dtype=m.int16)], a, b)
    check(lambda m: [m.ravel_multi_index((np.array([0, 1]), np.array([2, 3])), (2, 4)),
                     m.ravel_multi_index((1, 2), (2, 4), order="F")], jit=False, jax_eager=True)
    vmap_like_loop(lambda i: xnp.unravel_index(i, (3, 4)), np.array([[0, 13], [-1, 7]]))
    vmap_like_loop(lambda i, j: xnp.ravel_multi_index((i, j), (3, 4), mode="wrap"),
                   np.array([[0, 13], [-1, 7]]), np.array([[2, 1], [5, -3]]))


def test_unravel_ravel_errors():
    jit = {jnp: jax.jit, xnp: xf.jit}
    raises_like_jax(lambda m, a: jit[m](lambda i: m.ravel_multi_index((i, i), (2, 4)))(a), np.array([0, 1]),
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, a: m.ravel_multi_index((a, a), (2, 4)), np.array([0, 5]),
                    xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.ravel_multi_index((a, a), (2, 4)), np.array([0., 1.]),
                    xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.ravel_multi_index((a, a), (2, 4), mode="foo"), np.array([0, 1]),
                    xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.ravel_multi_index((a, a), (2, 4), order="X"), np.array([0, 1]),
                    xf_exc=ValueError, jax_exc=ValueError)
    check(lambda m, a: m.ravel_multi_index((a, a), (2, 4), mode="clip"), np.array([0, 1]))


# ----------------------------------------------------------------------------- diag, tril, triu, mask

def test_diag_tri_mask_indices():
    check(lambda m: [m.diag_indices(3), m.diag_indices(2, 3), m.diag_indices(0), m.diag_indices_from(m.ones((3, 3))),
                     m.diag_indices_from(m.ones((2, 2, 2)))])
    check(lambda m: [m.tril_indices(3), m.tril_indices(3, 1, 4), m.triu_indices(3, -1), m.triu_indices(0),
                     m.tril_indices_from(m.ones((3, 4)), 1), m.triu_indices_from(m.ones((4, 2)), -1),
                     m.tril_indices_from(jax.ShapeDtypeStruct((2, 3), np.float32)),
                     m.mask_indices(3, m.triu, 1, size=5), m.mask_indices(4, m.tril, -1, size=2)])
    check(lambda m: [m.mask_indices(3, m.triu, 1), m.mask_indices(3, m.tril)], jit=False, jax_eager=True)


def test_diag_tri_errors():
    raises_like_jax(lambda m: m.diag_indices_from(m.ones((3, 4))), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.diag_indices_from(m.ones(3)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.tril_indices_from(m.ones(3)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: (jax.jit if m is jnp else xf.jit)(lambda n: m.tril_indices(n))(3),
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m: (jax.jit if m is jnp else xf.jit)(lambda: m.mask_indices(3, m.triu))(),
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    with pytest.raises(ValueError):
        xnp.diag_indices(-1)
    with pytest.raises(TypeError):
        xnp.tril_indices(3.0)
    check(lambda m: m.triu_indices(2))


# ----------------------------------------------------------------------------- fill_diagonal, place, put

@pytest.mark.filterwarnings("ignore:scatter inputs have incompatible types")   # JAX's, for the int array
def test_fill_diagonal_place_put_values():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    check(lambda m, a: [m.fill_diagonal(m.zeros((3, 3)), 5, inplace=False),
                        m.fill_diagonal(m.zeros((7, 3)), m.array([1., 2, 3, 4]), inplace=False),
                        m.fill_diagonal(m.zeros((2, 4), m.int32), 1.7, inplace=False),
                        m.fill_diagonal(m.zeros((2, 2, 2)), m.array([[1., 2], [3, 4]]), inplace=False),
                        m.fill_diagonal(m.arange(4).reshape(2, 2) * 2.0, 1., inplace=False),
                        m.place(a, a > 2, m.array([10., 20]), inplace=False),
                        m.place(a, a > 2, 7, inplace=False), m.place(m.arange(4), m.arange(4) > 1, 2.7, inplace=False),
                        m.place(a, m.array([[1, 0, 1], [0, 0, 1]]), m.array([1., 2, 3, 4]), inplace=False),
                        m.place(m.arange(3) * 2.0, m.arange(3) > 0, 1., inplace=False),
                        m.place(m.array(1.), m.array(True), 5., inplace=False),
                        m.put(a, m.array([0, 4, 5]), m.array([10., 20]), inplace=False),
                        m.put(a, m.array([-10, -7, -6, 40]), m.array([1., 2, 3]), inplace=False),
                        m.put(a, m.array([0, 40, -10]), m.array([10., 20, 30]), mode="clip", inplace=False),
                        m.put(a, m.array([0, 40, -10]), m.array([10., 20, 30]), mode="wrap", inplace=False),
                        m.put(a, m.array([[0], [1]]), m.array([[7.], [8.]]), inplace=False),
                        m.put(a, 2, 9, inplace=False), m.put(m.arange(3) * 2.0, 0, 1., inplace=False),
                        m.put(m.zeros(0), m.array([0]), 1., inplace=False),
                        m.put(a, m.array([True, False, True]), 5., inplace=False)], a)


def test_fill_diagonal_place_put_transforms():
    v2 = np.array([2.0, 3.0], np.float32)
    grads_like_jax(lambda m, x, v: (m.fill_diagonal(x, v, inplace=False) ** 2).sum(), F23, v2, argnums=(0, 1))
    grads_like_jax(lambda m, x, v: (m.place(x, x > 0, v, inplace=False) ** 2).sum(), F6, v2, argnums=(0, 1))
    grads_like_jax(lambda m, x, v: (m.put(x, m.array([1, -1]), v, inplace=False) ** 2).sum(), F6, v2,
                   argnums=(0, 1))
    vmap_like_loop(lambda x, v: xnp.fill_diagonal(x, v, inplace=False), np.stack([F23, -F23]), F23[:, :2])
    vmap_like_loop(lambda x, v: xnp.place(x, x > 0, v, inplace=False), F23, F23[:, :2])
    vmap_like_loop(lambda x, i, v: xnp.put(x, i, v, inplace=False), F23, np.array([[0, 2], [-1, 1]]), F23[:, :2])


def test_fill_diagonal_place_put_errors():
    raises_like_jax(lambda m: m.fill_diagonal(m.zeros((2, 2)), 1.), xf_exc=NotImplementedError,
                    jax_exc=NotImplementedError)
    raises_like_jax(lambda m: m.fill_diagonal(m.zeros(2), 1., inplace=False), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.fill_diagonal(m.zeros((2, 3, 2)), 1., inplace=False), xf_exc=ValueError,
                    jax_exc=ValueError)
    raises_like_jax(lambda m: m.place(m.zeros(3), m.ones(3, bool), 1.), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.place(m.zeros(3), m.ones(2, bool), 1., inplace=False), xf_exc=ValueError,
                    jax_exc=ValueError)
    raises_like_jax(lambda m: m.place(m.zeros(3), m.ones(3, bool), m.zeros(0), inplace=False), xf_exc=ValueError,
                    jax_exc=ValueError)
    raises_like_jax(lambda m: m.put(m.zeros(3), 0, 1.), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.put(m.zeros(3), m.array([0.]), 1., inplace=False), xf_exc=TypeError,
                    jax_exc=TypeError)
    raises_like_jax(lambda m: m.put(m.zeros(3), 0, 1., mode="foo", inplace=False), xf_exc=ValueError,
                    jax_exc=ValueError)
    with pytest.raises(NotImplementedError):
        xnp.put(xnp.zeros(3), 0, 1., mode="raise", inplace=False)
    check(lambda m: m.put(m.zeros(3), 1, 1., inplace=False))


# ----------------------------------------------------------------------------- extract, compress

def test_extract_compress_values():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    check(lambda m, a: [
        m.extract(a > 2, a), m.extract(m.array([1, 0, 2, 0, 0, 3]), a), m.extract(m.array([1, 0, 1]), a),
        m.extract(m.array([True]), 3.0), m.extract(m.arange(3) > 0, m.arange(3) * 2.0),
        m.compress(m.array([True, False, True]), a, axis=1), m.compress(m.array([True, False, True]), a),
        m.compress(m.array([False, True]), a, axis=-1), m.compress(m.array([2, 0, 1]), a, axis=1),
        m.compress(m.array([False, True, True, False]), a, axis=1),
        m.asarray(a).compress(m.array([True, False]), axis=0), m.compress(m.zeros(3, bool), a, axis=1)],
        a, jit=False, jax_eager=True)
    check(lambda m, a: [m.extract(a > 2, a, size=5), m.extract(a > 2, a, size=5, fill_value=-1),
                        m.extract(a > 2, a, size=2),
                        m.extract(m.arange(3) > 0, m.arange(3) * 2.0, size=3, fill_value=7),
                        m.compress(a[0] > 0, a, axis=1, size=3, fill_value=-5),
                        m.compress(a[:, 0] > 0, a, axis=0, size=2),
                        m.compress(m.array([True, False, False, True]), m.arange(3.), size=2),
                        m.asarray(a).compress(m.array([True, False]), 0, size=2)], a)


def test_extract_compress_transforms():
    grads_like_jax(lambda m, x: (m.extract(x > 0, x, size=4, fill_value=2.) ** 2).sum(), F6)
    grads_like_jax(lambda m, x: (m.extract(x > 0, x) ** 3).sum(), F6, jit=False)
    grads_like_jax(lambda m, x: (m.compress(x[0] > 0, x, axis=1, size=2) ** 2).sum(), F23)
    vmap_like_loop(lambda x: xnp.extract(x > 0, x, size=3), F23)
    vmap_like_loop(lambda c, x: xnp.compress(c, x, size=2, fill_value=9.), F23 > 0, F23)


def test_extract_compress_errors():
    jit = {jnp: jax.jit, xnp: xf.jit}
    raises_like_jax(lambda m, c, a: jit[m](m.extract)(c, a), F6 > 0, F6,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, c, a: jit[m](lambda c, a: m.compress(c, a))(c, a), F6 > 0, F6,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, a: m.compress(m.array([[True]]), a, axis=1), F23, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.compress(m.array([True]), a, axis=3), F23, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.extract(m.ones(8, bool), a), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.extract(a > 0, a, size=7), F6, xf_exc=ValueError, jax_exc=ValueError)
    with pytest.raises(NotImplementedError):
        xnp.compress(xnp.array([True]), xnp.ones(2), out=xnp.ones(2))
    check(lambda m, c, a: m.extract(c, a, size=2), F6 > 0, F6)


# ----------------------------------------------------------------------------- delete, insert

def test_delete_values():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    check(lambda m, a: [m.delete(a, 1), m.delete(a, 1, axis=1), m.delete(a, slice(0, None, 2), axis=1),
                        m.delete(a, m.array([0, 2, 2, -1]), axis=1), m.delete(a, m.array([True, False, True]), axis=1),
                        m.delete(a, -1, axis=0), m.delete(a, m.array([[1]])), m.delete(a, m.array([], m.int32)),
                        m.delete(m.array(3.), 0), m.delete(m.arange(3) * 2.0, 1)], a, jit=False, jax_eager=True)
    jit = {jnp: jax.jit, xnp: xf.jit}
    check(lambda m, a, i: [jit[m](lambda a, i: m.delete(a, i, axis=1, assume_unique_indices=True))(a, i),
                           jit[m](lambda a, i: m.delete(a, i, assume_unique_indices=True))(a, i[0]),
                           m.delete(a, slice(1, None), axis=1, assume_unique_indices=True)],
          a, np.array([-1, 0], np.int32), jit=False, jax_eager=True)


def test_insert_values():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    v = np.arange(3, dtype=np.int32)
    check(lambda m, a, v: [m.insert(a, 1, 9., axis=1), m.insert(a, 1, m.array([7., 8]), axis=1),
                           m.insert(a, m.array([0, 2, 2]), m.array([7., 8, 9]), axis=1),
                           m.insert(a, slice(0, 2), 5., axis=1),
                           m.insert(a, -1, 5., axis=1), m.insert(a, 7, 5., axis=1),
                           m.insert(a, 1, m.array([[7.], [8]]), axis=0), m.insert(a, 1, m.array([[7.], [8]]), axis=1),
                           m.insert(a, m.array([1]), m.array([[7.], [8]]), axis=1),
                           m.insert(a, m.array([1]), m.array([7., 8]), axis=1),
                           m.insert(a, m.array([1, 0]), m.array([7., 8])), m.insert(v, 1, 2.7),
                           m.insert(v, m.array([-1, -5, 9]), m.array([7, 8, 9])), m.insert(v, m.array([], m.int32), 5),
                           m.insert(v, slice(None, None, -1), m.array([7, 8, 9])), m.insert(m.array(3.), 0, 1.),
                           m.insert(m.arange(3) * 2.0, 1, 1.)], a, v)
    check(lambda m, a, i, j: [m.insert(a, i, m.array([7., 8.]), axis=1), m.insert(a, j, 5., axis=1)],   # traced
          a, np.array([2, 0], np.int32), 1, eager=False)


def test_delete_insert_transforms():
    grads_like_jax(lambda m, x: (m.delete(x, m.array([0, 2]), axis=1) ** 2).sum(), F23, jit=False)
    grads_like_jax(lambda m, x: (m.delete(x, m.array([0, 2]), axis=1, assume_unique_indices=True) ** 2).sum(), F23)
    w = np.arange(1.0, 9.0, dtype=np.float32).reshape(2, 4)
    grads_like_jax(lambda m, x, v: (m.insert(x, m.array([3, 0]), v, axis=1) ** 2 * w).sum(), F23[:, :2],
                   np.array([2.0, 3.0], np.float32), argnums=(0, 1))
    vmap_like_loop(lambda x, i: xnp.insert(x, i, xnp.array([7., 8.])), F23, np.array([[0, 2], [3, -1]]))
    vmap_like_loop(lambda x, i: xnp.insert(x, i, 9.), F23, np.array([1, -1]))
    vmap_like_loop(lambda x, i: xnp.delete(x, i, assume_unique_indices=True), F23, np.array([[0, 2], [-1, 0]]))


def test_delete_insert_errors():
    jit = {jnp: jax.jit, xnp: xf.jit}
    raises_like_jax(lambda m, a: jit[m](lambda a, i: m.delete(a, i))(a, 1), F6,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, a: m.delete(a, m.array([7])), F6, xf_exc=IndexError, jax_exc=IndexError)
    raises_like_jax(lambda m, a: m.delete(a, 7), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.delete(a, m.array([1.])), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.delete(a, m.array([True])), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.delete(a, [1]), F6, xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m, a: m.insert(a, m.array([True, False]), 5.), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.insert(a, 1.0, 5.), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.insert(a, m.array([[1]]), 5.), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.insert(a, m.array([2, 1]), m.array([7., 8, 9])), F6, xf_exc=ValueError,
                    jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.insert(a, 1, [7, 8]), F6, xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a: m.delete(a, m.array([1])), F6, jit=False, jax_eager=True)


# ----------------------------------------------------------------------------- select, piecewise

def test_select_piecewise_values():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    check(lambda m, a: [m.select([a > 3, a > 1], [a, -a]), m.select([a > 3, a > 1], [a, -a], default=m.nan),
                        m.select([a > 3, a > 1], [1, 2]), m.select([a > 3, a > 1], [1, 2.]),
                        m.select([a > 3], [m.arange(6).reshape(2, 3)], 2.5), m.select([m.ones((2, 3), m.int32)], [a]),
                        m.select([m.array([True, False, True])], [a]), m.select((a > 3,), (a,)),
                        m.select(m.stack([a > 3]), m.stack([a])), m.select([m.arange(3) > 0], [m.arange(3) * 2.0]),
                        m.piecewise(a, [a < 2, a > 4], [lambda x: x * 10, lambda x: -x, 7.]),
                        m.piecewise(a, [a < 2, a > 4], [lambda x: x * 10, lambda x: -x]),
                        m.piecewise(a, [a < 2], [1, 2]),
                        m.piecewise(m.arange(4), [m.arange(4) < 2], [lambda x: x * 2.5, 2]),
                        m.piecewise(a, a < 2, [1, 2]), m.piecewise(a, [a < 2], [lambda x, k: x * k, 0.], 3.),
                        m.piecewise(a, [a < 2], [lambda x, k=1: x * k, 0.], k=3.),
                        m.piecewise(m.arange(4.), [m.arange(4) > 0, m.arange(4) > 1], [1., 2., 3.]),
                        m.piecewise(m.arange(4.), [True, False], [1., 3.]),
                        m.piecewise(m.array(1.), [True], [lambda x: x + 1]),
                        m.piecewise(m.arange(3) * 2.0, [m.arange(3) > 0], [lambda x: x * 2, 1.])], a)


def test_select_piecewise_transforms():
    grads_like_jax(lambda m, x: m.select([x > 0.5, x < 0], [x ** 2, m.sin(x)], 3.).sum(), F6)
    grads_like_jax(lambda m, x: m.piecewise(x, [x > 0.5, x < 0], [lambda t: t ** 2, m.sin, 3.]).sum(), F6)
    vmap_like_loop(lambda x: xnp.select([x > 0.5, x < 0], [x ** 2, xnp.sin(x)], 3.), F23)
    vmap_like_loop(lambda x: xnp.piecewise(x, [x > 0.5, x < 0], [lambda t: t ** 2, xnp.sin, 3.]), F23)


def test_select_piecewise_errors():
    raises_like_jax(lambda m, a: m.select([a > 3], [a, a]), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.select([], []), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.piecewise(a, [a < 2], [1, 2, 3]), F6, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.select([a > 0], [[1.0] * 6]), F6, xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a: m.select([a > 0], [a]), F6)


# ----------------------------------------------------------------------------- apply_along_axis, apply_over_axes, block

def test_apply_along_over_axes():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    check(lambda m, a: [m.apply_along_axis(m.sum, 1, a), m.apply_along_axis(lambda v: v * 2, 0, a),
                        m.apply_along_axis(lambda v: m.outer(v, v), -1, a), m.apply_along_axis(lambda v: v[:2], 1, a),
                        m.apply_along_axis(lambda v: 1.0, 1, a[0]),
                        m.apply_along_axis(lambda v, k, s=1: v * k * s, 2, a, 2., s=3.),
                        m.apply_over_axes(m.sum, a, [0, 2]), m.apply_over_axes(m.sum, a, (-1,)),
                        m.apply_over_axes(m.sum, a, []),
                        m.apply_over_axes(lambda x, ax: x[0], a, [1]),
                        m.apply_over_axes(lambda x, ax: m.sum(x, ax, keepdims=True), a, [1, 2])], a)
    grads_like_jax(lambda m, x: m.apply_along_axis(lambda v: m.sum(v ** 2) * v, 1, x).sum(), F23)
    grads_like_jax(lambda m, x: m.apply_over_axes(m.sum, x ** 2, [0]).sum(), F23)
    raises_like_jax(lambda m, a: m.apply_along_axis(m.sum, 3, a), a, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.apply_along_axis(m.sum, 0, m.array(1.)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.apply_over_axes(m.sum, a, 1), a, xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a: m.apply_along_axis(m.sum, 0, a), a, jit=False)


def test_block():
    check(lambda m: [m.block([[m.ones((2, 2)), m.zeros((2, 3))], [m.zeros((1, 2)), m.ones((1, 3))]]),
                     m.block([m.ones(2), m.zeros(3)]), m.block([1, 2., 3]), m.block(m.ones(2)), m.block(1.),
                     m.block([[1, 2], [3, 4]]), m.block([[m.ones(2)], [m.ones(2)]]), m.block([[[m.ones((1, 1, 1))]]]),
                     m.block([[m.ones((2, 2, 2)), m.ones((2, 2, 2))]]),
                     m.block([m.arange(3) * 2.0, m.ones(1, m.int8)])])
    grads_like_jax(lambda m, x: (m.block([[x[:2], x[2:]], [x[3:], x[:3]]]) * m.arange(12.0).reshape(2, 6)).sum(), F6)
    vmap_like_loop(lambda x: xnp.block([[x, x[:, :1]], [x[:1], x[:1, :1]]]), np.stack([F23, -F23]))
    raises_like_jax(lambda m: m.block([[1], 2]), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.block([[]]), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.block([m.ones((2, 2)), m.ones((3, 2))]), xf_exc=TypeError, jax_exc=TypeError)
    with pytest.raises(ValueError, match="tuples"):
        xnp.block((xnp.ones(2), xnp.ones(2)))
    check(lambda m: m.block([[1.0]]))


def test_finite_differences(x64):
    x = np.array([0.3, -1.2, 0.8, 2.0, -0.4, 1.5])
    grad_fd(lambda x: (xnp.compress(x > 0, x * x, size=3) * xnp.arange(3.0)).sum()
            + (xnp.insert(x, xnp.array([1, 1, 4]), x[:3] * x[1:4]) * xnp.arange(9.0)).sum()
            + xnp.piecewise(x, [x > 0.5, x < 0], [lambda t: t ** 3, xnp.exp, lambda t: 2 * t]).sum()
            + (xnp.fill_diagonal(xnp.reshape(x, (2, 3)), x[:2] ** 2, inplace=False) ** 2).sum(), x)
