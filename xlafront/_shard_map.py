"""`xf.shard_map(f, mesh=, in_specs=, out_specs=)` and the collectives `lax.psum` /
`lax.axis_index` (first slice: every mesh axis manual; no autodiff or vmap of a shard_map yet).

`f` is traced once per argument signature on the per-device blocks of its arguments
(shapes divided by the mesh axes of `in_specs`), with the mesh's axis names bound for the
collectives; the call binds `shard_map_p`, which lowers (lowering/rules_sharding.py) to
XLA's manual-sharding custom calls around a `func.call` of the body. Called outside jit,
it runs as a jit whose in/out shardings are the specs over the mesh.
"""
from __future__ import annotations

import math

from xlafront import core, tree_util
from xlafront import primitives_sharding as PS
from xlafront import _sharding as S


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


def _global_shape(mesh, spec, shape):
    entries = list(spec) + [None] * (len(shape) - len(spec))
    out = []
    for d, e in zip(shape, entries):
        axes = () if e is None else ((e,) if isinstance(e, str) else tuple(e))
        out.append(d * math.prod(mesh.shape[a] for a in axes))
    return tuple(out)


class _ShardMapped:
    def __init__(self, f, mesh, in_specs, out_specs):
        self.f, self.mesh, self.in_specs, self.out_specs = f, mesh, in_specs, out_specs
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
        out_global = [a.update(shape=_global_shape(mesh, s, a.shape)) for s, a in zip(ospecs, out_local)]
        g = closed.graph
        body = core.Graph([], g.constvars + g.invars, g.eqns, g.outvars)
        consts = list(closed.consts)
        all_specs = [S.PartitionSpec()] * len(consts) + specs
        in_avals = [core.get_aval(c) for c in consts] + avals
        in_mhlo = tuple(S.NamedSharding(mesh, s)._to_mhlo(len(a.shape)) for s, a in zip(all_specs, in_avals))
        out_mhlo = tuple(S.NamedSharding(mesh, s)._to_mhlo(len(a.shape)) for s, a in zip(ospecs, out_global))
        params = dict(body=body, mesh=mesh, in_specs=tuple(all_specs), out_specs=tuple(ospecs),
                      out_avals=tuple(out_global), in_mhlo=in_mhlo, out_mhlo=out_mhlo)
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
            from xlafront.api import jit
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
                                   axis_names=axis_names, check_vma=check_vma)
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
    return _ShardMapped(f, mesh, in_specs, out_specs)


def psum(x, axis_name):
    """Sum of `x` over the devices along the mesh axis (or axes) `axis_name` (a shard_map body)."""
    axes = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    PS.check_axes(axes, "psum")
    leaves, tree = tree_util.tree_flatten(x)
    return tree.unflatten([PS.psum_p.bind(v, axes=axes) for v in leaves])


def pmean(x, axis_name):
    axes = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    bound = PS.check_axes(axes, "pmean")
    n = math.prod(bound[a] for a in axes)
    return tree_util.tree_map(lambda v: v / n, psum(x, axis_name))


def axis_index(axis_name):
    """This device's coordinate along the mesh axis `axis_name` (a shard_map body)."""
    PS.check_axes((axis_name,), "axis_index")
    return PS.axis_index_p.bind(axis_name=axis_name)


def axis_size(axis_name):
    axes = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    bound = PS.check_axes(axes, "axis_size")
    return math.prod(bound[a] for a in axes)
