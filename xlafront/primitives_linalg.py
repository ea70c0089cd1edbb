"""Primitives of the linalg family: definitions and shape rules (core layer).

Every primitive takes matrices in the last two axes and any leading batch axes (the LAPACK
kernels they lower to loop over those natively), as JAX's `lax.linalg` primitives do:

- `cholesky(a)`: the lower Cholesky factor L (a = L L^H), its upper triangle zero; NaN where
  the factorization fails (a not positive definite). Reads only the lower triangle of a.
- `triangular_solve(a, b)`: op(a) x = b (left_side) or x op(a) = b, a triangular; op is
  identity, transpose, conjugate or adjoint (transpose_a, conjugate_a).
- `lu(a)`: partially pivoted LU, a[perm] = L U; outputs (lu, pivots, permutation) with L
  (unit diagonal, below the diagonal) and U packed in `lu`, 0-based int32 pivots.
- `qr(a)`: (q, r), reduced or complete (full_matrices).
- `eigh(a)`: (v, w) for a Hermitian a (lower triangle read): eigenvectors as columns of v,
  eigenvalues w ascending, in the real dtype.
- `svd(a)`: (s,) or (s, u, vh) with s descending, in the real dtype.
"""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront.core import ShapedArray, get_aval, primitive, shape_rules
from xlafront.primitives import _real_dtype

cholesky_p = primitive("cholesky")
triangular_solve_p = primitive("triangular_solve")
lu_p = primitive("lu", multiple_results=True)
qr_p = primitive("qr", multiple_results=True)
eigh_p = primitive("eigh", multiple_results=True)
svd_p = primitive("svd", multiple_results=True)

linalg_primitives = (cholesky_p, triangular_solve_p, lu_p, qr_p, eigh_p, svd_p)


def _check_matrix(name, a, square=False):
    if not (dtypes.is_float(a.dtype) or dtypes.is_complex(a.dtype)) or a.dtype.itemsize < 4:
        raise TypeError(f"{name} requires a float32, float64, complex64 or complex128 operand, "
                        f"got {a.dtype.name}")
    if a.ndim < 2:
        raise ValueError(f"{name} requires an operand of rank >= 2 (matrices in the last two axes), "
                         f"got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} requires square matrices in the last two axes, got shape {a.shape}")


def _cholesky_rule(a):
    _check_matrix("cholesky", a, square=True)
    return ShapedArray(a.shape, a.dtype, a.weak_type)


shape_rules[cholesky_p] = _cholesky_rule


def _triangular_solve_rule(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _check_matrix("triangular_solve", a, square=True)
    if a.dtype != b.dtype:
        raise TypeError(f"triangular_solve requires a and b of the same dtype, got {a.dtype.name} "
                        f"and {b.dtype.name}")
    if b.ndim != a.ndim:
        raise ValueError(f"triangular_solve requires a and b of the same rank, got shapes {a.shape} "
                         f"and {b.shape}")
    if a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"triangular_solve requires equal batch dimensions, got shapes {a.shape} "
                         f"and {b.shape}")
    m = a.shape[-1]
    k = b.shape[-2] if left_side else b.shape[-1]
    if k != m:
        side = "rows" if left_side else "columns"
        raise ValueError(f"triangular_solve: b must have {m} {side} to match a of shape {a.shape} "
                         f"(left_side={left_side}), got shape {b.shape}")
    return ShapedArray(b.shape, b.dtype, a.weak_type and b.weak_type)


shape_rules[triangular_solve_p] = _triangular_solve_rule


def _lu_rule(a):
    _check_matrix("lu", a)
    *batch, m, n = a.shape
    batch = tuple(batch)
    w = a.weak_type   # (all three outputs carry it, the integer ones too, as JAX's)
    return (ShapedArray(a.shape, a.dtype, w), ShapedArray(batch + (min(m, n),), dtypes.int32, w),
            ShapedArray(batch + (m,), dtypes.int32, w))


shape_rules[lu_p] = _lu_rule


def _qr_rule(a, *, full_matrices):
    _check_matrix("qr", a)
    *batch, m, n = a.shape
    batch = tuple(batch)
    k = m if full_matrices else min(m, n)
    return (ShapedArray(batch + (m, k), a.dtype, a.weak_type), ShapedArray(batch + (k, n), a.dtype, a.weak_type))


shape_rules[qr_p] = _qr_rule


def _eigh_rule(a, *, lower=True, sort_eigenvalues=True):
    _check_matrix("eigh", a, square=True)
    return (ShapedArray(a.shape, a.dtype, a.weak_type), ShapedArray(a.shape[:-1], _real_dtype(a.dtype), a.weak_type))


shape_rules[eigh_p] = _eigh_rule


def _svd_rule(a, *, full_matrices, compute_uv):
    _check_matrix("svd", a)
    *batch, m, n = a.shape
    batch = tuple(batch)
    k = min(m, n)
    s = ShapedArray(batch + (k,), _real_dtype(a.dtype), a.weak_type)
    if not compute_uv:
        return (s,)
    ku, kv = (m, n) if full_matrices else (k, k)
    return (s, ShapedArray(batch + (m, ku), a.dtype, a.weak_type), ShapedArray(batch + (kv, n), a.dtype, a.weak_type))


shape_rules[svd_p] = _svd_rule


# ----------------------------------------------------------------------------- wrappers (lax.linalg)
def cholesky(a):
    return cholesky_p.bind(a)


def triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


def lu(a):
    return tuple(lu_p.bind(a))


def qr(a, *, full_matrices=True):
    return tuple(qr_p.bind(a, full_matrices=bool(full_matrices)))


def eigh(a, *, lower=True, sort_eigenvalues=True):
    return tuple(eigh_p.bind(a, lower=bool(lower), sort_eigenvalues=bool(sort_eigenvalues)))


def symmetrize(x):
    """(x + x^H) / 2 over the last two axes: the Hermitian part, which the factorizations of
    Hermitian matrices read (jax.lax.linalg symmetrizes their inputs the same way); a weak
    x stays weak."""
    from xlafront import primitives as P
    a = get_aval(x)
    nd = a.ndim
    xh = P.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))
    if dtypes.is_complex(a.dtype):
        xh = P.conj(xh)
    out = P.div(P.add(x, xh), np.asarray(2, a.dtype)[()])
    return P.convert_element_type_p.bind(out, new_dtype=a.dtype, weak_type=True) if a.weak_type else out


def svd(a, *, full_matrices=True, compute_uv=True):
    out = svd_p.bind(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    return tuple(out) if compute_uv else out[0]
