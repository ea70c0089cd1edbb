"""xf.debug.print / xf.debug.callback / xf.pure_callback: eager, inside jit (a host
callback the compiled program calls while it runs), under vmap, grad and control flow,
compared with what JAX prints; never dead-code-eliminated; errors."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xl
from xlafront import primitives_callback as PC
from xlafront.transforms.dce import dce_graph


def _out(capsys, run):
    capsys.readouterr()
    run()
    return capsys.readouterr().out


def _same_output(capsys, ours, ref):
    """What `ours()` prints (xlafront) is what `ref()` prints (JAX)."""
    def run_ref():
        out = ref()
        jax.block_until_ready(out)
        jax.effects_barrier()

    def run_ours():
        xf.block_until_ready(ours())

    expected = _out(capsys, run_ref)
    got = _out(capsys, run_ours)
    assert got == expected
    assert got  # something was printed
    return got


X = np.array([[1.5, -2.0, 3.25], [0.0, 1e-3, 7.0]], np.float32)


@pytest.mark.parametrize("case", ["scalars", "kwargs", "spec", "arrays", "ints_bools", "tree", "static"])
def test_print_eager_and_in_jit_like_jax(capsys, case):
    def body(d, np_):
        if case == "scalars":
            d.print("x={} y={}", 1.5, 3)
        elif case == "kwargs":
            d.print("{a} then {b} then {}", np_.float32(2.0), a=np_.arange(3), b=True)
        elif case == "spec":
            d.print("{:.3f} {x:>8.2f}", np_.float32(2.0) / 3, x=np_.float32(1.25))
        elif case == "arrays":
            d.print("m=\n{}", np_.asarray(X))
        elif case == "ints_bools":
            d.print("{} {}", np_.arange(4, dtype=np_.int32) * 2, np_.asarray(X) > 1)
        elif case == "tree":
            d.print("{p[w]} {p[b]}", p={"w": np_.ones(2), "b": np_.float32(0.5)})
        else:
            d.print("{} {}", "label", np_.float32(1.0))
        return np_.float32(0.0)

    _same_output(capsys, lambda: body(xf.debug, xnp), lambda: body(jax.debug, jnp))
    _same_output(capsys, lambda: xf.jit(lambda: body(xf.debug, xnp))(),
                 lambda: jax.jit(lambda: body(jax.debug, jnp))())


def test_print_inside_jit_prints_values_at_run_time(capsys):
    f = xf.jit(lambda x: (xf.debug.print("x={x} sum={s}", x=x, s=x.sum()), x * 2)[1])
    out = _out(capsys, lambda: f(xnp.arange(3.0)).block_until_ready())
    assert out == "x=[0. 1. 2.] sum=3.0\n"
    # a second call (cache hit, no retrace) prints the new values
    n = f.trace_count
    out = _out(capsys, lambda: f(xnp.arange(3.0) + 1).block_until_ready())
    assert out == "x=[1. 2. 3.] sum=6.0\n" and f.trace_count == n
    # a jitted function whose only effect is the print (no outputs)
    g = xf.jit(lambda x: xf.debug.print("only {}", x))
    assert _out(capsys, lambda: g(xnp.float32(4.0))) == "only 4.0\n"
    assert g(1.0) is None
    # the StableHLO: a side-effecting custom call into the Python callback target
    text = f.lower(xnp.arange(3.0)).as_text()
    assert "stablehlo.custom_call @xla_ffi_python_cpu_callback" in text
    assert "has_side_effect = true" in text


def test_print_order_follows_execution(capsys):
    def f(x):
        for i in range(5):
            xf.debug.print("step {} {}", i, x + i)   # independent of each other
        return x

    out = _out(capsys, lambda: xf.jit(f)(xnp.float32(1.0)).block_until_ready())
    assert out == "".join(f"step {i} {1.0 + i}\n" for i in range(5))

    def body(i, c):
        xf.debug.print("i={} c={}", i, c)
        return c + i

    def jbody(i, c):
        jax.debug.print("i={} c={}", i, c)
        return c + i

    _same_output(capsys, lambda: xf.jit(lambda: xl.fori_loop(0, 4, body, 0.0))(),
                 lambda: jax.jit(lambda: jax.lax.fori_loop(0, 4, jbody, 0.0))())

    def step(c, x):
        xf.debug.print("c={} x={}", c, x)
        return c + x, c

    def jstep(c, x):
        jax.debug.print("c={} x={}", c, x)
        return c + x, c

    xs = np.arange(3, dtype=np.float32)
    _same_output(capsys, lambda: xf.jit(lambda xs: xl.scan(step, 0.0, xs))(xs),
                 lambda: jax.jit(lambda xs: jax.lax.scan(jstep, 0.0, xs))(xs))

    def w(x):
        def body(c):
            xf.debug.print("while {}", c)
            return c * 2
        return xl.while_loop(lambda c: c < 10, body, x)

    def jw(x):
        def body(c):
            jax.debug.print("while {}", c)
            return c * 2
        return jax.lax.while_loop(lambda c: c < 10, body, x)

    _same_output(capsys, lambda: xf.jit(w)(1), lambda: jax.jit(jw)(1))
    _same_output(capsys, lambda: xf.jit(lambda p: xl.cond(p, lambda: xf.debug.print("yes"), lambda: xf.debug.print("no")))(False),
                 lambda: jax.jit(lambda p: jax.lax.cond(p, lambda: jax.debug.print("yes"), lambda: jax.debug.print("no")))(False))


def test_prints_follow_program_order_across_control_flow(capsys):
    """XLA may reorder independent side effects (JAX's unordered prints do show up out of
    order here); xlafront keeps program order, which is what JAX's ordered=True gives."""
    def make(j, lax, **kw):
        def f(x):
            j.debug.print("before {}", x, **kw)
            y = lax.fori_loop(0, 3, lambda i, c: (j.debug.print("in {} {}", i, c, **kw), c + 1.0)[1], x)
            j.debug.print("after {}", x * 3, **kw)
            z = lax.cond(x > 0, lambda: (j.debug.print("cond", **kw), x)[1], lambda: x)
            w = j.jit(lambda v: (j.debug.print("nested {}", v, **kw), v * 2)[1])(z)
            j.debug.print("end", **kw)
            return y + w
        return f

    out = _same_output(capsys, lambda: xf.jit(make(xf, xl))(1.0), lambda: jax.jit(make(jax, jax.lax, ordered=True))(1.0))
    assert out.splitlines()[0] == "before 1.0" and out.splitlines()[-1] == "end"
    # ordered=True is accepted (every debug callback is ordered here)
    _same_output(capsys, lambda: xf.jit(make(xf, xl, ordered=True))(2.0),
                 lambda: jax.jit(make(jax, jax.lax, ordered=True))(2.0))


