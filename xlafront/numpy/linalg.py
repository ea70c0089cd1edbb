"""xlafront.numpy.linalg: decompositions and solvers (on the linalg primitives, which lower
to LAPACK on the CPU), norms, and the functions that are plain products (matmul,
multi_dot, matrix_power, vecdot, tensordot, outer, cross, ...).

As in JAX: inputs are promoted to an inexact dtype; singular or indefinite matrices give
NaN/inf results, never an error; wrong shapes raise the error class JAX raises, naming
the shapes and the caller's line.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives_linalg as _L
from xlafront import primitives as P
from xlafront.numpy._util import aval, canonicalize_axis, convert, jitted, with_weak
from xlafront.numpy import _reductions as R
from xlafront.numpy import _products
from xlafront.numpy._products import vecdot  # noqa: F401
from xlafront.numpy._shapes import diagonal as _diagonal, matrix_transpose  # noqa: F401
from xlafront.transforms import rules_linalg as _RL
from xlafront.api_autodiff import custom_jvp as _custom_jvp


def _abs2(x):
    """|x|^2 in x's real dtype."""
    if dtypes.is_complex(aval(x).dtype):
        return P.add(P.square(P.real(x)), P.square(P.imag(x)))
    return P.mul(x, x)


def _abs(x):
    return P.abs(x)


def _scalar(v, dt):
    return np.asarray(v, dt)[()]


def _inexact(x):
    from xlafront.numpy._shapes import _arr
    x = _arr("norm", x)
    a = aval(x)
    dt = dtypes.to_inexact(a.dtype, a.weak_type)
    return convert(x, dt, False)


def _vector_norm(x, ord, axes, keepdims):
    rdt = P._real_dtype(aval(x).dtype)
    if ord is None or ord == 2:
        return P.sqrt(R.sum(_abs2(x), axis=axes, keepdims=keepdims))
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for vector norm.")
    if ord == np.inf:
        # (initial=0, as JAX: at a zero x the max ties with it, which halves the derivative)
        return R.max(_abs(x), axis=axes, keepdims=keepdims, initial=0)
    if ord == -np.inf:
        return R.min(_abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        nz = P.ne_p.bind(x, _scalar(0, aval(x).dtype))
        return R.sum(nz, axis=axes, keepdims=keepdims, dtype=rdt)
    if ord == 1:
        return R.sum(_abs(x), axis=axes, keepdims=keepdims)
    p = _scalar(ord, rdt)
    s = R.sum(P.pow(_abs(x), p), axis=axes, keepdims=keepdims)
    return P.pow(s, _scalar(1.0 / ord, rdt))


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord is None or ord == "fro":
        return P.sqrt(R.sum(_abs2(x), axis=axes, keepdims=keepdims))
    if ord in (2, -2, "nuc"):
        nd = aval(x).ndim
        rest = [i for i in range(nd) if i not in (r, c)]
        xm = P.transpose(x, tuple(rest) + (r, c))
        s = _svd_values(xm)
        out = {2: lambda s: R.max(s, axis=-1, initial=0), -2: lambda s: R.min(s, axis=-1),
               "nuc": lambda s: R.sum(s, axis=-1)}[ord](s)
        if keepdims:
            out = P.expand_dims(out, sorted((r, c)))
        return out
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for matrix norm.")
    a = _abs(x)
    if ord in (1, -1):
        # column sums, then the max (min) over columns
        s = R.sum(a, axis=r, keepdims=True)
        out = R.max(s, axis=c, keepdims=True, initial=0) if ord == 1 else R.min(s, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        s = R.sum(a, axis=c, keepdims=True)
        out = R.max(s, axis=r, keepdims=True, initial=0) if ord == np.inf else R.min(s, axis=r, keepdims=True)
    else:
        raise ValueError(f"Invalid order '{ord}' for matrix norm.")
    if not keepdims:
        out = P.squeeze(out, sorted((r, c)))
    return out


def norm(x, ord=None, axis=None, keepdims=False):
    """jnp.linalg.norm: vector norms along one axis, matrix norms over two."""
    x = _inexact(x)
    nd = aval(x).ndim
    if axis is None:
        if ord is None:
            return _vector_norm(x, None, tuple(range(nd)), keepdims)
        axes = tuple(range(nd))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, nd, "norm") for a in axis)
    else:
        axes = (canonicalize_axis(axis, nd, "norm"),)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"Duplicate axes given: axis={axis}")
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"Improper number of axes for norm: axis={axis if axis is not None else axes}. "
                     f"Pass one axis to compute a vector-norm, or two axes to compute a matrix-norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    x = _inexact(x)
    nd = aval(x).ndim
    if axis is None:
        axes = tuple(range(nd))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, nd, "vector_norm") for a in axis)
    else:
        axes = (canonicalize_axis(axis, nd, "vector_norm"),)
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    x = _inexact(x)
    nd = aval(x).ndim
    if nd < 2:
        raise ValueError(f"matrix_norm requires at least 2 dimensions, got shape {aval(x).shape}")
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


