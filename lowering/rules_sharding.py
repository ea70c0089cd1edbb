"""Lowering of sharding_constraint: `stablehlo.custom_call @Sharding` carrying the layout's
`mhlo.sharding` text when the module is lowered for several devices, else the value."""
from __future__ import annotations

import threading

from xlafront import primitives_sharding as PS
from xlafront.core import register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.registry import lowering_rules

register_internal_path(__file__)

# set by xlafront/_sharded_jit.py while it lowers a program for several devices
spmd = threading.local()


def _sharding_constraint(ctx, x, *, sharding):
    if not getattr(spmd, "on", False):
        return x
    t = tensor_type(ctx.aval_out)
    mhlo = sharding._to_mhlo(len(ctx.aval_out.shape))
    return ctx.emit(f'stablehlo.custom_call @Sharding({x}) {{mhlo.sharding = "{mhlo}"}} : ({t}) -> {t}')


lowering_rules[PS.sharding_constraint_p] = _sharding_constraint
