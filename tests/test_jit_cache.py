"""jit caches belong to the function (and the jit options), as JAX's: `jit(f)(x)` written
anew on every call traces and compiles once; a function that dies frees its programs."""
import functools
import gc
import threading
import weakref

import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import api, dispatch


def _counting():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0 + 1.0
    return f, calls


def test_inline_jit_traces_once():
    f, calls = _counting()
    x = xnp.arange(4.0)
    outs = [xf.jit(f)(x) for _ in range(5)]
    assert len(calls) == 1
    for o in outs:
        np.testing.assert_array_equal(np.asarray(o), np.arange(4.0) * 2 + 1)
    assert xf.jit(f).trace_count == 1
    assert xf.jit(f)._cache is xf.jit(f)._cache


def test_inline_jit_no_compile_on_hit():
    f, _ = _counting()
    x = xnp.ones(3)
    xf.jit(f)(x)
    n = dispatch.compile_count
    for _ in range(3):
        xf.jit(f)(x)
    assert dispatch.compile_count == n


def test_different_options_different_entries():
    calls = []

    def f(x, k=1):
        calls.append(k)
        return x * k
    x = xnp.ones(3)
    xf.jit(f)(x)
    xf.jit(f, static_argnames="k")(x, k=3)
    xf.jit(f, static_argnums=1)(x, 3)
    xf.jit(f, name="other")(x)
    assert len(calls) == 4
    assert xf.jit(f)._state is not xf.jit(f, name="other")._state
    assert xf.jit(f, name="other").__name__ == "other" and xf.jit(f).__name__ == "f"
    xf.jit(f, static_argnames="k")(x, k=3)    # the same options again: a hit
    assert len(calls) == 4
    # the same options spelled as a list hit the same entry
    assert xf.jit(f, static_argnums=[1])._state is xf.jit(f, static_argnums=(1,))._state


def test_bad_static_argnums_still_raise_each_time():
    def f(x):
        return x
    for _ in range(2):
        with pytest.raises(ValueError):
            xf.jit(f, static_argnums=3)
    np.testing.assert_array_equal(np.asarray(xf.jit(f)(xnp.ones(2))), np.ones(2))


def test_dead_function_frees_its_cache():
    def make():
        def g(x):
            return x + 1.0
        return g
    g = make()
    xf.jit(g)(xnp.ones(2))
    ref, st = weakref.ref(g), weakref.ref(xf.jit(g)._state)
    key = id(g)
    assert api._fun_states[key][0]() is g
    del g
    gc.collect()
    assert ref() is None and st() is None      # the state (its traced and compiled signatures) is gone
    # its entry is gone (not counted globally: other tests' functions may die in this gc too)
    rec = api._fun_states.get(key)
    assert rec is None or rec[0]() is not None


def test_live_wrapper_keeps_its_cache_after_function_name_is_gone():
    def g(x):
        return x - 1.0
    jg = xf.jit(g)
    jg(xnp.ones(2))
    del g
    gc.collect()
    assert jg.trace_count == 1
    np.testing.assert_array_equal(np.asarray(jg(xnp.ones(2))), np.zeros(2))
    assert jg.trace_count == 1


def test_clear_caches_clears_function_caches():
    f, calls = _counting()
    x = xnp.ones(3)
    xf.jit(f)(x)
    xf.clear_caches()
    assert len(xf.jit(f)._cache) == 0
    xf.jit(f)(x)
    assert len(calls) == 2


def test_new_lambda_each_call_compiles_once():
    x = xnp.arange(3.0)
    xf.jit(lambda v: v * 7.0 - 1.0)(x)
    n = dispatch.compile_count
    for _ in range(3):
        out = xf.jit(lambda v: v * 7.0 - 1.0)(x)
    assert dispatch.compile_count == n
    np.testing.assert_array_equal(np.asarray(out), np.arange(3.0) * 7 - 1)
    # another constant: another program (the structure includes literals)
    out = xf.jit(lambda v: v * 5.0 - 1.0)(x)
    assert dispatch.compile_count == n + 1
    np.testing.assert_array_equal(np.asarray(out), np.arange(3.0) * 5 - 1)


def test_new_closure_over_array_each_call_is_right():
    x = xnp.arange(3.0)
    for k in range(3):
        c = xnp.full((3,), float(k))
        out = xf.jit(lambda v: v + c)(x)      # a captured array: a const, not cached by structure
        np.testing.assert_array_equal(np.asarray(out), np.arange(3.0) + k)


def test_bound_methods_share_per_object():
    class M:
        def __init__(self, k):
            self.k = k
            self.calls = 0

        def f(self, x):
            self.calls += 1
            return x * self.k
    a, b = M(2.0), M(3.0)
    x = xnp.ones(2)
    for _ in range(3):
        ra, rb = xf.jit(a.f)(x), xf.jit(b.f)(x)
    np.testing.assert_array_equal(np.asarray(ra), [2.0, 2.0])
    np.testing.assert_array_equal(np.asarray(rb), [3.0, 3.0])
    assert a.calls == 1 and b.calls == 1
    ref = weakref.ref(a)
    del a
    gc.collect()
    assert ref() is None


def test_partial_and_unweakrefable_callables():
    def f(x, k):
        return x * k
    x = xnp.ones(2)
    p = functools.partial(f, k=4.0)
    assert xf.jit(p)._state is xf.jit(p)._state
    np.testing.assert_array_equal(np.asarray(xf.jit(p)(x)), [4.0, 4.0])
    # a fresh partial is a new function (as JAX): right values
    np.testing.assert_array_equal(np.asarray(xf.jit(functools.partial(f, k=5.0))(x)), [5.0, 5.0])

    class Slotted:   # no __weakref__: each wrapper keeps its own cache
        __slots__ = ()

        def __call__(self, x):
            return x + 1.0
    s = Slotted()
    j1, j2 = xf.jit(s), xf.jit(s)
    assert j1._state is not j2._state
    np.testing.assert_array_equal(np.asarray(j1(x)), [2.0, 2.0])
    np.testing.assert_array_equal(np.asarray(j2(x)), [2.0, 2.0])


def test_inline_jit_from_threads():
    f, calls = _counting()
    x = xnp.arange(5.0)
    errors, outs = [], []

    def work():
        try:
            for _ in range(20):
                outs.append(np.asarray(xf.jit(f)(x)))
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert len(outs) == 80 and all(np.array_equal(o, np.arange(5.0) * 2 + 1) for o in outs)
    assert 1 <= len(calls) <= 4     # threads missing at once may each trace, then all hit
    assert len({id(xf.jit(f)._state) for _ in range(3)}) == 1
