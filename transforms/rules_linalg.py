"""jvp, transpose and batching rules of the linalg primitives.

The derivatives are the classical matrix-calculus results, written with the primitive
wrappers so that they are themselves differentiable and batchable (H is the conjugate
transpose, solves are triangular solves against the factors):

- Cholesky, A = L L^H:  dL = L Phi(L^-1 dA L^-H), Phi = lower triangle with its diagonal halved.
- Triangular solve, op(A) X = B:  dX = op(A)^-1 (dB - op(dA) X)  (and the mirror image for
  X op(A) = B); it is linear in B, with transpose op(A)^-T.
- LU, A[perm] = L U:  with X = L^-1 dA[perm] U^-1 (square block), dL = L tril(X, -1) and
  dU = triu(X) U; the extra rows (tall) or columns (wide) follow from the same product rule.
- QR (m >= n):  with C = Q^H dA R^-1 and Omega = Q^H dQ the skew-Hermitian matrix whose
  strict lower triangle is that of C: dQ = Q Omega + (I - Q Q^H) dA R^-1, dR = (C - Omega) R;
  wide A = Q [R1 R2] from its square block; the extra columns of a complete Q from the
  orthogonality of Q (arXiv:2409.13374).
- eigh, A = V diag(w) V^H:  with M = V^H dA V, dw = Re diag(M) and dV = V (F o M),
  F_ij = 1 / (w_j - w_i) off the diagonal.
- SVD, A = U diag(s) V^H:  with M = U^H dA V, ds = Re diag(M); dU, dV from the symmetric and
  skew parts of M diag(s) and diag(s) M over s_j^2 - s_i^2, plus the components outside the
  column spaces for non-square A.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_linalg as L
from xlafront.core import ShapedArray, get_aval

from xlafront.transforms import jvp as J
from xlafront.transforms.jvp import Zero, tangent_aval, jvp_rules
from xlafront.transforms.transpose import transpose_rules, is_undefined
from xlafront.transforms import batching as B
from xlafront.transforms.batching import batch_rules

core.register_internal_path(__file__)

_I32 = dtypes.int32


# ----------------------------------------------------------------------------- helpers
def _shape(x):
    return get_aval(x).shape


def _dtype(x):
    return get_aval(x).dtype


def _mT(x):
    nd = len(_shape(x))
    return P.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _H(x):
    x = _mT(x)
    return P.conj(x) if dtypes.is_complex(_dtype(x)) else x


def _conj(x):
    return P.conj(x) if dtypes.is_complex(_dtype(x)) else x


def _mm(x, y):
    """Batched matrix product over equal leading axes."""
    nd = len(_shape(x))
    batch = tuple(range(nd - 2))
    return P.dot_general(x, y, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _scalar(v, dt):
    return np.asarray(v, dt)[()]


def _zeros(shape, dt):
    return J.zeros(ShapedArray(tuple(shape), dt))


def _mask(shape, fn):
    """fn(rows, cols) -> bool over the last two axes of `shape`, broadcast to `shape`."""
    m, n = shape[-2:]
    r = P.broadcasted_iota(_I32, (m, n), 0)
    c = P.broadcasted_iota(_I32, (m, n), 1)
    nd = len(shape)
    return P.broadcast_in_dim(fn(r, c), shape, (nd - 2, nd - 1))


def tril(x, k=0):
    s = _shape(x)
    return P.select_n(_mask(s, lambda r, c: P.ge(P.add(r, np.int32(k)), c)), _zeros(s, _dtype(x)), x)


def triu(x, k=0):
    s = _shape(x)
    return P.select_n(_mask(s, lambda r, c: P.ge(c, P.add(r, np.int32(k)))), _zeros(s, _dtype(x)), x)


def eye_like(shape, dt):
    return P.convert_element_type(_mask(shape, P.eq), dt)


def diagonal(x):
    """The main diagonal of the (square) matrices of x: shape (..., n)."""
    s = _shape(x)
    sel = P.select_n(_mask(s, P.eq), _zeros(s, _dtype(x)), x)
    return P.reduce_sum(sel, (len(s) - 1,))


def _row(v, shape):
    """v (..., n) as v[..., None, :] broadcast to shape (..., m, n)."""
    nd = len(shape)
    return P.broadcast_in_dim(v, shape, tuple(range(nd - 2)) + (nd - 1,))


def _col(v, shape):
    """v (..., m) as v[..., :, None] broadcast to shape (..., m, n)."""
    nd = len(shape)
    return P.broadcast_in_dim(v, shape, tuple(range(nd - 1)))


def _slice_last2(x, rows, cols):
    s = _shape(x)
    nd = len(s)
    r0, r1 = rows
    c0, c1 = cols
    return P.slice(x, (0,) * (nd - 2) + (r0, c0), s[:-2] + (r1, c1))


def _pad_last2(x, rows_hi, cols_hi):
    nd = len(_shape(x))
    cfg = [(0, 0, 0)] * (nd - 2) + [(0, rows_hi, 0), (0, cols_hi, 0)]
    return P.pad(x, _scalar(0, _dtype(x)), cfg)


def _zero_out(x):
    return Zero(tangent_aval(get_aval(x)))


# ----------------------------------------------------------------------------- cholesky
def _cholesky_jvp(primals, tangents):
    a, = primals
    da, = tangents
    l = L.cholesky_p.bind(a)
    if type(da) is Zero:
        return l, _zero_out(l)
    tmp = L.triangular_solve(l, da, left_side=False, lower=True, transpose_a=True, conjugate_a=True)  # dA L^-H
    x = L.triangular_solve(l, tmp, left_side=True, lower=True)                                    # L^-1 dA L^-H
    s = _shape(l)
    rdt = P._real_dtype(_dtype(l))
    weight = P.add(P.convert_element_type(_mask(s, P.gt), rdt),
                   P.mul(P.convert_element_type(_mask(s, P.eq), rdt), _scalar(0.5, rdt)))
    if rdt != _dtype(l):
        weight = P.convert_element_type(weight, _dtype(l))
    # dL is lower triangular: its strict upper triangle is an exact zero (not 0 * NaN when
    # a is not positive definite and L holds NaN), as JAX's
    return l, tril(_mm(l, P.mul(x, weight)))


jvp_rules[L.cholesky_p] = _cholesky_jvp
batch_rules[L.cholesky_p] = B.leading_batch_rule(L.cholesky_p)


# ----------------------------------------------------------------------------- triangular_solve
def _op(x, transpose_a, conjugate_a):
    if transpose_a:
        x = _mT(x)
    return _conj(x) if conjugate_a else x


def _trisolve_jvp(primals, tangents, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    a, b = primals
    da, db = tangents
    params = dict(left_side=left_side, lower=lower, transpose_a=transpose_a, conjugate_a=conjugate_a,
                  unit_diagonal=unit_diagonal)
    x = L.triangular_solve_p.bind(a, b, **params)
    # one solve for both tangents: dX = op(A)^-1 (dB - op(dA) X)
    rhs = db
    if type(da) is not Zero:
        k = -1 if unit_diagonal else 0
        g = tril(da, k) if lower else triu(da, -k)
        g = _op(g, transpose_a, conjugate_a)
        gx = _mm(g, x) if left_side else _mm(x, g)
        rhs = P.neg(gx) if type(db) is Zero else P.sub(db, gx)
    return x, L.triangular_solve_p.bind(a, rhs, **params)


def _trisolve_t(ct, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    if is_undefined(a):
        raise NotImplementedError("triangular_solve is not linear in its matrix operand a")
    if type(ct) is Zero:
        return [None, Zero(tangent_aval(b.aval))]
    # X = op(A)^-1 B  =>  B_bar = op(A)^-T X_bar: the same solve with the transpose flag flipped
    return [None, L.triangular_solve_p.bind(a, ct, left_side=left_side, lower=lower,
                                            transpose_a=not transpose_a, conjugate_a=conjugate_a,
                                            unit_diagonal=unit_diagonal)]


def _trisolve_batch(args, dims, **params):
    a, b = args
    ad, bd = dims
    if ad is None and len(_shape(a)) == 2:
        # one matrix against a batch of right-hand sides: fold the batch into b's free axis
        bs = _shape(b)
        size = bs[bd]
        if params["left_side"]:
            bt = B.moveaxis(b, bd, len(bs) - 1)          # (m, n, batch)
            m, n = bt.shape[0], bt.shape[1]
            x = L.triangular_solve_p.bind(a, P.reshape(bt, (m, n * size)), **params)
            return P.reshape(x, (m, n, size)), 2
        bt = B.moveaxis(b, bd, 0)                        # (batch, n, m)
        n, m = bt.shape[1], bt.shape[2]
        x = L.triangular_solve_p.bind(a, P.reshape(bt, (size * n, m)), **params)
        return P.reshape(x, (size, n, m)), 0
    return B.leading_batch_rule(L.triangular_solve_p)(args, dims, **params)


jvp_rules[L.triangular_solve_p] = _trisolve_jvp
transpose_rules[L.triangular_solve_p] = _trisolve_t
batch_rules[L.triangular_solve_p] = _trisolve_batch


# ----------------------------------------------------------------------------- lu
def permute_rows(x, perm):
    """x[..., perm, :] (perm: (..., m) int32)."""
    s = _shape(x)
    nd = len(s)
    if 0 in s:
        return x
    idx = P.broadcast_in_dim(perm, s, tuple(range(nd - 1)))
    return J.take_along(x, idx, nd - 2)


def _lu_jvp(primals, tangents):
    a, = primals
    da, = tangents
    lu, piv, perm = L.lu_p.bind(a)
    outs = [lu, piv, perm]
    zeros = [_zero_out(piv), _zero_out(perm)]
    if type(da) is Zero:
        return outs, [_zero_out(lu)] + zeros
    s = _shape(a)
    m, n = s[-2:]
    k = min(m, n)
    dt = _dtype(a)
    batch = s[:-2]
    pda = permute_rows(da, perm)
    l_full = P.add(tril(_slice_last2(lu, (0, m), (0, k)), -1), eye_like(batch + (m, k), dt))
    u_full = triu(_slice_last2(lu, (0, k), (0, n)))
    l1 = _slice_last2(l_full, (0, k), (0, k))
    u1 = _slice_last2(u_full, (0, k), (0, k))
    x = L.triangular_solve(l1, _slice_last2(pda, (0, k), (0, k)), left_side=True, lower=True, unit_diagonal=True)
    x = L.triangular_solve(u1, x, left_side=False, lower=False)
    dl = _mm(l1, tril(x, -1))
    du = _mm(triu(x), u1)
    if m > n:   # the rows of L below the square block: dA2 = dL2 U1 + L2 dU1
        l2 = _slice_last2(l_full, (k, m), (0, k))
        rest = P.sub(_slice_last2(pda, (k, m), (0, n)), _mm(l2, du))
        dl = P.concatenate([dl, L.triangular_solve(u1, rest, left_side=False, lower=False)], len(s) - 2)
    elif n > m:  # the columns of U right of it: dA2 = dL U2 + L dU2
        u2 = _slice_last2(u_full, (0, k), (k, n))
        rest = P.sub(_slice_last2(pda, (0, m), (k, n)), _mm(dl, u2))
        du = P.concatenate([du, L.triangular_solve(l1, rest, left_side=True, lower=True, unit_diagonal=True)], len(s) - 1)
    # pack: strictly lower part from dL (m, k), upper part from dU (k, n)
    dl_p = _pad_last2(tril(dl, -1), 0, n - k)
    du_p = _pad_last2(triu(du), m - k, 0)
    return outs, [P.add(dl_p, du_p)] + zeros


jvp_rules[L.lu_p] = _lu_jvp
batch_rules[L.lu_p] = B.leading_batch_rule(L.lu_p)


# ----------------------------------------------------------------------------- qr
def _thin_qr_jvp(q, r, da):
    """Tangents of Q (m, n) and R (n, n) of A = Q R, m >= n."""
    dx_rinv = L.triangular_solve(r, da, left_side=False, lower=False)     # dA R^-1
    c = _mm(_H(q), dx_rinv)                                    # Q^H dA R^-1
    low = tril(c, -1)
    omega = P.sub(low, _H(low))
    if dtypes.is_complex(_dtype(c)):    # the imaginary part of C's diagonal belongs to Omega
        im = P.complex(P.mul(P.real(c), _scalar(0, P._real_dtype(_dtype(c)))), P.imag(c))
        s = _shape(c)
        omega = P.add(omega, P.select_n(_mask(s, P.eq), _zeros(s, _dtype(c)), im))
    dq = P.add(_mm(q, P.sub(omega, c)), dx_rinv)
    dr = _mm(P.sub(c, omega), r)
    return dq, dr


def lu_solve(lu, perm, b):
    """A^-1 b for matrices b (..., n, k), given A[perm] = L U packed in lu."""
    y = L.triangular_solve(lu, permute_rows(b, perm), left_side=True, lower=True, unit_diagonal=True)
    return L.triangular_solve(lu, y, left_side=True, lower=False)


def solve_general(a, b):
    """a^-1 b by LU with partial pivoting (b: (..., n, k))."""
    lu, _, perm = L.lu_p.bind(a)
    return lu_solve(lu, perm, b)


def _qr_jvp(primals, tangents, *, full_matrices):
    a, = primals
    da, = tangents
    q, r = L.qr_p.bind(a, full_matrices=full_matrices)
    if type(da) is Zero:
        return [q, r], [_zero_out(q), _zero_out(r)]
    s = _shape(a)
    m, n = s[-2:]
    nd = len(s)
    if m < n:
        # A = Q [R1 R2]: the square block is a square QR; R2 = Q^H A2 gives dR2 = dQ^H A2 + Q^H dA2
        dq, dr1 = _thin_qr_jvp(q, _slice_last2(r, (0, m), (0, m)), _slice_last2(da, (0, m), (0, m)))
        a2, da2 = _slice_last2(a, (0, m), (m, n)), _slice_last2(da, (0, m), (m, n))
        dr2 = P.add(_mm(_H(dq), a2), _mm(_H(q), da2))
        return [q, r], [dq, P.concatenate([dr1, dr2], nd - 1)]
    if not full_matrices or m == n:
        dq, dr = _thin_qr_jvp(q, r, da)
        return [q, r], [dq, dr]
    # complete Q of a tall A: the thin part as above; the tangent of the extra columns Q_mp
    # follows from the orthogonality of [Q_mn Q_mp] (arXiv:2409.13374, eqs. 32-33), with
    # Z = Q_pn (Q_nn - I)^-1.
    q_mn = _slice_last2(q, (0, m), (0, n))
    q_mp = _slice_last2(q, (0, m), (n, m))
    dq_mn, dr_nn = _thin_qr_jvp(q_mn, _slice_last2(r, (0, n), (0, n)), da)
    q_nn, q_pn = _slice_last2(q_mn, (0, n), (0, n)), _slice_last2(q_mn, (n, m), (0, n))
    dq_nn, dq_pn = _slice_last2(dq_mn, (0, n), (0, n)), _slice_last2(dq_mn, (n, m), (0, n))
    z_h = solve_general(_H(P.sub(q_nn, eye_like(_shape(q_nn), _dtype(q)))), _H(q_pn))   # Z^H
    z = _H(z_h)
    dq_mp = P.sub(_mm(dq_mn, z_h), _mm(P.add(q_mn, _mm(q_mp, z)), _H(P.sub(dq_pn, _mm(z, dq_nn)))))
    dq = P.concatenate([dq_mn, dq_mp], nd - 1)
    dr = P.concatenate([dr_nn, _zeros(s[:-2] + (m - n, n), _dtype(a))], nd - 2)
    return [q, r], [dq, dr]


jvp_rules[L.qr_p] = _qr_jvp
batch_rules[L.qr_p] = B.leading_batch_rule(L.qr_p)


# ----------------------------------------------------------------------------- eigh
def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues):
    a, = primals
    da, = tangents
    v, w = L.eigh_p.bind(a, lower=lower, sort_eigenvalues=sort_eigenvalues)
    if type(da) is Zero:
        return [v, w], [_zero_out(v), _zero_out(w)]
    s = _shape(a)
    dt = _dtype(a)
    rdt = get_aval(w).dtype
    m = _mm(_H(v), _mm(da, v))
    eye = eye_like(s, rdt)
    f = P.sub(P.div(_scalar(1, rdt), P.add(eye, P.sub(_row(w, s), _col(w, s)))), eye)
    dv = _mm(v, P.mul(P.convert_element_type(f, dt), m))
    d = diagonal(m)
    dw = P.real(d) if dtypes.is_complex(dt) else d
    return [v, w], [dv, dw]


jvp_rules[L.eigh_p] = _eigh_jvp
batch_rules[L.eigh_p] = B.leading_batch_rule(L.eigh_p)


# ----------------------------------------------------------------------------- svd
def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    a, = primals
    da, = tangents
    outs = L.svd_p.bind(a, full_matrices=full_matrices, compute_uv=compute_uv)
    if type(da) is Zero:
        return outs, [_zero_out(o) for o in outs]
    s_shape = _shape(a)
    m, n = s_shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError("Singular value decomposition JVP not implemented for full matrices")
    if compute_uv:
        s, u, vh = outs
    else:
        s, u, vh = L.svd_p.bind(a, full_matrices=False, compute_uv=True)
    dt = _dtype(a)
    rdt = get_aval(s).dtype
    cplx = dtypes.is_complex(dt)
    ut, v = _H(u), _H(vh)
    ds_mat = _mm(ut, _mm(da, v))                         # (k, k)
    d = diagonal(ds_mat)
    ds = P.real(d) if cplx else d
    if not compute_uv:
        return outs, [ds]
    ks = _shape(ds_mat)
    s_row = _row(s, ks)                                  # s_j
    s_col = _col(s, ks)                                  # s_i
    eye = eye_like(ks, rdt)
    f = P.sub(P.div(_scalar(1, rdt), P.add(P.mul(P.add(s_row, s_col), P.sub(s_row, s_col)), eye)), eye)
    fc = P.convert_element_type(f, dt)
    s_row_c = P.convert_element_type(s_row, dt)
    dss = P.mul(s_row_c, ds_mat)                         # dS diag(s)
    sds = P.mul(P.convert_element_type(s_col, dt), ds_mat)  # diag(s) dS
    is_zero = P.convert_element_type(P.eq(s, _scalar(0, rdt)), rdt)
    s_inv = P.sub(P.div(_scalar(1, rdt), P.add(s, is_zero)), is_zero)
    s_inv_mat = P.mul(_row(s_inv, ks), eye)
    du_diag = P.mul(P.mul(P.sub(ds_mat, _H(ds_mat)), P.convert_element_type(s_inv_mat, dt)), _scalar(0.5, dt))
    du = _mm(u, P.add(P.mul(fc, P.add(dss, _H(dss))), du_diag))
    dv = _mm(v, P.mul(fc, P.add(sds, _H(sds))))
    if m > n:
        dav = _mm(da, v)
        du = P.add(du, P.div(P.sub(dav, _mm(u, _mm(ut, dav))), _row(P.convert_element_type(s, dt), _shape(dav))))
    if n > m:
        dahu = _mm(_H(da), u)
        dv = P.add(dv, P.div(P.sub(dahu, _mm(v, _mm(vh, dahu))), _row(P.convert_element_type(s, dt), _shape(dahu))))
    return outs, [ds, du, _H(dv)]


jvp_rules[L.svd_p] = _svd_jvp
batch_rules[L.svd_p] = B.leading_batch_rule(L.svd_p)