def diagonal(x, /, *, offset=0):
    return _diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    from xlafront.numpy._shapes import trace as _trace
    return _trace(x, offset, -2, -1, dtype=dtype)


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
    return _products.matmul(x1, x2, precision=precision, preferred_element_type=preferred_element_type)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
    return _products.tensordot(x1, x2, axes, precision=precision, preferred_element_type=preferred_element_type)


def outer(x1, x2, /):
    from xlafront.numpy._shapes import _arr
    a, b = _arr("outer", x1), _arr("outer", x2)
    if aval(a).ndim != 1 or aval(b).ndim != 1:
        raise ValueError(f"linalg.outer requires 1-D inputs, got shapes {aval(a).shape} and {aval(b).shape}")
    return _products.outer(a, b)


def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; n must be a static integer (negative powers
    are powers of the inverse)."""
    from xlafront.numpy._shapes import _arr
    x = _arr("matrix_power", a)
    s = aval(x).shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"matrix_power requires square matrices in the last two dimensions, got shape {s}")
    try:
        n = int(n.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}") from None
    if n < 0:
        x = inv(x)
        n = -n
    if n == 0:
        from xlafront.numpy._shapes import _fill_like
        it = dtypes.default_int()
        eye = P.eq(P.broadcasted_iota(it, s[-2:], 0), P.broadcasted_iota(it, s[-2:], 1))
        eye = P.broadcast_in_dim(eye, s, (len(s) - 2, len(s) - 1))
        return P.select_n(eye, _fill_like(x, 0), _fill_like(x, 1))
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(arrays, *, precision=None):
    """The chained product of the arrays, left to right (the first may be 1-D, as may the last)."""
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError(f"multi_dot requires at least two arrays, got {len(arrays)}")
    out = arrays[0]
    for x in arrays[1:]:
        out = matmul(out, x, precision=precision)
    return out


def cross(x1, x2, /, *, axis=-1):
    from xlafront.numpy._products import cross as _cross
    from xlafront.numpy._shapes import _arr
    a, b = _arr("cross", x1), _arr("cross", x2)
    if aval(a).shape[axis] != 3 or aval(b).shape[axis] != 3:
        raise ValueError(f"linalg.cross requires both inputs to have 3 entries along axis {axis}, got "
                         f"shapes {aval(a).shape} and {aval(b).shape}")
    return _cross(a, b, axis=axis)


# ----------------------------------------------------------------------------- decompositions and solvers
class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


def _weak(x):
    """Whether x is weakly typed (the results JAX keeps weak take it from the inputs)."""
    try:
        return bool(aval(x).weak_type)
    except Exception:
        return False


def _weak_tree(out, weak):
    if not weak:
        return out
    if isinstance(out, tuple):
        return type(out)(*(with_weak(o, True) for o in out)) if hasattr(out, "_fields") else \
            tuple(with_weak(o, True) for o in out)
    return with_weak(out, True)


def _mat(name, x, *, square=False, err=ValueError):
    """x as an inexact array with matrices in its last two axes (JAX's error class otherwise)."""
    from xlafront.numpy._shapes import _arr
    x = _arr(name, x)
    a = aval(x)
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        if square:
            raise err(f"Argument to {name} must have shape [..., n, n], got {a.shape} (at {core.user_site()})")
        raise err(f"Input 0 to {name} must have rank at least 2, but got shape={a.shape} "
                  f"(at {core.user_site()})")
    return convert(x, dtypes.to_inexact(a.dtype, a.weak_type), False)


def cholesky(a, *, upper=False, symmetrize_input=True):
    """The Cholesky factor of a Hermitian positive-definite a: lower L with a = L L^H (or its
    conjugate transpose with upper=True); NaN where a is not positive definite."""
    x = _mat("cholesky", a, square=True, err=TypeError)
    return _weak_tree(jitted("cholesky", _cholesky, (1, 2))(x, bool(upper), bool(symmetrize_input)), _weak(a))


def _cholesky(x, upper, symmetrize_input):
    l = _L.cholesky(_L.symmetrize(x) if symmetrize_input else x)
    return _RL._H(l) if upper else l


def _common(name, *xs):
    from xlafront.numpy._shapes import _arr
    from xlafront.numpy._util import result_type_of
    xs = [_arr(name, x) for x in xs]
    dt, weak = result_type_of(*xs)
    dt = dtypes.to_inexact(dt, weak)
    return [convert(x, dt, False) for x in xs]


def _bcast_batch(x, batch):
    s = aval(x).shape
    shape = tuple(batch) + s[-2:]
    if s == shape:
        return x
    nb = len(batch)
    dims = tuple(range(nb - (len(s) - 2), nb + 2))
    return P.broadcast_in_dim(x, shape, dims)


def _solve_batch(name, sa, sb):
    """The batch shape of solving a (..., n, n) against b, a vector (n,) or a stack of
    matrices (..., n, k) (batch axes broadcast); ValueError naming the caller otherwise."""
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise ValueError(f"Argument to {name} must have shape [..., n, n], got {sa} (at {core.user_site()})")
    n = sa[-1]
    if len(sb) == 0 or sb[-1 if len(sb) == 1 else -2] != n:
        raise ValueError(f"Invalid shapes for {name}: {sa}, {sb}: b must be a vector of {n} entries or a "
                         f"stack of matrices of shape [..., {n}, k] (at {core.user_site()})")
    if len(sb) == 1:
        return sa[:-2]
    from xlafront.numpy._util import broadcast_shapes
    try:
        return broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"Invalid shapes for {name}: {sa}, {sb}: the batch dimensions do not "
                         f"broadcast (at {core.user_site()})") from None


