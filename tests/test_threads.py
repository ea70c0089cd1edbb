"""Threads: trace state is per thread (as JAX's), caches and compiles survive concurrent calls.

Each worker checks its own results against numpy. Barriers line the threads up so that
traces in different threads really overlap (the failure before per-thread trace state was a
TracerArrayConversionError or a wrong value in one of the threads).
"""
import threading

import sys

import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

N_THREADS = 8
ROUNDS = 6


def _run_threads(target, n=N_THREADS):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # collected and re-raised in the main thread
            errors.append((i, e))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        i, e = errors[0]
        raise AssertionError(f"{len(errors)} of {n} threads failed; thread {i}: {e!r}") from e


@pytest.fixture
def fast_switching():
    """Switch threads every few microseconds so that traces in different threads interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


# compiled once in the main thread; workers call it concurrently while others trace
_shared = xf.jit(lambda x, y: xnp.sin(x) * y + 1.0)


def test_threads_trace_differentiate_batch_jit_concurrently(fast_switching):
    x0 = np.linspace(-1.0, 1.0, 5).astype(np.float32)
    _shared(xnp.asarray(x0), xnp.asarray(x0))  # compile before the threads start
    barrier = threading.Barrier(N_THREADS)

    def worker(i):
        rng = np.random.default_rng(i)
        for r in range(ROUNDS):
            c = np.float32(i + 1 + r / 10)           # per-thread captured value
            x = rng.uniform(-1.0, 1.0, 5).astype(np.float32)
            barrier.wait()
            kind = (i + r) % 4
            if kind == 0:     # a fresh closure, jitted: traced and compiled in this thread
                f = xf.jit(lambda v, c=c: xnp.tanh(v * c) + c)
                np.testing.assert_allclose(np.asarray(f(x)), np.tanh(x * c) + c, rtol=1e-5, atol=1e-6)
            elif kind == 1:   # grad, jvp, vjp of a fresh closure
                g = xf.grad(lambda v: xnp.sum(xnp.sin(v * c) ** 2))(x)
                np.testing.assert_allclose(np.asarray(g), 2 * np.sin(c * x) * np.cos(c * x) * c,
                                           rtol=1e-4, atol=1e-5)
                p, t = xf.jvp(lambda v: xnp.exp(v) * c, (x,), (np.ones_like(x),))
                np.testing.assert_allclose(np.asarray(p), np.exp(x) * c, rtol=1e-5)
                np.testing.assert_allclose(np.asarray(t), np.exp(x) * c, rtol=1e-5)
                out, pull = xf.vjp(lambda v: v * v * c, x)
                ct, = pull(np.full_like(x, 2.0))
                np.testing.assert_allclose(np.asarray(out), x * x * c, rtol=1e-5)
                np.testing.assert_allclose(np.asarray(ct), 4 * x * c, rtol=1e-5)
            elif kind == 2:   # vmap of a jitted closure, and grad under jit
                m = np.stack([x, x * 2, x * 3])
                v = xf.vmap(xf.jit(lambda row: xnp.dot(row, row) + c))(m)
                np.testing.assert_allclose(np.asarray(v), (m * m).sum(1) + c, rtol=1e-5)
                h = xf.jit(xf.grad(lambda s: s ** 3 * c))(np.float32(x[0]))
                np.testing.assert_allclose(float(h), 3 * x[0] ** 2 * c, rtol=1e-5)
            else:             # already compiled function and eager ops
                y = np.asarray(_shared(xnp.asarray(x), xnp.asarray(x)))
                np.testing.assert_allclose(y, np.sin(x) * x + 1.0, rtol=1e-5, atol=1e-6)
                e = xnp.cos(xnp.asarray(x)) + c
                np.testing.assert_allclose(np.asarray(e), np.cos(x) + c, rtol=1e-5)

    _run_threads(worker)


def test_trace_in_one_thread_does_not_leak_into_another():
    """Thread A holds inside a jit trace while thread B runs eager ops, a jitted function and
    a grad: B sees concrete Arrays (no tracer from A), and A's trace stays intact."""
    inside = threading.Event()
    b_done = threading.Event()
    results = {}

    def body(v):
        inside.set()
        assert b_done.wait(60)
        return v * 2.0 + 1.0

    def thread_a(_):
        f = xf.jit(body)
        results["a"] = np.asarray(f(np.arange(3, dtype=np.float32)))
        results["a_traced"] = xf.make_jaxpr(lambda v: v + 1.0)(1.0)

    def thread_b(_):
        assert inside.wait(60)
        try:
            x = xnp.arange(4.0)
            y = xnp.exp(x)                         # eager: must be a concrete Array
            results["b_eager"] = np.asarray(y)      # fails on a tracer
            results["b_float"] = float(y[1])
            results["b_jit"] = np.asarray(xf.jit(lambda v: v * 3.0)(x))
            results["b_grad"] = float(xf.grad(lambda s: s * s)(3.0))
        finally:
            b_done.set()

    errors = []

    def wrap(fn):
        def run():
            try:
                fn(None)
            except BaseException as e:
                errors.append(e)
                inside.set()
                b_done.set()
        return run

    ta, tb = threading.Thread(target=wrap(thread_a)), threading.Thread(target=wrap(thread_b))
    ta.start(); tb.start(); ta.join(120); tb.join(120)
    assert not errors, errors
    np.testing.assert_allclose(results["b_eager"], np.exp(np.arange(4.0, dtype=np.float32)), rtol=1e-6)
    np.testing.assert_allclose(results["b_float"], np.exp(1.0), rtol=1e-6)
    np.testing.assert_allclose(results["b_jit"], np.arange(4.0) * 3.0)
    assert results["b_grad"] == 6.0
    np.testing.assert_allclose(results["a"], np.arange(3.0) * 2.0 + 1.0)
    assert "add" in str(results["a_traced"])


