"""The sharding-constraint primitive (core layer): `lax.with_sharding_constraint` inside a trace.

`sharding_constraint_p(x, sharding=NamedSharding)` is the identity on values; it tells
XLA's SPMD partitioner to lay `x` out as `sharding` at that point. Its lowering
(lowering/rules_sharding.py) is `stablehlo.custom_call @Sharding` with an `mhlo.sharding`
attribute when the program is lowered for several devices (xlafront/_sharded_jit.py), and
the value itself in a one-device program. It is linear (the tangent and the cotangent
get the same constraint) and batching puts the batch axis unsplit into the spec
(transforms/rules_sharding.py). The `sharding` param is only called through its own
methods (`_to_mhlo`, `spec`, `with_spec`): this layer imports nothing above it.
"""
from __future__ import annotations

from xlafront.core import ShapedArray, primitive, shape_rules, user_site


class _Unconstrained:
    def __repr__(self):
        return "UNCONSTRAINED"


# PartitionSpec.UNCONSTRAINED (xlafront/_sharding.py): here, below the layers that read it
UNCONSTRAINED = _Unconstrained()

sharding_constraint_p = primitive("sharding_constraint")


def _sharding_constraint_rule(x, *, sharding):
    if len(sharding.spec) > len(x.shape):
        raise ValueError(f"with_sharding_constraint: the spec {sharding.spec!r} has {len(sharding.spec)} "
                         f"entries for a value of rank {len(x.shape)}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


shape_rules[sharding_constraint_p] = _sharding_constraint_rule


# ----------------------------------------------------------------------------- shard_map and collectives
# `shard_map_p(*consts, *args, body, mesh, in_specs, out_specs, out_avals)`: `body` (a Graph
# whose leading invars are the consts) runs on every device of `mesh` on its block of each
# operand (`in_specs`: one PartitionSpec per operand); its results are blocks of the global
# outputs laid out by `out_specs`. The collectives below name mesh axes that a shard_map
# body binds (`axis_env`, pushed while the body is traced).
import threading as _threading  # noqa: E402

shard_map_p = primitive("shard_map", multiple_results=True)
psum_p = primitive("psum")
axis_index_p = primitive("axis_index")

_env = _threading.local()


class axis_env:
    """`with axis_env({name: size, ...}):` binds mesh axis names for the collectives."""

    def __init__(self, sizes):
        self.sizes = dict(sizes)

    def __enter__(self):
        st = getattr(_env, "stack", None)
        if st is None:
            st = _env.stack = []
        st.append(self.sizes)
        return self

    def __exit__(self, *exc):
        _env.stack.pop()
        return False


def bound_axes() -> dict:
    st = getattr(_env, "stack", None)
    out: dict = {}
    for d in st or ():
        out.update(d)
    return out


def check_axes(names, where):
    bound = bound_axes()
    for n in names:
        if n not in bound:
            raise NameError(f"unbound axis name: {n}. The following axis names (e.g. defined by "
                            f"shard_map) are available to collective operations: {list(bound)} "
                            f"(in {where}, at {user_site()})")
    return bound


def _shard_map_rule(*avals, body, mesh, in_specs, out_specs, out_avals, in_mhlo, out_mhlo):
    return tuple(out_avals)


def _psum_rule(x, *, axes):
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _axis_index_rule(*, axis_name):
    import numpy as _np
    return ShapedArray((), _np.dtype("int32"))


shape_rules[shard_map_p] = _shard_map_rule
shape_rules[psum_p] = _psum_rule
shape_rules[axis_index_p] = _axis_index_rule

# More collectives. Every one carries what its shape needs in its params (the axes, and the
# product of their sizes `axis_size` where the shape depends on it), so that a transform can
# re-trace a body graph without the axis environment; `perm` is a tuple of (source, target)
# pairs of positions along `axes` (row-major over the tuple of axes).
pmax_p = primitive("pmax")
pmin_p = primitive("pmin")
all_gather_p = primitive("all_gather")
psum_scatter_p = primitive("psum_scatter")
ppermute_p = primitive("ppermute")
all_to_all_p = primitive("all_to_all")   # the tiled form; the untiled one reshapes around it


def _same_rule(x, **params):
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _all_gather_rule(x, *, axes, axis_size, axis, tiled):
    shape = list(x.shape)
    if tiled:
        shape[axis] *= axis_size
    else:
        shape.insert(axis, axis_size)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _psum_scatter_rule(x, *, axes, axis_size, scatter_dimension, tiled):
    shape = list(x.shape)
    d = shape[scatter_dimension]
    if tiled:
        if d % axis_size:
            raise ValueError(f"tiled reduce_scatter operand scatter dimension size {d} must be divisible "
                             f"by shard_count {axis_size}")
        shape[scatter_dimension] = d // axis_size
    else:
        if d != axis_size:
            raise ValueError(f"reduce_scatter operand scatter dimension size {d} must match shard count "
                             f"{axis_size}")
        del shape[scatter_dimension]
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _all_to_all_rule(x, *, axes, axis_size, split_axis, concat_axis):
    shape = list(x.shape)
    if shape[split_axis] % axis_size:
        raise ValueError(f"The size of all_to_all split_axis ({shape[split_axis]}) has to be divisible by "
                         f"the size of the named axis {axes[0] if len(axes) == 1 else axes} ({axis_size})")
    shape[split_axis] //= axis_size
    shape[concat_axis] *= axis_size
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


shape_rules[pmax_p] = _same_rule
shape_rules[pmin_p] = _same_rule
shape_rules[ppermute_p] = _same_rule
shape_rules[all_gather_p] = _all_gather_rule
shape_rules[psum_scatter_p] = _psum_scatter_rule
shape_rules[all_to_all_p] = _all_to_all_rule

# the collectives, with the param naming their axes (transforms and lowering read it)
collective_axes = {psum_p: "axes", pmax_p: "axes", pmin_p: "axes", all_gather_p: "axes",
                   psum_scatter_p: "axes", ppermute_p: "axes", all_to_all_p: "axes",
                   axis_index_p: "axis_name"}


def axes_of(prim, params):
    a = params[collective_axes[prim]]
    return (a,) if isinstance(a, str) else tuple(a)


# ---- shard_map params from (body, mesh, specs): the mhlo text of a spec comes from the
# sharding layer above, which registers `spec_to_mhlo(mesh, spec, ndim)` at import.
spec_to_mhlo = None
partition_spec = None   # the PartitionSpec class, registered likewise


def spec_axes(entry):
    return () if entry is None else ((entry,) if isinstance(entry, str) else tuple(entry))


def global_shape(mesh, spec, shape):
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    entries = list(spec) + [None] * (len(shape) - len(spec))
    out = []
    for d, e in zip(shape, entries):
        n = 1
        for a in spec_axes(e):
            n *= sizes[a]
        out.append(d * n)
    return tuple(out)


def unmentioned(mesh, spec):
    """The mesh axes `spec` does not split along (the value is replicated over them)."""
    used = {a for e in spec for a in spec_axes(e)}
    return tuple(a for a in mesh.axis_names if a not in used)


def shard_map_params(body, mesh, in_specs, out_specs):
    """The params of a shard_map_p equation running `body` (a Graph on per-device blocks)."""
    in_specs, out_specs = tuple(in_specs), tuple(out_specs)
    out_avals = tuple(a.update(shape=global_shape(mesh, s, a.shape)) for a, s in zip(body.out_avals, out_specs))
    in_avals = [a.update(shape=global_shape(mesh, s, a.shape)) for a, s in zip(body.in_avals, in_specs)]
    in_mhlo = tuple(spec_to_mhlo(mesh, s, len(a.shape)) for s, a in zip(in_specs, in_avals))
    out_mhlo = tuple(spec_to_mhlo(mesh, s, len(a.shape)) for s, a in zip(out_specs, out_avals))
    return dict(body=body, mesh=mesh, in_specs=in_specs, out_specs=out_specs, out_avals=out_avals,
                in_mhlo=in_mhlo, out_mhlo=out_mhlo)
