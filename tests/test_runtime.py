"""The PJRT shim (lowering/runtime.py) and the jaxlib-private facts it relies on.

These facts move between jaxlib releases; when one of these tests fails after a jaxlib
upgrade, lowering/runtime.py is the one file to adapt.
"""
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import dispatch
from xlafront import primitives as P
from xlafront.lowering import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ALL_DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
              np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128,
              ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, ml_dtypes.float8_e4m3b11fnuz,
              ml_dtypes.float8_e4m3fnuz, ml_dtypes.float8_e5m2fnuz]


def _values(dt, shape):
    dt = np.dtype(dt)
    n = int(np.prod(shape, dtype=np.int64))
    if dt == np.bool_:
        v = np.arange(n) % 3 == 0
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        v = np.resize(np.array([info.max, info.min, 0, 1, info.max // 3], dt), n)
    elif dt.kind == "c":
        v = (np.linspace(-2, 2, n) + 1j * np.linspace(3, -1, n)).astype(dt)
    else:
        v = np.linspace(-2, 2, n).astype(dt)
    return v.reshape(shape)


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_device_put_to_numpy_round_trip(dt):
    for shape in ((), (0,), (3,), (2, 0, 3), (2, 3)):
        x = _values(dt, shape)
        buf = runtime.device_put(x)
        y = runtime.to_numpy(buf)
        assert y.dtype == x.dtype and y.shape == x.shape, (dt, shape)
        assert y.tobytes() == np.ascontiguousarray(x).tobytes(), (dt, shape)   # bit-exact


def test_round_trip_keeps_special_float_bits():
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, np.finfo(np.float32).tiny / 4], np.float32)
    y = runtime.to_numpy(runtime.device_put(x))
    np.testing.assert_array_equal(y.view(np.uint32), x.view(np.uint32))
    b = x.astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(runtime.to_numpy(runtime.device_put(b)).view(np.uint16), b.view(np.uint16))


def test_non_contiguous_and_weak_inputs():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(runtime.to_numpy(runtime.device_put(np.ascontiguousarray(x))), x)
    w = runtime.device_put(np.asarray(2.0, np.float32), weak_type=True)
    assert runtime.to_numpy(w) == 2.0


def test_xf_device_put_and_get_every_dtype():
    for dt in ALL_DTYPES:
        x = _values(dt, (2, 2))
        a = xf.device_put(x)
        assert isinstance(a, xf.Array)
        if np.dtype(dt).itemsize == 8 and np.dtype(dt).kind != "c":
            continue  # 64-bit values are canonicalized to 32 bits without x64 (checked below)
        got = xf.device_get(a)
        assert np.asarray(got).dtype == a.dtype
    with_x64 = xf.config.x64
    xf.config.update("jax_enable_x64", True)
    try:
        for dt in (np.int64, np.uint64, np.float64, np.complex128):
            x = _values(dt, (3,))
            a = xf.device_put(x)
            assert a.dtype == np.dtype(dt)
            np.testing.assert_array_equal(np.asarray(a), x)
    finally:
        xf.config.update("jax_enable_x64", with_x64)


def test_devices():
    devs = runtime.devices()
    assert devs and runtime.default_device() is devs[0] or runtime.default_device() == devs[0]
    assert runtime.backend().platform == "cpu"
    assert xf.devices()[0].platform == "cpu"


STABLEHLO_ADD = """module @jit_add attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<3xf32>
    %1 = stablehlo.multiply %arg0, %arg1 : tensor<3xf32>
    return %0, %1 : tensor<3xf32>, tensor<3xf32>
  }
}
"""


def test_compile_and_run_stablehlo_text():
    exe = runtime.compile(STABLEHLO_ADD, 2)
    x, y = np.array([1, 2, 3], np.float32), np.array([4, 5, 6], np.float32)
    outs = exe.run([runtime.device_put(x), runtime.device_put(y)])
    assert len(outs) == 2
    np.testing.assert_array_equal(runtime.to_numpy(outs[0]), x + y)
    np.testing.assert_array_equal(runtime.to_numpy(outs[1]), x * y)
    assert "add" in exe.hlo_text()


def test_compile_error_is_clear():
    bad = STABLEHLO_ADD.replace("stablehlo.add", "stablehlo.no_such_op")
    with pytest.raises(Exception, match="no_such_op"):
        runtime.compile(bad, 2)
    exe = runtime.compile(STABLEHLO_ADD, 2)   # the next good compile works
    assert exe is not None


def test_async_execution_and_block_until_ready():
    x = xnp.ones((256, 256), xnp.float32)
    y = x @ x                       # dispatched; may still be running
    assert y.block_until_ready() is y
    assert y.is_ready()
    buf = runtime.block_until_ready(y._buf)
    assert buf is y._buf
    np.testing.assert_allclose(np.asarray(y), np.full((256, 256), 256.0, np.float32))
    outs = [xnp.sin(x) for _ in range(3)]
    xf.block_until_ready(outs)
    assert all(o.is_ready() for o in outs)


def test_delete_and_live_buffers():
    buf = runtime.device_put(np.arange(5, dtype=np.int32))
    n = runtime.live_buffers_count()
    assert n >= 1
    assert not runtime.is_deleted(buf)
    runtime.delete(buf)
    assert runtime.is_deleted(buf)


def test_lru_cache_is_bounded_and_keeps_recent_entries():
    c = runtime.LRUCache(maxsize=2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1        # a is now the most recent
    c.put("c", 3)                 # evicts b
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3
    assert len(c) == 2 and c.hits == 3 and c.misses == 3
    c.clear()
    assert len(c) == 0


def test_eager_compile_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(dispatch, "_eager_cache", {})
    monkeypatch.setattr(dispatch, "EAGER_CACHE_MAX", 3)
    x = xnp.arange(4.0)
    outs = [P.add(x, x), P.mul(x, x), P.sub(x, x), P.max(x, x), P.min(x, x), P.add(x, x)]
    assert len(dispatch._eager_cache) <= 3
    np.testing.assert_array_equal(np.asarray(outs[-1]), np.arange(4.0) * 2)
    np.testing.assert_array_equal(np.asarray(outs[3]), np.arange(4.0))


def _run_with_env(code, **env):
    e = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    e.pop("JAX_PLATFORMS", None)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120)


def test_missing_gpu_plugin_gives_a_clear_platform_error():
    code = ("import xlafront.numpy as xnp\n"
            "from xlafront.lowering.runtime import PlatformError\n"
            "try:\n"
            "    xnp.ones(3)\n"
            "except PlatformError as e:\n"
            "    print('PLATFORM-ERROR:', e)\n")
    r = _run_with_env(code, XLAFRONT_PLATFORM="cuda")
    assert "PLATFORM-ERROR:" in r.stdout, r.stderr
    assert "jax-cuda12-plugin" in r.stdout and "jax-cuda13-plugin" in r.stdout
    assert "XLAFRONT_PLATFORM" in r.stdout
    r = _run_with_env(code, XLAFRONT_PLATFORM="no-such-platform")
    assert "PLATFORM-ERROR: unknown platform 'no-such-platform'" in r.stdout, r.stderr


def test_platform_error_is_a_runtime_error():
    assert issubclass(runtime.PlatformError, RuntimeError)


def test_missing_explicit_plugin_path():
    code = ("from xlafront.lowering.runtime import PlatformError, backend\n"
            "try:\n"
            "    backend()\n"
            "except PlatformError as e:\n"
            "    print('PLATFORM-ERROR:', e)\n")
    r = _run_with_env(code, XLAFRONT_PLATFORM="cuda", XLAFRONT_PJRT_PLUGIN_LIBRARY="/nonexistent/plugin.so")
    assert "PLATFORM-ERROR:" in r.stdout and "/nonexistent/plugin.so" in r.stdout, r.stderr


# --------------------------------------------------------------------------- LAPACK custom calls
POTRF = """module @jit_cholesky attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<i32>) {
    %0:2 = stablehlo.custom_call @lapack_spotrf_ffi(%arg0) {api_version = 4 : i32, backend_config = {uplo = 76 : ui8}, operand_layouts = [dense<[0, 1]> : tensor<2xindex>], output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], operand_index = 0, operand_tuple_indices = []>], result_layouts = [dense<[0, 1]> : tensor<2xindex>, dense<> : tensor<0xindex>]} : (tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<i32>)
    return %0#0, %0#1 : tensor<3x3xf32>, tensor<i32>
  }
}
"""


def test_lapack_targets_are_registered():
    names = runtime.registered_custom_call_targets()
    for n in ("lapack_spotrf_ffi", "lapack_dgetrf_ffi", "lapack_zgesdd_ffi", "lapack_ssyevd_ffi"):
        assert n in names


def test_lapack_custom_call_compiles_and_runs():
    exe = runtime.compile(POTRF, 2)
    a = np.array([[4.0, 2.0, 0.0], [2.0, 5.0, 1.0], [0.0, 1.0, 3.0]], np.float32)
    factor, info = (runtime.to_numpy(o) for o in exe.run([runtime.device_put(a)]))
    assert int(info) == 0
    np.testing.assert_allclose(np.tril(factor), np.linalg.cholesky(a), rtol=1e-6)


# --------------------------------------------------------------------------- jaxlib facts
def test_jaxlib_facts_from_the_design_doc():
    """The private jaxlib API the shim is built on (docs: shared/design.md, runtime facts)."""
    from jaxlib import _jax, xla_client as xc
    assert runtime.jaxlib_release().startswith("0.10.")
    client = runtime.backend().client
    assert hasattr(xc, "make_cpu_client") and hasattr(client, "compile_and_load")
    assert issubclass(runtime._Sharding, _jax.SingleDeviceSharding)
    assert hasattr(_jax, "batched_device_put") and hasattr(_jax.HostBufferSemantics, "IMMUTABLE_ONLY_DURING_CALL")
    dev = runtime.default_device()
    loaded = client.compile_and_load(STABLEHLO_ADD, executable_devices=xc.DeviceList((dev,)),
                                     compile_options=xc.CompileOptions())
    b = runtime.device_put(np.ones(3, np.float32))
    outs = loaded.execute_sharded([b, b]).disassemble_into_single_device_arrays()
    assert len(outs) == 2 and len(outs[0]) == 1
    host, did_copy = outs[0][0]._single_device_array_to_np_array_did_copy()
    np.testing.assert_array_equal(host, np.full(3, 2.0, np.float32))
    reg = _jax.pytree.PyTreeRegistry()
    leaves, treedef = reg.flatten({"a": 1, "b": (2, 3)})
    assert leaves == [1, 2, 3] and treedef.unflatten(leaves) == {"a": 1, "b": (2, 3)}
    assert hasattr(xc, "load_pjrt_plugin_dynamically") and hasattr(xc, "make_c_api_client")
    from jaxlib import lapack
    assert "cpu" in lapack.registrations()
