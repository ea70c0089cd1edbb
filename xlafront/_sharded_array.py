"""Arrays split over several devices (`device_put(x, NamedSharding(...))`, sharded jit outputs).

A ShardedArray is an ArrayImpl whose value lives as one jaxlib array over the N devices of
its NamedSharding (`_sbuf`). It subclasses ArrayImpl, so every operator and method works,
but it is never `type(x) is ArrayImpl`: the single-device hot paths (jit, eager dispatch)
never take it for one of theirs. The ArrayImpl slot `_buf` stays unset; the `_buf`
property instead gives a single-device copy of the global value (made on first use), which
is what eager operations read: they compute on one device, with the values of the
sharded array (the result is a single-device array). jit runs sharded arrays on all
their devices (xlafront/_sharded_jit.py).
"""
from __future__ import annotations

import numpy as np

from xlafront import core
from xlafront import array as _array
from xlafront.array import canonical_aval
from xlafront.lowering import runtime
from xlafront import _sharding as S
from xlafront import _explicit_sharding as XS

# the concrete device-array class (named Array before the abstract xf.Array base existed)
ArrayImpl = getattr(_array, "ArrayImpl", None) or _array.Array
_slot_buf = ArrayImpl._buf   # the base slot (never set on a ShardedArray)


class Shard:
    """One device's piece of an array (JAX's Shard): `.device`, `.index`, `.replica_id`, `.data`."""
    __slots__ = ("device", "index", "replica_id", "_array", "_k")

    def __init__(self, device, index, replica_id, array, k):
        self.device, self.index, self.replica_id = device, index, replica_id
        self._array, self._k = array, k

    @property
    def data(self):
        return self._array._shard_data(self._k)

    def __repr__(self):
        return (f"Shard(device={self.device!r}, index={self.index}, replica_id={self.replica_id}, "
                f"data={self.data})")


class ShardedArray(ArrayImpl):
    __slots__ = ("_sbuf", "_named", "_gbuf", "_shards")

    # ---- the single-device view eager code reads (see the module docstring)
    @property
    def _buf(self):
        g = self._gbuf
        if g is None:
            named = self._named
            if not named.is_fully_addressable and not named.is_fully_replicated:
                raise NotImplementedError(
                    f"this operation on an array with shards in other processes "
                    f"({self.dtype.name}{list(self.shape)} over {named!r}) is not implemented yet "
                    f"in xlafront: put the computation inside jit (at {core.user_site()})")
            g = self._gbuf = runtime.device_put(np.ascontiguousarray(self._value), self.aval.weak_type)
        return g

    @property
    def _value(self):
        v = self._npy
        if v is None:
            if self._sbuf.is_deleted():
                raise RuntimeError(f"Array has been deleted with shape={self.dtype.name}"
                                   f"[{','.join(map(str, self.shape))}].")
            v = _gather(self)
            v.flags.writeable = False
            self._npy = v
        return v

    @property
    def sharding(self):
        return self._named

    def __repr__(self):
        named = self._named
        if named.is_fully_addressable or named.is_fully_replicated:
            return ArrayImpl.__repr__(self)
        # spans other processes' devices: no value to show here (as JAX)
        weak = ", weak_type=True" if self.aval.weak_type else ""
        return f"Array(shape={self.shape}, dtype={self.dtype.name}{weak})"

    def __str__(self):
        named = self._named
        return ArrayImpl.__str__(self) if named.is_fully_addressable or named.is_fully_replicated \
            else repr(self)

    @property
    def device(self):
        raise ValueError("Length of devices is greater than 1. Please use `.devices()`.")

    def devices(self):
        return set(self._named._device_assignment)

    @property
    def is_fully_replicated(self):
        return self._named.is_fully_replicated

    @property
    def is_fully_addressable(self):
        return self._named.is_fully_addressable

    @property
    def addressable_shards(self):
        """This process's shards (all of them with one process)."""
        sh = self.global_shards
        if self._named.is_fully_addressable:
            return sh
        return [s for s in sh if runtime.is_local(s.device)]

    @property
    def global_shards(self):
        """Every device's shard; `.data` is None on another process's devices (as JAX)."""
        sh = self._shards
        if sh is None:
            named = self._named
            lay = named._layout(self.ndim)
            seen: dict = {}
            sh = []
            for k, (dev, idx, c) in enumerate(zip(named._device_assignment, lay.indices(self.shape),
                                                  lay.coords)):
                rid = seen.get(c, 0)
                seen[c] = rid + 1
                sh.append(Shard(dev, idx, rid, self, k))
            self._shards = sh
        return list(sh)

    def addressable_data(self, index):
        return self.addressable_shards[index].data

    def _shard_data(self, k):
        named = self._named
        if not runtime.is_local(named._device_assignment[k]):
            return None
        shape = named.shard_shape(self.shape)
        v = runtime.shard_to_numpy(self._sbuf, k, shape)
        buf = runtime.device_put_on(np.ascontiguousarray(v), named._device_assignment[k], self.aval.weak_type)
        a = object.__new__(ArrayImpl)
        _slot_buf.__set__(a, buf)
        a.aval = canonical_aval(self.aval.update(shape=shape))
        a._npy = None
        return a

    def block_until_ready(self):
        self._sbuf.block_until_ready()
        return self

    def is_ready(self):
        return self._sbuf.is_ready()

    def is_deleted(self):
        return self._sbuf.is_deleted()

    def delete(self):
        self._sbuf.delete()
        if self._gbuf is not None:
            self._gbuf.delete()

    def copy_to_host_async(self):
        pass

    def on_device_size_in_bytes(self):
        return self._sbuf.on_device_size_in_bytes()

    def unsafe_buffer_pointer(self):
        raise ValueError("unsafe_buffer_pointer is not supported for arrays over several devices")

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        raise BufferError("DLPack exports arrays on one device only; this array is sharded over "
                          f"{self._named.num_devices} devices")


