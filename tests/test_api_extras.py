"""Top-level jax names in xlafront/api.py and api_autodiff.py: custom_gradient, named_call,
named_scope, ensure_compile_time_eval, disable_jit, default_device, default_matmul_precision,
float0, clear_caches, typeof, live_arrays, print_environment_info, and the device and
sharding types (xf.Device, xf.sharding.SingleDeviceSharding), against JAX."""
import gc
import re
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core, dispatch
from jax_ref import jax_side

HERE = "test_api_extras.py"


def _same(ours, ref, rtol=1e-6):
    o, r = xf.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(ref)
    assert len(o) == len(r)
    for a, b in zip(o, r):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b), (a, b)
        assert bool(getattr(a, "weak_type", False)) == bool(getattr(b, "weak_type", False)), (a, b)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-6)


# ----------------------------------------------------------------------------- custom_gradient
def _cg_functions(m):
    np_ = m.numpy

    @m.custom_gradient
    def scaled_sin(x):
        return np_.sin(x), lambda g: (g * 3 * x,)      # not sin's derivative: the custom one is used

    @m.custom_gradient
    def product(x, y):
        return x * y, lambda g: (g * y, g * x * 10)

    @m.custom_gradient
    def single(x):
        return x * 2, lambda g: g * 5                   # one argument: the bare cotangent is accepted

    @m.custom_gradient
    def clip_gradient(x):
        return x, lambda g: (np_.clip(g, -0.5, 0.5),)

    @m.custom_gradient
    def tree_fn(p):
        out = {"a": p["w"] * p["b"], "b": np_.sum(p["w"])}
        return out, lambda g: ({"w": g["a"] * 2 + g["b"], "b": np_.sum(g["a"] * p["w"])},)

    return scaled_sin, product, single, clip_gradient, tree_fn


def _cg_jax_side(k, x):
    """JAX's side of test_custom_gradient_against_jax for _cg_functions(jax)[k]."""
    r = _cg_functions(jax)[k]
    if k == 1:
        return jax.grad(r, argnums=(0, 1))(2.0, 3.0), r(2.0, 3.0)
    if k == 4:
        lr = lambda p: jnp.sum(r(p)["a"]) + r(p)["b"] ** 2  # noqa: E731
        return jax.grad(lr)(x), jax.jit(jax.grad(lr))(x)
    loss_r = lambda v: jnp.sum(r(v * 4.0))  # noqa: E731
    return (jax.grad(loss_r)(x), jax.jit(jax.grad(loss_r))(x), jax.vmap(jax.grad(lambda v: r(v)))(x), r(x),
            jax.jit(r)(x))


def test_custom_gradient_against_jax():
    ours = _cg_functions(xf)
    x = np.linspace(-1.0, 1.0, 5, dtype=np.float32)
    for k, o in enumerate(ours[:4]):
        if k == 1:
            want = jax_side(_cg_jax_side, k, None)
            _same(xf.grad(o, argnums=(0, 1))(2.0, 3.0), want[0])
            _same(o(2.0, 3.0), want[1])
            continue
        want = jax_side(_cg_jax_side, k, x)
        loss_o = lambda v, f=o: xnp.sum(f(v * 4.0))
        _same(xf.grad(loss_o)(x), want[0])              # eager
        _same(xf.jit(xf.grad(loss_o))(x), want[1])
        _same(xf.vmap(xf.grad(lambda v, f=o: f(v)))(x), want[2])
        _same(o(x), want[3])                                          # the value is fun's
        _same(xf.jit(o)(x), want[4])
    p = {"w": np.arange(3.0, dtype=np.float32), "b": np.float32(1.5)}
    lo = lambda p: xnp.sum(ours[4](p)["a"]) + ours[4](p)["b"] ** 2
    want = jax_side(_cg_jax_side, 4, p)
    _same(xf.grad(lo)(p), want[0])
    _same(xf.jit(xf.grad(lo))(p), want[1])


def _cg_keywords_jax_side(x, scale):
    @jax.custom_gradient
    def fj(x, scale=2.0):
        return x * scale, lambda g: (g * scale * 7, g * x)

    @jax.custom_gradient
    def cubej(x):
        return x ** 3, lambda g: (g * 3 * x ** 2,)
    return jax.grad(lambda x: fj(x, scale))(x), jax.grad(fj, argnums=(0, 1))(x, scale), jax.grad(jax.grad(cubej))(x)


