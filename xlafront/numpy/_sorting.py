"""Sorting and searching: sort, argsort, lexsort, sort_complex, partition, argpartition,
searchsorted, unique (and the array-API unique_* variants).

All of it is built on the variadic `sort` primitive (stable, lexicographic over
`num_keys` operands, NaNs last, -0.0 == 0.0, complex by (real, imag)), as in JAX.
`unique` without `size=` needs a concrete input (it decides the output shape);
with `size=` it is jit/vmap-compatible.
"""
from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.core import Tracer
from xlafront.array import ArrayImpl
from xlafront.numpy._util import aval, canonicalize_axis, check_arraylike, convert, result_type_of
from xlafront.numpy._util import concrete as _concrete, jitted as _jitted
from xlafront.numpy import _ufuncs as U, _reductions as R, _shapes as S
from xlafront.numpy._indexing import _np_const
from xlafront.numpy._shapes import _arr

__all__ = ["sort", "argsort", "lexsort", "sort_complex", "partition", "argpartition", "searchsorted",
           "unique", "unique_all", "unique_counts", "unique_inverse", "unique_values"]


# ----------------------------------------------------------------------------- helpers

def _true_positions(mask, size):
    """(int[size] positions of the first `size` True entries of the 1-D mask, in order, padded
    with 0; bool[size] which of them are real; the number of True entries)."""
    n = aval(mask).shape[0]
    idt = dtypes.default_int()
    zero = _np_const(0, idt)
    j = P.iota(idt, size)
    if n == 0:
        return P.broadcast_in_dim(zero, (size,), ()), P.lt(j, zero), zero
    iota = P.iota(idt, n)
    # a stable sort on "not mask" puts the True positions first, in their order
    _, perm = P.sort((P.not_p.bind(mask), iota), dimension=0, is_stable=True, num_keys=1)
    if size <= n:
        pos = P.slice(perm, (0,), (size,))
    else:
        pos = P.concatenate([perm, P.broadcast_in_dim(zero, (size - n,), ())], 0)
    count = P.reduce_sum(convert(mask, idt, False), (0,))
    return pos, P.lt(j, count), count


def _asarray(a):
    from xlafront.numpy._creation import asarray
    return asarray(a)


def _check_sort_args(name, kind, order):
    if kind is not None:
        raise TypeError(f"'kind' argument to {name} is not supported. Use stable=True or stable=False "
                        f"to specify sort stability.")
    if order is not None:
        raise TypeError(f"'order' argument to {name} is not supported.")


def _flat_or_axis(x, axis, name):
    """(operand, dimension) for a sort along `axis` (None: the flattened array)."""
    if axis is None:
        return P.reshape(x, (aval(x).size,)), 0
    return x, canonicalize_axis(axis, aval(x).ndim, name)


