"""jvp, partial-evaluation, transpose and batching rules of cond, while and scan.

Each rule builds new sub-graphs by tracing a small Python function that evaluates the
old sub-graph under a transform (jvp_flat, backward_pass, batch_graph), then binds the
same primitive again. Graph operands are plain lists of Vars, so reordering a graph's
inputs into the layout a primitive wants is a permutation of its invars.

- jvp: cond differentiates every branch with the union of their nonzero output
  tangents; while and scan iterate to a fixed point on which carry tangents are
  nonzero, and carry (primal, tangent) pairs through the loop.
- partial evaluation (linearize): cond splits every branch; the known cond also
  returns every branch's residuals (zeros for the branches not taken). scan splits
  its body after a fixed point on which carries are known: the known scan stacks the
  per-iteration residuals as extra outputs (residuals that are loop-invariant consts or
  xs are passed through as they are), the unknown scan reads them back. A while loop
  runs its known part now and stages the whole loop for the unknown part.
- transpose: cond transposes every branch; scan runs the transposed body in the
  opposite direction with the cotangents of its linear consts accumulated in the
  carry. A while loop cannot be transposed (no static trip count), as in JAX.
- batching: a batched cond index turns into select_n over every branch's batched
  outputs; a batched while predicate runs until every lane is done, keeping finished
  lanes unchanged; scan batches its body with the xs batched on axis 1.
"""
from __future__ import annotations

import weakref

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_control as C
from xlafront.core import ClosedGraph, Graph, Var, set_current_trace

from xlafront.transforms import jvp as J
from xlafront.transforms import batching as B
from xlafront.transforms import partial_eval as PE
from xlafront.transforms import transpose as T
from xlafront.transforms.dce import dce_graph

core.register_internal_path(__file__)

Zero = J.Zero


def _can_be_nonzero(aval):
    return dtypes.is_inexact(aval.dtype)


def _cache(store, graph, key, make):
    per = store.get(graph)
    if per is None:
        per = store[graph] = {}
    hit = per.get(key)
    if hit is None:
        hit = per[key] = make()
    return hit


def _trace(fn, avals):
    """ClosedGraph of fn over avals, traced at top level (no outer trace is captured)."""
    return core.trace_to_graph(fn, avals, parent=core.eval_trace)


# ============================================================================ jvp
_jvp_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def jvp_closed(graph: Graph, nonzero: tuple, instantiate):
    """ClosedGraph (primals..., nonzero tangents...) -> (primal outs..., nonzero tangent
    outs...), and which output tangents are nonzero. `instantiate` (a tuple of bools per
    output, or None) forces those output tangents to be nonzero."""
    def make():
        avals = list(graph.in_avals) + [J.tangent_aval(a) for a, nz in zip(graph.in_avals, nonzero) if nz]
        n = len(graph.invars)
        box = []

        def fn(*args):
            prim, tans = args[:n], iter(args[n:])
            tangents = [next(tans) if nz else Zero(J.tangent_aval(a))
                        for nz, a in zip(nonzero, graph.in_avals)]
            outs, touts = J.jvp_flat(lambda *xs: core.eval_graph(graph, [], xs), list(prim), tangents)
            if instantiate is not None:
                touts = [J.instantiate(t) if inst and _can_be_nonzero(t.aval if type(t) is Zero else
                                                                       core.get_aval(t)) else t
                         for t, inst in zip(touts, instantiate)]
            box.append(tuple(type(t) is not Zero for t in touts))
            return list(outs) + [t for t in touts if type(t) is not Zero]

        closed = _trace(fn, avals)
        return closed, box[0]
    return _cache(_jvp_cache, graph, (nonzero, instantiate), make)


def _tangents_out(avals, nz, outs):
    it = iter(outs)
    return [next(it) if z else Zero(J.tangent_aval(a)) for z, a in zip(nz, avals)]


def _cond_jvp(primals, tangents, *, branches):
    index, ops = primals[0], primals[1:]
    nz = tuple(type(t) is not Zero for t in tangents[1:])
    out_avals = branches[0].out_avals
    out_nz = [False] * len(out_avals)
    for b in branches:
        out_nz = [a or b_ for a, b_ in zip(out_nz, jvp_closed(b, nz, None)[1])]
    out_nz = tuple(out_nz)
    closeds = [jvp_closed(b, nz, out_nz)[0] for b in branches]
    graphs, consts = C.join_branches(closeds)
    outs = C.cond_p.bind(index, *consts, *ops, *[t for t in tangents[1:] if type(t) is not Zero],
                         branches=graphs)
    n = len(out_avals)
    return outs[:n], _tangents_out(out_avals, out_nz, outs[n:])


J.jvp_rules[C.cond_p] = _cond_jvp


def _carry_fixpoint(graph, fixed_nz, carry_nz, n_out_carry, rest_nz=()):
    """Which carry tangents are nonzero: iterate until the body's carry outputs agree."""
    carry_nz = list(carry_nz)
    while True:
        _, out_nz = jvp_closed(graph, tuple(fixed_nz) + tuple(carry_nz) + tuple(rest_nz), None)
        new = [a or b for a, b in zip(carry_nz, out_nz[:n_out_carry])]
        if new == carry_nz:
            return tuple(carry_nz)
        carry_nz = new


