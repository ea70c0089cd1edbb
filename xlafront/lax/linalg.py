"""xlafront.lax.linalg: the linalg primitives with jax.lax.linalg's signatures."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_linalg as _L
from xlafront.core import get_aval
from xlafront.primitives_linalg import (cholesky_p, triangular_solve_p, lu_p, qr_p, eigh_p,  # noqa: F401
                                        svd_p)


def _sym(x):
    a = get_aval(x)
    nd = a.ndim
    xt = P.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))
    if dtypes.is_complex(a.dtype):
        xt = P.conj(xt)
    return P.div(P.add(x, xt), np.asarray(2, a.dtype)[()])


def _arr(x):
    from xlafront.numpy._shapes import _arr as arr
    return arr("lax.linalg", x)


def cholesky(x, *, symmetrize_input: bool = True):
    """The lower Cholesky factor (NaN where x is not positive definite)."""
    x = _arr(x)
    if symmetrize_input:
        x = _sym(x)
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
        x = _sym(x)
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
    """The permutation of 0..permutation_size-1 that the row swaps `pivots` make."""
    from xlafront.scipy.linalg import lu_pivots_to_permutation as impl
    return impl(_arr(pivots), permutation_size)


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