def _left_solve_body(a, b, fn, params=()):
    sa, sb = aval(a).shape, aval(b).shape
    n = sa[-1]
    batch = _solve_batch("solve", sa, sb)
    vec = len(sb) == 1
    bm = P.broadcast_in_dim(b, batch + (n, 1), (len(batch),)) if vec else _bcast_batch(b, batch)
    x = fn(_bcast_batch(a, batch), bm, *params)
    return P.squeeze(x, (len(batch) + 1,)) if vec else x


def _left_solve(name, a, b, fn, *params):
    """fn(a', b', *params) for a (..., n, n) against b, a vector (n,) or a stack of matrices
    (..., n, k), with a', b' the matrices broadcast to the common batch shape; one compiled
    program per signature (`fn` and `params` static)."""
    _solve_batch(name, aval(a).shape, aval(b).shape)
    return jitted(name, _left_solve_body, (2, 3))(a, b, fn, params)


def _lu_solve_mats_impl(a, b):
    return _RL.solve_general(a, b)


# solve (and inv) are differentiated as the linear solve they are, dx = a^-1 (db - da x), with
# a's LU factors reused, not through the LU factorization: the same tangents where a is
# regular, and JAX's inf/NaN pattern where it is singular (the LU route gives 0 * inf = NaN
# in more places).
_lu_solve_mats = _custom_jvp(_lu_solve_mats_impl)


@_lu_solve_mats.defjvp
def _lu_solve_mats_jvp(primals, tangents):
    a, b = primals
    da, db = tangents
    lu, _, perm = _L.lu(a)
    x = _RL.lu_solve(lu, perm, b)
    return x, _RL.lu_solve(lu, perm, P.sub(db, _RL._mm(da, x)))


def solve(a, b):
    """x with a @ x == b: b is a vector (n,) or a stack of matrices (..., n, k); LU with partial
    pivoting (NaN/inf for a singular a, as in JAX)."""
    weak = _weak(a) and _weak(b)
    a, b = _common("solve", a, b)
    return _weak_tree(_left_solve("solve", a, b, _lu_solve_mats), weak)


def inv(a):
    """The inverse of each square matrix of a (NaN/inf where singular, as in JAX)."""
    return jitted("inv", _inv)(_mat("inv", a, square=True))


def _inv(x):
    eye = _RL.eye_like(aval(x).shape, aval(x).dtype)
    return _lu_solve_mats(x, eye)


