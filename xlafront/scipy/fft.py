"""xlafront.scipy.fft: the discrete cosine transform (mirrors jax.scipy.fft: type 2 only).

dct(x)[k] = 2 sum_n x[n] cos(pi k (2n + 1) / (2N)) (SciPy's unnormalized DCT-II); norm='ortho'
scales it to an orthonormal transform; idct is its exact inverse. Each transform along one axis
is a product with a constant N x N matrix (built in float64, at full precision), so values,
derivatives and batching follow from tensordot.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront.core import get_aval
from xlafront.numpy._util import check_arraylike

__all__ = ["dct", "dctn", "idct", "idctn"]


def _check(name, type, norm):  # noqa: A002
    if type != 2:
        raise NotImplementedError("Only DCT type 2 is implemented.")
    if norm is not None and norm != "ortho":
        raise ValueError(f"jax.scipy.fft.{name}: norm={norm!r} is not implemented "
                         f"(at {core.user_site()})")


@functools.lru_cache(maxsize=64)
def _matrix(n, norm, inverse):
    """The float64 matrix M with dct(x) = M @ x along the axis (idct: its inverse)."""
    k = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    m = 2 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))
    if norm == "ortho":
        scale = np.full((n, 1), np.sqrt(1 / (2 * n)))
        scale[0] = np.sqrt(1 / (4 * n))
        m = m * scale               # orthonormal: its inverse is its transpose
        return m.T if inverse else m
    if inverse:
        # M^T M = 2N diag(2, 1, ..., 1), so M^-1 = M^T diag(1/2, 1, ..., 1) / (2N)
        w = np.ones(n)
        w[0] = 0.5
        return (m.T * w[None, :]) / (2 * n)
    return m


def _inexact(name, x):
    check_arraylike(name, x)
    x = xnp.asarray(x)
    dt = get_aval(x).dtype
    if dtypes.is_complex(dt):
        out = dt
    elif dt == np.dtype(np.float64):
        out = dt
    else:   # ints, bools and the narrow floats compute in float32, as JAX's
        out = np.dtype(np.float32)
    return x.astype(out)


def _resize(x, n, axis):
    nd = get_aval(x).ndim
    if not -nd <= operator.index(axis) < nd:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {nd} "
                         f"(at {core.user_site()})")
    size = get_aval(x).shape[axis]
    if n is None or n == size:
        return x
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"Invalid number of data points ({n}) specified (at {core.user_site()})")
    if n < size:
        return xnp.take(x, np.arange(n), axis=axis)
    pad = [(0, 0)] * get_aval(x).ndim
    pad[axis] = (0, n - size)
    return xnp.pad(x, pad)


def _along(x, axis, norm, inverse):
    nd = get_aval(x).ndim
    axis = operator.index(axis)
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {nd} "
                         f"(at {core.user_site()})")
    axis %= nd
    n = get_aval(x).shape[axis]
    real = get_aval(x).dtype if not dtypes.is_complex(get_aval(x).dtype) else \
        np.dtype(np.float64 if get_aval(x).dtype == np.complex128 else np.float32)
    m = np.asarray(_matrix(n, norm, inverse), real)
    if dtypes.is_complex(get_aval(x).dtype):
        y = (xnp.tensordot(xnp.real(x), m, axes=([axis], [1]), precision="highest")
             + 1j * xnp.tensordot(xnp.imag(x), m, axes=([axis], [1]), precision="highest"))
        y = y.astype(get_aval(x).dtype)
    else:
        y = xnp.tensordot(x, m, axes=([axis], [1]), precision="highest")
    return xnp.moveaxis(y, -1, axis)


def dct(x, type=2, n=None, axis=-1, norm=None):  # noqa: A002
    """The type-2 discrete cosine transform of x along `axis` (x cut or zero-padded to n)."""
    _check("dct", type, norm)
    x = _inexact("dct", x)
    return _along(_resize(x, n, axis), axis, norm, False)


def idct(x, type=2, n=None, axis=-1, norm=None):  # noqa: A002
    """The inverse of the type-2 DCT along `axis` (x cut or zero-padded to n first)."""
    _check("idct", type, norm)
    x = _inexact("idct", x)
    return _along(_resize(x, n, axis), axis, norm, True)


def _axes_sizes(name, x, s, axes):
    nd = get_aval(x).ndim
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    axes = tuple(operator.index(a) for a in axes)
    if s is not None and len(s) != len(axes):
        raise ValueError(f"jax.scipy.fft.{name}: shape and axes have different lengths "
                         f"(s={tuple(s)}, axes={axes}) (at {core.user_site()})")
    return axes, (tuple(s) if s is not None else (None,) * len(axes))


def _dct_axes(name, x, type, s, axes, norm, inverse):  # noqa: A002
    _check(name, type, norm)
    x = _inexact(name, x)
    axes, sizes = _axes_sizes(name, x, s, axes)
    for a, n in zip(axes, sizes):
        x = _along(_resize(x, n, a), a, norm, inverse)
    return x


def dctn(x, type=2, s=None, axes=None, norm=None):  # noqa: A002
    """The type-2 DCT over several axes (all by default), each cut or padded to s."""
    return _dct_axes("dctn", x, type, s, axes, norm, False)


def idctn(x, type=2, s=None, axes=None, norm=None):  # noqa: A002
    """The inverse of dctn over several axes (all by default), each cut or padded to s."""
    return _dct_axes("idctn", x, type, s, axes, norm, True)


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
