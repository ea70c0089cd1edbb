"""StableHLO lowering of the callback primitives: a custom call into the PJRT client's
Python callback target (see lowering/runtime.py, "host callbacks").

Debug callbacks run in program order. XLA is free to reorder operations that do not
depend on each other, side effects included (JAX's unordered `debug.print` shows this:
a print at the end of a function may come first), so the lowering orders them by data
dependencies, as JAX's `ordered=True` does:
- each scope (a function body, or one region) threads an effect token
  (`!stablehlo.token`) through its debug callbacks;
- a region's first callback starts from the token of the scope around it (XLA carries
  a token captured by a loop body through the loop), so it runs after the callbacks
  before the loop or conditional;
- the next callback after an operation whose sub-graphs hold callbacks (cond, while,
  scan) takes one element of each of that operation's results as extra operands, which
  it ignores: it waits for the whole operation and so for the callbacks inside it.
  (An operation without results, or whose results XLA computes without running it,
  such as a loop that carries only its counter, is not waited for: threading the token
  through the loop state would be exact, and needs the control-flow lowering's help);
- a jit call holding callbacks is lowered inline, in the caller's scope.
"""
from __future__ import annotations

import numpy as np

from xlafront import primitives as P
from xlafront import primitives_callback as PC
from xlafront import primitives_control as PCF
from xlafront.core import Primitive, register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules
from xlafront.lowering import runtime

register_internal_path(__file__)

_TOKEN = "!stablehlo.token"


def _layout(aval) -> str:
    """Row-major (major-to-minor) layout, as the callback reads its buffers."""
    r = len(aval.shape)
    if r == 0:
        return "dense<> : tensor<0xindex>"
    return f"dense<[{', '.join(str(d) for d in reversed(range(r)))}]> : tensor<{r}xindex>"


class _HostCall:
    """The function PJRT calls: the primitive's callback with the operands' avals (and the
    avals its results must have, for a callback with results). An ordered call gets the
    effect token (None) and `n_deps` ordering operands first, and hands the token back."""
    __slots__ = ("callback", "avals", "result_avals", "token", "n_deps")

    def __init__(self, callback, avals, result_avals, token, n_deps=0):
        self.callback, self.avals, self.result_avals = callback, avals, result_avals
        self.token, self.n_deps = token, n_deps

    def __call__(self, *values):
        if self.token:
            tok, values = values[0], values[1 + self.n_deps:]
        if self.result_avals is None:
            outs = self.callback.host_call(values, self.avals)
        else:
            outs = self.callback.host_call(values, self.avals, self.result_avals)
        return (tok, *outs) if self.token else outs


# ----------------------------------------------------------------------------- effect tokens
class _Scope:
    """Effect state of one scope: its current token and the values the next callback
    must wait for."""
    __slots__ = ("lines", "token", "deps")

    def __init__(self, lines, token):
        self.lines, self.token, self.deps = lines, token, []


def _scope(ctx) -> _Scope:
    """The effect state of the scope being emitted (a function body or a region, told
    apart by the function builder's current list of lines)."""
    fn = ctx.fn
    table = fn.__dict__.setdefault("_effect_scopes", {})
    lines = fn.lines
    sc = table.get(id(lines))
    if sc is None or sc.lines is not lines:
        outer = fn.__dict__.get("_effect_outer")
        tok = ctx.emit(f"stablehlo.after_all {outer} : {_TOKEN}" if outer else f"stablehlo.after_all : {_TOKEN}")
        sc = table[id(lines)] = _Scope(lines, tok)   # holding the list keeps its id unique
    return sc


def _first_element(ctx, name, aval):
    """A scalar that depends on `name` (its first element), or None for an empty array."""
    if aval.size == 0:
        return None, None
    if not aval.shape:
        return name, aval
    one = aval.update(shape=(1,) * len(aval.shape))
    dims = ", ".join("0" for _ in aval.shape)
    ones = ", ".join("1" for _ in aval.shape)
    s = ctx.emit(f'"stablehlo.slice"({name}) {{start_indices = array<i64: {dims}>, limit_indices = '
                 f'array<i64: {ones}>, strides = array<i64: {ones}>}} : ({tensor_type(aval)}) -> '
                 f'{tensor_type(one)}')
    scalar = aval.update(shape=())
    return ctx.emit(f"stablehlo.reshape {s} : ({tensor_type(one)}) -> {tensor_type(scalar)}"), scalar


