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
