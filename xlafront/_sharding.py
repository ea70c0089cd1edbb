"""jax.sharding's types: Mesh, AbstractMesh, AxisType, PartitionSpec, NamedSharding.

A NamedSharding says how an array's dimensions split over the named axes of a device mesh.
Everything the runtime and the compiler need is derived from it here, once per (sharding,
ndim): the layout as XLA sees it (tile counts per dimension, which device holds each tile,
a last replicated tile dimension for the mesh axes no dimension uses), its `mhlo.sharding`
text, and each device's slice of the global array. lowering/runtime.py turns the layout
into jaxlib's HloSharding; docs/architecture.md ("How a sharding flows") has the whole path.
"""
from __future__ import annotations

import collections
import enum
import itertools
import math
import threading

import numpy as np

from xlafront import core
from xlafront import primitives_sharding as _PS
from xlafront.lowering import runtime

__all__ = ["AxisType", "PartitionSpec", "Mesh", "AbstractMesh", "NamedSharding", "make_mesh",
           "use_mesh", "set_mesh", "get_mesh"]


class AxisType(enum.Enum):
    Auto = enum.auto()
    Explicit = enum.auto()
    Manual = enum.auto()

    def __repr__(self):
        return self.name


class PartitionSpec:
    """For each array dimension: None (not split), a mesh axis name, or a tuple of names
    (split over their product, the first one major). As JAX's: not a tuple; equal to
    another PartitionSpec with the same entries (a 1-tuple of a name counts as the name)."""
    UNCONSTRAINED = _PS.UNCONSTRAINED
    __slots__ = ("_partitions", "_norm", "_hash")

    def __init__(self, *partitions):
        for p in partitions:
            if not (p is None or isinstance(p, str) or p is PartitionSpec.UNCONSTRAINED
                    or (isinstance(p, tuple) and all(isinstance(q, str) for q in p))):
                raise TypeError(f"PartitionSpec entries must be None, a mesh axis name or a tuple "
                                f"of names; got {p!r}")
        self._partitions = tuple(partitions)
        self._norm = tuple(p[0] if isinstance(p, tuple) and len(p) == 1 else p for p in self._partitions)
        self._hash = hash(self._norm)

    def __repr__(self):
        return "P" + (repr(self._partitions) if self._partitions else "()")

    __str__ = __repr__

    def __len__(self):
        return len(self._partitions)

    def __iter__(self):
        return iter(self._partitions)

    def __getitem__(self, i):
        r = self._partitions[i]
        return PartitionSpec(*r) if isinstance(i, slice) else r

    def _normalized(self):
        return self._norm

    def __eq__(self, other):
        if self is other:
            return True
        if isinstance(other, PartitionSpec):
            return self._norm == other._norm
        return NotImplemented

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (PartitionSpec, self._partitions)


P = PartitionSpec


def _axis_types(axis_types, n, default):
    if axis_types is None:
        return (default,) * n
    if isinstance(axis_types, AxisType):
        return (axis_types,) * n
    axis_types = tuple(axis_types)
    if len(axis_types) != n:
        raise ValueError(f"Number of axis names should match the number of axis_types. Got "
                         f"axis_names length {n} and axis_types length {len(axis_types)}")
    return axis_types


def _mesh_str(name, names, sizes, types, extra=""):
    body = ", ".join(f"'{a}': {s}" for a, s in zip(names, sizes))
    return f"{name}({body}, axis_types={tuple(types)!r}{extra})"


class _MeshBase:
    axis_names: tuple
    axis_sizes: tuple
    axis_types: tuple

    @property
    def shape(self):
        return collections.OrderedDict(zip(self.axis_names, self.axis_sizes))

    @property
    def shape_tuple(self):
        return tuple(zip(self.axis_names, self.axis_sizes))

    @property
    def size(self):
        return math.prod(self.axis_sizes)

    @property
    def empty(self):
        return not self.axis_names

    def _name_to_type(self):
        return dict(zip(self.axis_names, self.axis_types))

    @property
    def auto_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t == AxisType.Auto)

    @property
    def explicit_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t == AxisType.Explicit)

    @property
    def manual_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t == AxisType.Manual)


