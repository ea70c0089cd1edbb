"""Set operations on 1-D arrays: isin, setdiff1d, union1d, intersect1d, setxor1d.

Inputs are flattened. Each is a sort plus masks over a static shape: with `size=` the
result is the first `size` elements padded with `fill_value`, so it works under jit and
vmap; without it the inputs must be concrete and the mask's count decides the length
(under jit that raises JAX's ConcretizationTypeError). Default fill values follow
jnp: 0 for setdiff1d, the smallest element of the result for union1d and intersect1d
(0 if it is empty), and for setxor1d the smallest element by jnp.min (NaN if the result
holds one). NaNs are never members of another array (NaN != NaN), but one array's NaNs
count as one unique value, as in jnp.
(JAX 0.10.2 has no jnp.in1d any more, so neither has xlafront.)
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, check_arraylike, convert, result_type_of, with_weak
from xlafront.numpy import _creation as C, _shapes as S, _ufuncs as U
from xlafront.numpy import _indexing as I, _sorting as SO
from xlafront.dtypes import default_int as _idt
from xlafront.numpy._sorting import _true_positions
from xlafront.numpy._indexing import _np_const
from xlafront.numpy._util import host as _host, static_size as _static_size
from xlafront.numpy._util import jitted as _jitted

__all__ = ["isin", "setdiff1d", "union1d", "intersect1d", "setxor1d"]

_ISIN_METHODS = ("auto", "compare_all", "binary_search", "sort")


def _flat(name, x):
    check_arraylike(name, x)
    return S.ravel(C.asarray(x))


def _count(c, name):
    return int(_host(c, name, f"The error arose in {name}(): its output length must be concrete."))


def _sorted_first(x):
    """(sorted x, permutation, mask of the first element of each run of equal values);
    -0.0 equals 0.0 and NaNs equal each other, as in jnp.unique."""
    n = aval(x).shape[0]
    s, perm = P.sort((x, P.iota(_idt(), n)), dimension=0, is_stable=True, num_keys=1)
    return s, perm, (SO._rows_not_equal(s, True) if n else P.broadcast_in_dim(np.True_, (0,), ()))


def _compact(values, mask, size, fill):
    """(the first `size` values where mask holds, in order, then `fill`; the count of
    True entries; their positions and which of them are real, as _true_positions)."""
    pos, valid, count = _true_positions(mask, size)
    if aval(values).shape[0] == 0:
        a = aval(values)
        return P.broadcast_in_dim(convert(fill, a.dtype, a.weak_type), (size,), ()), count, pos, valid
    out = I.take(values, pos, mode="clip")
    return U.where(valid, out, fill), count, pos, valid


def _fill_of(fill_value, like):
    a = aval(like)
    return convert(fill_value, a.dtype, a.weak_type)


# ----------------------------------------------------------------------------- isin

def isin(element, test_elements, assume_unique=False, invert=False, *, method="auto"):
    """Elementwise, whether `element` occurs in `test_elements` (a bool array of element's
    shape); `invert` negates it."""
    check_arraylike("isin", element, test_elements)
    if method not in _ISIN_METHODS:
        raise ValueError(f"method={method!r} is not implemented; options are 'compare_all', 'binary_search', "
                         f"'sort', and 'auto' (at {core.user_site()})")
    e, t = C.asarray(element), C.asarray(test_elements)
    dt, _ = result_type_of(e, t)
    e, t = convert(e, dt, False), convert(t, dt, False)
    return _jitted("isin", _isin_body, (2, 3))(e, t, method, bool(invert))


def _isin_body(e, t, method, invert):
    t = P.reshape(t, (aval(t).size,))
    m = aval(t).shape[0]
    eshape = aval(e).shape
    if m == 0:
        out = P.broadcast_in_dim(np.False_, eshape, ())
    elif method == "compare_all" or (method == "auto" and aval(e).size * m <= 1 << 16):
        nd = len(eshape)
        eq = U.equal(P.broadcast_in_dim(e, eshape + (m,), tuple(range(nd))),
                     P.broadcast_in_dim(t, eshape + (m,), (nd,)))
        out = P.reduce_or(eq, (nd,))
    else:
        st = P.sort(t, dimension=0, is_stable=True)
        pos = SO.searchsorted(st, e)
        pos = P.min(pos, _np_const(m - 1, aval(pos).dtype))
        out = U.equal(I.take(st, pos, mode="clip"), e)
    return P.not_p.bind(out) if invert else out


# ----------------------------------------------------------------------------- setdiff1d

def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values of ar1 that are not in ar2 (with `assume_unique`, the
    values of ar1 in their order). Padded with fill_value (default 0) up to `size`."""
    check_arraylike("setdiff1d", ar1, ar2)
    a1, a2 = _flat("setdiff1d", ar1), _flat("setdiff1d", ar2)
    size = _static_size(size, "setdiff1d")
    fill = 0 if fill_value is None else fill_value
    check_arraylike("setdiff1d", fill)
    if size is None:
        out, count = _jitted("setdiff1d", _setdiff_body, (3, 4))(a1, a2, fill, aval(a1).shape[0],
                                                               bool(assume_unique))
        return P.slice(out, (0,), (_count(count, "setdiff1d"),))
    return _jitted("setdiff1d", _setdiff_body, (3, 4))(a1, a2, fill, size, bool(assume_unique))[0]


