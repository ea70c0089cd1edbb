"""Partial evaluation: split a computation into a known part, run now, and an unknown
part, staged into a graph. Linearize = jvp + partial evaluation with the primals
known and the tangents unknown: the staged graph is the linear map, and the known
values it reads are its residuals (its consts).

`PartialEvalTrace` is a `GraphTrace` that only records equations with an unknown
operand; known values are the parent trace's own values and their equations run
under the parent (eagerly, or into an enclosing jit's graph).
"""
from __future__ import annotations

import weakref

from xlafront import core
from xlafront import primitives as P
from xlafront.core import ClosedGraph, Graph, GraphTrace, GraphTracer, Literal, Var, set_current_trace

from xlafront.transforms import jvp as jvp_mod
from xlafront.transforms.dce import dce_graph, dce_closed

core.register_internal_path(__file__)

# prim -> fn(trace, args, params): how to partially evaluate a primitive with a mix of
# known and unknown operands (default: stage the whole equation).
partial_eval_rules: dict = {}


class PartialEvalTrace(GraphTrace):
    def is_unknown(self, x):
        return isinstance(x, GraphTracer) and x._trace is self

    def process_primitive(self, prim, args, params):
        unknown = False
        for x in args:
            if isinstance(x, GraphTracer) and x._trace is self:
                unknown = True
                break
        if not unknown:
            with set_current_trace(self.parent):
                return prim.bind(*args, **params)
        rule = partial_eval_rules.get(prim)
        if rule is not None:
            return rule(self, args, params)
        return super().process_primitive(prim, args, params)

    def stage(self, prim, args, params):
        return GraphTrace.process_primitive(self, prim, args, params)

    def stage_zeros(self, aval):
        """Zeros of `aval` computed inside the staged graph (no residual to keep)."""
        import numpy as np
        z = np.zeros((), aval.dtype)[()]
        if not aval.shape:
            return z
        return self.stage(P.broadcast_in_dim_p, [z], dict(shape=aval.shape, broadcast_dimensions=()))


# ----------------------------------------------------------------------------- graphs
_pe_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def partial_eval_graph(graph: Graph, known: tuple):
    """Split `graph` given which inputs are known.

    Returns (known_graph, unknown_graph, out_known, num_res): known_graph maps the known
    inputs to (known outputs..., residuals...); unknown_graph maps (residuals...,
    unknown inputs...) to the unknown outputs. Cached per (graph, known)."""
    per = _pe_cache.get(graph)
    if per is None:
        per = _pe_cache[graph] = {}
    hit = per.get(known)
    if hit is not None:
        return hit
    is_known = {}
    for v, k in zip(graph.invars, known):
        is_known[v] = k

    def kn(v):
        return type(v) is Literal or is_known.get(v, True)

    known_eqns, unknown_eqns = [], []
    for eqn in graph.eqns:
        ks = [kn(v) for v in eqn.invars]
        if all(ks):
            known_eqns.append(eqn)
            for v in eqn.outvars:
                is_known[v] = True
        elif any(ks) and eqn.prim in partial_eval_graph_rules:
            keqn, ueqn, out_k, res = partial_eval_graph_rules[eqn.prim](eqn, tuple(ks))
            if keqn is not None:
                known_eqns.append(keqn)
            if ueqn is not None:
                unknown_eqns.append(ueqn)
            for v, k in zip(eqn.outvars, out_k):
                is_known[v] = k
            for v in res:
                is_known[v] = True
        else:
            unknown_eqns.append(eqn)
            for v in eqn.outvars:
                is_known[v] = False
    out_known = tuple(kn(v) for v in graph.outvars)
    # residuals: known non-literal vars that unknown equations (or unknown outputs) read
    res, seen = [], set()
    for eqn in unknown_eqns:
        for v in eqn.invars:
            if type(v) is not Literal and kn(v) and v not in seen:
                seen.add(v)
                res.append(v)
    known_out = [v for v, k in zip(graph.outvars, out_known) if k]
    kg = dce_graph(Graph([], [v for v, k in zip(graph.invars, known) if k], known_eqns, known_out + res))
    ug = Graph([], res + [v for v, k in zip(graph.invars, known) if not k], unknown_eqns,
               [v for v, k in zip(graph.outvars, out_known) if not k])
    ug = dce_graph(ug)
    hit = (kg, ug, out_known, len(res))
    per[known] = hit
    return hit


# prim -> fn(eqn, known_inputs) -> (known_eqn | None, unknown_eqn | None, out_known, residual vars):
# how to split one equation of a graph whose inputs are partly known (default: all unknown).
partial_eval_graph_rules: dict = {}


