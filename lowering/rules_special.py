"""StableHLO lowering of the special-function primitives (chlo ops, as JAX emits)."""
from __future__ import annotations

from xlafront import primitives_special as S
from xlafront.core import register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules, _bcast_operands, _chlo_rule

register_internal_path(__file__)


def _chlo_binary(opname):
    def rule(ctx, x, y):
        x, y = _bcast_operands(ctx, (x, y))
        t = tensor_type(ctx.aval_out)
        return ctx.emit(f"chlo.{opname} {x}, {y} : {t}, {t} -> {t}")
    return rule


lowering_rules[S.erfc_p] = _chlo_rule("erfc")
lowering_rules[S.polygamma_p] = _chlo_binary("polygamma")
lowering_rules[S.zeta_p] = _chlo_binary("zeta")
