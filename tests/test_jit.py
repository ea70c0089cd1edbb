"""jit semantics against JAX: decorator forms, statics, pytrees in and out, one trace and
one compile per signature, numpy/scalar arguments, nested jit, unrolled loops, lower/compile,
and the eager cache."""
import collections
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import dispatch

Point = collections.namedtuple("Point", ["x", "y"])


def check(ours, ref, rtol=1e-6):
    """Same tree, and per leaf the same value, shape, dtype and weak_type as JAX."""
    o_leaves, o_tree = xf.tree_util.tree_flatten(ours)
    r_leaves, r_tree = jax.tree_util.tree_flatten(ref)
    r_leaves = [jnp.asarray(r) for r in r_leaves]
    assert str(o_tree) == str(r_tree), (o_tree, r_tree)
    assert len(o_leaves) == len(r_leaves)
    for o, r in zip(o_leaves, r_leaves):
        assert isinstance(o, xf.Array), type(o)
        assert o.shape == r.shape and o.dtype == r.dtype, (o.shape, o.dtype, r.shape, r.dtype)
        assert o.weak_type == r.weak_type, (o, r)
        np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=rtol)


def both(f_of_np):
    """f written against a numpy-like module, as (xlafront version, JAX version)."""
    return f_of_np(xnp), f_of_np(jnp)


# ----------------------------------------------------------------------------- decorator forms
def test_decorator_forms_and_wrapping():
    @xf.jit
    def f(x, y):
        """doc of f"""
        return x * y + 1.0

    @functools.partial(xf.jit, static_argnums=1)
    def g(x, n):
        return x ** n

    h = xf.jit(static_argnames="n")(lambda x, n: x * n)   # jit(**options) returns a decorator
    x = np.arange(3.0, dtype=np.float32)
    check(f(x, 2.0), jax.jit(lambda x, y: x * y + 1.0)(x, 2.0))
    check(g(x, 3), jax.jit(lambda x, n: x ** n, static_argnums=1)(x, 3))
    check(h(x, n=4), x * jnp.float32(4))
    assert f.__name__ == "f" and f.__doc__ == "doc of f" and f.__wrapped__ is not None
    with pytest.raises(TypeError, match="callable"):
        xf.jit(3)


def test_method_decoration():
    class Model:
        def __init__(self, scale):
            self.scale = scale

        @functools.partial(xf.jit, static_argnums=0)
        def apply(self, x):
            return x * self.scale

        def __hash__(self):
            return hash(self.scale)

        def __eq__(self, other):
            return isinstance(other, Model) and other.scale == self.scale

    x = xnp.arange(3.0)
    np.testing.assert_allclose(np.asarray(Model(2.0).apply(x)), [0, 2, 4])
    np.testing.assert_allclose(np.asarray(Model(3.0).apply(x)), [0, 3, 6])


# ----------------------------------------------------------------------------- statics
def test_static_argnums_positive_negative_and_names():
    def f(x, n, *, scale=1.0):
        out = x
        for _ in range(n):          # a Python loop over a static value
            out = out * 2.0
        return out * scale

    x = np.ones(3, np.float32)
    for kw in [dict(static_argnums=1), dict(static_argnums=(-1,)), dict(static_argnames="n"),
               dict(static_argnames=("n",))]:
        ours, ref = xf.jit(f, **kw), jax.jit(f, **kw)
        check(ours(x, 3), ref(x, 3))
        check(ours(x, 2, scale=0.5), ref(x, 2, scale=0.5))
        check(ours(x, n=4), ref(x, n=4)) if "static_argnames" in kw else None
        assert ours.trace_count == (3 if "static_argnames" in kw else 2)
        ours(x, 3)
        assert ours.trace_count == (3 if "static_argnames" in kw else 2)  # same static: no retrace


def test_static_values_key_the_cache():
    calls = []

    def f(x, mode):
        calls.append(mode)
        return x + 1.0 if mode == "add" else x * 3.0

    jf = xf.jit(f, static_argnums=1)
    x = xnp.ones(2)
    assert np.asarray(jf(x, "add")).tolist() == [2, 2]
    assert np.asarray(jf(x, "mul")).tolist() == [3, 3]
    assert np.asarray(jf(x, "add")).tolist() == [2, 2]
    assert calls == ["add", "mul"] and jf.trace_count == 2
    # equal-but-not-identical static values hit the cache; 1 and 1.0 are distinct (as in JAX)
    jf(x, "ad" + "d")
    assert jf.trace_count == 2