def _pe_graph_jit(eqn, ks):
    inner = eqn.params["graph"]
    inner = inner.graph if isinstance(inner, ClosedGraph) else inner
    kg, ug, out_k, nres = partial_eval_graph(inner, ks)
    res = [Var(a) for a in kg.out_avals[len(kg.outvars) - nres:]]
    keqn = core.Equation(eqn.prim, [v for v, k in zip(eqn.invars, ks) if k],
                         [v for v, k in zip(eqn.outvars, out_k) if k] + res, dict(eqn.params, graph=kg), eqn.source)
    ueqn = core.Equation(eqn.prim, res + [v for v, k in zip(eqn.invars, ks) if not k],
                         [v for v, k in zip(eqn.outvars, out_k) if not k], dict(eqn.params, graph=ug), eqn.source)
    return keqn, ueqn, out_k, res


partial_eval_graph_rules[P.jit_p] = _pe_graph_jit


def _pe_jit(trace: PartialEvalTrace, args, params):
    graph = params["graph"]
    g = graph.graph if isinstance(graph, ClosedGraph) else graph
    known = tuple(not trace.is_unknown(x) for x in args)
    kg, ug, out_known, nres = partial_eval_graph(g, known)
    with set_current_trace(trace.parent):
        kouts = P.jit_p.bind(*[x for x, k in zip(args, known) if k], graph=kg, name=params["name"])
    nk = len(kouts) - nres
    known_outs, res = kouts[:nk], kouts[nk:]
    if ug.outvars:
        uouts = trace.stage(P.jit_p, [*res, *[x for x, k in zip(args, known) if not k]],
                            dict(params, graph=ug))
    else:
        uouts = []
    ki, ui = iter(known_outs), iter(uouts)
    return [next(ki) if k else next(ui) for k in out_known]


partial_eval_rules[P.jit_p] = _pe_jit


# ----------------------------------------------------------------------------- linearize
class LinearFunction:
    """The linear part of a linearization: a graph from input tangents to output
    tangents, its residual consts, and which outputs are symbolically zero."""
    __slots__ = ("closed", "out_zero", "in_avals", "out_avals")

    def __init__(self, closed: ClosedGraph, out_zero, in_avals, out_avals):
        self.closed, self.out_zero, self.in_avals, self.out_avals = closed, out_zero, in_avals, out_avals

    def __call__(self, *tangents):
        outs = iter(core.eval_graph(self.closed.graph, self.closed.consts, tangents))
        return [jvp_mod.Zero(a) if z else next(outs) for z, a in zip(self.out_zero, self.out_avals)]


def linearize_flat(fun, primals):
    """Evaluate fun(*primals) (flat lists) and its linearization.

    Returns (primal_outs, LinearFunction). Inputs with integer dtypes get (symbolic
    zero) float0 tangents and no linear input; the linear function takes one
    tangent per input all the same (ignored for those)."""
    pe = PartialEvalTrace(core.ctx.trace)
    jt = jvp_mod.JVPTrace(pe)
    jt.linearizing = True
    in_avals = [jvp_mod.tangent_aval(core.get_aval(p)) for p in primals]
    lin_mask = [a.dtype != jvp_mod.dtypes.float0 for a in in_avals]
    with core.new_trace(pe):
        tangents = []
        for a, m in zip(in_avals, lin_mask):
            if m:
                tangents.append(pe.new_arg(a))
            else:
                tangents.append(jvp_mod.Zero(a))
        with core.new_trace(jt):
            ins = [jt.new(p, t) for p, t in zip(primals, tangents)]
            outs = fun(*ins)
            pt = [jt.to_primal_tangent(o) for o in outs]
        primals_out = []
        for p, _ in pt:
            if pe.is_unknown(p):
                raise TypeError("linearize: a primal output depends on a tangent (the function is "
                                "not differentiable in the usual sense)")
            primals_out.append(p)
        out_zero = [type(t) is jvp_mod.Zero for _, t in pt]
        out_avals = [jvp_mod.tangent_aval(core.get_aval(p)) for p in primals_out]
        closed = pe.finalize([t for _, t in pt if type(t) is not jvp_mod.Zero])
    # the graph's invars: one per input (a placeholder var for integer inputs)
    g = closed.graph
    it = iter(g.invars)
    invars = [next(it) if m else Var(a) for a, m in zip(in_avals, lin_mask)]
    closed = dce_closed(ClosedGraph(Graph(g.constvars, invars, g.eqns, g.outvars), closed.consts))
    return primals_out, LinearFunction(closed, out_zero, in_avals, out_avals)


