"""Lowering of sharding_constraint: `stablehlo.custom_call @Sharding` carrying the layout's
`mhlo.sharding` text when the module is lowered for several devices, else the value; of
shard_map_p (manual-sharding custom calls around a call of the body) and of the collectives
(all_reduce, all_gather, reduce_scatter, collective_permute, all_to_all over the mesh's
replica groups; axis_index from partition_id)."""
from __future__ import annotations

import threading

from xlafront import primitives_sharding as PS
from xlafront.core import register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.registry import lowering_rules

register_internal_path(__file__)

# set by xlafront/_sharded_jit.py while it lowers a program for several devices
spmd = threading.local()


# ----------------------------------------------------------------------------- Shardy (sdy)
# With `jax_use_shardy_partitioner` (xlafront/_sharded_jit.py sets `spmd.sdy` to a
# SdyMeshes while it lowers), shardings are written in the sdy dialect, as JAX writes them:
# `sdy.mesh @mesh = <["x"=4, "y"=2]>` at the module's top, `#sdy.sharding<@mesh, [{"x"},
# {}]>` on @main's arguments and results, `sdy.sharding_constraint` for constraints and
# `sdy.manual_computation` for a shard_map; XLA then partitions with Shardy.


class SdyMeshes:
    """The meshes one module names: the program's own mesh is `@mesh` (its devices are the
    program's, in order); another mesh over the same devices in the same order (other axis
    names or sizes) gets `@mesh_1`, ..."""

    def __init__(self, mesh):
        self.primary = mesh
        self.names = {}
        self.decls = []
        self.name_of(mesh)

    def name_of(self, mesh):
        key = (tuple(mesh.axis_names), tuple(mesh.axis_sizes))
        got = self.names.get(key)
        if got is not None:
            return got
        name = "mesh" if not self.names else f"mesh_{len(self.names)}"
        axes = ", ".join(f'"{a}"={n}' for a, n in zip(mesh.axis_names, mesh.axis_sizes))
        ids = ""   # (a mesh listing the devices in another order is refused: check_devices)
        hlo = ", ".join(f'{{name = "{a}", size = {n} : i64}}' for a, n in zip(mesh.axis_names, mesh.axis_sizes))
        self.decls.append(f"  sdy.mesh @{name} = <[{axes}]{ids}> {{stablehlo.mesh = {{axes = [{hlo}]}}}}")
        self.names[key] = name
        return name


def sdy_on():
    return getattr(spmd, "sdy", None) is not None


def sdy_dims(spec, ndim):
    """`[{"x"}, {}, {"y", "z"}]`: one entry per dimension (`{?}`: unconstrained)."""
    entries = list(spec) + [None] * (ndim - len(spec))
    out = []
    for e in entries:
        if e is PS.UNCONSTRAINED:
            out.append("{?}")
        elif e is None:
            out.append("{}")
        else:
            axes = (e,) if isinstance(e, str) else tuple(e)
            out.append("{" + ", ".join(f'"{a}"' for a in axes) + "}")
    return "[" + ", ".join(out) + "]"


def sdy_sharding(mesh, spec, ndim):
    """`<@mesh, [{"x"}, {}]>` of `spec` over `mesh` for a value of rank `ndim` (the meshes
    of the module being lowered)."""
    return f"<@{spmd.sdy.name_of(mesh)}, {sdy_dims(spec, ndim)}>"


def _sdy_constraint(ctx, x, aval, sharding):
    return ctx.emit(f"sdy.sharding_constraint {x} {sdy_sharding(sharding.mesh, sharding.spec, len(aval.shape))}"
                    f" : {tensor_type(aval)}")


def check_devices(ctx, mesh, what):
    """A mesh used inside the program lists the program's devices in the same order (as
    JAX requires: a ValueError naming the call site otherwise)."""
    prog = getattr(spmd, "mesh", None)
    devs = getattr(mesh, "_flat_devices", None)
    if prog is None or devs is None or mesh is prog or devs == prog._flat_devices:
        return
    src = ctx.loc
    at = f" (at {src.file}:{src.line})" if src is not None else ""
    raise ValueError(f"Received incompatible devices for jitted computation: it runs on device ids "
                     f"{[d.id for d in prog._flat_devices]} and {what} inside it has device ids "
                     f"{[d.id for d in devs]}{at}")