def test_custom_gradient_keywords_and_second_order():
    @xf.custom_gradient
    def f(x, scale=2.0):
        return x * scale, lambda g: (g * scale * 7, g * x)

    want = jax_side(_cg_keywords_jax_side, 1.5, 3.0)
    _same(xf.grad(lambda x: f(x, 3.0))(1.5), want[0])
    _same(xf.grad(f, argnums=(0, 1))(1.5, 3.0), want[1])
    # JAX's custom_gradient rejects keywords; xlafront resolves them against the signature
    _same(xf.grad(lambda x: f(x, scale=3.0))(1.5), want[0])

    # the vjp closes over traced values: differentiating it again uses its graph
    @xf.custom_gradient
    def cube(x):
        return x ** 3, lambda g: (g * 3 * x ** 2,)

    _same(xf.grad(xf.grad(cube))(1.5), want[2])


def test_custom_gradient_bad_function_names_the_line():
    @xf.custom_gradient
    def bad(x):
        return x * 2                                    # no vjp

    @jax.custom_gradient
    def badj(x):
        return x * 2

    with pytest.raises(TypeError):
        jax.grad(badj)(1.0)
    with pytest.raises(TypeError) as info:
        xf.grad(bad)(1.0)
    assert re.search(HERE + r":\d+", str(info.value)) and "(value, vjp" in str(info.value)
    assert core.current_trace() is core.eval_trace
    assert float(xf.grad(_cg_functions(xf)[0])(2.0)) == 6.0       # the next good call works


# ----------------------------------------------------------------------------- ensure_compile_time_eval
def test_ensure_compile_time_eval_gives_concrete_arrays_inside_jit():
    seen = {}

    def f(m):
        def body(x):
            with m.ensure_compile_time_eval():
                y = m.numpy.sin(3.0)
                w = m.numpy.arange(4)
                seen[m.__name__, "y"] = type(y)
                n = int(w.sum())                               # Python control flow on a value
                if w.sum() > 2:
                    y = y + 1
                q = m.jit(lambda a: a * 2)(m.numpy.float32(3.0))
                seen[m.__name__, "q"] = float(q)
                z = x + n                                      # traced operand: staged as usual
                seen[m.__name__, "z"] = isinstance(z, (core.Tracer, jax.core.Tracer))
            return y + z
        return body

    _same(xf.jit(f(xf))(1.0), jax.jit(f(jax))(1.0))
    assert seen["xlafront", "y"] is type(xnp.ones(1)) and seen["jax", "y"] is type(jnp.ones(1))
    assert seen["xlafront", "q"] == seen["jax", "q"] == 6.0
    assert seen["xlafront", "z"] and seen["jax", "z"]
    assert core.current_trace() is core.eval_trace


def test_ensure_compile_time_eval_under_grad_vmap_and_as_decorator():
    def f(m):
        def body(x):
            with m.ensure_compile_time_eval():
                k = m.numpy.cos(0.5) * 2
                assert float(k) > 0
            return m.numpy.sin(x) * k
        return body

    x = np.linspace(0, 1, 3, dtype=np.float32)
    _same(xf.vmap(xf.grad(f(xf)))(x), jax_side(lambda x: jax.vmap(jax.grad(f(jax)))(x), x))
    _same(xf.jit(xf.vmap(f(xf)))(x), jax_side(lambda x: jax.jit(jax.vmap(f(jax)))(x), x))

    @xf.ensure_compile_time_eval()
    def table():
        return xnp.arange(3.0) ** 2

    assert isinstance(xf.jit(lambda x: x + table().sum())(1.0), xf.Array)
    assert float(xf.jit(lambda x: x + table().sum())(1.0)) == 6.0
    # an error inside the block leaves no trace context behind
    with pytest.raises(ZeroDivisionError):
        xf.jit(lambda x: (xf.ensure_compile_time_eval().__enter__(), 1 / 0))(1.0)
    with pytest.raises(xf.errors.TracerBoolConversionError):
        @xf.jit
        def g(x):
            with xf.ensure_compile_time_eval():
                if x > 0:                                      # x is still traced
                    return x
            return -x
        g(1.0)
    assert core.current_trace() is core.eval_trace


