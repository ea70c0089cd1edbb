"""Index tricks and masked selection: nonzero, argwhere, flatnonzero, indices, ix_,
unravel_index, ravel_multi_index, the diag/tril/triu/mask index helpers, fill_diagonal,
place, put, extract, compress, delete, insert, select, piecewise, apply_along_axis,
apply_over_axes and block.

The functions whose output shape depends on the data (nonzero and its relatives,
extract, compress, delete with array indices) read the data on the host when it is
concrete, as jnp does; under jit they need JAX's `size=` argument (else a
ConcretizationTypeError names the call), and then pick the first `size` hits with one
stable sort of the mask, padding with `fill_value`. `insert` and `delete` with
`assume_unique_indices=True` have static output shapes and work under jit as they are.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.array import ArrayImpl
from xlafront.core import Tracer
from xlafront.dtypes import default_int as _idt
from xlafront.numpy._util import jitted as _jitted
from xlafront.numpy._util import host as _host, static_int as _static_int, static_size as _static_size
from xlafront.numpy._util import (aval, broadcast_shapes, broadcast_to_shape, canonicalize_axis,
                                  check_arraylike, convert, result_type_of)
from xlafront.numpy import _creation as C, _shapes as S, _ufuncs as U
from xlafront.numpy._shapes import _arr
from xlafront.numpy import _indexing as I
from xlafront.numpy._indexing import _np_const
from xlafront.numpy._sorting import _true_positions  # sort-based; _sorting sits below this module

__all__ = ["where", "nonzero", "argwhere", "flatnonzero", "indices", "ix_", "unravel_index", "ravel_multi_index",
           "diag_indices", "diag_indices_from", "tril_indices", "triu_indices", "tril_indices_from",
           "triu_indices_from", "mask_indices", "fill_diagonal", "place", "put", "extract", "compress",
           "delete", "insert", "select", "piecewise", "apply_along_axis", "apply_over_axes", "block"]


# ----------------------------------------------------------------------------- helpers

def _size_needed(name):
    return (f"The size argument of jnp.{name} must be statically specified to use jnp.{name} within "
            f"JAX transformations.")


def _device(np_value, dt=None):
    """A host array as a device Array of dtype dt (default: its own, canonicalized)."""
    v = np.asarray(np_value)
    return C.asarray(v.astype(dt if dt is not None else dtypes.canonicalize(v.dtype)))


def _nonzero_mask(x):
    return x if aval(x).dtype == dtypes.bool_ else U.not_equal(x, convert(0, aval(x).dtype, False))


def _fill_tuple(fill_value, ndim, name):
    """fill_value of nonzero: None (zeros), a scalar, or one scalar per dimension."""
    if fill_value is None:
        return (0,) * ndim
    if isinstance(fill_value, (tuple, list)):
        if len(fill_value) != ndim:
            raise ValueError(f"fill_value must be a scalar or a tuple of length {ndim}; got {fill_value!r} "
                             f"(at {core.user_site()})")
        return tuple(fill_value)
    if np.ndim(fill_value) != 0 and not (hasattr(fill_value, "shape") and fill_value.shape == ()):
        raise ValueError(f"fill_value must be a scalar or a tuple of length {ndim}; got {fill_value!r} "
                         f"(at {core.user_site()})")
    return (fill_value,) * ndim


# ----------------------------------------------------------------------------- nonzero family

def _nonzero_sized(x, fills, size):
    shape = aval(x).shape
    mask = P.reshape(_nonzero_mask(x), (aval(x).size,))
    pos, valid, _ = _true_positions(mask, size)
    idt = _idt()
    outs = []
    for d in reversed(shape):
        outs.append(P.rem(pos, _np_const(d, idt)) if d else pos)
        pos = P.div(pos, _np_const(d, idt)) if d else pos
    outs = outs[::-1]
    return tuple(U.where(valid, o, f) for o, f in zip(outs, fills))


def _nonzero_host(x, name):
    v = _host(x, name, _size_needed("nonzero"))
    return tuple(_device(i, _idt()) for i in np.nonzero(v))


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of `a`, one array per dimension. Without `size` the
    input must be concrete; with it, the first `size` indices padded with `fill_value`
    (a scalar, or one per dimension; default 0), which works under jit and vmap."""
    x = _arr("nonzero", a)
    xa = aval(x)
    if xa.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use jnp.atleast_1d(scalar).nonzero() "
                         f"instead. (at {core.user_site()})")
    size = _static_size(size, "nonzero")
    if size is None:
        if fill_value is not None:
            _fill_tuple(fill_value, xa.ndim, "nonzero")
        return _nonzero_host(x, "nonzero")
    fills = _fill_tuple(fill_value, xa.ndim, "nonzero")
    idt = _idt()
    if xa.size == 0:   # as jnp: an empty input gives zeros, whatever fill_value says
        return tuple(C.zeros((size,), idt) for _ in range(xa.ndim))
    check_arraylike("nonzero", *fills)   # promoted with the indices, as jnp (a float fill gives floats)
    return _jitted("nonzero", _nonzero_sized, (2,))(x, fills, size)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """jnp.where: with x and y, the elements of x where condition holds, else of y
    (_ufuncs.where); with the condition alone, nonzero(condition, size=, fill_value=).
    Defined here, above both, so that _ufuncs.py does not import this module back."""
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    return U.where(condition, x, y, size=size, fill_value=fill_value)


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements as an (N, a.ndim) array (0-d inputs count as 1-d)."""
    x = _arr("argwhere", a)
    if aval(x).ndim == 0:
        x = P.reshape(x, (1,))
        out = nonzero(x, size=size, fill_value=fill_value)
        return C.zeros((aval(out[0]).shape[0], 0), _idt())
    outs = nonzero(x, size=size, fill_value=fill_value)
    return S.stack(outs, axis=-1) if outs else C.zeros((0, 0), _idt())


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of the flattened `a`."""
    x = _arr("flatnonzero", a)
    return nonzero(S.ravel(x), size=size, fill_value=fill_value)[0]


