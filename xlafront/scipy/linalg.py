"""xlafront.scipy.linalg: SciPy's dense linear algebra on the linalg primitives (mirrors
jax.scipy.linalg): Cholesky and LU factorizations with their solves, triangular solves,
the matrix exponential, and passthroughs to xlafront.numpy.linalg."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_linalg as _L
from xlafront.core import get_aval
from xlafront.numpy import linalg as _nl
from xlafront.numpy._util import broadcast_shapes
from transforms import rules_linalg as _RL

core.register_internal_path(__file__)

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "lu", "lu_factor", "lu_solve",
           "expm", "solve", "inv", "det", "eigh", "svd", "qr"]


def _aval(x):
    return get_aval(x)


def _inexact(name, *xs):
    return _nl._common(name, *xs)


def _square(name, x):
    s = _aval(x).shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{name} requires square matrices in the last two axes, got shape {s} "
                         f"(at {core.user_site()})")


def _left_solve(name, a, b, fn):
    """fn(a', b') for a (..., n, n) against b (n,) or (..., n, k), batch axes broadcast."""
    sa, sb = _aval(a).shape, _aval(b).shape
    _square(name, a)
    n = sa[-1]
    if len(sb) == 0 or sb[-1 if len(sb) == 1 else -2] != n:
        raise ValueError(f"{name}: b of shape {sb} does not match a of shape {sa}: b must be a vector of "
                         f"{n} entries or a stack of matrices of shape [..., {n}, k] (at {core.user_site()})")
    vec = len(sb) == 1
    try:
        batch = broadcast_shapes(sa[:-2], () if vec else sb[:-2])
    except ValueError:
        raise ValueError(f"{name}: batch dimensions of a {sa} and b {sb} do not broadcast "
                         f"(at {core.user_site()})") from None
    bm = P.broadcast_in_dim(b, batch + (n, 1), (len(batch),)) if vec else _nl._bcast_batch(b, batch)
    x = fn(_nl._bcast_batch(a, batch), bm)
    return P.squeeze(x, (len(batch) + 1,)) if vec else x


# ----------------------------------------------------------------------------- Cholesky
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a (upper by default, as SciPy); NaN if a is not positive definite.
    Only the triangle named by `lower` is read."""
    a, = _inexact("cholesky", a)
    _square("cholesky", a)
    l = _L.cholesky(a if lower else _RL._H(a))
    return l if lower else _RL._H(l)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) for cho_solve."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with A x = b, given cho_factor(A) = (c, lower)."""
    c, lower = c_and_lower
    c, b = _inexact("cho_solve", c, b)

    def fn(c, b):
        y = _L.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=not lower, conjugate_a=not lower)
        return _L.triangular_solve(c, y, left_side=True, lower=lower, transpose_a=lower, conjugate_a=lower)
    return _left_solve("cho_solve", c, b, fn)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, debug=None,
                     check_finite=True):
    """x with op(a) x = b for triangular a; trans 0/'N', 1/'T' or 2/'C'."""
    if trans == 0 or trans == "N":
        transpose_a, conjugate_a = False, False
    elif trans == 1 or trans == "T":
        transpose_a, conjugate_a = True, False
    elif trans == 2 or trans == "C":
        transpose_a, conjugate_a = True, True
    else:
        raise ValueError(f"Invalid 'trans' value {trans} (at {core.user_site()})")
    a, b = _inexact("solve_triangular", a, b)

    def fn(a, b):
        return _L.triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose_a,
                                   conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    return _left_solve("solve_triangular", a, b, fn)


