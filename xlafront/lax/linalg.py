"""xlafront.lax.linalg: the linalg primitives with jax.lax.linalg's signatures."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_linalg as _L
from xlafront.core import get_aval
from xlafront.primitives_linalg import (cholesky_p, triangular_solve_p, lu_p, qr_p, eigh_p,  # noqa: F401
                                        svd_p)


def _arr(x):
    from xlafront.numpy._shapes import _arr as arr
    return arr("lax.linalg", x)


def cholesky(x, *, symmetrize_input: bool = True):
    """The lower Cholesky factor (NaN where x is not positive definite)."""
    x = _arr(x)
    if symmetrize_input:
        x = _L.symmetrize(x)
    return _L.cholesky(x)


def triangular_solve(a, b, *, left_side: bool = False, lower: bool = False, transpose_a: bool = False,
                     conjugate_a: bool = False, unit_diagonal: bool = False):
    """Solves op(a) x = b (left_side) or x op(a) = b for triangular a."""
    return _L.triangular_solve(_arr(a), _arr(b), left_side=left_side, lower=lower, transpose_a=transpose_a,
                               conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)


def lu(x):
    """(lu, pivots, permutation) with x[permutation] = L U."""
    return _L.lu(_arr(x))


def qr(x, *, pivoting: bool = False, full_matrices: bool = True, use_magma=None):
    if pivoting:
        raise NotImplementedError(f"lax.linalg.qr with pivoting=True is not implemented (at {core.user_site()})")
    return _L.qr(_arr(x), full_matrices=full_matrices)


def eigh(x, *, lower: bool = True, symmetrize_input: bool = True, sort_eigenvalues: bool = True,
         subset_by_index=None):
    """(v, w): eigenvectors (columns) and ascending eigenvalues of Hermitian x."""
    if subset_by_index is not None:
        raise NotImplementedError(f"lax.linalg.eigh with subset_by_index is not implemented "
                                  f"(at {core.user_site()})")
    x = _arr(x)
    if symmetrize_input:
        x = _L.symmetrize(x)
    return _L.eigh(x, lower=lower, sort_eigenvalues=sort_eigenvalues)


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True, subset_by_index=None, algorithm=None):
    """(u, s, vh), or s alone when compute_uv is False."""
    if subset_by_index is not None:
        raise NotImplementedError(f"lax.linalg.svd with subset_by_index is not implemented "
                                  f"(at {core.user_site()})")
    x = _arr(x)
    if not compute_uv:
        return _L.svd(x, full_matrices=full_matrices, compute_uv=False)
    s, u, vh = _L.svd(x, full_matrices=full_matrices, compute_uv=True)
    return u, s, vh


def lu_pivots_to_permutation(pivots, permutation_size: int):
    """The permutation of 0..permutation_size-1 that the row interchanges `pivots` (applied
    in order: swap rows i and pivots[i]) make."""
    from xlafront.numpy._util import jitted
    return jitted("lu_pivots_to_permutation", _pivots_to_permutation, (1,))(_arr(pivots), int(permutation_size))


def _pivots_to_permutation(piv, m):
    from xlafront.lax._control_flow import fori_loop
    ps = get_aval(piv).shape
    batch = ps[:-1]
    nd = len(ps)
    k = ps[-1]
    perm0 = P.broadcasted_iota(dtypes.int32, batch + (m,), nd - 1)
    if k == 0:
        return perm0
    piv = P.convert_element_type(piv, dtypes.int32)

    def body(i, perm):
        i = P.convert_element_type(i, dtypes.int32)   # (fori_loop's index may be a weak int64)
        io = P.broadcasted_iota(dtypes.int32, batch + (m,), nd - 1)
        zeros = [np.int32(0)] * len(batch)
        j = P.dynamic_slice(piv, zeros + [i], batch + (1,))
        q = P.dynamic_slice(perm, zeros + [i], batch + (1,))
        jb = P.broadcast_in_dim(j, batch + (m,), tuple(range(nd)))
        qb = P.broadcast_in_dim(q, batch + (m,), tuple(range(nd)))
        at_j = P.eq(io, jb)
        at_i = P.eq(io, P.broadcast_in_dim(i, batch + (m,), ()))
        pj = P.reduce_sum(P.select_n(at_j, P.mul(perm, np.int32(0)), perm), (nd - 1,))
        pjb = P.broadcast_in_dim(pj, batch + (m,), tuple(range(nd - 1)))
        return P.select_n(at_i, P.select_n(at_j, perm, qb), pjb)

    return fori_loop(np.int32(0), np.int32(k), body, perm0)


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