def _inst(t, nz):
    return J.instantiate(t) if nz else t


def _while_jvp(primals, tangents, *, cond_graph, body_graph, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, carry = primals[:nc], primals[nc:nc + nb], primals[nc + nb:]
    bt, ct = tangents[nc:nc + nb], tangents[nc + nb:]
    b_nz = tuple(type(t) is not Zero for t in bt)
    c_nz = _carry_fixpoint(body_graph, b_nz, [type(t) is not Zero for t in ct], len(carry))
    closed, _ = jvp_closed(body_graph, b_nz + c_nz, c_nz)
    g = closed.graph
    k = len(g.constvars)
    nk = len(carry)
    n_bt = sum(b_nz)
    # jvp graph invars: (bconsts, carry, bconst tangents, carry tangents); the loop wants
    # (graph consts, bconsts, bconst tangents, carry, carry tangents)
    order = list(range(nb)) + list(range(nb + nk, nb + nk + n_bt)) + list(range(nb, nb + nk)) + \
        list(range(nb + nk + n_bt, len(g.invars)))
    body = Graph([], list(g.constvars) + [g.invars[i] for i in order], g.eqns, g.outvars)
    cg = cond_graph
    cond = Graph([], list(cg.invars) + [Var(J.tangent_aval(a)) for a, z in zip(cg.in_avals[nc:], c_nz) if z],
                 cg.eqns, cg.outvars)
    carry_t = [_inst(t, z) for t, z in zip(ct, c_nz) if z]
    outs = C.while_p.bind(*cconsts, *closed.consts, *bconsts, *[t for t in bt if type(t) is not Zero],
                          *carry, *carry_t, cond_graph=C.intern_graph(cond),
                          body_graph=C.intern_graph(body), cond_nconsts=nc,
                          body_nconsts=k + nb + n_bt)
    return outs[:nk], _tangents_out([core.get_aval(x) for x in carry], c_nz, outs[nk:])


J.jvp_rules[C.while_p] = _while_jvp


def _scan_jvp(primals, tangents, *, graph, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    nx = len(primals) - nc - nk
    nz = [type(t) is not Zero for t in tangents]
    k_nz, x_nz = tuple(nz[:nc]), tuple(nz[nc + nk:])
    c_nz = _carry_fixpoint(graph, k_nz, nz[nc:nc + nk], nk, x_nz)
    all_nz = k_nz + c_nz + x_nz
    inst = c_nz + (False,) * (len(graph.outvars) - nk)
    closed, out_nz = jvp_closed(graph, all_nz, inst)
    g = closed.graph
    ny = len(graph.outvars) - nk
    n_kt, n_ct, n_xt = sum(k_nz), sum(c_nz), sum(x_nz)
    base = nc + nk + nx
    # invars (consts, carry, xs, consts_t, carry_t, xs_t) -> (consts, consts_t, carry, carry_t, xs, xs_t)
    order = (list(range(nc)) + list(range(base, base + n_kt)) +
             list(range(nc, nc + nk)) + list(range(base + n_kt, base + n_kt + n_ct)) +
             list(range(nc + nk, base)) + list(range(base + n_kt + n_ct, base + n_kt + n_ct + n_xt)))
    y_nz = out_nz[nk:]
    n_yt = sum(y_nz)
    nout = nk + ny
    # outvars (carry, ys, carry_t, ys_t) -> (carry, carry_t, ys, ys_t)
    out_order = (list(range(nk)) + list(range(nout, nout + n_ct)) + list(range(nk, nout)) +
                 list(range(nout + n_ct, nout + n_ct + n_yt)))
    body = Graph([], list(g.constvars) + [g.invars[i] for i in order], g.eqns,
                 [g.outvars[i] for i in out_order])
    consts, carry, xs = primals[:nc], primals[nc:nc + nk], primals[nc + nk:]
    kt = [t for t in tangents[:nc] if type(t) is not Zero]
    ct = [_inst(t, z) for t, z in zip(tangents[nc:nc + nk], c_nz) if z]
    xt = [t for t in tangents[nc + nk:] if type(t) is not Zero]
    outs = C.scan_p.bind(*closed.consts, *consts, *kt, *carry, *ct, *xs, *xt,
                         graph=C.intern_graph(body), num_consts=len(closed.consts) + nc + n_kt,
                         num_carry=nk + n_ct, length=length, reverse=reverse, unroll=unroll)
    carry_out, carry_t = outs[:nk], outs[nk:nk + n_ct]
    ys, ys_t = outs[nk + n_ct:nk + n_ct + ny], outs[nk + n_ct + ny:]
    out_avals = [core.get_aval(x) for x in (*carry_out, *ys)]
    return [*carry_out, *ys], _tangents_out(out_avals, c_nz + y_nz, [*carry_t, *ys_t])


J.jvp_rules[C.scan_p] = _scan_jvp


# ============================================================================ partial evaluation
def pe_instantiate(graph: Graph, known: tuple, unknown_out: tuple):
    """partial_eval_graph, with the outputs marked in `unknown_out` made unknown even
    where they could be known (their known value is passed on as a residual).
    Returns (known graph, unknown graph, out_known, num_res)."""
    kg, ug, out_k, nres = PE.partial_eval_graph(graph, known)
    force = [k and u for k, u in zip(out_k, unknown_out)]
    if not any(force):
        return kg, ug, out_k, nres
    n_known = len(kg.outvars) - nres
    known_pos = [i for i, k in enumerate(out_k) if k]
    kouts = list(kg.outvars[:n_known])
    res = list(kg.outvars[n_known:])
    keep, moved = [], []
    for i, v in zip(known_pos, kouts):
        (moved if force[i] else keep).append((i, v))
    new_kg = Graph(kg.constvars, kg.invars, kg.eqns, [v for _, v in keep] + res + [v for _, v in moved])
    moved_vars = {i: Var(v.aval) for i, v in moved}
    ug_res, ug_rest = ug.invars[:nres], ug.invars[nres:]
    uo = iter(ug.outvars)
    new_outs = []
    for i, k in enumerate(out_k):
        if k:
            if force[i]:
                new_outs.append(moved_vars[i])
        else:
            new_outs.append(next(uo))
    new_ug = Graph(ug.constvars, ug_res + [moved_vars[i] for i, _ in moved] + ug_rest, ug.eqns, new_outs)
    new_out_k = tuple(k and not f for k, f in zip(out_k, force))
    return new_kg, new_ug, new_out_k, nres + len(moved)


_cond_pe_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def split_cond(branches, known: tuple):
    """Known branches (known ops -> known outs + all residuals), unknown branches
    (all residuals + unknown ops -> unknown outs), out_known, residual avals."""
    def make():
        n_out = len(branches[0].outvars)
        splits = [PE.partial_eval_graph(b, known) for b in branches]
        out_known = tuple(all(s[2][i] for s in splits) for i in range(n_out))
        splits = [pe_instantiate(b, known, tuple(not k for k in out_known)) for b in branches]
        res_avals = []
        slots = []
        for kg, _, _, nres in splits:
            slots.append((len(res_avals), nres))
            res_avals.extend(kg.out_avals[len(kg.outvars) - nres:])
        kbs, ubs = [], []
        for (kg, ug, _, nres), (start, n) in zip(splits, slots):
            nk_out = len(kg.outvars) - nres

            def kfn(*args, kg=kg, start=start, n=n, nk_out=nk_out):
                outs = core.eval_graph(kg, [], args)
                pre = [J.zeros(a) for a in res_avals[:start]]
                post = [J.zeros(a) for a in res_avals[start + n:]]
                return outs[:nk_out] + pre + outs[nk_out:] + post
            kc = _trace(kfn, kg.in_avals)
            kbs.append(kc)
            pre = [Var(a) for a in res_avals[:start]]
            post = [Var(a) for a in res_avals[start + n:]]
            ubs.append(ClosedGraph(Graph([], pre + list(ug.invars[:nres]) + post + list(ug.invars[nres:]),
                                         ug.eqns, ug.outvars), []))
        kgraphs, kconsts = C.join_branches(kbs)
        ugraphs, _ = C.join_branches(ubs)
        return kgraphs, kconsts, ugraphs, out_known, res_avals
    return _cache(_cond_pe_cache, branches[0], (branches, known), make)


def _cond_pe(trace, args, params):
    branches = params["branches"]
    index, ops = args[0], args[1:]
    if trace.is_unknown(index):
        return trace.stage(C.cond_p, args, params)
    known = tuple(not trace.is_unknown(x) for x in ops)
    kgraphs, kconsts, ugraphs, out_known, res_avals = split_cond(branches, known)
    with set_current_trace(trace.parent):
        kouts = C.cond_p.bind(index, *kconsts, *[x for x, k in zip(ops, known) if k], branches=kgraphs)
    n_known = sum(out_known)
    known_outs, res = kouts[:n_known], kouts[n_known:]
    if all(out_known):
        return known_outs
    uouts = trace.stage(C.cond_p, [index, *res, *[x for x, k in zip(ops, known) if not k]],
                        dict(branches=ugraphs))
    ki, ui = iter(known_outs), iter(uouts)
    return [next(ki) if k else next(ui) for k in out_known]


PE.partial_eval_rules[C.cond_p] = _cond_pe


def _cond_pe_graph(eqn, ks):
    branches = eqn.params["branches"]
    if not ks[0]:
        return None, eqn, (False,) * len(eqn.outvars), []
    known = tuple(ks[1:])
    ops = eqn.invars[1:]
    kgraphs, kconsts, ugraphs, out_known, res_avals = split_cond(branches, known)
    if kconsts:   # constants made while splitting: stage the whole conditional instead
        return None, eqn, (False,) * len(eqn.outvars), []
    res = [Var(a) for a in res_avals]
    kouts = [v for v, k in zip(eqn.outvars, out_known) if k]
    keqn = core.Equation(C.cond_p, [eqn.invars[0]] + [v for v, k in zip(ops, known) if k], kouts + res,
                         dict(branches=kgraphs), eqn.source)
    ueqn = None
    if not all(out_known):
        ueqn = core.Equation(C.cond_p, [eqn.invars[0]] + res + [v for v, k in zip(ops, known) if not k],
                             [v for v, k in zip(eqn.outvars, out_known) if not k],
                             dict(branches=ugraphs), eqn.source)
    return keqn, ueqn, out_known, res


PE.partial_eval_graph_rules[C.cond_p] = _cond_pe_graph


# ---------------------------------------------------------------------------- scan
_scan_pe_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _known_carry_fixpoint(graph, fixed_k, carry_k, rest_k=()):
    """Which carries are known: iterate until the body's known carry outputs agree with
    them. Returns (carry known, partial_eval_graph of the body at that fixed point)."""
    carry_k = list(carry_k)
    nk = len(carry_k)
    while True:
        split = PE.partial_eval_graph(graph, tuple(fixed_k) + tuple(carry_k) + tuple(rest_k))
        new = [a and b for a, b in zip(carry_k, split[2][:nk])]
        if new == carry_k:
            return carry_k, split
        carry_k = new


def split_scan(graph, num_consts, num_carry, known: tuple):
    """Split a scan body. Returns a dict describing the known scan (its body, number of
    carries and ys, which residuals it stacks) and the unknown scan (its body and the
    layout of its operands)."""
    def make():
        nc, nk = num_consts, num_carry
        k_k, x_k = list(known[:nc]), list(known[nc + nk:])
        c_k, _ = _known_carry_fixpoint(graph, k_k, known[nc:nc + nk], x_k)
        full_known = tuple(k_k + c_k + x_k)
        unknown_out = tuple(not k for k in c_k) + (False,) * (len(graph.outvars) - nk)
        kg, ug, out_k, nres = pe_instantiate(graph, full_known, unknown_out)
        n_kout = len(kg.outvars) - nres
        res_vars = kg.outvars[n_kout:]
        # residuals that are known consts or known xs of the body are not stacked again
        kin = list(kg.invars)
        n_kc, n_kk = sum(k_k), sum(c_k)
        res_kind = []   # ("const", i) | ("xs", i) | ("stack",)
        for v in res_vars:
            if type(v) is Var and v in kin[:n_kc]:
                res_kind.append(("const", kin.index(v)))
            elif type(v) is Var and v in kin[n_kc + n_kk:]:
                res_kind.append(("xs", kin.index(v) - n_kc - n_kk))
            else:
                res_kind.append(("stack",))
        stacked = [v for v, kd in zip(res_vars, res_kind) if kd[0] == "stack"]
        known_body = Graph([], kg.invars, kg.eqns, list(kg.outvars[:n_kout]) + stacked)
        # unknown body invars: res (in order) + unknown consts, carry, xs -> reorder to
        # (const-like res, unknown consts, unknown carry, xs-like res, unknown xs)
        u_res, u_rest = list(ug.invars[:nres]), list(ug.invars[nres:])
        n_uc, n_uk = nc - n_kc, nk - n_kk
        const_res = [u for u, kd in zip(u_res, res_kind) if kd[0] == "const"]
        xs_res = [u for u, kd in zip(u_res, res_kind) if kd[0] != "const"]
        unknown_body = Graph([], const_res + u_rest[:n_uc] + u_rest[n_uc:n_uc + n_uk] + xs_res +
                             u_rest[n_uc + n_uk:], ug.eqns, ug.outvars)
        return dict(known=full_known, out_known=out_k, known_body=C.intern_graph(known_body),
                    unknown_body=C.intern_graph(unknown_body), res_kind=res_kind,
                    n_kcarry=n_kk, n_kys=n_kout - n_kk)
    return _cache(_scan_pe_cache, graph, (num_consts, num_carry, known), make)


def _scan_pe(trace, args, params):
    nc, nk = params["num_consts"], params["num_carry"]
    known = tuple(not trace.is_unknown(x) for x in args)
    sp = split_scan(params["graph"], nc, nk, known)
    full_known = sp["known"]
    consts, carry, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    k_ops = [x for x, k in zip(args, full_known) if k]
    n_kc = sum(full_known[:nc])
    n_kk = sp["n_kcarry"]
    rest = dict(length=params["length"], reverse=params["reverse"], unroll=params["unroll"])
    with set_current_trace(trace.parent):
        kouts = C.scan_p.bind(*k_ops, graph=sp["known_body"], num_consts=n_kc, num_carry=n_kk, **rest)
    n_kout = n_kk + sp["n_kys"]
    known_outs, stacked = kouts[:n_kout], iter(kouts[n_kout:])
    const_res, xs_res = _scan_residuals(sp, consts, xs, nc, nk, stacked)
    out_k = sp["out_known"]
    if all(out_k):
        return known_outs
    u_consts = [x for x, k in zip(consts, full_known[:nc]) if not k]
    u_carry = [x for x, k in zip(carry, full_known[nc:nc + nk]) if not k]
    u_xs = [x for x, k in zip(xs, full_known[nc + nk:]) if not k]
    uouts = trace.stage(C.scan_p, [*const_res, *u_consts, *u_carry, *xs_res, *u_xs],
                        dict(graph=sp["unknown_body"], num_consts=len(const_res) + len(u_consts),
                             num_carry=len(u_carry), **rest))
    ki, ui = iter(known_outs), iter(uouts)
    return [next(ki) if k else next(ui) for k in out_k]


PE.partial_eval_rules[C.scan_p] = _scan_pe


def _scan_residuals(sp, consts, xs, nc, nk, stacked):
    """The residuals the unknown scan body takes, in split_scan's order (`res_kind`): known
    consts as consts; known xs, and the known body's per-step residuals (`stacked`, the
    known scan's stacked outputs), as xs. Returns (const residuals, xs residuals)."""
    known = sp["known"]
    k_consts = [x for x, k in zip(consts, known[:nc]) if k]
    k_xs = [x for x, k in zip(xs, known[nc + nk:]) if k]
    const_res, xs_res = [], []
    for kd in sp["res_kind"]:
        if kd[0] == "const":
            const_res.append(k_consts[kd[1]])
        elif kd[0] == "xs":
            xs_res.append(k_xs[kd[1]])
        else:
            xs_res.append(next(stacked))
    return const_res, xs_res


def _scan_pe_graph(eqn, ks):
    p = eqn.params
    nc, nk = p["num_consts"], p["num_carry"]
    sp = split_scan(p["graph"], nc, nk, tuple(ks))
    full_known = sp["known"]
    ins = eqn.invars
    consts, carry, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    n_kc = sum(full_known[:nc])
    n_kk = sp["n_kcarry"]
    rest = dict(length=p["length"], reverse=p["reverse"], unroll=p["unroll"])
    out_k = sp["out_known"]
    kb = sp["known_body"]
    n_kout = n_kk + sp["n_kys"]
    stacked = [Var(a.update(shape=(p["length"], *a.shape))) for a in kb.out_avals[n_kout:]]
    k_outs = [v for v, k in zip(eqn.outvars, out_k) if k]
    keqn = core.Equation(C.scan_p, [x for x, k in zip(ins, full_known) if k], k_outs + stacked,
                         dict(graph=kb, num_consts=n_kc, num_carry=n_kk, **rest), eqn.source)
    const_res, xs_res = _scan_residuals(sp, consts, xs, nc, nk, iter(stacked))
    ueqn = None
    if not all(out_k):
        u_consts = [x for x, k in zip(consts, full_known[:nc]) if not k]
        u_carry = [x for x, k in zip(carry, full_known[nc:nc + nk]) if not k]
        u_xs = [x for x, k in zip(xs, full_known[nc + nk:]) if not k]
        ueqn = core.Equation(C.scan_p, [*const_res, *u_consts, *u_carry, *xs_res, *u_xs],
                             [v for v, k in zip(eqn.outvars, out_k) if not k],
                             dict(graph=sp["unknown_body"], num_consts=len(const_res) + len(u_consts),
                                  num_carry=len(u_carry), **rest), eqn.source)
    return keqn, ueqn, out_k, stacked


PE.partial_eval_graph_rules[C.scan_p] = _scan_pe_graph


# ---------------------------------------------------------------------------- while
_while_pe_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _while_known_part(params, known):
    """(known cond graph, known body graph, carry known, body consts known) or None if
    the loop's predicate depends on an unknown value.

    The known loop runs the known parts of cond and body (their partial evaluations, so
    a nested loop or cond contributes its own known part) on the known carries."""
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    cg, bg = params["cond_graph"], params["body_graph"]

    def make():
        cc_k, bc_k = list(known[:nc]), list(known[nc:nc + nb])
        c_k, (kbg, _, out_k, _) = _known_carry_fixpoint(bg, bc_k, known[nc + nb:])
        kcg, _, cond_k, _ = PE.partial_eval_graph(cg, tuple(cc_k + c_k))
        if not all(cc_k) or not cond_k[0] or all(c_k):
            return (None,)
        # kbg's outputs: the known body outputs (in order), then residuals; keep the known carries
        known_outs = iter(kbg.outvars)
        kept = [v for v, ok, ck in ((next(known_outs) if ok else None, ok, ck) for ok, ck in zip(out_k, c_k))
                if ck]
        kbody = dce_graph(Graph([], kbg.invars, kbg.eqns, kept))
        kcond = dce_graph(Graph([], kcg.invars, kcg.eqns, kcg.outvars[:1]))
        return (C.intern_graph(kcond), C.intern_graph(kbody), c_k, bc_k),
    return _cache(_while_pe_cache, bg, (cg, nc, nb, known), make)[0]


def _while_pe(trace, args, params):
    known = tuple(not trace.is_unknown(x) for x in args)
    part = _while_known_part(params, known)
    if part is None:
        return trace.stage(C.while_p, args, params)
    kcond, kbody, c_k, bc_k = part
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    carry = args[nc + nb:]
    with set_current_trace(trace.parent):
        kouts = C.while_p.bind(*args[:nc], *[x for x, k in zip(args[nc:nc + nb], bc_k) if k],
                               *[x for x, k in zip(carry, c_k) if k], cond_graph=kcond, body_graph=kbody,
                               cond_nconsts=nc, body_nconsts=sum(bc_k))
    uouts = trace.stage(C.while_p, args, params)
    ki = iter(kouts)
    return [next(ki) if k else u for k, u in zip(c_k, uouts)]


PE.partial_eval_rules[C.while_p] = _while_pe


def _while_pe_graph(eqn, ks):
    part = _while_known_part(eqn.params, tuple(ks))
    if part is None:
        return None, eqn, (False,) * len(eqn.outvars), []
    kcond, kbody, c_k, bc_k = part
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    ins = eqn.invars
    carry_in = ins[nc + nb:]
    kouts = [v for v, k in zip(eqn.outvars, c_k) if k]
    keqn = core.Equation(C.while_p, list(ins[:nc]) + [x for x, k in zip(ins[nc:nc + nb], bc_k) if k] +
                         [x for x, k in zip(carry_in, c_k) if k], kouts,
                         dict(cond_graph=kcond, body_graph=kbody, cond_nconsts=nc,
                              body_nconsts=sum(bc_k)), eqn.source)
    uouts = [Var(v.aval) if k else v for v, k in zip(eqn.outvars, c_k)]
    ueqn = core.Equation(C.while_p, list(ins), uouts, dict(p), eqn.source)
    return keqn, ueqn, tuple(c_k), []


PE.partial_eval_graph_rules[C.while_p] = _while_pe_graph


# ============================================================================ transpose
_cond_t_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _transposed_branch(graph, linear_mask, ct_mask, inst):
    """ClosedGraph (residual ops..., nonzero cts...) -> cts of the linear ops (those in
    `inst` instantiated, the others only where nonzero); and the nonzero mask."""
    def make():
        res_avals = [a for a, l in zip(graph.in_avals, linear_mask) if not l]
        ct_avals = [J.tangent_aval(a) for a, m in zip(graph.out_avals, ct_mask) if m]
        nres = len(res_avals)
        box = []

        def fn(*args):
            res, cts = iter(args[:nres]), iter(args[nres:])
            lin = [None if l else next(res) for l in linear_mask]
            cts_out = [next(cts) if m else Zero(J.tangent_aval(a)) for m, a in zip(ct_mask, graph.out_avals)]
            cts_in = T.backward_pass(graph, [], lin, cts_out)
            cts_in = [c for c, l in zip(cts_in, linear_mask) if l]
            if inst is not None:
                cts_in = [J.instantiate(c) if i and _can_be_nonzero(c.aval if type(c) is Zero else
                                                                     core.get_aval(c)) else c
                          for c, i in zip(cts_in, inst)]
            box.append(tuple(type(c) is not Zero for c in cts_in))
            return [c for c in cts_in if type(c) is not Zero]

        closed = _trace(fn, res_avals + ct_avals)
        return closed, box[0]
    return _cache(_cond_t_cache, graph, (linear_mask, ct_mask, inst), make)


def _cond_t(cts, index, *ops, branches):
    if T.is_undefined(index):
        raise ValueError("cond: cannot transpose with respect to the branch index")
    linear_mask = tuple(T.is_undefined(x) for x in ops)
    ct_mask = tuple(type(c) is not Zero for c in cts)
    n_lin = sum(linear_mask)
    nz = [False] * n_lin
    for b in branches:
        nz = [a or b_ for a, b_ in zip(nz, _transposed_branch(b, linear_mask, ct_mask, None)[1])]
    nz = tuple(nz)
    closeds = [_transposed_branch(b, linear_mask, ct_mask, nz)[0] for b in branches]
    graphs, consts = C.join_branches(closeds)
    res = [x for x in ops if not T.is_undefined(x)]
    outs = iter(C.cond_p.bind(index, *consts, *res, *[c for c in cts if type(c) is not Zero],
                              branches=graphs))
    nzi = iter(nz)
    result = [None]
    for x in ops:
        if T.is_undefined(x):
            result.append(next(outs) if next(nzi) else Zero(J.tangent_aval(x.aval)))
        else:
            result.append(None)
    return result


T.transpose_rules[C.cond_p] = _cond_t

_scan_t_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _transposed_scan_body(graph, nc, nk, linear_mask, ct_y_mask):
    """ClosedGraph of the transposed body: (res consts, ct const accumulators, ct carry,
    res x slices, nonzero ct y slices) -> (accumulators, ct carry, ct x slices)."""
    def make():
        avals = graph.in_avals
        lin_c, lin_x = linear_mask[:nc], linear_mask[nc + nk:]
        res_c_avals = [a for a, l in zip(avals[:nc], lin_c) if not l]
        acc_avals = [J.tangent_aval(a) for a, l in zip(avals[:nc], lin_c) if l]
        ct_c_avals = [J.tangent_aval(a) for a in avals[nc:nc + nk]]
        res_x_avals = [a for a, l in zip(avals[nc + nk:], lin_x) if not l]
        y_avals = graph.out_avals[nk:]
        ct_y_avals = [J.tangent_aval(a) for a, m in zip(y_avals, ct_y_mask) if m]
        sizes = [len(res_c_avals), len(acc_avals), len(ct_c_avals), len(res_x_avals), len(ct_y_avals)]

        def fn(*args):
            it = iter(args)
            res_c, acc, ct_c, res_x, ct_y = [[next(it) for _ in range(n)] for n in sizes]
            rc, rx = iter(res_c), iter(res_x)
            lin = ([None if l else next(rc) for l in lin_c] + [None] * nk +
                   [None if l else next(rx) for l in lin_x])
            cy = iter(ct_y)
            cts_out = list(ct_c) + [next(cy) if m else Zero(J.tangent_aval(a))
                                    for m, a in zip(ct_y_mask, y_avals)]
            cts_in = T.backward_pass(graph, [], lin, cts_out)
            ct_consts = [c for c, l in zip(cts_in[:nc], lin_c) if l]
            new_acc = [J.instantiate(J.add_tangents(a, c)) for a, c in zip(acc, ct_consts)]
            new_ct_c = [J.instantiate(c) for c in cts_in[nc:nc + nk]]
            ct_x = [J.instantiate(c) for c, l in zip(cts_in[nc + nk:], lin_x) if l]
            return new_acc + new_ct_c + ct_x

        return _trace(fn, res_c_avals + acc_avals + ct_c_avals + res_x_avals + ct_y_avals)
    return _cache(_scan_t_cache, graph, (nc, nk, linear_mask, ct_y_mask), make)


def _scan_t(cts, *args, graph, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    # Every carry of a linear scan is a tangent; one whose initial value is a constant
    # (a zero that partial evaluation left known) is transposed like the others and its
    # cotangent dropped.
    linear_mask = tuple(T.is_undefined(x) for x in args[:nc]) + (True,) * nk + \
        tuple(T.is_undefined(x) for x in xs)
    ct_carry, ct_ys = cts[:nk], cts[nk:]
    ct_y_mask = tuple(type(c) is not Zero for c in ct_ys)
    closed = _transposed_scan_body(graph, nc, nk, linear_mask, ct_y_mask)
    body, bconsts = C.hoist(closed)
    res_c = [x for x in consts if not T.is_undefined(x)]
    acc0 = [J.zeros(J.tangent_aval(x.aval)) for x in consts if T.is_undefined(x)]
    ct_c0 = [J.instantiate(c) for c in ct_carry]
    res_x = [x for x in xs if not T.is_undefined(x)]
    ct_y = [c for c in ct_ys if type(c) is not Zero]
    n_acc = len(acc0)
    outs = C.scan_p.bind(*bconsts, *res_c, *acc0, *ct_c0, *res_x, *ct_y, graph=C.intern_graph(body),
                         num_consts=len(bconsts) + len(res_c), num_carry=n_acc + nk, length=length,
                         reverse=not reverse, unroll=unroll)
    acc, ct_init, ct_xs = iter(outs[:n_acc]), iter(outs[n_acc:n_acc + nk]), iter(outs[n_acc + nk:])
    result = []
    for x in consts:
        result.append(next(acc) if T.is_undefined(x) else None)
    for x in carry:
        c = next(ct_init)
        result.append(c if T.is_undefined(x) else None)
    for x in xs:
        result.append(next(ct_xs) if T.is_undefined(x) else None)
    return result


T.transpose_rules[C.scan_p] = _scan_t


def _while_t(cts, *args, **params):
    raise ValueError("Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
                     "with dynamic start/stop values. Try using lax.scan, or using fori_loop with "
                     "static start/stop.")


T.transpose_rules[C.while_p] = _while_t


# ============================================================================ batching
def _cond_batch(args, dims, *, branches):
    size = B.axis_size_of(args, dims)
    index, ops = args[0], args[1:]
    idx_dim, op_dims = dims[0], list(dims[1:])
    if idx_dim is not None:
        # a batched predicate: every branch runs on the whole batch, then select per lane
        outs_per_branch = []
        n_out = len(branches[0].outvars)
        for b in branches:
            g, consts, _ = B.batch_graph(b, op_dims, size, force_batched=(True,) * n_out)
            outs_per_branch.append(core.eval_graph(g, [], [*consts, *ops]))
        idx = B.moveaxis(index, idx_dim, 0)
        outs = []
        for i in range(n_out):
            cases = [o[i] for o in outs_per_branch]
            shape = core.get_aval(cases[0]).shape
            which = P.broadcast_in_dim(idx, shape, (0,)) if len(shape) > 1 else idx
            if len(branches) == 2:
                which = P.convert_element_type(which, dtypes.bool_)
            outs.append(P.select_n(which, *cases))
        return outs, [0] * n_out
    n_out = len(branches[0].outvars)
    force = [False] * n_out
    for b in branches:
        _, _, od = B.batch_graph(b, op_dims, size)
        force = [f or d is not None for f, d in zip(force, od)]
    force = tuple(force)
    closeds = []
    for b in branches:
        g, consts, _ = B.batch_graph(b, op_dims, size, force_batched=force)
        k = len(consts)
        closeds.append(ClosedGraph(Graph(g.invars[:k], g.invars[k:], g.eqns, g.outvars), list(consts)))
    graphs, consts = C.join_branches(closeds)
    outs = C.cond_p.bind(index, *consts, *ops, branches=graphs)
    return outs, [0 if f else None for f in force]


B.batch_rules[C.cond_p] = _cond_batch


def _carry_batched(graph, fixed_dims, carry_b, n_carry, rest_dims, size):
    carry_b = list(carry_b)
    while True:
        dims = list(fixed_dims) + [0 if b else None for b in carry_b] + list(rest_dims)
        _, _, od = B.batch_graph(graph, dims, size, force_batched=tuple(carry_b) + (False,) *
                                 (len(graph.outvars) - n_carry))
        new = [b or d is not None for b, d in zip(carry_b, od[:n_carry])]
        if new == carry_b:
            return carry_b
        carry_b = new


def _to0(x, d, size, batched):
    if not batched:
        return x
    return B.bdim_to(x, d, size, 0)


def _while_batch(args, dims, *, cond_graph, body_graph, cond_nconsts, body_nconsts):
    size = B.axis_size_of(args, dims)
    nc, nb = cond_nconsts, body_nconsts
    nk = len(args) - nc - nb
    cc_d, bc_d, c_d = list(dims[:nc]), list(dims[nc:nc + nb]), list(dims[nc + nb:])
    carry_b = _carry_batched(body_graph, bc_d, [d is not None for d in c_d], nk, (), size)
    cdims = cc_d + [0 if b else None for b in carry_b]
    _, _, pd = B.batch_graph(cond_graph, cdims, size)
    pred_batched = pd[0] is not None
    if pred_batched:
        carry_b = [True] * nk
        cdims = cc_d + [0] * nk
    carry = [_to0(x, d, size, b) for x, d, b in zip(args[nc + nb:], c_d, carry_b)]
    bdims = bc_d + [0 if b else None for b in carry_b]
    bg, bconsts, _ = B.batch_graph(body_graph, bdims, size, force_batched=tuple(carry_b))
    cg, cconsts, _ = B.batch_graph(cond_graph, cdims, size)
    if not pred_batched:
        outs = C.while_p.bind(*cconsts, *args[:nc], *bconsts, *args[nc:nc + nb], *carry,
                              cond_graph=C.intern_graph(cg), body_graph=C.intern_graph(bg),
                              cond_nconsts=len(cconsts) + nc, body_nconsts=len(bconsts) + nb)
        return outs, [0 if b else None for b in carry_b]
    # batched predicate: loop while any lane runs; finished lanes keep their values
    n_cc = len(cconsts) + nc
    n_bc = len(bconsts) + nb
    c_avals = [core.get_aval(x) for x in (*cconsts, *args[:nc])]
    b_avals = [core.get_aval(x) for x in (*bconsts, *args[nc:nc + nb])]
    k_avals = [core.get_aval(x) for x in carry]

    def new_cond(*a):
        pred = core.eval_graph(cg, [], a)[0]
        return [P.reduce_or(pred, (0,))]

    def new_body(*a):
        cc, bc, k = a[:n_cc], a[n_cc:n_cc + n_bc], a[n_cc + n_bc:]
        pred = core.eval_graph(cg, [], [*cc, *k])[0]
        new = core.eval_graph(bg, [], [*bc, *k])
        out = []
        for n, o in zip(new, k):
            shape = core.get_aval(o).shape
            p = P.broadcast_in_dim(pred, shape, (0,)) if len(shape) > 1 else pred
            out.append(P.select(p, n, o))
        return out

    ncg, ncc = C.hoist(_trace(new_cond, c_avals + k_avals))
    nbg, nbc = C.hoist(_trace(new_body, c_avals + b_avals + k_avals))
    outs = C.while_p.bind(*ncc, *cconsts, *args[:nc], *nbc, *cconsts, *args[:nc], *bconsts,
                          *args[nc:nc + nb], *carry, cond_graph=C.intern_graph(ncg),
                          body_graph=C.intern_graph(nbg), cond_nconsts=len(ncc) + n_cc,
                          body_nconsts=len(nbc) + n_cc + n_bc)
    return outs, [0] * nk


B.batch_rules[C.while_p] = _while_batch


def _scan_batch(args, dims, *, graph, num_consts, num_carry, length, reverse, unroll):
    size = B.axis_size_of(args, dims)
    nc, nk = num_consts, num_carry
    k_d, c_d, x_d = list(dims[:nc]), list(dims[nc:nc + nk]), list(dims[nc + nk:])
    x_slice_d = [None if d is None else 0 for d in x_d]
    carry_b = _carry_batched(graph, k_d, [d is not None for d in c_d], nk, x_slice_d, size)
    ny = len(graph.outvars) - nk
    g, consts, od = B.batch_graph(graph, k_d + [0 if b else None for b in carry_b] + x_slice_d, size,
                                  force_batched=tuple(carry_b) + (False,) * ny)
    carry = [_to0(x, d, size, b) for x, d, b in zip(args[nc:nc + nk], c_d, carry_b)]
    xs = [x if d is None else B.moveaxis(x, d, 1) for x, d in zip(args[nc + nk:], x_d)]
    outs = C.scan_p.bind(*consts, *args[:nc], *carry, *xs, graph=C.intern_graph(g),
                         num_consts=len(consts) + nc, num_carry=nk, length=length, reverse=reverse,
                         unroll=unroll)
    y_dims = [None if d is None else 1 for d in od[nk:]]
    return outs, [0 if b else None for b in carry_b] + y_dims


B.batch_rules[C.scan_p] = _scan_batch
