"""The one place that touches jaxlib's PJRT API: clients, devices, buffers, compile, execute.

Everything here is jaxlib-private and moves between releases, so it is pinned
(jaxlib 0.10.x) and covered by tests/test_runtime.py. The rest of the project
sees only: `default_device()`, `devices()`, `device_put(np_array)`, `to_numpy(buf)`,
`compile(text)` and `Executable.run(bufs)`.
"""
from __future__ import annotations

import collections
import gc
import itertools
import os
import re
import threading

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # silence PJRT's device-count banner

from jaxlib import _jax, xla_client as xc  # noqa: E402
JaxRuntimeError = _jax.JaxRuntimeError  # what a failing computation raises (jax.errors.JaxRuntimeError)

# jaxlib queues some objects it drops without the GIL (with tracebacks enabled, jaxlib's
# default: one small object per executed program) and frees them only in
# `_jax.collect_garbage()`. JAX drains that queue from a `gc` callback; without a drain
# every jit call and eager op leaked ~100 bytes (RSS +35 MB per 300k calls). Drain it after
# each garbage collection, as JAX does, and every 1024th program run (see _runner).
def _drain_jaxlib_garbage(phase, info, _collect=_jax.collect_garbage):
    if phase == "stop":
        _collect()


if _drain_jaxlib_garbage not in gc.callbacks:
    gc.callbacks.append(_drain_jaxlib_garbage)

from xlafront import dtypes  # noqa: E402
from xlafront.config import config  # noqa: E402
from xlafront.core import register_internal_path  # noqa: E402

register_internal_path(__file__)

JAXLIB_VERSION = getattr(xc, "_version", None)

# PJRT plugins by platform, in order of preference: (module holding the plugin library,
# its file name, the pip package to install). The `jax-<gpu>-plugin` wheels pull in the
# `jax-<gpu>-pjrt` wheel, which installs the library under `jax_plugins/xla_<gpu>/`.
_PLUGINS = {
    "cuda": [("jax_plugins.xla_cuda13", "xla_cuda_plugin.so", "jax-cuda13-plugin"),
             ("jax_plugins.xla_cuda12", "xla_cuda_plugin.so", "jax-cuda12-plugin")],
    "rocm": [("jax_plugins.xla_rocm7", "xla_rocm_plugin.so", "jax-rocm7-plugin"),
             ("jax_plugins.xla_rocm60", "xla_rocm_plugin.so", "jax-rocm60-plugin")],
    "tpu": [("libtpu", "libtpu.so", "libtpu")],
}
_PLATFORM_ALIASES = {"gpu": "cuda", "cpu": "cpu", "cuda": "cuda", "rocm": "rocm", "tpu": "tpu"}
# An explicit plugin library path (as JAX's PJRT_NAMES_AND_LIBRARY_PATHS, for one plugin).
_PLUGIN_PATH_ENV = "XLAFRONT_PJRT_PLUGIN_LIBRARY"


def jaxlib_release() -> str:
    from jaxlib import version
    return version.__version__


class PlatformError(RuntimeError):
    pass


class _Sharding(_jax.SingleDeviceSharding):
    """The single-device sharding jaxlib's device_put wants (it calls these hooks)."""

    def _to_xla_hlo_sharding(self, ndim):
        return xc.HloSharding.replicate()

    @property
    def _device_assignment(self):
        return (self._device,)

    @property
    def device_set(self):
        return {self._device}

    def devices_indices_map(self, shape):
        return {self._device: tuple(slice(None) for _ in shape)}

    num_devices = property(lambda self: 1)
    is_fully_replicated = property(lambda self: True)
    is_fully_addressable = property(lambda self: True)
    memory_kind = property(lambda self: None)


class _MultiSharding(_jax.GSPMDSharding):
    """The sharding jaxlib's multi-device arrays carry (a device list and an HloSharding);
    `user` is the API's sharding it stands for (xlafront/_sharding.py's NamedSharding)."""

    def _to_xla_hlo_sharding(self, ndim):
        return self._hlo_sharding

    @property
    def _device_assignment(self):
        return self._devices

    @property
    def device_set(self):
        return set(self._devices)

    num_devices = property(lambda self: len(self._devices))
    is_fully_replicated = property(lambda self: self._hlo_sharding.is_replicated())
    is_fully_addressable = property(lambda self: self._internal_device_list.is_fully_addressable)
    memory_kind = property(lambda self: None)


class _AvalLike:
    """What batched_device_put reads of an aval."""
    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape, self.dtype, self.weak_type = shape, dtype, weak_type


def _plugin_library(platform: str) -> str | None:
    """Path of an installed PJRT plugin library for `platform`, or None."""
    import importlib.util
    explicit = os.environ.get(_PLUGIN_PATH_ENV)
    if explicit:
        if not os.path.exists(explicit):
            raise PlatformError(f"{_PLUGIN_PATH_ENV}={explicit!r} does not exist")
        return explicit
    for module, lib, _ in _PLUGINS.get(platform, []):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            path = os.path.join(folder, lib)
            if os.path.exists(path):
                return path
    return None