# ----------------------------------------------------------------------------- index grids

def indices(dimensions, dtype=None, sparse=False):
    """The grid of indices of an array of shape `dimensions`: stacked (N, *dimensions),
    or `sparse` broadcastable ones."""
    dims = tuple(_static_int(d, "indices", "dimensions") for d in dimensions)
    dt = _idt() if dtype is None else dtypes.canonicalize(dtypes.dtype(dtype))
    n = len(dims)
    if sparse:
        return tuple(P.reshape(P.iota(dt, d), tuple(d if j == i else 1 for j in range(n)))
                     for i, d in enumerate(dims))
    if n == 0:
        return C.zeros((0,), dt)
    return S.stack([P.broadcasted_iota(dt, dims, i) for i in range(n)], axis=0)


def ix_(*args):
    """Open mesh from 1-D sequences: arg i reshaped to (1, ..., n_i, ..., 1)."""
    check_arraylike("ix_", *args)
    n = len(args)
    out = []
    for i, a in enumerate(args):
        x = C.asarray(a)
        xa = aval(x)
        if xa.ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape {xa.shape} "
                             f"(at {core.user_site()})")
        if xa.dtype == dtypes.bool_:
            raise NotImplementedError(f"Boolean arguments to jax.numpy.ix_ are not implemented (at {core.user_site()})")
        out.append(P.reshape(x, tuple(xa.shape[0] if j == i else 1 for j in range(n))))
    return tuple(out)


def _shape_tuple(shape, name):
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "__index__") and not hasattr(shape, "__len__")):
        shape = (shape,)
    return tuple(_static_int(d, name, "shape") for d in shape)


def _unravel_body(x, shape):
    size = int(np.prod(shape))
    if size == 0:
        return tuple(U.multiply(x, 0) for _ in shape)
    xa = aval(x)
    if dtypes.is_int(xa.dtype) and np.dtype(xa.dtype).itemsize < np.dtype(_idt()).itemsize:
        # narrow ints: compute in the default int (the shape's size may not fit), then back
        wide = _unravel_body(convert(x, _idt(), xa.weak_type), shape)
        return tuple(convert(w, xa.dtype, xa.weak_type) for w in wide)
    i = U.where(U.less(x, 0), U.add(x, size), x)
    i = U.clip(i, 0, size - 1)
    outs = []
    for d in reversed(shape):
        outs.append(U.remainder(i, d))
        i = U.floor_divide(i, d)
    return tuple(outs[::-1])


def unravel_index(indices, shape):
    """Flat indices into `shape` as a tuple of coordinate arrays; out-of-range indices are
    clipped (negative ones first count from the end), as jnp.unravel_index."""
    check_arraylike("unravel_index", indices)
    x = C.asarray(indices)
    shape = _shape_tuple(shape, "unravel_index")
    if not shape:
        return ()
    if dtypes.is_complex(aval(x).dtype) or aval(x).dtype == dtypes.bool_:
        raise TypeError(f"unravel_index: indices must be integers, got {aval(x).dtype} (at {core.user_site()})")
    return _jitted("unravel_index", _unravel_body, (1,))(x, shape)