def test_repeat_calls_with_statics_keywords_and_scalars():
    # these take the flat-signature tier of the call cache: same answers as the general path
    def f(x, n, y=1.0, *, z=0):
        return x * n + y - z

    jf, jj = xf.jit(f, static_argnums=1), jax.jit(f, static_argnums=1)
    x = xnp.arange(3.0)
    jx = jnp.arange(3.0)
    for _ in range(2):
        check(jf(x, 2), jj(jx, 2))
        check(jf(x, 2.0), jj(jx, 2.0))            # 2 and 2.0 are different statics
        check(jf(x, True), jj(jx, True))
        check(jf(x, 2, 3.0), jj(jx, 2, 3.0))      # a Python scalar argument
        check(jf(x, 2, y=x, z=1), jj(jx, 2, y=jx, z=1))
        check(jf(x, 2, z=1, y=x), jj(jx, 2, z=1, y=jx))   # keywords in another order
        check(jf(x, 2, z=x, y=2), jj(jx, 2, z=jx, y=2))
        check(jf(x, n=3), jj(jx, n=3))
    assert jf.trace_count == 7      # keyword order is not part of the signature
    # a static's value, a scalar's type and an array's dtype each select another trace
    check(jf(x, 2, 3), jj(jx, 2, 3))
    check(jf(x.astype(xnp.int32), 2, 3), jj(jx.astype(jnp.int32), 2, 3))
    assert jf.trace_count == 9


def test_static_argnames_implied_by_position_and_vice_versa():
    def f(x, k):
        return x * k

    jf = xf.jit(f, static_argnums=1)
    x = xnp.ones(2)
    check(jf(x, k=3), jax.jit(f, static_argnums=1)(jnp.ones(2), k=3))
    jg = xf.jit(f, static_argnames="k")
    check(jg(x, 3), jax.jit(f, static_argnames="k")(jnp.ones(2), 3))


def test_donate_argnums_accepted():
    jf = xf.jit(lambda x, y: x + y, donate_argnums=0)
    jg = xf.jit(lambda x, y: x + y, donate_argnames="y")
    x = xnp.arange(4.0)
    check(jf(x, 1.0), jnp.arange(4.0) + 1.0)
    check(jg(x, y=x), jnp.arange(4.0) * 2)


# ----------------------------------------------------------------------------- pytrees
@pytest.mark.parametrize("case", ["tuple", "list", "dict", "none", "namedtuple", "nested"])
def test_pytrees_in_and_out(case):
    a, b = np.arange(3, dtype=np.float32), np.float32(2.5)
    make = {
        "tuple": lambda m: (m.asarray(a), m.asarray(b)),
        "list": lambda m: [m.asarray(a), m.asarray(b)],
        "dict": lambda m: {"w": m.asarray(a), "b": m.asarray(b)},
        "none": lambda m: (m.asarray(a), None),
        "namedtuple": lambda m: Point(m.asarray(a), m.asarray(b)),
        "nested": lambda m: {"p": Point(m.asarray(a), [m.asarray(b), None]), "t": (m.asarray(a),)},
    }[case]

    def f(tree):
        leaves, treedef = jax.tree_util.tree_flatten(tree) if isinstance(
            jax.tree_util.tree_leaves(tree)[0], jax.Array) else xf.tree_util.tree_flatten(tree)
        return treedef.unflatten([l * 2.0 + 1 for l in leaves])

    ours = xf.jit(f)(make(xnp))
    ref = jax.jit(f)(make(jnp))
    check(ours, ref)
    assert type(ours) is type(ref)


def test_output_structures_and_python_values():
    x = np.arange(3.0, dtype=np.float32)

    def f(m):
        return lambda x: {"a": (x, x * 2), "b": [None, 1.0], "c": Point(x.sum(), 2)}

    check(xf.jit(f(xnp))(x), jax.jit(f(jnp))(x))
    check(xf.jit(lambda: 1.0)(), jax.jit(lambda: 1.0)())
    assert xf.jit(lambda x: None)(x) is None
    out = xf.jit(lambda x: (x, x))(xnp.asarray(x))       # the same value twice
    check(out, (jnp.asarray(x), jnp.asarray(x)))
    check(xf.jit(lambda x: x)(x), jax.jit(lambda x: x)(x))   # an input passed through


def test_keyword_and_default_arguments():
    def f(x, y=2.0, *, z=3.0):
        return x * y + z

    x = np.ones(2, np.float32)
    jf, jj = xf.jit(f), jax.jit(f)
    check(jf(x), jj(x))
    check(jf(x, z=1.0), jj(x, z=1.0))
    check(jf(x, y=x), jj(x, y=x))
    check(jf(y=x, x=x), jj(y=x, x=x))