def _entry(x, i, j):
    s = aval(x).shape
    nd = len(s)
    e = P.slice(x, (0,) * (nd - 2) + (i, j), s[:-2] + (i + 1, j + 1))
    return P.squeeze(e, (nd - 2, nd - 1))


def _lu_slogdet_impl(x):
    lu, piv, _ = _L.lu(x)
    return _slogdet_from_lu(x, lu, piv)


def _slogdet_from_lu(x, lu, piv):
    dt = aval(x).dtype
    rdt = P._real_dtype(dt)
    s = aval(x).shape
    n = s[-1]
    d = _RL.diagonal(lu)
    nd = len(s)
    zero = _scalar(0, dt)
    is_zero = P.reduce_or(P.eq(d, zero), (nd - 2,))
    swaps = P.ne(piv, P.broadcast_in_dim(P.iota(dtypes.int32, n), aval(piv).shape, (nd - 2,)))
    nswap = P.reduce_sum(P.convert_element_type(swaps, dtypes.int32), (nd - 2,))
    absd = P.abs(d)
    if dtypes.is_complex(dt):
        nneg = nswap
        phase = P.reduce_prod(P.div(d, P.convert_element_type(absd, dt)), (nd - 2,))
    else:
        nneg = P.add(nswap, P.reduce_sum(P.convert_element_type(P.lt(d, zero), dtypes.int32), (nd - 2,)))
        phase = None
    parity = P.sub(_scalar(1, dtypes.int32), P.mul(_scalar(2, dtypes.int32), P.rem(nneg, _scalar(2, dtypes.int32))))
    sign = P.convert_element_type(parity, dt)
    if phase is not None:
        sign = P.mul(sign, phase)
    logdet = P.reduce_sum(P.log(absd), (nd - 2,))
    sign = P.select_n(is_zero, sign, P.broadcast_in_dim(_scalar(0, dt), aval(sign).shape, ()))
    logdet = P.select_n(is_zero, logdet, P.broadcast_in_dim(_scalar(-np.inf, rdt), aval(logdet).shape, ()))
    return sign, logdet


# d log|det a| = Re tr(a^-1 da) (a solve against a's LU factors, not the derivative of the LU
# factorization); the sign has a zero tangent for real a and the phase i Im tr(a^-1 da) sign
# for complex a. At a singular a that is JAX's inf/NaN pattern.
_lu_slogdet = _custom_jvp(_lu_slogdet_impl)


@_lu_slogdet.defjvp
def _lu_slogdet_jvp(primals, tangents):
    x, = primals
    dx, = tangents
    lu, piv, perm = _L.lu(x)
    sign, logdet = _slogdet_from_lu(x, lu, piv)
    nd = aval(x).ndim
    t = P.reduce_sum(_RL.diagonal(_RL.lu_solve(lu, perm, dx)), (nd - 2,))
    dt = aval(x).dtype
    if dtypes.is_complex(dt):
        re = P.real(t)
        return (sign, logdet), (P.mul(P.sub(t, P.convert_element_type(re, dt)), sign), re)
    return (sign, logdet), (P.broadcast_in_dim(_scalar(0, dt), aval(sign).shape, ()), t)


def _small_det(x):
    """det of each 1x1 or 2x2 matrix of x, in closed form."""
    e = lambda i, j: _entry(x, i, j)  # noqa: E731
    if aval(x).shape[-1] == 1:
        return e(0, 0)
    return P.sub(P.mul(e(0, 0), e(1, 1)), P.mul(e(0, 1), e(1, 0)))


def _small_slogdet_impl(x):
    d = _small_det(x)
    return P.sign(d), P.log(P.abs(d))


# n = 1, 2 (as JAX 0.10.2): sign(det) and log|det| of the closed-form determinant, so a NaN
# entry gives sign NaN and a singular matrix the sign of its (signed) zero determinant
# product; d log|det| = tr(adj(x) dx) / det(x) (at det = +0 the derivative is +-inf by the
# adjugate's signs, 0/0 = NaN where adj(x) dx is 0 too).
_small_slogdet = _custom_jvp(_small_slogdet_impl)