# ----------------------------------------------------------------------------- remat (checkpoint)
_policy_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def partial_eval_graph_saving(graph: Graph, known: tuple, policy, force: tuple = ()):
    """`partial_eval_graph` for a checkpointed (remat) graph, whose `policy(prim, *avals,
    **params) -> bool` says which known equations' outputs may be saved as residuals.

    Returns (known_graph, unknown_graph, out_known, num_res) as `partial_eval_graph`. The
    residuals are the known inputs and the outputs of saveable known equations that the
    unknown part reads; any other known value it reads is recomputed inside the unknown
    graph (its equation copied there, recursively back to residuals). An equation with
    both known and unknown operands is split by its primitive's partial-eval rule where it
    has one (its known half is an equation as the others: saved or recomputed; a `jit` is
    split by this function, with the same policy, inside), else runs whole in the unknown
    graph. `policy=None` saves nothing (jax.checkpoint's default). `force` (a mask over the
    outputs) names known outputs that the unknown graph must also give (recomputed there,
    after the unknown ones). Cached per (graph, known, policy, force) when the policy is
    hashable."""
    per = _policy_cache.get(graph)
    if per is None:
        per = _policy_cache[graph] = {}
    try:
        key = (known, policy, force)
        hit = per.get(key)
    except TypeError:   # an unhashable policy object: not cached
        key = hit = None
    if hit is not None:
        return hit
    forced_calls: dict = {}   # index in graph.eqns of a split jit -> its outputs to force
    while True:
        hit = _split_saving(graph, known, policy, force, forced_calls)
        if hit is not None:
            break
    if key is not None:
        per[key] = hit
    return hit


def _verdict(policy, prim, avals, params) -> bool:
    # True (or a truthy answer: an offload request, saved here) saves
    return policy is not None and bool(policy(prim, *avals, **params))


def _split_saving(graph, known, policy, force, forced_calls):
    """One pass of `partial_eval_graph_saving`; None when a split jit must give more
    outputs to its unknown half (added to `forced_calls`: the caller runs it again)."""
    is_known = {}
    for v, k in zip(graph.invars, known):
        is_known[v] = k

    def kn(v):
        return type(v) is Literal or is_known.get(v, True)

    # the equations, a call with both known and unknown operands split by its rule (its
    # known half is then an equation like any other: saved or recomputed by the policy)
    eqns, unknown = [], []
    recompute_only = set()   # indices of equations only the unknown graph may run
    var_saves = {}     # output of a split jit's known half -> whether it may be saved
    call_of = {}       # such an output -> index of the jit in graph.eqns
    for n, eqn in enumerate(graph.eqns):
        ks = [kn(v) for v in eqn.invars]
        if all(ks):
            eqns.append(eqn)
            unknown.append(False)
            for v in eqn.outvars:
                is_known[v] = True
            continue
        reqn = None
        if any(ks) and eqn.prim is P.jit_p and isinstance(eqn.params["graph"], Graph):
            forced = forced_calls.get(n, frozenset())
            keqn, ueqn, reqn, out_k = _split_jit_saving(eqn, tuple(ks), policy, forced, var_saves)
            for v in keqn.outvars:
                if v not in forced:
                    call_of[v] = n
        elif any(ks) and eqn.prim in partial_eval_graph_rules:
            keqn, ueqn, out_k, _ = partial_eval_graph_rules[eqn.prim](eqn, tuple(ks))
        else:
            keqn, ueqn, out_k = None, eqn, [False] * len(eqn.outvars)
        if keqn is not None:
            eqns.append(keqn)
            unknown.append(False)
            for v in keqn.outvars:
                is_known[v] = True
        if reqn is not None:   # recomputes forced known outputs from the saved residuals
            recompute_only.add(len(eqns))
            eqns.append(reqn)
            unknown.append(False)
        if ueqn is not None:
            eqns.append(ueqn)
            unknown.append(True)
        for v, k in zip(eqn.outvars, out_k):
            is_known[v] = k
    known_eqns = [e for i, (e, u) in enumerate(zip(eqns, unknown)) if not u and i not in recompute_only]
    producer = {}          # known var -> index (in eqns) of the known equation making it
    in_unknown = set()     # indices of equations that run in the unknown graph
    made_in_unknown = set()
    for i, (e, u) in enumerate(zip(eqns, unknown)):
        if u:
            in_unknown.add(i)
            made_in_unknown.update(e.outvars)
        else:
            for v in e.outvars:
                producer[v] = i
    out_known = tuple(kn(v) for v in graph.outvars)
    forced_out = [v for v, k, f in zip(graph.outvars, out_known, force or [False] * len(out_known)) if k and f]
    known_invars = {v for v, k in zip(graph.invars, known) if k}
    saveable: dict = {}

    def can_save(i, v):
        s = var_saves.get(v)
        if s is not None:
            return s
        s = saveable.get(i)
        if s is None:
            e = eqns[i]
            s = saveable[i] = _verdict(policy, e.prim, [x.aval for x in e.invars], e.params)
        return s

    # the known values the unknown part reads: residuals, or recomputed there
    need = [v for i in sorted(in_unknown) for v in eqns[i].invars] + forced_out
    res, seen = set(), set()
    more = False
    while need:
        v = need.pop()
        if type(v) is Literal or v in seen or v in made_in_unknown or not kn(v):
            continue
        seen.add(v)
        if v in known_invars or v not in producer:
            res.add(v)
            continue
        i = producer[v]
        if i in in_unknown:
            continue
        if can_save(i, v):
            res.add(v)
        elif v in call_of:   # a jit's known output: its unknown half gives it (recomputed inside)
            n = call_of[v]
            forced_calls[n] = forced_calls.get(n, frozenset()) | {v}
            more = True
        else:
            in_unknown.add(i)
            made_in_unknown.update(eqns[i].outvars)
            need.extend(eqns[i].invars)
    if more:
        return None
    # residual order: known inputs first (in input order), then by the equation making them
    pos = {v: (0, j) for j, v in enumerate(graph.invars)}
    for i, eqn in enumerate(eqns):
        for j, v in enumerate(eqn.outvars):
            pos.setdefault(v, (1, i, j))
    res_list = sorted((v for v in res if v not in made_in_unknown), key=lambda v: pos.get(v, (2,)))
    known_out = [v for v, k in zip(graph.outvars, out_known) if k]
    kg = dce_graph(Graph([], [v for v, k in zip(graph.invars, known) if k], known_eqns, known_out + res_list))
    ug = Graph([], res_list + [v for v, k in zip(graph.invars, known) if not k],
               [e for i, e in enumerate(eqns) if i in in_unknown],
               [v for v, k in zip(graph.outvars, out_known) if not k] + forced_out)
    ug = dce_graph(ug)
    return kg, ug, out_known, len(res_list)