def _open_plugin(platform: str):
    path = _plugin_library(platform)
    if path is None:
        pips = [pip for _, _, pip in _PLUGINS.get(platform, [])]
        release = jaxlib_release()
        install = " or ".join(f"`pip install {pip}=={release}`" for pip in pips)
        raise PlatformError(
            f"XLAFRONT_PLATFORM={platform!r} needs the PJRT plugin for {platform}, and none is "
            f"installed: run {install} (the plugin's release must match jaxlib {release}), "
            f"or set {_PLUGIN_PATH_ENV} to the plugin library, or unset XLAFRONT_PLATFORM to "
            f"run on the CPU.")
    try:
        if not xc.pjrt_plugin_loaded(platform):
            xc.load_pjrt_plugin_dynamically(platform, path)
        if not xc.pjrt_plugin_initialized(platform):
            xc.initialize_pjrt_plugin(platform)
        if _distributed is None:
            return xc.make_c_api_client(platform, {}, None)
        opts = {"node_id": _distributed.process_id, "num_nodes": _distributed.num_processes}
        if _distributed.local_device_ids and platform in ("cuda", "rocm"):   # as JAX's local_device_ids
            opts["visible_devices"] = [int(i) for i in _distributed.local_device_ids]
        return xc.make_c_api_client(platform, opts, _distributed.client)   # several processes
    except Exception as e:
        raise PlatformError(f"could not open the PJRT plugin for {platform!r} at {path}: {e}") from e


class Backend:
    """A PJRT client with its default device and the sharding object for it."""

    def __init__(self, platform: str):
        self.platform = platform
        if platform == "cpu":
            global _backend_cpu_request
            n = _requested_cpu_devices()
            _backend_cpu_request = config.num_cpu_devices
            kw = {} if n is None else {"num_devices": n}
            if _distributed is not None:   # xlafront.distributed.initialize ran: join the others
                kw.update(distributed_client=_distributed.client, node_id=_distributed.process_id,
                          num_nodes=_distributed.num_processes,
                          collectives=_cpu_collectives(_distributed.client))
            self.client = xc.make_cpu_client(**kw)
        else:
            self.client = _open_plugin(platform)
        self.local_devices = self.client.local_devices()
        # every process's devices (the local ones when there is one process)
        self.devices = self.client.devices() if _distributed is not None else self.local_devices
        self.process_index = self.client.process_index()
        self.device = self.local_devices[0]
        self.sharding = _Sharding(self.device)
        self.device_list = xc.DeviceList((self.device,))


def _requested_cpu_devices():
    """`jax_num_cpu_devices` when set (>= 1); else None: jaxlib reads XLA_FLAGS'
    `--xla_force_host_platform_device_count=N` itself (one device without it)."""
    n = getattr(config, "num_cpu_devices", -1)
    if n is None or int(n) < 0:
        return None
    if int(n) < 1:
        raise ValueError(f"jax_num_cpu_devices must be at least 1, got {n}")
    return int(n)


def _on_config(attr, value):
    if attr == "num_cpu_devices" and _backend is not None and _backend.platform == "cpu" \
            and len(_backend.local_devices) != value:
        config.num_cpu_devices = _backend_cpu_request
        raise RuntimeError(
            "jax_num_cpu_devices config should be updated before backends are initialized i.e. "
            "before any JAX operation is executed. You should initialize this config immediately "
            "after `import jax`.")


_backend_cpu_request = -1
config.add_listener(_on_config)


def backend_started() -> bool:
    return _backend is not None


_backend: Backend | None = None
_lock = threading.Lock()


def backend() -> Backend:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                requested = (config.platform or "cpu").split(",")[0].strip().lower()
                platform = platform_name(requested)
                if platform is None:
                    raise PlatformError(f"unknown platform {requested!r}; choose one of cpu, cuda, rocm, tpu")
                _backend = Backend(platform)
    return _backend


def platform_name(name: str) -> str | None:
    """The platform a user's name stands for (`gpu` -> `cuda`), or None if unknown."""
    return _PLATFORM_ALIASES.get(name.strip().lower())


def platform_in_use() -> str | None:
    """The platform of the backend already opened, or None before the first one."""
    return None if _backend is None else _backend.platform


def devices():
    return list(backend().devices)


def local_devices():
    """This process's devices (all of them with one process)."""
    return list(backend().local_devices)


def process_index() -> int:
    return backend().process_index


def is_local(device) -> bool:
    """Whether `device` belongs to this process (its buffers can be made and read here)."""
    return device.process_index == (_backend or backend()).process_index


# ----------------------------------------------------------------------------- several processes
# xlafront/distributed.py's state (the distributed runtime client, this process's id and the
# number of processes), set by `xf.distributed.initialize` before the backend starts: the
# CPU client is then built as one node of `num_processes`, its devices numbered across all
# of them, with CPU collectives (`jax_cpu_collectives_implementation`) for the programs
# whose collectives cross processes.
_distributed = None


def set_distributed(state) -> None:
    global _distributed
    if state is not None and _backend is not None:
        raise RuntimeError("jax.distributed.initialize() must be called before any JAX calls that "
                           "might initialise the XLA backend. This includes any computation, but "
                           "also calls to jax.devices, jax.device_put, and others.")
    _distributed = state


def distributed_service(address: str, num_processes: int, heartbeat_timeout: int, shutdown_timeout: int):
    """Start the coordination service (process 0) on `address` ("host:port", "[::]:port")."""
    return _jax.get_distributed_runtime_service(address, num_processes, heartbeat_timeout=heartbeat_timeout,
                                                shutdown_timeout=shutdown_timeout)


def distributed_client(address: str, process_id: int, init_timeout: int, heartbeat_timeout: int,
                       shutdown_timeout: int):
    """A client of the coordination service at `address`, not connected yet (`.connect()`)."""
    return _jax.get_distributed_runtime_client(address, process_id, init_timeout=init_timeout,
                                               heartbeat_timeout=heartbeat_timeout,
                                               shutdown_timeout=shutdown_timeout, use_compression=True)


def _cpu_collectives(client):
    """The CPU collectives `jax_cpu_collectives_implementation` names ('gloo' by default,
    'mpi'; None: none, so programs may not communicate across processes)."""
    impl = getattr(config, "cpu_collectives_implementation", "gloo")
    if impl is None:
        return None
    if impl == "gloo":
        return _jax.make_gloo_tcp_collectives(distributed_client=client)
    if impl == "mpi":
        import atexit
        c = _jax.make_mpi_collectives()
        c.Init()
        atexit.register(c.Finalize)
        return c
    raise RuntimeError(f"Unknown collectives implementation {impl!r} "
                       f"(jax_cpu_collectives_implementation: 'gloo', 'mpi' or None)")