_RAVEL_MODES = ("raise", "wrap", "clip", "ignore")


def _ravel_body(idx, dims, mode, order, dt):
    out = None
    strides = []
    if order == "C":
        s = 1
        for d in reversed(dims):
            strides.append(s)
            s *= d
        strides = strides[::-1]
    else:
        s = 1
        for d in dims:
            strides.append(s)
            s *= d
    for i, d, st in zip(idx, dims, strides):
        i = convert(i, dt, False)
        if mode == "wrap":
            i = U.remainder(i, _np_const(d, dt))
        elif mode == "clip":
            i = U.clip(i, _np_const(0, dt), _np_const(d - 1, dt))
        term = U.multiply(i, _np_const(st, dt))
        out = term if out is None else U.add(out, term)
    return out


def ravel_multi_index(multi_index, dims, mode="raise", order="C", *, dtype=None):
    """Flat indices of the coordinate arrays `multi_index` into an array of shape `dims`.
    mode: 'raise' (checks concrete values), 'wrap', 'clip' or 'ignore'."""
    dims = _shape_tuple(dims, "ravel_multi_index")
    multi_index = tuple(multi_index)
    check_arraylike("ravel_multi_index", *multi_index)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: len(multi_index)={len(multi_index)} != len(dims)={len(dims)} "
                         f"(at {core.user_site()})")
    if mode not in _RAVEL_MODES:
        raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', 'clip', or 'ignore'. "
                         f"(at {core.user_site()})")
    if order not in ("C", "F"):
        raise ValueError(f"invalid order={order!r}. Expected 'C' or 'F' (at {core.user_site()})")
    idx = [C.asarray(i) for i in multi_index]
    for i in idx:
        if not dtypes.is_int(aval(i).dtype):
            raise ValueError(f"dtype={aval(i).dtype!r} is not an integer type. (at {core.user_site()})")
    if dtype is not None:
        dt = dtypes.canonicalize(dtypes.dtype(dtype))
    elif idx:
        dt = result_type_of(*idx)[0]
    else:
        dt = _idt()
    if not idx:
        return C.zeros((), dt)
    shape = broadcast_shapes(*(aval(i).shape for i in idx), fun_name="ravel_multi_index")
    idx = [broadcast_to_shape(i, shape) for i in idx]
    if mode == "raise":
        for i, d in zip(idx, dims):
            v = _host(i, "ravel_multi_index",
                      "The error arose in jnp.ravel_multi_index() with mode='raise', which needs concrete "
                      "indices; use mode='wrap' or mode='clip' under jit.")
            if np.any(v < 0) or np.any(v >= d):
                raise ValueError(f"invalid entry in coordinates array (at {core.user_site()})")
    return _jitted("ravel_multi_index", _ravel_body, (1, 2, 3, 4))(tuple(idx), dims, mode, order, dt)


# ----------------------------------------------------------------------------- diagonal and triangles

