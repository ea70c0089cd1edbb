"""`xf.pmap(f, axis_name, in_axes=, out_axes=, static_broadcasted_argnums=, devices=)`: `f`
runs once per device on one slice of the mapped axis of its arguments.

Built on shard_map (xlafront/_shard_map.py), as JAX 0.10 builds its own: the mapped axis
of size n becomes a one-axis mesh over the first n devices (or `devices`), named
`axis_name` (or `_internal_pmap_axis_name`), and each mapped argument is split along it
(`PartitionSpec` with the name at its in_axis). The body drops the size-1 block axis before
calling `f` and puts it back at `out_axes` afterwards; an `out_axes` of None returns the
body's (replicated) value as it is. So the collectives over `axis_name`, `grad`, `vmap`
and `jit` of a pmap are those of shard_map. Results are arrays sharded over the mesh.
"""
from __future__ import annotations

import functools

import numpy as np

from xlafront import core, tree_util
from xlafront import _sharding as S

INTERNAL_AXIS = "_internal_pmap_axis_name"


def _spec_at(axis, name):
    return S.PartitionSpec(*([None] * axis + [name]))


def _prefix_leaves(prefix, tree, what):
    """One entry of `prefix` (a tree prefix of `tree`, None a leaf) per leaf of `tree`."""
    try:
        subs = tree_util.tree_structure(prefix, is_leaf=lambda v: v is None).flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(f"pytree structure error: pmap {what} is not a tree prefix of the "
                         f"positional arguments passed to the pmapped function ({e}) "
                         f"(at {core.user_site()})") from None
    flat = tree_util.tree_leaves(prefix, is_leaf=lambda v: v is None)
    out = []
    for a, sub in zip(flat, subs):
        out += [a] * len(tree_util.tree_leaves(sub))
    return out


