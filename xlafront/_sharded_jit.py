"""jit over several devices: the path a jitted call takes when an argument is a ShardedArray
or the jit has `in_shardings`/`out_shardings`.

The function is traced as for one device (shardings do not change the graph); its
StableHLO gets `mhlo.sharding` attributes on @main's arguments (each argument's
NamedSharding; replicated for arguments without one and for the constants passed as
arguments) and on its results when `out_shardings` fixes them, and is compiled by XLA's
SPMD partitioner for the mesh's N devices. Outputs whose sharding was not fixed take the
one XLA chose, read back from the compiled program as a NamedSharding over the same mesh.
Programs are cached in the jit's own cache under a key that holds the input shardings.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, tree_util
from xlafront import _sharding as S
from xlafront import _explicit_sharding as XS
from xlafront._sharded_array import ShardedArray, make_sharded, put, sharded_maker
from xlafront.config import config
from xlafront.lowering import runtime
from xlafront.lowering.emitter import annotate_shardings, lower_graph
from xlafront.lowering.rules_sharding import (SdyMeshes, sdy_sharding, spmd, typed_results_off,
                                              typed_results_on)


class _ShardedEntry:
    __slots__ = ("exe", "out_tree", "in_named", "const_bufs", "text", "out_avals")

    def __init__(self, exe, out_tree, in_named, const_bufs, text, out_avals):
        self.exe, self.out_tree, self.in_named = exe, out_tree, in_named
        self.const_bufs, self.text, self.out_avals = const_bufs, text, out_avals


def requested(spec):
    """`spec` as jit keeps it: None when it holds no sharding at all (flax.nnx passes
    out_shardings=(None, ())), so that such a jit stays on the single-device path."""
    if spec is None:
        return None
    is_s = lambda v: isinstance(v, (S.NamedSharding, S.PartitionSpec))  # noqa: E731
    return spec if tree_util.tree_leaves(spec, is_leaf=is_s) else None


def wants_sharded(jitted, leaves) -> bool:
    if jitted._in_shardings is not None or jitted._out_shardings is not None:
        return True
    for x in leaves:
        if type(x) is ShardedArray:
            return True
    m = S.get_mesh()   # under set_mesh of a mesh with Explicit axes: compiled for that mesh
    return m is not None and type(m) is S.Mesh and bool(m.explicit_axes)


def _leaf_targets(spec, treedef, n_leaves, what):
    """The sharding (or None) of each leaf of the dynamic arguments: `spec` is one
    sharding for all, or a tuple with one entry (sharding, None or a pytree of them) per
    positional argument."""
    if spec is None:
        return [None] * n_leaves
    if isinstance(spec, (S.NamedSharding, S.PartitionSpec)):
        return [spec] * n_leaves
    tree = treedef.unflatten(list(range(n_leaves)))
    args = tree[0] if isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[1], dict) else tree
    if not isinstance(spec, (tuple, list)) or len(spec) != len(args):
        raise ValueError(f"jit's {what} must be a sharding or a tuple with one entry per positional "
                         f"argument ({len(args)}), got {spec!r} (at {core.user_site()})")
    out = [None] * n_leaves
    for sub, arg in zip(spec, args):
        idx = tree_util.tree_leaves(arg)
        if sub is None or isinstance(sub, (S.NamedSharding, S.PartitionSpec)):
            for i in idx:
                out[i] = sub
        else:
            subs = tree_util.tree_leaves(sub, is_leaf=lambda t: t is None or isinstance(t, S.NamedSharding))
            if len(subs) != len(idx):
                raise ValueError(f"jit's {what} entry {sub!r} does not match its argument's tree "
                                 f"(at {core.user_site()})")
            for i, s in zip(idx, subs):
                out[i] = s
    return out


def _resolve(s, mesh_hint):
    if isinstance(s, S.PartitionSpec):
        return S.on_current_mesh(s, "jit's shardings", mesh_hint)
    return s


def call(jitted, leaves, treedef, statics, avals, lower_only=False, compile_only=False):
    targets = _leaf_targets(jitted._in_shardings, treedef, len(leaves), "in_shardings")
    named = []
    mesh = None
    for x, t in zip(leaves, targets):
        s = t if t is not None else (x._named if type(x) is ShardedArray else None)
        if isinstance(s, S.NamedSharding) and mesh is None:
            mesh = s.mesh
        named.append(s)
    outs_spec = jitted._out_shardings
    if mesh is None:
        for s in tree_util.tree_leaves(outs_spec, is_leaf=lambda t: isinstance(t, S.NamedSharding)):
            if isinstance(s, S.NamedSharding):
                mesh = s.mesh
                break
    if mesh is None:
        mesh = S.get_mesh()
    if mesh is None or isinstance(mesh, S.AbstractMesh):
        raise ValueError(f"jit of '{jitted._name}' with shardings needs a concrete mesh "
                         f"(at {core.user_site()})")
    named = [s if type(s) is not S.PartitionSpec else _resolve(s, mesh) for s in named]
    if jitted._in_shardings is not None:   # a typed argument laid out anew is typed so
        avals = [XS.typed(a, s) if a.sharding is not None and s is not None else a
                 for a, s in zip(avals, named)]
    key = ("sharded", treedef, statics, config.x64, config.use_shardy_partitioner, mesh, *avals, *named)
    entry = None if lower_only else jitted._cache.get(key)
    if entry is None:   # checked once per signature
        for s in named:
            if s is not None and s.mesh is not mesh and s.mesh._flat_devices != mesh._flat_devices:
                raise ValueError(f"Received incompatible devices for jitted computation '{jitted._name}': "
                                 f"shardings over {s.mesh} and {mesh} (at {core.user_site()})")
        for s, a in zip(named, avals):
            if s is not None:
                S.check_divisible(s, a.shape)
        entry = _compile(jitted, treedef, statics, avals, named, mesh, lower_only)
        if lower_only:
            return entry
        jitted._cache[key] = entry
    if compile_only:
        return entry
    bufs = list(entry.const_bufs)
    for x, s, a in zip(leaves, entry.in_named, avals):
        if type(x) is ShardedArray and x._named == s:
            bufs.append(x._sbuf)
        else:
            bufs.append(put(x, s)._sbuf)
    outs = entry.exe.run(bufs)
    return entry.out_tree.unflatten(outs)


def _compile(jitted, treedef, statics, avals, named, mesh, lower_only):
    closed, out_tree = jitted._trace(treedef, statics, avals)
    out_avals = closed.out_avals
    replicated = S.NamedSharding(mesh, S.PartitionSpec())
    in_named = [s if s is not None else replicated for s in named]
    out_spec = jitted._out_shardings
    if out_spec is None:
        out_named = [None] * len(out_avals)
    elif isinstance(out_spec, (S.NamedSharding, S.PartitionSpec)):
        out_named = [_resolve(out_spec, mesh)] * len(out_avals)
    else:
        out_named = [_resolve(s, mesh) for s in tree_util.tree_leaves(
            out_spec, is_leaf=lambda t: t is None or isinstance(t, (S.NamedSharding, S.PartitionSpec)))]
        if len(out_named) != len(out_avals):
            raise ValueError(f"jit's out_shardings {out_spec!r} has {len(out_named)} entries for "
                             f"{len(out_avals)} outputs (at {core.user_site()})")
    # an output without a requested sharding takes its type's (Explicit axes); an untyped
    # one the layout XLA gives it
    for i, a in enumerate(out_avals):
        if out_named[i] is None and a.sharding is not None:
            out_named[i] = _of_type(mesh, a)
    for s, a in zip(out_named, out_avals):
        if s is not None:
            S.check_divisible(s, a.shape)
    shardy = bool(config.use_shardy_partitioner)
    sdy = SdyMeshes(mesh) if shardy else None
    spmd.on = True   # sharding constraints lower to sdy.sharding_constraint (custom_call @Sharding)
    spmd.sdy = sdy
    spmd.mesh = mesh   # (meshes used inside must list the same devices in the same order)
    typed_results_on()   # and so does each result's sharding type (Explicit mesh axes)
    try:
        text, arg_consts = lower_graph(jitted._name, closed.graph, closed.consts)
        if shardy:
            arg_sh = ([sdy_sharding(mesh, S.PartitionSpec(), np.ndim(c)) for c in arg_consts]
                      + [sdy_sharding(s.mesh, s.spec, a.ndim) for s, a in zip(in_named, avals)])
            res_sh = [None if s is None else sdy_sharding(s.mesh, s.spec, a.ndim)
                      for s, a in zip(out_named, out_avals)]
    finally:
        spmd.on = False
        spmd.sdy = spmd.mesh = None
        typed_results_off()
    if not shardy:
        arg_sh = ["{replicated}"] * len(arg_consts) + [s._to_mhlo(a.ndim) for s, a in zip(in_named, avals)]
        res_sh = [None if s is None else s._to_mhlo(a.ndim) for s, a in zip(out_named, out_avals)]
    text = annotate_shardings(text, arg_sh, res_sh, mesh.size, sdy.decls if shardy else None)
    if lower_only:
        return text

    def make_handler(i, op):
        aval = out_avals[i]
        s = out_named[i]
        if s is None:
            s = S.named_from_layout(mesh, runtime.op_sharding_layout(op), aval.ndim)
            if s is None:
                raise NotImplementedError(
                    f"output {i} of '{jitted._name}' got a sharding from XLA that no "
                    f"PartitionSpec over {mesh} expresses ({op}); pass out_shardings")
        aval = XS.typed(aval, s)   # (an output typed by its layout, as JAX's arrays are)
        return runtime.sharded_result_handler(aval, s._runtime_sharding(aval.ndim), sharded_maker(aval, s))

    exe = runtime.compile_spmd(text, mesh._flat_devices, len(out_avals), make_handler,
                               [s is None for s in out_named], shardy=shardy)
    const_bufs = [put(c, replicated)._sbuf for c in arg_consts]
    return _ShardedEntry(exe, out_tree, in_named, const_bufs, text, out_avals)


def _of_type(mesh, aval):
    """The NamedSharding over `mesh` of an output of type `aval` (as JAX's: one spec entry
    per dimension)."""
    return S.NamedSharding(mesh, aval.sharding.spec)


class ShardedLowered:
    """`jit(f).lower(...)` of a sharded call: `.as_text()` shows the sharding annotations (sdy
    dialect with `jax_use_shardy_partitioner`, else `mhlo.sharding`); `.compile()` compiles
    it for the mesh's devices."""

    def __init__(self, text, jitted=None, call_args=None):
        self._text = text
        self._jitted, self._call_args = jitted, call_args

    def as_text(self, dialect="stablehlo", debug_info=True):
        return self._text

    compiler_ir = as_text

    def compile(self):
        jitted, (leaves, treedef, statics, avals) = self._jitted, self._call_args
        entry = call(jitted, leaves, treedef, statics, avals, compile_only=True)
        return ShardedCompiled(jitted, entry, treedef, avals)


