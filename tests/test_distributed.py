"""Several processes (xf.distributed): 2 processes with 4 CPU devices each, one mesh over the 8.

The same program (`_program`, written once against either library) runs in two xlafront
processes and, at the same time, in two JAX processes (jax.distributed with gloo on this
machine's loopback): each process initializes the distributed runtime, builds global arrays
from its own data, runs jitted programs whose reductions cross the processes, and reports
what it saw. Every value is checked against numpy (the global computation done on the host)
and against JAX's processes. `python tests/test_distributed.py LIB PID PORT` is one worker.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import traceback

import numpy as np
import pytest

NPROC, NLOCAL = 2, 4          # processes, CPU devices per process (as the issue asks)
ROWS = 2 * NLOCAL             # rows of the batch each process holds


def _local_batch(pid):
    """Process `pid`'s rows of the global batch (x: ROWS x 3, y: ROWS)."""
    rng = np.random.default_rng(10 + pid)
    return rng.normal(size=(ROWS, 3)).astype(np.float32), rng.normal(size=(ROWS,)).astype(np.float32)


def _global_batch():
    xs, ys = zip(*[_local_batch(p) for p in range(NPROC)])
    return np.concatenate(xs), np.concatenate(ys)


W0 = np.array([0.5, -1.0, 2.0], np.float32)
LR = 0.1