# ----------------------------------------------------------------------------- signatures
def test_one_trace_per_signature():
    jf = xf.jit(lambda x, y: x * y)
    f32 = xnp.ones(3, xnp.float32)
    jf(f32, f32)
    jf(f32, f32)
    jf(xnp.zeros(3, xnp.float32), xnp.ones(3, xnp.float32))   # other values, same signature
    assert jf.trace_count == 1 and jf._cache_size() == 1
    jf(xnp.ones(4, xnp.float32), xnp.ones(4, xnp.float32))    # new shape
    assert jf.trace_count == 2
    jf(xnp.ones(3, xnp.int32), xnp.ones(3, xnp.int32))         # new dtype
    assert jf.trace_count == 3
    jf(f32, 2.0)                                               # weak-typed Python scalar
    jf(f32, xnp.float32(2.0))                                  # strong f32[] (a new signature)
    assert jf.trace_count == 5
    jf(f32, 3.0)
    jf(f32, np.float32(3.0))                                   # numpy scalar = strong f32[]
    jf(f32, np.ones(3, np.float32))                            # numpy array = f32[3], seen
    assert jf.trace_count == 5
    # a new tree structure
    jg = xf.jit(lambda t: t[0])
    jg((f32, f32))
    jg([f32, f32])
    jg((f32, f32, f32))
    jg((f32, f32))
    assert jg.trace_count == 3


def test_hot_path_every_arity():
    arrays = [xnp.asarray(np.full(2, i + 1, np.float32)) for i in range(5)]
    for n in range(6):
        jf = xf.jit(lambda *a: sum(a, xnp.zeros(2)) * 1.0)
        for _ in range(3):
            out = jf(*arrays[:n])
            np.testing.assert_array_equal(np.asarray(out), np.full(2, n * (n + 1) / 2))
        assert jf.trace_count == 1
        if n:
            jf(*arrays[:n - 1], xnp.ones(2, xnp.int32))   # one argument of a new dtype: a new trace
            assert jf.trace_count == 2


def test_no_recompile_on_cache_hit():
    jf = xf.jit(lambda x: xnp.sin(x) * 2.0)
    x = xnp.linspace(0.0, 1.0, 5)
    jf(x)
    n = dispatch.compile_count
    for _ in range(5):
        jf(x)
    jf(np.asarray(x))
    assert dispatch.compile_count == n and jf.trace_count == 1


def test_weak_types_and_scalar_arguments_match_jax():
    f = lambda x: x * 2
    for a in [3.0, 3, True, np.float32(3), np.array(3.0), np.ones(2, np.float64), np.int16(2),
              np.arange(3, dtype=np.uint8)]:
        check(xf.jit(f)(a), jax.jit(f)(a))
    check(xf.jit(lambda x, y: x + y)(xnp.ones(2, xnp.int8), 3), jnp.ones(2, jnp.int8) + 3)


def test_x64_flip_is_a_new_signature():
    jf = xf.jit(lambda x: x + xnp.array(1.5))
    x = xnp.ones(2)
    assert jf(x).dtype == np.float32
    xf.config.update("jax_enable_x64", True)
    try:
        y = xnp.ones(2, dtype=xnp.float64)
        assert jf(x).dtype == np.float32 and jf(y).dtype == np.float64
        assert jf.trace_count == 3
    finally:
        xf.config.update("jax_enable_x64", False)
    assert jf(x).dtype == np.float32 and jf.trace_count == 3


def test_closed_over_arrays_become_constants():
    big = np.arange(1000, dtype=np.float32)          # passed as an argument, not inlined
    small = xnp.arange(3.0)
    jf = xf.jit(lambda x: x + big[:3] + small)
    check(jf(xnp.ones(3)), jnp.ones(3) + jnp.arange(3.0) * 2)
    jb = xf.jit(lambda x: x * big)
    check(jb(2.0), 2.0 * jnp.asarray(big))
    check(jb(3.0), 3.0 * jnp.asarray(big))


# ----------------------------------------------------------------------------- tracing
def test_nested_jit():
    inner = xf.jit(lambda x, y: x * y + 1.0)

    @xf.jit
    def outer(x):
        return inner(x, 2.0) + inner(x, x)

    x = np.arange(4, dtype=np.float32)
    ref = jax.jit(lambda x: (x * 2.0 + 1.0) + (x * x + 1.0))(x)
    check(outer(x), ref)
    check(outer(x), ref)
    assert outer.trace_count == 1
    assert inner.trace_count == 2    # (f32[4], weak f32[]) and (f32[4], f32[4]); both inside outer
    text = str(xf.make_jaxpr(outer)(x))
    assert text.count("jit[") + text.count("jit ") >= 2, text
    check(inner(x, x), x * x + 1.0)  # and eagerly, at the top level