def _sharding_constraint(ctx, x, *, sharding):
    if not getattr(spmd, "on", False):
        return x
    check_devices(ctx, sharding.mesh, "sharding_constraint")
    return constraint(ctx, x, ctx.aval_out, sharding)


lowering_rules[PS.sharding_constraint_p] = _sharding_constraint


# ----------------------------------------------------------------------------- shard_map, collectives
import itertools  # noqa: E402

import numpy as np  # noqa: E402

from xlafront.lowering.emitter import LoweringContext  # noqa: E402

_channels = itertools.count(1)
_meshes = threading.local()   # the mesh of the shard_map body being lowered (a stack)


def _mesh():
    st = getattr(_meshes, "stack", None)
    if not st:
        raise NotImplementedError(
            "a collective reached lowering outside any shard_map body: its axis is a vmap's "
            "axis_name that a transformation did not see (e.g. a jit without arguments inside "
            "vmap(axis_name=...)), which xlafront does not handle yet")
    return st[-1]


def _shard_map(ctx, *args, body, mesh, in_specs, out_specs, out_avals, in_mhlo, out_mhlo):
    if not getattr(spmd, "on", False):
        raise NotImplementedError(
            "lowering a shard_map into a one-device program (e.g. `jit(f).lower(...)` over arguments "
            "on one device): give the jit in_shardings over the shard_map's mesh or sharded arguments "
            "(calling the jit works as it is)")
    check_devices(ctx, mesh, "shard_map")
    local_in = [v.aval for v in body.invars]
    local_out = [v.aval for v in body.outvars]
    if sdy_on():
        return _sdy_manual(ctx, args, body, mesh, in_specs, out_specs, out_avals, local_in, local_out)
    manual = "{manual}"
    blocks = []
    for x, g, l, full in zip(args, ctx.avals_in, local_in, in_mhlo):
        a = ctx.emit(f'stablehlo.custom_call @Sharding({x}) {{mhlo.sharding = "{full}"}} : '
                     f'({tensor_type(g)}) -> {tensor_type(g)}')
        blocks.append(ctx.emit(f'stablehlo.custom_call @SPMDFullToShardShape({a}) {{mhlo.sharding = '
                               f'"{manual}"}} : ({tensor_type(g)}) -> {tensor_type(l)}'))
    st = getattr(_meshes, "stack", None)
    if st is None:
        st = _meshes.stack = []
    st.append(mesh)
    try:
        sub = LoweringContext(ctx.fn, local_in, local_out, ctx.loc)
        outs = ctx.fn.module.call_graph(sub, body, "shmap_body", blocks)
    finally:
        st.pop()
    results = []
    for y, l, g, full in zip(outs, local_out, out_avals, out_mhlo):
        b = ctx.emit(f'stablehlo.custom_call @Sharding({y}) {{mhlo.sharding = "{manual}"}} : '
                     f'({tensor_type(l)}) -> {tensor_type(l)}')
        results.append(ctx.emit(f'stablehlo.custom_call @SPMDShardToFullShape({b}) {{mhlo.sharding = '
                                f'"{full}"}} : ({tensor_type(l)}) -> {tensor_type(g)}'))
    return results


def _sdy_manual(ctx, args, body, mesh, in_specs, out_specs, out_avals, local_in, local_out):
    """A shard_map as `sdy.manual_computation` over all of the mesh's axes: its region's
    arguments are the per-device blocks, and it calls the body."""
    st = getattr(_meshes, "stack", None)
    if st is None:
        st = _meshes.stack = []
    st.append(mesh)
    try:
        def inner(names):
            sub = LoweringContext(ctx.fn, local_in, local_out, ctx.loc)
            return ctx.fn.module.call_graph(sub, body, "shmap_body", names)
        region = ctx.region(local_in, inner, local_out)
    finally:
        st.pop()
    ins = ", ".join(sdy_sharding(mesh, s, len(a.shape)) for s, a in zip(in_specs, ctx.avals_in))
    outs = ", ".join(sdy_sharding(mesh, s, len(a.shape)) for s, a in zip(out_specs, out_avals))
    manual = ", ".join(f'"{a}"' for a in mesh.axis_names)
    lines = region.split("\n")
    if local_in:   # "^bb0(%r1: t, ...):" -> the op's own "(%r1: t, ...) {"
        block = lines.pop(1).strip()
        block = block[len("^bb0"):-1]
    else:
        block = "()"
    # the region's terminator is sdy's
    for i in range(len(lines) - 1, -1, -1):
        if "stablehlo.return" in lines[i]:
            lines[i] = lines[i].replace("stablehlo.return", "sdy.return", 1)
            break
    body_text = "\n".join(lines[1:])
    in_t = ", ".join(tensor_type(a) for a in ctx.avals_in)
    out_t = ", ".join(tensor_type(a) for a in out_avals)
    if len(out_avals) != 1:
        out_t = f"({out_t})"
    n = len(out_avals)
    res = ctx.emit(f"sdy.manual_computation({', '.join(args)}) in_shardings=[{ins}] out_shardings=[{outs}] "
                   f"manual_axes={{{manual}}} {block} {{\n{body_text} : ({in_t}) -> {out_t}", n=n)
    return [res] if n == 1 else list(res)