# ----------------------------------------------------------------------------- sort, argsort


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy of `a` along `axis` (flattened when None); NaNs sort last."""
    _check_sort_args("sort", kind, order)
    x, dim = _flat_or_axis(_arr("sort", a), axis, "sort")
    out = P.sort(x, dimension=dim, is_stable=bool(stable))
    return P.rev(out, (dim,)) if descending else out


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False, dtype=None):
    """Indices that sort `a` along `axis`; ties keep their order when `stable` (also when
    `descending`, as jnp.argsort)."""
    _check_sort_args("argsort", kind, order)
    x, dim = _flat_or_axis(_arr("argsort", a), axis, "argsort")
    idt = dtypes.canonicalize(dtypes.int64 if dtype is None else dtype)
    shape = aval(x).shape
    iota = P.broadcasted_iota(idt, shape, dim)
    if descending and stable:
        _, perm = P.sort((P.rev(x, (dim,)), P.rev(iota, (dim,))), dimension=dim, is_stable=True, num_keys=1)
        return P.rev(perm, (dim,))
    _, perm = P.sort((x, iota), dimension=dim, is_stable=bool(stable), num_keys=1)
    return P.rev(perm, (dim,)) if descending else perm


def lexsort(keys, axis=-1):
    """Indices that sort by several keys, the last key primary."""
    if isinstance(keys, (ArrayImpl, Tracer, np.ndarray)):
        keys = [keys[i] for i in range(len(keys))]
    keys = tuple(keys)
    if len(keys) == 0:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    check_arraylike("lexsort", *keys)
    keys = [_asarray(k) for k in keys]
    shape = aval(keys[0]).shape
    if any(aval(k).shape != shape for k in keys):
        raise ValueError("all keys need to be the same shape")
    if not shape:
        return _asarray(np.zeros((), dtypes.canonicalize(dtypes.int64)))
    dim = canonicalize_axis(axis, len(shape), "lexsort")
    iota = P.broadcasted_iota(dtypes.canonicalize(dtypes.int64), shape, dim)
    outs = P.sort((*keys[::-1], iota), dimension=dim, is_stable=True, num_keys=len(keys))
    return outs[-1]


def sort_complex(a):
    """Sort along the last axis and return a complex array."""
    x = _arr("sort_complex", a)
    x = P.sort(x, dimension=canonicalize_axis(-1, aval(x).ndim, "sort_complex"), is_stable=True)
    return convert(x, dtypes.to_complex(dtypes.to_inexact(aval(x).dtype)), False)


# ----------------------------------------------------------------------------- partition


def _kth(kth, n, name):
    try:
        k = int(kth.__index__()) if not isinstance(kth, int) else kth
    except (AttributeError, TypeError):
        raise TypeError(f"{name}: kth must be a static integer, got {kth!r}") from None
    return canonicalize_axis(k, n)


def partition(a, kth, axis=-1):
    """The kth+1 smallest values in ascending order, then the others in descending order
    (what jnp.partition returns)."""
    x = _arr("partition", a)
    nd = aval(x).ndim
    ax = canonicalize_axis(axis, nd, "partition")
    x = S.moveaxis(x, ax, -1)
    n = aval(x).shape[-1]
    k = _kth(kth, n, "partition")
    s = P.sort(convert(x, aval(x).dtype, False), dimension=nd - 1, is_stable=True)
    shape = aval(s).shape
    bottom = P.slice(s, (0,) * nd, shape[:-1] + (k + 1,))
    top = P.rev(P.slice(s, (0,) * (nd - 1) + (k + 1,), shape), (nd - 1,))
    return S.moveaxis(P.concatenate([bottom, top], nd - 1), -1, ax)


def argpartition(a, kth, axis=-1):
    """Indices of the kth+1 smallest values (ascending), then the other indices in
    increasing order (what jnp.argpartition returns)."""
    x = _arr("argpartition", a)
    nd = aval(x).ndim
    ax = canonicalize_axis(axis, nd, "argpartition")
    x = S.moveaxis(x, ax, -1)
    shape = aval(x).shape
    n = shape[-1]
    k = _kth(kth, n, "argpartition")
    i32 = dtypes.int32
    iota = P.broadcasted_iota(i32, shape, nd - 1)
    _, perm = P.sort((x, iota), dimension=nd - 1, is_stable=True, num_keys=1)
    # rank of each index in the sorted order: sort the permutation back
    _, rank = P.sort((perm, iota), dimension=nd - 1, is_stable=True, num_keys=1)
    in_top = P.gt(rank, np.int32(k))
    # the other indices in increasing order: a stable sort that puts the in_top ones first
    _, rest = P.sort((P.not_p.bind(in_top), iota), dimension=nd - 1, is_stable=True, num_keys=1)
    bottom = P.slice(perm, (0,) * nd, shape[:-1] + (k + 1,))
    top = P.slice(rest, (0,) * nd, shape[:-1] + (n - k - 1,))
    return S.moveaxis(P.concatenate([bottom, top], nd - 1), -1, ax)


# ----------------------------------------------------------------------------- searchsorted


def _total_lt(x, y):
    """x < y in the order sort uses: -0.0 == 0.0, NaNs last (and equal), complex lexicographic."""
    dt = aval(x).dtype
    if dtypes.is_complex(dt):
        xr, xi, yr, yi = U.real(x), U.imag(x), U.real(y), U.imag(y)
        lt_r, lt_i = _total_lt(xr, yr), _total_lt(xi, yi)
        eq_r = U.logical_not(U.logical_or(lt_r, _total_lt(yr, xr)))
        return U.logical_or(lt_r, U.logical_and(eq_r, lt_i))
    if dtypes.is_float(dt):
        return U.logical_or(U.less(x, y), U.logical_and(U.isnan(y), U.logical_not(U.isnan(x))))
    return U.less(x, y)


_SEARCH_METHODS = ("compare_all", "scan", "scan_unrolled", "sort")


def _searchsorted_impl(a, v, right):
    """Binary search unrolled over the bits of len(a): lo ends at the insertion point."""
    n = aval(a).shape[0]
    vshape = aval(v).shape
    i32 = np.int32
    lo = P.broadcast_in_dim(np.int32(0), vshape, ())
    hi = P.broadcast_in_dim(np.int32(n), vshape, ())
    from xlafront.numpy._indexing import take
    one = i32(1)
    for _ in range(builtins.max(n, 1).bit_length()):
        mid = P.shift_right_logical(P.add(lo, hi), one)
        am = take(a, P.min(mid, i32(n - 1)), mode="clip")
        go_right = U.logical_not(_total_lt(v, am)) if right else _total_lt(am, v)
        active = P.lt(lo, hi)
        go_right = U.logical_and(go_right, active)
        keep_hi = U.logical_or(go_right, U.logical_not(active))
        lo, hi = P.select(go_right, P.add(mid, one), lo), P.select(keep_hi, hi, mid)
    return lo


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Insertion indices of `v` into the sorted 1-D `a` (int32, as jnp.searchsorted)."""
    check_arraylike("searchsorted", a, v)
    if side not in ("left", "right"):
        raise ValueError(f"invalid argument side={side!r}, expected 'left' or 'right'")
    if method not in _SEARCH_METHODS:
        raise ValueError(f"invalid argument method={method!r}, expected one of {sorted(_SEARCH_METHODS)}")
    a, v = _asarray(a), _asarray(v)
    if aval(a).ndim != 1:
        raise ValueError("a should be 1-dimensional")
    if sorter is not None:
        from xlafront.numpy._indexing import take
        a = take(a, sorter)
    dt, weak = result_type_of(a, v)
    a, v = convert(a, dt, False), convert(v, dt, False)
    if aval(a).shape[0] == 0:
        return _asarray(np.zeros(aval(v).shape, np.int32))
    return _jitted("searchsorted", _searchsorted_impl, (2,))(a, v, side == "right")