# ----------------------------------------------------------------------------- disable_jit
def test_disable_jit_runs_python_on_every_call():
    calls = []

    def f(x):
        calls.append(type(x))
        return x * 2

    for m in (jax, xf):
        calls.clear()
        jf = m.jit(f)
        jf(np.float32(1))
        with m.disable_jit():
            for _ in range(3):
                out = jf(np.float32(1))
            assert m.config.read("jax_disable_jit") if m is xf else m.config.jax_disable_jit
        assert float(out) == 2.0
        assert len(calls) == 4, (m.__name__, calls)
        assert all(not issubclass(t, (core.Tracer, jax.core.Tracer)) for t in calls[1:])
        jf(np.float32(1))
        assert len(calls) == 4                                # compiled again, no Python
    assert not xf.config.disable_jit

    @xf.disable_jit()
    def run():
        return xf.jit(f)(xnp.float32(3.0))
    calls.clear()
    run(), run()
    assert len(calls) == 2 and not xf.config.disable_jit
    with xf.disable_jit(False):
        xf.jit(f)(1.0), xf.jit(f)(1.0)


# ----------------------------------------------------------------------------- context managers
def test_named_scope_and_named_call_behave_like_jax():
    for m in (xf, jax):
        @m.named_scope("block")
        def g(x):
            return x * 2

        with m.named_scope("outer"):
            assert float(m.jit(g)(3.0)) == 6.0
        h = m.named_call(lambda x: x + 1, name="plus_one")
        assert float(h(1.0)) == 2.0 and float(m.jit(h)(1.0)) == 2.0
        assert m.named_call(g).__name__ == "g"
    with xf.named_scope("a"), xf.named_scope("b"):
        assert xf.api.current_name_stack() == "a/b"
    assert xf.api.current_name_stack() == ""
    with pytest.raises(TypeError, match="named_scope name argument must be a string"):
        jax.named_scope(3)
    with pytest.raises(TypeError, match="named_scope name argument must be a string"):
        xf.named_scope(3)
    with pytest.raises(AttributeError):
        jax.named_call(3)
    with pytest.raises(AttributeError):
        xf.named_call(3)


def test_default_device_and_matmul_precision():
    dev = xf.devices()[0]
    for m, d in ((xf, dev), (jax, jax.devices()[0])):
        for v in (d, "cpu", None):
            with m.default_device(v):
                assert float(m.numpy.ones(2).sum()) == 2.0
        with pytest.raises(ValueError):
            m.default_device("bad")
        with pytest.raises(ValueError):
            m.default_device(3)
        with m.default_matmul_precision("float32"):
            assert float(m.jit(lambda a: a @ a)(np.eye(2, dtype=np.float32)).sum()) == 2.0
        with pytest.raises(ValueError):
            with m.default_matmul_precision("bad"):
                pass
    with xf.default_device(dev):
        assert xf.api.current_default_device() is dev
        with xf.default_device("cpu"):
            assert xf.api.current_default_device() == "cpu"
        assert xf.api.current_default_device() is dev
    assert xf.api.current_default_device() is None
    with xf.default_matmul_precision("highest"):
        assert xf.api.current_default_matmul_precision() == "highest"
    assert xf.api.current_default_matmul_precision() is None
    with pytest.raises(ValueError) as info:
        xf.default_device("bad")
    assert re.search(HERE + r":\d+", str(info.value))


# ----------------------------------------------------------------------------- introspection
def test_float0_and_typeof_match_jax():
    assert xf.float0 == jax.float0 and xf.float0 is xf.dtypes.float0
    for v in (np.ones((2, 3), np.float32), 1.0, 3, True, np.int8(1), np.arange(3), 1j):
        assert repr(xf.typeof(v)) == repr(jax.typeof(v)), v
    assert repr(xf.typeof(xnp.ones(3))) == repr(jax.typeof(jnp.ones(3))) == "ShapedArray(float32[3])"
    assert repr(xf.typeof(xnp.asarray(2.0) * 1)) == repr(jax.typeof(jnp.asarray(2.0) * 1))
    inside = {}
    for m in (xf, jax):
        m.jit(lambda x, m=m: inside.setdefault(m.__name__, repr(m.typeof(x))) and x)(np.ones(2, np.int32))
    assert inside["xlafront"] == inside["jax"] == "ShapedArray(int32[2])"
    with pytest.raises(TypeError, match="not a valid JAX type"):
        jax.typeof("a")
    with pytest.raises(TypeError, match="not a valid JAX type") as info:
        xf.typeof("a")
    assert re.search(HERE + r":\d+", str(info.value))


