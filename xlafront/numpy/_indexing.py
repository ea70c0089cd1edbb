"""Indexing: `x[idx]` (ints, slices, None, Ellipsis, integer arrays, concrete boolean masks),
the functional updates `x.at[idx].set/add/multiply/divide/min/max/power/get`, `take`,
`take_along_axis` and `unstack`.

An index is first *parsed* into one entry per indexed position (after Ellipsis, boolean
masks and scalar booleans are resolved): `None` (new axis), a static slice, a static
int, a dynamic (traced) 0-d int, or an integer array. Then, as JAX does:
- only static ints/slices/None       -> slice, rev, squeeze, reshape (no gather);
- static and traced 0-d ints, slices  -> dynamic_slice (clamps like XLA, as JAX);
- any integer array                   -> one gather (scatter for `.at[]` updates).
The gather plan follows NumPy's placement of advanced indices: the broadcast index
dimensions replace the indexed axes when those are adjacent in the index, else they
go first.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.array import ArrayImpl
from xlafront.config import config
from xlafront.core import Tracer, get_aval
from xlafront.errors import NonConcreteBooleanIndexError
from xlafront.numpy._util import aval, broadcast_shapes, broadcast_to_shape, check_arraylike, convert

__all__ = ["take", "take_along_axis", "unstack"]

_int = builtins.int
_max = builtins.max
_min = builtins.min


# ----------------------------------------------------------------------------- small helpers
def static_slice(x, start, stop, axis=0):
    a = aval(x)
    starts = [0] * a.ndim
    limits = list(a.shape)
    starts[axis], limits[axis] = start, stop
    return P.slice(x, starts, limits)


def unstack(x, axis=0):
    """The sub-arrays of `x` along `axis`, as a tuple (jnp.unstack)."""
    a = aval(x)
    if a.ndim == 0:
        raise ValueError("Unstack requires arrays with rank > 0, however a scalar array was passed.")
    axis = _canon_axis(axis, a.ndim, "unstack")
    n = a.shape[axis]
    if type(x) is ArrayImpl and n > 1 and isinstance(core.current_trace(), core.EvalTrace):
        # Eager: one compiled dynamic_slice for every row (static slices would compile
        # one program per row).
        sizes = list(a.shape)
        sizes[axis] = 1
        zero = np.int32(0)
        out = []
        for i in range(n):
            starts = [zero] * a.ndim
            starts[axis] = np.int32(i)
            out.append(P.squeeze(P.dynamic_slice(x, starts, sizes), (axis,)))
        return tuple(out)
    return tuple(P.squeeze(static_slice(x, i, i + 1, axis), (axis,)) for i in range(n))


def _canon_axis(axis, ndim, name):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim} "
                         f"(at {core.user_site()})")
    return axis % ndim


def _index_dtype(*dts, sizes=()):
    """int32, or int64 when x64 is on and an index or a dimension needs it."""
    if config.x64 and (any(np.dtype(d).itemsize == 8 or d == dtypes.uint32 for d in dts)
                       or any(s > np.iinfo(np.int32).max for s in sizes)):
        return dtypes.int64
    return dtypes.int32


def _np_const(v, dt):
    return np.asarray(v, dt)[()] if np.ndim(v) == 0 else np.asarray(v, dt)


def _normalize_traced(v, size, idt):
    """A traced integer index as dtype idt with negative values counted from the end."""
    a = get_aval(v)
    if a.dtype != idt or a.weak_type:
        v = P.convert_element_type(v, idt)
    if dtypes.is_unsigned(a.dtype):
        return v
    neg = P.lt(v, _np_const(0, idt))
    return P.select_n(neg, v, P.add(v, _np_const(size, idt)))


def _normalize_static(v, size, idt):
    v = np.asarray(v).astype(np.int64)
    v = np.where(v < 0, v + size, v)
    info = np.iinfo(idt)
    return np.clip(v, info.min, info.max).astype(idt)


def _is_traced(v):
    return isinstance(v, (ArrayImpl, Tracer))


# ----------------------------------------------------------------------------- parsing
class _Idx:
    """One parsed index entry."""
    __slots__ = ("kind", "value", "start", "n", "step")

    def __init__(self, kind, value=None, start=0, n=0, step=1):
        self.kind, self.value, self.start, self.n, self.step = kind, value, start, n, step

    def __repr__(self):
        return f"_Idx({self.kind}, {self.value!r}, {self.start}, {self.n}, {self.step})"


_NEW = _Idx("new")


def _index_error_type(i, pos):
    try:
        dt = np.asarray(i).dtype
        tname = dt.name if dt != object else type(i).__name__
    except Exception:  # noqa: BLE001
        tname = type(i).__name__
    return TypeError(f"Indexer must have integer or boolean type, got indexer with type {tname} at "
                     f"position {pos}, indexer value {i!r} (at {core.user_site()})")


def _classify(i, pos):
    """(kind, value) of one raw index element."""
    if i is None:
        return ("new", None)
    if i is Ellipsis:
        return ("ellipsis", None)
    if isinstance(i, slice):
        ents = []
        for v in (i.start, i.stop, i.step):
            if v is None:
                ents.append(None)
                continue
            try:
                if isinstance(v, (bool, np.bool_)):
                    raise TypeError
                ents.append(operator.index(v))
            except (TypeError, core.ConcretizationTypeError, core.TracerIntegerConversionError):
                raise IndexError(
                    f"Slice entries must be static integers. Got {i} at position {pos} "
                    f"(at {core.user_site()}). To index a statically sized window at a dynamic "
                    f"position use lax.dynamic_slice / lax.dynamic_update_slice.") from None
        if ents[2] == 0:
            raise ValueError("slice step cannot be zero")
        return ("slice", slice(*ents))
    if isinstance(i, (bool, np.bool_)):
        return ("mask", np.asarray(i, bool))
    if isinstance(i, (_int, np.integer)):
        return ("int", _int(i))
    if isinstance(i, str):
        raise TypeError(f"xlafront does not support string indexing; got idx={i!r} (at {core.user_site()})")
    if isinstance(i, (list, tuple)):
        if any(_is_traced(e) for e in i):
            from xlafront.numpy._creation import asarray
            i = asarray(i)
        else:
            i = np.asarray(i)
            if i.size == 0 and i.dtype == np.float64:
                i = i.astype(np.int32)
    if isinstance(i, (np.ndarray, np.generic)):
        if i.dtype == np.bool_:
            return ("mask", np.asarray(i))
        if not np.issubdtype(i.dtype, np.integer):
            raise _index_error_type(i, pos)
        if i.ndim == 0:
            return ("int", _int(i))
        return ("array", i)
    if _is_traced(i):
        a = get_aval(i)
        if a.dtype == dtypes.bool_:
            v = i._value if isinstance(i, ArrayImpl) else i.to_concrete_value()
            if v is None:
                raise NonConcreteBooleanIndexError(
                    f"Array boolean indices must be concrete; got {a.str_short()} at position {pos} "
                    f"(at {core.user_site()}). The shape of the result would depend on the mask's "
                    f"values, which are unknown while tracing. Use `xnp.where(mask, x, fill)` or "
                    f"`xnp.nonzero(mask, size=...)` instead.")
            return ("mask", np.asarray(v, bool))
        if not dtypes.is_int(a.dtype):
            raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                            f"{a.dtype.name} at position {pos} (at {core.user_site()})")
        return ("dyn" if a.ndim == 0 else "array", i)
    if hasattr(i, "__index__"):
        try:
            return ("int", operator.index(i))
        except TypeError:
            pass
    raise _index_error_type(i, pos)


class _Parsed:
    """The index resolved against a shape: `entries` (one per position; every entry but
    "new" consumes one dimension of `shape`), and `shape`, the operand's shape after
    scalar-boolean indices inserted their unit axes (then `expanded` is True)."""
    __slots__ = ("entries", "shape", "expanded", "gaps")


def _parse(shape, idx):
    if isinstance(idx, list):
        raise TypeError("Using a non-tuple sequence for multidimensional indexing is not allowed; "
                        "use `arr[array(seq)]` instead of `arr[seq]` (at " + core.user_site() + ").")
    if not isinstance(idx, tuple):
        idx = (idx,)
    raw = [_classify(i, pos) for pos, i in enumerate(idx)]
    ndim = len(shape)
    consumed = sum(v.ndim if k == "mask" else (0 if k in ("new", "ellipsis") else 1) for k, v in raw)
    n_ell = sum(1 for k, _ in raw if k == "ellipsis")
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"Too many indices: array is {ndim}-dimensional, but {consumed} were indexed "
                         f"(at {core.user_site()})")
    full = ("slice", slice(None))
    if n_ell:
        k = [kk for kk, _ in raw].index("ellipsis")
        raw = raw[:k] + ([full] * (ndim - consumed) or [("ellipsis", None)]) + raw[k + 1:]
    else:
        raw = raw + [full] * (ndim - consumed)

    out = _Parsed()
    out.gaps = ()
    entries = []
    new_shape = []
    d = 0
    for kind, v in raw:
        if kind == "ellipsis":  # an Ellipsis standing for no dimension still separates advanced indices
            out.gaps = (len(entries),)
            continue
        if kind == "new":
            entries.append(_NEW)
            continue
        if kind == "mask":
            if v.ndim == 0:  # a scalar boolean: a new unit axis, indexed by [0] (True) or [] (False)
                new_shape.append(1)
                entries.append(_Idx("array", np.zeros(1 if v else 0, np.int32)))
                continue
            want = shape[d:d + v.ndim]
            if v.shape != tuple(want):
                raise IndexError(f"boolean index did not match shape of indexed array in index {d}: "
                                 f"got {v.shape}, expected {tuple(want)} (at {core.user_site()})")
            for nz in np.nonzero(v):
                entries.append(_Idx("array", nz.astype(np.int32 if v.size < 2**31 else np.int64)))
            new_shape.extend(want)
            d += v.ndim
            continue
        size = shape[d]
        new_shape.append(size)
        d += 1
        if kind == "slice":
            lo, hi, st = v.indices(size)
            entries.append(_Idx("slice", start=lo, n=len(range(lo, hi, st)), step=st))
        else:
            entries.append(_Idx(kind, v))
    out.entries = entries
    out.shape = tuple(new_shape)
    out.expanded = out.shape != tuple(shape)
    return out


def _dims_of(parsed):
    """Operand dimension of each non-"new" entry, as a list aligned with entries (None for new)."""
    dims, d = [], 0
    for e in parsed.entries:
        if e.kind == "new":
            dims.append(None)
        else:
            dims.append(d)
            d += 1
    return dims


# ----------------------------------------------------------------------------- basic indexing
def _slice_bounds(e):
    """(start, limit, stride, reversed) of a static slice entry for lax.slice (+ rev)."""
    n, st = e.n, e.step
    if n == 0:
        return 0, 0, 1, False
    if st > 0:
        return e.start, e.start + (n - 1) * st + 1, st, False
    first = e.start + (n - 1) * st
    return first, e.start + 1, -st, n > 1


def _basic_slices(x, shape, entries, dims, skip=()):
    """Apply every static slice and static int (as a size-1 slice) with slice/rev; keep all dims."""
    starts, limits, strides, rev = [0] * len(shape), list(shape), [1] * len(shape), []
    for e, d in zip(entries, dims):
        if d is None or d in skip:
            continue
        if e.kind == "slice":
            lo, hi, st, r = _slice_bounds(e)
            starts[d], limits[d], strides[d] = lo, hi, st
            if r:
                rev.append(d)
        elif e.kind == "int":
            starts[d], limits[d] = e.value, e.value + 1
    if any(starts) or limits != list(shape) or any(s != 1 for s in strides):
        x = P.slice(x, starts, limits, strides if any(s != 1 for s in strides) else None)
    if rev:
        x = P.rev(x, rev)
    return x


def _finish_basic(x, entries, dims, drop):
    """Squeeze the dims in `drop`, then insert the new axes (None entries)."""
    if drop:
        x = P.squeeze(x, drop)
    if any(e.kind == "new" for e in entries):
        shape, it = [], iter(aval(x).shape)
        for e, d in zip(entries, dims):
            if e.kind == "new":
                shape.append(1)
            elif d not in drop:
                shape.append(next(it))
        x = P.reshape(x, shape)
    return x


def _check_static_ints(parsed):
    """Static int indices counted from the end when negative, then clamped into the axis
    (as JAX: `arange(3)[10]` is element 2 and `arange(3)[-10]` element 0); an int index
    into an empty axis raises IndexError."""
    axis = -1
    for e in parsed.entries:
        if e.kind == "new":
            continue
        axis += 1
        if e.kind != "int":
            continue
        size = parsed.shape[axis]
        if size == 0:
            raise IndexError(f"index is out of bounds for axis {axis} with size 0 (at {core.user_site()})")
        if not -2**31 <= e.value < 2**31 and not config.x64:
            raise OverflowError(f"Python int {e.value} too large to convert to int32 "
                                f"(at {core.user_site()})")
        v = e.value + size if e.value < 0 else e.value
        e.value = _min(_max(v, 0), size - 1)


def _rewrite_int_as_array(parsed):
    for e in parsed.entries:
        if e.kind in ("int", "dyn"):
            e.kind = "array"


# ----------------------------------------------------------------------------- gather / scatter plan
class _Plan:
    __slots__ = ("out_shape", "gather_shape", "offset_dims", "collapsed", "start_index_map",
                 "slice_sizes", "indices", "has_array", "sorted")


def _plan(x_shape, entries, idt, gaps=()):
    """Dimension numbers and the index tensor of the gather (or scatter) that indexes an
    operand of shape `x_shape` by `entries` (kinds: new, slice, array; arrays normalized).
    `gaps`: entry positions preceded by an empty Ellipsis (it breaks adjacency)."""
    dims = []
    d = 0
    for e in entries:
        dims.append(None if e.kind == "new" else d)
        d += e.kind != "new"
    adv = [k for k, e in enumerate(entries) if e.kind == "array"]
    bshape = broadcast_shapes(*(np.shape(entries[k].value) if not _is_traced(entries[k].value)
                                else get_aval(entries[k].value).shape for k in adv),
                              fun_name="indexing") if adv else ()
    adjacent = not adv or (adv == list(range(adv[0], adv[-1] + 1))
                           and not any(adv[0] < g <= adv[-1] for g in gaps))
    axes = []  # ("B",) | ("new",) | ("win", dim, n) | ("iota", dim, start, n, step)
    if adv and not adjacent:
        axes.append(("B",))
    for k, (e, dm) in enumerate(zip(entries, dims)):
        if e.kind == "new":
            axes.append(("new",))
        elif e.kind == "array":
            if adjacent and k == adv[0]:
                axes.append(("B",))
        elif e.step == 1 or e.n <= 1:
            axes.append(("win", dm, e.start if e.n else 0, e.n))
        else:
            axes.append(("iota", dm, e.start, e.n, e.step))
    p = _Plan()
    out_shape, gshape, offset_dims, batch_shape = [], [], [], []
    b_pos, iota_pos = [], {}
    for ax in axes:
        if ax[0] == "new":
            out_shape.append(1)
        elif ax[0] == "B":
            b_pos = list(range(len(batch_shape), len(batch_shape) + len(bshape)))
            batch_shape.extend(bshape)
            out_shape.extend(bshape)
            gshape.extend(bshape)
        elif ax[0] == "win":
            offset_dims.append(len(gshape))
            out_shape.append(ax[3])
            gshape.append(ax[3])
        else:
            iota_pos[ax[1]] = len(batch_shape)
            batch_shape.append(ax[3])
            out_shape.append(ax[3])
            gshape.append(ax[3])
    slice_sizes = list(x_shape)
    comps = {}  # operand dim -> (value, broadcast dims into batch_shape, static?)
    for ax in axes:
        if ax[0] == "win":
            slice_sizes[ax[1]] = ax[3]
            if ax[2]:
                comps[ax[1]] = (np.asarray(ax[2], idt), (), True)
        elif ax[0] == "iota":
            slice_sizes[ax[1]] = 1
            comps[ax[1]] = ((ax[2] + ax[4] * np.arange(ax[3])).astype(idt), (iota_pos[ax[1]],), True)
    for k in adv:
        v = entries[k].value
        dm = dims[k]
        slice_sizes[dm] = 1
        nd = np.ndim(v) if not _is_traced(v) else get_aval(v).ndim
        comps[dm] = (v, tuple(b_pos[len(b_pos) - nd:]), not _is_traced(v))
    if not comps:  # nothing indexed: a window at the origin (keeps the index vector non-empty)
        dm = next(ax[1] for ax in axes if ax[0] == "win")
        comps[dm] = (np.asarray(0, idt), (), True)
    p.start_index_map = tuple(sorted(comps))
    p.collapsed = tuple(sorted([dims[k] for k in adv] + list(iota_pos)))
    p.offset_dims = tuple(offset_dims)
    p.slice_sizes = tuple(slice_sizes)
    p.out_shape = tuple(out_shape)
    p.gather_shape = tuple(gshape)
    p.has_array = bool(adv)
    p.sorted = not adv and all(ax[4] > 0 for ax in axes if ax[0] == "iota")
    p.indices = _index_tensor([comps[dm] for dm in p.start_index_map], tuple(batch_shape), idt)
    return p


def _index_tensor(comps, batch_shape, idt):
    """Stack index components (each broadcast over batch_shape) along a new last axis."""
    full = batch_shape + (1,)
    if all(c[2] for c in comps) and int(np.prod(full)) * len(comps) <= 1 << 16:
        cols = []
        for v, bdims, _ in comps:
            v = np.asarray(v, idt)
            shape = [1] * len(batch_shape)
            for i, bd in enumerate(bdims):
                shape[bd] = v.shape[i]
            cols.append(np.broadcast_to(v.reshape(shape), batch_shape))
        return np.stack(cols, axis=-1).astype(idt)
    cols = []
    for v, bdims, static in comps:
        if static:
            v = np.asarray(v, idt)
        cols.append(P.broadcast_in_dim(v, full, bdims))
    return P.concatenate(cols, len(batch_shape)) if len(cols) > 1 else cols[0]


def _normalize_arrays(parsed, shape):
    """Integer array entries as index dtype values with negatives counted from the end."""
    arr = [(e, s) for e, s in zip((e for e in parsed.entries if e.kind != "new"), shape) if e.kind == "array"]
    dts = [get_aval(e.value).dtype for e, _ in arr if _is_traced(e.value)]
    idt = _index_dtype(*dts, sizes=shape)
    for e, size in arr:
        v = e.value
        e.value = _normalize_traced(v, size, idt) if _is_traced(v) else _normalize_static(v, size, idt)
    return idt


def _zeros(shape, x):
    a = aval(x)
    return P.broadcast_in_dim(_np_const(0, a.dtype), shape, ()) if not a.weak_type else \
        P.broadcast_in_dim(P.convert_element_type(_np_const(0, a.dtype), a.dtype, weak_type=True), shape, ())


# ----------------------------------------------------------------------------- getitem
def _canon_mode(mode):
    """None (the operation's default) or the canonical mode string."""
    return None if mode is None else P.GatherScatterMode.from_any(mode)


def _rewriting_take(x, idx, *, mode=None, fill_value=None, indices_are_sorted=False, unique_indices=False):
    a = aval(x)
    parsed = _parse(a.shape, idx)
    entries = parsed.entries
    if parsed.expanded:
        x = P.reshape(x, parsed.shape)
    shape = parsed.shape
    kinds = {e.kind for e in entries}
    if mode == "fill" and kinds & {"int", "dyn"}:
        _rewrite_int_as_array(parsed)
        kinds = {e.kind for e in entries}
    elif "int" in kinds:
        _check_static_ints(parsed)
    dims = _dims_of(parsed)

    if "array" not in kinds and "dyn" not in kinds:
        x = _basic_slices(x, shape, entries, dims)
        return _finish_basic(x, entries, dims, tuple(d for e, d in zip(entries, dims) if e.kind == "int"))

    if "array" not in kinds:
        # static slices first, then one dynamic_slice over the dims indexed by traced scalars
        dyn = [(e, d) for e, d in zip(entries, dims) if e.kind == "dyn"]
        x = _basic_slices(x, shape, entries, dims, skip={d for _, d in dyn})
        cur = aval(x).shape
        for d in (d for _, d in dyn):
            if cur[d] == 0:
                raise IndexError(f"index is out of bounds for axis {d} with size 0 (at {core.user_site()})")
        idt = _index_dtype(*(get_aval(e.value).dtype for e, _ in dyn), sizes=shape)
        starts = [_np_const(0, idt)] * len(cur)
        sizes = list(cur)
        for e, d in dyn:
            starts[d] = _normalize_traced(e.value, cur[d], idt)
            sizes[d] = 1
        # the starts are normalized once above and all of dtype idt: bind the primitive
        # itself (P.dynamic_slice would count a still-negative start from the end again)
        x = P.dynamic_slice_p.bind(x, *starts, slice_sizes=tuple(sizes))
        drop = tuple(d for e, d in zip(entries, dims) if e.kind in ("int", "dyn"))
        return _finish_basic(x, entries, dims, drop)

    # gather: slices applied statically first, then every slice is a full window
    _rewrite_int_as_array(parsed)
    x = _basic_slices(x, shape, entries, dims)
    cur = aval(x).shape
    for e in entries:
        if e.kind == "slice":
            e.start, e.step = 0, 1
    idt = _normalize_arrays(parsed, cur)
    plan = _plan(cur, entries, idt, parsed.gaps)
    if 0 in plan.gather_shape:
        return P.reshape(_zeros(plan.gather_shape, x), plan.out_shape)
    for dm in plan.collapsed:
        if cur[dm] == 0:
            raise IndexError(f"index is out of bounds for axis {dm} with size 0 (at {core.user_site()})")
    dn = P.GatherDimensionNumbers(offset_dims=plan.offset_dims, collapsed_slice_dims=plan.collapsed,
                                  start_index_map=plan.start_index_map)
    if mode is None:
        mode = "promise_in_bounds"
    if fill_value is not None:
        fill_value = np.asarray(fill_value).astype(aval(x).dtype).item()
    y = P.gather(x, plan.indices, dn, plan.slice_sizes, mode=mode, fill_value=fill_value,
                 indices_are_sorted=indices_are_sorted or plan.sorted,
                 unique_indices=unique_indices or not plan.has_array)
    return P.reshape(y, plan.out_shape)


def getitem(x, idx):
    """x[idx] with NumPy's indexing rules, except that out-of-range indices (static ints,
    traced scalars, integer arrays) are clamped into the axis, as in JAX."""
    return _rewriting_take(x, idx)


# ----------------------------------------------------------------------------- .at[] updates
def _broadcast_updates(y, shape):
    ya = aval(y)
    if ya.shape == tuple(shape):
        return y
    if ya.ndim > len(shape):
        raise ValueError(f"Cannot broadcast to shape with fewer dimensions: arr_shape={ya.shape} "
                         f"shape={tuple(shape)} (at {core.user_site()})")
    lead = len(shape) - ya.ndim
    for i, s in enumerate(ya.shape):
        if s != 1 and s != shape[lead + i]:
            raise ValueError(f"Incompatible shapes for broadcasting: update of shape {ya.shape} to the "
                             f"indexed shape {tuple(shape)} (at {core.user_site()})")
    if ya.ndim == 0:
        return P.broadcast_in_dim(y, shape, ())
    return broadcast_to_shape(y, shape)


def _scatter_update(x, idx, y, prim, *, mode=None, indices_are_sorted=False, unique_indices=False):
    check_arraylike("scatter", x, y)
    a = aval(x)
    mode = _canon_mode(mode) or "fill"
    y = convert(y, a.dtype, a.weak_type)
    parsed = _parse(a.shape, idx)
    if not parsed.shape:  # a 0-d operand indexed by (), None, ...: no scatter needed
        y = _broadcast_updates(y, tuple(1 for _ in parsed.entries))
        y = P.reshape(y, ()) if isinstance(y, (ArrayImpl, Tracer)) else y
        return _SCALAR_COMBINE[prim](x, y)
    operand = P.reshape(x, parsed.shape) if parsed.expanded else x
    _rewrite_int_as_array(parsed)
    idt = _normalize_arrays(parsed, parsed.shape)
    plan = _plan(parsed.shape, parsed.entries, idt, parsed.gaps)
    y = _broadcast_updates(y, plan.out_shape)
    if not isinstance(y, (ArrayImpl, Tracer)):
        y = np.asarray(y, a.dtype)
    if 0 in plan.gather_shape:
        return x
    if any(parsed.shape[d] == 0 for d in plan.collapsed):
        return x
    y = P.reshape(y, plan.gather_shape)
    dn = P.ScatterDimensionNumbers(update_window_dims=plan.offset_dims, inserted_window_dims=plan.collapsed,
                                   scatter_dims_to_operand_dims=plan.start_index_map)
    out = prim.bind(operand, plan.indices, y, dimension_numbers=dn, mode=mode,
                    indices_are_sorted=bool(indices_are_sorted or plan.sorted),
                    unique_indices=bool(unique_indices or not plan.has_array))
    return P.reshape(out, a.shape) if parsed.expanded else out


_SCALAR_COMBINE = {P.scatter_p: lambda x, y: P.convert_element_type(y, aval(x).dtype, aval(x).weak_type),
                   P.scatter_add_p: P.add, P.scatter_mul_p: P.mul, P.scatter_min_p: P.min,
                   P.scatter_max_p: P.max}


def _ones_like(x):
    a = aval(x)
    return P.broadcast_in_dim(P.convert_element_type(_np_const(1, a.dtype), a.dtype, a.weak_type), a.shape, ())


class _IndexUpdateHelper:
    """`x.at`: indexing it gives an `_IndexUpdateRef`, whose methods return updated copies."""
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


class _IndexUpdateRef:
    """`x.at[idx]`: the functional counterparts of `x[idx] = y`, `x[idx] += y`, ..."""
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
        """x[idx]; `mode` says what out-of-bound indices do: "clip" (the default behaviour
        of XLA, also "promise_in_bounds") or "fill" (return `fill_value`: NaN for inexact
        types, the minimum of signed and maximum of unsigned ints, True for bool)."""
        mode = _canon_mode(mode)
        return _rewriting_take(self.array, self.index, mode=mode or "promise_in_bounds",
                               fill_value=fill_value, indices_are_sorted=indices_are_sorted,
                               unique_indices=unique_indices)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter_update(self.array, self.index, values, P.scatter_p, mode=mode,
                               indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        _check_numeric("add", self.array)
        return _scatter_update(self.array, self.index, values, P.scatter_add_p, mode=mode,
                               indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        _check_numeric("mul", self.array)
        return _scatter_update(self.array, self.index, values, P.scatter_mul_p, mode=mode,
                               indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """x / (ones.at[idx].multiply(values)): repeated indices divide once per value."""
        from xlafront.numpy._ufuncs import true_divide
        _check_numeric("div", self.array)
        den = _scatter_update(_ones_like(self.array), self.index, values, P.scatter_mul_p, mode=mode,
                              indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)
        return true_divide(self.array, den)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """x ** (ones.at[idx].multiply(values)), as JAX computes it."""
        from xlafront.numpy._ufuncs import power
        _check_numeric("pow", self.array)
        ex = _scatter_update(_ones_like(self.array), self.index, values, P.scatter_mul_p, mode=mode,
                             indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)
        return power(self.array, ex)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`func` (a unary ufunc) applied to x[idx], once for each time an element is
        indexed (a repeated index applies it repeatedly, as JAX's scatter_apply does); the
        rest of x unchanged. Written as a count of how often each element is indexed
        (scatter_add) and `select`s of func(x), so unlike JAX's it differentiates: forward
        mode always, reverse mode for indices without integer arrays (those need a
        `while_loop` over the largest count)."""
        from xlafront.lax._control_flow import while_loop
        x = self.array
        check_arraylike("apply", x)
        a = aval(x)
        counts = _scatter_update(P.broadcast_in_dim(np.int32(0), a.shape, ()), self.index, np.int32(1),
                                 P.scatter_add_p, mode=mode, indices_are_sorted=indices_are_sorted,
                                 unique_indices=unique_indices)

        def step(y, hit):
            fy = func(y)
            fa = aval(fy)
            if fa.shape != a.shape or fa.dtype != a.dtype:
                raise TypeError(f".at[].apply: func must map {a.str_short()} elementwise to the same dtype, "
                                f"got {fa.str_short()} (at {core.user_site()})")
            return P.select_n(hit, y, fy)

        index = self.index if isinstance(self.index, tuple) else (self.index,)
        if not any(isinstance(i, (ArrayImpl, Tracer, np.ndarray, list)) for i in index):
            return step(x, P.gt(counts, np.int32(0)))   # each element indexed at most once
        n = P.reduce_max(counts, tuple(range(a.ndim)))
        return while_loop(lambda c: P.lt(c[0], n), lambda c: (c[0] + 1, step(c[1], P.gt(counts, c[0]))),
                          (np.int32(0), x))[1]

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter_update(self.array, self.index, values, P.scatter_min_p, mode=mode,
                               indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter_update(self.array, self.index, values, P.scatter_max_p, mode=mode,
                               indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)


def _check_numeric(name, x):
    dt = aval(x).dtype
    if dt == dtypes.bool_:
        raise TypeError(f"{name} does not accept dtype bool. Accepted dtypes are subtypes of integer, "
                        f"floating, complexfloating (at {core.user_site()})")


def _at(self):
    return _IndexUpdateHelper(self)


# ----------------------------------------------------------------------------- take
def _check_int_indices(name, indices):
    if not isinstance(indices, (ArrayImpl, Tracer)):
        indices = np.asarray(indices)
        if indices.size == 0 and indices.dtype == np.float64:
            indices = indices.astype(np.int32)
    dt = get_aval(indices).dtype if isinstance(indices, (ArrayImpl, Tracer)) else indices.dtype
    if not dtypes.is_int(np.dtype(dt)):
        raise TypeError(f"{name} indices must be of integer type, got {np.dtype(dt).name} "
                        f"(at {core.user_site()})")
    return indices


def _take_mode(mode, name):
    """take: None, "fill", "clip", "wrap" ("raise" is not supported); take_along_axis:
    None or any gather mode (as JAX)."""
    if name == "take":
        if mode == "raise":
            raise NotImplementedError("The 'raise' mode to jnp.take is not supported.")
        if mode == "wrap":
            return "wrap"
        if mode not in (None, "fill", "clip"):
            raise ValueError(f"Invalid mode {mode!r} for np.take (at {core.user_site()})")
    return _canon_mode(mode) or "fill"


def _prep_indices(indices, size, mode, idt):
    """Indices as idt, negatives counted from the end (mod size for 'wrap')."""
    if mode == "wrap":
        if _is_traced(indices):
            v = P.convert_element_type(indices, idt)
            return P.rem(P.add(P.rem(v, _np_const(size, idt)), _np_const(size, idt)), _np_const(size, idt))
        return np.mod(np.asarray(indices).astype(np.int64), size).astype(idt)
    if _is_traced(indices):
        return _normalize_traced(indices, size, idt)
    return _normalize_static(indices, size, idt)


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False, indices_are_sorted=False,
         fill_value=None):
    """Elements of `a` at `indices` along `axis` (flattened when None). Out-of-bound indices
    give `fill_value` by default (mode="fill"); "clip" clamps, "wrap" wraps around."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to take is not supported.")
    check_arraylike("take", a)
    indices = _check_int_indices("take", indices)
    mode = _take_mode(mode, "take")
    if axis is None:
        a = P.reshape(a, (aval(a).size,))
        axis = 0
    sa = aval(a)
    axis = _canon_axis(axis, sa.ndim, "take")
    ia = get_aval(indices) if _is_traced(indices) else np.asarray(indices)
    ishape = tuple(ia.shape)
    size = sa.shape[axis]
    out_shape = sa.shape[:axis] + ishape + sa.shape[axis + 1:]
    if 0 in out_shape:
        return _zeros(out_shape, a)
    if size == 0:
        raise IndexError(f"Cannot do a non-empty take() from an empty axis (at {core.user_site()}).")
    idt = _index_dtype(*([ia.dtype] if _is_traced(indices) else []), sizes=(size,))
    if mode == "clip":  # numpy's take clips negative indices to 0 rather than counting from the end
        idx = P.convert_element_type(indices, idt) if _is_traced(indices) else _normalize_static(indices, 0, idt)
    else:
        idx = _prep_indices(indices, size, mode, idt)
    idx = P.reshape(idx, ishape + (1,)) if _is_traced(idx) else np.asarray(idx).reshape(ishape + (1,))
    offset = tuple(range(axis)) + tuple(range(axis + len(ishape), len(out_shape)))
    dn = P.GatherDimensionNumbers(offset_dims=offset, collapsed_slice_dims=(axis,), start_index_map=(axis,))
    sizes = list(sa.shape)
    sizes[axis] = 1
    gmode = "promise_in_bounds" if mode == "wrap" else mode
    if fill_value is not None:
        fill_value = np.asarray(fill_value).astype(sa.dtype).item()
    return P.gather(a, idx, dn, sizes, mode=gmode, fill_value=fill_value,
                    indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """out[..., j, ...] = arr[..., indices[..., j, ...], ...] along `axis`; the other axes
    broadcast between `arr` and `indices`. Out-of-bound indices give `fill_value` (NaN)."""
    check_arraylike("take_along_axis", arr)
    indices = _check_int_indices("take_along_axis", indices)
    mode = _take_mode(mode, "take_along_axis")
    ia = get_aval(indices) if _is_traced(indices) else np.asarray(indices)
    if axis is None:
        if ia.ndim != 1:
            raise ValueError(f"when axis=None, `indices` must have a single dimension, got shape "
                             f"{tuple(ia.shape)}")
        arr = P.reshape(arr, (aval(arr).size,))
        axis = 0
    sa = aval(arr)
    if ia.ndim != sa.ndim:
        raise ValueError(f"indices and arr must have the same number of dimensions; {ia.ndim} vs. "
                         f"{sa.ndim} (at {core.user_site()})")
    axis = _canon_axis(axis, sa.ndim, "take_along_axis")
    out_shape = []
    for d, (s, i) in enumerate(zip(sa.shape, ia.shape)):
        if d == axis:
            out_shape.append(i)
        elif s == i or i == 1 or s == 1:
            out_shape.append(_max(s, i) if 0 not in (s, i) else 0)
        else:
            raise ValueError(f"take_along_axis: shapes {sa.shape} and {tuple(ia.shape)} do not broadcast "
                             f"outside axis {axis} (at {core.user_site()})")
    out_shape = tuple(out_shape)
    if 0 in out_shape:
        return _zeros(out_shape, arr)
    size = sa.shape[axis]
    if size == 0:
        raise IndexError(f"Cannot do a non-empty take_along_axis() from an empty axis (at {core.user_site()}).")
    arr_shape = tuple(size if d == axis else s for d, s in enumerate(out_shape))
    if sa.shape != arr_shape:
        arr = broadcast_to_shape(arr, arr_shape)
    idt = _index_dtype(*([ia.dtype] if _is_traced(indices) else []), sizes=(size,))
    idx = _prep_indices(indices, size, mode, idt)
    if tuple(ia.shape) != out_shape:
        idx = broadcast_to_shape(idx, out_shape) if _is_traced(idx) else np.broadcast_to(idx, out_shape)
    idx = P.reshape(idx, out_shape + (1,)) if _is_traced(idx) else np.asarray(idx).reshape(out_shape + (1,))
    batch = tuple(d for d in range(sa.ndim) if d != axis)
    dn = P.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(axis,), start_index_map=(axis,),
                                  operand_batching_dims=batch, start_indices_batching_dims=batch)
    gmode = "promise_in_bounds" if mode == "wrap" else mode
    if fill_value is not None:
        fill_value = np.asarray(fill_value).astype(sa.dtype).item()
    return P.gather(arr, idx, dn, (1,) * sa.ndim, mode=gmode, fill_value=fill_value)


array_methods = {"__getitem__": getitem, "at": property(_at), "take": take}