class AbstractMesh(_MeshBase):
    """A mesh's axis names, sizes and types without devices."""

    def __init__(self, axis_sizes, axis_names, axis_types=None):
        self.axis_sizes = tuple(int(s) for s in axis_sizes)
        self.axis_names = tuple(axis_names)
        if len(self.axis_sizes) != len(self.axis_names):
            raise ValueError(f"axis_sizes {self.axis_sizes} and axis_names {self.axis_names} "
                             f"must have the same length")
        self.axis_types = _axis_types(axis_types, len(self.axis_names), AxisType.Auto)
        self._platform = None

    def __eq__(self, other):
        return (type(other) is AbstractMesh and self.axis_sizes == other.axis_sizes
                and self.axis_names == other.axis_names and self.axis_types == other.axis_types)

    def __hash__(self):
        return hash((self.axis_sizes, self.axis_names, self.axis_types))

    def __repr__(self):
        if not self.axis_names:
            return "AbstractMesh((), axis_types=())"
        p = self._platform
        extra = (f", device_kind={p}, num_cores=None, platform={p}" if p else "")
        return _mesh_str("AbstractMesh", self.axis_names, self.axis_sizes, self.axis_types, extra)


_mesh_stack = threading.local()


class Mesh(_MeshBase):
    """Devices laid out in an n-dimensional grid whose axes have names.

    `Mesh(devices, axis_names, axis_types=None)`; `devices` an array of devices of
    len(axis_names) dimensions. Also a context manager (as JAX's `with mesh:`)."""

    def __init__(self, devices, axis_names, axis_types=None):
        if isinstance(axis_names, str):
            axis_names = (axis_names,)
        devs = np.asarray(devices, dtype=object)
        axis_names = tuple(axis_names)
        if devs.ndim != len(axis_names):
            raise ValueError(f"Mesh requires the ndim of its first argument (`devices`) to equal "
                             f"the length of its second argument (`axis_names`), but got "
                             f"devices.ndim == {devs.ndim} and len(axis_names) == {len(axis_names)}.")
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"Mesh axis names must be unique, got {axis_names}")
        flat = tuple(devs.ravel())
        if len(set(flat)) != len(flat):
            raise ValueError(f"Mesh devices must be distinct, got {list(flat)}")
        self.devices = devs
        self.devices.flags.writeable = False
        self.axis_names = axis_names
        self.axis_sizes = tuple(devs.shape)
        self.axis_types = _axis_types(axis_types, len(axis_names), AxisType.Auto)
        self._flat_devices = flat
        self._key = (tuple(d.id for d in flat), self.axis_sizes, axis_names, self.axis_types)
        self._hash = hash(self._key)

    def __eq__(self, other):
        return self is other or (type(other) is Mesh and self._key == other._key)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return (f"Mesh(axis_sizes={self.axis_sizes}, axis_names={self.axis_names!r}, "
                f"axis_types={tuple(self.axis_types)!r})")

    def __str__(self):
        return _mesh_str("Mesh", self.axis_names, self.axis_sizes, self.axis_types)

    @property
    def device_ids(self):
        return np.vectorize(lambda d: d.id, otypes=[int])(self.devices)

    @property
    def local_devices(self):
        return [d for d in self._flat_devices if runtime.is_local(d)]

    @property
    def local_mesh(self):
        """The sub-mesh of this process's devices (they must fill a box of the mesh)."""
        if not self.is_multi_process:
            return self
        local = np.vectorize(runtime.is_local, otypes=[bool])(self.devices)
        where = np.nonzero(local)
        box = tuple(slice(int(w.min()), int(w.max()) + 1) for w in where) if local.any() else None
        if box is None or not local[box].all():
            raise ValueError(f"this process's devices of {self} do not form a sub-mesh")
        return Mesh(self.devices[box], self.axis_names, self.axis_types)

    @property
    def is_multi_process(self):
        m = self.__dict__.get("_multi")
        if m is None:
            m = self._multi = any(not runtime.is_local(d) for d in self._flat_devices)
        return m

    @property
    def abstract_mesh(self):
        m = AbstractMesh(self.axis_sizes, self.axis_names, self.axis_types)
        m._platform = self._flat_devices[0].platform if self._flat_devices else None
        return m

    def __enter__(self):
        st = getattr(_mesh_stack, "stack", None)
        if st is None:
            st = _mesh_stack.stack = []
        st.append(self)
        return self

    def __exit__(self, *exc):
        _mesh_stack.stack.pop()
        return False


def get_mesh():
    """The innermost mesh of `with mesh:` / `use_mesh` / `set_mesh` in this thread, or None."""
    st = getattr(_mesh_stack, "stack", None)
    return st[-1] if st else _global_mesh


_global_mesh = None


