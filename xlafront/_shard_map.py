"""`xf.shard_map(f, mesh=, in_specs=, out_specs=)` and the collectives `lax.psum`, `pmean`,
`pmax`, `pmin`, `all_gather`, `psum_scatter`, `ppermute`, `all_to_all`, `pswapaxes`,
`axis_index`, `axis_size` (every mesh axis manual; autodiff and batching rules are in
transforms/rules_sharding.py; the same collectives work over a `vmap(axis_name=...)` axis).

`f` is traced once per argument signature on the per-device blocks of its arguments
(shapes divided by the mesh axes of `in_specs`), with the mesh's axis names bound for the
collectives; the call binds `shard_map_p`, which lowers (lowering/rules_sharding.py) to
XLA's manual-sharding custom calls around a `func.call` of the body. Called outside jit,
it runs as a jit whose in/out shardings are the specs over the mesh. With check_vma (the
default) the outputs are checked against `out_specs` as JAX does (`_vma`).
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from xlafront import core, tree_util
from xlafront import primitives_sharding as PS
from xlafront import _sharding as S

# `jit`, set by xlafront.api (the layer above, which imports this module) when it loads: a
# shard_map called outside a trace runs as a jit over its mesh
jit = None


def _prefix(spec_tree, tree, what, n):
    """One PartitionSpec per leaf of `tree` from `spec_tree` (a prefix of it)."""
    is_spec = lambda t: isinstance(t, S.PartitionSpec)
    if is_spec(spec_tree):
        return [spec_tree] * n
    try:
        subs = tree_util.tree_structure(spec_tree, is_leaf=is_spec).flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(f"shard_map {what} {spec_tree!r} is not a prefix of the tree of the values "
                         f"({e}) (at {core.user_site()})") from None
    out = []
    for s, sub in zip(tree_util.tree_leaves(spec_tree, is_leaf=is_spec), subs):
        out += [s] * len(tree_util.tree_leaves(sub))
    return out


def _block_shape(mesh, spec, shape, what):
    named = S.NamedSharding(mesh, spec)
    S.check_divisible(named, shape)
    return named.shard_shape(shape)


def _vma(graph, in_vma):
    """The mesh axes each output of a body graph may vary over, given its inputs' (JAX's
    check_vma inference: psum/pmax/pmin make a value invariant over their axes, axis_index and
    the other collectives make it vary over theirs, anything else varies as its operands).
    None where it is not known (a loop or branch inside): those are not checked."""
    from xlafront import primitives as P
    env = dict(zip(graph.invars, in_vma))

    def read(v):
        return frozenset() if type(v) is core.Literal else env.get(v, frozenset())
    for eqn in graph.eqns:
        ins = [read(v) for v in eqn.invars]
        p = eqn.prim
        if any(i is None for i in ins):
            outs = [None] * len(eqn.outvars)
        elif p in (PS.psum_p, PS.pmax_p, PS.pmin_p):
            outs = [ins[0] - set(eqn.params["axes"])]
        elif p is PS.axis_index_p:
            outs = [frozenset((eqn.params["axis_name"],))]
        elif p in (PS.all_gather_p, PS.psum_scatter_p, PS.ppermute_p, PS.all_to_all_p):
            outs = [ins[0] | set(eqn.params["axes"])]
        elif p is P.jit_p:
            g = eqn.params["graph"]
            outs = _vma(g.graph if isinstance(g, core.ClosedGraph) else g,
                        ([frozenset()] * len(g.consts) if isinstance(g, core.ClosedGraph) else []) + ins)
        elif any(_holds_graph(v) for v in eqn.params.values()):   # loops, branches, nested shard_maps
            outs = [None] * len(eqn.outvars)
        else:
            u = frozenset().union(*ins) if ins else frozenset()
            outs = [u] * len(eqn.outvars)
        env.update(zip(eqn.outvars, outs))
    return [read(v) for v in graph.outvars]


def _holds_graph(v):
    graphs = (core.Graph, core.ClosedGraph)
    return isinstance(v, graphs) or (isinstance(v, (tuple, list)) and any(isinstance(u, graphs) for u in v))


def _check_out_specs(name, mesh, body, n_consts, specs, ospecs):
    in_vma = [frozenset()] * n_consts + [frozenset(a for e in s for a in PS.spec_axes(e)) for s in specs]
    for k, (vma, s) in enumerate(zip(_vma(body, in_vma), ospecs)):
        if vma is None:
            continue
        named = {a for e in s for a in PS.spec_axes(e)}
        extra = [a for a in mesh.axis_names if a in vma and a not in named]
        if extra:
            shown = "{" + ", ".join(sorted(named, key=mesh.axis_names.index)) + "}"
            raise ValueError(
                f"shard_map applied to the function '{name}' was given out_specs which require "
                f"replication which can't be statically inferred given the mesh: out_specs {s!r} of "
                f"output {k} implies that the value is only varying across mesh axes {shown} and not "
                f"{{{', '.join(extra)}}}, but it was inferred to be possibly varying over "
                f"{{{', '.join(a for a in mesh.axis_names if a in vma)}}}. Check whether it is meant to "
                f"be replicated over those axes (a psum?), or pass check_vma=False (at {core.user_site()})")


class _ShardMapped:
    def __init__(self, f, mesh, in_specs, out_specs, check_vma=True):
        self.f, self.mesh, self.in_specs, self.out_specs = f, mesh, in_specs, out_specs
        self.check_vma = check_vma
        self._jits: dict = {}
        self.__wrapped__ = f
        self.__name__ = getattr(f, "__name__", "shmap")

    def _bind(self, leaves, treedef):
        mesh = self.mesh
        avals = [core.get_aval(x) for x in leaves]
        specs = _prefix(self.in_specs, treedef.unflatten(list(range(len(leaves)))), "in_specs", len(leaves))
        local = [a.update(shape=_block_shape(mesh, s, a.shape, "argument")) for a, s in zip(avals, specs)]
        out_tree_box = []

        def flat(*tracers):
            out = self.f(*treedef.unflatten(list(tracers)))
            leaves_out, out_tree = tree_util.tree_flatten(out)
            out_tree_box.append(out_tree)
            return leaves_out

        with PS.axis_env(mesh.shape):
            closed = core.trace_to_graph(flat, local)
        out_tree = out_tree_box[0]
        out_local = closed.out_avals
        ospecs = _prefix(self.out_specs, out_tree.unflatten(list(range(len(out_local)))), "out_specs",
                         len(out_local))
        for s, a in zip(ospecs, out_local):
            for e in s:
                for ax in (() if e is None else ((e,) if isinstance(e, str) else tuple(e))):
                    if ax not in mesh.axis_names:
                        raise ValueError(f"shard_map out_specs {s!r} names axis {ax!r}, which mesh "
                                         f"{mesh.axis_names} lacks (at {core.user_site()})")
            if len(s) > len(a.shape):
                raise ValueError(f"shard_map out_specs {s!r} has more entries than the rank {len(a.shape)} "
                                 f"of the body's output (at {core.user_site()})")
        g = closed.graph
        body = core.Graph([], g.constvars + g.invars, g.eqns, g.outvars)
        consts = list(closed.consts)
        if self.check_vma:
            _check_out_specs(self.__name__, mesh, body, len(consts), specs, ospecs)
        all_specs = [S.PartitionSpec()] * len(consts) + specs
        params = PS.shard_map_params(body, mesh, all_specs, ospecs)
        return consts, specs, ospecs, out_tree, params

    def __call__(self, *args):
        leaves, treedef = tree_util.tree_flatten(args)
        if any(isinstance(x, core.Tracer) for x in leaves):
            consts, _, _, out_tree, params = self._bind(leaves, treedef)
            outs = PS.shard_map_p.bind(*consts, *leaves, **params)
            return out_tree.unflatten(outs)
        # outside a trace: a jit over the mesh with the specs as in/out shardings
        key = (treedef, tuple(core.get_aval(x) for x in leaves))
        hit = self._jits.get(key)
        if hit is None:
            consts, specs, ospecs, out_tree, params = self._bind(leaves, treedef)
            mesh = self.mesh

            def run(*xs):
                return PS.shard_map_p.bind(*consts, *xs, **params)
            run.__name__ = f"shmap_{self.__name__}"
            hit = self._jits[key] = (
                jit(run, in_shardings=tuple(S.NamedSharding(mesh, s) for s in specs),
                    out_shardings=tuple(S.NamedSharding(mesh, s) for s in ospecs)), out_tree)
        fn, out_tree = hit
        return out_tree.unflatten(list(fn(*leaves)))


def shard_map(f=None, /, *, out_specs, in_specs=None, mesh=None, axis_names=frozenset(), check_vma=True,
              check_rep=None, auto=frozenset()):
    """Map `f` over the blocks of its arguments on the devices of `mesh` (jax.shard_map)."""
    if f is None:
        return lambda g: shard_map(g, out_specs=out_specs, in_specs=in_specs, mesh=mesh,
                                   axis_names=axis_names, check_vma=check_vma, check_rep=check_rep)
    if mesh is None:
        mesh = S.get_mesh()
        if mesh is None:
            raise ValueError(f"shard_map needs a mesh: pass mesh= or set one with "
                             f"`xf.sharding.use_mesh` (at {core.user_site()})")
    if not isinstance(mesh, S.Mesh):
        raise TypeError(f"shard_map's mesh must be a Mesh, got {type(mesh).__name__}")
    if in_specs is None:
        raise NotImplementedError("shard_map without in_specs (inferred from the arguments) is not "
                                  "implemented yet: pass in_specs")
    if auto or (axis_names and set(axis_names) != set(mesh.axis_names)):
        raise NotImplementedError("shard_map over part of the mesh's axes (the others auto) is not "
                                  "implemented yet")
    return _ShardMapped(f, mesh, in_specs, out_specs, check_vma=bool(check_vma) and check_rep is not False)


def _spec_to_mhlo(mesh, spec, ndim):
    return S.NamedSharding(mesh, spec)._to_mhlo(ndim)


PS.spec_to_mhlo = _spec_to_mhlo
PS.partition_spec = S.PartitionSpec


class _EagerSharded:
    """A primitive bound outside any trace whose program needs a mesh's devices (shard_map_p,
    or a jit_p whose graph holds one: grad or vmap of a shard_map called without an outer
    jit): run as a jit over the mesh with the given in/out shardings."""

    def __init__(self, prim, avals, params, in_shardings, out_shardings):
        self.avals = tuple(avals)

        def run(*xs):
            return prim.bind(*xs, **params)
        run.__name__ = f"{prim.name}_on_mesh"
        self.fn = jit(run, in_shardings=in_shardings, out_shardings=out_shardings)

    def run(self, bufs):
        from xlafront.array import make_array
        return list(self.fn(*[make_array(b, a) for b, a in zip(bufs, self.avals)]))


_mesh_of: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _graph_mesh(graph):
    """The mesh of the first shard_map in `graph` (or in a graph it calls), or None."""
    if isinstance(graph, core.ClosedGraph):
        graph = graph.graph
    try:
        return _mesh_of[graph]
    except KeyError:
        pass
    mesh = None
    for eqn in graph.eqns:
        if eqn.prim is PS.shard_map_p:
            mesh = eqn.params["mesh"]
            break
        for v in eqn.params.values():
            for g in (v if isinstance(v, (tuple, list)) else (v,)):
                if isinstance(g, (core.Graph, core.ClosedGraph)):
                    mesh = _graph_mesh(g)
                    if mesh is not None:
                        break
            if mesh is not None:
                break
        if mesh is not None:
            break
    _mesh_of[graph] = mesh
    return mesh


def on_mesh_runner(name, closed):
    """For jit's single-device path: None when `closed` holds no shard_map; else `run(bufs)` that
    runs it on the shard_map's mesh (arguments replicated there, outputs as XLA lays them out)."""
    mesh = _graph_mesh(closed.graph)
    if mesh is None:
        return None
    from xlafront import primitives as P
    rep = S.NamedSharding(mesh, S.PartitionSpec())
    avals = closed.in_avals
    return _EagerSharded(P.jit_p, avals, dict(graph=closed, name=name), tuple(rep for _ in avals), None).run