@_small_slogdet.defjvp
def _small_slogdet_jvp(primals, tangents):
    x, = primals
    dx, = tangents
    sign, logdet = _small_slogdet_impl(x)
    e = lambda i, j: _entry(x, i, j)  # noqa: E731
    g = lambda i, j: _entry(dx, i, j)  # noqa: E731
    if aval(x).shape[-1] == 1:
        t = P.div(g(0, 0), e(0, 0))
    else:
        num = P.add(P.sub(P.sub(P.mul(g(0, 0), e(1, 1)), P.mul(g(0, 1), e(1, 0))),
                          P.mul(g(1, 0), e(0, 1))), P.mul(g(1, 1), e(0, 0)))
        t = P.div(num, _small_det(x))
    dt = aval(x).dtype
    if dtypes.is_complex(dt):
        re = P.real(t)
        return (sign, logdet), (P.mul(P.sub(t, P.convert_element_type(re, dt)), sign), re)
    return (sign, logdet), (P.broadcast_in_dim(_scalar(0, dt), aval(sign).shape, ()), t)


def slogdet(a, *, method=None):
    """(sign, log|det|) of each square matrix of a: closed forms for 1x1 and 2x2 (which keep
    a weak type, as JAX), the LU factorization otherwise."""
    if method not in (None, "lu"):
        raise ValueError(f"Unknown slogdet method '{method}'. Supported methods are 'lu' (`None`) "
                         f"(at {core.user_site()})")
    x = _mat("slogdet", a, square=True)
    if aval(x).shape[-1] in (1, 2):
        return _weak_tree(SlogdetResult(*jitted("slogdet_small", _small_slogdet)(x)), _weak(a))
    return SlogdetResult(*jitted("slogdet", _lu_slogdet)(x))


def det(a):
    """The determinant of each square matrix of a (closed forms for 2x2 and 3x3, as JAX)."""
    x = _mat("_det()", a, square=True)
    # (the closed forms for n <= 3 keep a weak type; the LU route does not, as in JAX)
    return _weak_tree(jitted("det", _det)(x), _weak(a) and aval(x).shape[-1] <= 3)


def _det(x):
    n = aval(x).shape[-1]
    e = lambda i, j: _entry(x, i, j)  # noqa: E731
    if n == 2:
        return P.sub(P.mul(e(0, 0), e(1, 1)), P.mul(e(0, 1), e(1, 0)))
    if n == 3:
        t0 = P.mul(e(0, 0), P.sub(P.mul(e(1, 1), e(2, 2)), P.mul(e(1, 2), e(2, 1))))
        t1 = P.mul(e(0, 1), P.sub(P.mul(e(1, 0), e(2, 2)), P.mul(e(1, 2), e(2, 0))))
        t2 = P.mul(e(0, 2), P.sub(P.mul(e(1, 0), e(2, 1)), P.mul(e(1, 1), e(2, 0))))
        return P.add(P.sub(t0, t1), t2)
    return _lu_det(x)


def _lu_det_impl(x):
    sign, logdet = _lu_slogdet_impl(x)
    dt = aval(x).dtype
    return P.mul(sign, P.convert_element_type(P.exp(logdet), dt))


def _adjugate(x):
    """adj(x) (= det(x) x^-1 where x is regular), finite at every x, from the SVD
    x = U diag(s) V^H: adj(x) = det(U) det(V^H) V diag(p) U^H with p_i the product of the
    singular values other than s_i (no division, so a rank n-1 x gets its rank-one adjugate
    and a rank <= n-2 x a zero one). det(U) and det(V^H) are units (signs, or phases), read
    from their LU factorizations (well conditioned: U and V are unitary)."""
    dt = aval(x).dtype
    sh = aval(x).shape
    nd = len(sh)
    s, u, vh = _L.svd(x, full_matrices=False, compute_uv=True)
    rdt = aval(s).dtype
    # p_i = prod_j (s_j if j != i else 1): the singular values as rows, a one on the diagonal
    ones = P.broadcast_in_dim(_scalar(1, rdt), sh, ())
    rows = _RL._row(s, sh)
    p = P.reduce_prod(P.select_n(_RL._mask(sh, P.eq), rows, ones), (nd - 1,))
    unit = P.mul(_lu_slogdet_impl(u)[0], _lu_slogdet_impl(vh)[0])
    m = P.mul(_RL._col(P.convert_element_type(p, dt), sh), _RL._H(u))       # diag(p) U^H
    adj = _RL._mm(_RL._H(vh), m)
    return P.mul(adj, P.broadcast_in_dim(unit, sh, tuple(range(nd - 2))))