def test_context_managers_are_per_thread():
    """disable_jit, default_device, default_matmul_precision and named_scope entered in one
    thread do not change another thread (as JAX: they are thread-local; config.update is global)."""
    from xlafront.api import current_default_device, current_default_matmul_precision, current_name_stack

    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def a():
        with xf.disable_jit(), xf.default_device("cpu"), xf.default_matmul_precision("highest"), \
                xf.named_scope("outer"):
            seen["a_disable_jit"] = xf.config.read("jax_disable_jit")
            seen["a_stack"] = current_name_stack()
            entered.set()
            checked.wait(60)
            f = xf.jit(lambda v: v + 1)
            f(1.0)
            seen["a_trace_count"] = f.trace_count

    def b():
        entered.wait(60)
        seen["b_disable_jit"] = xf.config.read("jax_disable_jit")
        seen["b_device"] = current_default_device()
        seen["b_precision"] = current_default_matmul_precision()
        seen["b_stack"] = current_name_stack()
        f = xf.jit(lambda v: v + 1)
        f(1.0)
        seen["b_trace_count"] = f.trace_count
        checked.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start(); tb.start(); ta.join(60); tb.join(60)
    assert seen["a_disable_jit"] is True and seen["a_stack"] == "outer"
    assert seen["a_trace_count"] == 0       # under disable_jit nothing is traced
    assert seen["b_disable_jit"] is False
    assert seen["b_device"] is None and seen["b_precision"] is None and seen["b_stack"] == ""
    assert seen["b_trace_count"] == 1
    assert xf.config.disable_jit is False


def test_config_update_is_global_across_threads():
    seen = {}
    xf.config.update("jax_disable_jit", True)
    try:
        t = threading.Thread(target=lambda: seen.setdefault("v", xf.config.disable_jit))
        t.start(); t.join(30)
    finally:
        xf.config.update("jax_disable_jit", False)
    assert seen["v"] is True
    assert xf.config.disable_jit is False


def test_same_signature_compiled_concurrently(fast_switching):
    """Many threads hit the same jitted function's first call at once: each may compile, none
    may get a wrong or half-built entry, and afterwards the cache serves all of them."""
    f = xf.jit(lambda v, w: v @ w + 1.0)
    barrier = threading.Barrier(N_THREADS)
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.ones((4, 2), np.float32)

    def worker(i):
        xa, xb = xnp.asarray(a * (i + 1)), xnp.asarray(b)
        barrier.wait()
        for _ in range(20):
            np.testing.assert_allclose(np.asarray(f(xa, xb)), (a * (i + 1)) @ b + 1.0)
            np.testing.assert_allclose(np.asarray(f(a * (i + 1), b)), (a * (i + 1)) @ b + 1.0)

    _run_threads(worker)
    assert 1 <= f.trace_count <= N_THREADS


def test_clear_caches_while_other_threads_jit_and_run(fast_switching):
    """clear_caches in one thread while others make, call and re-call jitted functions and
    eager ops: every result stays right (a cleared entry is just compiled again)."""
    stop = threading.Event()
    n_workers = 4
    barrier = threading.Barrier(n_workers + 1)

    def clearer():
        barrier.wait()
        while not stop.is_set():
            xf.clear_caches()
            stop.wait(0.005)

    def worker(i):
        x = np.arange(4, dtype=np.float32) + i
        barrier.wait()
        for r in range(4):
            f = xf.jit(lambda v, k=r: v * (k + 1) - i)
            np.testing.assert_allclose(np.asarray(f(x)), x * (r + 1) - i)
            np.testing.assert_allclose(np.asarray(f(xnp.asarray(x))), x * (r + 1) - i)
            np.testing.assert_allclose(np.asarray(xnp.exp(xnp.asarray(x) * 0.1)), np.exp(x * 0.1), rtol=1e-6)

    t = threading.Thread(target=clearer)
    t.start()
    try:
        _run_threads(worker, n_workers)
    finally:
        stop.set()
        t.join(30)
