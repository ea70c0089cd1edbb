"""Start-up: what a first program imports, and host transfers without jax.

A fresh process runs the usual first steps (jit, eager ops, grad, print, np.asarray, float,
.tolist()) and must leave `jax` (0.7 s to import) and scipy (pulled in by jaxlib's LAPACK
kernels) out of sys.modules; a LAPACK-backed call registers the kernels when it first
compiles. In-process tests check that the jax-free host transfer gives the right values,
dtypes and read-only arrays for every dtype, including the ones DLPack cannot name.
"""
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront.lowering import runtime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code):
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("XLAFRONT_PLATFORM", None)
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


FIRST_PROGRAM = """
import sys
import numpy as np
import xlafront as xf, xlafront.numpy as xnp
x = xnp.arange(3.) * 2
print(x)
y = xf.jit(lambda a: xnp.sin(a) * 2 + 1)(x)
g = xf.grad(lambda a: (xnp.tanh(a) ** 2).sum())(x)
print(repr(g))
v = xf.vmap(lambda r: r @ r)(xnp.ones((2, 3)))
print("VALUES", (np.asarray(y).tolist(), float(y[1]), g.tolist(), v.tolist(), int(x[2]), bool(x[1] > 1)))
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("jax", "scipy", "random")
                       or m in ("jaxlib.lapack", "secrets")))
"""


def test_first_programs_do_not_import_jax_or_scipy():
    out = _run(FIRST_PROGRAM)
    values = next(line for line in out.splitlines() if line.startswith("VALUES"))
    loaded = next(line for line in out.splitlines() if line.startswith("LOADED"))
    x = np.arange(3., dtype=np.float32) * 2
    y = np.sin(x) * 2 + 1
    g = 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    got = eval(values[len("VALUES"):])   # a tuple of plain Python values
    np.testing.assert_allclose(got[0], y, rtol=1e-6)
    assert got[1] == pytest.approx(float(y[1]), rel=1e-6)
    np.testing.assert_allclose(got[2], g, rtol=1e-3, atol=1e-6)
    assert got[3] == [3.0, 3.0] and got[4] == 4 and got[5] is True
    assert "[0. 2. 4.]" in out
    assert loaded == "LOADED []", loaded


def test_linalg_registers_lapack_on_first_use():
    out = _run("""
import sys
import numpy as np
import xlafront as xf, xlafront.numpy as xnp
print(float(xnp.sum(xnp.ones(3))), 'jaxlib.lapack' in sys.modules)
a = np.array([[4., 1.], [2., 3.]], np.float32)
print(np.asarray(xnp.linalg.inv(a)).tolist(), 'jaxlib.lapack' in sys.modules)
print(float(xf.jit(xnp.linalg.det)(a)))
""")
    lines = out.splitlines()
    assert lines[0] == "3.0 False"
    inv, loaded = lines[1].rsplit(" ", 1)
    np.testing.assert_allclose(eval(inv), np.linalg.inv(np.array([[4., 1.], [2., 3.]])), rtol=1e-6)
    assert loaded == "True"
    assert float(lines[2]) == pytest.approx(10.0, rel=1e-6)


def test_registered_targets_still_listed():
    names = runtime.registered_custom_call_targets()
    assert any(n.startswith("lapack_") and n.endswith("getrf_ffi") for n in names)


DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64,
          np.uint32, np.uint64, np.bool_, np.complex64, np.complex128, ml_dtypes.bfloat16,
          ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, ml_dtypes.int4, ml_dtypes.uint4]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_host_transfer_every_dtype(dtype):
    src = (np.arange(24).reshape(2, 3, 4) % 7 - (0 if np.dtype(dtype).kind in "ub" else 3)).astype(dtype)
    buf = runtime.device_put(src)
    out = runtime.to_numpy(buf)
    assert out.dtype == src.dtype and out.shape == src.shape
    assert out.tobytes() == src.tobytes()
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[0, 0, 0] = src[0, 0, 1]
    # the view keeps its memory when the device buffer is deleted
    runtime.delete(buf)
    assert out.tobytes() == src.tobytes()


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,), (5, 1)])
def test_host_transfer_shapes(shape):
    src = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 1.5
    out = runtime.to_numpy(runtime.device_put(src))
    assert out.shape == shape and out.dtype == np.float32 and not out.flags.writeable
    np.testing.assert_array_equal(out, src)