# d det(x) = tr(adj(x) dx): the adjugate, not det(x) x^-1 nor the derivative of the LU
# factorization, so the derivative is finite (the cofactor matrix) at singular x too, as JAX's.
_lu_det = _custom_jvp(_lu_det_impl)


@_lu_det.defjvp
def _lu_det_jvp(primals, tangents):
    x, = primals
    dx, = tangents
    nd = aval(x).ndim
    t = P.reduce_sum(P.mul(_RL._mT(_adjugate(x)), dx), (nd - 2, nd - 1))
    return _lu_det_impl(x), t


def qr(a, mode="reduced"):
    """QR decomposition: mode 'reduced' (Q, R), 'complete' (square Q) or 'r' (R alone)."""
    x = _mat("qr", a, err=TypeError)
    if mode not in ("reduced", "complete", "r"):
        if mode == "raw":
            raise NotImplementedError(f"qr mode='raw' is not implemented (at {core.user_site()})")
        raise ValueError(f"Unsupported QR decomposition mode '{mode}' (at {core.user_site()})")
    q, r = _weak_tree(_L.qr(x, full_matrices=(mode == "complete")), _weak(a))
    if mode == "r":
        return r
    return QRResult(q, r)


def _uplo(name, UPLO):
    if UPLO is None or UPLO == "L":
        return True
    if UPLO == "U":
        return False
    raise ValueError(f"{name}: UPLO must be 'L' or 'U', got {UPLO!r} (at {core.user_site()})")


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors (columns) of Hermitian matrices."""
    lower = _uplo("eigh", UPLO)
    x = _mat("eigh", a, square=True, err=TypeError)
    return EighResult(*_weak_tree(jitted("eigh", _eigh, (1, 2))(x, lower, bool(symmetrize_input)), _weak(a)))


def _eigh(x, lower, symmetrize_input):
    v, w = _L.eigh(_L.symmetrize(x) if symmetrize_input else x, lower=lower)
    return w, v


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    return eigh(a, UPLO, symmetrize_input=symmetrize_input).eigenvalues


def _svd_values(x):
    return _L.svd(x, full_matrices=False, compute_uv=False)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False, subset_by_index=None):
    """Singular value decomposition a = U diag(S) Vh, singular values descending.

    hermitian=True is accepted but changes nothing: the general SVD is computed (JAX goes
    through eigh there; S is the same, the columns of U and rows of Vh may differ from JAX's
    by a sign or phase, as any two SVDs may)."""
    x = _mat("svd", a, err=TypeError)
    if subset_by_index is not None:
        raise NotImplementedError(f"svd: subset_by_index is not implemented (at {core.user_site()})")
    if not compute_uv:
        return _weak_tree(_svd_values(x), _weak(a))
    s, u, vh = _weak_tree(_L.svd(x, full_matrices=full_matrices, compute_uv=True), _weak(a))
    return SVDResult(u, s, vh)


def svdvals(x, /):
    return _weak_tree(_svd_values(_mat("svdvals", x, err=TypeError)), _weak(x))


def pinv(a, rtol=None, hermitian=False, *, rcond=None):
    """Moore-Penrose pseudo-inverse from the SVD, singular values below rtol * max(s) dropped
    (default rtol: 10 * max(m, n) * eps)."""
    x = _mat("pinv", a, err=TypeError)
    if rtol is None:
        rtol = rcond
    s_ = aval(x).shape
    m, n = s_[-2:]
    dt = aval(x).dtype
    rdt = P._real_dtype(dt)
    if m == 0 or n == 0:
        return P.broadcast_in_dim(_scalar(0, dt), s_[:-2] + (n, m), ())
    if rtol is None:
        rtol = 10.0 * max(m, n) * float(dtypes.finfo(rdt).eps)
    return jitted("pinv", _pinv)(x, rtol)


def _pinv_impl(x, rtol):
    s_ = aval(x).shape
    dt = aval(x).dtype
    rdt = P._real_dtype(dt)
    s, u, vh = _L.svd(x, full_matrices=False, compute_uv=True)
    nd = len(s_)
    rt = convert(rtol, rdt, False)
    if aval(rt).ndim:
        rt = P.broadcast_in_dim(rt, aval(s).shape[:-1] + (1,), tuple(range(aval(rt).ndim)))
    smax = P.slice(s, (0,) * (nd - 1), aval(s).shape[:-1] + (1,))
    cutoff = P.mul(rt, smax)
    cutoff = P.broadcast_in_dim(cutoff, aval(s).shape, tuple(range(nd - 1)))
    inf = P.broadcast_in_dim(_scalar(np.inf, rdt), aval(s).shape, ())
    s = P.select_n(P.gt(s, cutoff), inf, s)
    ut = _RL._H(u)
    ut = P.div(ut, _RL._col(P.convert_element_type(s, dt), aval(ut).shape))
    return _RL._mm(_RL._H(vh), ut)


# The derivative of the pseudo-inverse itself (constant rank; Golub & Pereyra):
#   dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P,
# not the derivative through the SVD, which is NaN where singular values repeat (the
# identity, the zero matrix). rtol has no tangent.
_pinv = _custom_jvp(_pinv_impl)


@_pinv.defjvp
def _pinv_jvp(primals, tangents):
    a, rtol = primals
    da, _ = tangents
    p = _pinv_impl(a, rtol)
    mm, H = _RL._mm, _RL._H
    dah = H(da)
    t1 = P.neg(mm(mm(p, da), p))
    x = mm(p, mm(H(p), dah))                       # P P^H dA^H
    t2 = P.sub(x, mm(mm(x, a), p))                 # ... (I - A P)
    y = mm(dah, mm(H(p), p))                       # dA^H P^H P
    t3 = P.sub(y, mm(p, mm(a, y)))                 # (I - P A) ...
    return p, P.add(P.add(t1, t2), t3)


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least-squares solution of a x = b by the SVD: (x, residuals, rank, singular values)."""
    weak = _weak(a) and _weak(b)
    a, b = _common("lstsq", a, b)
    sa, sb = aval(a).shape, aval(b).shape
    if len(sa) != 2:
        raise TypeError(f"{len(sa)}-dimensional array given. Array must be two-dimensional "
                        f"(at {core.user_site()})")
    if len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise TypeError(f"lstsq: b of shape {sb} does not match a of shape {sa} (at {core.user_site()})")
    x, resid, rank, s = jitted("lstsq", _lstsq)(a, b, rcond)
    s = _weak_tree(s, weak)   # (the singular values keep a weak type, as in JAX)
    m, n = sa
    # numpy's residuals: none unless a is tall and of full column rank (rank must be concrete)
    if numpy_resid and (m <= n or int(rank) < n):
        from xlafront.numpy._creation import zeros
        resid = zeros((0,), P._real_dtype(aval(a).dtype))
    return x, resid, rank, s


