"""StableHLO lowering of the misc primitives: count_leading_zeros, reduce_precision,
optimization_barrier."""
from __future__ import annotations

from xlafront import primitives_misc as M
from xlafront.core import register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules, _unary_rule

register_internal_path(__file__)


def _reduce_precision(ctx, x, *, exponent_bits, mantissa_bits):
    return ctx.emit(f"stablehlo.reduce_precision {x}, format = e{exponent_bits}m{mantissa_bits} : "
                    f"{tensor_type(ctx.aval_out)}")


def _optimization_barrier(ctx, *xs):
    types = ", ".join(tensor_type(a) for a in ctx.avals_in)
    out = ctx.emit(f"stablehlo.optimization_barrier {', '.join(xs)} : {types}", n=len(xs))
    return [out] if len(xs) == 1 else out


lowering_rules[M.clz_p] = _unary_rule("count_leading_zeros")
lowering_rules[M.reduce_precision_p] = _reduce_precision
lowering_rules[M.optimization_barrier_p] = _optimization_barrier