def test_program_results_to_host_exact_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45], np.float32)
    out = np.asarray(xf.jit(lambda a: a * 1.0)(x))
    np.testing.assert_array_equal(np.signbit(out), np.signbit(x))
    np.testing.assert_array_equal(out, x)   # NaN == NaN for assert_array_equal
    assert not out.flags.writeable


def test_transposed_result_and_dtypes_from_programs():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = np.asarray(xf.jit(lambda t: t.T)(a))
    np.testing.assert_array_equal(out, a.T)
    b = np.asarray(xnp.asarray(a).astype(xnp.bfloat16) * 2)
    assert b.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(b.astype(np.float32), a * 2)
    m = np.asarray(xnp.asarray(a) > 2)
    assert m.dtype == np.bool_ and m.tolist() == (a > 2).tolist()


def test_donated_input_host_copy_survives():
    a = xnp.arange(4.0)
    host = np.asarray(a)
    out = xf.jit(lambda t: t + 1, donate_argnums=0)(a)
    np.testing.assert_array_equal(host, [0., 1., 2., 3.])
    np.testing.assert_array_equal(np.asarray(out), [1., 2., 3., 4.])


def test_failed_program_raises_at_host_transfer_and_next_works():
    # a host callback that raises: the error surfaces when the value is read, then the
    # next program still works
    def bad(x):
        raise ValueError("boom from callback")
    f = xf.jit(lambda x: xf.pure_callback(bad, xf.ShapeDtypeStruct((), np.float32), x))
    with pytest.raises(Exception, match="boom from callback"):
        np.asarray(f(np.float32(1)))
    assert float(xf.jit(lambda x: x + 1)(np.float32(1))) == 2.0


def test_host_copy_and_unhinted_programs_do_not_import_jax():
    # the non-CPU host path (a copy into a host CPU client, then the DLPack view), int4
    # widening, and a program compiled without result avals, in a fresh process
    out = _run("""
import sys
import ml_dtypes
import numpy as np
from xlafront.lowering import runtime as rt
src = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
host = rt._host_copy(rt.device_put(src))
print("COPY", rt.to_numpy(host).tolist(), host.platform())
i4 = (np.arange(5) - 2).astype(ml_dtypes.int4)
print("INT4", rt.to_numpy(rt.device_put(i4)).astype(np.int8).tolist())
exe = rt.compile('''func.func public @main(%a: tensor<2x3xf32>) -> (tensor<2x3xf32> {jax.result_info = "r"}, tensor<i32>) {
  %c = stablehlo.constant dense<7> : tensor<i32>
  %0 = stablehlo.negate %a : tensor<2x3xf32>
  return %0, %c : tensor<2x3xf32>, tensor<i32>
}''', 2)
a, c = exe.run([rt.device_put(src)])
print("RUN", rt.to_numpy(a).tolist(), int(rt.to_numpy(c)))
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] == "jax"))
""")
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    src = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    assert lines["COPY"] == f"{src.tolist()} cpu"
    assert eval(lines["INT4"]) == [-2, -1, 0, 1, 2]
    assert lines["RUN"] == f"{(-src).tolist()} 7"
    assert lines["LOADED"] == "[]"


def test_result_avals_parsed_from_text():
    text = ('func.func public @main(%a: tensor<3xf32>, %b: tensor<2x3xcomplex<f32>>) -> '
            '(tensor<3xbf16> {jax.result_info = "x"}, tensor<i1>, tensor<0x2xcomplex<f64>>) {\n')
    got = [(a.shape, np.dtype(a.dtype).name) for a in runtime.result_avals(text)]
    assert got == [((3,), "bfloat16"), ((), "bool"), ((0, 2), "complex128")]
    single = runtime.result_avals("func.func public @main(%a: tensor<4xui8>) -> tensor<4xui8> {\n")
    assert [(a.shape, a.dtype) for a in single] == [((4,), np.dtype(np.uint8))]