def _setdiff_body(a1, a2, fill, size, assume_unique):
    if assume_unique:
        s, first = a1, None
    else:
        s, _, first = _sorted_first(a1)
    mask = isin(s, a2, invert=True)
    if first is not None:
        mask = U.logical_and(first, mask)
    return _compact(s, mask, size, _fill_of(fill, a1))[:2]


# ----------------------------------------------------------------------------- union1d

def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values of ar1 and ar2 together, padded up to `size` with fill_value
    (default: the smallest of them)."""
    check_arraylike("union1d", ar1, ar2)
    a1, a2 = _flat("union1d", ar1), _flat("union1d", ar2)
    size = _static_size(size, "union1d")
    if size and fill_value is None and aval(a1).size + aval(a2).size == 0:
        raise ValueError(f"jnp.unique: for zero-sized input with nonzero size argument, fill_value must be "
                         f"specified (at {core.user_site()})")
    return SO.unique(S.concatenate([a1, a2]), size=size, fill_value=fill_value)


# ----------------------------------------------------------------------------- intersect1d

def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None, fill_value=None):
    """The sorted unique values in both ar1 and ar2; with `return_indices` also the indices
    of their first occurrences in the flattened ar1 and ar2. Padded up to `size` with
    fill_value (default: the smallest value of the intersection) and out-of-bound indices
    (the lengths of ar1 and ar2)."""
    check_arraylike("intersect1d", ar1, ar2)
    a1, a2 = _flat("intersect1d", ar1), _flat("intersect1d", ar2)
    dt, weak = result_type_of(a1, a2)
    a1, a2 = convert(a1, dt, weak), convert(a2, dt, weak)
    size = _static_size(size, "intersect1d")
    if fill_value is not None:
        check_arraylike("intersect1d", fill_value)
    statics = (3, 4, 5, 6)
    body = _jitted("intersect1d", _intersect_body, statics)
    if size is None:
        upper = min(aval(a1).shape[0], aval(a2).shape[0])
        outs = body(a1, a2, 0 if fill_value is None else fill_value, upper, bool(assume_unique),
                    bool(return_indices), fill_value is None)
        c = _count(outs[-1], "intersect1d")
        outs = tuple(P.slice(o, (0,), (c,)) for o in outs[:-1])
    else:   # as jnp: the sized intersection is strongly typed
        outs = body(with_weak(a1, False), with_weak(a2, False), 0 if fill_value is None else fill_value, size,
                    bool(assume_unique), bool(return_indices), fill_value is None)[:-1]
    return outs if return_indices else outs[0]


def _intersect_body(a1, a2, fill, size, assume_unique, return_indices, default_fill):
    n1, n2 = aval(a1).shape[0], aval(a2).shape[0]
    idt = _idt()
    if n1 == 0 or n2 == 0:
        f = P.broadcast_in_dim(_fill_of(fill, a1), (size,), ())
        outs = [f]
        if return_indices:
            outs += [P.broadcast_in_dim(_np_const(n1, idt), (size,), ()),
                     P.broadcast_in_dim(_np_const(n2, idt), (size,), ())]
        return (*outs, _np_const(0, idt))
    if assume_unique:
        s1, perm1 = P.sort((a1, P.iota(idt, n1)), dimension=0, is_stable=True, num_keys=1)
        first = None
    else:
        s1, perm1, first = _sorted_first(a1)
    s2, perm2 = P.sort((a2, P.iota(idt, n2)), dimension=0, is_stable=True, num_keys=1)
    pos2 = P.min(SO.searchsorted(s2, s1), np.int32(n2 - 1))
    mask = U.equal(I.take(s2, pos2, mode="clip"), s1)
    if first is not None:
        mask = U.logical_and(first, mask)
    pos, valid, count = _true_positions(mask, size)
    vals = I.take(s1, pos, mode="clip")
    if default_fill:
        first_val = P.reshape(P.slice(vals, (0,), (1,)), ()) if size else _fill_of(0, a1)
        f = U.where(P.gt(count, _np_const(0, idt)), first_val, _fill_of(0, a1))
    else:
        f = _fill_of(fill, a1)
    outs = [U.where(valid, vals, f)]
    if return_indices:
        i1 = I.take(perm1, pos, mode="clip")
        i2 = I.take(perm2, I.take(pos2, pos, mode="clip"), mode="clip")
        outs += [U.where(valid, i1, _np_const(n1, idt)), U.where(valid, i2, _np_const(n2, idt))]
    return (*outs, count)


# ----------------------------------------------------------------------------- setxor1d

def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values in exactly one of ar1 and ar2, padded up to `size` with
    fill_value (default: the smallest of them by jnp.min, so NaN if one is NaN)."""
    check_arraylike("setxor1d", ar1, ar2)
    a1, a2 = _flat("setxor1d", ar1), _flat("setxor1d", ar2)
    dt, weak = result_type_of(a1, a2)
    a1, a2 = convert(a1, dt, weak), convert(a2, dt, weak)
    size = _static_size(size, "setxor1d")
    if fill_value is not None:
        check_arraylike("setxor1d", fill_value)
    body = _jitted("setxor1d", _setxor_body, (3, 4, 5))
    fill = 0 if fill_value is None else fill_value
    if size is None:
        out, count = body(a1, a2, fill, aval(a1).shape[0] + aval(a2).shape[0], bool(assume_unique),
                          fill_value is None)
        return P.slice(out, (0,), (_count(count, "setxor1d"),))
    # as jnp: the sized result is strongly typed
    return body(with_weak(a1, False), with_weak(a2, False), fill, size, bool(assume_unique), fill_value is None)[0]


