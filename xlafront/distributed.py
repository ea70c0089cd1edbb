"""jax.distributed: one program over the devices of several processes.

`initialize(coordinator_address, num_processes, process_id)` is called once in every
process, before anything starts the backend. Process 0 starts the coordination service
(jaxlib's distributed runtime service) on the coordinator's port; every process connects
a client to it (waiting at most `initialization_timeout` seconds for all of them). The
PJRT client the backend then builds is one node of `num_processes`
(lowering/runtime.py): `xf.devices()` lists every process's devices, `xf.local_devices()`
this process's, and programs compiled over a mesh of devices from several processes run
in all of them together, their collectives crossing processes through the CPU
collectives `jax_cpu_collectives_implementation` names (gloo by default).
"""
from __future__ import annotations

import os

from xlafront import core
from xlafront.lowering import runtime

__all__ = ["initialize", "shutdown", "is_initialized"]


class _State:
    service = None
    client = None
    process_id = 0
    num_processes = 1
    coordinator_address = None
    local_device_ids = None


_state = _State()


def _positive_int(name, v, low):
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{name} must be a {'nonnegative' if low == 0 else 'positive'} int. "
                        f"Got {name}={v!r} of type {type(v)}. (at {core.user_site()})")
    return v


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids=None,
               cluster_detection_method: str | None = None, initialization_timeout: int = 300,
               heartbeat_timeout_seconds: int = 100, shutdown_timeout_seconds: int = 300,
               coordinator_bind_address: str | None = None, slice_index: int | None = None,
               partition_index: int | None = None):
    """Join this process to the others of a multi-process run (as jax.distributed.initialize).

    `coordinator_address` ("host:port", else $JAX_COORDINATOR_ADDRESS) is where process 0
    serves; every process passes the same `num_processes` and its own `process_id` (there
    is no cluster auto-detection: both are required). Must come before the first
    computation or device query."""
    if runtime.backend_started():
        raise RuntimeError("jax.distributed.initialize() must be called before any JAX calls that "
                           "might initialise the XLA backend. This includes any computation, but "
                           "also calls to jax.devices, jax.device_put, and others.")
    if _state.client is not None:
        raise RuntimeError("distributed.initialize should only be called once.")
    coordinator_address = coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
    if isinstance(local_device_ids, int):
        local_device_ids = [local_device_ids]
    if local_device_ids is None and os.environ.get("JAX_LOCAL_DEVICE_IDS"):
        local_device_ids = [int(i) for i in os.environ["JAX_LOCAL_DEVICE_IDS"].split(",")]
    site = f" (at {core.user_site()})"
    if coordinator_address is None:
        raise ValueError("coordinator_address should be defined." + site)
    if num_processes is None:
        raise ValueError("Number of processes must be defined." + site)
    if process_id is None:
        raise ValueError("The process id of the current process must be defined." + site)
    _positive_int("process_id", process_id, 0)
    _positive_int("num_processes", num_processes, 1)
    if not 0 <= process_id < num_processes:
        raise ValueError("process_id and num_processes must be nonnegative, with process_id < "
                         f"num_processes. Got process_id={process_id}, num_processes={num_processes}."
                         + site)
    if ":" not in coordinator_address:
        raise ValueError(f"coordinator_address must be 'host:port', got {coordinator_address!r}" + site)
    port = coordinator_address.rsplit(":", 1)[1]
    bind = coordinator_bind_address or os.environ.get("JAX_COORDINATOR_BIND_ADDRESS", "[::]:" + port)
    timeout = int(initialization_timeout)
    service = None
    if process_id == 0:
        service = runtime.distributed_service(bind, num_processes, int(heartbeat_timeout_seconds),
                                              int(shutdown_timeout_seconds))
    else:
        _wait_for_coordinator(coordinator_address, timeout, process_id, num_processes)
    client = runtime.distributed_client(coordinator_address, process_id, timeout,
                                        int(heartbeat_timeout_seconds), int(shutdown_timeout_seconds))
    # jaxlib ends the process (with its own message) when the others do not all register
    # within the timeout, as under JAX
    client.connect()
    _state.service, _state.client = service, client
    _state.process_id, _state.num_processes = process_id, num_processes
    _state.coordinator_address = coordinator_address
    _state.local_device_ids = local_device_ids
    runtime.set_distributed(_state)
    from xlafront import _sharded_array, api
    _sharded_array.install_over_processes(api.jit)


def _wait_for_coordinator(address, timeout, process_id, num_processes):
    """Wait until something listens at the coordinator's address, at most `timeout`
    seconds; else a clear error here (jaxlib's client would end the process after its
    deadline with a bare DEADLINE_EXCEEDED)."""
    import socket
    import time
    host, port = address.rsplit(":", 1)
    host = host.strip("[]")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"process {process_id} of {num_processes} could not join the distributed runtime: "
                    f"no coordinator answered at {address} within initialization_timeout={timeout} s "
                    f"(is process 0 running, with the same coordinator_address?) ({e}) "
                    f"(at {core.user_site()})") from None
            time.sleep(0.1)


def is_initialized() -> bool:
    return _state.client is not None


def shutdown():
    """Leave the distributed runtime (a no-op when it is not running)."""
    if _state.client is not None:
        _state.client.shutdown()
        _state.client = None
    if _state.service is not None:
        _state.service.shutdown()
        _state.service = None
    runtime.set_distributed(None)


from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
