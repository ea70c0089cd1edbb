"""Control-flow primitives: cond, while and scan. Each holds its sub-computations as
Graphs without constvars (captured values are hoisted into leading operands).

- cond:  operands (index, *ops); params branches=(Graph, ...), each ops -> outs.
  `index` is an int32 scalar, already clamped to [0, len(branches) - 1].
- while: operands (*cond_consts, *body_consts, *carry); params cond_graph
  (cond_consts + carry -> bool[]), body_graph (body_consts + carry -> carry),
  cond_nconsts, body_nconsts.
- scan:  operands (*consts, *carry, *xs); params graph (consts + carry + x slices ->
  carry + y slices), num_consts, num_carry, length, reverse, unroll. The xs are
  sliced along axis 0 and the ys stacked along axis 0.
"""
from __future__ import annotations

from xlafront import core, dtypes
from xlafront.core import ClosedGraph, Graph, ShapedArray, primitive, shape_rules

cond_p = primitive("cond", multiple_results=True)
while_p = primitive("while", multiple_results=True)
scan_p = primitive("scan", multiple_results=True)


def _avals_str(avals):
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def _same(a: ShapedArray, b: ShapedArray):
    return a.shape == b.shape and a.dtype == b.dtype


def _cond_rule(index, *ops, branches):
    if index.shape != () or index.dtype != dtypes.int32:
        raise TypeError(f"cond index must be an int32 scalar, got {index.str_short()}")
    for g in branches:
        ins = g.in_avals
        if len(ins) != len(ops) or not all(_same(a, b) for a, b in zip(ins, ops)):
            raise TypeError(f"cond branch takes {_avals_str(ins)}, called with {_avals_str(ops)}")
    outs = branches[0].out_avals
    for g in branches[1:]:
        o = g.out_avals
        if len(o) != len(outs) or not all(_same(a, b) for a, b in zip(o, outs)):
            raise TypeError(f"cond branches return different types: {_avals_str(outs)} and "
                            f"{_avals_str(o)}")
    # an output is weakly typed only when every branch's is
    return tuple(a.update(weak_type=all(g.out_avals[i].weak_type for g in branches))
                 for i, a in enumerate(outs))


shape_rules[cond_p] = _cond_rule


def _while_rule(*args, cond_graph, body_graph, cond_nconsts, body_nconsts):
    carry = args[cond_nconsts + body_nconsts:]
    c_out = cond_graph.out_avals
    if len(c_out) != 1 or c_out[0].shape != () or c_out[0].dtype != dtypes.bool_:
        raise TypeError(f"while_loop cond_fun must return a boolean scalar, got {_avals_str(c_out)}")
    b_out = body_graph.out_avals
    if len(b_out) != len(carry) or not all(_same(a, b) for a, b in zip(b_out, carry)):
        raise TypeError(f"while_loop body_fun output {_avals_str(b_out)} does not match its input "
                        f"carry {_avals_str(carry)}")
    # the output carries take the body outputs' weak types (as JAX)
    return tuple(a.update(weak_type=b.weak_type) for a, b in zip(carry, b_out))


shape_rules[while_p] = _while_rule


def _scan_rule(*args, graph, num_consts, num_carry, length, reverse, unroll):
    carry = args[num_consts:num_consts + num_carry]
    xs = args[num_consts + num_carry:]
    for x in xs:
        if not x.shape or x.shape[0] != length:
            raise TypeError(f"scan xs {x.str_short()} does not have leading axis of length {length}")
    outs = graph.out_avals
    c_out = outs[:num_carry]
    if not all(_same(a, b) for a, b in zip(c_out, carry)):
        raise TypeError(f"scan body carry output {_avals_str(c_out)} does not match its input "
                        f"carry {_avals_str(carry)}")
    ys = [a.update(shape=(length, *a.shape)) for a in outs[num_carry:]]
    # the output carries take the body outputs' weak types (as JAX)
    return (*(a.update(weak_type=b.weak_type) for a, b in zip(carry, c_out)), *ys)


shape_rules[scan_p] = _scan_rule


# ----------------------------------------------------------------------------- graph helpers
_interned: dict = core.cache({})
_INTERN_MAX = 2048


def intern_graph(g: Graph) -> Graph:
    """The first graph seen with the same structure as `g` (or `g` itself), so that
    sub-graphs traced again from new closures key the same compiled programs."""
    try:
        key = core.graph_fingerprint(g)
    except TypeError:
        return g
    hit = _interned.get(key)
    if hit is None:
        if len(_interned) >= _INTERN_MAX:
            core.evict_oldest(_interned)   # bounded; safe under threads
        hit = _interned[key] = g
    return hit


def hoist(closed: ClosedGraph):
    """(graph with the constvars as leading invars, consts)."""
    g = closed.graph
    return Graph([], list(g.constvars) + list(g.invars), g.eqns, g.outvars), list(closed.consts)


def join_branches(closeds):
    """Branch graphs that all take (consts of every branch..., operands...): returns
    (graphs, consts). `closeds` are ClosedGraphs over the same operands."""
    all_consts = []
    slots = []
    for c in closeds:
        slots.append((len(all_consts), len(c.consts)))
        all_consts.extend(c.consts)
    avals = [core.get_aval(x) for x in all_consts]
    graphs = []
    for c, (start, n) in zip(closeds, slots):
        g = c.graph
        pre = [core.Var(a) for a in avals[:start]]
        post = [core.Var(a) for a in avals[start + n:]]
        graphs.append(intern_graph(Graph([], pre + list(g.constvars) + post + list(g.invars),
                                         g.eqns, g.outvars)))
    return tuple(graphs), all_consts