def make_sharded(sbuf, aval, named, retype=True) -> ShardedArray:
    a = object.__new__(ShardedArray)
    a._sbuf = sbuf
    if retype:   # its sharding type, over the mesh's Explicit axes (a jit output has its own)
        aval = XS.typed(aval, named)
    if aval.sharding is not None and _jit is None:
        _install_typed()
    a.aval = canonical_aval(aval)
    a._npy = None
    a._named = named
    a._gbuf = None
    a._shards = None
    return a


def sharded_maker(aval, named):
    """The one-argument constructor a sharded executable's result handler calls."""
    aval = canonical_aval(aval)

    def make(sbuf):
        return make_sharded(sbuf, aval, named, False)
    return make


def _gather(a: ShardedArray) -> np.ndarray:
    """The global value: each distinct shard read once and placed at its index."""
    named = a._named
    shape = a.shape
    if not named.is_fully_addressable:
        if not named.is_fully_replicated:
            raise RuntimeError(
                "Fetching value for `jax.Array` that spans non-addressable (non process local) "
                "devices is not possible. You can use "
                "`jax.experimental.multihost_utils.process_allgather` to print the global array "
                "or use `.addressable_shards` method of jax.Array to inspect the addressable "
                f"(process local) shards (at {core.user_site()}).")
        k = next(i for i, d in enumerate(named._device_assignment) if runtime.is_local(d))
        return np.array(runtime.shard_to_numpy(a._sbuf, k, shape))
    if named.is_fully_replicated:
        return np.array(runtime.shard_to_numpy(a._sbuf, 0, shape))
    lay = named._layout(len(shape))
    sshape = named.shard_shape(shape)
    out = np.empty(shape, a.dtype)
    done = set()
    for k, (idx, c) in enumerate(zip(lay.indices(shape), lay.coords)):
        if c in done:
            continue
        done.add(c)
        out[idx] = runtime.shard_to_numpy(a._sbuf, k, sshape)
    return out


def put(x, named: S.NamedSharding):
    """`device_put(x, named)`: x (a host array, an Array or a ShardedArray) split over the
    devices of `named`."""
    if isinstance(x, ShardedArray) and x._named == named:
        return x
    if isinstance(x, ShardedArray) and not x._named.is_fully_addressable:
        return _reshard_on_devices(x, named)
    if isinstance(x, ArrayImpl):
        weak = x.aval.weak_type
        host = np.asarray(x)
    else:
        aval = core.get_aval(x)   # the canonical dtype (x64 mode) and weak type of a host value
        host = np.asarray(x)
        if host.dtype != aval.dtype:
            host = host.astype(aval.dtype)
        weak = aval.weak_type
    shape = host.shape
    S.check_divisible(named, shape)
    lay = named._layout(len(shape))
    rs = named._runtime_sharding(len(shape))
    if named.is_fully_addressable:
        pieces = [np.ascontiguousarray(host[idx]) for idx in lay.indices(shape)]
    else:   # several processes: this one's devices only (each process holds the global value)
        pieces = [np.ascontiguousarray(host[idx]) if runtime.is_local(d) else None
                  for d, idx in zip(named._device_assignment, lay.indices(shape))]
    sbuf = runtime.device_put_sharded(pieces, rs, shape, host.dtype, weak)
    a = make_sharded(sbuf, core.ShapedArray(shape, host.dtype, weak), named)
    return a


_eager_jits: dict = {}


