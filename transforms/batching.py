"""Batching (vmap): an interpreter that carries a batch dimension through every primitive.

A `BatchTracer` holds a value of the parent trace (`val`) and the axis of `val` that
is the batch axis (`batch_dim`). Values that are not batched are never wrapped: they
pass through as plain values of the parent trace, so they stay unbatched (and
concrete, where they were) and a primitive whose operands are all unbatched is just
bound again under the parent.

`batch_rules[prim](args, dims, **params) -> (outs, out_dims)` runs under the parent
trace; `dims[i]` is the batch axis of `args[i]` or None. A rule returns one value and
one dim for a single-result primitive, lists for a multiple-result one. Rules are
built from the primitive wrappers, so whatever trace is the parent (eager, graph,
jvp, another batch trace) receives ordinary primitives: vmap of vmap, of jit, of jvp,
and jvp of vmap all compose with no special cases.

Helpers for modules that define primitives of their own (higher-order ones included):
`batch_flat` (run a function under a new batch trace), `batch_graph` (a Graph batched into
a new Graph, with `force_batched` for loop carries and conditional branches), `bdim_to` /
`moveaxis` / `matchaxis` (place or broadcast a batch axis), `axis_size_of`, and
`leading_batch_rule` (for kernels that take leading batch dimensions).
"""
from __future__ import annotations

import threading
import weakref
from typing import Callable

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.core import ClosedGraph, Graph, ShapedArray, Tracer, get_aval

core.register_internal_path(__file__)

not_mapped = None
_rule_axis = threading.local()   # .name: the axis_name of the BatchTrace whose rule is running

# ----------------------------------------------------------------------------- trace


# (type sharding, batch dim) -> the type sharding without that dim: xlafront/_explicit_sharding.py's
unbatched_sharding = None


class BatchTracer(Tracer):
    __slots__ = ("val", "batch_dim", "_aval")

    def __init__(self, trace, val, batch_dim: int):
        self._trace = trace
        self.val = val
        self.batch_dim = batch_dim
        a = get_aval(val)
        shape = a.shape
        self._aval = ShapedArray(shape[:batch_dim] + shape[batch_dim + 1:], a.dtype, a.weak_type,
                                 None if a.sharding is None else unbatched_sharding(a.sharding, batch_dim))

    @property
    def aval(self):
        return self._aval

    def to_concrete_value(self):
        return None  # a batch of values has no single Python value

    def _short(self):
        return (f"of type {self._aval.str_short()} (batched along axis {self.batch_dim} of a "
                f"vmap of size {self._trace.axis_size})")

    def _repr(self, text):
        return f"VmapTracer(aval={text(self._aval)}, batched={text(get_aval(self.val))})"


class BatchTrace(core.Trace):
    """Maps a function over one axis of size `axis_size`; rules run under `parent`."""

    def __init__(self, parent, axis_size: int, axis_name=None):
        super().__init__(parent)
        self.axis_size = axis_size
        self.axis_name = axis_name

    def to_batch_info(self, x):
        if isinstance(x, BatchTracer) and x._trace is self:
            return x.val, x.batch_dim
        if isinstance(x, Tracer) and not x._trace.alive:
            self.check_alive_tracer(x)
        return x, None

    def process_primitive(self, prim, args, params):
        vals, dims = [], []
        batched = False
        for x in args:
            if type(x) is BatchTracer and x._trace is self:
                vals.append(x.val)
                dims.append(x.batch_dim)
                batched = True
            else:
                v, d = self.to_batch_info(x)
                vals.append(v)
                dims.append(d)
                batched = batched or d is not None
        with core.set_current_trace(self.parent):
            named = axis_rules.get(prim) if self.axis_name is not None else None
            if named is not None:   # a collective over this vmap's axis_name (batched or not)
                hit = named(vals, dims, self.axis_size, self.axis_name, **params)
                if hit is not None:
                    outs, out_dims = hit
                    return ([self.wrap(o, d) for o, d in zip(outs, out_dims)] if prim.multiple_results
                            else self.wrap(outs, out_dims))
            if not batched:
                if self.axis_name is None or not vals or not uses_axis(params, self.axis_name):
                    return prim.bind(*vals, **params)
                # a call, loop or branch whose graph uses this vmap's axis_name, with no batched
                # operand: batch its first operand (broadcast) so that its rule runs
                vals[0], dims[0] = broadcast_dim(vals[0], self.axis_size, 0), 0
            rule = batch_rules.get(prim)
            if rule is None:
                raise NotImplementedError(f"vmap: no batching rule for primitive '{prim.name}'")
            outer_name = getattr(_rule_axis, "name", None)
            _rule_axis.name = self.axis_name   # the graphs a rule batches keep this vmap's axis_name
            try:
                outs, out_dims = rule(vals, dims, **params)
            except (TypeError, ValueError, IndexError):
                # A user's shape error reads better in the shapes the user wrote: check the
                # unbatched (per-example) avals, which raises the located error if they are bad.
                avals = [x.aval if isinstance(x, Tracer) and x._trace is self else get_aval(x) for x in args]
                try:
                    core.abstract_eval(prim, avals, params)
                except (TypeError, ValueError) as logical:
                    raise logical from None
                raise
            finally:
                _rule_axis.name = outer_name
        if prim.multiple_results:
            return [self.wrap(o, d) for o, d in zip(outs, out_dims)]
        return self.wrap(outs, out_dims)

    def wrap(self, val, dim):
        return val if dim is None else BatchTracer(self, val, dim)