def _split_jit_saving(eqn, ks, policy, forced, var_saves):
    """A jit equation with known and unknown operands in a checkpointed graph, split by the
    same policy inside: (known eqn, unknown eqn, recompute eqn or None, out_known). The
    known half's residual outputs may be saved; a known output may be where the policy
    saves the equation inside that makes it. The known outputs in `forced` are recomputed
    (from the saved residuals) by the third equation, which only the unknown graph runs: a
    jit of its own, so that no primal value comes out of the (linear) unknown half."""
    inner = eqn.params["graph"]
    force = tuple(v in forced for v in eqn.outvars)
    kg, ug, out_k, nres = partial_eval_graph_saving(inner, ks, policy, force if any(force) else ())
    res = [Var(a) for a in kg.out_avals[len(kg.outvars) - nres:]]
    kouts = [v for v, k in zip(eqn.outvars, out_k) if k]
    uouts = [v for v, k in zip(eqn.outvars, out_k) if not k]
    fouts = [v for v in kouts if v in forced]
    keqn = core.Equation(eqn.prim, [v for v, k in zip(eqn.invars, ks) if k], kouts + res,
                         dict(eqn.params, graph=kg), eqn.source)
    ueqn = reqn = None
    if uouts:
        ug_u = dce_graph(Graph([], ug.invars, ug.eqns, ug.outvars[:len(uouts)]))
        ueqn = core.Equation(eqn.prim, res + [v for v, k in zip(eqn.invars, ks) if not k], uouts,
                             dict(eqn.params, graph=ug_u), eqn.source)
    if fouts:
        rg = dce_graph(Graph([], ug.invars[:nres], ug.eqns, ug.outvars[len(uouts):]))
        reqn = core.Equation(eqn.prim, list(res), fouts, dict(eqn.params, graph=rg), eqn.source)
    makers = {o: e for e in inner.eqns for o in e.outvars}
    for v, iv in zip(eqn.outvars, inner.outvars):
        if v in kouts:
            e = makers.get(iv) if type(iv) is not Literal else None
            var_saves[v] = v not in forced and e is not None and _verdict(
                policy, e.prim, [x.aval for x in e.invars], e.params)
    for v in res:
        var_saves[v] = True
    return keqn, ueqn, reqn, out_k