class ShardedCompiled:
    """`jit(f).lower(...).compile()` of a sharded call: called with arguments of the same
    tree and types (its program is the jit's, cached with it); `.as_text()` is the
    partitioned program XLA built, one device's part, as JAX's shows."""

    def __init__(self, jitted, entry, in_tree, in_avals):
        self._jitted, self._entry, self.in_tree, self.in_avals = jitted, entry, in_tree, in_avals

    def __call__(self, *args, **kwargs):
        leaves, tree = tree_util.tree_flatten((args, kwargs) if kwargs else args)
        avals = [core.get_aval(x) for x in leaves]
        if tree != self.in_tree or [a.strip_weak() for a in avals] != [a.strip_weak() for a in self.in_avals]:
            raise TypeError(f"Compiled function called with arguments of types "
                            f"{[a.str_short() for a in avals]} (tree {tree}), but it was compiled for "
                            f"{[a.str_short() for a in self.in_avals]} (tree {self.in_tree}) "
                            f"(at {core.user_site()})")
        return self._jitted(*args, **kwargs)

    def as_text(self):
        return self._entry.exe.hlo_text()

    def cost_analysis(self) -> dict:
        return runtime.cost_analysis(self._entry.exe)

    def memory_analysis(self):
        return runtime.memory_stats(self._entry.exe)


