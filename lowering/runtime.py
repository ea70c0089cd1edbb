"""The one place that touches jaxlib's PJRT API: clients, devices, buffers, compile, execute.

Everything here is jaxlib-private and moves between releases, so it is pinned
(jaxlib 0.10.x) and covered by tests/test_runtime.py. The rest of the project
sees only: `default_device()`, `devices()`, `device_put(np_array)`, `to_numpy(buf)`,
`compile(text)` and `Executable.run(bufs)`.
"""
from __future__ import annotations

import collections
import os
import threading

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # silence PJRT's device-count banner

from jaxlib import _jax, xla_client as xc  # noqa: E402

from xlafront import dtypes  # noqa: E402
from xlafront.config import config  # noqa: E402
from xlafront.core import register_internal_path  # noqa: E402

register_internal_path(__file__)

JAXLIB_VERSION = getattr(xc, "_version", None)

# PJRT plugins by platform: (python package that ships it, shared library file name)
_PLUGINS = {
    "cuda": [("jax_cuda13_plugin", "xla_cuda_plugin.so"), ("jax_cuda12_plugin", "xla_cuda_plugin.so")],
    "rocm": [("jax_rocm7_plugin", "xla_rocm_plugin.so"), ("jax_rocm60_plugin", "xla_rocm_plugin.so")],
    "tpu": [("libtpu", "libtpu.so")],
}
_PLATFORM_ALIASES = {"gpu": "cuda", "cpu": "cpu", "cuda": "cuda", "rocm": "rocm", "tpu": "tpu"}


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


class _AvalLike:
    """What batched_device_put reads of an aval."""
    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape, self.dtype, self.weak_type = shape, dtype, weak_type


def _open_plugin(platform: str):
    import importlib.util
    tried = []
    for pkg, lib in _PLUGINS.get(platform, []):
        spec = importlib.util.find_spec(pkg)
        tried.append(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = os.path.join(list(spec.submodule_search_locations)[0], lib)
        if not os.path.exists(path):
            continue
        xc.load_pjrt_plugin_dynamically(platform, path)
        return xc.make_c_api_client(platform, {}, None)
    raise PlatformError(
        f"XLAFRONT_PLATFORM={platform!r} needs a PJRT plugin, and none is installed "
        f"(looked for the Python package(s) {', '.join(tried) or 'none known'}). "
        f"Install e.g. `pip install jax-cuda12-plugin` for CUDA, or unset XLAFRONT_PLATFORM for the CPU.")


class Backend:
    """A PJRT client with its default device and the sharding object for it."""

    def __init__(self, platform: str):
        self.platform = platform
        if platform == "cpu":
            self.client = xc.make_cpu_client()
        else:
            self.client = _open_plugin(platform)
        self.devices = self.client.local_devices()
        self.device = self.devices[0]
        self.sharding = _Sharding(self.device)
        self.device_list = xc.DeviceList((self.device,))


_backend: Backend | None = None
_lock = threading.Lock()


def backend() -> Backend:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                requested = (config.platform or "cpu").split(",")[0].strip().lower()
                platform = _PLATFORM_ALIASES.get(requested)
                if platform is None:
                    raise PlatformError(f"unknown platform {requested!r}; choose one of cpu, cuda, rocm, tpu")
                _backend = Backend(platform)
    return _backend


def devices():
    return list(backend().devices)


def default_device():
    return backend().device


# ----------------------------------------------------------------------------- buffers
_IMMUTABLE = _jax.HostBufferSemantics.IMMUTABLE_ONLY_DURING_CALL


def device_put(x: np.ndarray, weak_type: bool = False):
    """Copy a host numpy array (already of its final dtype) to the default device."""
    b = _backend or backend()
    return _jax.batched_device_put(_AvalLike(x.shape, x.dtype, weak_type), b.sharding, [x], [b.device],
                                   True, False, _IMMUTABLE, enable_x64=True)


def to_numpy(buf) -> np.ndarray:
    """Host copy of a device buffer (waits for it)."""
    return buf._single_device_array_to_np_array_did_copy()[0]


def block_until_ready(buf):
    buf.block_until_ready()
    return buf


def is_deleted(buf) -> bool:
    return buf.is_deleted()


def delete(buf):
    buf.delete()


# ----------------------------------------------------------------------------- executables
class Executable:
    """A compiled program; `run(bufs)` dispatches asynchronously and returns output buffers."""
    __slots__ = ("loaded", "n_out", "text")

    def __init__(self, loaded, n_out, text):
        self.loaded, self.n_out, self.text = loaded, n_out, text

    def run(self, bufs):
        outs = self.loaded.execute_sharded(bufs).disassemble_into_single_device_arrays()
        return [o[0] for o in outs]

    def hlo_text(self):
        return self.loaded.hlo_modules()[0].to_string()


_compile_options = None


def compile(text: str, n_out: int) -> Executable:  # noqa: A001
    """Compile StableHLO text with XLA for the default device."""
    global _compile_options
    b = backend()
    if _compile_options is None:
        _compile_options = xc.CompileOptions()
    _ensure_custom_calls()
    loaded = b.client.compile_and_load(text, executable_devices=b.device_list,
                                       compile_options=_compile_options)
    return Executable(loaded, n_out, text)


_custom_calls_done = False


def _ensure_custom_calls():
    """Register jaxlib's LAPACK FFI targets (linalg lowers to them on CPU)."""
    global _custom_calls_done
    if _custom_calls_done:
        return
    _custom_calls_done = True
    if backend().platform != "cpu":
        return
    try:
        from jaxlib import lapack
        for name, target in lapack.registrations().get("cpu", []):
            xc.register_custom_call_target(name, target, platform="cpu", api_version=1)
    except Exception:  # pragma: no cover - linalg then fails at compile time with XLA's message
        pass


class LRUCache:
    """Bounded compile cache (executables hold device memory for code)."""

    def __init__(self, maxsize=4096):
        self.maxsize = maxsize
        self.data: collections.OrderedDict = collections.OrderedDict()
        self.hits = self.misses = 0

    def get(self, key):
        v = self.data.get(key)
        if v is not None:
            self.hits += 1
        return v

    def put(self, key, value):
        self.misses += 1
        self.data[key] = value
        if len(self.data) > self.maxsize:
            self.data.popitem(last=False)

    def clear(self):
        self.data.clear()

    def __len__(self):
        return len(self.data)


def live_buffers_count() -> int:
    return len(backend().client.live_arrays())