def batch_flat(fun: Callable, args, in_dims, axis_size: int, axis_name=None):
    """Run `fun(*args) -> list` with `args[i]` batched along `in_dims[i]`.

    Returns (out_vals, out_dims) as values of the current trace; out_dims[i] is None
    for an output that does not depend on the batch."""
    trace = BatchTrace(core.ctx.trace, axis_size, axis_name)
    with core.new_trace(trace):
        tracers = [a if d is None else BatchTracer(trace, a, d) for a, d in zip(args, in_dims)]
        outs = fun(*tracers)
        pairs = [trace.to_batch_info(o) for o in outs]
    return [v for v, _ in pairs], [d for _, d in pairs]


# ----------------------------------------------------------------------------- helpers


def _ndim(x):
    return get_aval(x).ndim


def moveaxis(x, src: int, dst: int):
    """Move axis `src` of x to position `dst` (a transpose, or nothing)."""
    if src == dst:
        return x
    nd = _ndim(x)
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return P.transpose(x, perm)


def broadcast_dim(x, size: int, dst: int):
    """Insert a new axis of length `size` at position `dst` of x (by broadcasting)."""
    a = get_aval(x)
    shape = list(a.shape)
    shape.insert(dst, size)
    return P.broadcast_in_dim(x, shape, [i for i in range(len(shape)) if i != dst])


def bdim_to(x, d, size: int, dst: int):
    """x with its batch axis at `dst`; an unbatched x (d None) is broadcast to the batch."""
    if d is None:
        return broadcast_dim(x, size, dst)
    return moveaxis(x, d, dst)


def matchaxis(x, src, dst, size: int):
    """Move batch axis `src` to `dst` (None = unbatched). Used for out_axes."""
    if src == dst:
        return x
    if dst is None:
        raise ValueError(f"vmap has mapped output but out_axes is None (output of type "
                         f"{get_aval(x).str_short()} is batched on axis {src})")
    return bdim_to(x, src, size, dst)


def axis_size_of(args, dims):
    """The batch size, read from the first batched operand."""
    for x, d in zip(args, dims):
        if d is not None:
            return get_aval(x).shape[d]
    raise AssertionError("no batched operand")


_axis_size = axis_size_of


def _phys(d: int, bd) -> int:
    """Position in the batched array of logical axis d, given the batch axis bd."""
    return d if bd is None or d < bd else d + 1


def _opt(**params):
    """Optional params, passed on only when set (params key caches: keep them canonical)."""
    return {k: v for k, v in params.items() if v is not None}


def _index_scalar(dt, v=0):
    return np.array(v, dtype=dt)[()]


batch_rules: dict = {}
# prim -> rule(args, dims, axis_size, axis_name, **params) -> (outs, out_dims) | None: collectives
# over a named vmap axis (vmap(axis_name=...)); called by the trace of that name even when no
# operand is batched, and returns None when the primitive does not name that axis.
axis_rules: dict = {}
# prim -> fn(params) -> the axis names a collective uses (for `uses_axis`)
axis_names_of: dict = {}
_axes_cache: "weakref.WeakKeyDictionary[Graph, frozenset]" = core.cache(weakref.WeakKeyDictionary())