# ----------------------------------------------------------------------------- one worker
def _program(lib, pid):
    """What one process does (the same code for jax and xlafront); returns its report."""
    if lib == "jax":
        import jax as X
        from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
    else:
        import xlafront as X
        from xlafront.sharding import AxisType, NamedSharding, PartitionSpec as P
    jnp = X.numpy
    out = {}
    out["process_index"] = X.process_index()
    out["process_count"] = X.process_count()
    out["process_indices"] = list(X.process_indices())
    out["local_devices_of_1"] = [d.id for d in X.local_devices(process_index=1)]
    out["devices"] = [d.id for d in X.devices()]
    out["device_processes"] = [d.process_index for d in X.devices()]
    out["local_devices"] = [d.id for d in X.local_devices()]
    out["counts"] = [X.device_count(), X.local_device_count()]

    # Auto axes (JAX's Explicit ones would ask for out_sharding on sharded contractions)
    mesh = X.make_mesh((NPROC * NLOCAL,), ("x",), axis_types=(AxisType.Auto,))
    rows = NamedSharding(mesh, P("x"))
    mesh2 = X.make_mesh((NPROC, NLOCAL), ("p", "d"), axis_types=(AxisType.Auto,) * 2)
    x_local, y_local = _local_batch(pid)
    x = X.make_array_from_process_local_data(rows, x_local)
    y = X.make_array_from_process_local_data(rows, y_local)
    out["global_shape"] = list(x.shape)
    out["fully_addressable"] = x.is_fully_addressable
    out["shards"] = sorted([[s.device.id, [[sl.start, sl.stop] for sl in s.index[:1]], np.asarray(s.data).tolist()]
                            for s in x.addressable_shards])
    out["mesh_multi_process"] = mesh.is_multi_process
    lm = X.make_mesh((NPROC, NLOCAL), ("p", "d")).local_mesh
    out["local_mesh"] = [list(lm.devices.shape), [d.id for d in lm.devices.flat], list(lm.axis_names)]
    out["addressable"] = sorted(d.id for d in rows.addressable_devices)

    # a sum over every device of both processes
    total = X.jit(jnp.sum)(x)
    out["sum"] = float(total)
    out["sum_spec"] = repr(total.sharding.spec)
    # a contraction over the sharded rows (an all-reduce across the processes)
    w = X.make_array_from_process_local_data(rows, np.arange(ROWS * 5, dtype=np.float32).reshape(ROWS, 5) + pid)
    xtw = X.jit(lambda a, b: a.T @ b, out_shardings=NamedSharding(mesh, P()))(x, w)
    out["xtw"] = np.asarray(xtw).tolist()

    # device_put of the global value (each process holds it; each puts its own shards), an
    # output sharding left to XLA, and a shard_map whose psum crosses the processes
    gx = np.arange(6 * NPROC * NLOCAL, dtype=np.float32).reshape(-1, 3)   # 2 rows per device
    put = X.device_put(gx, rows)
    out["put_shards"] = sorted([s.device.id, np.asarray(s.data).tolist()] for s in put.addressable_shards)
    doubled = X.jit(lambda a: a * 2)(put)
    out["propagated_spec"] = repr(doubled.sharding.spec)
    out["propagated_shards"] = sorted([s.device.id, np.asarray(s.data).tolist()]
                                      for s in doubled.addressable_shards)
    # a new layout for an array no process holds whole: resharded on the devices
    cols = X.device_put(put, NamedSharding(mesh, P(None, None)))
    out["reshard_replicated"] = np.asarray(cols).tolist()
    moved = X.device_put(put, NamedSharding(mesh2, P(("d", "p"),)))   # rows to other devices
    out["reshard_moved"] = sorted([s.device.id, np.asarray(s.data).tolist()] for s in moved.addressable_shards)
    out["reshard_moved_sum"] = float(X.jit(lambda a: jnp.sum(a[:, 0]))(moved))
    try:
        sm = X.shard_map(lambda blk: X.lax.psum(jnp.sum(blk), "x"), mesh=mesh, in_specs=P("x"),
                         out_specs=P())
        out["shard_map_psum"] = float(X.jit(sm)(put))
    except Exception as e:   # noqa: BLE001 - reported, and the test says which
        out["shard_map_psum"] = f"{type(e).__name__}: {e}"

    # a data-parallel training step: batch split over the 4 devices, weights replicated
    def loss(wt, a, b):
        return jnp.mean((a @ wt - b) ** 2)

    @X.jit
    def step(wt, a, b):
        lv, g = X.value_and_grad(loss)(wt, a, b)
        return wt - LR * g, lv
    w_new, lv = step(jnp.asarray(W0), x, y)
    out["step_w"] = np.asarray(w_new).tolist()
    out["step_loss"] = float(lv)

    # a 2-D mesh: processes along 'p', each one's NLOCAL devices along 'd'; a block split both ways
    blocks = NamedSharding(mesh2, P("p", "d"))
    b_local = np.arange(8, dtype=np.float32).reshape(2, 4) * (pid + 1)
    b = X.make_array_from_process_local_data(blocks, b_local)
    out["b_shape"] = list(b.shape)
    colsum = X.jit(lambda a: jnp.sum(a, axis=0), out_shardings=NamedSharding(mesh2, P()))(b)
    out["colsum"] = np.asarray(colsum).tolist()
    # the whole array given by every process (global_shape = the local shape)
    full = np.arange(16, dtype=np.float32).reshape(4, 4)
    f = X.make_array_from_process_local_data(blocks, full, full.shape)
    out["full_shards"] = sorted([[s.device.id, np.asarray(s.data).tolist()] for s in f.addressable_shards])
    out["full_max"] = float(X.jit(jnp.max)(f))

    # from single-device arrays on this process's devices
    singles = [X.device_put(np.full((2, 3), 10.0 * d.id + 1, np.float32), d)
               for d in rows.addressable_devices]
    s = X.make_array_from_single_device_arrays((NPROC * NLOCAL * 2, 3), rows, singles)
    out["singles_mean"] = float(X.jit(jnp.mean)(s))

    # host values exchanged between the processes (jax.experimental.multihost_utils)
    if lib == "jax":
        from jax.experimental import multihost_utils as mh
    else:
        from xlafront.experimental import multihost_utils as mh
    mine = np.array([[pid, 10 + pid, 20 + pid]], np.int32)
    out["allgather"] = mh.process_allgather(mine).tolist()
    out["allgather_tiled"] = mh.process_allgather({"a": mine, "s": np.float32(pid)}, tiled=True)
    out["allgather_tiled"] = {k: v.tolist() for k, v in out["allgather_tiled"].items()}
    out["allgather_global"] = mh.process_allgather(x, tiled=True).tolist()
    try:
        mh.process_allgather(x)
        out["allgather_global_untiled"] = None
    except ValueError as e:
        out["allgather_global_untiled"] = str(e)
    out["broadcast"] = mh.broadcast_one_to_all(mine * 7 + 1).tolist()
    out["broadcast_from_1"] = mh.broadcast_one_to_all(mine, is_source=pid == 1).tolist()
    ga = mh.host_local_array_to_global_array({"x": x_local}, mesh, P("x"))["x"]
    out["host_to_global"] = [list(ga.shape), sorted([s.device.id, np.asarray(s.data).tolist()]
                                                    for s in ga.addressable_shards)]
    back = mh.global_array_to_host_local_array(ga, mesh, P("x"))
    out["global_to_host"] = [list(back.shape), np.asarray(back).tolist(), repr(back.sharding.spec),
                             sorted(d.id for d in back.sharding.mesh.devices.flat)]
    mh.sync_global_devices("end of the checks")
    try:
        mh.assert_equal(mine, "differ")
        out["assert_equal"] = None
    except AssertionError as e:
        out["assert_equal"] = str(e).split(".")[0]

    # an array over other processes' devices has no value here; a replicated one does
    try:
        np.asarray(x)
        out["asarray_error"] = None
    except RuntimeError as e:
        out["asarray_error"] = "non-addressable" in str(e)
    out["repr"] = repr(x)
    # eager operations on it run over its devices (as JAX's)
    e = (x * 2 + 1)[:, 1:].sum(axis=1)
    out["eager"] = [list(e.shape), repr(e.sharding.spec),
                    sorted([s.device.id, np.asarray(s.data).tolist()] for s in e.addressable_shards)]
    out["eager_total"] = float(jnp.sum(x) * 2)
    out["eager_replicated"] = float(total * 2)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        X.debug.visualize_array_sharding(x)
        X.debug.visualize_array_sharding(b)
    out["visualize"] = buf.getvalue()
    return out