# ----------------------------------------------------------------------------- callbacks
def _emit_host_call(ctx, operands, callback, side_effect: bool, with_results: bool = False):
    """`with_results`: a side-effecting call that also has results (io_callback)."""
    # a compiled program's values are not weakly typed (as JAX passes them under jit)
    avals = tuple(a.strip_weak() for a in ctx.avals_in)
    results = None if side_effect and not with_results else tuple(ctx.avals_out)
    ordered = side_effect
    in_types = [tensor_type(a) for a in ctx.avals_in]
    out_types = [tensor_type(a) for a in ctx.avals_out]
    in_layouts = [_layout(a) for a in ctx.avals_in]
    out_layouts = [_layout(a) for a in ctx.avals_out]
    operands = list(operands)
    deps = []
    if ordered:
        sc = _scope(ctx)
        deps, sc.deps = sc.deps, []
        operands[:0] = [sc.token, *(n for n, _ in deps)]
        in_types[:0] = [_TOKEN, *(tensor_type(a) for _, a in deps)]
        in_layouts[:0] = ["dense<> : tensor<0xindex>"] * (1 + len(deps))
        out_types.insert(0, _TOKEN)
        out_layouts.insert(0, "dense<> : tensor<0xindex>")
    gid = runtime.register_host_callback((callback, avals, results, ordered, len(deps)),
                                         _HostCall(callback, avals, results, ordered, len(deps)))
    attrs = ['backend_config = ""']
    if side_effect:
        attrs.append("has_side_effect = true")
    attrs.append(f"mhlo.backend_config = {{index = {gid} : ui64}}")
    attrs.append(f"operand_layouts = [{', '.join(in_layouts)}]")
    attrs.append(f"result_layouts = [{', '.join(out_layouts)}]")
    res_t = out_types[0] if len(out_types) == 1 else f"({', '.join(out_types)})"
    text = (f"stablehlo.custom_call @{runtime.host_callback_target()}({', '.join(operands)}) "
            f"{{{', '.join(attrs)}}} : ({', '.join(in_types)}) -> {res_t}")
    n = len(out_types)
    out = ctx.emit(text, n=n)
    outs = [] if n == 0 else [out] if n == 1 else list(out)
    if ordered:
        sc.token = outs[0]
        outs = outs[1:]
    return outs


def _debug_callback_lower(ctx, *operands, callback, effect="Debug", partitioned=False):
    return _emit_host_call(ctx, operands, callback, side_effect=True)


def _pure_callback_lower(ctx, *operands, callback, result_avals, vmap_method=None):
    return _emit_host_call(ctx, operands, callback, side_effect=False)


lowering_rules[PC.debug_callback_p] = _debug_callback_lower
lowering_rules[PC.pure_callback_p] = _pure_callback_lower


# ----------------------------------------------------------------------------- sequencing
_MAX_DEPS = 8


def _sequenced(prim: Primitive, rule):
    """`rule` of a primitive with sub-graphs, ordered among the debug callbacks of its
    scope when its sub-graphs hold some (and unchanged otherwise)."""
    def lower(ctx, *operands, **params):
        if not PC.params_have_effects(params):
            return rule(ctx, *operands, **params)
        sc = _scope(ctx)
        fn = ctx.fn.__dict__
        prev = fn.get("_effect_outer")
        fn["_effect_outer"] = sc.token     # the regions' callbacks start from it
        try:
            outs = rule(ctx, *operands, **params)
        finally:
            fn["_effect_outer"] = prev
        res = list(outs) if prim.multiple_results else [outs]
        # every result: XLA may compute some without the operation (a loop counter)
        for name, aval in list(zip(res, ctx.avals_out))[:_MAX_DEPS]:
            dep = _first_element(ctx, name, aval)
            if dep[0] is not None:
                sc.deps.append(dep)
        return outs
    lower.__wrapped__ = rule
    return lower


def _jit_inline(ctx, *operands, graph, name, **params):
    """A jit call holding callbacks, lowered inline: its callbacks join the caller's order."""
    g = graph.graph if hasattr(graph, "graph") else graph
    if not PC.has_effects(g):
        return _jit_rule(ctx, *operands, graph=graph, name=name, **params)
    consts = None   # a ClosedGraph's consts become constants where first used, as func.call's do
    if g.constvars:
        consts = [c._value_for_inline() if hasattr(c, "_value_for_inline") else np.asarray(c)
                  for c in graph.consts]
    return ctx.fn.lower_body(g, list(operands), const_values=consts)


_jit_rule = lowering_rules[P.jit_p]
lowering_rules[P.jit_p] = _jit_inline
for _p in (PCF.cond_p, PCF.while_p, PCF.scan_p):
    if _p in lowering_rules:
        lowering_rules[_p] = _sequenced(_p, lowering_rules[_p])
