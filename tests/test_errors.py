"""Bad input (issue 2): each error is of JAX's class, names the user's line and the values
involved, and leaves no cache or trace context corrupted -- the next good call works."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core, dispatch

HERE = "test_errors.py"


def raises_like_jax(ours_fn, jax_fn, ours_cls, jax_cls, *patterns):
    """Both raise (JAX's class / ours); our message names this file's line and each pattern."""
    with pytest.raises(jax_cls):
        jax_fn()
    with pytest.raises(ours_cls) as info:
        ours_fn()
    msg = str(info.value)
    assert re.search(HERE + r":\d+", msg), msg
    for p in patterns:
        assert re.search(p, msg), (p, msg)
    assert core.current_trace() is core.eval_trace   # no trace left behind
    return info.value


def test_python_if_on_traced_value():
    def f(m):
        def g(x):
            if x.sum() > 0:
                return x
            return -x
        return g

    ours, ref = xf.jit(f(xnp)), jax.jit(f(jnp))
    x = np.arange(3.0, dtype=np.float32)
    err = raises_like_jax(lambda: ours(x), lambda: ref(x), xf.errors.TracerBoolConversionError,
                          jax.errors.TracerBoolConversionError, "static_argnums", r"lax\.cond", r"bool\[\]")
    assert isinstance(err, xf.errors.ConcretizationTypeError) and isinstance(err, TypeError)
    # the fix the message suggests works, and the failed signature was not cached
    assert ours._cache_size() == 0
    ok = xf.jit(lambda x, flag: x if flag else -x, static_argnums=1)
    np.testing.assert_array_equal(np.asarray(ok(x, True)), x)
    np.testing.assert_array_equal(np.asarray(xf.jit(lambda x: xnp.where(x.sum() > 0, x, -x))(x)), x)
    # while loops and int() too
    with pytest.raises(xf.errors.ConcretizationTypeError):
        xf.jit(lambda x: x * int(x[0]))(x)
    with pytest.raises(xf.errors.TracerArrayConversionError):
        xf.jit(lambda x: np.sin(np.asarray(x)))(x)


def test_leaked_tracer_is_caught_when_used():
    def leak(m, store):
        def g(x):
            store.append(x * 2)
            return x
        return g

    x = np.ones(3, np.float32)
    ours, ref = [], []
    xf.jit(leak(xnp, ours))(x)
    jax.jit(leak(jnp, ref))(x)
    leaked = ours[0]
    with pytest.raises(jax.errors.UnexpectedTracerError):
        ref[0] + 1
    for how in [lambda: leaked + 1, lambda: xnp.sin(leaked), lambda: xf.jit(lambda y: y * 2)(leaked),
                lambda: xf.jit(lambda y: y * leaked)(x)]:
        with pytest.raises(xf.errors.UnexpectedTracerError) as info:
            how()
        assert isinstance(info.value, TypeError)      # a JAXTypeError, as in JAX
        assert re.search(HERE + r":\d+", str(info.value)), str(info.value)
        assert core.current_trace() is core.eval_trace
    np.testing.assert_array_equal(np.asarray(xf.jit(lambda y: y * 2)(x)), x * 2)
    # the jit hot path (signature already seen with Arrays) still catches it, at every arity
    xs = xnp.asarray(x)
    for f, args in [(xf.jit(lambda a, b: a + b), (xs, xs)), (xf.jit(lambda a, b, c: a + b + c), (xs, xs, xs))]:
        f(*args)
        bad = (leaked,) + args[1:]
        with pytest.raises(xf.errors.UnexpectedTracerError):
            f(*bad)
        np.testing.assert_array_equal(np.asarray(f(*args)), x * len(args))


def test_unhashable_static_argument():
    f = lambda x, n: x * len(n)
    ours, ref = xf.jit(f, static_argnums=1), jax.jit(f, static_argnums=1)
    x = np.ones(2, np.float32)
    with pytest.raises(ValueError, match="Non-hashable static"):
        ref(x, [1, 2])
    with pytest.raises(TypeError, match="Non-hashable static") as info:   # a ValueError too, as in JAX
        ours(x, [1, 2])
    assert isinstance(info.value, ValueError) and "list" in str(info.value)
    assert re.search(HERE + r":\d+", str(info.value))
    np.testing.assert_array_equal(np.asarray(ours(x, (1, 2))), x * 2)
    assert ours._cache_size() == 1 and ours.trace_count == 1


def test_bad_static_argnums_and_argnames():
    def f(x, n):
        return x

    with pytest.raises(ValueError, match="static_argnums"):
        jax.jit(f, static_argnums=5)
    with pytest.raises(ValueError, match="static_argnums"):
        xf.jit(f, static_argnums=5)
    with pytest.raises(ValueError, match="static_argnums"):
        xf.jit(f, static_argnums=-3)
    with pytest.raises(ValueError, match="argnames"):
        jax.jit(f, static_argnames="m")
    with pytest.raises(ValueError, match="argnames"):
        xf.jit(f, static_argnames="m")
    assert np.asarray(xf.jit(lambda *a: a[0], static_argnums=3)(1.0, 2.0)) == 1.0   # *args: unchecked


def test_non_array_arguments():
    f = lambda x, s: x
    ours, ref = xf.jit(f), jax.jit(f)
    x = np.ones(2, np.float32)
    for bad in ["abc", object(), {"w": "abc"}]:
        with pytest.raises(TypeError):
            ref(x, bad)
        with pytest.raises(TypeError, match="abstract array") as info:
            ours(x, bad)
        msg = str(info.value)
        assert re.search(HERE + r":\d+", msg) and type(bad if not isinstance(bad, dict) else "").__name__ in msg
        assert re.search(r"path s", msg), msg
    with pytest.raises(TypeError, match=r"path s\['w'\]"):
        ours(x, s={"w": "abc"})
    np.testing.assert_array_equal(np.asarray(ours(x, 1.0)), x)


@pytest.mark.parametrize("bad", [object, np.dtype("U3"), "datetime64[s]"])
def test_unsupported_dtype(bad):
    with pytest.raises(TypeError):
        jnp.zeros(3, dtype=bad)
    with pytest.raises(TypeError) as info:
        xnp.zeros(3, dtype=bad)
    assert "dtype" in str(info.value)
    with pytest.raises(TypeError):
        xnp.asarray(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        xf.jit(lambda x: x)(np.array(["a", "b"]))
    assert xnp.zeros(3, dtype=np.float32).dtype == np.float32


def test_shape_mismatch_names_both_shapes_and_the_line():
    a, b = np.ones(3, np.float32), np.ones(4, np.float32)
    raises_like_jax(lambda: xnp.asarray(a) + xnp.asarray(b), lambda: jnp.asarray(a) + jnp.asarray(b),
                    TypeError, (TypeError, ValueError), r"\(3,\)", r"\(4,\)")
    raises_like_jax(lambda: xf.jit(lambda u, v: u * v)(a, b), lambda: jax.jit(lambda u, v: u * v)(a, b),
                    TypeError, (TypeError, ValueError), r"\(3,\)", r"\(4,\)")
    m, n = np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)
    raises_like_jax(lambda: xnp.asarray(m) @ xnp.asarray(n), lambda: jnp.asarray(m) @ jnp.asarray(n),
                    TypeError, TypeError, r"\(2, 3\)", r"\(4, 2\)")
    np.testing.assert_array_equal(np.asarray(xnp.asarray(a) + xnp.asarray(a)), a * 2)


def test_reshape_to_incompatible_size():
    x = np.ones(6, np.float32)
    raises_like_jax(lambda: xnp.asarray(x).reshape(4, 2), lambda: jnp.asarray(x).reshape(4, 2),
                    TypeError, TypeError, r"\(6,\)", r"\(4, 2\)")
    raises_like_jax(lambda: xf.jit(lambda v: v.reshape(4, 2))(x), lambda: jax.jit(lambda v: v.reshape(4, 2))(x),
                    TypeError, TypeError, r"\(6,\)", r"\(4, 2\)")
    assert xnp.asarray(x).reshape(3, 2).shape == (3, 2)


def test_float_and_out_of_range_static_index():
    x = np.arange(3.0, dtype=np.float32)
    with pytest.raises(TypeError):
        jnp.asarray(x)[1.5]
    with pytest.raises(TypeError):
        xnp.asarray(x)[1.5]
    with pytest.raises(IndexError):
        jnp.asarray(x)[(0, 1)]
    # an out-of-range static int clamps into the axis, as JAX does
    assert float(xnp.asarray(x)[5]) == float(jnp.asarray(x)[5]) == 2.0
    assert float(xf.jit(lambda v: v[-5])(x)) == float(jax.jit(lambda v: v[-5])(x)) == 0.0
    assert float(xnp.asarray(x)[2]) == 2.0


def test_errors_do_not_corrupt_caches():
    calls = []

    def f(x, fail):
        calls.append(fail)
        if fail:
            raise RuntimeError("user error while tracing")
        return xnp.cos(x)

    jf = xf.jit(f, static_argnums=1)
    x = xnp.asarray(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="user error"):
        jf(x, True)
    assert core.current_trace() is core.eval_trace
    np.testing.assert_array_equal(np.asarray(jf(x, False)), np.ones(3))
    n = dispatch.compile_count
    for _ in range(3):
        jf(x, False)
    with pytest.raises(RuntimeError):
        jf(x, True)                    # a failed signature is retried (not cached as a failure)
    assert calls == [True, False, True] and dispatch.compile_count == n
    assert jf._cache_size() == 1
    # an eager error leaves the eager cache usable
    with pytest.raises(TypeError):
        xnp.cos(x) + xnp.ones(4)
    np.testing.assert_allclose(np.asarray(xnp.cos(x)), np.ones(3))