def test_jit_graph_with_consts_keeps_its_callbacks_in_program_order(capsys):
    """A jit equation whose graph is a ClosedGraph with consts (and callbacks) is lowered
    inline, its consts as constants, so its callbacks join the caller's token chain."""
    from xlafront import core
    c = xnp.arange(3.0) + 1
    closed = core.trace_to_graph(lambda x: [(xf.debug.print("inner {}", x * c), x * c)[1]],
                                 [core.ShapedArray((), np.dtype(np.float32))])
    assert closed.consts

    def outer(x):
        xf.debug.print("before {}", x)
        y, = xf.primitives.jit_p.bind(x, graph=closed, name="inner")
        xf.debug.print("after {}", y.sum())
        return y

    text = xf.jit(outer).lower(np.float32(1.0)).as_text()
    assert "func.call" not in text and text.count("stablehlo.after_all") == 1, text
    assert "dense<[1.0, 2.0, 3.0]>" in text
    out = _out(capsys, lambda: np.testing.assert_allclose(xf.jit(outer)(np.float32(2.0)), [2.0, 4.0, 6.0]))
    assert out == "before 2.0\ninner [2. 4. 6.]\nafter 12.0\n"


def test_print_under_vmap_and_grad(capsys):
    def f(x, y):
        xf.debug.print("x={} y={}", x, y)
        return x * y

    def jf(x, y):
        jax.debug.print("x={} y={}", x, y)
        return x * y

    a, b = np.ones((2, 3), np.float32), np.float32(5.0)
    _same_output(capsys, lambda: xf.vmap(f, in_axes=(0, None))(a, b), lambda: jax.vmap(jf, in_axes=(0, None))(a, b))
    _same_output(capsys, lambda: xf.jit(xf.vmap(f))(np.arange(3.0, dtype=np.float32), np.ones(3, np.float32)),
                 lambda: jax.jit(jax.vmap(jf))(np.arange(3.0, dtype=np.float32), np.ones(3, np.float32)))
    _same_output(capsys, lambda: xf.vmap(f, in_axes=(1, None))(a, b), lambda: jax.vmap(jf, in_axes=(1, None))(a, b))

    def g(x):
        xf.debug.print("primal {}", x)
        return x ** 3

    def jg(x):
        jax.debug.print("primal {}", x)
        return x ** 3

    _same_output(capsys, lambda: xf.grad(g)(2.0), lambda: jax.grad(jg)(2.0))
    _same_output(capsys, lambda: xf.jit(xf.grad(g))(2.0), lambda: jax.jit(jax.grad(jg))(2.0))
    _same_output(capsys, lambda: xf.jvp(g, (2.0,), (1.0,)), lambda: jax.jvp(jg, (2.0,), (1.0,)))
    _same_output(capsys, lambda: xf.vmap(xf.grad(g))(np.arange(3.0, dtype=np.float32)),
                 lambda: jax.vmap(jax.grad(jg))(np.arange(3.0, dtype=np.float32)))
    # the derivative itself is untouched by the print
    assert float(xf.grad(g)(2.0)) == 12.0