def _lstsq(a, b, rcond):
    sb = aval(b).shape
    b1 = len(sb) == 1
    if b1:
        b = P.reshape(b, (sb[0], 1))
    m, n = aval(a).shape
    dt = aval(a).dtype
    rdt = P._real_dtype(dt)
    eps = float(dtypes.finfo(rdt).eps)
    s, u, vt = _L.svd(a, full_matrices=False, compute_uv=True)
    if rcond is None:
        rc = _scalar(eps * max(n, m), rdt)
    else:   # a negative rcond means machine precision
        rc = convert(rcond, rdt, False)
        rc = P.select_n(P.lt(rc, _scalar(0, rdt)), rc, P.broadcast_in_dim(_scalar(eps, rdt), aval(rc).shape, ()))
    k = aval(s).shape[0]
    s0 = P.squeeze(P.slice(s, (0,), (1,)), (0,)) if k else _scalar(0, rdt)
    # (zero singular values are never kept, whatever rcond: a zero a gives x = 0, rank 0, as JAX)
    mask = P.bitwise_and(P.ge(s, P.mul(rc, s0)), P.gt(s, _scalar(0, rdt)))
    rank = P.reduce_sum(P.convert_element_type(mask, dtypes.default_int()), (0,))
    safe = P.select_n(mask, P.broadcast_in_dim(_scalar(1, rdt), (k,), ()), s)
    s_inv = P.select_n(mask, P.broadcast_in_dim(_scalar(0, rdt), (k,), ()),
                       P.div(_scalar(1, rdt), safe))
    utb = _products.matmul(_RL._H(u), b)
    x = _products.matmul(_RL._H(vt), P.mul(_RL._col(P.convert_element_type(s_inv, dt), aval(utb).shape), utb))
    resid = P.integer_pow(norm(P.sub(b, _products.matmul(a, x)), axis=0), 2)
    if b1:
        x = P.reshape(x, (n,))
    return x, resid, rank, s