def _xlafront_errors_before_initialize(pid):
    """Bad arguments fail before anything starts (the checks JAX makes)."""
    import xlafront as xf
    msgs = {}
    for kwargs in [dict(coordinator_address=None, num_processes=2, process_id=pid),
                   dict(coordinator_address="localhost:1", num_processes=2, process_id=2),
                   dict(coordinator_address="localhost:1", num_processes=None, process_id=0)]:
        env = os.environ.pop("JAX_COORDINATOR_ADDRESS", None)
        try:
            xf.distributed.initialize(**kwargs)
        except ValueError as e:
            msgs[str(sorted(kwargs.items()))] = str(e)
        finally:
            if env is not None:
                os.environ["JAX_COORDINATOR_ADDRESS"] = env
    assert not xf.distributed.is_initialized()
    return msgs


def _worker(lib, pid, port):
    report = {}
    try:
        if lib == "jax":
            import jax
            jax.config.update("jax_num_cpu_devices", NLOCAL)
            jax.distributed.initialize(f"localhost:{port}", NPROC, pid, initialization_timeout=60)
        else:
            sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            import xlafront as xf
            xf.config.update("jax_num_cpu_devices", NLOCAL)
            report["errors"] = _xlafront_errors_before_initialize(pid)
            xf.distributed.initialize(f"localhost:{port}", NPROC, pid, initialization_timeout=60)
            report["initialized"] = xf.distributed.is_initialized()
            try:   # a second initialize is refused
                xf.distributed.initialize(f"localhost:{port}", NPROC, pid)
            except RuntimeError as e:
                report["second_initialize"] = str(e)
        report.update(_program(lib, pid))
        if lib == "jax":
            jax.distributed.shutdown()
        else:
            xf.distributed.shutdown()
            report["after_shutdown"] = xf.distributed.is_initialized()
    except BaseException:
        report["traceback"] = traceback.format_exc()
    print("RESULTS:" + json.dumps(report), flush=True)