# ----------------------------------------------------------------------------- unique


def _rows_not_equal(aux, equal_nan):
    """bool[n]: row i differs from row i-1 (True for i == 0), with NaNs equal if equal_nan."""
    n = aval(aux).shape[0]
    prev = P.slice(aux, (0,) * aval(aux).ndim, (n - 1,) + aval(aux).shape[1:])
    cur = P.slice(aux, (1,) + (0,) * (aval(aux).ndim - 1), aval(aux).shape)
    ne = U.not_equal(cur, prev)
    if equal_nan and dtypes.is_inexact(aval(aux).dtype):
        ne = U.logical_and(ne, U.logical_not(U.logical_and(U.isnan(cur), U.isnan(prev))))
    if aval(ne).ndim > 1:
        ne = R.any(ne, axis=tuple(range(1, aval(ne).ndim)))
    return P.concatenate([np.ones((1,), np.bool_), ne], 0)


def _unique_sorted(x2, equal_nan):
    """For rows x2 (n, ...): (sorted rows, permutation, new-row mask)."""
    sh = aval(x2).shape
    n = sh[0]
    idt = dtypes.default_int()
    iota = P.broadcasted_iota(idt, (n,), 0)
    if len(sh) == 1:
        aux, perm = P.sort((x2, iota), dimension=0, is_stable=True, num_keys=1)
    else:
        cols = P.reshape(x2, (n, int(np.prod(sh[1:]))))
        k = aval(cols).shape[1]
        keys = [P.reshape(P.slice(cols, (0, j), (n, j + 1)), (n,)) for j in range(k)]
        perm = P.sort((*keys, iota), dimension=0, is_stable=True, num_keys=builtins.max(k, 1))[-1] \
            if k else iota
        from xlafront.numpy._indexing import take
        aux = take(x2, perm, axis=0)
    return aux, perm, _rows_not_equal(aux, equal_nan)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None, sorted=True):
    """Sorted unique elements (or slices along `axis`) of `ar`, with first-occurrence
    indices, the inverse mapping and counts on request. Without `size` the input must be
    concrete; with it, the result has `size` entries, padded with `fill_value` (default:
    the smallest unique value), and works under jit and vmap."""
    check_arraylike("unique", ar)
    x = _asarray(ar)
    xa = aval(x)
    ax = None if axis is None else canonicalize_axis(axis, xa.ndim, "unique")
    n = xa.size if ax is None else xa.shape[ax]
    flags = (bool(equal_nan), bool(return_index), bool(return_inverse), bool(return_counts))
    body = _jitted("unique", _unique_body, (2, 3, 4, 5, 6, 7))
    if size is not None:
        size = operator.index(size)
        if n == 0 and size > 0 and fill_value is None:
            raise ValueError("jnp.unique: for zero-sized input with nonzero size argument, fill_value "
                             "must be specified")
        outs = body(x, fill_value, ax, size, *flags)[:-1]
    else:
        # as jnp.unique: without `size` the result is computed from the concrete value (so it
        # carries no derivative: grad through it is zero, as in JAX): the sized version at
        # size n, cut to the number of unique values it counts (one sort)
        if isinstance(x, Tracer):
            x = _asarray(_concrete(x, None, _UNIQUE_CONCRETE))
        *outs, count = body(x, fill_value, ax, n, *flags)
        count = int(np.asarray(count))
        vals = outs[0]
        va = aval(vals)
        vax = 0 if ax is None else ax
        cut = [P.slice(vals, (0,) * va.ndim, va.shape[:vax] + (count,) + va.shape[vax + 1:])]
        rest = iter(outs[1:])
        if return_index:
            cut.append(P.slice(next(rest), (0,), (count,)))
        if return_inverse:
            cut.append(next(rest))
        if return_counts:
            cut.append(P.slice(next(rest), (0,), (count,)))
        outs = cut
    return outs[0] if len(outs) == 1 else tuple(outs)


