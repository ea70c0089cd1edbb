"""Dead-code elimination on graphs: drop equations whose results nothing uses.

An equation is live when one of its outputs is used, or when it has a side effect
(an effectful primitive such as debug_callback, or a call whose graph holds one).
Calls (`jit`) are pruned inside too: their unused results are dropped from the
callee (a new, smaller graph).
"""
from __future__ import annotations

import weakref

from xlafront import core
from xlafront import primitives as P
from xlafront.core import ClosedGraph, Equation, Graph, Literal
from xlafront.primitives_callback import eqn_has_effects

core.register_internal_path(__file__)

# primitives carrying a callee graph in param "graph" whose outputs are its results
call_primitives: set = {P.jit_p}

_pruned_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _prune_call(eqn, used_outs):
    """A call equation restricted to its used outputs (and the inputs those need)."""
    g = eqn.params["graph"]
    inner = g.graph if isinstance(g, ClosedGraph) else g
    key = tuple(used_outs)
    per = _pruned_cache.get(inner)
    if per is None:
        per = _pruned_cache[inner] = {}
    hit = per.get(key)
    if hit is None:
        sub = Graph([], inner.invars, inner.eqns, [v for v, u in zip(inner.outvars, used_outs) if u])
        sub = dce_graph(sub, keep_invars=True)
        live = _live_invars(sub)
        pruned = Graph([], [v for v in sub.invars if v in live], sub.eqns, sub.outvars)
        hit = per[key] = (pruned, [v in live for v in sub.invars])
    pruned, used_ins = hit
    invars = [v for v, u in zip(eqn.invars, used_ins) if u]
    outvars = [v for v, u in zip(eqn.outvars, used_outs) if u]
    params = dict(eqn.params, graph=pruned)
    return Equation(eqn.prim, invars, outvars, params, eqn.source)


def _live_invars(graph):
    live = set()
    for eqn in graph.eqns:
        for v in eqn.invars:
            if type(v) is not Literal:
                live.add(v)
    for v in graph.outvars:
        if type(v) is not Literal:
            live.add(v)
    return live


def dce_graph(graph: Graph, used_outputs=None, keep_invars: bool = True) -> Graph:
    """`graph` without dead equations. With `used_outputs` (a mask), only those outputs
    are kept. Invars are kept as they are (the signature does not change) unless
    keep_invars=False, where unused invars are dropped too."""
    outvars = graph.outvars if used_outputs is None else \
        [v for v, u in zip(graph.outvars, used_outputs) if u]
    live = {v for v in outvars if type(v) is not Literal}
    new_eqns = []
    for eqn in reversed(graph.eqns):
        used = [v in live for v in eqn.outvars]
        if not any(used) and not eqn_has_effects(eqn):   # side effects (debug prints) stay
            continue
        if eqn.prim in call_primitives and not all(used):
            eqn = _prune_call(eqn, used)
        new_eqns.append(eqn)
        for v in eqn.invars:
            if type(v) is not Literal:
                live.add(v)
    new_eqns.reverse()
    invars = graph.invars if keep_invars else [v for v in graph.invars if v in live]
    constvars = [v for v in graph.constvars if v in live] if not keep_invars else graph.constvars
    return Graph(constvars, invars, new_eqns, outvars)


def dce_closed(closed: ClosedGraph, used_outputs=None) -> ClosedGraph:
    """A ClosedGraph without dead equations and without the consts they used."""
    g = dce_graph(closed.graph, used_outputs, keep_invars=True)
    live = _live_invars(g)
    keep = [v in live for v in g.constvars]
    constvars = [v for v, k in zip(g.constvars, keep) if k]
    consts = [c for c, k in zip(closed.consts, keep) if k]
    return ClosedGraph(Graph(constvars, g.invars, g.eqns, g.outvars), consts)