def test_callback_receives_arrays(capsys):
    seen = []

    def cb(x, *, tag, extra):
        seen.append((tag, type(x).__name__, np.asarray(x).tolist(), extra))

    xf.debug.callback(cb, xnp.arange(3), tag="eager", extra=None)
    f = xf.jit(lambda x: (xf.debug.callback(cb, x * 2, tag="jit", extra=(1, "s")), x)[1])
    f(xnp.arange(3)).block_until_ready()
    xf.debug.callback(ordered=True)(cb, xnp.ones(1), tag="two-call", extra=[])
    assert seen == [("eager", "ArrayImpl", [0, 1, 2], None), ("jit", "ArrayImpl", [0, 2, 4], (1, "s")),
                    ("two-call", "ArrayImpl", [1.0], [])]
    # weak types as JAX gives them: kept eagerly, dropped in a compiled program
    reprs = []
    xf.debug.callback(lambda v: reprs.append(repr(v)), 1.0)
    xf.jit(lambda v: xf.debug.callback(lambda w: reprs.append(repr(w)), v))(1.0)
    ref = []
    jax.debug.callback(lambda v: ref.append(repr(v)), 1.0)
    jax.jit(lambda v: jax.debug.callback(lambda w: ref.append(repr(w)), v))(1.0)
    jax.effects_barrier()
    assert reprs == ref
    with pytest.raises(TypeError, match="must be callable"):
        xf.debug.callback(3, 1.0)