def _install_eager():
    from xlafront import dispatch
    from xlafront import primitives as P

    def shard_map_eager(avals, params):
        mesh = params["mesh"]
        return _EagerSharded(PS.shard_map_p, avals, params,
                             tuple(S.NamedSharding(mesh, s) for s in params["in_specs"]),
                             tuple(S.NamedSharding(mesh, s) for s in params["out_specs"]))
    plain_jit = dispatch.eager_graph_rules[P.jit_p]

    def jit_eager(avals, params):
        mesh = _graph_mesh(params["graph"])
        if mesh is None:
            return plain_jit(avals, params)
        rep = S.NamedSharding(mesh, S.PartitionSpec())
        return _EagerSharded(P.jit_p, avals, params, tuple(rep for _ in avals), None)
    dispatch.eager_graph_rules[PS.shard_map_p] = shard_map_eager
    dispatch.eager_graph_rules[P.jit_p] = jit_eager


_install_eager()


# ----------------------------------------------------------------------------- the collectives
def _axes(axis_name, where):
    axes = (axis_name,) if isinstance(axis_name, str) or not isinstance(axis_name, (tuple, list)) \
        else tuple(axis_name)
    bound = PS.check_axes(axes, where)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{where}: repeated axis name in {axes} (at {core.user_site()})")
    return axes, math.prod(bound[a] for a in axes)