def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an (n, ..., n) array of `ndim` dimensions."""
    n = operator.index(n)
    ndim = operator.index(ndim)
    if n < 0:
        raise ValueError(f"n argument to diag_indices must be nonnegative, got {n} (at {core.user_site()})")
    if ndim < 0:
        raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim} (at {core.user_site()})")
    idx = P.iota(_idt(), n)
    return (idx,) * ndim


def diag_indices_from(arr):
    """diag_indices for the square array `arr`."""
    x = _arr("diag_indices_from", arr)
    shape = aval(x).shape
    if len(shape) < 2:
        raise ValueError(f"input array must be at least 2-d (at {core.user_site()})")
    if len(set(shape)) != 1:
        raise ValueError(f"All dimensions of input must be of equal length (at {core.user_site()})")
    return diag_indices(shape[0], len(shape))


def _tri_indices(name, n, k, m, lower):
    n = _static_int(n, name, "n")
    k = _static_int(k, name, "k")
    m = n if m is None else _static_int(m, name, "m")
    rows, cols = np.tril_indices(n, k, m) if lower else np.triu_indices(n, k, m)
    return _device(rows, _idt()), _device(cols, _idt())


def tril_indices(n, k=0, m=None):
    """Indices of the lower triangle (on and below diagonal k) of an (n, m) array."""
    return _tri_indices("tril_indices", n, k, m, True)


def triu_indices(n, k=0, m=None):
    """Indices of the upper triangle (on and above diagonal k) of an (n, m) array."""
    return _tri_indices("triu_indices", n, k, m, False)


def _shape_of(arr, name):
    shape = getattr(arr, "shape", None)
    if shape is None:
        shape = aval(_arr(name, arr)).shape
    if len(shape) != 2:
        raise ValueError(f"Only 2-D inputs are accepted (at {core.user_site()})")
    return tuple(shape)


def tril_indices_from(arr, k=0):
    """tril_indices for the shape of the 2-D `arr`."""
    n, m = _shape_of(arr, "tril_indices_from")
    return tril_indices(n, k, m)


def triu_indices_from(arr, k=0):
    """triu_indices for the shape of the 2-D `arr`."""
    n, m = _shape_of(arr, "triu_indices_from")
    return triu_indices(n, k, m)


def mask_indices(n, mask_func, k=0, *, size=None):
    """Indices where mask_func(ones((n, n)), k) is nonzero (e.g. mask_func=jnp.triu)."""
    n = operator.index(n)
    return nonzero(mask_func(C.ones((n, n)), k), size=size)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """A copy of `a` with its main diagonal set to `val` (flattened and repeated as needed).
    JAX arrays are immutable: `inplace=False` is required."""
    if inplace:
        raise NotImplementedError(f"JAX arrays are immutable, must use inplace=False (at {core.user_site()})")
    if wrap:
        raise NotImplementedError(f"wrap=True is not implemented, must use wrap=False (at {core.user_site()})")
    check_arraylike("fill_diagonal", a, val)
    x, v = C.asarray(a), C.asarray(val)
    shape = aval(x).shape
    if len(shape) < 2:
        raise ValueError(f"array must be at least 2-d (at {core.user_site()})")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise ValueError(f"All dimensions of input must be of equal length (at {core.user_site()})")
    n = builtins.min(shape)
    vs = aval(v).size
    if vs == 0:
        raise ValueError(f"fill_diagonal: val must not be empty (at {core.user_site()})")
    v = S.ravel(v)
    if vs != n:
        v = S._take_static(v, np.arange(n) % vs, 0)
    v = convert(v, aval(x).dtype, aval(x).weak_type)
    idx = np.arange(n)
    return x.at[(idx,) * len(shape)].set(v)


# ----------------------------------------------------------------------------- place, put

def place(arr, mask, vals, *, inplace=True):
    """A copy of `arr` whose elements where `mask` is true take the values `vals` in order
    (repeated if too few). JAX arrays are immutable: `inplace=False` is required."""
    if inplace:
        raise ValueError("jax.numpy.place cannot modify arrays in-place, because JAX arrays are immutable. "
                         f"Pass inplace=False to instead return an updated array. (at {core.user_site()})")
    check_arraylike("place", arr, mask, vals)
    x, m, v = C.asarray(arr), C.asarray(mask), C.asarray(vals)
    xa = aval(x)
    if xa.size != aval(m).size:
        raise ValueError(f"place: arr and mask must be the same size (at {core.user_site()})")
    if aval(v).size == 0:
        raise ValueError(f"Cannot place values from an empty array (at {core.user_site()})")
    if xa.size == 0:
        return x
    return _jitted("place", _place_body, ())(x, m, v)


def _place_body(x, m, v):
    xa = aval(x)
    m = _nonzero_mask(P.reshape(m, (xa.size,)))
    v = convert(P.reshape(v, (aval(v).size,)), xa.dtype, xa.weak_type)
    idt = _idt()
    k = P.sub(P.cumsum(convert(m, idt, False), 0), _np_const(1, idt))
    k = P.rem(P.max(k, _np_const(0, idt)), _np_const(aval(v).size, idt))
    picked = I.take(v, k, mode="clip")
    return P.reshape(U.where(m, picked, P.reshape(x, (xa.size,))), xa.shape)


def put(a, ind, v, mode=None, *, inplace=True):
    """A copy of `a` with the flat positions `ind` set to `v` (repeated to len(ind)).
    mode None: negative indices count from the end, then clip; 'clip'; 'wrap'.
    JAX arrays are immutable: `inplace=False` is required."""
    if inplace:
        raise ValueError("jax.numpy.put cannot modify arrays in-place, because JAX arrays are immutable. "
                         f"Pass inplace=False to instead return an updated array. (at {core.user_site()})")
    check_arraylike("put", a, ind, v)
    x, i, vals = C.asarray(a), C.asarray(ind), C.asarray(v)
    if aval(i).dtype == dtypes.bool_:   # as jnp: booleans index as 0 and 1
        i = convert(i, _idt(), False)
    if not dtypes.is_int(aval(i).dtype):
        raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                        f"{aval(i).dtype.name} (at {core.user_site()})")
    if mode == "raise":
        raise NotImplementedError(f"The 'raise' mode to jnp.put is not supported. (at {core.user_site()})")
    if mode not in (None, "clip", "wrap"):
        raise ValueError(f"mode should be one of 'wrap' or 'clip'; got mode={mode!r} (at {core.user_site()})")
    xa = aval(x)
    if xa.size == 0 or aval(i).size == 0 or aval(vals).size == 0:
        return x
    return _jitted("put", _put_body, (3,))(x, i, vals, mode)


def _put_body(x, i, vals, mode):
    xa = aval(x)
    n = xa.size
    idt = _idt()
    i = convert(P.reshape(i, (aval(i).size,)), idt, False)
    k = aval(i).shape[0]
    vals = P.reshape(vals, (aval(vals).size,))
    if aval(vals).size != k:
        vals = S._take_static(vals, np.arange(k) % aval(vals).size, 0)
    vals = convert(vals, xa.dtype, xa.weak_type)
    nn, zero = _np_const(n, idt), _np_const(0, idt)
    if mode == "wrap":
        i = P.rem(P.add(P.rem(i, nn), nn), nn)
    else:
        if mode is None:
            i = U.where(P.lt(i, zero), P.add(i, nn), i)
        i = P.clamp(zero, i, _np_const(n - 1, idt))
    flat = P.reshape(x, (n,))
    return P.reshape(flat.at[i].set(vals, mode="promise_in_bounds"), xa.shape)


# ----------------------------------------------------------------------------- extract, compress

def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of the flattened `arr` where the flattened `condition` is nonzero;
    with `size`, the first `size` of them padded with `fill_value`."""
    check_arraylike("extract", condition, arr)
    return _compress("extract", S.ravel(C.asarray(condition)), S.ravel(C.asarray(arr)), 0, size, fill_value)


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of `a` along `axis` (the flattened `a` when None) where the 1-D `condition`
    is nonzero; with `size`, the first `size` of them padded with `fill_value`."""
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.compress is not supported. (at {core.user_site()})")
    check_arraylike("compress", condition, a)
    c = C.asarray(condition)
    if aval(c).ndim != 1:
        raise ValueError(f"condition must be a 1D array (at {core.user_site()})")
    x = C.asarray(a)
    if axis is None:
        x, axis = S.ravel(x), 0
    axis = _axis(axis, aval(x).ndim, "compress")
    return _compress("compress", c, x, axis, size, fill_value)


def _compress(name, c, x, axis, size, fill_value):
    xa = aval(x)
    n = xa.shape[axis]
    nc = aval(c).shape[0]
    size = None if size is None else _static_int(size, name, "size")   # a bad size is a ValueError here
    if size is None:
        cv = _host(c, name, "The error arose for the condition argument of jnp." + name + "(): its number "
                   "of true entries decides the output shape; pass size= to use it under jit.")
        cv = cv.astype(bool)
        if nc > n:
            if cv[n:].any():
                raise ValueError(f"condition contains entries that are out of bounds (at {core.user_site()})")
            cv = cv[:n]
        keep = np.flatnonzero(cv)
        return S._take_static(x, keep, axis)
    if not 0 <= size <= n:
        raise ValueError(f"size must be positive and not greater than the size of the array axis; got "
                         f"size={size} for a.shape[axis]={n} (at {core.user_site()})")
    check_arraylike(name, fill_value)
    return _jitted("compress", _compress_body, (2, 3))(c, x, axis, size, fill_value)


def _compress_body(c, x, axis, size, fill_value):
    xa = aval(x)
    n = xa.shape[axis]
    nc = aval(c).shape[0]
    m = _nonzero_mask(c)
    if nc > n:
        m = P.slice(m, (0,), (n,))
    elif nc < n:
        m = P.concatenate([m, np.zeros((n - nc,), np.bool_)], 0)
    pos, valid, _ = _true_positions(m, size)
    out = I.take(x, pos, axis=axis, mode="clip")
    oshape = aval(out).shape
    valid = P.broadcast_in_dim(valid, oshape, (axis,))
    fill = P.broadcast_in_dim(convert(fill_value, xa.dtype, False), oshape, ())
    return U.where(valid, convert(out, xa.dtype, False), fill)   # strong, as jnp's sized version


# ----------------------------------------------------------------------------- delete, insert

def _axis(axis, ndim, name):
    """canonicalize_axis, with the user's line in the error."""
    try:
        return canonicalize_axis(axis, ndim, name)
    except ValueError as e:
        raise ValueError(f"{e} (at {core.user_site()})") from None