def _setxor_body(a1, a2, fill, size, assume_unique, default_fill):
    idt = _idt()
    if assume_unique:
        c = S.concatenate([a1, a2])
        valid = P.broadcast_in_dim(np.True_, aval(c).shape, ())
    else:
        s1, _, f1 = _sorted_first(a1)
        s2, _, f2 = _sorted_first(a2)
        c = S.concatenate([s1, s2])
        valid = P.concatenate([f1, f2], 0)
    m = aval(c).shape[0]
    if m == 0:
        out = P.broadcast_in_dim(_fill_of(fill, a1), (size,), ())
        return out, _np_const(0, idt)
    # the unique values of both first (ascending), the repeats after them
    _, c = P.sort((P.not_p.bind(valid), c), dimension=0, is_stable=True, num_keys=2)
    cnt = P.reduce_sum(convert(valid, idt, False), (0,))
    j = P.iota(idt, m)
    ne = U.not_equal(P.slice(c, (1,), (m,)), P.slice(c, (0,), (m - 1,)))
    ne_prev = P.concatenate([np.ones((1,), np.bool_), ne], 0)
    ne_next = P.concatenate([ne, np.ones((1,), np.bool_)], 0)
    last = P.eq(j, P.sub(cnt, _np_const(1, idt)))
    mask = U.logical_and(U.logical_and(P.lt(j, cnt), ne_prev), U.logical_or(ne_next, last))
    if not default_fill:
        return _compact(c, mask, size, _fill_of(fill, a1))[:2]
    out, count, pos, valid_out = _compact(c, mask, size, _fill_of(0, a1))
    if size:
        f = P.reshape(P.slice(out, (0,), (1,)), ())
        if dtypes.is_inexact(aval(c).dtype):   # jnp.min of the result: NaN if it holds a NaN
            has_nan = P.reduce_or(U.logical_and(mask, U.isnan(c)), (0,))
            f = U.where(has_nan, _fill_of(np.nan, a1), f)
        f = U.where(P.gt(count, _np_const(0, idt)), f, _fill_of(0, a1))
        out = U.where(valid_out, out, f)
    return out, count