def per_leaf(x, shardings):
    """(leaves of `x`, its treedef, one sharding per leaf) for `shardings` given as one
    NamedSharding / PartitionSpec / None for all, or a pytree prefix of `x` (reshard,
    with_sharding_constraint)."""
    from xlafront import tree_util
    is_s = lambda t: t is None or isinstance(t, (NamedSharding, PartitionSpec))  # noqa: E731
    leaves, tree = tree_util.tree_flatten(x)
    if is_s(shardings):
        return leaves, tree, [shardings] * len(leaves)
    per = []
    for s, sub in zip(tree_util.tree_leaves(shardings, is_leaf=is_s),
                      tree_util.tree_structure(shardings, is_leaf=is_s).flatten_up_to(x)):
        per += [s] * len(tree_util.tree_leaves(sub))
    return leaves, tree, per


def on_current_mesh(spec, what, fallback=None):
    """A bare PartitionSpec given to `what` as a NamedSharding on the current mesh (else on
    `fallback`; a clear error naming the call site where there is neither)."""
    mesh = get_mesh() or fallback
    if mesh is None:
        from xlafront import core
        raise ValueError(f"{what} with a PartitionSpec {spec!r} needs a mesh: use "
                         f"NamedSharding(mesh, spec) or `with xf.sharding.use_mesh(mesh):` "
                         f"(at {core.user_site()})")
    return NamedSharding(mesh, spec)


class use_mesh:
    """`with xf.sharding.use_mesh(mesh):` makes `mesh` the current mesh (P-only shardings)."""

    def __init__(self, mesh):
        if not isinstance(mesh, (Mesh, AbstractMesh)):
            raise TypeError(f"use_mesh takes a Mesh, got {type(mesh).__name__}")
        self.mesh = mesh

    def __enter__(self):
        return self.mesh.__enter__() if isinstance(self.mesh, Mesh) else self.mesh

    def __exit__(self, *exc):
        if isinstance(self.mesh, Mesh):
            self.mesh.__exit__(*exc)
        return False


class set_mesh(use_mesh):
    """`xf.set_mesh(mesh)` sets the global current mesh; also a context manager that
    restores the previous one on exit."""

    def __init__(self, mesh):
        global _global_mesh
        super().__init__(mesh)
        self._prev = _global_mesh
        _global_mesh = mesh

    def __enter__(self):
        return self.mesh

    def __exit__(self, *exc):
        global _global_mesh
        _global_mesh = self._prev
        return False


def make_mesh(axis_shapes, axis_names, axis_types=None, *, devices=None):
    """A mesh of `axis_shapes` over the first prod(axis_shapes) devices, axes named
    `axis_names`; `axis_types` defaults to Explicit for every axis, as JAX's."""
    axis_shapes = tuple(int(s) for s in axis_shapes)
    axis_names = (axis_names,) if isinstance(axis_names, str) else tuple(axis_names)
    if len(axis_shapes) != len(axis_names):
        raise ValueError(f"Length of axis_shapes {axis_shapes} and axis_names {axis_names} must match")
    devs = list(runtime.devices() if devices is None else devices)
    n = math.prod(axis_shapes)
    if n > len(devs) or (devices is not None and n != len(devs)):
        raise ValueError(f"Number of devices {len(devs)} must be >= the product of mesh_shape "
                         f"{axis_shapes}" if devices is None else
                         f"Number of devices {len(devs)} must equal the product of mesh_shape {axis_shapes}")
    arr = np.empty(n, dtype=object)
    arr[:] = devs[:n]
    return Mesh(arr.reshape(axis_shapes), axis_names,
                _axis_types(axis_types, len(axis_names), AxisType.Explicit))


# ----------------------------------------------------------------------------- NamedSharding
def _spec_axes(entry):
    if entry is None or entry is PartitionSpec.UNCONSTRAINED:
        return ()
    return (entry,) if isinstance(entry, str) else tuple(entry)


