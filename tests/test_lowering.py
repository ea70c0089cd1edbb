"""The StableHLO emitter: readable, deterministic text that XLA compiles to the right values."""
import re

import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core
from xlafront import primitives as P
from xlafront.lowering import emitter, runtime
from xlafront.lowering.emitter import dense_attr, lower_graph, symbol, tensor_type

THIS_FILE = __file__


def _text(f, *args):
    return xf.jit(f).lower(*args).as_text()


def _body_lines(text):
    return [ln.strip() for ln in text.splitlines() if re.match(r"\s+%", ln)]


# --------------------------------------------------------------------------- constants
def test_constants_are_emitted_once_per_function_and_reused():
    def f(x):
        return x * 2.0 + 2.0 - x * 2.0

    text = _text(f, xnp.ones(3))
    consts = [ln for ln in _body_lines(text) if "stablehlo.constant" in ln]
    assert len(consts) == 1, text
    assert "dense<2.0> : tensor<3xf32>" in consts[0]
    name = consts[0].split(" =")[0]
    assert text.count(name + " ") + text.count(name + ",") >= 3 + 1  # defined once, used 3 times


def test_unused_scalar_constants_are_not_emitted():
    text = _text(lambda x: x + 1.5, xnp.ones((2, 2)))
    assert "tensor<f32>" not in text   # the scalar literal became a splat of the operand shape
    assert "dense<1.5> : tensor<2x2xf32>" in text


def test_constant_names_follow_jax_printing():
    text = _text(lambda x, i: (x * 3.0 + 4.0, i + 7), xnp.ones(2), xnp.ones(2, xnp.int32))
    assert "%cst = stablehlo.constant dense<3.0>" in text
    assert "%cst_0 = stablehlo.constant dense<4.0>" in text
    assert "%c = stablehlo.constant dense<7>" in text