_UNIQUE_CONCRETE = ("The error arose for the first argument of jnp.unique(). To make jnp.unique() compatible "
                    "with JIT and other transforms, you can specify a concrete value for the size argument, "
                    "which will determine the output size.")


def _unique_body(x, fill_value, ax, size, equal_nan, return_index, return_inverse, return_counts):
    xa = aval(x)
    x2 = P.reshape(x, (xa.size,)) if ax is None else S.moveaxis(x, ax, 0)
    n = aval(x2).shape[0]
    idt = dtypes.default_int()
    rest_shape = aval(x2).shape[1:]
    if n == 0:
        vals = _full((size,) + rest_shape, fill_value, x2) if size else P.reshape(x2, (0,) + rest_shape)
        outs = [vals]
        empty = _asarray(np.zeros((0,), idt))   # as jnp.unique: empty indices for an empty input
        outs += [empty] * (bool(return_index) + bool(return_inverse) + bool(return_counts))
        return (*outs, _np_const(0, idt))
    aux, perm, mask = _unique_sorted(x2, equal_nan)
    # positions of the first row of each group (the True entries of mask, in order), and one
    # more: where the last group ends; n past the count
    starts, valid_ext, count = _true_positions(mask, size + 1)
    nn = _np_const(n, idt)
    starts = P.select(valid_ext, starts, P.broadcast_in_dim(nn, (size + 1,), ()))
    first = P.slice(starts, (0,), (size,))
    valid = P.slice(valid_ext, (0,), (size,))
    from xlafront.numpy._indexing import take
    safe = P.min(first, P.broadcast_in_dim(_np_const(n - 1, idt), (size,), ()))
    vals = take(aux, safe, axis=0, mode="clip")
    fill = (P.slice(aux, (0,) * aval(aux).ndim, (1,) + rest_shape) if fill_value is None
            else _full((1,) + rest_shape, fill_value, aux))
    fill = P.broadcast_in_dim(P.reshape(fill, rest_shape), (size,) + rest_shape,
                              tuple(range(1, 1 + len(rest_shape))))
    vmask = P.broadcast_in_dim(valid, (size,) + rest_shape, (0,))
    vals = P.select(vmask, vals, fill)
    if ax is not None:
        vals = S.moveaxis(vals, 0, ax)
    outs = [vals]
    if return_index:
        idx = take(perm, safe, mode="clip")
        first_idx = P.broadcast_in_dim(P.reshape(P.slice(perm, (0,), (1,)), ()), (size,), ())
        outs.append(P.select(valid, idx, first_idx))
    if return_inverse:
        group = P.sub(R.cumsum(convert(mask, idt, False)), _np_const(1, idt))
        inv = P.broadcast_in_dim(_np_const(0, idt), (n,), ())
        inv = inv.at[perm].set(group, unique_indices=True)
        outs.append(P.reshape(inv, xa.shape) if ax is None else inv)
    if return_counts:
        ends = P.slice(starts, (1,), (size + 1,))
        counts = P.sub(ends, first)
        outs.append(P.select(valid, counts, P.broadcast_in_dim(_np_const(0, idt), (size,), ())))
    return (*outs, count)


