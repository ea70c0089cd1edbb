"""Shape manipulation: reshape, transpose, concatenate, stack, expand_dims, squeeze, ..."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, canonicalize_axis, canonicalize_axes, promote_args, check_arraylike


def _as_operand(x):
    from xlafront.numpy._creation import asarray
    return x if not isinstance(x, (list, tuple)) else asarray(x)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if shape is None:
        shape = newshape
    a = _as_operand(a)
    check_arraylike("reshape", a)
    if isinstance(shape, (int, np.integer)) or hasattr(shape, "__index__") and not isinstance(shape, (tuple, list)):
        shape = (shape,)
    try:
        shape = [int(s) for s in shape]
    except TypeError:
        raise TypeError(f"reshape: shape must be a sequence of integers, got {shape!r}") from None
    av = aval(a)
    if shape.count(-1) > 1:
        raise ValueError(f"can only specify one unknown dimension, got shape {tuple(shape)}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or av.size % known:
            raise TypeError(f"cannot reshape array of shape {av.shape} (size {av.size}) into shape "
                            f"{tuple(shape)} (at {core.user_site()})")
        shape[shape.index(-1)] = av.size // known
    if order == "F":
        a = P.transpose(a, tuple(reversed(range(av.ndim))))
        return P.transpose(P.reshape(a, tuple(reversed(shape))), tuple(reversed(range(len(shape)))))
    if isinstance(a, (bool, int, float, complex, np.generic)):
        from xlafront.numpy._creation import asarray
        a = asarray(a)
    return P.reshape(a, shape)


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    a = _as_operand(a)
    nd = aval(a).ndim
    perm = tuple(range(nd))[::-1] if axes is None else tuple(canonicalize_axis(x, nd) for x in axes)
    if sorted(perm) != list(range(nd)):
        raise ValueError(f"transpose axes {axes} don't match array of shape {aval(a).shape}")
    if isinstance(a, (bool, int, float, complex)):
        from xlafront.numpy._creation import asarray
        a = asarray(a)
    return P.transpose(a, perm)


def expand_dims(a, axis):
    a = _as_operand(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = aval(a).ndim + len(axes)
    axes = sorted(canonicalize_axis(x, nd) for x in axes)
    if isinstance(a, (bool, int, float, complex)):
        from xlafront.numpy._creation import asarray
        a = asarray(a)
    return P.expand_dims(a, axes)


def squeeze(a, axis=None):
    a = _as_operand(a)
    shape = aval(a).shape
    if axis is None:
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        axes = canonicalize_axes(axis, len(shape))
        for ax in axes:
            if shape[ax] != 1:
                raise ValueError(f"cannot select an axis to squeeze out which has size not equal to one "
                                 f"(axis {ax} of shape {shape})")
    return P.squeeze(a, axes)


def concatenate(arrays, axis=0, dtype=None):
    if not isinstance(arrays, (list, tuple)) and hasattr(arrays, "shape"):
        arrays = list(arrays)
    if not len(arrays):
        raise ValueError("Need at least one array to concatenate.")
    from xlafront.numpy._creation import asarray
    arrays = [asarray(a) if isinstance(a, (list, tuple, bool, int, float, complex, np.ndarray, np.generic)) else a
              for a in arrays]
    check_arraylike("concatenate", *arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = aval(arrays[0]).ndim
    if nd == 0:
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    for a in arrays:
        if aval(a).ndim != nd:
            raise ValueError(f"All input arrays must have the same number of dimensions, got shapes "
                             f"{', '.join(str(aval(x).shape) for x in arrays)} (at {core.user_site()})")
    axis = canonicalize_axis(axis, nd)
    arrays = list(promote_args("concatenate", *arrays))
    if dtype is not None:
        from xlafront.numpy._util import convert
        arrays = [convert(a, dtypes.canonicalize(dtype)) for a in arrays]
    for a in arrays:
        s0 = aval(arrays[0]).shape
        s = aval(a).shape
        if any(x != y for i, (x, y) in enumerate(zip(s, s0)) if i != axis):
            raise ValueError(f"concatenate: all input array dimensions except the concatenation axis "
                             f"must match, got shapes {', '.join(str(aval(x).shape) for x in arrays)} "
                             f"(at {core.user_site()})")
    arrays = [a for a in arrays if aval(a).shape[axis] != 0] or arrays[:1]
    return P.concatenate(arrays, axis)


def stack(arrays, axis=0, out=None, dtype=None):
    if not len(arrays):
        raise ValueError("Need at least one array to stack.")
    from xlafront.numpy._creation import asarray
    arrays = [asarray(a) for a in arrays]
    shape0 = aval(arrays[0]).shape
    for a in arrays:
        if aval(a).shape != shape0:
            raise ValueError(f"All input arrays must have the same shape, got "
                             f"{', '.join(str(aval(x).shape) for x in arrays)} (at {core.user_site()})")
    axis = canonicalize_axis(axis, len(shape0) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype=dtype)


array_methods = {
    "reshape": lambda self, *shape, order="C": reshape(self, shape[0] if len(shape) == 1 else shape, order),
    "transpose": lambda self, *axes: transpose(self, axes[0] if len(axes) == 1 else (axes or None)),
    "T": property(lambda self: transpose(self)),
    "ravel": ravel, "flatten": ravel, "squeeze": squeeze,
}