class _Pmapped:
    def __init__(self, fun, axis_name, in_axes, out_axes, static_broadcasted_argnums, devices, axis_size):
        self.fun = self.__wrapped__ = fun
        self.axis_name = axis_name
        self.in_axes, self.out_axes = in_axes, out_axes
        nums = static_broadcasted_argnums
        self.static = (nums,) if isinstance(nums, int) else tuple(nums)
        self.devices = None if devices is None else list(devices)
        self.axis_size = axis_size
        self._maps: dict = {}
        functools.update_wrapper(self, fun, updated=())

    def _mesh(self, n):
        from xlafront import api
        devs = self.devices if self.devices is not None else api.local_devices()
        if n > len(devs):
            raise ValueError(f"compiling computation that requires {n} logical devices, but only "
                             f"{len(devs)} XLA devices are available (num_replicas={n}) "
                             f"(pmap over a mapped axis of size {n}, at {core.user_site()})")
        if self.devices is not None and n != len(devs):
            raise ValueError(f"Leading axis size of input to pmapped function must equal the number "
                             f"of local devices passed to pmap. Got axis_size={n}, "
                             f"num_local_devices={len(devs)}")
        return S.Mesh(np.array(devs[:n], dtype=object), (self.axis_name or INTERNAL_AXIS,))

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise NotImplementedError(f"pmap of keyword arguments is not implemented yet: pass them "
                                      f"positionally (at {core.user_site()})")
        static = tuple(i % len(args) if args else i for i in self.static)
        for i in static:
            if i >= len(args):
                raise ValueError(f"pmapped function has static_broadcasted_argnums={self.static} but "
                                 f"was called with only {len(args)} positional arguments")
        dyn = tuple(a for i, a in enumerate(args) if i not in static)
        svals = tuple(args[i] for i in static)
        in_axes = self.in_axes
        if isinstance(in_axes, list):
            in_axes = tuple(in_axes)
        if isinstance(in_axes, tuple) and static:
            in_axes = tuple(a for i, a in enumerate(in_axes) if i not in static)
        leaves, treedef = tree_util.tree_flatten(dyn)
        axes = _prefix_leaves(in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(dyn), dyn,
                              "in_axes")
        sizes = set()
        norm = []
        for x, a in zip(leaves, axes):
            if a is None:
                norm.append(None)
                continue
            shape = np.shape(x)
            if not -len(shape) <= a < len(shape):
                raise ValueError(f"pmap was requested to map its argument along axis {a}, which "
                                 f"implies that its rank should be at least {a + 1 if a >= 0 else -a}, "
                                 f"but is only {len(shape)} (its shape is {shape}) "
                                 f"(at {core.user_site()})")
            a %= len(shape)
            norm.append(a)
            sizes.add(shape[a])
        if not sizes:
            raise ValueError("pmap requires at least one argument with a mapped axis.")
        if len(sizes) > 1:
            raise ValueError(f"pmap got inconsistent sizes for array axes to be mapped: "
                             f"{sorted(sizes)} (at {core.user_site()})")
        n = sizes.pop()
        if self.axis_size is not None and self.axis_size != n:
            raise ValueError(f"pmap got axis_size={self.axis_size} but the mapped axes have size {n}")
        try:
            key = (svals, treedef, tuple(norm), n)
            hash(key)
        except TypeError:
            raise ValueError(f"Non-hashable static arguments are not supported: static argument "
                             f"values {svals!r} (at {core.user_site()})") from None
        hit = self._maps.get(key)
        if hit is None:
            hit = self._maps[key] = self._build(svals, static, len(args), treedef, norm, n)
        return hit(*leaves)

    def _build(self, svals, static, nargs, treedef, norm, n):
        mesh = self._mesh(n)
        name = mesh.axis_names[0]
        fun, out_axes = self.fun, self.out_axes
        box = []   # (out_tree, the output axes made non-negative), from the first trace

        def body(*blocks):
            from xlafront import lax
            from xlafront import numpy as xnp
            xs = [b if a is None else lax.squeeze(b, (a,)) for b, a in zip(blocks, norm)]
            dyn = iter(treedef.unflatten(xs))
            sv = iter(svals)
            out = fun(*[next(sv) if i in static else next(dyn) for i in range(nargs)])
            outs, out_tree = tree_util.tree_flatten(out)
            if out_axes is None or (isinstance(out_axes, int) and not isinstance(out_axes, bool)):
                oax = [out_axes] * len(outs)
            else:
                oax = _prefix_leaves(out_axes, out, "out_axes")
            res, axes = [], []
            for y, a in zip(outs, oax):
                if a is not None:
                    nd = np.ndim(y) + 1
                    if not -nd <= a < nd:
                        raise ValueError(f"pmap out_axes {a} is out of bounds for an output of rank "
                                         f"{nd - 1} (at {core.user_site()})")
                    a %= nd
                    y = xnp.expand_dims(y, a)
                res.append(y)
                axes.append(a)
            if not box:
                box.append((out_tree, axes))
            return res

        in_specs = tuple(S.PartitionSpec() if a is None else _spec_at(a, name) for a in norm)
        mapped = []

        def run(*leaves):
            if not mapped:
                # the out specs follow from the body's outputs: trace it once on the blocks
                from xlafront import primitives_sharding as PS
                blocks = []
                for x, a in zip(leaves, norm):
                    av = core.get_aval(x)
                    if a is not None:
                        av = av.update(shape=av.shape[:a] + (1,) + av.shape[a + 1:])
                    blocks.append(av)
                with PS.axis_env(mesh.shape):
                    core.trace_to_graph(body, blocks)
                out_tree, axes = box[0]
                out_specs = [S.PartitionSpec() if a is None else _spec_at(a, name) for a in axes]
                from xlafront._shard_map import shard_map
                mapped.append((shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                                         check_vma=False), out_tree))
            sm, out_tree = mapped[0]
            return out_tree.unflatten(sm(*leaves))
        return run

    def lower(self, *args, **kwargs):
        raise NotImplementedError("pmap(...).lower is not implemented yet: lower a jit of the pmapped function")


def pmap(fun=None, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(), devices=None,
         backend=None, axis_size=None, donate_argnums=(), global_arg_shapes=None):
    """Map `fun` over the leading (or `in_axes`) axis of its arguments, one slice per device
    (jax.pmap)."""
    if fun is None:
        return lambda f: pmap(f, axis_name, in_axes=in_axes, out_axes=out_axes,
                              static_broadcasted_argnums=static_broadcasted_argnums, devices=devices,
                              backend=backend, axis_size=axis_size, donate_argnums=donate_argnums)
    if not callable(fun):
        raise TypeError(f"Expected a callable value, got {fun!r}")
    if global_arg_shapes is not None:
        raise ValueError("global_arg_shapes only worked with sharded_jit which has long been removed "
                         "from JAX. Please migrate away from it.")
    return _Pmapped(fun, axis_name, in_axes, out_axes, static_broadcasted_argnums, devices, axis_size)
