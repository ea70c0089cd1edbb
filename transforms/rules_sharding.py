"""jvp, transpose and batching rules of sharding_constraint (xlafront/primitives_sharding.py):
linear (tangents and cotangents take the same constraint); under vmap the batch axis is
inserted into the spec unsplit. Below: the rules of shard_map_p and the collectives (jvp,
transpose, partial evaluation, batching over an unnamed axis, and `batching.axis_rules` for a
collective over a named vmap axis)."""
from __future__ import annotations

from xlafront import primitives_sharding as PS
from xlafront.core import register_internal_path
from xlafront.transforms import jvp as J
from xlafront.transforms import batching as B
from xlafront.transforms.transpose import transpose_rules

register_internal_path(__file__)

J._linear(PS.sharding_constraint_p)


def _transpose(ct, x, *, sharding):
    return [PS.sharding_constraint_p.bind(ct, sharding=sharding)]


def _batch(args, dims, *, sharding):
    (x,), (d,) = args, dims
    if d is None:
        return PS.sharding_constraint_p.bind(x, sharding=sharding), None
    spec = list(sharding.spec) + [None] * (x.ndim - 1 - len(sharding.spec))
    spec.insert(d, None)
    return PS.sharding_constraint_p.bind(x, sharding=sharding.with_spec(type(sharding.spec)(*spec))), d


transpose_rules[PS.sharding_constraint_p] = _transpose
B.batch_rules[PS.sharding_constraint_p] = _batch


# ----------------------------------------------------------------------------- shard_map and collectives
# Autodiff follows the "every value may vary across devices" convention: psum's transpose is
# psum. At a shard_map's boundary, an output whose out_spec leaves some mesh axes out stands
# for one global value held by all the devices along them, so its cotangent enters the
# transposed body divided by their number; an input whose in_spec leaves axes out was
# broadcast to those devices, so its cotangent is summed over them (psum) on the way out.
import weakref  # noqa: E402

import numpy as np  # noqa: E402

from xlafront import core  # noqa: E402
from xlafront import primitives as P  # noqa: E402
from xlafront.transforms import partial_eval as PE  # noqa: E402
from xlafront.transforms.jvp import Zero, tangent_aval  # noqa: E402
from xlafront.transforms.transpose import backward_pass, is_undefined  # noqa: E402

_LINEAR_COLLECTIVES = (PS.psum_p, PS.all_gather_p, PS.psum_scatter_p, PS.ppermute_p, PS.all_to_all_p)
for _p in _LINEAR_COLLECTIVES:
    J._linear(_p)


def _psum_t(ct, x, *, axes):
    return [PS.psum_p.bind(ct, axes=axes)]


def _all_gather_t(ct, x, *, axes, axis_size, axis, tiled):
    return [PS.psum_scatter_p.bind(ct, axes=axes, axis_size=axis_size, scatter_dimension=axis, tiled=tiled)]


def _psum_scatter_t(ct, x, *, axes, axis_size, scatter_dimension, tiled):
    return [PS.all_gather_p.bind(ct, axes=axes, axis_size=axis_size, axis=scatter_dimension, tiled=tiled)]


def _ppermute_t(ct, x, *, axes, perm):
    return [PS.ppermute_p.bind(ct, axes=axes, perm=tuple((t, s) for s, t in perm))]


def _all_to_all_t(ct, x, *, axes, axis_size, split_axis, concat_axis):
    return [PS.all_to_all_p.bind(ct, axes=axes, axis_size=axis_size, split_axis=concat_axis,
                                 concat_axis=split_axis)]


transpose_rules[PS.psum_p] = _psum_t
transpose_rules[PS.all_gather_p] = _all_gather_t
transpose_rules[PS.psum_scatter_p] = _psum_scatter_t
transpose_rules[PS.ppermute_p] = _ppermute_t
transpose_rules[PS.all_to_all_p] = _all_to_all_t