def default_device():
    return backend().device


def device_class():
    """jaxlib's device type, of which `devices()` returns instances (`xlafront.Device`)."""
    return _jax.Device


def sharding_class():
    """The class of every buffer's sharding here (`xlafront.sharding.SingleDeviceSharding`)."""
    return _Sharding


# ----------------------------------------------------------------------------- buffers
_IMMUTABLE = _jax.HostBufferSemantics.IMMUTABLE_ONLY_DURING_CALL


def device_put(x: np.ndarray, weak_type: bool = False):
    """Copy a host numpy array (already of its final dtype) to the default device."""
    b = _backend or backend()
    return _jax.batched_device_put(_AvalLike(x.shape, x.dtype, weak_type), b.sharding, [x], [b.device],
                                   True, False, _IMMUTABLE, enable_x64=True)


# ----------------------------------------------------------------------------- several devices
# A sharded array is one jaxlib array over N devices whose sharding is a _MultiSharding
# (device list + HloSharding). It is built from one host piece per device, read back one
# shard at a time, and run by executables compiled with SPMD partitioning over the same
# device list. None of this imports jax: jaxlib's own ways to split an array into its
# single-device shards (`_arrays`, `disassemble_into_single_device_arrays`) make the shards'
# avals with jax's ShapedArray, so a shard is read through DLPack instead (`shard_to_numpy`).
def device_list(devs):
    return xc.DeviceList(tuple(devs))


def hlo_sharding(tile_dims, device_order, replicate_last):
    """jaxlib's HloSharding: `tile_dims` tiles (the last one replicated when
    `replicate_last`), tile i on the device at position `device_order[i]` of the device
    list; `None` for fully replicated."""
    if tile_dims is None:
        return xc.HloSharding.replicate()
    op = xc.OpSharding()
    op.type = xc.OpSharding.Type.OTHER
    op.tile_assignment_dimensions = list(tile_dims)
    op.tile_assignment_devices = list(device_order)
    op.replicate_on_last_tile_dim = bool(replicate_last)
    return xc.HloSharding.from_proto(op)


def multi_sharding(devs, hlo, user=None):
    """The runtime sharding of an array over `devs` (a sequence of devices) laid out by `hlo`."""
    s = _MultiSharding(device_list(devs), hlo)
    s.user = user
    return s


def is_multi_device(buf) -> bool:
    return type(buf._sharding) is _MultiSharding


def sharding_of(buf):
    """The API-level sharding of a buffer: a single-device buffer's own, a sharded one's `user`."""
    s = buf._sharding
    return s.user if type(s) is _MultiSharding else s


def single_device_sharding(device):
    b = _backend or backend()
    return b.sharding if device == b.device else _Sharding(device)


def device_put_on(x: np.ndarray, device, weak_type: bool = False):
    """Copy a host array to one given device."""
    return _jax.batched_device_put(_AvalLike(x.shape, x.dtype, weak_type), single_device_sharding(device),
                                   [x], [device], True, False, _IMMUTABLE, enable_x64=True)


def device_put_sharded(pieces, msharding, shape, dtype, weak_type: bool = False):
    """One array over the devices of `msharding` (a multi_sharding) from one host piece per
    device, in the order of its device list (with several processes, only the pieces of
    this process's devices are read: the others may be None)."""
    # one single-device array per device, assembled (jaxlib's batched_device_put with a
    # sharding tiled over more than one dimension fails with `bad_function_call`)
    devs = msharding._devices
    if _distributed is None:
        singles = [device_put_on(p, d, weak_type) for p, d in zip(pieces, devs)]
    else:
        singles = [device_put_on(p, d, weak_type) for p, d in zip(pieces, devs) if is_local(d)]
    return assemble_sharded(singles, msharding, shape, dtype, weak_type)


def assemble_sharded(singles, msharding, shape, dtype, weak_type: bool = False):
    """One array over the devices of `msharding` from single-device buffers on its devices
    of this process, in the order of its device list."""
    return _jax.ArrayImpl(_AvalLike(tuple(shape), np.dtype(dtype), weak_type), msharding, list(singles),
                          True, _skip_checks=True)


_rotations: dict = {}


def shard_to_numpy(buf, k: int, shard_shape) -> np.ndarray:
    """The host value of the shard of multi-device array `buf` on the k-th device of its
    device list (a read-only view of the device memory on the CPU). DLPack exports an
    array's first shard, so the array is first re-ordered (no copy: `reorder_shards` with
    the same layout over a rotated device list) to put the k-th device first."""
    if (_backend or backend()).platform != "cpu":
        raise NotImplementedError(
            "reading the shards of a multi-device array is implemented for CPU devices only")
    s = buf._sharding
    if k:
        key = (id(s), k)
        hit = _rotations.get(key)
        if hit is None or hit[0] is not s:
            devs = s._devices
            rot = _MultiSharding(xc.DeviceList(tuple(devs[k:]) + tuple(devs[:k])), s._hlo_sharding)
            hit = _rotations[key] = (s, rot)
            if len(_rotations) > 4096:
                _rotations.clear()
        buf = _jax.reorder_shards(buf, hit[1], _jax.ArrayCopySemantics.REUSE_INPUT)
    buf.block_until_ready()
    dtype = buf.aval.dtype
    shape = tuple(shard_shape)
    n = dtype.itemsize
    for d in shape:
        n *= d
    if n == 0:
        return np.empty(shape, dtype)
    capsule = _jax.buffer_to_dlpack_managed_tensor(buf)
    keep = (buf, capsule)
    raw = np.asarray(_HostView(_dlpack_data_pointer(capsule), n, keep))
    return raw.view(dtype).reshape(shape)


