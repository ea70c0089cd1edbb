"""StableHLO lowering of gather and the scatter family.

The index vector is always the last axis of `indices` (index_vector_dim = rank - 1).
Out-of-bound modes, as JAX lowers them:
- gather "promise_in_bounds": the plain op (XLA clamps start indices itself);
- gather "clip": indices clamped explicitly to [0, dim - slice_size];
- gather "fill": the plain op, then a select with `fill_value` (default NaN for inexact,
  min/max of signed/unsigned ints, True for bool) where any index was out of bounds;
- scatter "fill"/"promise_in_bounds": the plain op (XLA skips out-of-bound windows);
- scatter "clip": indices clamped explicitly.
"""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.core import register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules, _compare_type

register_internal_path(__file__)


def _t(aval):
    return tensor_type(aval)


def _dims(ds):
    return ", ".join(str(int(d)) for d in ds)


def _dn_text(kind, fields, index_vector_dim):
    parts = [f"{name} = [{_dims(v)}]" for name, v in fields if len(v)]
    parts.append(f"index_vector_dim = {index_vector_dim}")
    return f"#stablehlo.{kind}<{', '.join(parts)}>"


def _bool(b):
    return "true" if b else "false"


def _clamp_indices(ctx, indices, ia, upper):
    """clamp(0, indices, upper) with `upper` one bound per index-vector component."""
    k = ia.shape[-1]
    vec = ia.update(shape=(k,), weak_type=False)
    hi = ctx.const(np.asarray(upper, ia.dtype), ia.dtype)
    hi = ctx.emit(f"stablehlo.broadcast_in_dim {hi}, dims = [{ia.ndim - 1}] : ({_t(vec)}) -> {_t(ia)}")
    lo = ctx.const(0, ia.dtype, ia.shape)
    return ctx.emit(f"stablehlo.clamp {lo}, {indices}, {hi} : {_t(ia)}")


def _in_bounds_mask(ctx, indices, ia, upper):
    """bool[batch]: every component of the index vector lies in [0, upper]."""
    ba = ia.update(dtype=dtypes.bool_, weak_type=False)
    ct = _compare_type(ia.dtype)
    k = ia.shape[-1]
    vec = ia.update(shape=(k,), weak_type=False)
    hi = ctx.const(np.asarray(upper, ia.dtype), ia.dtype)
    hi = ctx.emit(f"stablehlo.broadcast_in_dim {hi}, dims = [{ia.ndim - 1}] : ({_t(vec)}) -> {_t(ia)}")
    lo = ctx.const(0, ia.dtype, ia.shape)
    ge = ctx.emit(f"stablehlo.compare GE, {indices}, {lo}, {ct} : ({_t(ia)}, {_t(ia)}) -> {_t(ba)}")
    le = ctx.emit(f"stablehlo.compare LE, {indices}, {hi}, {ct} : ({_t(ia)}, {_t(ia)}) -> {_t(ba)}")
    ok = ctx.emit(f"stablehlo.and {ge}, {le} : {_t(ba)}")
    true = ctx.const(True, dtypes.bool_)
    out = ba.update(shape=ia.shape[:-1])
    return ctx.emit(f"stablehlo.reduce({ok} init: {true}) applies stablehlo.and across dimensions = "
                    f"[{ia.ndim - 1}] : ({_t(ba)}, {_t(ba.update(shape=()))}) -> {_t(out)}"), out


def default_fill_value(dt):
    if dt == dtypes.bool_:
        return True
    if dtypes.is_unsigned(dt):
        return np.iinfo(dt).max
    if dtypes.is_int(dt):
        return np.iinfo(dt).min
    if dtypes.is_complex(dt):
        return complex(np.nan, np.nan)
    return np.nan


