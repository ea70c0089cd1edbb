"""Indexing: x[idx] (ints, slices, None, Ellipsis, integer arrays, static boolean masks)
and the functional updates x.at[idx].set/add/... ."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval


def static_slice(x, start, stop, axis=0):
    a = aval(x)
    starts = [0] * a.ndim
    limits = list(a.shape)
    starts[axis], limits[axis] = start, stop
    return P.slice(x, starts, limits)


def unstack(x, axis=0):
    a = aval(x)
    return [P.squeeze(static_slice(x, i, i + 1, axis), (axis,)) for i in range(a.shape[axis])]


def getitem(x, idx):
    """Basic indexing (ints, slices, None, Ellipsis) via slice/rev/reshape."""
    a = aval(x)
    if not isinstance(idx, tuple):
        idx = (idx,)
    n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if Ellipsis in idx:
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (a.ndim - n_real) + idx[k + 1:]
    else:
        idx = idx + (slice(None),) * (a.ndim - n_real)
    if n_real > a.ndim:
        raise IndexError(f"Too many indices for array: array of shape {a.shape} indexed with {n_real} indices")
    starts, limits, strides, rev_dims, squeeze_dims, out_shape_none = [], [], [], [], [], []
    dim = 0
    final_shape = []
    for i in idx:
        if i is None:
            final_shape.append(1)
            continue
        size = a.shape[dim]
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            j = int(i)
            if not -size <= j < size:
                raise IndexError(f"index {j} is out of bounds for axis {dim} with size {size}")
            j %= size
            starts.append(j); limits.append(j + 1); strides.append(1)
        elif isinstance(i, slice):
            lo, hi, st = i.indices(size)
            if st > 0:
                n = max(0, (hi - lo + st - 1) // st)
                starts.append(lo); limits.append(lo + (n - 1) * st + 1 if n else lo); strides.append(st)
            else:
                n = max(0, (lo - hi - st - 1) // (-st))
                first = lo - (n - 1) * (-st) if n else 0
                starts.append(first); limits.append(first + (n - 1) * (-st) + 1 if n else 0)
                strides.append(-st); rev_dims.append(dim)
            final_shape.append(n)
        else:
            raise TypeError(f"unsupported index {i!r} of type {type(i).__name__}")
        dim += 1
    y = x
    if any(s != 0 for s in starts) or list(limits) != list(a.shape) or any(s != 1 for s in strides):
        y = P.slice(y, starts, limits, strides)
    if rev_dims:
        y = P.rev(y, rev_dims)
    if tuple(final_shape) != aval(y).shape:
        y = P.reshape(y, final_shape)
    return y


array_methods = {"__getitem__": getitem}