def apply_over_processes(prim, args, params):
    """An eager operation on arrays with shards in other processes, run as a jit of the
    one primitive over their devices (as JAX runs it); NotImplemented for other operands
    (dispatch's `over_processes` hook, installed by xf.distributed.initialize)."""
    for x in args:   # (or typed over Explicit axes: the result keeps the type, as JAX's)
        if type(x) is ShardedArray and (x.aval.sharding is not None or not x._named.is_fully_addressable):
            break
    else:
        return NotImplemented
    key = (prim, *params.items())
    try:
        f = _eager_jits.get(key)
    except TypeError:   # a parameter that does not hash
        key, f = None, None
    if f is None:
        f = _jit(lambda *a: prim.bind(*a, **params))
        if key is not None:
            _eager_jits[key] = f
    return f(*args)


_jit = None   # xf.jit, given by install_over_processes (this module is below the API's)


def install_over_processes(jit):
    """Route eager operations on arrays with shards in other processes through
    `apply_over_processes` (called by xf.distributed.initialize with `xf.jit`; one process
    never pays for it): dispatch's hook, and ShardedArray's scalar operators take the
    general path (the one-device scalar fast path reads `_buf`)."""
    global _jit
    from xlafront import dispatch
    _jit = jit
    dispatch.over_processes = apply_over_processes

    def general(name):
        def op(self, other):
            f = ArrayImpl.__dict__[name]
            return getattr(f, "_general", f)(self, other)
        op.__name__ = op.__qualname__ = name
        return op
    for name in dispatch.SCALAR_OPERATORS:
        if name in ArrayImpl.__dict__:
            setattr(ShardedArray, name, general(name))


def _install_typed():
    """The first array typed over Explicit mesh axes: eager operations on such arrays run
    as jits over their mesh (apply_over_processes), so their results keep their types."""
    install_over_processes(jit)


jit = None   # xlafront.api.jit, set by xlafront/api.py (which imports this module)


_reshards: dict = {}


def _reshard_on_devices(x, named):
    """An array with shards in other processes laid out anew by a program over its devices
    (no process holds the value to cut it on the host): an identity jit whose output
    sharding is `named`."""
    if set(named._device_assignment) != set(x._named._device_assignment):
        raise ValueError(f"device_put of an array over {x._named.mesh} to a sharding over other "
                         f"devices ({named.mesh}) is not implemented for arrays with shards in "
                         f"other processes (at {core.user_site()})")
    f = _reshards.get(named)
    if f is None:
        f = _reshards[named] = _jit(lambda v: v, out_shardings=named)
    return f(x)


def _to_device(v, device):
    """`v` (host value or Array) as a single-device array on `device`."""
    if isinstance(v, ArrayImpl) and not isinstance(v, ShardedArray):
        if runtime.sharding_of(v._buf)._device == device:
            return v
    if isinstance(v, ArrayImpl):
        aval = v.aval
        host = np.asarray(v)
    else:
        aval = core.get_aval(v)
        host = np.asarray(v)
        if host.dtype != aval.dtype:
            host = host.astype(aval.dtype)
    buf = runtime.device_put_on(np.ascontiguousarray(host), device, aval.weak_type)
    a = object.__new__(ArrayImpl)
    _slot_buf.__set__(a, buf)
    a.aval = canonical_aval(core.ShapedArray(host.shape, host.dtype, aval.weak_type))
    a._npy = None
    return a


def _put_one(v, target):
    if isinstance(v, core.Tracer):   # a layout over Explicit axes is a new type (as reshard)
        if isinstance(target, S.PartitionSpec) and S.get_mesh() is not None:
            target = S.on_current_mesh(target, "device_put")
        if isinstance(target, S.NamedSharding) and target.mesh.explicit_axes:
            return XS.reshard(v, target)
        return v
    if isinstance(target, S.NamedSharding):
        return put(v, target)
    if isinstance(target, S.PartitionSpec):
        return put(v, S.on_current_mesh(target, "device_put"))
    if isinstance(target, runtime.sharding_class()):
        return _to_device(v, target._device)
    if isinstance(target, runtime.device_class()):
        return _to_device(v, target)
    raise TypeError(f"device_put's device must be a Device or a Sharding, got {target!r} "
                    f"(at {core.user_site()})")


def device_put(x, device):
    """`xf.device_put(x, device_or_sharding)` (also a pytree of them, as a prefix of x's tree)."""
    from xlafront import tree_util
    is_target = lambda t: isinstance(t, (S.NamedSharding, S.PartitionSpec, runtime.sharding_class(),
                                         runtime.device_class()))
    if is_target(device):
        return tree_util.tree_map(lambda v: _put_one(v, device), x)
    return tree_util.tree_map(lambda t, v: tree_util.tree_map(lambda w: _put_one(w, t), v),
                              device, x, is_leaf=lambda t: is_target(t) or t is None)


core.aval_of_type[ShardedArray] = lambda x: x.aval
XS.arrays.ShardedArray, XS.arrays.device_put = ShardedArray, device_put