def sharded_result_handler(aval, msharding, wrap):
    """The C++ handler that makes output `aval` over `msharding`, passed through `wrap`."""
    return _jax.array_result_handler(aval, msharding, True, _skip_checks=True).wrap(wrap)


def compile_spmd(text: str, devs, n_out, make_handler, propagate=None, shardy=False) -> "ShardedExecutable":
    """Compile StableHLO text whose @main carries `mhlo.sharding` attributes (or, with
    `shardy`, the sdy dialect's, partitioned by Shardy) for the N devices `devs` (in logical
    order: device i of the program is devs[i]) with XLA's SPMD partitioner.
    `make_handler(i, op_sharding)` gives output i's result handler, given the compiled
    program's choice of its sharding (an OpSharding)."""
    b = backend()
    n = len(devs)
    opts = xc.CompileOptions()
    opts.num_partitions = n
    eb = opts.executable_build_options
    eb.num_partitions = n
    eb.num_replicas = 1
    eb.use_spmd_partitioning = True
    eb.use_shardy_partitioner = bool(shardy)
    if propagate is not None and any(propagate):   # outputs without a fixed sharding: XLA picks
        eb.allow_spmd_sharding_propagation_to_output = list(propagate)
    eb.device_assignment = xc.DeviceAssignment.create(np.array([[d.id for d in devs]], dtype=np.int64))
    _ensure_custom_calls(text)
    loaded = b.client.compile_and_load(text, executable_devices=device_list(devs), compile_options=opts)
    try:
        out_ops = loaded.get_output_shardings()
    except Exception:   # pragma: no cover - a backend that does not report them
        out_ops = None
    if out_ops is None:   # (a program for one device reports none: its outputs are whole)
        out_ops = [None] * n_out
    handlers = [make_handler(i, op) for i, op in enumerate(out_ops)]
    return ShardedExecutable(loaded, text, handlers)


class ShardedExecutable:
    """A program compiled for several devices: `run(bufs)` takes multi-device arrays laid
    out as the program's parameters and returns multi-device arrays."""
    __slots__ = ("loaded", "text", "handlers", "_execute")

    def __init__(self, loaded, text, handlers):
        self.loaded, self.text, self.handlers = loaded, text, handlers
        self._execute = loaded.execute_sharded

    def run(self, bufs):
        if not run_tick() & 1023:
            collect_garbage()
        return self._execute(bufs).consume_with_handlers(self.handlers)

    def out_shardings(self):
        return self.loaded.get_output_shardings()

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()


def op_sharding_layout(op):
    """(tile_dims, device_order, replicate_last) of an OpSharding, or None if replicated;
    raises ValueError for the kinds a NamedSharding cannot be (maximal, manual, ...)."""
    T = xc.OpSharding.Type
    if op is None or op.type == T.REPLICATED:
        return None
    if op.type != T.OTHER or list(op.last_tile_dims):
        raise ValueError(f"unsupported sharding kind {op.type}")
    dims = list(op.tile_assignment_dimensions)
    devs = list(op.tile_assignment_devices)
    if not devs:
        reshape = list(op.iota_reshape_dims)
        perm = list(op.iota_transpose_perm)
        devs = np.arange(int(np.prod(reshape))).reshape(reshape).transpose(perm).ravel().tolist()
    return dims, devs, bool(op.replicate_on_last_tile_dim)


_capsule_pointer = _DLTensorWords = None


def _dlpack_data_pointer(capsule) -> int:
    """Address of the first element of an unconsumed DLPack capsule's tensor (DLTensor's
    `data` plus its `byte_offset`). Not `unsafe_buffer_pointer()`: for some arrays (those
    from device_put) jaxlib answers that through the same jax-importing shard as above."""
    global _capsule_pointer, _DLTensorWords
    if _capsule_pointer is None:
        import ctypes
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        _DLTensorWords = ctypes.c_uint64 * 6
        _capsule_pointer = get
    # DLTensor: void* data; DLDevice {int32, int32}; int32 ndim; DLDataType {u8, u8, u16};
    # int64* shape; int64* strides; uint64 byte_offset -- six 8-byte words
    words = _DLTensorWords.from_address(_capsule_pointer(capsule, b"dltensor"))
    return words[0] + words[5]


class _HostView:
    """Exposes a CPU buffer's memory to numpy (read-only) and keeps it alive (`keep`)."""
    __slots__ = ("__array_interface__", "keep")

    def __init__(self, ptr, nbytes, keep):
        self.__array_interface__ = {"data": (ptr, True), "shape": (nbytes,), "typestr": "|u1",
                                    "version": 3}
        self.keep = keep


_host = None   # a CPU client that device buffers are copied into for the host (non-CPU backends)


def _host_copy(buf):
    """`buf` copied into a CPU client's memory through PJRT (a device-to-host transfer;
    PJRT copies across clients through the host). jaxlib's own host transfer
    (`_single_device_array_to_np_array_did_copy`) is not used: it builds an internal shard
    whose aval it makes with `jax.core.ShapedArray`, importing the whole jax package."""
    global _host
    if _host is None:
        with _lock:
            if _host is None:
                client = xc.make_cpu_client()
                dev = client.local_devices()[0]
                _host = (xc.DeviceList((dev,)), _Sharding(dev))
    devs, sh = _host
    return _jax.batched_copy_array_to_devices_with_sharding(
        [buf], [devs], [sh], [_jax.ArrayCopySemantics.ALWAYS_COPY])[0]


_SUB_BYTE = {"int4": ("i4", "i8"), "uint4": ("ui4", "ui8")}   # dtype: (StableHLO type, widened)
_widen_programs: dict = {}