def test_clear_caches_makes_jit_trace_again():
    for m in (jax, xf):
        traces = []
        f = m.jit(lambda x: (traces.append(1), x * 2)[1])
        f(1.0), f(1.0)
        assert len(traces) == 1
        m.clear_caches()
        assert float(f(1.0)) == 2.0
        assert len(traces) == 2, m.__name__
    before = dispatch.compile_count
    xnp.sin(xnp.ones(7))
    xf.clear_caches()
    assert not dispatch._eager_cache
    xnp.sin(xnp.ones(7))
    assert dispatch.compile_count > before        # the eager op compiles again
    assert float(xf.grad(lambda x: x ** 2)(3.0)) == 6.0
    # the transform caches too, the control-flow rules' among them
    g = xf.grad(lambda x: xf.lax.scan(lambda c, _: (xnp.sin(c) * c, None), x, None, length=3)[0])
    want = jax_side(lambda x: jax.grad(
        lambda x: jax.lax.scan(lambda c, _: (jnp.sin(c) * c, None), x, None, length=3)[0])(x), 0.5)
    assert abs(float(g(0.5)) - float(want)) < 1e-6
    from xlafront.transforms import rules_control
    assert any(len(c) for c in xf.core._caches) and rules_control._scan_pe_cache
    xf.clear_caches()
    assert not any(len(c) for c in xf.core._caches) and not rules_control._scan_pe_cache
    assert abs(float(g(0.5)) - float(want)) < 1e-6


def test_live_arrays_holds_the_arrays_alive():
    x = xnp.arange(5.0) * 3
    ref = weakref.ref(x)
    live = xf.live_arrays()
    assert type(live) is list and any(a is x for a in live)
    assert all(isinstance(a, xf.Array) for a in live)
    assert xf.live_arrays("cpu") and xf.live_arrays("tpu") == []
    assert type(jax.live_arrays()) is list
    del live, x
    gc.collect()
    assert ref() is None                          # live_arrays keeps nothing alive itself
    assert all(a is not ref() for a in xf.live_arrays())


def test_print_environment_info(capsys):
    s = xf.print_environment_info(return_string=True)
    assert s.startswith("xlafront: ") and f"jaxlib: {jax.__version__}" in s
    for field in ("numpy:", "python:", "device info: cpu-1, 1 local devices", "process_count: 1", "platform:"):
        assert field in s and field.split(":")[0] in jax.print_environment_info(return_string=True)
    assert xf.print_environment_info() is None
    assert capsys.readouterr().out.strip() == s.strip()


# ----------------------------------------------------------------------------- devices, sharding
def test_device_and_single_device_sharding_types():
    d = xf.devices()[0]
    assert isinstance(d, xf.Device) and type(d) is xf.Device
    assert xf.Device is jax.Device    # jaxlib's device type, in both
    x = xnp.ones(3)
    assert isinstance(x.sharding, xf.sharding.SingleDeviceSharding)
    assert isinstance(jnp.ones(3).sharding, jax.sharding.SingleDeviceSharding)
    s = xf.sharding.SingleDeviceSharding(d)
    assert s.device_set == {d} and s.is_fully_replicated and s.num_devices == 1
    put = xf.device_put(np.arange(3.0))
    assert isinstance(put.sharding, xf.sharding.SingleDeviceSharding)
    assert not isinstance(d, xf.sharding.SingleDeviceSharding)


def test_new_names_are_exported_as_in_jax():
    for name in ("custom_gradient", "named_call", "named_scope", "ensure_compile_time_eval", "disable_jit",
                 "default_device", "default_matmul_precision", "float0", "clear_caches", "typeof",
                 "live_arrays", "print_environment_info", "Device", "sharding"):
        assert hasattr(jax, name) and hasattr(xf, name), name
