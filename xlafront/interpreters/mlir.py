"""jax.interpreters.mlir: how a primitive lowers to StableHLO.

xlafront emits StableHLO as text (lowering/emitter.py), not through jaxlib's MLIR Python
builder, so of JAX's lowering API the part that does not touch `ir` objects works:

    mlir.register_lowering(prim, mlir.lower_fun(fun, multiple_results=...))

lowers each use of `prim` by tracing `fun(*operands, **params)` (xlafront operations) over
the operands' avals into a graph and emitting it as a private function called there; the
graph is cached per (avals, params). A rule that builds MLIR itself
(`rule(ctx, *ir_values, **params)`) is accepted at registration (libraries register them at
import) but raises NotImplementedYetError, naming the primitive and the rule, when a
program using that primitive is lowered. `platform=` rules apply only on that platform.
"""
from __future__ import annotations

from xlafront import _missing, core
from xlafront.lowering import runtime
from xlafront.lowering.registry import lowering_rules

__all__ = ["lower_fun", "register_lowering"]


class LoweredFun:
    """What `lower_fun` returns: a lowering rule given as a Python function to trace."""
    __slots__ = ("fun", "multiple_results")

    def __init__(self, fun, multiple_results):
        self.fun, self.multiple_results = fun, multiple_results

    def __call__(self, ctx, *args, **params):
        raise _unsupported_rule(getattr(ctx, "primitive", None), self,
                                "a lower_fun rule called directly with a JAX lowering context")

    def __repr__(self):
        return f"lower_fun({getattr(self.fun, '__qualname__', self.fun)!r})"


def lower_fun(fun, multiple_results: bool = True) -> LoweredFun:
    return LoweredFun(fun, multiple_results)


def _unsupported_rule(prim, rule, why=None):
    name = getattr(prim, "name", prim)
    site = core.user_site()
    msg = (f"the lowering rule {getattr(rule, '__qualname__', rule)!r} registered with "
           f"jax.interpreters.mlir.register_lowering for primitive '{name}' builds MLIR through "
           f"jaxlib's `ir` API ({why or 'a raw lowering rule'}); xlafront emits StableHLO as text and "
           f"cannot run it. Register `mlir.lower_fun(impl, multiple_results=...)` instead "
           f"(lowering at {site})")
    err = _missing.NotImplementedYetError(msg)
    err.jax_name = "jax.interpreters.mlir.register_lowering"
    err.site = site
    return err


# per primitive: {platform or None: rule as registered}
_registered: dict = {}
_graphs: dict = core.cache({})   # (fun, multiple_results, avals, params) -> ClosedGraph


def _traced(fun, multiple_results, avals, params):
    def flat(*xs):
        out = fun(*xs, **params)
        return list(out) if multiple_results else [out]
    try:
        key = (fun, multiple_results, avals, tuple(params.items()))
        hash(key)
    except TypeError:
        key = None
    hit = None if key is None else _graphs.get(key)
    if hit is None:
        hit = core.trace_to_graph(flat, list(avals), parent=core.eval_trace)
        if key is not None:
            core.remember(_graphs, key, hit, limit=1024)
    return hit


def _pick(prim):
    rules = _registered[prim]
    if len(rules) > 1 or None not in rules:
        plat = runtime.platform_in_use()
        for p, r in rules.items():
            if p is not None and runtime.platform_name(p) == plat:
                return r
    return rules.get(None)


def _rule_for(prim):
    """The entry of the lowering table: dispatches to the registered rule at lowering time."""
    def rule(ctx, *args, **params):
        user = _pick(prim)
        if user is None:
            raise NotImplementedError(f"no StableHLO lowering rule for primitive '{prim.name}' on "
                                      f"platform {runtime.platform_in_use()!r}")
        if not isinstance(user, LoweredFun):
            raise _unsupported_rule(prim, user)
        closed = _traced(user.fun, user.multiple_results, tuple(ctx.avals_in), params)
        got = [(a.shape, a.dtype) for a in closed.out_avals]
        want = [(a.shape, a.dtype) for a in ctx.avals_out]
        if got != want:
            raise TypeError(f"the lowering of primitive '{prim.name}' (lower_fun of "
                            f"{getattr(user.fun, '__qualname__', user.fun)}) computes "
                            f"{[a.str_short() for a in closed.out_avals]}, but its abstract evaluation "
                            f"says {[a.str_short() for a in ctx.avals_out]}")
        outs = ctx.call_graph(closed, prim.name, list(args))
        return outs if prim.multiple_results else outs[0]
    rule.__qualname__ = f"register_lowering.<{prim.name}>"
    return rule


def register_lowering(prim, rule, platform: str | None = None, **_):
    """Lower `prim` with `rule` (see the module docstring); returns `rule`."""
    first = prim not in _registered
    _registered.setdefault(prim, {})[platform] = rule
    if first or lowering_rules.get(prim) is None:
        lowering_rules[prim] = _rule_for(prim)
    return rule


__getattr__ = _missing.module_getattr(__name__)