def _graph_axes(g) -> frozenset:
    inner = g.graph if isinstance(g, ClosedGraph) else g
    hit = _axes_cache.get(inner)
    if hit is None:
        names = set()
        for eqn in inner.eqns:
            f = axis_names_of.get(eqn.prim)
            if f is not None:
                names.update(f(eqn.params))
            for v in eqn.params.values():
                for sub in (v if isinstance(v, (tuple, list)) else (v,)):
                    if isinstance(sub, (Graph, ClosedGraph)):
                        names.update(_graph_axes(sub))
        hit = _axes_cache[inner] = frozenset(names)
    return hit


def uses_axis(params, name) -> bool:
    """Whether a graph among `params` (a call's, loop's or branch's) has a collective over `name`."""
    for v in params.values():
        for sub in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(sub, (Graph, ClosedGraph)) and name in _graph_axes(sub):
                return True
    return False

# ----------------------------------------------------------------------------- elementwise


def _elementwise_rule(prim, full=()):
    """n-ary elementwise: batch axes meet at one position; rank-0 unbatched operands stay scalar.

    Operands of the same logical rank r (or rank 0) share a shape. A batched operand's
    batch axis is moved to the output batch axis; an unbatched operand of rank r must
    be broadcast to the batch (the primitive has no size-1 broadcasting); a batched
    logical scalar (shape (B,)) is broadcast along the other axes. Operands whose
    positions are in `full` carry the output shape (select_n's cases, clamp's operand)
    and are broadcast to the batch even when they are unbatched scalars."""
    def rule(args, dims, **params):
        shapes = [get_aval(x).shape for x in args]
        # the common case: batched operands agree (same axis, same shape) and the others are
        # unbatched scalars (or scalar-like where allowed): bind as it is
        ref = None
        for shp, d, k in zip(shapes, dims, range(len(args))):
            if d is None:
                if shp or k in full:
                    break
            elif ref is None:
                ref = (shp, d)
            elif (shp, d) != ref:
                break
        else:
            return prim.bind(*args, **params), ref[1]
        size = _axis_size(args, dims)
        ranks = [len(shp) - (d is not None) for shp, d in zip(shapes, dims)]
        r = max(ranks)
        out_d, logical = 0, None
        for x, d, rk in zip(args, dims, ranks):
            if rk == r:
                shape = get_aval(x).shape
                if d is not None:
                    out_d, logical = d, shape[:d] + shape[d + 1:]
                    break
                if logical is None:
                    logical = shape
        out_shape = list(logical)
        out_shape.insert(out_d, size)
        new = []
        for k, (x, d, rk) in enumerate(zip(args, dims, ranks)):
            if d is None:
                new.append(x if rk == 0 and k not in full else broadcast_dim(x, size, out_d))
            elif rk == r:
                new.append(moveaxis(x, d, out_d))
            else:  # a batched scalar, shape (B,)
                new.append(P.broadcast_in_dim(x, out_shape, (out_d,)))
        return prim.bind(*new, **params), out_d
    return rule


for _p in (*P.unary_elementwise.values(), *P.binary_elementwise.values()):
    batch_rules[_p] = _elementwise_rule(_p)


batch_rules[P.select_n_p] = _elementwise_rule(P.select_n_p, full=range(1, 1 << 30))  # every case
batch_rules[P.clamp_p] = _elementwise_rule(P.clamp_p, full=(1,))


def _same_dim_rule(prim):
    """Unary primitives whose output keeps the operand's layout."""
    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **params), d
    return rule


for _p in (*P.unary_elementwise.values(), P.convert_element_type_p, P.copy_p):
    batch_rules[_p] = _same_dim_rule(_p)


def _bitcast_rule(args, dims, *, new_dtype):
    (x,), (d,) = args, dims
    a = get_aval(x)
    if np.dtype(new_dtype).itemsize > a.dtype.itemsize and d == a.ndim - 1:
        x, d = moveaxis(x, d, 0), 0  # the last axis is consumed: it must not be the batch
    return P.bitcast_convert_type_p.bind(x, new_dtype=new_dtype), d


batch_rules[P.bitcast_convert_type_p] = _bitcast_rule

# ----------------------------------------------------------------------------- shapes


def _broadcast_in_dim_rule(args, dims, *, shape, broadcast_dimensions, sharding=None):
    (x,), (d,) = args, dims
    size = get_aval(x).shape[d]
    x = moveaxis(x, d, 0)
    return P.broadcast_in_dim_p.bind(
        x, shape=(size,) + tuple(shape), broadcast_dimensions=(0,) + tuple(b + 1 for b in broadcast_dimensions),
        **_opt(sharding=sharding)), 0