def test_callbacks_of_one_program_are_renumbered():
    """Lowering gives each host function a global id; a program passes PJRT its own ones."""
    seen = []

    def a(x):
        seen.append(("a", float(x)))

    def b(x):
        seen.append(("b", float(x)))

    xf.jit(lambda x: xf.debug.callback(a, x))(1.0)       # a registered before b
    xf.jit(lambda x: xf.debug.callback(b, x))(2.0)
    f = xf.jit(lambda x: (xf.debug.callback(b, x), xf.debug.callback(a, x + 1), xf.debug.callback(b, x + 2)))
    f(10.0)
    assert seen == [("a", 1.0), ("b", 2.0), ("b", 10.0), ("a", 11.0), ("b", 12.0)]
    text = f.lower(10.0).as_text()
    assert text.count("xla_ffi_python_cpu_callback") == 3
    # a function merely named like a callback is compiled as usual
    def my_callback(x):
        return x * 2

    np.testing.assert_allclose(xf.jit(lambda x: xf.jit(my_callback)(x) + 1)(1.0), 3.0)


def test_effects_barrier(capsys):
    f = xf.jit(lambda x: (xf.debug.print("barrier {}", x), x @ x)[1])
    f(xnp.ones((64, 64)))
    xf.effects_barrier()
    assert capsys.readouterr().out.startswith("barrier [[1. 1. 1.")


def test_effects_are_not_dead_code():
    def f(x):
        xf.debug.print("dead? {}", x * 2)   # nothing uses it
        return x + 1

    closed = xf.make_jaxpr(f)(1.0)
    text = str(closed)
    assert "debug_callback" in text and "mul" in text
    g = dce_graph(closed.graph)
    assert [e.prim.name for e in g.eqns] == [e.prim.name for e in closed.graph.eqns]
    # a nested jit whose only content is a print survives DCE as well
    closed2 = xf.make_jaxpr(lambda x: (xf.jit(lambda y: xf.debug.print("{}", y))(x), x)[1])(1.0)
    assert len(dce_graph(closed2.graph).eqns) == 1
    assert PC.eqn_has_effects(closed2.graph.eqns[0])
    # a pure equation without users is still removed
    closed3 = xf.make_jaxpr(lambda x: (xnp.sin(x), x)[1])(1.0)
    assert dce_graph(closed3.graph).eqns == []


def test_print_errors_and_recovery(capsys):
    with pytest.raises(ValueError, match="Unused positional arguments") as e:
        xf.debug.print("{}", 1, 2)
    assert "test_debug.py" in str(e.value)
    with pytest.raises(ValueError, match="Unused keyword arguments"):
        xf.debug.print("{x}", x=1, y=2)
    with pytest.raises(IndexError):
        xf.debug.print("{} {}", 1)
    with pytest.raises(TypeError, match="two-call form"):
        xf.debug.print(None, 1)
    # a callback that raises: the error reaches the caller, and the next call works
    def bad(x):
        raise ValueError("boom")

    f = xf.jit(lambda x: (xf.debug.callback(bad, x), x + 1)[1])
    with pytest.raises(Exception, match="boom"):
        f(xnp.float32(1.0)).block_until_ready()
    with pytest.raises(ValueError, match="boom"):
        xf.debug.callback(bad, 1.0)
    assert _out(capsys, lambda: xf.debug.print("fine {}", 1)) == "fine 1\n"
    assert _out(capsys, lambda: xf.jit(lambda x: xf.debug.print("fine {}", x))(2)) == "fine 2\n"


@pytest.mark.parametrize("fmt,args,kwargs", [
    ("a {{b}} {x}", (), dict(x=np.float32(1.5))),
    ("{{}} {}", (np.int32(2),), {}),
    ("a {{b}} {} and {y}", (np.arange(3),), dict(y=True)),
    ("{{literal}}{{x}} {}", (np.float32(0.25),), {}),
])
def test_print_with_escaped_braces_before_a_field_formats_like_str_format(capsys, fmt, args, kwargs):
    # JAX 0.10 looks only at the first piece of the format and prints such formats raw; the
    # intended result is str.format's
    expected = fmt.format(*(np.asarray(a) for a in args), **{k: np.asarray(v) for k, v in kwargs.items()}) + "\n"
    assert _out(capsys, lambda: xf.debug.print(fmt, *args, **kwargs)) == expected
    assert _out(capsys, lambda: xf.block_until_ready(xf.jit(lambda *a, **k: (xf.debug.print(fmt, *a, **k), 0)[1])(
        *args, **kwargs))) == expected
    # without any field the format is printed as given, the arguments after it, as JAX does
    assert _out(capsys, lambda: xf.debug.print("a {{b}}")) == "a {{b}}\n"