def _gather(ctx, operand, indices, *, dimension_numbers, slice_sizes, mode="fill", fill_value=None,
            indices_are_sorted=False, unique_indices=False):
    dn = dimension_numbers
    oa, ia = ctx.avals_in
    out = ctx.aval_out
    upper = [oa.shape[d] - slice_sizes[d] for d in dn.start_index_map]
    if mode == "clip":
        indices = _clamp_indices(ctx, indices, ia, upper)
    attr = _dn_text("gather", [("offset_dims", dn.offset_dims), ("collapsed_slice_dims", dn.collapsed_slice_dims),
                               ("operand_batching_dims", dn.operand_batching_dims),
                               ("start_indices_batching_dims", dn.start_indices_batching_dims),
                               ("start_index_map", dn.start_index_map)], ia.ndim - 1)
    res = ctx.emit(f'"stablehlo.gather"({operand}, {indices}) <{{dimension_numbers = {attr}, '
                   f'indices_are_sorted = {_bool(indices_are_sorted)}, slice_sizes = array<i64'
                   f'{": " if slice_sizes else ""}{_dims(slice_sizes)}>}}> : ({_t(oa)}, {_t(ia)}) -> {_t(out)}')
    if mode != "fill" or not ia.shape[-1]:
        return res
    mask, ma = _in_bounds_mask(ctx, indices, ia, upper)
    batch_pos = [d for d in range(out.ndim) if d not in dn.offset_dims]
    oba = out.update(dtype=dtypes.bool_, weak_type=False)
    mask = ctx.emit(f"stablehlo.broadcast_in_dim {mask}, dims = [{_dims(batch_pos)}] : ({_t(ma)}) -> {_t(oba)}")
    fv = default_fill_value(out.dtype) if fill_value is None else fill_value
    fill = ctx.const(fv, out.dtype, out.shape)
    return ctx.emit(f"stablehlo.select {mask}, {res}, {fill} : {_t(oba)}, {_t(out)}")


lowering_rules[P.gather_p] = _gather

_COMBINE = {P.scatter_p: None, P.scatter_add_p: "add", P.scatter_mul_p: "multiply",
            P.scatter_min_p: "minimum", P.scatter_max_p: "maximum"}


def _window_sizes(oa, ua, dn):
    """Size of the update window along each operand dimension."""
    sizes = [1] * oa.ndim
    window = [d for d in range(oa.ndim) if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    for d, u in zip(window, dn.update_window_dims):
        sizes[d] = ua.shape[u]
    return sizes


def _scatter_rule(prim):
    op = _COMBINE[prim]

    def rule(ctx, operand, indices, updates, *, dimension_numbers, mode="fill", indices_are_sorted=False,
             unique_indices=False, **_):
        dn = dimension_numbers
        oa, ia, ua = ctx.avals_in
        out = ctx.aval_out
        if mode == "clip":
            ws = _window_sizes(oa, ua, dn)
            indices = _clamp_indices(ctx, indices, ia, [oa.shape[d] - ws[d] for d in dn.scatter_dims_to_operand_dims])
        attr = _dn_text("scatter", [("update_window_dims", dn.update_window_dims),
                                    ("inserted_window_dims", dn.inserted_window_dims),
                                    ("input_batching_dims", dn.operand_batching_dims),
                                    ("scatter_indices_batching_dims", dn.scatter_indices_batching_dims),
                                    ("scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims)], ia.ndim - 1)
        sa = oa.update(shape=(), weak_type=False)

        def body(args):
            old, new = args
            if op is None:
                return [new]
            return [ctx.emit(f"stablehlo.{op} {old}, {new} : {_t(sa)}")]

        region = ctx.region([sa, sa], body, [sa])
        return ctx.emit(f'"stablehlo.scatter"({operand}, {indices}, {updates}) <{{indices_are_sorted = '
                        f'{_bool(indices_are_sorted)}, scatter_dimension_numbers = {attr}, unique_indices = '
                        f'{_bool(unique_indices)}}}> ({region}) : ({_t(oa)}, {_t(ia)}, {_t(ua)}) -> {_t(out)}')
    return rule


for _p in _COMBINE:
    lowering_rules[_p] = _scatter_rule(_p)
