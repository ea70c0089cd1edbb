"""xlafront.numpy.linalg: norms, and the functions that are plain products (matmul, multi_dot,
matrix_power, vecdot, tensordot, outer, cross, ...).

Matrix norms that need singular values (ord=2, -2, 'nuc') are not available yet: they
raise NotImplementedError rather than give an approximation.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, canonicalize_axis, convert
from xlafront.numpy import _reductions as R
from xlafront.numpy import _products
from xlafront.numpy._products import vecdot  # noqa: F401
from xlafront.numpy._shapes import diagonal as _diagonal, matrix_transpose  # noqa: F401


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
        return R.max(_abs(x), axis=axes, keepdims=keepdims)
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
        raise NotImplementedError(
            f"linalg.norm with ord={ord!r} on a matrix needs singular values (SVD), which xlafront does "
            f"not provide yet; use ord='fro', 1, -1, inf or -inf (at {core.user_site()})")
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for matrix norm.")
    a = _abs(x)
    if ord in (1, -1):
        # column sums, then the max (min) over columns
        s = R.sum(a, axis=r, keepdims=True)
        out = (R.max if ord == 1 else R.min)(s, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        s = R.sum(a, axis=c, keepdims=True)
        out = (R.max if ord == np.inf else R.min)(s, axis=r, keepdims=True)
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
    """a @ a @ ... (n times) by repeated squaring; n must be a static integer >= 0 (negative
    powers need an inverse, which xlafront does not provide yet)."""
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
        raise NotImplementedError(f"matrix_power with a negative exponent needs a matrix inverse, which "
                                  f"xlafront does not provide yet (at {core.user_site()})")
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


__all__ = ["norm", "vector_norm", "matrix_norm", "matmul", "tensordot", "outer", "vecdot",
           "matrix_transpose", "diagonal", "trace", "matrix_power", "multi_dot", "cross"]