def _axis_arr(name, arr, axis):
    x = _arr(name, arr)
    if axis is None:
        x, axis = S.ravel(x), 0
    return x, _axis(axis, aval(x).ndim, name)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """`arr` without the entries (slices along `axis`) that `obj` names: an int, a slice, an
    integer array or a boolean mask. Array indices must be concrete unless
    `assume_unique_indices=True` (then the output shape is static and it works under jit)."""
    x, axis = _axis_arr("delete", arr, axis)
    n = aval(x).shape[axis]
    if isinstance(obj, slice):
        return S._take_static(x, np.delete(np.arange(n), obj), axis)
    check_arraylike("delete", arr, obj)
    if assume_unique_indices:
        o = C.asarray(obj)
        if not dtypes.is_int(aval(o).dtype):
            raise ValueError(f"jnp.delete(arr, obj): with assume_unique_indices=True, obj must be integer "
                             f"typed; got obj.dtype={aval(o).dtype} (at {core.user_site()})")
        return _jitted("delete", _delete_unique, (2,))(x, o, axis)
    o = _host(obj, "delete", "'obj' array argument of jnp.delete() must be concrete; pass "
              "assume_unique_indices=True to use traced indices under jit.")
    if o.dtype == np.bool_:
        if o.ndim != 1 or o.shape[0] != n:
            raise ValueError("np.delete(arr, obj): for boolean indices, obj must be one-dimensional with "
                             f"length matching specified axis. (at {core.user_site()})")
        return S._take_static(x, np.flatnonzero(~o), axis)
    if not np.issubdtype(o.dtype, np.integer):
        raise ValueError(f"np.delete(arr, obj): got obj.dtype={o.dtype}; must be integer or bool. "
                         f"(at {core.user_site()})")
    flat = o.reshape(-1).astype(np.int64)
    bad = flat[(flat < -n) | (flat >= n)]
    if bad.size:
        msg = f"index {int(bad[0])} is out of bounds for axis {axis} with size {n} (at {core.user_site()})"
        raise (ValueError if o.ndim == 0 else IndexError)(msg)
    keep = np.setdiff1d(np.arange(n), np.where(flat < 0, flat + n, flat))
    return S._take_static(x, keep, axis)


