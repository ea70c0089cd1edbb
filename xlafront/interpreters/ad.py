"""jax.interpreters.ad: forward- and reverse-mode rules of primitives.

`primitive_jvps[prim] = rule` with `rule(primals, tangents, **params) -> (primal_out,
tangent_out)` (lists for multiple-result primitives); a zero tangent is the symbolic
`Zero(aval)`, in and out. `primitive_transposes[prim] = rule` with `rule(ct, *args,
**params) -> [ct per arg]`, where linear args are `UndefinedPrimal(aval)` and a non-linear
arg gets None (or a `Zero`). These are xlafront's own tables (transforms/jvp.py and
transforms/transpose.py); rules run under the parent trace, so they are differentiable and
batchable themselves when written with xlafront operations."""
from __future__ import annotations

from xlafront import _missing
from xlafront import primitives as P
from xlafront.core import get_aval
from xlafront.transforms.jvp import (JVPTrace, JVPTracer, Zero, add_tangents,  # noqa: F401
                                     instantiate as instantiate_zeros, jvp_rules as primitive_jvps,
                                     tangent_aval, zeros as zeros_like_aval)
from xlafront.transforms.transpose import (UndefinedPrimal, is_undefined as is_undefined_primal,  # noqa: F401
                                           transpose_rules as primitive_transposes)

__all__ = ["JVPTrace", "JVPTracer", "UndefinedPrimal", "Zero", "add_jaxvals", "add_tangents",
           "defbilinear", "defjvp", "defjvp2", "defjvp_zero", "deflinear", "deflinear2",
           "get_primitive_transpose", "instantiate_zeros", "is_undefined_primal",
           "primitive_jvps", "primitive_transposes", "zeros_like_aval"]


def add_jaxvals(x, y):
    return P.add(x, y)


def get_primitive_transpose(prim):
    try:
        return primitive_transposes[prim]
    except KeyError as err:
        raise NotImplementedError(f"Transpose rule (for reverse-mode differentiation) for "
                                  f"'{prim}' not implemented") from err


def _zero_of(out):
    return Zero(tangent_aval(get_aval(out)))


def _sum_tangents(prim, rules, primals, tangents, params, out):
    tout = None
    for rule, t in zip(rules, tangents):
        if rule is None or type(t) is Zero:
            continue
        c = rule(t, *primals, **params) if out is None else rule(t, out, *primals, **params)
        tout = c if tout is None else add_tangents(tout, c)
    return tout


def defjvp(prim, *jvprules):
    """One rule per operand, `rule(g, *primals, **params)` -> that operand's contribution
    (None: the operand is not differentiated); the contributions are summed."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        tout = _sum_tangents(prim, jvprules, primals, tangents, params, None)
        return out, _zero_of(out) if tout is None else tout
    primitive_jvps[prim] = rule


def defjvp2(prim, *jvprules):
    """As `defjvp`, the rules also given the output: `rule(g, ans, *primals, **params)`."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        tout = _sum_tangents(prim, jvprules, primals, tangents, params, out)
        return out, _zero_of(out) if tout is None else tout
    primitive_jvps[prim] = rule


def defjvp_zero(prim):
    """A piecewise-constant primitive: its tangent is zero."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if prim.multiple_results:
            return out, [_zero_of(o) for o in out]
        return out, _zero_of(out)
    primitive_jvps[prim] = rule


def _linear_jvp(prim):
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        return out, prim.bind(*map(instantiate_zeros, tangents), **params)
    return rule


def deflinear(prim, transpose_rule):
    """A primitive linear in all its operands; `transpose_rule(ct, **params)` -> [ct per arg]."""
    primitive_jvps[prim] = _linear_jvp(prim)

    def transpose(ct, *args, **params):
        if type(ct) is Zero:
            return [Zero(a.aval) if is_undefined_primal(a) else None for a in args]
        return transpose_rule(ct, **params)
    primitive_transposes[prim] = transpose


def deflinear2(prim, transpose_rule):
    """As `deflinear`, the rule also given the operands: `transpose_rule(ct, *args, **params)`."""
    primitive_jvps[prim] = _linear_jvp(prim)

    def transpose(ct, *args, **params):
        if type(ct) is Zero:
            return [Zero(a.aval) if is_undefined_primal(a) else None for a in args]
        return transpose_rule(ct, *args, **params)
    primitive_transposes[prim] = transpose


def defbilinear(prim, lhs_rule, rhs_rule):
    """A primitive linear in each of its two operands: `lhs_rule(ct, x, y, **params)` is the
    cotangent of x (x undefined), `rhs_rule` that of y."""
    def jvp(primals, tangents, **params):
        x, y = primals
        tx, ty = tangents
        out = prim.bind(x, y, **params)
        tout = None
        if type(tx) is not Zero:
            tout = prim.bind(tx, y, **params)
        if type(ty) is not Zero:
            c = prim.bind(x, ty, **params)
            tout = c if tout is None else add_tangents(tout, c)
        return out, _zero_of(out) if tout is None else tout
    primitive_jvps[prim] = jvp

    def transpose(ct, x, y, **params):
        if is_undefined_primal(x):
            return [None if type(ct) is Zero else lhs_rule(ct, x, y, **params), None]
        return [None, None if type(ct) is Zero else rhs_rule(ct, x, y, **params)]
    primitive_transposes[prim] = transpose


__getattr__ = _missing.module_getattr(__name__)