def _no_groups(axis_index_groups, where):
    if axis_index_groups is not None:
        raise NotImplementedError(f"{where} with axis_index_groups is not implemented in xlafront "
                                  f"(at {core.user_site()})")


def _map(f, x):
    leaves, tree = tree_util.tree_flatten(x)
    return tree.unflatten([f(v) for v in leaves])


def _dtype(v):
    return core.get_aval(v).dtype


def psum(x, axis_name, *, axis_index_groups=None):
    """Sum of `x` over the devices along the mesh axis (or axes) `axis_name` (a shard_map body,
    or a vmap with that axis_name). Booleans are counted (int32), as JAX does."""
    _no_groups(axis_index_groups, "psum")
    axes, _ = _axes(axis_name, "psum")
    from xlafront import primitives as P

    def one(v):
        if _dtype(v) == np.dtype(bool):
            v = P.convert_element_type(v, np.dtype("int32"))
        return PS.psum_p.bind(v, axes=axes)
    return _map(one, x)


def pmean(x, axis_name, *, axis_index_groups=None):
    """Mean of `x` over the devices along `axis_name` (integers give floats, as JAX's)."""
    _no_groups(axis_index_groups, "pmean")
    _, n = _axes(axis_name, "pmean")
    return tree_util.tree_map(lambda v: v / n, psum(x, axis_name))