batch_rules[P.broadcast_in_dim_p] = _broadcast_in_dim_rule


def _reshape_rule(args, dims, *, new_sizes, dimensions=None, sharding=None):
    (x,), (d,) = args, dims
    size = get_aval(x).shape[d]
    x = moveaxis(x, d, 0)
    return P.reshape_p.bind(x, new_sizes=(size,) + tuple(new_sizes), dimensions=None, **_opt(sharding=sharding)), 0


batch_rules[P.reshape_p] = _reshape_rule


def _transpose_rule(args, dims, *, permutation):
    (x,), (d,) = args, dims
    perm = (d,) + tuple(_phys(p, d) for p in permutation)
    return P.transpose_p.bind(x, permutation=perm), 0


batch_rules[P.transpose_p] = _transpose_rule


def _squeeze_rule(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    phys = tuple(_phys(a, d) for a in dimensions)
    return P.squeeze_p.bind(x, dimensions=phys), d - sum(1 for a in phys if a < d)


batch_rules[P.squeeze_p] = _squeeze_rule


def _rev_rule(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return P.rev_p.bind(x, dimensions=tuple(_phys(a, d) for a in dimensions)), d


batch_rules[P.rev_p] = _rev_rule


def _concatenate_rule(args, dims, *, dimension):
    size = _axis_size(args, dims)
    xs = [bdim_to(x, d, size, 0) for x, d in zip(args, dims)]
    return P.concatenate_p.bind(*xs, dimension=dimension + 1), 0


batch_rules[P.concatenate_p] = _concatenate_rule


def _pad_rule(args, dims, *, padding_config):
    (x, pv), (d, dv) = args, dims
    size = _axis_size(args, dims)
    if dv is None:
        cfg = list(padding_config)
        cfg.insert(d, (0, 0, 0))
        return P.pad_p.bind(x, pv, padding_config=tuple(cfg)), d
    # a batched padding value: pad with a placeholder, then select the padding value
    # where a padded mask says so.
    x = bdim_to(x, d, size, 0)
    logical = get_aval(x).shape[1:]
    zero = P.convert_element_type(0, get_aval(pv).dtype)
    padded = P.pad_p.bind(x, zero, padding_config=((0, 0, 0),) + tuple(padding_config))
    mask = P.pad_p.bind(P.broadcast_in_dim(True, logical, ()), False, padding_config=tuple(padding_config))
    out_shape = get_aval(padded).shape
    mask = P.broadcast_in_dim(mask, out_shape, tuple(range(1, len(out_shape))))
    pv_full = P.broadcast_in_dim(pv, out_shape, (0,))
    return P.select_n(mask, pv_full, padded), 0


batch_rules[P.pad_p] = _pad_rule


def _slice_rule(args, dims, *, start_indices, limit_indices, strides=None):
    (x,), (d,) = args, dims
    size = get_aval(x).shape[d]
    start, limit = list(start_indices), list(limit_indices)
    start.insert(d, 0)
    limit.insert(d, size)
    if strides is not None:
        strides = list(strides)
        strides.insert(d, 1)
        strides = tuple(strides)
    return P.slice_p.bind(x, start_indices=tuple(start), limit_indices=tuple(limit), strides=strides), d


batch_rules[P.slice_p] = _slice_rule

# ----------------------------------------------------------------------------- dynamic slicing


def _stack_indices(idx, idx_dims, size, clamp_hi):
    """Start indices (scalars, some batched as (B,)) as a (B, n) int32 array, clamped to
    [0, clamp_hi[i]] as dynamic_slice/dynamic_update_slice clamp them."""
    cols = []
    for i, di, hi in zip(idx, idx_dims, clamp_hi):
        i = P.convert_element_type(i, dtypes.int32)
        i = P.clamp(np.int32(0), i, np.int32(hi))
        if di is None:
            i = P.broadcast_in_dim(i, (size,), ())
        cols.append(P.reshape(i, (size, 1)))
    return P.concatenate(cols, 1)


def _dynamic_slice_rule(args, dims, *, slice_sizes):
    x, *idx = args
    d, *idx_dims = dims
    size = _axis_size(args, dims)
    if all(di is None for di in idx_dims):
        sizes = list(slice_sizes)
        sizes.insert(d, size)
        idx = list(idx)
        idx.insert(d, _index_scalar(get_aval(idx[0]).dtype) if idx else np.int32(0))
        return P.dynamic_slice_p.bind(x, *idx, slice_sizes=tuple(sizes)), d
    # batched start indices: a gather with one window per batch element
    n = len(slice_sizes)
    logical = get_aval(x).shape if d is None else get_aval(x).shape[:d] + get_aval(x).shape[d + 1:]
    indices = _stack_indices(idx, idx_dims, size, [s - k for s, k in zip(logical, slice_sizes)])
    if d is None:
        dn = P.GatherDimensionNumbers(offset_dims=tuple(range(1, n + 1)), collapsed_slice_dims=(),
                                      start_index_map=tuple(range(n)))
        sizes = tuple(slice_sizes)
    else:
        x = moveaxis(x, d, 0)
        dn = P.GatherDimensionNumbers(offset_dims=tuple(range(1, n + 1)), collapsed_slice_dims=(),
                                      start_index_map=tuple(range(1, n + 1)),
                                      operand_batching_dims=(0,), start_indices_batching_dims=(0,))
        sizes = (1,) + tuple(slice_sizes)
    return P.gather(x, indices, dn, sizes, mode=P.GatherScatterMode.PROMISE_IN_BOUNDS), 0


batch_rules[P.dynamic_slice_p] = _dynamic_slice_rule


def _dynamic_update_slice_rule(args, dims):
    x, upd, *idx = args
    dx, du, *idx_dims = dims
    size = _axis_size(args, dims)
    if all(di is None for di in idx_dims):
        x = bdim_to(x, dx, size, 0)
        upd = bdim_to(upd, du, size, 0)
        zero = _index_scalar(get_aval(idx[0]).dtype) if idx else np.int32(0)
        return P.dynamic_update_slice_p.bind(x, upd, zero, *idx), 0
    # batched start indices: a scatter of one window per batch element
    x = bdim_to(x, dx, size, 0)
    upd = bdim_to(upd, du, size, 0)
    logical, usz = get_aval(x).shape[1:], get_aval(upd).shape[1:]
    n = len(logical)
    indices = _stack_indices(idx, idx_dims, size, [s - k for s, k in zip(logical, usz)])
    dn = P.ScatterDimensionNumbers(update_window_dims=tuple(range(1, n + 1)), inserted_window_dims=(),
                                   scatter_dims_to_operand_dims=tuple(range(1, n + 1)),
                                   operand_batching_dims=(0,), scatter_indices_batching_dims=(0,))
    return P.scatter(x, indices, upd, dn, mode=P.GatherScatterMode.PROMISE_IN_BOUNDS,
                     indices_are_sorted=True, unique_indices=True), 0


batch_rules[P.dynamic_update_slice_p] = _dynamic_update_slice_rule

# ----------------------------------------------------------------------------- gather / scatter


def _plus1(ds):
    return tuple(d + 1 for d in ds)


def _gather_rule(args, dims, *, dimension_numbers, slice_sizes, **params):
    (op, idx), (dop, didx) = args, dims
    dn = dimension_numbers
    size = _axis_size(args, dims)
    if didx is None:
        # the operand's batch axis becomes a full-size window axis, first in the output
        op = moveaxis(op, dop, 0)
        dn2 = P.GatherDimensionNumbers(
            offset_dims=(0,) + _plus1(dn.offset_dims), collapsed_slice_dims=_plus1(dn.collapsed_slice_dims),
            start_index_map=_plus1(dn.start_index_map), operand_batching_dims=_plus1(dn.operand_batching_dims),
            start_indices_batching_dims=dn.start_indices_batching_dims)
        return P.gather_p.bind(op, idx, dimension_numbers=dn2, slice_sizes=(size,) + tuple(slice_sizes),
                               **params), 0
    # batched indices: the new leading index axis is the output's first batch axis
    idx = moveaxis(idx, didx, 0)
    if dop is None:
        dn2 = P.GatherDimensionNumbers(
            offset_dims=_plus1(dn.offset_dims), collapsed_slice_dims=dn.collapsed_slice_dims,
            start_index_map=dn.start_index_map, operand_batching_dims=dn.operand_batching_dims,
            start_indices_batching_dims=_plus1(dn.start_indices_batching_dims))
        return P.gather_p.bind(op, idx, dimension_numbers=dn2, slice_sizes=tuple(slice_sizes), **params), 0
    # both batched: pair them up with a batching dimension
    op = moveaxis(op, dop, 0)
    dn2 = P.GatherDimensionNumbers(
        offset_dims=_plus1(dn.offset_dims), collapsed_slice_dims=_plus1(dn.collapsed_slice_dims),
        start_index_map=_plus1(dn.start_index_map), operand_batching_dims=(0,) + _plus1(dn.operand_batching_dims),
        start_indices_batching_dims=(0,) + _plus1(dn.start_indices_batching_dims))
    return P.gather_p.bind(op, idx, dimension_numbers=dn2, slice_sizes=(1,) + tuple(slice_sizes), **params), 0


batch_rules[P.gather_p] = _gather_rule


def _scatter_rule(prim):
    def rule(args, dims, *, dimension_numbers, **params):
        (op, idx, upd), (dop, didx, dupd) = args, dims
        dn = dimension_numbers
        size = _axis_size(args, dims)
        # the result is batched whenever anything is: operand and updates carry the batch at 0
        op = bdim_to(op, dop, size, 0)
        upd = bdim_to(upd, dupd, size, 0)
        if didx is None:
            # the batch is one more window axis (first in operand and in updates)
            dn2 = P.ScatterDimensionNumbers(
                update_window_dims=(0,) + _plus1(dn.update_window_dims),
                inserted_window_dims=_plus1(dn.inserted_window_dims),
                scatter_dims_to_operand_dims=_plus1(dn.scatter_dims_to_operand_dims),
                operand_batching_dims=_plus1(dn.operand_batching_dims),
                scatter_indices_batching_dims=dn.scatter_indices_batching_dims)
        else:
            idx = moveaxis(idx, didx, 0)
            dn2 = P.ScatterDimensionNumbers(
                update_window_dims=_plus1(dn.update_window_dims),
                inserted_window_dims=_plus1(dn.inserted_window_dims),
                scatter_dims_to_operand_dims=_plus1(dn.scatter_dims_to_operand_dims),
                operand_batching_dims=(0,) + _plus1(dn.operand_batching_dims),
                scatter_indices_batching_dims=(0,) + _plus1(dn.scatter_indices_batching_dims))
        return prim.bind(op, idx, upd, dimension_numbers=dn2, **params), 0
    return rule


for _p in P.scatter_prims:
    batch_rules[_p] = _scatter_rule(_p)

# ----------------------------------------------------------------------------- iota, reductions, scans


def _iota_rule(args, dims, **params):
    return P.iota_p.bind(**params), None  # no operands: never batched


batch_rules[P.iota_p] = _iota_rule


def _reduce_rule(prim):
    def rule(args, dims, *, axes, **params):
        (x,), (d,) = args, dims
        phys = tuple(_phys(a, d) for a in axes)
        return prim.bind(x, axes=phys, **params), d - sum(1 for a in phys if a < d)
    return rule


for _p in (*P.reductions, P.argmax_p, P.argmin_p):
    batch_rules[_p] = _reduce_rule(_p)


def _cumulative_rule(prim):
    def rule(args, dims, *, axis, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, axis=_phys(axis, d), **params), d
    return rule


for _p in P.cumulatives:
    batch_rules[_p] = _cumulative_rule(_p)


def _sort_rule(args, dims, *, dimension, **params):
    size = _axis_size(args, dims)
    xs = [bdim_to(x, d, size, 0) for x, d in zip(args, dims)]
    outs = P.sort_p.bind(*xs, dimension=dimension + 1, **params)
    return outs, [0] * len(outs)


batch_rules[P.sort_p] = _sort_rule

# ----------------------------------------------------------------------------- leading batch dims


def leading_batch_rule(prim):
    """A batch rule for primitives that accept any leading batch dimensions on all their
    operands alike (linear algebra kernels, ...): every operand gets the batch at axis 0
    (unbatched ones are broadcast: the kernel needs equal batch shapes) and every output
    comes out batched at 0. Modules that define such primitives register it with
    `batch_rules[p] = leading_batch_rule(p)`."""
    def rule(args, dims, **params):
        size = axis_size_of(args, dims)
        xs = [bdim_to(x, d, size, 0) for x, d in zip(args, dims)]
        out = prim.bind(*xs, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)
    return rule


# ----------------------------------------------------------------------------- dot_general


def _dot_general_rule(args, dims, *, dimension_numbers, **params):
    """Batch through dot_general's own batch dimensions (no loop, no transposes)."""
    (x, y), (dx, dy) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    if dx is not None and dy is not None:
        dn = ((tuple(_phys(a, dx) for a in lc), tuple(_phys(a, dy) for a in rc)),
              ((dx,) + tuple(_phys(a, dx) for a in lb), (dy,) + tuple(_phys(a, dy) for a in rb)))
        return P.dot_general_p.bind(x, y, dimension_numbers=dn, **params), 0
    if dx is not None:
        lc2, lb2 = tuple(_phys(a, dx) for a in lc), tuple(_phys(a, dx) for a in lb)
        out_d = len(lb) + sum(1 for a in range(dx) if a not in lc2 and a not in lb2)
        dn = ((lc2, rc), (lb2, rb))
    else:
        rc2, rb2 = tuple(_phys(a, dy) for a in rc), tuple(_phys(a, dy) for a in rb)
        x_free = _ndim(x) - len(lc) - len(lb)
        out_d = len(lb) + x_free + sum(1 for a in range(dy) if a not in rc2 and a not in rb2)
        dn = ((lc, rc2), (lb, rb2))
    return P.dot_general_p.bind(x, y, dimension_numbers=dn, **params), out_d


batch_rules[P.dot_general_p] = _dot_general_rule

# ----------------------------------------------------------------------------- jit


# graph -> {(in_dims, axis_size, axis_name): (batched graph, consts, out_dims)}
_jit_cache: "weakref.WeakKeyDictionary[Graph, dict]" = core.cache(weakref.WeakKeyDictionary())


def batch_graph(graph, in_dims, axis_size: int, axis_name=None, force_batched=None):
    """A new graph computing `graph` (a Graph or ClosedGraph) over a batch.

    Inputs are batched at `in_dims` (None = unbatched); batched outputs come out at axis 0
    and unbatched ones stay unbatched, except outputs marked True in `force_batched`
    (one bool per output), which are broadcast to the batch when unbatched (what loop
    carries and the branches of a batched conditional need). Returns
    (graph with consts hoisted to leading invars, consts, out_dims); cached per
    (graph, dims, size, force_batched) while `graph` lives."""
    if axis_name is None:   # called by a rule: the axis_name of the vmap whose rule it is
        axis_name = getattr(_rule_axis, "name", None)
    if isinstance(graph, ClosedGraph):
        g_in, g_consts = graph.graph, graph.consts
    else:
        g_in, g_consts = graph, []
    per = _jit_cache.get(graph)
    if per is None:
        per = _jit_cache[graph] = {}
    force = None if force_batched is None else tuple(bool(f) for f in force_batched)
    key = (tuple(in_dims), axis_size, axis_name, force)
    hit = per.get(key)
    if hit is not None:
        return hit
    in_avals = []
    for a, d in zip(graph.in_avals, in_dims):
        if d is None:
            in_avals.append(a)
        else:
            shape = list(a.shape)
            shape.insert(d, axis_size)
            in_avals.append(a.update(shape=tuple(shape)))
    out_dims_box = []

    def fn(*args):
        outs, dims = batch_flat(lambda *xs: core.eval_graph(g_in, g_consts, xs), args, in_dims,
                                axis_size, axis_name)
        if force is not None:
            outs = [bdim_to(o, d, axis_size, 0) if f else o for o, d, f in zip(outs, dims, force)]
            dims = [0 if f else d for d, f in zip(dims, force)]
        outs = [o if d is None else moveaxis(o, d, 0) for o, d in zip(outs, dims)]
        out_dims_box.append(tuple(None if d is None else 0 for d in dims))
        return outs

    closed = core.trace_to_graph(fn, in_avals, parent=core.eval_trace)
    g = closed.graph
    new = Graph([], g.constvars + g.invars, g.eqns, g.outvars)
    hit = (new, tuple(closed.consts), out_dims_box[0])
    if not any(isinstance(c, Tracer) for c in (*g_consts, *closed.consts)):
        per[key] = hit  # never cache a graph that captured a value of a live trace
    return hit


def _jit_rule(args, dims, *, graph, name, **params):
    size = _axis_size(args, dims)
    new, consts, out_dims = batch_graph(graph, dims, size)
    outs = P.jit_p.bind(*consts, *args, graph=new, name=name, **params)
    return outs, list(out_dims)


batch_rules[P.jit_p] = _jit_rule