class NamedSharding:
    """How an array splits over `mesh`: dimension i over the mesh axes `spec[i]` names."""

    def __init__(self, mesh, spec=PartitionSpec(), *, memory_kind=None):
        if not isinstance(mesh, (Mesh, AbstractMesh)):
            raise TypeError(f"NamedSharding's mesh must be a Mesh, got {type(mesh).__name__}")
        if not isinstance(spec, PartitionSpec):
            if spec is None:
                spec = PartitionSpec()
            elif isinstance(spec, (tuple, list)):
                spec = PartitionSpec(*spec)
            else:
                raise TypeError(f"NamedSharding's spec must be a PartitionSpec, got {spec!r}")
        seen = set()
        for entry in spec:
            for a in _spec_axes(entry):
                if a not in mesh.axis_names:
                    raise ValueError(f"Resource axis: {a} of {spec!r} is not found in mesh: "
                                     f"{mesh.axis_names} (at {core.user_site()}).")
                if a in seen:
                    raise ValueError(f"A single NamedSharding spec specification can map every mesh "
                                     f"axis to at most one positional dimension, but {spec!r} has "
                                     f"duplicate entries for `{a}` (at {core.user_site()})")
                seen.add(a)
        if memory_kind not in (None, "device"):
            raise ValueError(f"memory_kind {memory_kind!r} is not supported (only 'device')")
        self.mesh, self.spec, self.memory_kind = mesh, spec, "device"
        self._layouts: dict = {}
        self._hash = hash((mesh, spec))

    def __repr__(self):
        return f"NamedSharding(mesh={self.mesh}, spec={self.spec!r}, memory_kind={self.memory_kind})"

    def __eq__(self, other):
        return self is other or (type(other) is NamedSharding and self.mesh == other.mesh
                                 and self.spec == other.spec)

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (NamedSharding, (self.mesh, self.spec))

    # ---- JAX's Sharding interface
    @property
    def device_set(self):
        return set(self.mesh._flat_devices)

    @property
    def _device_assignment(self):
        return self.mesh._flat_devices

    @property
    def num_devices(self):
        return self.mesh.size

    @property
    def addressable_devices(self):
        """This process's devices of the mesh (all of them with one process)."""
        return set(self.mesh.local_devices)

    @property
    def is_fully_addressable(self):
        return not self.mesh.is_multi_process

    @property
    def is_fully_replicated(self):
        return all(self.mesh.shape[a] == 1 for e in self.spec for a in _spec_axes(e))

    def with_spec(self, spec):
        return NamedSharding(self.mesh, spec if isinstance(spec, PartitionSpec) else PartitionSpec(*spec))

    def with_memory_kind(self, kind):
        return NamedSharding(self.mesh, self.spec, memory_kind=kind)

    def shard_shape(self, global_shape):
        lay = self._layout(len(global_shape))
        check_divisible(self, global_shape)
        return tuple(d // t for d, t in zip(global_shape, lay.tiles))

    def devices_indices_map(self, global_shape):
        global_shape = tuple(global_shape)
        check_divisible(self, global_shape)
        lay = self._layout(len(global_shape))
        return dict(zip(self.mesh._flat_devices, lay.indices(global_shape)))

    def addressable_devices_indices_map(self, global_shape):
        m = self.devices_indices_map(global_shape)
        return m if self.is_fully_addressable else {d: i for d, i in m.items() if runtime.is_local(d)}

    def is_equivalent_to(self, other, ndim):
        try:
            return (self._device_assignment == other._device_assignment
                    and self._layout(ndim).key == other._layout(ndim).key)
        except AttributeError:
            return False

    # ---- what the compiler and the runtime need
    def _layout(self, ndim):
        lay = self._layouts.get(ndim)
        if lay is None:
            if len(self.spec) > ndim:
                raise ValueError(f"Sharding {self!r} is only valid for values of rank at least "
                                 f"{len(self.spec)}, but was applied to a value of rank {ndim}")
            lay = self._layouts[ndim] = _Layout(self.mesh, self.spec, ndim)
        return lay

    def _runtime_sharding(self, ndim):
        lay = self._layout(ndim)
        if lay.runtime is None:
            hlo = runtime.hlo_sharding(*lay.xla) if lay.xla else runtime.hlo_sharding(None, None, False)
            lay.runtime = runtime.multi_sharding(self.mesh._flat_devices, hlo, self)
        return lay.runtime

    def _to_mhlo(self, ndim):
        return self._layout(ndim).mhlo


class _Layout:
    """A NamedSharding's layout for arrays of one rank (see the module docstring)."""
    __slots__ = ("tiles", "xla", "mhlo", "coords", "runtime", "key")

    def __init__(self, mesh, spec, ndim):
        names, sizes = mesh.axis_names, mesh.axis_sizes
        size_of = dict(zip(names, sizes))
        entries = list(spec) + [None] * (ndim - len(spec))
        dim_axes = [_spec_axes(e) for e in entries]
        self.tiles = tuple(math.prod(size_of[a] for a in axes) for axes in dim_axes)
        used = [a for axes in dim_axes for a in axes]
        unused = [a for a in names if a not in used]
        rep = math.prod(size_of[a] for a in unused)
        # each device's block coordinate per dimension (mesh position order)
        coords = []
        for pos in itertools.product(*(range(s) for s in sizes)):
            at = dict(zip(names, pos))
            c = []
            for axes in dim_axes:
                k = 0
                for a in axes:
                    k = k * size_of[a] + at[a]
                c.append(k)
            coords.append(tuple(c))
        self.coords = coords
        self.runtime = None
        if all(t == 1 for t in self.tiles):
            self.xla = None
            self.mhlo = "{replicated}"
            self.key = None
            return
        perm = [names.index(a) for a in used + unused]
        tile_dims = list(self.tiles) + ([rep] if rep > 1 else [])
        order = np.arange(math.prod(sizes)).reshape(sizes).transpose(perm).ravel().tolist()
        self.xla = (tile_dims, order, rep > 1)
        self.key = (tuple(tile_dims), tuple(order), rep > 1)
        self.mhlo = ("{devices=[" + ",".join(map(str, tile_dims)) + "]" + _iota(sizes, perm)
                     + (" last_tile_dim_replicate" if rep > 1 else "") + "}")

    def indices(self, shape):
        out = []
        for c in self.coords:
            idx = []
            for d, t, k in zip(shape, self.tiles, c):
                if t == 1:
                    idx.append(slice(None))
                else:
                    n = d // t
                    idx.append(slice(k * n, (k + 1) * n))
            out.append(tuple(idx))
        return out


def _iota(sizes, perm):
    """XLA's iota tile-assignment text `<=[dims]T(perm)` in its canonical form (size-1
    dimensions dropped, dimensions adjacent in both orders merged)."""
    keep = [i for i, s in enumerate(sizes) if s > 1]
    p = [keep.index(i) for i in perm if i in keep]
    dims = [sizes[i] for i in keep]
    # merge runs i, i+1 that stay adjacent in the permutation
    groups = []
    for q in p:
        if groups and groups[-1][-1] + 1 == q:
            groups[-1].append(q)
        else:
            groups.append([q])
    order = sorted(range(len(groups)), key=lambda g: groups[g][0])
    new_dims = [math.prod(dims[q] for q in groups[g]) for g in order]
    new_perm = [order.index(g) for g in range(len(groups))]
    n = math.prod(new_dims) if new_dims else 1
    if new_perm == sorted(new_perm):
        return f"<=[{n}]"
    return "<=[" + ",".join(map(str, new_dims)) + "]T(" + ",".join(map(str, new_perm)) + ")"


def check_divisible(sharding, shape):
    """ValueError naming the dimension, the mesh axes and the shape when `sharding` does
    not split `shape` evenly."""
    lay = sharding._layout(len(shape))
    for i, (d, t) in enumerate(zip(shape, lay.tiles)):
        if d % t:
            axes = _spec_axes((list(sharding.spec) + [None] * len(shape))[i])
            raise ValueError(
                f"Sharding spec {sharding.spec!r} implies that array axis {i} is partitioned {t} "
                f"times (mesh axes {axes}), but {t} does not evenly divide the dimension size {d}. "
                f"Got shape: {tuple(shape)} and sharding {sharding!r} (at {core.user_site()})")


def named_from_layout(mesh, layout, ndim):
    """The NamedSharding over `mesh` whose XLA layout is `layout` ((tile_dims,
    device_order, replicate_last) or None for replicated), or None if no spec gives it."""
    if layout is None:
        return NamedSharding(mesh, PartitionSpec())
    tile_dims, order, rep = layout
    want = (tuple(tile_dims), tuple(order), rep)
    tiles = tuple(tile_dims[:ndim])
    names = mesh.axis_names
    size_of = mesh.shape
    # every way to give each split dimension an ordered tuple of distinct axes with the
    # right product (meshes are small: a handful of axes)
    options = []
    for t in tiles:
        if t == 1:
            options.append([()])
            continue
        opts = []
        for r in range(1, len(names) + 1):
            for combo in itertools.permutations(names, r):
                if math.prod(size_of[a] for a in combo) == t and all(size_of[a] > 1 for a in combo):
                    opts.append(combo)
        options.append(opts)
    for choice in itertools.product(*options):
        flat = [a for c in choice for a in c]
        if len(set(flat)) != len(flat):
            continue
        entries = [None if not c else (c[0] if len(c) == 1 else c) for c in choice]
        while entries and entries[-1] is None:   # as JAX: P('x',), not P('x', None)
            entries.pop()
        cand = NamedSharding(mesh, PartitionSpec(*entries))
        if cand._layout(ndim).key == want:
            return cand
    return None
