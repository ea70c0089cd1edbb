"""jax.experimental.multihost_utils: exchanging host values between the processes of a
multi-process run (xlafront/distributed.py).

Each works as JAX's does, through a program over every device: a process's host value
becomes its block of a global array over a (processes, local devices) mesh, and a jit
that makes it replicated (or sums it) brings every process the whole.
"""
from __future__ import annotations

import zlib

import numpy as np

from xlafront import tree_util
from xlafront import _sharding as S

__all__ = ["process_allgather", "broadcast_one_to_all", "sync_global_devices", "assert_equal",
           "host_local_array_to_global_array", "global_array_to_host_local_array"]


def _api():
    import xlafront
    return xlafront


def _process_mesh():
    """Every device, one row per process: axes ('processes', 'local_devices')."""
    xf = _api()
    devs = np.empty(xf.device_count(), dtype=object)
    devs[:] = xf.devices()
    return S.Mesh(devs.reshape(xf.process_count(), xf.local_device_count()), ("processes", "local_devices"))


def _global_stack(host, mesh):
    """The global array whose block along axis 0 on this process's devices is `host`."""
    xf = _api()
    return xf.make_array_from_process_local_data(S.NamedSharding(mesh, S.PartitionSpec("processes")), host)


_jits: dict = {}


def _identity(v):
    return v


def _sum0(v):
    return _api().numpy.sum(v, axis=0, dtype=v.dtype)


def _replicated(x, mesh, fn=_identity):
    """`fn(x)` made replicated over `mesh`, read on this process (one jit per mesh and fn)."""
    f = _jits.get((mesh, fn))
    if f is None:
        f = _jits[(mesh, fn)] = _api().jit(fn, out_shardings=S.NamedSharding(mesh, S.PartitionSpec()))
    return np.asarray(f(x).addressable_data(0))


def _allgather_one(x, tiled):
    xf = _api()
    from xlafront._sharded_array import ShardedArray
    if isinstance(x, ShardedArray) and not x.is_fully_addressable:
        if not tiled:
            raise ValueError("Gathering global non-fully-addressable arrays only supports tiled=True")
        return _replicated(x, x.sharding.mesh)
    host = np.asarray(x)
    if xf.process_count() == 1:
        return host if tiled else np.expand_dims(host, 0)
    if host.ndim == 0 or not tiled:
        host = np.expand_dims(host, 0)
    mesh = _process_mesh()
    return _replicated(_global_stack(host, mesh), mesh)


def process_allgather(in_tree, tiled: bool = False):
    """Every process's value of each array of `in_tree` (the same shape in all), as numpy:
    stacked on a new leading axis (`tiled=False`) or concatenated along axis 0 (`tiled=True`).
    An array spanning several processes' devices gives its global value (tiled only)."""
    return tree_util.tree_map(lambda x: _allgather_one(x, tiled), in_tree)


def broadcast_one_to_all(in_tree, is_source: bool | None = None):
    """Process 0's value (or the one where `is_source`) of each array of `in_tree`, in
    every process, as numpy."""
    xf = _api()
    if xf.process_count() == 1:
        return tree_util.tree_map(np.asarray, in_tree)
    if is_source is None:
        is_source = xf.process_index() == 0
    mesh = _process_mesh()

    def one(x):
        host = np.asarray(x)
        host = np.expand_dims(host if is_source else np.zeros_like(host), 0)
        return _replicated(_global_stack(host, mesh), mesh, _sum0)
    return tree_util.tree_map(one, in_tree)


def _spec_leaves(pspecs, tree):
    """One PartitionSpec per leaf of `tree` (`pspecs`: one for all, or a prefix tree)."""
    if isinstance(pspecs, S.PartitionSpec):
        return [pspecs] * tree.num_leaves
    is_p = lambda t: isinstance(t, S.PartitionSpec)   # noqa: E731
    specs = tree_util.tree_leaves(pspecs, is_leaf=is_p)
    subs = tree_util.tree_structure(pspecs, is_leaf=is_p).flatten_up_to(tree.unflatten([0] * tree.num_leaves))
    return [sp for sp, sub in zip(specs, subs) for _ in tree_util.tree_leaves(sub)]


def host_local_array_to_global_array(local_inputs, global_mesh, pspecs):
    """Each process's host-local arrays as the global arrays over `global_mesh` laid out
    by `pspecs` (a sharded dimension grows by the number of processes along it)."""
    xf = _api()
    leaves, tree = tree_util.tree_flatten(local_inputs)
    out = [xf.make_array_from_process_local_data(S.NamedSharding(global_mesh, sp), np.asarray(x))
           for x, sp in zip(leaves, _spec_leaves(pspecs, tree))]
    return tree.unflatten(out)


def _host_local(x, mesh, spec):
    xf = _api()
    named = x.sharding
    if not isinstance(named, S.NamedSharding) or named.is_fully_addressable:
        return x
    lay = named._layout(x.ndim)
    devs = named._device_assignment
    from xlafront.lowering import runtime
    local = [k for k, d in enumerate(devs) if runtime.is_local(d)]
    blocks = [sorted({lay.coords[k][i] for k in local}) for i in range(x.ndim)]
    sshape = named.shard_shape(x.shape)
    host = np.empty(tuple(len(b) * n for b, n in zip(blocks, sshape)), x.dtype)
    for shard in x.addressable_shards:
        c = lay.coords[devs.index(shard.device)]
        at = tuple(slice(b.index(ci) * n, (b.index(ci) + 1) * n) for b, ci, n in zip(blocks, c, sshape))
        host[at] = np.asarray(shard.data)
    return xf.device_put(host, S.NamedSharding(mesh.local_mesh, spec))


def global_array_to_host_local_array(global_inputs, global_mesh, pspecs):
    """Each global array's blocks on this process's devices, as one array over the local
    mesh (the inverse of host_local_array_to_global_array)."""
    leaves, tree = tree_util.tree_flatten(global_inputs)
    return tree.unflatten([_host_local(x, global_mesh, sp) for x, sp in zip(leaves, _spec_leaves(pspecs, tree))])


def assert_equal(in_tree, fail_message: str = ""):
    """AssertionError unless every process holds the same values of `in_tree`."""
    xf = _api()
    from xlafront._sharded_array import ShardedArray

    def expected(x):
        if isinstance(x, ShardedArray) and not x.is_fully_addressable:
            return np.asarray(x.addressable_data(0))
        x = np.asarray(x)
        return np.concatenate([x.reshape(1) if x.ndim == 0 else x] * xf.process_count())
    got = process_allgather(in_tree, tiled=True)
    want = tree_util.tree_map(expected, in_tree)
    if not all(np.array_equal(a, b) for a, b in zip(tree_util.tree_leaves(want), tree_util.tree_leaves(got))):
        raise AssertionError(f"{fail_message}. Expected: {got}; got: {in_tree}.")


def sync_global_devices(name: str):
    """A barrier across every process (each must pass the same `name`)."""
    assert_equal(np.uint32(zlib.crc32(name.encode())), f"sync_global_devices name mismatch ('{name}')")


from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