def test_print_keeps_numpy_printoptions_of_call_site(capsys):
    def run(d, j, np_):
        f = j(lambda x: d.print("{} {}", x, np_.stack([x, x])))
        with np.printoptions(precision=2):
            return f(np_.float32(1.0 / 3))

    out = _same_output(capsys, lambda: run(xf.debug, xf.jit, xnp), lambda: run(jax.debug, jax.jit, jnp))
    assert out.endswith("[0.33 0.33]\n")


def test_pure_callback():
    def host_sin(x):
        assert isinstance(np.asarray(x), np.ndarray)
        return np.sin(np.asarray(x))

    spec = xf.ShapeDtypeStruct((3,), np.float32)
    x = np.array([0.1, 0.2, 0.3], np.float32)
    np.testing.assert_allclose(xf.pure_callback(host_sin, spec, x), np.sin(x), rtol=1e-6)
    np.testing.assert_allclose(xf.jit(lambda v: xf.pure_callback(host_sin, spec, v) * 2)(x), 2 * np.sin(x), rtol=1e-6)
    # pytree results, float64 results canonicalized to float32 as JAX does
    out = xf.pure_callback(lambda v: (v * 2, {"a": v.astype(np.float64)}), (spec, {"a": spec}), x)
    assert isinstance(out, tuple) and out[1]["a"].dtype == np.float32
    # vmap methods, as JAX calls the callback
    shapes = []

    def cb(a, b):
        shapes.append((np.shape(a), np.shape(b)))
        return np.asarray(a) + np.asarray(b)

    def fun(a, b, method):
        return xf.pure_callback(cb, xf.ShapeDtypeStruct(np.shape(a), np.float32), a, b, vmap_method=method)

    xs, y = np.arange(4, dtype=np.float32), np.float32(1.0)
    for method, expect in [("expand_dims", [((4,), (1,))]), ("broadcast_all", [((4,), (4,))]),
                           ("sequential", [((), ())] * 4)]:
        shapes.clear()
        got = xf.vmap(lambda a: fun(a, y, method))(xs)
        np.testing.assert_allclose(got, xs + 1)
        assert shapes == expect, method
    with pytest.raises(NotImplementedError, match="vmap_method"):
        xf.vmap(lambda a: fun(a, y, None))(xs)
    with pytest.raises(ValueError, match="do not support JVP"):
        xf.grad(lambda v: xf.pure_callback(host_sin, xf.ShapeDtypeStruct((), np.float32), v))(1.0)
    with pytest.raises(ValueError, match="vmap_method"):
        xf.pure_callback(host_sin, spec, x, vmap_method="bogus")
    # a wrong result shape is an error (at run time), and the next good call works
    with pytest.raises(Exception, match="Incorrect output shape"):
        xf.jit(lambda v: xf.pure_callback(lambda _: np.ones(4, np.float32), spec, v))(x).block_until_ready()
    with pytest.raises(RuntimeError, match="Incorrect output shape"):
        xf.pure_callback(lambda _: np.ones(4, np.float32), spec, x)
    np.testing.assert_allclose(xf.jit(lambda v: xf.pure_callback(host_sin, spec, v))(x), np.sin(x), rtol=1e-6)
    # unused pure results are dead code (no call)
    calls = []
    closed = xf.make_jaxpr(lambda v: (xf.pure_callback(lambda a: calls.append(1) or a, spec, v), v)[1])(x)
    assert dce_graph(closed.graph).eqns == []
