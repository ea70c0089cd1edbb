"""xlafront.scipy.linalg: SciPy's dense linear algebra on the linalg primitives (mirrors
jax.scipy.linalg): Cholesky and LU factorizations with their solves, triangular solves,
the matrix exponential, and passthroughs to xlafront.numpy.linalg."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_linalg as _L
from xlafront.api_autodiff import custom_jvp
from xlafront.core import get_aval
from xlafront.numpy import linalg as _nl
from xlafront.lax.linalg import lu_pivots_to_permutation
from xlafront.numpy._util import jitted
from xlafront.numpy.linalg import _left_solve, _weak, _weak_tree
from xlafront.transforms import rules_linalg as _RL

core.register_internal_path(__file__)

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "lu", "lu_factor", "lu_solve",
           "expm", "solve", "inv", "det", "eigh", "svd", "qr", "toeplitz"]


def _square(name, x):
    s = get_aval(x).shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{name} requires square matrices in the last two axes, got shape {s} "
                         f"(at {core.user_site()})")


# ----------------------------------------------------------------------------- Cholesky
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a (upper by default, as SciPy); NaN if a is not positive definite.
    Only the triangle named by `lower` is read."""
    weak = _weak(a)
    a, = _nl._common("cholesky", a)
    _square("cholesky", a)
    return _weak_tree(jitted("cholesky", _cholesky, (1,))(a, bool(lower)), weak)


def _cholesky(a, lower):
    l = _L.cholesky(a if lower else _RL._H(a))
    return l if lower else _RL._H(l)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) for cho_solve."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with A x = b, given cho_factor(A) = (c, lower)."""
    c, lower = c_and_lower
    weak = _weak(c) and _weak(b)
    c, b = _nl._common("cho_solve", c, b)
    return _weak_tree(_left_solve("cho_solve", c, b, _cho_solve_mats, bool(lower)), weak)


def _cho_solve_mats(c, b, lower):
    """(C C^H)^-1 b for the lower factor C (or C^H C for the upper one)."""
    y = _L.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=not lower, conjugate_a=not lower)
    return _L.triangular_solve(c, y, left_side=True, lower=lower, transpose_a=lower, conjugate_a=lower)


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
    weak = _weak(a) and _weak(b)
    a, b = _nl._common("solve_triangular", a, b)
    return _weak_tree(_left_solve("solve_triangular", a, b, _tri_solve_mats, bool(lower), transpose_a,
                                  conjugate_a, bool(unit_diagonal)), weak)


def _tri_solve_mats(a, b, lower, transpose_a, conjugate_a, unit_diagonal):
    return _L.triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose_a,
                               conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)


# ----------------------------------------------------------------------------- LU
def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """(p, l, u) with a = p @ l @ u (or (p @ l, u) with permute_l)."""
    weak = _weak(a)
    a, = _nl._common("lu", a)
    s = get_aval(a).shape
    if len(s) < 2:
        raise ValueError(f"lu requires an array of rank >= 2, got shape {s} (at {core.user_site()})")
    out = jitted("lu", _lu, (1,))(a, bool(permute_l))
    # (u keeps a weak type, as in JAX; p and l are built on strong constants)
    return out[:-1] + (_weak_tree(out[-1], weak),)


def _lu(a, permute_l):
    s = get_aval(a).shape
    m, n = s[-2:]
    k = min(m, n)
    dt = get_aval(a).dtype
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
    weak = _weak(a)
    a, = _nl._common("lu_factor", a)
    s = get_aval(a).shape
    if len(s) < 2:
        raise ValueError(f"lu_factor requires an array of rank >= 2, got shape {s} (at {core.user_site()})")
    return _weak_tree(jitted("lu_factor", _lu_factor)(a), weak)