def _widened(buf, shape, name):
    """A sub-byte integer buffer converted to 8 bits on its device (such types have no
    DLPack type), by a small program cached per shape."""
    key = (shape, name)
    exe = _widen_programs.get(key)
    if exe is None:
        narrow, wide = _SUB_BYTE[name]
        dims = "".join(f"{d}x" for d in shape)
        t, w = f"tensor<{dims}{narrow}>", f"tensor<{dims}{wide}>"
        exe = _widen_programs[key] = compile(
            f"func.func public @main(%a: {t}) -> {w} {{\n"
            f"  %0 = stablehlo.convert %a : ({t}) -> {w}\n  return %0 : {w}\n}}\n", 1)
    return exe.run([buf])[0]


def to_numpy(buf) -> np.ndarray:
    """The buffer's value as a read-only numpy array (waits for it).

    On the CPU the array views the device memory (no copy), as jaxlib's own host transfer
    does; other platforms first copy the buffer into a host CPU client (`_host_copy`).
    Neither path imports `jax` (see `_host_copy` for why jaxlib's own transfer is avoided).
    Sub-byte integers (int4, uint4) are widened to 8 bits on the device first."""
    aval = buf.aval
    dtype, shape = aval.dtype, tuple(aval.shape)
    if type(buf._sharding) is _MultiSharding:
        raise TypeError("to_numpy takes a single-device buffer (read a multi-device array's "
                        "shards with shard_to_numpy)")
    if dtype.name in _SUB_BYTE:
        out = to_numpy(_widened(buf, shape, dtype.name)).astype(dtype)
        out.flags.writeable = False
        return out
    if (_backend or backend()).platform != "cpu":
        buf = _host_copy(buf)
    buf.block_until_ready()   # raises the program's error, as the jaxlib path does
    n = dtype.itemsize
    for d in shape:
        n *= d
    if n == 0:
        out = np.empty(shape, dtype)
        out.flags.writeable = False
        return out
    # what jaxlib's own zero-copy view holds: an external reference (the capsule) and
    # an owner of the PJRT buffer (the clone), so that deleting or donating `buf` can
    # neither free the memory nor destroy the buffer under the view. A tuple releases
    # its items last to first: the reference goes before the owner.
    capsule = _jax.buffer_to_dlpack_managed_tensor(buf)
    keep = (buf.clone(), capsule)
    raw = np.asarray(_HostView(_dlpack_data_pointer(capsule), n, keep))
    return raw.view(dtype).reshape(shape)


def block_until_ready(buf):
    buf.block_until_ready()
    return buf


def is_deleted(buf) -> bool:
    return buf.is_deleted()


def delete(buf):
    buf.delete()


def sharding():
    """The single-device sharding every buffer here has (prints as jaxlib's SingleDeviceSharding)."""
    return backend().sharding


def copy_to_host_async(buf):
    """Nothing to start: on the CPU `to_numpy` views the memory; elsewhere it copies then
    (jaxlib's asynchronous host copy imports jax, see `_host_copy`)."""


def buffer_pointer(buf) -> int:
    return buf.unsafe_buffer_pointer()


def on_device_size_in_bytes(buf) -> int:
    return buf.on_device_size_in_bytes()


def to_dlpack(buf, stream=None):
    """A DLPack capsule sharing the buffer's memory (the consumer may not write to it)."""
    buf.block_until_ready()
    return _jax.buffer_to_dlpack_managed_tensor(buf, stream=stream)


def dlpack_device(buf):
    """(DLPack device type, device id): kDLCPU = 1, kDLCUDA = 2, kDLROCM = 10."""
    kind = {"cpu": 1, "cuda": 2, "rocm": 10}.get(buf.platform())
    if kind is None:
        raise BufferError(f"DLPack is not supported on platform {buf.platform()!r}")
    return kind, backend().device.local_hardware_id or 0


# ----------------------------------------------------------------------------- executables
class Executable:
    """A compiled program; `run(bufs)` dispatches asynchronously and returns its outputs.

    The outputs are made by jaxlib's C++ result handlers (about 4 µs per call cheaper than
    `disassemble_into_single_device_arrays`, which also imports jax), each passed through
    `wrap(aval)` (a one-argument constructor, e.g. of the API's Array) when one is given;
    without `wrap`, `run` returns plain device buffers. `out_avals` defaults to the result
    types of `text`'s `@main`. `call` is `run` as a plain closure
    (no attribute lookups): what the jit and eager hot paths hold on to."""
    __slots__ = ("loaded", "n_out", "text", "_execute", "_handlers", "raw_handlers", "call")

    def __init__(self, loaded, n_out, text, out_avals=None, wrap=None):
        self.loaded, self.n_out, self.text = loaded, n_out, text
        self._execute = loaded.execute_sharded
        if out_avals is None:
            out_avals = result_avals(text)
        self._handlers = output_handlers(out_avals, wrap)
        # without `wrap`: jaxlib's own arrays, for a caller that wraps a single output
        # inline (cheaper than jaxlib calling `wrap` back)
        self.raw_handlers = output_handlers(out_avals) if wrap is not None else self._handlers
        self.call = _runner(self._execute, self._handlers)

    def run(self, bufs):
        return self._execute(bufs).consume_with_handlers(self._handlers)

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()


_compile_options = None
_ELEMENT_DTYPES = None