def _pextremum_jvp(prim):
    """pmax/pmin: the tangent of the devices holding the extremum (ties share it equally, as
    reduce_max's derivative does)."""
    def rule(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        if type(t) is Zero:
            return out, Zero(tangent_aval(core.get_aval(out)))
        a = core.get_aval(x)
        hit = P.eq(x, out)
        zero = P.broadcast_in_dim_p.bind(np.zeros((), a.dtype)[()], shape=a.shape, broadcast_dimensions=())
        one = P.broadcast_in_dim_p.bind(np.ones((), a.dtype)[()], shape=a.shape, broadcast_dimensions=())
        count = PS.psum_p.bind(P.select_n(hit, zero, one), axes=axes)
        picked = PS.psum_p.bind(P.select_n(hit, zero, t), axes=axes)
        return out, P.div(picked, count)
    return rule


J.jvp_rules[PS.pmax_p] = _pextremum_jvp(PS.pmax_p)
J.jvp_rules[PS.pmin_p] = _pextremum_jvp(PS.pmin_p)


# ---- batching over an axis that is not a collective's (vmap of a shard_map, vmap in a body)
def _same_dim(prim):
    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **params), d
    return rule


def _at_front(prim, *keys):
    """Batch axis moved to the front; the params in `keys` (axes of the operand) shift by one."""
    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        x = B.moveaxis(x, d, 0)
        return prim.bind(x, **dict(params, **{k: params[k] + 1 for k in keys})), 0
    return rule


for _p in (PS.psum_p, PS.pmax_p, PS.pmin_p, PS.ppermute_p):
    B.batch_rules[_p] = _same_dim(_p)
B.batch_rules[PS.axis_index_p] = lambda args, dims, **params: (PS.axis_index_p.bind(**params), None)  # no operands
B.batch_rules[PS.all_gather_p] = _at_front(PS.all_gather_p, "axis")
B.batch_rules[PS.psum_scatter_p] = _at_front(PS.psum_scatter_p, "scatter_dimension")
B.batch_rules[PS.all_to_all_p] = _at_front(PS.all_to_all_p, "split_axis", "concat_axis")


# ---- shard_map_p itself
def _replicated():
    return PS.partition_spec()


def _hoisted(closed):
    g = closed.graph
    return core.Graph([], g.constvars + g.invars, g.eqns, g.outvars), list(closed.consts)


def _bind(args, body, mesh, in_specs, out_specs):
    return PS.shard_map_p.bind(*args, **PS.shard_map_params(body, mesh, in_specs, out_specs))


def _shard_map_jvp(primals, tangents, *, body, mesh, in_specs, out_specs, out_avals, **_):
    nonzero = tuple(type(t) is not Zero for t in tangents)
    new, consts, out_nz = J.jvp_graph(body, nonzero)
    consts = list(consts)
    specs = [_replicated()] * len(consts) + list(in_specs) + [s for s, nz in zip(in_specs, nonzero) if nz]
    ospecs = list(out_specs) + [s for s, nz in zip(out_specs, out_nz) if nz]
    outs = _bind([*consts, *primals, *[t for t in tangents if type(t) is not Zero]], new, mesh, specs, ospecs)
    n = len(body.outvars)
    tans = iter(outs[n:])
    touts = [next(tans) if nz else Zero(tangent_aval(a)) for nz, a in zip(out_nz, out_avals)]
    return list(outs[:n]), touts


J.jvp_rules[PS.shard_map_p] = _shard_map_jvp


