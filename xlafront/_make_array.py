"""Global arrays from the pieces one process holds (jax.make_array_from_*).

With several processes (xlafront/distributed.py) no process holds a whole global array:
each makes its own devices' shards, and the global array is the jaxlib array over every
device of the sharding whose local shards are those (lowering/runtime.py's
`assemble_sharded`). The same calls work in one process, where every shard is local.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, tree_util
from xlafront import _sharding as S
from xlafront._sharded_array import ArrayImpl, ShardedArray, make_sharded
from xlafront.lowering import runtime

__all__ = ["make_array_from_single_device_arrays", "make_array_from_callback",
           "make_array_from_process_local_data"]


def _named(sharding, what):
    if not isinstance(sharding, S.NamedSharding):
        raise TypeError(f"{what} takes a NamedSharding, got {sharding!r} (at {core.user_site()})")
    return sharding


def _host(x):
    """x as a host array of its canonical dtype, and its weak type."""
    if isinstance(x, ArrayImpl):
        return np.asarray(x), x.aval.weak_type
    aval = core.get_aval(x)
    host = np.asarray(x)
    if host.dtype != aval.dtype:
        host = host.astype(aval.dtype)
    return host, aval.weak_type


def _local_positions(named):
    return [k for k, d in enumerate(named._device_assignment) if runtime.is_local(d)]


def _build(named, shape, dtype, weak, piece_of):
    """The global array of `shape` over `named` from `piece_of(k)`, the host piece of the
    k-th device of the device list (called for this process's devices only)."""
    devs = named._device_assignment
    bufs = [runtime.device_put_on(np.ascontiguousarray(piece_of(k), dtype=dtype), devs[k], weak)
            for k in _local_positions(named)]
    sbuf = runtime.assemble_sharded(bufs, named._runtime_sharding(len(shape)), shape, dtype, weak)
    return make_sharded(sbuf, core.ShapedArray(tuple(shape), np.dtype(dtype), weak), named)


def make_array_from_single_device_arrays(shape, sharding, arrays, *, dtype=None):
    """The global array of `shape` over `sharding` whose shards are `arrays`: one
    single-device array on each of this process's devices of the sharding (any order)."""
    named = _named(sharding, "make_array_from_single_device_arrays")
    shape = tuple(int(d) for d in shape)
    S.check_divisible(named, shape)
    want = named.shard_shape(shape)
    arrays = list(arrays)
    devs = named._device_assignment
    local = [devs[k] for k in _local_positions(named)]
    if len(arrays) != len(local):
        raise ValueError(f"make_array_from_single_device_arrays: got {len(arrays)} arrays for the "
                         f"{len(local)} devices of {named!r} in this process (at {core.user_site()})")
    by_device = {}
    for a in arrays:
        if not isinstance(a, ArrayImpl) or isinstance(a, ShardedArray):
            raise TypeError(f"make_array_from_single_device_arrays takes single-device arrays, got "
                            f"{type(a).__name__} (at {core.user_site()})")
        if a.shape != want:
            raise ValueError(f"make_array_from_single_device_arrays: an array of shape {a.shape} for "
                             f"shards of shape {want} (global shape {shape}, {named.spec!r}) "
                             f"(at {core.user_site()})")
        if dtype is not None and np.dtype(dtype) != a.dtype:
            raise ValueError(f"make_array_from_single_device_arrays: dtype {np.dtype(dtype)} but an "
                             f"array has dtype {a.dtype} (at {core.user_site()})")
        by_device[a.device] = a
    missing = [d for d in local if d not in by_device]
    if missing:
        raise ValueError(f"make_array_from_single_device_arrays: no array on {missing} (the arrays "
                         f"are on {list(by_device)}) (at {core.user_site()})")
    first = arrays[0]
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        raise ValueError(f"make_array_from_single_device_arrays: the arrays' dtypes differ: "
                         f"{sorted(map(str, dtypes))} (at {core.user_site()})")
    weak = all(a.aval.weak_type for a in arrays)
    sbuf = runtime.assemble_sharded([by_device[d]._buf for d in local],
                                    named._runtime_sharding(len(shape)), shape, first.dtype, weak)
    return make_sharded(sbuf, core.ShapedArray(shape, first.dtype, weak), named)


def make_array_from_callback(shape, sharding, data_callback, dtype=None):
    """The global array of `shape` over `sharding` whose shard on each of this process's
    devices is `data_callback(index)` (index: that shard's tuple of slices)."""
    named = _named(sharding, "make_array_from_callback")
    shape = tuple(int(d) for d in shape)
    S.check_divisible(named, shape)
    idx = named._layout(len(shape)).indices(shape)
    want = named.shard_shape(shape)
    pieces = {}
    for k in _local_positions(named):
        host, weak = _host(data_callback(idx[k]))
        if host.shape != want:
            raise ValueError(f"make_array_from_callback: the callback gave shape {host.shape} for the "
                             f"shard {idx[k]} of shape {want} (at {core.user_site()})")
        pieces[k] = (host, weak)
    first = next(iter(pieces.values()))
    dt = np.dtype(dtype) if dtype is not None else first[0].dtype
    return _build(named, shape, dt, first[1], lambda k: pieces[k][0])


def make_array_from_process_local_data(sharding, local_data, global_shape=None):
    """The global array over `sharding` of which this process holds `local_data`: along
    each dimension, the blocks of this process's devices in order (so a batch split over
    processes gives each its own rows). A dimension whose `global_shape` equals the local
    one is the whole dimension in every process. `global_shape` defaults to the shape
    when each process holds only its own blocks. Pytrees: one sharding for every leaf, or
    a tree of them."""
    is_s = lambda t: isinstance(t, S.NamedSharding)   # noqa: E731
    if not is_s(sharding) or not (isinstance(local_data, np.ndarray) or hasattr(local_data, "shape")
                                  or np.isscalar(local_data)):
        leaves, tree = tree_util.tree_flatten(local_data)
        shards = ([sharding] * len(leaves) if is_s(sharding)
                  else tree_util.tree_leaves(sharding, is_leaf=is_s))
        shapes = ([global_shape] * len(leaves) if global_shape is None or
                  (isinstance(global_shape, tuple) and all(isinstance(d, int) for d in global_shape))
                  else tree_util.tree_leaves(global_shape, is_leaf=lambda t: isinstance(t, tuple)))
        if len(shards) != len(leaves) or len(shapes) != len(leaves):
            raise ValueError(f"make_array_from_process_local_data: sharding and global_shape must "
                             f"match local_data's tree (at {core.user_site()})")
        return tree.unflatten([make_array_from_process_local_data(s, x, g)
                               for s, x, g in zip(shards, leaves, shapes)])
    named = _named(sharding, "make_array_from_process_local_data")
    host, weak = _host(local_data)
    ndim = host.ndim
    lay = named._layout(ndim)
    devs = named._device_assignment
    local = _local_positions(named)
    # the distinct blocks of this process along each dimension, in order
    blocks = [sorted({lay.coords[k][i] for k in local}) for i in range(ndim)]
    if global_shape is not None:
        global_shape = tuple(int(d) for d in global_shape)
        if len(global_shape) != ndim:
            raise ValueError(f"make_array_from_process_local_data: global_shape {global_shape} and "
                             f"local data of shape {host.shape} differ in rank (at {core.user_site()})")
    shape, whole = [], []
    for i in range(ndim):
        n_loc, t = len(blocks[i]), lay.tiles[i]
        inferred = host.shape[i] // n_loc * t if host.shape[i] % n_loc == 0 else None
        g = inferred if global_shape is None else global_shape[i]
        if g is None or (g != host.shape[i] and g != inferred):
            raise ValueError(
                f"make_array_from_process_local_data: local data of shape {host.shape} does not fit "
                f"dimension {i} of {named.spec!r} (this process holds {n_loc} of its {t} blocks"
                + ("" if global_shape is None else f"; global_shape {global_shape}")
                + f") (at {core.user_site()})")
        shape.append(g)
        whole.append(g == host.shape[i])
    shape = tuple(shape)
    S.check_divisible(named, shape)
    sshape = named.shard_shape(shape)

    def piece(k):
        idx = []
        for i in range(ndim):
            c = lay.coords[k][i]
            if whole[i]:   # the local data is the whole dimension: the block's own rows
                start = c * sshape[i] if lay.tiles[i] > 1 else 0
            else:          # the local data is this process's blocks, in order
                start = blocks[i].index(c) * sshape[i]
            idx.append(slice(start, start + sshape[i]))
        return host[tuple(idx)]
    return _build(named, shape, host.dtype, weak, piece)