def _delete_unique(x, o, axis):
    n = aval(x).shape[axis]
    idt = _idt()
    o = convert(P.reshape(o, (aval(o).size,)), idt, False)
    k = aval(o).shape[0]
    nn = _np_const(n, idt)
    o = U.where(P.lt(o, _np_const(0, idt)), P.add(o, nn), o)
    keep_mask = P.broadcast_in_dim(np.True_, (n,), ()).at[o].set(False, mode="drop")
    pos, _, _ = _true_positions(keep_mask, builtins.max(n - k, 0))
    return I.take(x, pos, axis=axis, mode="clip")


def insert(arr, obj, values, axis=None):
    """`arr` with `values` inserted before the index (indices) `obj` along `axis` (the
    flattened `arr` when None), as numpy.insert; indices may be traced."""
    x, axis = _axis_arr("insert", arr, axis)
    if not isinstance(obj, slice):
        check_arraylike("insert", arr, obj, values)
    else:
        check_arraylike("insert", arr, 0, values)
    xa = aval(x)
    n = xa.shape[axis]
    v = C.asarray(values)
    if isinstance(obj, slice):
        idx = _device(np.arange(n)[obj], _idt())
    else:
        idx = C.asarray(obj)
        if aval(idx).ndim > 1:
            raise ValueError(f"jnp.insert(): obj must be a slice, a one-dimensional array, or a scalar; got "
                             f"{obj} (at {core.user_site()})")
        if not dtypes.is_int(aval(idx).dtype):
            raise ValueError(f"jnp.insert(): index array must be integer typed; got {obj} "
                             f"(at {core.user_site()})")
    ia = aval(idx)
    v = convert(v, xa.dtype, xa.weak_type)
    va = aval(v)
    if ia.size == 1:
        # numpy's rule: the values are a block (1s prepended to arr.ndim); for a scalar index
        # their first axis goes to `axis`
        v = P.reshape(v, (1,) * (xa.ndim - va.ndim) + va.shape) if va.ndim < xa.ndim else v
        if ia.ndim == 0:
            v = S.moveaxis(v, 0, axis)
        k = aval(v).shape[axis]
        idx = P.broadcast_in_dim(P.reshape(idx, ()), (k,), ())
    else:
        k = ia.size
    target = xa.shape[:axis] + (k,) + xa.shape[axis + 1:]
    try:
        v = S.broadcast_to(v, target)
    except (ValueError, TypeError):
        raise ValueError(f"jnp.insert(): values of shape {va.shape} do not broadcast to {target} "
                         f"(at {core.user_site()})") from None
    if k == 0:
        return x
    return _jitted("insert", _insert_body, (3,))(x, idx, v, axis)