def _groups(mesh, axes):
    """Device ids (positions in the mesh, row-major) grouped by the other axes: one row per
    group, ordered row-major over `axes` as given."""
    sizes = mesh.axis_sizes
    pos = np.arange(int(np.prod(sizes))).reshape(sizes)
    red = [mesh.axis_names.index(a) for a in axes]
    keep = [i for i in range(len(sizes)) if i not in red]
    n = int(np.prod([sizes[i] for i in red])) if red else 1
    return pos.transpose(keep + red).reshape(-1, n)


def _dense(rows):
    rows = np.asarray(rows, np.int64)
    text = "[" + ", ".join("[" + ", ".join(map(str, r)) + "]" for r in rows.tolist()) + "]"
    return f"dense<{text}> : tensor<{rows.shape[0]}x{rows.shape[1]}xi64>"


def _channel():
    return f"channel_handle = #stablehlo.channel_handle<handle = {next(_channels)}, type = 1>"


def _reducer(ctx, dtype, kind):
    s = ctx.avals_in[0].update(shape=(), dtype=dtype, weak_type=False)
    ts = tensor_type(s)
    if dtype == np.dtype(bool):
        op = {"add": "or", "max": "or", "min": "and"}[kind]
    else:
        op = {"add": "add", "max": "maximum", "min": "minimum"}[kind]

    def body(args):
        return [ctx.emit(f"stablehlo.{op} {args[0]}, {args[1]} : {ts}")]
    return ctx.region([s, s], body, [s])


def _all_reduce(kind):
    def rule(ctx, x, *, axes):
        g = _groups(_mesh(), axes)
        a = ctx.avals_in[0]
        region = _reducer(ctx, a.dtype, kind)
        return ctx.emit(
            f'"stablehlo.all_reduce"({x}) <{{{_channel()}, replica_groups = {_dense(g)}, '
            f'use_global_device_ids}}> ({region}) : ({tensor_type(a)}) -> {tensor_type(a)}')
    return rule


def _all_gather(ctx, x, *, axes, axis_size, axis, tiled):
    g = _groups(_mesh(), axes)
    a, out = ctx.avals_in[0], ctx.avals_out[0]
    if not tiled:   # a size-1 axis at `axis`, gathered along
        shape = list(a.shape)
        shape.insert(axis, 1)
        b = a.update(shape=tuple(shape))
        dims = ", ".join(str(i) for i in range(len(shape)) if i != axis)
        x = ctx.emit(f"stablehlo.broadcast_in_dim {x}, dims = [{dims}] : ({tensor_type(a)}) -> {tensor_type(b)}")
        a = b
    return ctx.emit(
        f'"stablehlo.all_gather"({x}) <{{all_gather_dim = {axis} : i64, {_channel()}, replica_groups = '
        f'{_dense(g)}, use_global_device_ids}}> : ({tensor_type(a)}) -> {tensor_type(out)}')


def _psum_scatter(ctx, x, *, axes, axis_size, scatter_dimension, tiled):
    g = _groups(_mesh(), axes)
    a, out = ctx.avals_in[0], ctx.avals_out[0]
    shape = list(a.shape)
    shape[scatter_dimension] //= axis_size
    blk = a.update(shape=tuple(shape))
    region = _reducer(ctx, a.dtype, "add")
    y = ctx.emit(
        f'"stablehlo.reduce_scatter"({x}) <{{{_channel()}, replica_groups = {_dense(g)}, scatter_dimension = '
        f'{scatter_dimension} : i64, use_global_device_ids}}> ({region}) : ({tensor_type(a)}) -> {tensor_type(blk)}')
    if not tiled:
        y = ctx.emit(f"stablehlo.reshape {y} : ({tensor_type(blk)}) -> {tensor_type(out)}")
    return y