def test_constants_inside_regions_are_local_to_the_region():
    # sort's comparator materializes 0.0 and NaN; the function body must not reuse them
    text = _text(lambda x: P.sort(x * 0.0), xnp.ones(4))
    comparator = text[text.index("^bb0"):]
    assert "stablehlo.constant dense<0.0> : tensor<f32>" in comparator
    out = xf.jit(lambda x: P.sort(x * 0.0 - x))(xnp.asarray([3.0, -1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(out), [-3.0, -2.0, 1.0])


# --------------------------------------------------------------------------- locations
def test_every_op_carries_the_user_source_location():
    def f(x):
        y = xnp.sin(x) * 2.0          # line A
        return xnp.where(y > 0, y, 0.0)   # line B

    line_a = f.__code__.co_firstlineno + 1
    text = _text(f, xnp.ones(3))
    lines = _body_lines(text)
    assert lines
    for ln in lines:
        assert re.search(r'loc\("[^"]+":\d+:\d+\)$', ln), ln
    assert f'loc("{THIS_FILE}":{line_a}:' in text
    assert f'loc("{THIS_FILE}":{line_a + 1}:' in text
    sin_line = next(ln for ln in lines if "stablehlo.sine" in ln)
    assert f":{line_a}:" in sin_line
    const_line = next(ln for ln in lines if "stablehlo.constant dense<2.0>" in ln)
    assert f":{line_a}:" in const_line


def test_location_strings_are_escaped():
    si = core.SourceInfo('we"ird\\path.py', 3, 4, "f")
    assert emitter._loc(si) == ' loc("we\\"ird\\\\path.py":3:4)'


# --------------------------------------------------------------------------- determinism, names
def test_lowering_is_deterministic():
    def f(x, y):
        return xnp.tanh(x @ y).sum(axis=0) + 1.0

    a, b = xnp.ones((3, 4)), xnp.ones((4, 5))
    t1, t2 = _text(f, a, b), _text(f, a, b)
    assert t1 == t2
    numbers = [int(m) for m in re.findall(r"^\s+%(\d+)(?::\d+)? =", t1, re.M)]
    assert numbers == list(range(len(numbers)))


@pytest.mark.parametrize("name,expected", [("<lambda>", "_lambda"), ("my-fn", "my_fn"), ("a b", "a_b"),
                                           ("x.y", "x.y"), ("f$g", "f_g"), ("<locals>.g", "_locals_.g"),
                                           ("1abc", "_1abc"), ("", "fn")])
def test_symbol_names_are_sanitized(name, expected):
    assert symbol(name) == expected


def test_module_name_of_a_lambda():
    text = _text(lambda x: x + 1, xnp.ones(2))
    assert text.startswith("module @jit__lambda attributes")
    assert "func.func public @main(%arg0: tensor<2xf32>) -> (tensor<2xf32>)" in text


def test_nested_jit_becomes_a_private_function_and_calls():
    @xf.jit
    def inner(x):
        return x * 2.0

    @xf.jit
    def inner2(x):
        return x * 3.0

    def outer(x):
        return inner(x) + inner(x + 1.0) + inner(x[:2]).sum() + inner2(x)

    x = xnp.arange(3.0)
    text = _text(outer, x)
    assert text.count("func.func private @inner(") == 1
    assert text.count("func.func private @inner_1(") == 1      # same name, another signature
    assert text.count("func.func private @inner2(") == 1
    assert text.count("func.call @inner(") == 2
    assert text.index("func.func public @main") < text.index("func.func private")
    out = xf.jit(outer)(x)
    xa = np.arange(3.0, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(out), xa * 2 + (xa + 1) * 2 + (xa[:2] * 2).sum() + xa * 3)


def test_tensor_types():
    assert tensor_type(core.ShapedArray((), np.dtype(np.float32))) == "tensor<f32>"
    assert tensor_type(core.ShapedArray((2, 0, 3), np.dtype(np.bool_))) == "tensor<2x0x3xi1>"
    assert tensor_type(core.ShapedArray((4,), np.dtype(np.complex64))) == "tensor<4xcomplex<f32>>"
    assert tensor_type(core.ShapedArray((1,), np.dtype(ml_dtypes.bfloat16))) == "tensor<1xbf16>"
    assert tensor_type(core.ShapedArray((1,), np.dtype(np.uint16))) == "tensor<1xui16>"
    with pytest.raises(TypeError, match="no StableHLO element type"):
        emitter.element_type(np.dtype("U3"))


# --------------------------------------------------------------------------- constant values
def test_large_constants_are_arguments_small_ones_inline():
    big = np.arange(100, dtype=np.float32)
    small = np.arange(5, dtype=np.float32) * 1.5

    def f(x):
        return x + big, x[:5] * small

    closed = core.trace_to_graph(lambda x: list(f(x)), [core.ShapedArray((100,), np.dtype(np.float32))])
    text, arg_consts = lower_graph("f", closed.graph, closed.consts)
    assert len(arg_consts) == 1 and arg_consts[0] is big
    assert "func.func public @main(%arg0: tensor<100xf32>, %arg1: tensor<100xf32>)" in text
    assert "dense<[0.0, 1.5, 3.0, 4.5, 6.0]> : tensor<5xf32>" in text
    assert 'dense<"0x' not in text and "99.0" not in text
    x = xnp.ones(100)
    a, b = xf.jit(f)(x)
    np.testing.assert_array_equal(np.asarray(a), big + 1)
    np.testing.assert_array_equal(np.asarray(b), small)
    # an Array constant over the limit is an argument too
    dev_big = xnp.asarray(big)
    out = xf.jit(lambda x: x * dev_big)(x)
    np.testing.assert_array_equal(np.asarray(out), big)
    closed = core.trace_to_graph(lambda x: [x * dev_big], [core.ShapedArray((100,), np.dtype(np.float32))])
    assert len(lower_graph("g", closed.graph, closed.consts)[1]) == 1


SPECIAL_F = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 3.4e38, 0.1, 1 / 3, -2.5, 1e-5, 123456789.0]


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn,
                                ml_dtypes.float8_e5m2, np.complex64, np.complex128, np.bool_, np.int8,
                                np.uint32, np.int64, np.uint64], ids=lambda d: np.dtype(d).name)