def _insert_body(x, idx, v, axis):
    n = aval(x).shape[axis]
    k = aval(v).shape[axis]
    idt = _idt()
    idx = convert(idx, idt, False)
    nn = _np_const(n, idt)
    idx = U.where(P.lt(idx, _np_const(0, idt)), P.add(idx, nn), idx)
    idx = P.clamp(_np_const(0, idt), idx, nn)
    # value i lands at idx_i + (its rank among the stably sorted indices); old entry j at
    # j + (number of indices <= j)
    iota_k = P.iota(idt, k)
    sorted_idx, order = P.sort((idx, iota_k), dimension=0, is_stable=True, num_keys=1)
    new_pos = P.broadcast_in_dim(_np_const(0, idt), (k,), ()).at[order].set(
        P.add(sorted_idx, iota_k), unique_indices=True)
    from xlafront.numpy._sorting import searchsorted
    old_pos = P.add(P.iota(idt, n), convert(searchsorted(sorted_idx, P.iota(idt, n), side="right"), idt, False))
    xf = S.moveaxis(x, axis, 0)
    vf = S.moveaxis(v, axis, 0)
    out = C.zeros((n + k,) + aval(xf).shape[1:], aval(x).dtype)
    out = convert(out, aval(x).dtype, aval(x).weak_type)
    out = out.at[new_pos].set(vf, unique_indices=True, mode="promise_in_bounds")
    out = out.at[old_pos].set(xf, unique_indices=True, mode="promise_in_bounds")
    return S.moveaxis(out, 0, axis)


# ----------------------------------------------------------------------------- select, piecewise

def _as_bool(c):
    return _nonzero_mask(C.asarray(c))


def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first condition that holds, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"condlist must have length equal to choicelist ({len(condlist)} vs "
                         f"{len(choicelist)}) (at {core.user_site()})")
    if len(condlist) == 0:
        raise ValueError(f"condlist must be non-empty (at {core.user_site()})")
    condlist = [condlist[i] for i in range(len(condlist))]
    choicelist = [choicelist[i] for i in range(len(choicelist))]
    check_arraylike("select", *condlist, *choicelist, default)
    dt, weak = result_type_of(*choicelist, default)
    choices = [C.asarray(convert(c, dt, weak)) for c in choicelist]
    conds = [_as_bool(c) for c in condlist]
    out = C.asarray(convert(default, dt, weak))
    for c, x in zip(reversed(conds), reversed(choices)):
        out = U.where(c, x, out)
    shape = broadcast_shapes(*(aval(a).shape for a in (*conds, *choices, out)), fun_name="select")
    return broadcast_to_shape(out, shape)


def piecewise(x, condlist, funclist, *args, **kw):
    """funclist[i] applied where condlist[i] holds (later conditions win); an extra last
    function (or constant) is the default, else 0. The result has x's dtype."""
    check_arraylike("piecewise", x)
    x = C.asarray(x)
    xa = aval(x)
    if isinstance(condlist, (ArrayImpl, Tracer, np.ndarray)):
        if aval(C.asarray(condlist)).ndim == 0:
            raise TypeError(f"piecewise: condlist must be a sequence of conditions, got a 0-d array "
                            f"(at {core.user_site()})")
        condlist = [condlist[i] for i in range(len(condlist))]
    elif not isinstance(condlist, (list, tuple)):
        raise TypeError(f"piecewise: condlist must be a sequence of conditions, got {type(condlist).__name__} "
                        f"(at {core.user_site()})")
    nc, nf = len(condlist), len(funclist)
    if nc == 0:
        raise ValueError(f"piecewise: condlist must be non-empty (at {core.user_site()})")
    if nf == nc + 1:
        default, funcs = funclist[-1], list(funclist[:-1])
    elif nf == nc:
        default, funcs = 0, list(funclist)
    else:
        raise ValueError(f"with {nc} condition(s), either {nc} or {nc + 1} functions are expected; got {nf} "
                         f"(at {core.user_site()})")

    def value(f):
        r = f(x, *args, **kw) if callable(f) else f
        return broadcast_to_shape(convert(C.asarray(r), xa.dtype, False), xa.shape)

    out = value(default)
    for c, f in zip(condlist, funcs):
        out = U.where(broadcast_to_shape(_as_bool(c), xa.shape), value(f), out)
    return out