def test_python_loops_are_unrolled():
    def f(x):
        for i in range(10):
            x = x * 1.01 + i
        return x

    g = xf.make_jaxpr(f)(np.float32(1.0))
    assert len(g.eqns) == 20
    check(xf.jit(f)(np.ones(3, np.float32)), jax.jit(f)(np.ones(3, np.float32)), rtol=1e-5)


def test_array_of_traced_scalars():
    def f(m):
        return lambda x, y: m.array([x, y, x * y, 1.0])

    check(xf.jit(f(xnp))(np.float32(2.0), np.float32(3.0)), jax.jit(f(jnp))(np.float32(2.0), np.float32(3.0)))

    def g(m):
        return lambda v: m.stack([v[0] * 2, v[1]]) + m.array([v.sum(), v[2]])

    v = np.arange(3, dtype=np.float32)
    check(xf.jit(g(xnp))(v), jax.jit(g(jnp))(v))


def test_lower_as_text_and_compile():
    def f(x, y):
        return xnp.sin(x) * y

    jf = xf.jit(f)
    x = np.linspace(0, 1, 4, dtype=np.float32)
    lowered = jf.lower(x, 2.0)
    text = lowered.as_text()
    assert "func.func public @main" in text and "stablehlo.sine" in text
    assert "tensor<4xf32>" in text and 'loc("' in text and "test_jit.py" in text
    compiled = lowered.compile()
    check(compiled(x, 3.0), jnp.sin(x) * 3.0)
    with pytest.raises(TypeError):
        compiled(np.ones(5, np.float32), 3.0)
    assert jf._cache_size() == 0        # lowering does not fill the call cache
    info = jf.eval_shape(x, 2.0)
    assert info.shape == (4,) and info.dtype == np.float32


def test_compiled_takes_the_dynamic_arguments_only():
    f = lambda x, n, y=1.0: x * n + y
    ours = xf.jit(f, static_argnums=1).lower(np.ones(2, np.float32), 3, y=2.0).compile()
    ref = jax.jit(f, static_argnums=1).lower(np.ones(2, np.float32), 3, y=2.0).compile()
    x = np.arange(2, dtype=np.float32)
    check(ours(x, y=5.0), ref(x, y=5.0))
    with pytest.raises(TypeError):
        ref(x, 3, y=5.0)
    with pytest.raises(TypeError):
        ours(x, 3, y=5.0)                # statics are not passed again (as JAX)
    plain = xf.jit(lambda a, b: a - b).lower(x, x).compile()
    check(plain(x, 2 * x), -jnp.asarray(x))
    with pytest.raises(TypeError):
        plain((x, x))


def test_jit_under_disable_jit():
    seen = []

    def f(x):
        seen.append(type(x).__name__)
        return x + 1

    jf = xf.jit(f)
    xf.config.update("jax_disable_jit", True)
    try:
        out = jf(xnp.ones(2))
    finally:
        xf.config.update("jax_disable_jit", False)
    assert seen == ["ArrayImpl"] and np.asarray(out).tolist() == [2, 2]


def test_many_leaves_round_trip():
    host = {f"p{i:03d}": np.full((2,), i, np.float32) for i in range(100)}
    d = {k: xnp.asarray(v) for k, v in host.items()}
    jf = xf.jit(lambda d: {k: v * 2.0 for k, v in d.items()})
    out = jf(d)
    out = jf(out)
    assert list(out) == sorted(host) and jf.trace_count == 1
    for k, v in host.items():
        np.testing.assert_array_equal(np.asarray(out[k]), v * 4)


# ----------------------------------------------------------------------------- eager cache
def test_eager_ops_compile_once_per_signature():
    x = xnp.asarray(np.linspace(0, 1, 7, dtype=np.float32))
    xnp.cos(x)
    n = dispatch.compile_count
    for _ in range(3):
        y = xnp.cos(x)
    np.testing.assert_allclose(np.asarray(y), np.cos(np.linspace(0, 1, 7, dtype=np.float32)), rtol=1e-6)
    assert dispatch.compile_count == n
    y8 = xnp.asarray(np.ones(8, np.float32))
    n = dispatch.compile_count
    xnp.cos(y8)                         # new shape: one compile
    assert dispatch.compile_count == n + 1