def with_sharding_constraint(x, shardings):
    """`lax.with_sharding_constraint`: under a trace, each array of the pytree `x` is
    constrained to its sharding (one NamedSharding or PartitionSpec for all, or a pytree
    prefix of `x`); a PartitionSpec takes the current mesh. On concrete arrays it is
    `device_put(x, shardings)`, as JAX's."""
    from xlafront import primitives_sharding as PS
    from xlafront._sharded_array import device_put
    leaves, tree, per = S.per_leaf(x, shardings)
    out = []
    for v, s in zip(leaves, per):
        if s is None:
            out.append(v)
            continue
        if isinstance(s, S.PartitionSpec):
            s = S.on_current_mesh(s, "with_sharding_constraint")
        if isinstance(v, core.Tracer):
            ex = s.mesh.explicit_axes
            if ex and any(a in ex for e in s.spec for a in S._spec_axes(e)):
                raise ValueError(
                    f"The spec of NamedSharding passed to with_sharding_constraint can only refer to "
                    f"Auto axes of the mesh. Got spec={s.spec!r} and mesh={XS._abstract(s.mesh)!r}. "
                    f"You probably meant to use `reshard` API? (at {core.user_site()})")
            S.check_divisible(s, v.aval.shape)
            out.append(PS.sharding_constraint_p.bind(v, sharding=s))
        else:
            out.append(device_put(v, s))
    return tree.unflatten(out)


__all__ = ["call", "wants_sharded", "ShardedLowered", "make_sharded"]