# ----------------------------------------------------------------------------- apply_*_axis, block

def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """func1d applied to the 1-D slices of `arr` along `axis` (a vmap per other axis); its
    output dimensions take the place of `axis`."""
    from xlafront.api_batching import vmap
    x = _arr("apply_along_axis", arr)
    nd = aval(x).ndim
    if nd == 0:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension 0 (at {core.user_site()})")
    axis = _axis(axis, nd, "apply_along_axis")

    def func(a):
        return func1d(a, *args, **kwargs)
    for i in range(1, nd - axis):
        func = vmap(func, in_axes=i, out_axes=-1)
    for _ in range(axis):
        func = vmap(func, in_axes=0, out_axes=0)
    return func(x)


def apply_over_axes(func, a, axes):
    """func(a, axis) repeatedly for each axis in `axes`, keeping the number of dimensions
    (a reduced axis is put back with size 1)."""
    x = _arr("apply_over_axes", a)
    try:
        axes = list(axes)
    except TypeError:
        raise TypeError(f"apply_over_axes: axes must be a sequence of ints, got {axes!r} "
                        f"(at {core.user_site()})") from None
    for ax in axes:
        b = C.asarray(func(x, ax))
        if aval(b).ndim == aval(x).ndim:
            x = b
        elif aval(b).ndim == aval(x).ndim - 1:
            x = S.expand_dims(b, ax)
        else:
            raise ValueError(f"function is not returning an array of the correct shape "
                             f"(at {core.user_site()})")
    return x


def _block_depth(arrays):
    """(list depth, max leaf ndim) of a nested-list block, checking it is regular."""
    if isinstance(arrays, tuple):
        raise ValueError(f"jax.numpy.block does not allow tuples, got {arrays} (at {core.user_site()})")
    if isinstance(arrays, list):
        if not arrays:
            raise ValueError(f"jax.numpy.block does not allow empty list arguments (at {core.user_site()})")
        depths = [_block_depth(a) for a in arrays]
        if len({d for d, _ in depths}) != 1:
            raise ValueError(f"Mismatched list depths in jax.numpy.block (at {core.user_site()})")
        return depths[0][0] + 1, builtins.max(nd for _, nd in depths)
    check_arraylike("block", arrays)
    return 0, aval(arrays).ndim if isinstance(arrays, (ArrayImpl, Tracer)) else np.ndim(arrays)


def _block_leaves(arrays):
    if isinstance(arrays, list):
        return [leaf for a in arrays for leaf in _block_leaves(a)]
    return [arrays]


def block(arrays):
    """Assemble an array from nested lists of blocks: the innermost lists are joined along
    the last axis, the next ones along the second last, and so on (as numpy.block)."""
    depth, max_nd = _block_depth(arrays)
    if depth == 0:
        return C.asarray(arrays)
    leaves = _block_leaves(arrays)
    dt, weak = result_type_of(*leaves)
    nd = builtins.max(depth, max_nd)

    def build(a, level):
        if not isinstance(a, list):
            x = C.asarray(convert(a, dt, weak))
            sh = aval(x).shape
            return P.reshape(x, (1,) * (nd - len(sh)) + sh) if len(sh) < nd else x
        return S.concatenate([build(e, level + 1) for e in a], axis=nd - depth + level)
    return build(arrays, 0)


# ----------------------------------------------------------------------------- methods

def _nonzero_method(self, *, size=None, fill_value=None):
    return nonzero(self, size=size, fill_value=fill_value)


def _compress_method(self, condition, axis=None, *, size=None, fill_value=0, out=None):
    return compress(condition, self, axis, size=size, fill_value=fill_value, out=out)


array_methods = {"nonzero": _nonzero_method, "compress": _compress_method}