_split_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _split(body, known, mesh, in_specs, out_specs):
    """Partial evaluation of a shard_map body with the inputs marked in `known` known.

    Returns (kbody, kspecs_out, ubody, uspecs_in, out_known, plan): kbody maps the known inputs
    to (known outputs..., new residuals...); ubody maps (residuals..., unknown inputs...) to
    the unknown outputs. A residual that is a known input is passed on as that input
    (plan entry ('in', index among the known inputs)); the others leave the known shard_map
    stacked along a new leading axis split over every mesh axis (plan entry ('new', None)),
    which the unknown body drops again."""
    per = _split_cache.get(body)
    if per is None:
        per = _split_cache[body] = {}
    key = (known, mesh, in_specs, out_specs)
    hit = per.get(key)
    if hit is not None:
        return hit
    kg, ug, out_known, nres = PE.partial_eval_graph(body, known)
    nk = len(kg.outvars) - nres
    res_vars = kg.outvars[nk:]
    kin = list(kg.invars)
    plan = [("in", kin.index(v)) if v in kin else ("new", None) for v in res_vars]
    all_axes = PS.partition_spec(tuple(mesh.axis_names))

    def kfn(*xs):
        outs = core.eval_graph(kg, [], xs)
        new = [P.reshape(r, (1,) + tuple(core.get_aval(r).shape))
               for r, (kind, _) in zip(outs[nk:], plan) if kind == "new"]
        return list(outs[:nk]) + new
    kbody, kconsts = _hoisted(core.trace_to_graph(kfn, kg.in_avals, parent=core.eval_trace))
    res_avals = [v.aval for v in res_vars]
    u_in_avals = [a.update(shape=(1,) + tuple(a.shape)) if kind == "new" else a
                  for a, (kind, _) in zip(res_avals, plan)] + ug.in_avals[nres:]

    def ufn(*xs):
        res = [P.reshape(r, tuple(a.shape)) if kind == "new" else r
               for r, a, (kind, _) in zip(xs[:nres], res_avals, plan)]
        return core.eval_graph(ug, [], [*res, *xs[nres:]])
    ubody, uconsts = _hoisted(core.trace_to_graph(ufn, u_in_avals, parent=core.eval_trace))
    kin_specs = [s for s, k in zip(in_specs, known) if k]
    kspecs_in = [_replicated()] * len(kconsts) + kin_specs
    kspecs_out = [s for s, k in zip(out_specs, out_known) if k] + [all_axes for kind, _ in plan if kind == "new"]
    res_specs = [kin_specs[j] if kind == "in" else all_axes for kind, j in plan]
    uspecs_in = [_replicated()] * len(uconsts) + res_specs + [s for s, k in zip(in_specs, known) if not k]
    uspecs_out = [s for s, k in zip(out_specs, out_known) if not k]
    hit = ((kbody, kconsts, tuple(kspecs_in), tuple(kspecs_out)), (ubody, uconsts, tuple(uspecs_in), tuple(uspecs_out)),
           out_known, plan)
    if not any(isinstance(c, core.Tracer) for c in (*kconsts, *uconsts)):
        per[key] = hit
    return hit


def _pe_shard_map(trace, args, params):
    body, mesh, in_specs, out_specs = params["body"], params["mesh"], params["in_specs"], params["out_specs"]
    known = tuple(not trace.is_unknown(x) for x in args)
    (kb, kc, kin, kout), (ub, uc, uin, uout), out_known, plan = _split(body, known, mesh, in_specs, out_specs)
    kargs = [x for x, k in zip(args, known) if k]
    with core.set_current_trace(trace.parent):
        kouts = _bind([*kc, *kargs], kb, mesh, kin, kout)
    nk = sum(out_known)
    known_outs, new_res = kouts[:nk], iter(kouts[nk:])
    res = [kargs[j] if kind == "in" else next(new_res) for kind, j in plan]
    if uout:
        uouts = trace.stage(PS.shard_map_p, [*uc, *res, *[x for x, k in zip(args, known) if not k]],
                            PS.shard_map_params(ub, mesh, uin, uout))
    else:
        uouts = []
    ki, ui = iter(known_outs), iter(uouts)
    return [next(ki) if k else next(ui) for k in out_known]


def _pe_graph_shard_map(eqn, ks):
    p = eqn.params
    mesh = p["mesh"]
    (kb, kc, kin, kout), (ub, uc, uin, uout), out_known, plan = _split(p["body"], ks, mesh, p["in_specs"],
                                                                       p["out_specs"])
    if kc or uc:   # constants in the split bodies: no equation-level split (stage it whole)
        return None, eqn, (False,) * len(eqn.outvars), []
    kvars = [v for v, k in zip(eqn.invars, ks) if k]
    kparams = PS.shard_map_params(kb, mesh, kin, kout)
    nk = sum(out_known)
    new_res = [core.Var(a) for a in kparams["out_avals"][nk:]]
    keqn = core.Equation(eqn.prim, kvars, [v for v, k in zip(eqn.outvars, out_known) if k] + new_res,
                         kparams, eqn.source)
    it = iter(new_res)
    res = [kvars[j] if kind == "in" else next(it) for kind, j in plan]
    ueqn = core.Equation(eqn.prim, res + [v for v, k in zip(eqn.invars, ks) if not k],
                         [v for v, k in zip(eqn.outvars, out_known) if not k],
                         PS.shard_map_params(ub, mesh, uin, uout), eqn.source) if uout else None
    return keqn, ueqn, out_known, new_res


PE.partial_eval_rules[PS.shard_map_p] = _pe_shard_map
PE.partial_eval_graph_rules[PS.shard_map_p] = _pe_graph_shard_map


