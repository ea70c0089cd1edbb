"""Eager execution (issue 2 item 6): an op outside jit runs as a cached one-primitive
executable -- no retrace, no recompile on repeat -- with JAX's values, dtypes and weak types."""
import jax.numpy as jnp
import numpy as np

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core, dispatch
from xlafront import primitives as P


def check(ours, ref):
    ref = jnp.asarray(ref)
    assert isinstance(ours, xf.Array)
    assert (ours.shape, ours.dtype, ours.weak_type) == (ref.shape, ref.dtype, ref.weak_type), (ours, ref)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=1e-6)


def test_eager_ops_match_jax_and_compile_once():
    host = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    x, jx = xnp.asarray(host), jnp.asarray(host)
    ops = [
        lambda m, v: m.sin(v),
        lambda m, v: v * 2.0 + 1,            # weak Python scalars
        lambda m, v: m.maximum(v, 0.0),
        lambda m, v: v.sum(axis=0),
        lambda m, v: v @ v.T,
        lambda m, v: (v > 0).astype(m.int32),
        lambda m, v: m.exp(v) - np.float32(1),   # a numpy scalar operand
        lambda m, v: v + host,                   # a numpy array operand
    ]
    for op in ops:
        check(op(xnp, x), op(jnp, jx))
    n = dispatch.compile_count
    for _ in range(3):
        for op in ops:
            check(op(xnp, x), op(jnp, jx))
    assert dispatch.compile_count == n          # every repeat hit the eager cache


def test_new_signature_compiles_once():
    a = xnp.asarray(np.arange(5, dtype=np.float32))
    b = xnp.asarray(np.arange(5, dtype=np.int32))
    xnp.tanh(a)
    n = dispatch.compile_count
    xnp.tanh(a)
    assert dispatch.compile_count == n
    xnp.negative(b)                               # new primitive/dtype
    xnp.negative(b)
    assert dispatch.compile_count == n + 1
    w = xnp.asarray(2.0)                          # weak-typed f32[]: a distinct signature
    assert w.weak_type
    check(xnp.tanh(w), jnp.tanh(jnp.asarray(2.0)))


def test_scalar_operands_are_reused_on_device():
    x = xnp.asarray(np.ones(4, np.float32))
    y = x * 3.5
    before = len(dispatch._scalar_bufs)
    for _ in range(5):
        y = x * 3.5
    assert len(dispatch._scalar_bufs) == before   # the 3.5 went to the device once
    check(y, jnp.ones(4) * 3.5)


def test_eager_is_asynchronous_and_chains():
    x = xnp.asarray(np.full((64, 64), 0.01, np.float32))
    y = x
    for _ in range(20):
        y = y @ x + 1.0
    assert y.block_until_ready() is y and y.is_ready()
    ref = jnp.full((64, 64), 0.01, jnp.float32)
    r = ref
    for _ in range(20):
        r = r @ ref + 1.0
    np.testing.assert_allclose(np.asarray(y), np.asarray(r), rtol=1e-5)


def test_eager_results_feed_jit_and_back():
    x = xnp.asarray(np.arange(4, dtype=np.float32))
    jf = xf.jit(lambda v: v * 2)
    y = jf(xnp.sin(x))
    z = xnp.cos(y)
    check(z, jnp.cos(jnp.sin(jnp.arange(4.0)) * 2))
    assert jf.trace_count == 1


def test_eval_trace_runs_apply_primitive_directly():
    # bind on the eval trace goes straight to the eager dispatcher (no intermediate frame)
    assert core.eval_trace.process_primitive is dispatch.apply_primitive
    x = xnp.asarray(np.array([0.5, 1.5], np.float32))
    check(P.sin_p.bind(x), jnp.sin(jnp.array([0.5, 1.5], jnp.float32)))
    check(P.add_p.bind(x, 2.0), jnp.array([0.5, 1.5], jnp.float32) + 2.0)


def test_eager_int_overflow_then_good_call():
    x = xnp.asarray(np.arange(3, dtype=np.int32))
    try:
        P.add_p.bind(x, 2 ** 40)
    except OverflowError:
        pass
    else:
        raise AssertionError("expected OverflowError")
    check(x + 1, jnp.arange(3, dtype=jnp.int32) + 1)


def test_scalar_operand_cache_keeps_signed_zeros_and_nans_apart():
    x = xnp.asarray(np.ones(2, np.float32))
    ref = jnp.ones(2, jnp.float32)
    for s in [0.0, -0.0, 0.0, float("nan"), float("inf"), -float("inf"), 0, False, complex(1, -0.0)]:
        check(1 / (x * s) if not isinstance(s, complex) else x * s,
              1 / (ref * s) if not isinstance(s, complex) else ref * s)
    np.testing.assert_array_equal(np.signbit(np.asarray(x * -0.0)), [True, True])


def test_numpy_scalar_operands_cached_per_bits_and_x64_mode():
    x = xnp.asarray(np.ones(2, np.float32))
    ref = jnp.ones(2, jnp.float32)
    for s in [np.float32(2.0), np.float32(-0.0), np.float32(0.0), np.float32("nan"), np.int32(3)]:
        check(P.mul_p.bind(x, np.float32(s)) if s.dtype != np.int32 else x * s,
              ref * np.float32(s) if s.dtype != np.int32 else ref * s)
    n = len(dispatch._scalar_bufs)
    P.mul_p.bind(x, np.float32(2.0))
    assert len(dispatch._scalar_bufs) == n
    np.testing.assert_array_equal(np.signbit(np.asarray(P.mul_p.bind(x, np.float32(-0.0)))), [True, True])
    buf32 = dispatch.to_buffer(np.float64(1.5))[1]
    xf.config.update("jax_enable_x64", True)
    try:
        assert dispatch.to_buffer(np.float64(1.5))[1].dtype == np.float64
    finally:
        xf.config.update("jax_enable_x64", False)
    assert buf32.dtype == np.float32 and dispatch.to_buffer(np.float64(1.5))[1].dtype == np.float32