def _full(shape, value, like):
    a = aval(like)
    v = _asarray(value)
    v = convert(v, a.dtype, False)
    return P.broadcast_in_dim(v, shape, ()) if not aval(v).shape else S.broadcast_to(v, shape)


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def unique_all(x, /, *, size=None, fill_value=None):
    return UniqueAllResult(*unique(x, return_index=True, return_inverse=True, return_counts=True,
                                   size=size, fill_value=fill_value))


def unique_counts(x, /, *, size=None, fill_value=None):
    return UniqueCountsResult(*unique(x, return_counts=True, size=size, fill_value=fill_value))


def unique_inverse(x, /, *, size=None, fill_value=None):
    return UniqueInverseResult(*unique(x, return_inverse=True, size=size, fill_value=fill_value))


def unique_values(x, /, *, size=None, fill_value=None):
    return unique(x, size=size, fill_value=fill_value)


# ----------------------------------------------------------------------------- methods


def _sort_method(self, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    return sort(self, axis, kind=kind, order=order, stable=stable, descending=descending)


def _argsort_method(self, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    return argsort(self, axis, kind=kind, order=order, stable=stable, descending=descending)


def _searchsorted_method(self, v, side="left", sorter=None, *, method="scan"):
    return searchsorted(self, v, side=side, sorter=sorter, method=method)


def _argpartition_method(self, kth, axis=-1):
    return argpartition(self, kth, axis)


array_methods = {"sort": _sort_method, "argsort": _argsort_method, "searchsorted": _searchsorted_method,
                 "argpartition": _argpartition_method}