def test_constants_are_bit_exact(dt):
    """Inline constants (list, splat) and hex blobs reproduce every value, NaN/inf/-0 included."""
    dt = np.dtype(dt)
    if xf.dtypes.is_float(dt):
        with np.errstate(over="ignore", invalid="ignore"):
            vals = np.array(SPECIAL_F).astype(dt)
    elif dt.kind == "c":
        vals = np.array(SPECIAL_F).astype(dt)
        vals.imag = np.array(SPECIAL_F[::-1])
    elif dt == np.bool_:
        vals = np.array([True, False, False, True, True])
    else:
        info = np.iinfo(dt)
        vals = np.array([info.min, info.max, 0, 1, info.max // 7], dt)
    for value in (vals, vals[:1], np.resize(vals, 100), np.full((2, 3), vals[0])):
        value = np.ascontiguousarray(value)
        ty = tensor_type(core.ShapedArray(value.shape, dt))
        text = (f"module @jit_c attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
                f"  func.func public @main() -> ({ty}) {{\n"
                f"    %0 = stablehlo.constant {dense_attr(value)} : {ty}\n"
                f"    return %0 : {ty}\n  }}\n}}\n")
        got = runtime.to_numpy(runtime.compile(text, 1).run([])[0])
        assert got.dtype == dt
        assert got.tobytes() == value.tobytes(), (dt, value, got)


def test_jit_returns_closed_over_special_constants_exactly():
    small = np.array([np.nan, -np.inf, np.inf, -0.0, 1e-45], np.float32)
    outs = xf.jit(lambda: (small, small.astype(ml_dtypes.bfloat16), small.astype(np.float16),
                           np.array([True, False]), np.array([1 + 2j, np.nan - 1j], np.complex64)))()
    refs = (small, small.astype(ml_dtypes.bfloat16), small.astype(np.float16), np.array([True, False]),
            np.array([1 + 2j, np.nan - 1j], np.complex64))
    for o, r in zip(outs, refs):
        assert np.asarray(o).dtype == r.dtype and np.asarray(o).tobytes() == r.tobytes()


def test_weak_python_scalars_in_graphs():
    out = xf.jit(lambda x: (x * 0.1, x + 3, x > -0.0))(xnp.ones(2, xnp.bfloat16))
    assert out[0].dtype == xnp.bfloat16 and out[1].dtype == xnp.bfloat16
    np.testing.assert_array_equal(np.asarray(out[0]), np.full(2, ml_dtypes.bfloat16(0.1)))
    np.testing.assert_array_equal(np.asarray(out[2]), [True, True])


def test_float_text_is_shortest_round_trip():
    assert emitter._float_text(0.1, np.float32) == "0.1"
    assert emitter._float_text(1e-5, np.float32) == "1.0e-05"
    assert emitter._float_text(2.0, np.float64) == "2.0"
    assert emitter._float_text(np.inf, np.float32) == "0x7F800000"
    assert emitter._float_text(np.nan, np.float64) == "0x7FF8000000000000"
    assert emitter._float_text(-0.0, np.float32) == "-0.0"


def test_missing_rule_names_the_primitive():
    p = core.primitive("xlafront_test_no_rule")
    core.shape_rules[p] = lambda x: x
    try:
        closed = core.trace_to_graph(lambda x: [p.bind(x)], [core.ShapedArray((2,), np.dtype(np.float32))])
        with pytest.raises(NotImplementedError, match="xlafront_test_no_rule"):
            lower_graph("f", closed.graph, closed.consts)
    finally:
        del core.all_primitives["xlafront_test_no_rule"]
        del core.shape_rules[p]
    assert xf.jit(lambda x: x + 1)(xnp.ones(2)).shape == (2,)   # and the next good call works


def test_called_closed_graph_embeds_its_consts():
    """A call of a ClosedGraph (as custom_jvp/vjp calls make) carries its consts into the callee."""
    from xlafront import dispatch
    f32 = np.dtype(np.float32)
    offset = np.array([1.0, -2.0, 0.5], np.float32)
    inner = core.trace_to_graph(lambda x: [x * 2.0 + offset], [core.ShapedArray((3,), f32)])
    assert inner.consts
    outer = core.trace_to_graph(lambda x: [P.jit_p.bind(x, graph=inner, name="inner")[0] +
                                           P.jit_p.bind(x + 1.0, graph=inner, name="inner")[0]],
                                [core.ShapedArray((3,), f32)])
    text, _ = lower_graph("outer", outer.graph, outer.consts)
    assert text.count("func.func private @inner(") == 1
    assert "dense<[1.0, -2.0, 0.5]> : tensor<3xf32>" in text
    prog = dispatch.compile_graph("outer", outer.graph, outer.consts)
    out, = prog.run([runtime.device_put(np.arange(3, dtype=np.float32))])
    x = np.arange(3, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(out), (x * 2 + offset) + ((x + 1) * 2 + offset))


def test_python_scalar_literals_in_every_binary_op_under_jit():
    """Literal operands become (splat) constants; one program holding all binary ops, vs JAX."""
    import jax
    from jax import lax

    names = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "atan2", "nextafter",
             "eq", "ne", "lt", "le", "gt", "ge", "complex"]
    ours = {"eq": P.eq, "ne": P.ne, "lt": P.lt, "le": P.le, "gt": P.gt, "ge": P.ge}

    def program(ops, sel, clamp):
        def f(x):
            outs = []
            for n in names:
                op = ops[n]
                outs += [op(x, 1.5), op(-0.5, x)]
            outs += [sel(True, x, x * 2.0), clamp(0.0, x, 1.0), clamp(-1.0, x, x + 0.25)]
            return outs
        return f

    xops = {n: ours.get(n, getattr(P, n)) for n in names}
    jops = {n: getattr(lax, n) for n in names}
    x = np.array([0.25, -1.75, 3.0, 0.0], np.float32)
    got = xf.jit(program(xops, P.select_n, P.clamp))(x)
    ref = jax.jit(program(jops, lax.select_n, lax.clamp))(x)
    assert len(got) == len(ref)
    for g, r, what in zip(got, ref, [f"{n}{side}" for n in names for side in ("(x, 1.5)", "(-0.5, x)")]
                          + ["select_n", "clamp scalars", "clamp mixed"]):
        assert g.dtype == r.dtype and g.shape == r.shape, what
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-6, equal_nan=True, err_msg=what)