def _ppermute(ctx, x, *, axes, perm):
    g = _groups(_mesh(), axes)
    pairs = [[row[s], row[t]] for row in g.tolist() for s, t in perm]
    a = ctx.avals_in[0]
    if not pairs:   # nothing is sent: zeros everywhere
        return ctx.const(0, a.dtype, a.shape)
    return ctx.emit(
        f'"stablehlo.collective_permute"({x}) <{{{_channel()}, source_target_pairs = {_dense(pairs)}}}> : '
        f'({tensor_type(a)}) -> {tensor_type(a)}')


def _all_to_all(ctx, x, *, axes, axis_size, split_axis, concat_axis):
    g = _groups(_mesh(), axes)
    a, out = ctx.avals_in[0], ctx.avals_out[0]
    return ctx.emit(
        f'"stablehlo.all_to_all"({x}) <{{{_channel()}, concat_dimension = {concat_axis} : i64, replica_groups = '
        f'{_dense(g)}, split_count = {axis_size} : i64, split_dimension = {split_axis} : i64}}> : '
        f'({tensor_type(a)}) -> {tensor_type(out)}')


def _axis_index(ctx, *, axis_name):
    mesh = _mesh()
    i = mesh.axis_names.index(axis_name)
    stride = int(np.prod(mesh.axis_sizes[i + 1:]))
    size = mesh.axis_sizes[i]
    pid = ctx.emit("stablehlo.partition_id : tensor<ui32>")
    p = ctx.emit(f"stablehlo.convert {pid} : (tensor<ui32>) -> tensor<i32>")
    st = ctx.const(stride, np.dtype("int32"))
    sz = ctx.const(size, np.dtype("int32"))
    q = ctx.emit(f"stablehlo.divide {p}, {st} : tensor<i32>")
    return ctx.emit(f"stablehlo.remainder {q}, {sz} : tensor<i32>")


lowering_rules[PS.shard_map_p] = _shard_map
lowering_rules[PS.psum_p] = _all_reduce("add")
lowering_rules[PS.pmax_p] = _all_reduce("max")
lowering_rules[PS.pmin_p] = _all_reduce("min")
lowering_rules[PS.all_gather_p] = _all_gather
lowering_rules[PS.psum_scatter_p] = _psum_scatter
lowering_rules[PS.ppermute_p] = _ppermute
lowering_rules[PS.all_to_all_p] = _all_to_all
lowering_rules[PS.axis_index_p] = _axis_index


def constraint(ctx, x, aval, sharding):
    """`x` constrained to `sharding` (a custom_call @Sharding, or sdy.sharding_constraint)."""
    if sdy_on():
        return _sdy_constraint(ctx, x, aval, sharding)
    t = tensor_type(aval)
    mhlo = sharding._to_mhlo(len(aval.shape))
    return ctx.emit(f'stablehlo.custom_call @Sharding({x}) {{mhlo.sharding = "{mhlo}"}} : ({t}) -> {t}')


# ----------------------------------------------------------------------------- sharding in types
# While a program is lowered for several devices, every result whose type has a sharding
# (xlafront/_explicit_sharding.py) is constrained to it, as JAX annotates each result of an
# Explicit-mode program, so the SPMD partitioner lays values out as their types say and the
# outputs come back with their types' shardings. (reshard's rule, and its place among the
# results that carry their own constraint, are registered by xlafront/_explicit_rules.py.)
from xlafront.lowering import emitter as _emitter  # noqa: E402

untyped_results = {PS.sharding_constraint_p, PS.shard_map_p}


def _typed_results(ctx, eqn, outs):
    if eqn.prim in untyped_results:
        return outs
    res = None
    for k, v in enumerate(eqn.outvars):
        s = getattr(v.aval, "sharding", None)
        if s is not None:
            if res is None:
                res = list(outs)
            res[k] = constraint(ctx, outs[k], v.aval, s)
    return outs if res is None else res


def typed_results_on():
    _emitter.result_shardings.fn = _typed_results


def typed_results_off():
    _emitter.result_shardings.fn = None