def _shard_map_t(cts, *args, body, mesh, in_specs, out_specs, **_):
    linear = tuple(is_undefined(a) for a in args)
    ct_mask = tuple(type(c) is not Zero for c in cts)
    res_avals = [a for a, l in zip(body.in_avals, linear) if not l]
    ct_avals = [tangent_aval(a) for a, m in zip(body.out_avals, ct_mask) if m]
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    nres = len(res_avals)
    box = []

    def fn(*xs):
        res, cs = iter(xs[:nres]), iter(xs[nres:])
        lin = [None if l else next(res) for l in linear]
        cts_out = []
        for m, a, s in zip(ct_mask, body.out_avals, out_specs):
            if not m:
                cts_out.append(Zero(tangent_aval(a)))
                continue
            c = next(cs)
            n = int(np.prod([sizes[ax] for ax in PS.unmentioned(mesh, s)]))
            if n != 1:
                c = P.div(c, np.asarray(n, core.get_aval(c).dtype)[()])
            cts_out.append(c)
        cts_in = backward_pass(body, [], lin, cts_out)
        outs, nz = [], []
        for c, l, s in zip(cts_in, linear, in_specs):
            if not l:
                continue
            nz.append(type(c) is not Zero)
            if type(c) is Zero:
                continue
            axes = PS.unmentioned(mesh, s)
            outs.append(PS.psum_p.bind(c, axes=axes) if axes else c)
        box.append(tuple(nz))
        return outs

    tbody, consts = _hoisted(core.trace_to_graph(fn, res_avals + ct_avals, parent=core.eval_trace))
    nz = box[0]
    lin_specs = [s for s, l in zip(in_specs, linear) if l]
    specs = [_replicated()] * len(consts) + [s for s, l in zip(in_specs, linear) if not l] + \
        [s for s, m in zip(out_specs, ct_mask) if m]
    ospecs = [s for s, z in zip(lin_specs, nz) if z]
    outs = iter(_bind([*consts, *[a for a in args if not is_undefined(a)], *[c for c in cts if type(c) is not Zero]],
                      tbody, mesh, specs, ospecs))
    nzi = iter(nz)
    return [(next(outs) if next(nzi) else Zero(tangent_aval(a.aval))) if is_undefined(a) else None for a in args]


transpose_rules[PS.shard_map_p] = _shard_map_t


def _shard_map_batch(args, dims, *, body, mesh, in_specs, out_specs, **_):
    size = B.axis_size_of(args, dims)
    xs = [x if d is None else B.moveaxis(x, d, 0) for x, d in zip(args, dims)]
    bdims = [None if d is None else 0 for d in dims]
    front = lambda s: type(s)(None, *s)  # noqa: E731
    specs = [s if d is None else front(s) for s, d in zip(in_specs, bdims)]
    new, consts, out_dims = B.batch_graph(body, bdims, size)
    consts = list(consts)
    ospecs = [s if d is None else front(s) for s, d in zip(out_specs, out_dims)]
    outs = _bind([*consts, *xs], new, mesh, [_replicated()] * len(consts) + specs, ospecs)
    return list(outs), list(out_dims)


B.batch_rules[PS.shard_map_p] = _shard_map_batch
# the device's index along a mesh axis: an integer, no tangent
P.non_differentiable.add(PS.axis_index_p)


# ---- collectives over a named vmap axis (vmap(f, axis_name=...)): the batch axis is the
# "devices" of that name. Rules return None when the primitive does not name the axis.
def _split_axes(axes, name):
    if name not in axes:
        return None
    return tuple(a for a in axes if a != name)


def _front(x, d, n):
    """x with the vmap axis at 0 (an unbatched x is broadcast: every member holds it)."""
    return B.bdim_to(x, d, n, 0)


def _only(prim, rest, name):
    if rest:
        raise NotImplementedError(f"{prim.name} over the vmap axis {name!r} together with other axes "
                                  f"{rest} is not implemented in xlafront (at {core.user_site()})")


def _named_reduce(prim, reduce, unbatched):
    def rule(args, dims, n, name, *, axes):
        rest = _split_axes(axes, name)
        if rest is None:
            return None
        (x,), (d,) = args, dims
        y = unbatched(x, n) if d is None else reduce(x, (d,))
        if rest:
            y = prim.bind(y, axes=rest)
        return y, None
    return rule


def _times(x, n):
    a = core.get_aval(x)
    return P.mul(x, np.asarray(n, a.dtype)[()])


def _rmax(x, axes):
    return (P.reduce_or if core.get_aval(x).dtype == np.dtype(bool) else P.reduce_max)(x, axes)