def result_avals(text: str) -> list:
    """The result types of `@main` in StableHLO text, as avals (shape, dtype)."""
    global _ELEMENT_DTYPES
    if _ELEMENT_DTYPES is None:
        from xlafront.lowering.emitter import _ELEMENT_TYPES
        _ELEMENT_DTYPES = {v: np.dtype(k) for k, v in _ELEMENT_TYPES.items()}
    def closing(i):   # index past the bracket group opening at text[i]
        depth = 0
        while True:
            depth += (text[i] == "(") - (text[i] == ")")
            i += 1
            if depth == 0:
                return i
    i = closing(text.index("@main(") + 5)
    rest = text[i:].lstrip()
    if not rest.startswith("->"):
        return []
    j = len(text) - len(rest[2:].lstrip())
    results = text[j:closing(j)] if text[j] == "(" else text[j:text.index("{", j)]
    out = []
    for dims, et in re.findall(r"tensor<((?:\d+x)*)([^<>,]+(?:<[^<>]*>)?)>", results):
        shape = tuple(int(d) for d in dims.split("x") if d)
        out.append(_AvalLike(shape, _ELEMENT_DTYPES[et]))
    return out


# Every program run leaves jaxlib a small object to free later (see _drain_jaxlib_garbage);
# a steady loop of calls allocates and frees in balance, so no gc pass (and no drain) ever
# runs: drain every 1024th run instead (a shared counter; next() is atomic).
_runs = itertools.count(1)
run_tick = _runs.__next__              # for callers that run `_execute` themselves (the
collect_garbage = _jax.collect_garbage  # jit and eager hot paths): drain when tick & 1023 == 0


def _runner(execute, handlers, _tick=_runs.__next__, _collect=_jax.collect_garbage):
    def call(bufs):
        if not _tick() & 1023:
            _collect()
        return execute(bufs).consume_with_handlers(handlers)
    return call


def output_handlers(out_avals, wrap=None):
    """One C++ result handler per output: it makes the device array (with `aval` attached)
    without a Python call; `wrap(aval)` adds a Python constructor on top."""
    sh = backend().sharding
    hs = [_jax.array_result_handler(a, sh, True, _skip_checks=True) for a in out_avals]
    if wrap is not None:
        hs = [h.wrap(wrap(a)) for h, a in zip(hs, out_avals)]
    return hs


def compile(text: str, n_out: int, out_avals=None, wrap=None, graph_key=None) -> Executable:  # noqa: A001
    """Compile StableHLO text with XLA for the default device (see Executable for the rest).

    `graph_key` (lowering/graph_key.py's key of the graph `text` was lowered from) makes a
    persistent-cache entry findable before lowering, by `load_cached`."""
    global _compile_options
    b = backend()
    if _compile_options is None:
        _compile_options = xc.CompileOptions()
    _ensure_custom_calls(text)
    if _HOST_CALLBACK_MARK in text:
        loaded = _compile_with_host_callbacks(b, text)
    elif config.compilation_cache_dir and config.enable_compilation_cache:
        loaded = _compile_with_persistent_cache(b, text, config.compilation_cache_dir, graph_key)
    else:
        loaded = b.client.compile_and_load(text, executable_devices=b.device_list,
                                           compile_options=_compile_options)
    return Executable(loaded, n_out, text, out_avals, wrap)


# ----------------------------------------------------------------------------- persistent cache
# With `jax_compilation_cache_dir` set (or JAX_COMPILATION_CACHE_DIR), compiled executables
# are kept on disk across processes, as JAX does: an entry is written when the compile took
# at least `jax_persistent_cache_min_compile_time_secs` (1 s) and its serialized executable
# is at least `jax_persistent_cache_min_entry_size_bytes` (0) long. The key hashes all that
# decides the program: jaxlib's version, platform and its version, device kind, the compile
# options and the StableHLO text. A file holds a magic line, the key, and a SHA-256 of the
# payload; one that does not check out, or that jaxlib cannot load, is ignored (and
# rewritten after compiling). Writers write a private temporary file and os.replace it in,
# so concurrent processes never see half a file. Programs that call back into Python are
# never cached (their callbacks live in this process). Off by default, as in JAX.
_CACHE_MAGIC = b"xlafront-executable-v1\n"
cache_stats = {"hits": 0, "misses": 0, "writes": 0, "errors": 0}
_cache_warned = False


def _cache_key(b, text: str) -> str:
    import hashlib
    h = hashlib.sha256()
    for part in (JAXLIB_VERSION, jaxlib_release(), b.platform, b.client.platform_version,
                 b.device.device_kind, len(b.devices)):
        h.update(str(part).encode() + b"\0")
    h.update(_compile_options.SerializeAsString() + b"\0")
    h.update(text.encode())
    return h.hexdigest()


def _cache_warn(what, err):
    global _cache_warned
    cache_stats["errors"] += 1
    if not _cache_warned:
        _cache_warned = True
        import warnings
        warnings.warn(f"xlafront persistent compilation cache: could not {what} ({err}); "
                      f"compiling instead", RuntimeWarning, stacklevel=4)


def _cache_read(b, path: str, key: str):
    """The executable stored at `path`, or None (absent, corrupt, foreign, unloadable)."""
    payload = _cache_read_payload(path, key)
    if payload is None:
        return None
    try:
        return b.client.deserialize_executable(payload, b.device_list, _compile_options)
    except Exception:   # e.g. written by another jaxlib build: compile and replace it
        return None