def _lu_factor(a):
    lu_, piv, _ = _L.lu(a)
    return lu_, piv


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with op(A) x = b given lu_factor(A) = (lu, piv); trans 0 (A), 1 (A^T) or 2 (A^H)."""
    lu_, piv = lu_and_piv
    weak = _weak(lu_) and _weak(b)
    lu_, b = _nl._common("lu_solve", lu_, b)
    if trans not in (0, 1, 2):
        raise ValueError(f"'trans' value must be 0, 1, or 2, got {trans} (at {core.user_site()})")
    _nl._solve_batch("lu_solve", get_aval(lu_).shape, get_aval(b).shape)
    return _weak_tree(jitted("lu_solve", _lu_solve, (3,))(lu_, piv, b, int(trans)), weak)


def _lu_solve(lu_, piv, b, trans):
    perm = lu_pivots_to_permutation(piv, get_aval(lu_).shape[-2])

    def fn(lu_m, bm):
        nb = get_aval(lu_m).ndim - 2
        pr = perm if get_aval(perm).shape[:-1] == get_aval(lu_m).shape[:-2] else \
            P.broadcast_in_dim(perm, get_aval(lu_m).shape[:-1], tuple(range(nb - (get_aval(perm).ndim - 1), nb + 1)))
        if trans == 0:
            return _RL.lu_solve(lu_m, pr, bm)
        conj = trans == 2
        y = _L.triangular_solve(lu_m, bm, left_side=True, lower=False, transpose_a=True, conjugate_a=conj)
        y = _L.triangular_solve(lu_m, y, left_side=True, lower=True, transpose_a=True, conjugate_a=conj,
                                unit_diagonal=True)
        # undo the row permutation: x[perm] = y
        inv_perm = P.sort([pr, P.broadcasted_iota(dtypes.int32, get_aval(pr).shape, nb)], nb, True, 1)[1]
        return _RL.permute_rows(y, inv_perm)
    return _nl._left_solve_body(lu_, b, fn)


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
        n = get_aval(a).shape[-1]
        eye = xnp.eye(n, dtype=get_aval(a).dtype)
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
    dt = get_aval(a).dtype
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
    a, = _nl._common("expm", A)
    s = get_aval(a).shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"Expected A to be a (batched) square matrix, got A.shape={s} (at {core.user_site()})")
    return jitted("expm", _expm, (1,))(a, int(max_squarings))


def _expm(a, max_squarings):
    s = get_aval(a).shape
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
    weak = _weak(a) and _weak(b)
    a, b = _nl._common("solve", a, b)
    return _weak_tree(_left_solve("solve", a, b, _pos_solve_mats, bool(lower)), weak)


def _pos_solve_mats(a, b, lower):
    from xlafront.api_autodiff import stop_gradient
    # one factorization, held constant: every derivative of x goes through _pos_solve's rule
    return _pos_solve(lower, a, _cholesky(stop_gradient(a), lower), b)


def _pos_solve_value(lower, a, c, b):
    return _cho_solve_mats(c, b, lower)


# x = A^-1 b for Hermitian positive-definite A, given c, the Cholesky factor of A's `lower`
# triangle. Differentiated implicitly in the whole matrix A, as JAX's: A x = b gives
# dx = A^-1 (db - dA x). The rule applies A^-1 to the tangent as a matrix product with
# A^-1 = this function of (A, c, I): a call on primal values only, so the tangent stays a
# product (linear, transposable), and differentiating A^-1 uses this rule again: every
# order of derivative is exact, with the one factorization c (whose own tangent is unused:
# A carries all of x's dependence).
_pos_solve = custom_jvp(_pos_solve_value, nondiff_argnums=(0,))


@_pos_solve.defjvp
def _pos_solve_jvp(lower, primals, tangents):
    a, c, b = primals
    da, _, db = tangents
    x = _pos_solve(lower, a, c, b)
    a_inv = _pos_solve(lower, a, c, _RL.eye_like(get_aval(a).shape, get_aval(a).dtype))
    return x, _RL._mm(a_inv, P.sub(db, _RL._mm(da, x)))


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
    weak = _weak(a)
    a, = _nl._common("eigh", a)
    _square("eigh", a)
    v, w = _weak_tree(_L.eigh(_L.symmetrize(a), lower=lower), weak)   # symmetrized, as jax.scipy's
    return w if eigvals_only else (w, v)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    weak = _weak(a)
    a, = _nl._common("svd", a)
    if get_aval(a).ndim < 2:
        raise ValueError(f"svd requires an array of rank >= 2, got shape {get_aval(a).shape} (at {core.user_site()})")
    if not compute_uv:
        return _weak_tree(_L.svd(a, full_matrices=full_matrices, compute_uv=False), weak)
    s, u, vh = _weak_tree(_L.svd(a, full_matrices=full_matrices, compute_uv=True), weak)
    return u, s, vh


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """mode 'full' (square Q), 'economic', or 'r' (a 1-tuple (R,) of the full R, as SciPy)."""
    if pivoting:
        raise NotImplementedError(f"scipy.linalg.qr with pivoting=True is not implemented (at {core.user_site()})")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"Unsupported QR decomposition mode '{mode}' (at {core.user_site()})")
    weak = _weak(a)
    a, = _nl._common("qr", a)
    if get_aval(a).ndim < 2:
        raise ValueError(f"qr requires an array of rank >= 2, got shape {get_aval(a).shape} (at {core.user_site()})")
    q, r = _weak_tree(_L.qr(a, full_matrices=(mode != "economic")), weak)
    if mode == "r":
        return (r,)
    return q, r


# ----------------------------------------------------------------------------- Toeplitz
def toeplitz(c, r=None):
    """The Toeplitz matrix with first column c and first row r (r[0] is ignored: the diagonal
    is c[0]); r defaults to conj(c). Leading axes of c and r are batch axes (broadcast)."""
    from xlafront import numpy as xnp
    from xlafront.numpy._util import check_arraylike
    if r is None:
        check_arraylike("toeplitz", c)
        r = xnp.conjugate(xnp.asarray(c))
    else:
        check_arraylike("toeplitz", c, r)
    c, r = xnp.asarray(c), xnp.asarray(r)
    dt = xnp.result_type(c, r)
    c, r = xnp.atleast_1d(c).astype(dt), xnp.atleast_1d(r).astype(dt)
    c = P.convert_element_type(c, dt, weak_type=False)
    r = P.convert_element_type(r, dt, weak_type=False)
    (*cb, n), (*rb, m) = get_aval(c).shape, get_aval(r).shape
    try:
        batch = tuple(np.broadcast_shapes(tuple(cb), tuple(rb)))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(cb), tuple(rb)]} "
                         f"(at {core.user_site()})") from None
    c = xnp.broadcast_to(c, batch + (n,))
    r = xnp.broadcast_to(r, batch + (m,))
    # entry (i, j) is v[m - 1 + i - j] of v = (r[m-1], ..., r[1], c[0], ..., c[n-1])
    v = xnp.concatenate([xnp.flip(r[..., 1:], axis=-1), c], axis=-1)
    idx = (max(m, 1) - 1) + np.arange(n)[:, None] - np.arange(m)[None, :]
    return v[..., idx]


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