# ----------------------------------------------------------------------------- the test side
def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    # the suite's XLA flags (make test's faster compile), without a device count: the worker sets its own
    env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f)
    env.pop("JAX_COORDINATOR_ADDRESS", None)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _start(lib, pid, port):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), lib, str(pid), str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collect(procs, timeout):
    """Each worker's report; kills them all if one hangs past `timeout` seconds."""
    deadline = time.monotonic() + timeout
    out = {}
    try:
        for key, p in procs.items():
            stdout, stderr = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            line = [ln for ln in stdout.splitlines() if ln.startswith("RESULTS:")]
            if not line:
                raise AssertionError(f"worker {key} gave no report (rc={p.returncode}):\n"
                                     f"{stdout[-2000:]}\n{stderr[-3000:]}")
            out[key] = json.loads(line[-1][len("RESULTS:"):])
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the distributed workers did not finish within {timeout} s")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


@pytest.fixture(scope="module")
def reports():
    xport, jport = _free_port(), _free_port()
    procs = {}
    for pid in range(NPROC):
        procs[("xlafront", pid)] = _start("xlafront", pid, xport)
    for pid in range(NPROC):
        procs[("jax", pid)] = _start("jax", pid, jport)
    out = _collect(procs, timeout=150)
    for key, r in out.items():
        if "traceback" in r:
            pytest.fail(f"worker {key} failed:\n{r['traceback']}", pytrace=False)
    return out


def test_processes_and_devices(reports):
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        assert x["process_index"] == j["process_index"] == pid
        assert x["process_count"] == j["process_count"] == NPROC
        assert x["process_indices"] == j["process_indices"] == list(range(NPROC))
        assert x["local_devices_of_1"] == j["local_devices_of_1"] == x["devices"][NLOCAL:2 * NLOCAL]
        assert x["devices"] == j["devices"] and len(x["devices"]) == NPROC * NLOCAL
        assert x["device_processes"] == j["device_processes"] == [p for p in range(NPROC) for _ in range(NLOCAL)]
        assert x["local_devices"] == j["local_devices"] == x["devices"][pid * NLOCAL:(pid + 1) * NLOCAL]
        assert x["counts"] == j["counts"] == [NPROC * NLOCAL, NLOCAL]
        assert x["mesh_multi_process"] is True
        assert x["local_mesh"] == j["local_mesh"] == [[1, NLOCAL], x["local_devices"], ["p", "d"]]
        assert x["addressable"] == x["local_devices"]


def test_global_array_from_process_data(reports):
    gx, _ = _global_batch()
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        assert x["global_shape"] == j["global_shape"] == [NPROC * ROWS, 3]
        assert x["fully_addressable"] is j["fully_addressable"] is False
        assert x["shards"] == j["shards"]
        for dev, ((lo, hi),), data in x["shards"]:   # each local shard holds its rows of the global batch
            np.testing.assert_array_equal(np.asarray(data, np.float32), gx[lo:hi])
        assert x["b_shape"] == j["b_shape"] == [4, 4]
        assert x["full_shards"] == j["full_shards"]
        assert x["asarray_error"] is True and j["asarray_error"] is True
        assert x["repr"] == j["repr"] == f"Array(shape=({NPROC * ROWS}, 3), dtype=float32)"
        assert x["eager"] == j["eager"]
        assert x["eager"][:2] == [[NPROC * ROWS], "P('x',)"]
        for dev, data in x["eager"][2]:   # each local block: its rows of 2x + 1, summed over columns 1:
            k = x["devices"].index(dev)
            np.testing.assert_allclose(data, (gx[2 * k:2 * k + 2, 1:] * 2 + 1).sum(1), rtol=1e-6)
        np.testing.assert_allclose(x["eager_total"], j["eager_total"], rtol=1e-6)
        assert x["eager_replicated"] == j["eager_replicated"] == 2 * x["sum"]