def pmax(x, axis_name, *, axis_index_groups=None):
    """Maximum of `x` over the devices along `axis_name`."""
    _no_groups(axis_index_groups, "pmax")
    axes, _ = _axes(axis_name, "pmax")
    return _map(lambda v: PS.pmax_p.bind(v, axes=axes), x)


def pmin(x, axis_name, *, axis_index_groups=None):
    """Minimum of `x` over the devices along `axis_name`."""
    _no_groups(axis_index_groups, "pmin")
    axes, _ = _axes(axis_name, "pmin")
    return _map(lambda v: PS.pmin_p.bind(v, axes=axes), x)


def _axis_arg(axis, ndim, what):
    a = int(axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim} ({what}, at "
                         f"{core.user_site()})")
    return a % ndim


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False):
    """Gather `x` from the devices along `axis_name`: stacked along a new axis `axis`, or
    concatenated along `axis` when `tiled`."""
    _no_groups(axis_index_groups, "all_gather")
    axes, n = _axes(axis_name, "all_gather")

    def one(v):
        nd = core.get_aval(v).ndim
        a = _axis_arg(axis, nd + (not tiled), "all_gather")
        return PS.all_gather_p.bind(v, axes=axes, axis_size=n, axis=a, tiled=bool(tiled))
    return _map(one, x)


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
    """psum along `axis_name`, each device keeping its block of the sum along
    `scatter_dimension` (of size 1, squeezed, unless `tiled`)."""
    _no_groups(axis_index_groups, "psum_scatter")
    axes, n = _axes(axis_name, "psum_scatter")

    def one(v):
        d = _axis_arg(scatter_dimension, core.get_aval(v).ndim, "psum_scatter")
        return PS.psum_scatter_p.bind(v, axes=axes, axis_size=n, scatter_dimension=d, tiled=bool(tiled))
    return _map(one, x)