def _rmin(x, axes):
    return (P.reduce_and if core.get_aval(x).dtype == np.dtype(bool) else P.reduce_min)(x, axes)


def _rsum(x, axes):
    if core.get_aval(x).dtype == np.dtype(bool):
        x = P.convert_element_type(x, np.dtype("int32"))
    return P.reduce_sum(x, axes)


B.axis_rules[PS.psum_p] = _named_reduce(PS.psum_p, _rsum, _times)
B.axis_rules[PS.pmax_p] = _named_reduce(PS.pmax_p, _rmax, lambda x, n: x)
B.axis_rules[PS.pmin_p] = _named_reduce(PS.pmin_p, _rmin, lambda x, n: x)


def _named_axis_index(args, dims, n, name, *, axis_name):
    if axis_name != name:
        return None
    return P.iota(np.dtype("int32"), n), 0


def _named_all_gather(args, dims, n, name, *, axes, axis_size, axis, tiled):
    rest = _split_axes(axes, name)
    if rest is None:
        return None
    _only(PS.all_gather_p, rest, name)
    (x,), (d,) = args, dims
    y = B.moveaxis(_front(x, d, n), 0, axis)   # the members stacked at `axis`: the same on every member
    if tiled:
        shape = list(core.get_aval(y).shape)
        shape[axis:axis + 2] = [shape[axis] * shape[axis + 1]]
        y = P.reshape(y, tuple(shape))
    return y, None


def _named_psum_scatter(args, dims, n, name, *, axes, axis_size, scatter_dimension, tiled):
    rest = _split_axes(axes, name)
    if rest is None:
        return None
    _only(PS.psum_scatter_p, rest, name)
    (x,), (d,) = args, dims
    total = _times(x, n) if d is None else _rsum(x, (d,))
    if tiled:   # member i keeps block i of the scatter dimension: that axis split in two
        shape = list(core.get_aval(total).shape)
        shape[scatter_dimension:scatter_dimension + 1] = [n, shape[scatter_dimension] // n]
        total = P.reshape(total, tuple(shape))
    return total, scatter_dimension


def _named_ppermute(args, dims, n, name, *, axes, perm):
    rest = _split_axes(axes, name)
    if rest is None:
        return None
    _only(PS.ppermute_p, rest, name)
    (x,), (d,) = args, dims
    x = _front(x, d, n)
    shape = core.get_aval(x).shape
    src = {t: s for s, t in perm}
    zero = None
    parts = []
    for t in range(n):
        if t in src:
            s = src[t]
            parts.append(P.slice(x, (s,) + (0,) * (len(shape) - 1), (s + 1,) + tuple(shape[1:])))
        else:
            if zero is None:
                zero = P.broadcast_in_dim_p.bind(np.zeros((), core.get_aval(x).dtype)[()],
                                                 shape=(1,) + tuple(shape[1:]), broadcast_dimensions=())
            parts.append(zero)
    return P.concatenate(parts, 0), 0


def _named_all_to_all(args, dims, n, name, *, axes, axis_size, split_axis, concat_axis):
    rest = _split_axes(axes, name)
    if rest is None:
        return None
    _only(PS.all_to_all_p, rest, name)
    (x,), (d,) = args, dims
    x = _front(x, d, n)                        # (i, *shape): member i's value
    shape = list(core.get_aval(x).shape[1:])
    s, c = split_axis, concat_axis
    chunk = list(shape)
    chunk[s] //= n
    y = P.reshape(x, (n,) + tuple(shape[:s]) + (n, chunk[s]) + tuple(shape[s + 1:]))   # (i, .., j, k, ..)
    y = B.moveaxis(y, s + 1, 1)                # (i, j, *chunk)
    y = B.moveaxis(y, 0, 1 + c)                # (j, *chunk[:c], i, *chunk[c:])
    out = list(chunk)
    out[c] *= n
    return P.reshape(y, (n,) + tuple(out)), 0


B.axis_rules[PS.axis_index_p] = _named_axis_index
B.axis_rules[PS.all_gather_p] = _named_all_gather
B.axis_rules[PS.psum_scatter_p] = _named_psum_scatter
B.axis_rules[PS.ppermute_p] = _named_ppermute
B.axis_rules[PS.all_to_all_p] = _named_all_to_all

for _p in PS.collective_axes:
    B.axis_names_of[_p] = (lambda prim: lambda params: PS.axes_of(prim, params))(_p)