def test_reductions_across_processes(reports):
    gx, _ = _global_batch()
    w = np.concatenate([np.arange(ROWS * 5, dtype=np.float32).reshape(ROWS, 5) + p for p in range(NPROC)])
    b = np.concatenate([np.arange(8, dtype=np.float32).reshape(2, 4) * (p + 1) for p in range(NPROC)])
    singles = np.concatenate([np.full((2, 3), 10.0 * d + 1) for d in reports[("xlafront", 0)]["devices"]])
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        np.testing.assert_allclose(x["sum"], gx.sum(dtype=np.float64), rtol=1e-6)
        np.testing.assert_allclose(x["sum"], j["sum"], rtol=1e-6)
        assert x["sum_spec"] == j["sum_spec"] == "P()"
        np.testing.assert_allclose(x["xtw"], gx.T.astype(np.float64) @ w, rtol=1e-5)
        np.testing.assert_allclose(x["xtw"], j["xtw"], rtol=1e-6)
        np.testing.assert_array_equal(x["colsum"], b.sum(0))
        assert x["colsum"] == j["colsum"]
        assert x["full_max"] == j["full_max"] == 15.0
        np.testing.assert_allclose(x["singles_mean"], singles.mean(), rtol=1e-6)
        assert x["singles_mean"] == j["singles_mean"]


def test_put_propagation_and_shard_map(reports):
    gx = np.arange(6 * NPROC * NLOCAL, dtype=np.float32).reshape(-1, 3)
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        assert x["put_shards"] == j["put_shards"]
        local = x["local_devices"]
        assert [d for d, _ in x["put_shards"]] == local
        for k, (_, data) in enumerate(x["put_shards"]):   # device k of the mesh holds rows 2k, 2k+1
            row = 2 * x["devices"].index(local[k])
            np.testing.assert_array_equal(data, gx[row:row + 2])
        assert x["propagated_spec"] == j["propagated_spec"] == "P('x',)"
        assert x["propagated_shards"] == j["propagated_shards"]
        np.testing.assert_array_equal([d for _, d in x["propagated_shards"]],
                                      2 * np.asarray([d for _, d in x["put_shards"]]))
        assert x["shard_map_psum"] == j["shard_map_psum"] == float(gx.sum())
        assert x["reshard_replicated"] == j["reshard_replicated"] == gx.tolist()
        assert x["reshard_moved"] == j["reshard_moved"]
        order = [d for dd in range(NLOCAL) for d in (x["devices"][dd], x["devices"][NLOCAL + dd])]
        for dev, data in x["reshard_moved"]:   # P(('d', 'p')): block k on device order[k]
            k = order.index(dev)
            np.testing.assert_array_equal(data, gx[2 * k:2 * k + 2])
        assert x["reshard_moved_sum"] == j["reshard_moved_sum"] == float(gx[:, 0].sum())


def test_data_parallel_step_equals_single_process(reports):
    gx, gy = _global_batch()
    r = gx.astype(np.float64) @ W0 - gy
    loss = np.mean(r ** 2)
    w_new = W0 - LR * (2.0 / len(gy)) * (gx.T.astype(np.float64) @ r)
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        np.testing.assert_allclose(x["step_loss"], loss, rtol=1e-5)
        np.testing.assert_allclose(x["step_w"], w_new, rtol=1e-5)
        np.testing.assert_allclose(x["step_w"], j["step_w"], rtol=1e-6)
        np.testing.assert_allclose(x["step_loss"], j["step_loss"], rtol=1e-6)


def test_multihost_utils(reports):
    gx, _ = _global_batch()
    rows = [[p, 10 + p, 20 + p] for p in range(NPROC)]
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        for k in ["allgather", "allgather_tiled", "allgather_global", "allgather_global_untiled",
                  "broadcast", "broadcast_from_1", "assert_equal", "host_to_global", "global_to_host"]:
            assert x[k] == j[k], k
        assert x["host_to_global"][0] == [NPROC * ROWS, 3]
        np.testing.assert_array_equal(np.asarray(x["global_to_host"][1], np.float32), _local_batch(pid)[0])
        assert x["global_to_host"][3] == x["local_devices"]
        assert x["allgather"] == [[r] for r in rows]
        assert x["allgather_tiled"] == {"a": rows, "s": [float(p) for p in range(NPROC)]}
        np.testing.assert_array_equal(np.asarray(x["allgather_global"], np.float32), gx)
        assert "only supports tiled=True" in x["allgather_global_untiled"]
        assert x["broadcast"] == [[v * 7 + 1 for v in rows[0]]]
        assert x["broadcast_from_1"] == [rows[1]]
        assert x["assert_equal"] == "differ"