# ----------------------------------------------------------------------------- LU
def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """(p, l, u) with a = p @ l @ u (or (p @ l, u) with permute_l)."""
    a, = _inexact("lu", a)
    s = _aval(a).shape
    if len(s) < 2:
        raise ValueError(f"lu requires an array of rank >= 2, got shape {s} (at {core.user_site()})")
    m, n = s[-2:]
    k = min(m, n)
    dt = _aval(a).dtype
    lu_, _, perm = _L.lu(a)
    nd = len(s)
    batch = s[:-2]
    # p[..., i, j] = (perm[..., j] == i)
    rows = P.broadcasted_iota(dtypes.int32, batch + (m, m), nd - 2)
    pm = P.broadcast_in_dim(perm, batch + (m, m), tuple(range(nd - 2)) + (nd - 1,))
    p = P.convert_element_type(P.eq(pm, rows), P._real_dtype(dt))   # real, as JAX's
    l = P.add(_RL.tril(_RL._slice_last2(lu_, (0, m), (0, k)), -1), _RL.eye_like(batch + (m, k), dt))
    u = _RL.triu(_RL._slice_last2(lu_, (0, k), (0, n)))
    if permute_l:
        return _RL._mm(P.convert_element_type(p, dt), l), u
    return p, l, u


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) for lu_solve: L and U packed in lu, 0-based row interchanges in piv."""
    a, = _inexact("lu_factor", a)
    s = _aval(a).shape
    if len(s) < 2:
        raise ValueError(f"lu_factor requires an array of rank >= 2, got shape {s} (at {core.user_site()})")
    lu_, piv, _ = _L.lu(a)
    return lu_, piv


def lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation that the row interchanges `pivots` (applied in order) make of 0..m-1."""
    from xlafront import lax
    piv = pivots
    ps = _aval(piv).shape
    m = int(permutation_size)
    batch = ps[:-1]
    nd = len(ps)
    k = ps[-1]
    perm0 = P.broadcasted_iota(dtypes.int32, batch + (m,), nd - 1)
    if k == 0:
        return perm0
    piv = P.convert_element_type(piv, dtypes.int32)

    def body(i, perm):
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

    return lax.fori_loop(np.int32(0), np.int32(k), body, perm0)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with op(A) x = b given lu_factor(A) = (lu, piv); trans 0 (A), 1 (A^T) or 2 (A^H)."""
    lu_, piv = lu_and_piv
    lu_, b = _inexact("lu_solve", lu_, b)
    m = _aval(lu_).shape[-2]
    perm = lu_pivots_to_permutation(piv, m)
    if trans not in (0, 1, 2):
        raise ValueError(f"'trans' value must be 0, 1, or 2, got {trans} (at {core.user_site()})")

    def fn(lu_m, bm):
        nb = _aval(lu_m).ndim - 2
        pr = perm if _aval(perm).shape[:-1] == _aval(lu_m).shape[:-2] else \
            P.broadcast_in_dim(perm, _aval(lu_m).shape[:-1], tuple(range(nb - (_aval(perm).ndim - 1), nb + 1)))
        if trans == 0:
            return _nl._lu_solve(lu_m, pr, bm)
        conj = trans == 2
        y = _L.triangular_solve(lu_m, bm, left_side=True, lower=False, transpose_a=True, conjugate_a=conj)
        y = _L.triangular_solve(lu_m, y, left_side=True, lower=True, transpose_a=True, conjugate_a=conj,
                                unit_diagonal=True)
        # undo the row permutation: x[perm] = y
        inv_perm = P.sort([pr, P.broadcasted_iota(dtypes.int32, _aval(pr).shape, nb)], nb, True, 1)[1]
        return _RL.permute_rows(y, inv_perm)
    return _left_solve("lu_solve", lu_, b, fn)


# ----------------------------------------------------------------------------- expm
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880., 3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
         10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.),
}


def _pade(order):
    """The (U, V) of the degree-`order` Pade approximant: exp(A) ~ (V - U)^-1 (V + U)."""
    b = _PADE[order]

    def fn(a):
        from xlafront import numpy as xnp
        n = _aval(a).shape[-1]
        eye = xnp.eye(n, dtype=_aval(a).dtype)
        a2 = a @ a
        if order == 13:
            a4 = a2 @ a2
            a6 = a4 @ a2
            u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
            v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
            return u, v
        powers = [eye, a2]
        while len(powers) < (order + 1) // 2:
            powers.append(powers[-1] @ a2)
        odd = sum(b[2 * i + 1] * p for i, p in enumerate(powers))
        even = sum(b[2 * i] * p for i, p in enumerate(powers))
        return a @ odd, even
    return fn


def _expm2(a, max_squarings):
    """expm of one matrix: scaling, a Pade approximant picked by the 1-norm, and squaring
    back (a data-dependent number of squarings; NaN beyond max_squarings, as JAX)."""
    from xlafront import lax
    from xlafront import numpy as xnp
    dt = _aval(a).dtype
    rdt = P._real_dtype(dt)
    norm1 = _nl.norm(a, 1)
    if rdt == dtypes.float64:
        maxnorm, conds, orders = 5.371920351148152, (1.495585217958292e-002, 2.539398330063230e-001,
                                                      9.504178996162932e-001, 2.097847961257068e+000), \
            (3, 5, 7, 9, 13)
    else:
        maxnorm, conds, orders = 3.925724783138660, (4.258730016922831e-001, 1.880152677804762e+000), (3, 5, 7)
    n_sq = xnp.maximum(0, xnp.floor(xnp.log2(norm1 / maxnorm)))
    a = a / xnp.power(xnp.asarray(2, dt), n_sq.astype(dt))
    idx = xnp.sum(norm1 >= xnp.asarray(conds, rdt)).astype(dtypes.int32)
    u, v = lax.switch(idx, [_pade(o) for o in orders], a)
    p, q = u + v, -u + v

    def compute(p, q):
        r = _nl.solve(q, p)

        def step(c, i):
            return lax.cond(i < n_sq, lambda x: x @ x, lambda x: x, c), None
        r, _ = lax.scan(step, r, xnp.arange(max_squarings, dtype=n_sq.dtype))
        return r

    def nan(p, q):
        return xnp.full_like(p, np.nan)

    return lax.cond(n_sq > max_squarings, nan, compute, p, q)


def expm(A, *, upper_triangular=False, max_squarings=16):
    """The matrix exponential by scaling and squaring with Pade approximants (Higham 2005),
    the algorithm and thresholds of jax.scipy.linalg.expm."""
    a, = _inexact("expm", A)
    s = _aval(a).shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"Expected A to be a (batched) square matrix, got A.shape={s} (at {core.user_site()})")
    if len(s) == 2:
        return _expm2(a, max_squarings)
    from xlafront.api_batching import vmap
    flat = P.reshape(a, (int(np.prod(s[:-2])),) + s[-2:])
    out = vmap(lambda x: _expm2(x, max_squarings))(flat)
    return P.reshape(out, s)


# ----------------------------------------------------------------------------- passthroughs
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False, check_finite=True,
          assume_a="gen"):
    """x with a x = b; assume_a='pos' solves by Cholesky (reading the `lower` triangle)."""
    if assume_a != "pos":
        return _nl.solve(a, b)
    a, b = _inexact("solve", a, b)
    # The value is the Cholesky solve with the factor of a (only its `lower` triangle read).
    # Its derivatives are those of x = A^-1 b in the whole matrix A, as JAX's (a linear solve
    # differentiated implicitly): with F = chol(A) held constant and E = A - stop_gradient(A)
    # (zero in value), x = y - F^-1 E y + F^-1 E F^-1 E y, y = F^-1 b, is the Neumann series
    # of (F F^H + E)^-1 b, exact in its first and second derivatives.
    from xlafront.api_autodiff import stop_gradient
    a0 = stop_gradient(a)
    factor = cho_factor(a0, lower=lower)
    e = P.sub(a, a0)

    def fsolve(r):
        return cho_solve(factor, r)

    def e_mul(y):
        return _nl.matmul(e, y)
    y = fsolve(b)
    t1 = fsolve(e_mul(y))
    t2 = fsolve(e_mul(t1))
    return P.add(P.sub(y, t1), t2)


def inv(a, overwrite_a=False, check_finite=True):
    return _nl.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    return _nl.det(a)


def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
         check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):  # noqa: A002
    """(w, v) of a Hermitian a (symmetrized first, as JAX does), or w with eigvals_only."""
    if b is not None or type != 1 or subset_by_index is not None or subset_by_value is not None:
        raise NotImplementedError(f"scipy.linalg.eigh: only the standard problem (b=None, type=1, no "
                                  f"subsets) is implemented (at {core.user_site()})")
    a, = _inexact("eigh", a)
    _square("eigh", a)
    v, w = _L.eigh(_nl._symmetrize(a), lower=lower)   # symmetrized, as jax.scipy's
    return w if eigvals_only else (w, v)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    a, = _inexact("svd", a)
    if _aval(a).ndim < 2:
        raise ValueError(f"svd requires an array of rank >= 2, got shape {_aval(a).shape} (at {core.user_site()})")
    if not compute_uv:
        return _L.svd(a, full_matrices=full_matrices, compute_uv=False)
    s, u, vh = _L.svd(a, full_matrices=full_matrices, compute_uv=True)
    return u, s, vh


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """mode 'full' (square Q), 'economic', or 'r' (a 1-tuple (R,) of the full R, as SciPy)."""
    if pivoting:
        raise NotImplementedError(f"scipy.linalg.qr with pivoting=True is not implemented (at {core.user_site()})")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"Unsupported QR decomposition mode '{mode}' (at {core.user_site()})")
    a, = _inexact("qr", a)
    if _aval(a).ndim < 2:
        raise ValueError(f"qr requires an array of rank >= 2, got shape {_aval(a).shape} (at {core.user_site()})")
    q, r = _L.qr(a, full_matrices=(mode != "economic"))
    if mode == "r":
        return (r,)
    return q, r


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