def _cache_read_payload(path: str, key: str):
    """The checked payload of the file at `path` written under `key`, or None."""
    import hashlib
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        _cache_warn("read an entry", e)
        return None
    head = _CACHE_MAGIC + key.encode() + b"\n"
    if not data.startswith(head) or len(data) < len(head) + 32:
        return None
    digest, payload = data[len(head):len(head) + 32], data[len(head) + 32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    return payload


def _cache_write(path: str, key: str, payload: bytes, count=True) -> bool:
    import hashlib
    import tempfile
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_CACHE_MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        if count:
            cache_stats["writes"] += 1
        return True
    except OSError as e:
        _cache_warn("write an entry", e)
        return False


def _compile_with_persistent_cache(b, text: str, folder, graph_key=None):
    import time
    key = _cache_key(b, text)
    path = os.path.join(os.fspath(folder), f"xlafront-{key}")
    loaded = _cache_read(b, path, key)
    if loaded is not None:
        cache_stats["hits"] += 1
        if graph_key is not None:
            _write_graph_index(b, folder, graph_key, key, text)
        return loaded
    cache_stats["misses"] += 1
    t0 = time.perf_counter()
    loaded = b.client.compile_and_load(text, executable_devices=b.device_list,
                                       compile_options=_compile_options)
    if time.perf_counter() - t0 < config.persistent_cache_min_compile_time_secs:
        return loaded
    try:
        payload = loaded.serialize()
    except Exception as e:  # pragma: no cover - an executable the backend cannot serialize
        _cache_warn("serialize an executable", e)
        return loaded
    if len(payload) >= config.persistent_cache_min_entry_size_bytes:
        if _cache_write(path, key, payload) and graph_key is not None:
            _write_graph_index(b, folder, graph_key, key, text)
    return loaded


# An index file `xlafront_g-<key>` maps a key computed from the traced graph before lowering
# (lowering/graph_key.py, with this backend's identity hashed in as for text keys) to the key
# of the entry above: `load_cached` finds the executable without lowering the program. The
# entry is then read and checked as always; an index whose entry is gone, damaged or foreign
# is ignored (the caller lowers, compiles, and rewrites both). The index also says whether
# the program calls custom-call targets, which are registered before the load.
def _graph_index_key(b, graph_key: str) -> str:
    return _cache_key(b, "graph-key:" + graph_key)   # no StableHLO text starts like this


def _write_graph_index(b, folder, graph_key, key, text):
    ikey = _graph_index_key(b, graph_key)
    path = os.path.join(os.fspath(folder), f"xlafront_g-{ikey}")
    if _cache_read_payload(path, ikey) == (payload := _index_payload(key, text)):
        return
    _cache_write(path, ikey, payload, count=False)


def _index_payload(key, text):
    custom = "stablehlo.custom_call @" in text.replace("custom_call @xla_ffi_python_", "")
    return f"{key}\n{int(custom)}".encode()


def load_cached(graph_key: str, n_out: int, out_avals=None, wrap=None):
    """The executable that the persistent cache holds for the program with `graph_key`
    (see above), or None; only when the cache is on."""
    if not (config.compilation_cache_dir and config.enable_compilation_cache):
        return None
    global _compile_options
    b = backend()
    if _compile_options is None:
        _compile_options = xc.CompileOptions()
    folder = os.fspath(config.compilation_cache_dir)
    ikey = _graph_index_key(b, graph_key)
    index = _cache_read_payload(os.path.join(folder, f"xlafront_g-{ikey}"), ikey)
    if index is None:
        return None
    try:
        key, custom = index.decode().split("\n")
    except ValueError:
        return None
    if custom == "1":
        _ensure_custom_calls()
    loaded = _cache_read(b, os.path.join(folder, f"xlafront-{key}"), key)
    if loaded is None:
        return None
    cache_stats["hits"] += 1
    return Executable(loaded, n_out, None, out_avals, wrap)


# ----------------------------------------------------------------------------- host callbacks
# A program calls back into Python through the PJRT client's FFI target
# `xla_ffi_python_{cpu,gpu}_callback`: a custom call whose attribute `index` picks one of
# the Python functions handed to `compile_and_load(..., host_callbacks=...)`. jaxlib takes
# that argument only with an MLIR module object (not text), so such programs are parsed
# with jaxlib's MLIR bindings first (imported on the first one). Each function is called
# with the operands as (read-only) numpy arrays and returns a tuple of numpy results.
#
# Lowering does not know which module it writes into, so `register_host_callback` gives
# each function a global id that the lowering writes as `index`; `compile` renumbers the
# ids of one module to 0..k-1 and passes the functions in that order.
_HOST_CALLBACK_MARK = "_callback("
_HOST_CALLBACK_INDEX = re.compile(
    r"(stablehlo\.custom_call @xla_ffi_python_(?:cpu|gpu)_callback\(.*mhlo\.backend_config = "
    r"\{index = )(\d+)( : ui64\})")
_host_callbacks: dict = {}     # key -> global id
_host_functions: list = []     # global id -> function
_mlir_ctx = None


def host_callback_target() -> str:
    """Name of the custom-call target that calls Python on the current platform."""
    return "xla_ffi_python_cpu_callback" if backend().platform == "cpu" else "xla_ffi_python_gpu_callback"


def register_host_callback(key, fn) -> int:
    """The global id of host function `fn` (registered once per hashable `key`)."""
    gid = _host_callbacks.get(key)
    if gid is None:
        with _lock:   # id and list slot taken together: two threads never share an id
            gid = _host_callbacks.get(key)
            if gid is None:
                gid = len(_host_functions)
                _host_functions.append(fn)
                _host_callbacks[key] = gid
    return gid


def _mlir_context():
    global _mlir_ctx
    if _mlir_ctx is None:
        from jaxlib.mlir import ir
        from jaxlib.mlir._mlir_libs import _jax_mlir_ext
        from jaxlib.mlir.dialects import chlo, stablehlo
        registry = ir.DialectRegistry()
        _jax_mlir_ext.register_dialects(registry)
        ctx = ir.Context()
        ctx.append_dialect_registry(registry)
        ctx.load_all_available_dialects()
        stablehlo.register_dialect(ctx)
        chlo.register_dialect(ctx)
        _mlir_ctx = ctx
    return _mlir_ctx


def _compile_with_host_callbacks(b, text):
    order: dict = {}

    def renumber(m):
        local = order.setdefault(int(m.group(2)), len(order))
        return f"{m.group(1)}{local}{m.group(3)}"

    text = _HOST_CALLBACK_INDEX.sub(renumber, text)
    if not order:
        return b.client.compile_and_load(text, executable_devices=b.device_list,
                                         compile_options=_compile_options)
    from jaxlib.mlir import ir
    with _mlir_context():
        module = ir.Module.parse(text)
    fns = tuple(_host_functions[g] for g in order)
    return b.client.compile_and_load(module, executable_devices=b.device_list,
                                     compile_options=_compile_options, host_callbacks=fns)


_custom_calls_done: set = set()    # "lapack" / "gpu_solver" once registered
_custom_calls_lock = threading.Lock()


def _ensure_custom_calls(text: str | None = None):
    """Register the custom-call targets a program calls, the first time one does.

    Lazily, because importing `jaxlib.lapack` imports scipy (its BLAS/LAPACK provider,
    ~0.15 s, and through numpy.random the stdlib `random` and `secrets`): a program
    without a LAPACK call never pays it. `text=None` registers everything.

    `lapack.registrations()` is {"cpu": [(name, capsule, api_version), ...]} in jaxlib 0.10;
    `_lapack.initialize()` binds the LAPACK routines (from scipy's BLAS/LAPACK, when
    scipy is installed) -- without it the kernels have no implementation to call."""
    cpu = backend().platform == "cpu"
    kind = "lapack" if cpu else "gpu_solver"
    if kind in _custom_calls_done:
        return
    # linalg lowers to `lapack_*` FFI targets on the CPU, to cuSOLVER/hipSOLVER/cuBLAS ones
    # on GPUs (whose names vary: any custom call other than the host callback's counts)
    if text is not None:
        if cpu:
            if "custom_call @lapack_" not in text:
                return
        elif "stablehlo.custom_call @" not in text.replace("custom_call @xla_ffi_python_", ""):
            return
    with _custom_calls_lock:
        if kind in _custom_calls_done:
            return
        if not cpu:
            # the GPU plugin's cuSOLVER/hipSOLVER FFI targets (linalg lowers to them on GPU)
            try:
                from jaxlib import gpu_solver
                for platform, targets in gpu_solver.registrations().items():
                    for name, target, api_version in targets:
                        xc.register_custom_call_target(name, target, platform=platform,
                                                       api_version=api_version)
            except Exception:  # pragma: no cover - no GPU solver kernels: linalg calls fail at compile time
                pass
            _custom_calls_done.add(kind)
            return
        try:
            from jaxlib import lapack
        except ImportError:  # pragma: no cover - a jaxlib without LAPACK kernels
            _custom_calls_done.add(kind)
            return
        for platform, targets in lapack.registrations().items():
            for name, target, api_version in targets:
                xc.register_custom_call_target(name, target, platform=platform, api_version=api_version)
        try:
            lapack._lapack.initialize()
        except Exception:  # pragma: no cover - no LAPACK provider: linalg calls fail at run time
            pass
        _custom_calls_done.add(kind)


def registered_custom_call_targets() -> list[str]:
    """Names of the LAPACK targets registered for the CPU (for tests and diagnostics)."""
    _ensure_custom_calls()
    from jaxlib import lapack
    return [name for name, _, _ in lapack.registrations().get("cpu", [])]


class LRUCache:
    """Bounded compile cache (executables hold device memory for code).

    Safe under threads: a hit is a lookup plus a reorder that tolerates the key being evicted
    by another thread meanwhile (each OrderedDict operation is atomic); insertion and
    eviction take a lock."""

    def __init__(self, maxsize=4096):
        self.maxsize = maxsize
        self.data: collections.OrderedDict = collections.OrderedDict()
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    def get(self, key):
        v = self.data.get(key)
        if v is not None:
            self.hits += 1
            try:
                self.data.move_to_end(key)   # most recently used last; eviction takes the first
            except KeyError:                 # evicted by another thread since the lookup
                pass
        return v

    def put(self, key, value):
        with self._lock:
            self.misses += 1
            self.data[key] = value
            while len(self.data) > self.maxsize:
                self.data.popitem(last=False)

    def clear(self):
        self.data.clear()

    def __len__(self):
        return len(self.data)


def live_buffers_count() -> int:
    return len(backend().client.live_arrays())


# ----------------------------------------------------------------------------- inspection
# What `python -m xlafront dump --stage hlo|optimized --cost` and Lowered/Compiled's
# cost_analysis()/memory_analysis() show (the same shapes of result as JAX's).
def hlo_text(text: str) -> str:
    """The HLO (before XLA's passes) of StableHLO text."""
    comp = _jax.mlir.mlir_module_to_xla_computation(text, use_tuple_args=False, return_tuple=False)
    return comp.as_hlo_text()


def hlo_cost_analysis(text: str) -> dict:
    """XLA's cost analysis of StableHLO text before optimization (as JAX's
    `Lowered.cost_analysis()`): 'flops', 'transcendentals', 'bytes accessed', ..."""
    comp = _jax.mlir.mlir_module_to_xla_computation(text, use_tuple_args=False, return_tuple=False)
    return dict(_jax.hlo_module_cost_analysis(backend().client, comp.get_hlo_module()))


def cost_analysis(exe: Executable) -> dict:
    """XLA's cost analysis of a compiled program (as JAX's `Compiled.cost_analysis()`)."""
    return dict(exe.loaded.cost_analysis())


def memory_stats(exe: Executable):
    """The compiled program's memory statistics (jaxlib's CompiledMemoryStats, what JAX's
    `Compiled.memory_analysis()` returns): argument/output/temp/alias/generated code sizes."""
    return exe.loaded.get_compiled_memory_stats()


def optimized_hlo(exe: Executable) -> str:
    """The HLO of a compiled program after XLA's passes."""
    return "\n".join(m.to_string() for m in exe.loaded.hlo_modules())