def test_visualize_across_processes(reports):
    for pid in range(NPROC):
        x, j = reports[("xlafront", pid)], reports[("jax", pid)]
        assert x["visualize"] == j["visualize"]
        assert "CPU 2048" in x["visualize"]


def test_initialize_errors_and_lifecycle(reports):
    for pid in range(NPROC):
        x = reports[("xlafront", pid)]
        msgs = list(x["errors"].values())
        want = ["coordinator_address should be defined.",   # JAX's messages, and the call site
                "process_id and num_processes must be nonnegative, with process_id < "
                "num_processes. Got process_id=2, num_processes=2.",
                "Number of processes must be defined."]
        assert len(msgs) == len(want)
        for m, w in zip(msgs, want):
            assert m.startswith(w + " (at ") and "test_distributed.py" in m, m
        assert x["initialized"] is True
        assert "only be called once" in x["second_initialize"]
        assert x["after_shutdown"] is False


def test_initialize_after_backend_started_raises():
    """In this process the backend runs already: initialize refuses, as JAX's does."""
    import xlafront as xf
    xf.devices()
    with pytest.raises(RuntimeError, match="must be called before any JAX calls"):
        xf.distributed.initialize("localhost:1", 2, 0)
    assert not xf.distributed.is_initialized()
    assert xf.process_index() == 0 and xf.process_count() == 1
    assert xf.local_devices() == xf.devices()


def test_unreachable_coordinator_fails_within_timeout():
    """Process 1 with no process 0 serving: a clear error after initialization_timeout, no hang."""
    port = _free_port()
    code = ("import xlafront as xf\n"
            f"xf.distributed.initialize('localhost:{port}', 2, 1, initialization_timeout=3)\n")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=60)
    took = time.monotonic() - t0
    assert p.returncode != 0
    assert "ConnectionError" in p.stderr and "could not join the distributed runtime" in p.stderr
    assert f"localhost:{port}" in p.stderr and "initialization_timeout=3" in p.stderr
    assert took < 60


_DIES = """
import os, sys
import numpy as np
import xlafront as xf
pid, port = int(sys.argv[1]), sys.argv[2]
xf.config.update("jax_num_cpu_devices", 2)
xf.distributed.initialize(f"localhost:{port}", 2, pid, initialization_timeout=60, heartbeat_timeout_seconds=3)
from xlafront.sharding import NamedSharding, PartitionSpec as P
x = xf.device_put(np.ones(8, np.float32), NamedSharding(xf.make_mesh((4,), ("x",)), P("x")))
print("sum", float(xf.jit(xf.numpy.sum)(x)), flush=True)
if pid == 1:
    os._exit(3)   # dies without a word
print("after", float(xf.jit(lambda a: xf.numpy.sum(a * 2))(x)), flush=True)
"""


def test_dead_process_ends_the_others_within_heartbeat_timeout():
    """Process 1 dies after a first program: process 0, waiting on it in the next, is ended by
    the distributed runtime (missed heartbeats) with a message naming the dead task, as under
    JAX, instead of hanging."""
    port = _free_port()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    def no_core_file():   # process 0 ends by abort()
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    procs = {pid: subprocess.Popen([sys.executable, "-c", _DIES, str(pid), str(port)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=_env(), cwd=root,
                                   preexec_fn=no_core_file)
             for pid in range(NPROC)}
    try:
        out0, err0 = procs[0].communicate(timeout=90)
        out1, _ = procs[1].communicate(timeout=30)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    assert "sum 8.0" in out0 and "sum 8.0" in out1
    assert procs[1].returncode == 3
    assert procs[0].returncode != 0 and "after" not in out0
    assert "stopped sending heartbeats" in err0 and "detected fatal errors" in err0


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