def ppermute(x, axis_name, perm):
    """Send `x` from device `s` to device `t` for each pair `(s, t)` of `perm` (positions along
    `axis_name`); a device no pair sends to gets zeros."""
    axes, n = _axes(axis_name, "ppermute")
    try:
        pairs = tuple((int(s), int(t)) for s, t in perm)
    except (TypeError, ValueError):
        raise TypeError(f"ppermute perm must be a sequence of (source, target) pairs of ints, got "
                        f"{perm!r} (at {core.user_site()})") from None
    srcs, dsts = [s for s, _ in pairs], [t for _, t in pairs]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"ppermute sources and destinations must be unique, got {pairs}.")
    for s, t in pairs:
        if not (0 <= s < n and 0 <= t < n):
            raise ValueError(f"ppermute perm {pairs} names device {s if not 0 <= s < n else t}, outside "
                             f"the {n} devices along axis {axis_name!r} (at {core.user_site()})")
    return _map(lambda v: PS.ppermute_p.bind(v, axes=axes, perm=pairs), x)


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None, tiled=False):
    """Split `x` along `split_axis` into one block per device along `axis_name`, send block i
    to device i, and concatenate the blocks received along `concat_axis` (untiled: the split
    axis, of size axis_size, is dropped and a new axis of that size is made at concat_axis)."""
    _no_groups(axis_index_groups, "all_to_all")
    axes, n = _axes(axis_name, "all_to_all")
    from xlafront import primitives as P

    def one(v):
        shape = core.get_aval(v).shape
        nd = len(shape)
        s = _axis_arg(split_axis, nd, "all_to_all split_axis")
        c = _axis_arg(concat_axis, nd, "all_to_all concat_axis")
        if tiled:
            return PS.all_to_all_p.bind(v, axes=axes, axis_size=n, split_axis=s, concat_axis=c)
        if shape[s] != n:
            raise ValueError(f"all_to_all requires the size of the mapped axis axis_name to equal "
                             f"x.shape[split_axis], but they are {n} and {shape[s]} respectively.")
        # a size-1 axis that receives the blocks, then the emptied split axis dropped
        p, s2 = (c, s + 1) if c < s else (c + 1, s)
        new_shape = list(shape)
        new_shape.insert(p, 1)
        y = P.broadcast_in_dim(v, tuple(new_shape), tuple(i for i in range(nd + 1) if i != p))
        y = PS.all_to_all_p.bind(y, axes=axes, axis_size=n, split_axis=s2, concat_axis=p)
        return P.squeeze(y, (s2,))
    return _map(one, x)


def pswapaxes(x, axis_name, axis, *, axis_index_groups=None):
    """all_to_all with split_axis = concat_axis = `axis` (jax.lax.pswapaxes)."""
    return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)


def axis_index(axis_name):
    """This device's position along the mesh axis `axis_name` (or the row-major position along
    a tuple of axes), or the index along a vmap's axis of that name."""
    if isinstance(axis_name, (tuple, list)):
        axes, _ = _axes(axis_name, "axis_index")
        bound = PS.bound_axes()
        out = None
        for a in axes:
            i = PS.axis_index_p.bind(axis_name=a)
            out = i if out is None else out * np.int32(bound[a]) + i
        return out
    PS.check_axes((axis_name,), "axis_index")
    return PS.axis_index_p.bind(axis_name=axis_name)


def axis_size(axis_name):
    """The number of devices along `axis_name` (a Python int)."""
    _, n = _axes(axis_name, "axis_size")
    return n