def cond(x, p=None):
    """The condition number of each matrix of x in the norm p (None and 2: s_max / s_min)."""
    weak = _weak(x) and p in (None, 2, -2)   # (as JAX: the SVD route keeps a weak type)
    x = _mat("cond", x, err=ValueError)
    s_ = aval(x).shape
    if not (p is None or p == 2 or p == -2) and s_[-1] != s_[-2]:
        raise ValueError(f"cond with p={p!r} requires square matrices, got shape {s_} (at {core.user_site()})")
    return _weak_tree(jitted("cond", _cond, (1,))(x, p), weak)


def _cond(x, p):
    nd = aval(x).ndim
    if p is None or p == 2 or p == -2:
        s = _svd_values(x)
        k = aval(s).shape[-1]
        first = P.squeeze(P.slice(s, (0,) * (nd - 1), aval(s).shape[:-1] + (1,)), (nd - 2,))
        last = P.squeeze(P.slice(s, (0,) * (nd - 2) + (k - 1,), aval(s).shape), (nd - 2,))
        return P.div(first, last) if p != -2 else P.div(last, first)
    r = P.mul(norm(x, ord=p, axis=(-2, -1)), norm(_inv(x), ord=p, axis=(-2, -1)))
    orig_nan = P.reduce_or(P.ne(x, x), (nd - 2, nd - 1))
    nan_mask = P.bitwise_and(P.ne(r, r), P.bitwise_not(orig_nan))
    rdt = aval(r).dtype
    return P.select_n(nan_mask, r, P.broadcast_in_dim(_scalar(np.inf, rdt), aval(r).shape, ()))


def matrix_rank(M, rtol=None, *, tol=None):
    """The number of singular values above tol (default: max(s) * max(m, n) * eps)."""
    from xlafront.numpy._shapes import _arr
    x = _arr("matrix_rank", M)
    a = aval(x)
    if tol is not None and rtol is not None:
        raise ValueError(f"matrix_rank: only one of tol or rtol may be specified "
                         f"(at {core.user_site()})")
    if tol is None and rtol is None and a.ndim >= 2 and 0 in a.shape[-2:]:
        # (the default tolerance scales the largest singular value, and a matrix with no
        # rows or columns has none; JAX raises NumPy's error for its empty max)
        raise ValueError(f"matrix_rank: zero-size array to reduction operation max which has "
                         f"no identity (matrices of shape {a.shape[-2:]} have no singular values "
                         f"to scale the default tolerance; pass tol=) (at {core.user_site()})")
    x = convert(x, dtypes.to_inexact(a.dtype, a.weak_type), False)
    return jitted("matrix_rank", _matrix_rank)(x, rtol, tol)


def _matrix_rank(x, rtol, tol):
    a = aval(x)
    if a.ndim < 2:
        nz = P.reduce_or(P.ne(x, _scalar(0, aval(x).dtype)), tuple(range(a.ndim)))
        return P.convert_element_type(nz, dtypes.default_int())
    s = _svd_values(x)
    rdt = aval(s).dtype
    nd = aval(s).ndim
    smax = P.reduce_max(s, (nd - 1,))
    if tol is None:
        if rtol is None:
            t = P.mul(smax, _scalar(max(a.shape[-2:]) * float(dtypes.finfo(rdt).eps), rdt))
        else:
            t = P.mul(convert(rtol, rdt, False), smax)
    else:
        t = convert(tol, rdt, False)
        if aval(t).shape != aval(smax).shape:
            t = P.broadcast_in_dim(t, aval(smax).shape, ()) if aval(t).ndim == 0 else t
    above = P.gt(s, P.broadcast_in_dim(t, aval(s).shape, tuple(range(nd - 1))))
    return P.reduce_sum(P.convert_element_type(above, dtypes.default_int()), (nd - 1,))

__all__ = ["norm", "vector_norm", "matrix_norm", "matmul", "tensordot", "outer", "vecdot",
           "matrix_transpose", "diagonal", "trace", "matrix_power", "multi_dot", "cross",
           "cholesky", "solve", "inv", "det", "slogdet", "qr", "eigh", "eigvalsh", "svd", "svdvals",
           "pinv", "lstsq", "cond", "matrix_rank"]

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
