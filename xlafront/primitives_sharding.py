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

from xlafront.core import ShapedArray, primitive, shape_rules

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
                            f"(in {where})")
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
