"""Primitives of the callback family: calls from a running program back into Python.

- `debug_callback` calls `callback` on its operands for its side effect (printing,
  logging) and returns nothing. It has an *effect*: no transform may drop it because
  its (zero) results are unused; `transforms/dce.py` keeps every equation whose
  primitive is in `effectful_primitives` (or whose sub-graphs contain one).
- `pure_callback` computes results of known avals (`result_avals`) on the host; it is
  pure, so it is dropped like any other equation when its results are unused.

The `callback` param is an object of the API layer (xlafront/debug.py), hashable, with
`host_call(values, avals) -> tuple of numpy results`: `values` are host numpy arrays of
the operands, `avals` their avals. The eager implementation and the StableHLO lowering
(a custom call into the PJRT client's Python callback target) both call it.
"""
from __future__ import annotations

import weakref

from xlafront import core
from xlafront.core import ShapedArray

core.register_internal_path(__file__)

# Primitives with side effects: never dead code, even with every result unused.
effectful_primitives: set = set()

debug_callback_p = core.primitive("debug_callback", multiple_results=True)
pure_callback_p = core.primitive("pure_callback", multiple_results=True)


def _debug_callback_shape(*avals, callback, effect="Debug", partitioned=False):
    return ()


def _pure_callback_shape(*avals, callback, result_avals, vmap_method=None):
    for a in result_avals:
        if not isinstance(a, ShapedArray):
            raise TypeError(f"pure_callback result_avals must be ShapedArrays, got {a!r}")
    return tuple(result_avals)


core.shape_rules[debug_callback_p] = _debug_callback_shape
core.shape_rules[pure_callback_p] = _pure_callback_shape
effectful_primitives.add(debug_callback_p)


def debug_callback(*args, callback, ordered=False, partitioned=False):
    """Bind debug_callback (returns [])."""
    return debug_callback_p.bind(*args, callback=callback, effect="OrderedDebug" if ordered else "Debug",
                                 partitioned=partitioned)


def pure_callback(*args, callback, result_avals, vmap_method=None):
    return pure_callback_p.bind(*args, callback=callback, result_avals=tuple(result_avals),
                                vmap_method=vmap_method)


def has_effects(graph) -> bool:
    """Whether a Graph (or ClosedGraph) has an effectful equation, at any depth."""
    g = graph.graph if isinstance(graph, core.ClosedGraph) else graph
    hit = _effects_cache.get(g)
    if hit is None:
        hit = _effects_cache[g] = any(eqn_has_effects(e) for e in g.eqns)
    return hit


_effects_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _sub_graphs(v):
    if isinstance(v, (core.Graph, core.ClosedGraph)):
        yield v
    elif isinstance(v, (tuple, list)):
        for x in v:
            yield from _sub_graphs(x)


def params_have_effects(params) -> bool:
    """Whether the sub-graphs among an equation's params (jit, cond, while, scan, ...)
    hold an effectful equation."""
    for v in params.values():
        for g in _sub_graphs(v):
            if has_effects(g):
                return True
    return False


def eqn_has_effects(eqn) -> bool:
    """An equation with a side effect: an effectful primitive, or a higher-order one
    whose sub-graphs hold one."""
    return eqn.prim in effectful_primitives or params_have_effects(eqn.params)
