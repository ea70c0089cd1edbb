"""Elementwise functions and operators of xlafront.numpy against jax.numpy.

Each function runs once under jit over a dict of operands (all dtype/shape cases
in one compiled program per library, to keep the suite fast) and once eagerly;
every output is compared for value, shape, dtype and weak_type.
"""
import operator
import os
import warnings

import jax
import jax.numpy as jnp
from jax_ref import jax_side
import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=RuntimeWarning)

rng = np.random.default_rng(1234)

F32_SPECIAL = np.array([-7.5, -2.0, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 2.5, 7.0, np.inf, -np.inf, np.nan],
                       np.float32)


def _vals(dt, n=15, lo=-3, hi=3):
    dt = np.dtype(dt)
    if dt == np.bool_:
        return (np.arange(n) % 3 == 0)
    if dt.kind in "iu":
        lo = 0 if dt.kind == "u" else lo - 4
        v = np.arange(n) % (hi - lo + 4) + lo
        return v.astype(dt)
    if dt.kind == "c":
        return (np.linspace(-3, 3, n) + 0.1 + 1j * np.linspace(-2, 2, n)[::-1]).astype(dt)  # finite: XLA's complex inf/nan
                                                                                 # results vary between programs
    if dt == np.float32:
        return F32_SPECIAL[:n].copy()
    return np.linspace(lo, hi, n).astype(dt)


DTYPES = [np.bool_, np.int8, np.int32, np.uint8, np.float16, ml_dtypes.bfloat16, np.float32, np.complex64]


def _tol(dt):
    dt = np.dtype(dt)
    if dt in (np.float16, ml_dtypes.bfloat16):
        return dict(rtol=2e-2, atol=1e-2)
    return dict(rtol=2e-5, atol=1e-6)


def assert_same(j, x, label=""):
    """Same value (NaNs equal), shape, dtype and weak_type."""
    assert isinstance(x, xf.Array) if hasattr(xf, "Array") else True, (label, type(x))
    assert tuple(x.shape) == tuple(j.shape), (label, x.shape, j.shape)
    assert np.dtype(x.dtype) == np.dtype(j.dtype), (label, x.dtype, j.dtype)
    assert bool(x.weak_type) == bool(j.weak_type), (label, "weak_type", x.weak_type, j.weak_type)
    jv, xv = np.asarray(j), np.asarray(x)
    if jv.dtype.kind in "biu":
        np.testing.assert_array_equal(xv, jv, err_msg=str(label))
    else:
        wide = np.complex128 if jv.dtype.kind == "c" else np.float64
        np.testing.assert_allclose(xv.astype(wide), jv.astype(wide), equal_nan=True, err_msg=str(label),
                                   **_tol(jv.dtype))


def _valid(jfn, *avals):
    """Whether jnp accepts these operand types (the cases that must then agree)."""
    try:
        jax.eval_shape(jfn, *avals)
        return True
    except (TypeError, ValueError, NotImplementedError):
        return False


def _raises_same(jfn, xfn, *args):
    with pytest.raises(Exception) as je:
        jfn(*args)
    with pytest.raises(Exception) as xe:
        xfn(*args)
    # same error class (or a subclass of it: xlafront's errors subclass the builtin ones)
    assert isinstance(xe.value, type(je.value)) or isinstance(je.value, type(xe.value)), (je.value, xe.value)


# ----------------------------------------------------------------------------- unary

UNARY = ["sqrt", "cbrt", "exp", "exp2", "log", "log1p", "log2", "log10", "expm1", "sin", "cos", "tan", "arcsin",
         "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "abs", "absolute", "fabs",
         "sign", "floor", "ceil", "round", "rint", "trunc", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
         "nan_to_num", "logical_not", "bitwise_not", "invert", "reciprocal", "square", "negative", "positive",
         "conjugate", "conj", "real", "imag", "deg2rad", "rad2deg", "degrees", "radians", "sinc", "signbit"]
# jnp's weak_type for these results depends on its internals (a Python-scalar operand only)
_WEAK_QUIRKS = {"angle"}


def _sds(v, weak=None):
    """ShapeDtypeStruct of a value; Python scalars are weak."""
    if weak is None:
        weak = not isinstance(v, (np.ndarray, np.generic))
    dt = np.asarray(v).dtype
    if weak and dt == np.int64:
        dt = np.dtype(np.int32) if not jax.config.jax_enable_x64 else dt
    if weak and dt == np.float64:
        dt = np.dtype(np.float32) if not jax.config.jax_enable_x64 else dt
    return jax.ShapeDtypeStruct(np.shape(v), dt, weak_type=weak)


@pytest.mark.parametrize("name", UNARY)
def test_unary_against_jnp(name):
    jfn, xfn = getattr(jnp, name), getattr(xnp, name)
    cases, consts = {}, {}
    for dt in DTYPES:
        v = _vals(dt)
        if _valid(jfn, _sds(v)):
            cases[np.dtype(dt).name] = v
    for key, v in [("f32_2d", rng.normal(size=(3, 4)).astype(np.float32)), ("f32_0d", np.float32(0.75)),
                   ("f32_empty", np.zeros((0, 3), np.float32)), ("i32_0d", np.int32(-3))]:
        if _valid(jfn, _sds(v)):
            cases[key] = v
    for s in (0.5, 2):  # Python scalars: weak literals in the graph
        if _valid(jfn, _sds(s)):
            consts[f"py_{s}"] = s

    weak_ok = _valid(jfn, jax.ShapeDtypeStruct((2,), np.float32, weak_type=True))

    def run(lib, np_lib, fn):
        def f(d, weak):
            out = {k: fn(v) for k, v in d.items()}
            out.update({k: fn(s) for k, s in consts.items()})
            if weak_ok:
                out["weak_array"] = fn(weak)  # a weak jit argument stays weak in the trace
            return out
        return lib.jit(f)(cases, np_lib.full((2,), 0.25))

    jout, xout = jax_side(lambda: run(jax, jnp, jfn)), run(xf, xnp, xfn)
    assert set(jout) == set(xout)
    for k in jout:
        assert_same(jout[k], xout[k], (name, k))
    # eagerly (one op program per primitive)
    v = cases.get("float32", cases.get("int32"))
    assert_same(jax_side(lambda v: jfn(v), v), xfn(v), (name, "eager"))


def test_unary_kind_errors_match_jnp():
    c = np.array([1 + 2j], np.complex64)
    f = np.array([1.5], np.float32)
    b = np.array([True])
    for name, arg in [("floor", c), ("cbrt", c), ("fabs", c), ("isposinf", c), ("negative", b), ("sign", b),
                      ("bitwise_not", f), ("signbit", c)]:
        _raises_same(getattr(jnp, name), getattr(xnp, name), arg)
    assert_same(jax_side(lambda: jnp.negative(b.astype(np.uint8))), xnp.negative(b.astype(np.uint8)))


def test_round_decimals_and_angle():
    x = np.array([1.25, 2.35, -0.5, 0.5, 1.5, 2.5, 123.456, -7.77], np.float32)
    for d in (0, 1, 2, -1):
        assert_same(jax_side(lambda: jnp.round(x, d)), xnp.round(x, d), d)
        assert_same(jax_side(lambda: jnp.around(x, d)), xnp.around(x, d), d)
    c = np.array([1.5 + 2.5j, -0.5 - 1.5j], np.complex64)
    assert_same(jax_side(lambda: jnp.round(c)), xnp.round(c))
    assert_same(jax_side(lambda: jnp.round(np.array([3, -4], np.int8))), xnp.round(np.array([3, -4], np.int8)))
    assert_same(jax_side(lambda: jnp.round(np.float16([1.25]), 1)), xnp.round(np.float16([1.25]), 1))
    with pytest.raises(NotImplementedError):
        xnp.round(np.array([15, 25]), -1)
    assert_same(jax_side(lambda: jnp.round(jnp.asarray(2.5))), xnp.round(xnp.asarray(2.5)))
    for v in (c, np.array([-3, 3], np.int8), np.array([-1.0, 2.0], np.float32)):
        for deg in (False, True):
            j, x = jnp.angle(v, deg=deg), xnp.angle(v, deg=deg)
            assert_same(j, x, ("angle", v.dtype, deg))
    # method spellings
    a = xnp.asarray(np.array([1.26, -3.5], np.float32))
    assert_same(jax_side(lambda: jnp.asarray(np.array([1.26, -3.5], np.float32)).round(1)), a.round(1))
    assert_same(jax_side(lambda: jnp.asarray(c).real), xnp.asarray(c).real)
    assert_same(jax_side(lambda: jnp.asarray(c).imag), xnp.asarray(c).imag)
    assert_same(jax_side(lambda: jnp.asarray(c).conj()), xnp.asarray(c).conj())


def test_nan_to_num_options():
    x = np.array([np.nan, np.inf, -np.inf, 1.0, -2.0], np.float32)
    for kw in ({}, dict(nan=5.0), dict(posinf=9.0, neginf=-9.0)):
        assert_same(jax_side(lambda: jnp.nan_to_num(x, **kw)), xnp.nan_to_num(x, **kw), kw)
    c = np.array([complex(np.nan, np.inf), complex(-np.inf, 1)], np.complex64)
    assert_same(jax_side(lambda: jnp.nan_to_num(c)), xnp.nan_to_num(c))
    h = np.array([np.nan, np.inf], np.float16)
    assert_same(jax_side(lambda: jnp.nan_to_num(h)), xnp.nan_to_num(h))


# ----------------------------------------------------------------------------- binary

BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "remainder", "fmod",
          "power", "float_power", "arctan2", "hypot", "maximum", "minimum", "fmax", "fmin", "heaviside",
          "copysign", "logaddexp", "logaddexp2", "logical_and", "logical_or", "logical_xor", "bitwise_and",
          "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "equal", "not_equal", "less", "less_equal",
          "greater", "greater_equal", "nextafter"]
MIXED = [(np.int8, np.float32), (np.bool_, np.int32), (np.uint8, np.int8), (np.float16, ml_dtypes.bfloat16),
         (np.int32, np.complex64), (np.uint8, np.float16)]


def _second(dt, n=15):
    """Second operands: nonzero-ish divisors of both signs; small exponents for ints."""
    v = _vals(dt, n)
    dt = np.dtype(dt)
    if dt.kind == "i":
        return np.array([(i % 7) - 3 for i in range(n)], dt)
    if dt.kind == "u":
        return np.array([i % 5 for i in range(n)], dt)
    if dt.kind == "f" or dt == ml_dtypes.bfloat16:
        return np.resize(np.array([2.0, -2.0, 0.5, -1.5, 3.0, 1.0, -0.0, np.inf, np.nan], np.float32), n).astype(dt)
    return v[::-1].copy()


@pytest.mark.parametrize("name", BINARY)
def test_binary_against_jnp(name):
    jfn, xfn = getattr(jnp, name), getattr(xnp, name)
    cases = {}

    def add(key, a, b):
        if name == "fmod" and np.asarray(b).dtype.kind in "biu" and not np.all(np.asarray(b) != 0):
            return  # integer fmod by zero is whatever XLA's rem gives
        if _valid(jfn, jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype),
                  jax.ShapeDtypeStruct(np.shape(b), np.asarray(b).dtype)):
            cases[key] = (a, b)

    for dt in DTYPES:
        add(np.dtype(dt).name, _vals(dt), _second(dt))
    for d1, d2 in MIXED:
        add(f"{np.dtype(d1).name}-{np.dtype(d2).name}", _vals(d1), _second(d2))
    add("bcast", rng.normal(size=(3, 1)).astype(np.float32), rng.normal(size=(4,)).astype(np.float32) + 2)
    add("bcast_int", np.arange(-3, 3, dtype=np.int32).reshape(6, 1), np.array([1, -2, 3], np.int32))
    add("empty", np.zeros((0, 3), np.float32), np.ones((3,), np.float32))
    add("0d", np.float32(2.5), np.float32(-1.5))
    add("0d-1d", np.int32(7), np.array([2, -3, 5], np.int32))
    # Python scalars on either side (weak literals under jit)
    scal = {}
    for dt in (np.int32, np.float32, np.uint8, np.bool_):
        arr = _vals(dt, 6)
        for sc in (2, 1.5):
            for left in (False, True):
                args = (sc, arr) if left else (arr, sc)
                if name == "fmod" and left and arr.dtype.kind in "biu":
                    continue
                if _valid(jfn, *map(_sds, args)):
                    scal[f"{np.dtype(dt).name}_{sc}_{'left' if left else 'right'}"] = (left, args)

    # weak arrays: jit arguments that are Python scalars are weak
    ws = [w for w in (3, 0.75) if _valid(jfn, _sds(w), _sds(2))]
    sc = {k: (left, (a[1], a[0]) if left else a) for k, (left, a) in scal.items()}  # (left, (array, scalar))

    def run(lib, fn):
        def f(d, arrs, weak_args):
            out = {k: fn(a, b) for k, (a, b) in d.items()}
            # the Python scalars are closed over: literals in the graph, not arguments
            out.update({k: fn(*((sc[k][1][1], a) if sc[k][0] else (a, sc[k][1][1]))) for k, a in arrs.items()})
            out.update({f"weak_{i}": fn(w, weak_args[-1]) for i, w in enumerate(weak_args[:-1])})
            return out
        return lib.jit(f)(cases, {k: v[1][0] for k, v in sc.items()}, (*ws, 2))

    jout, xout = jax_side(lambda: run(jax, jfn)), run(xf, xfn)
    assert set(jout) == set(xout)
    for k in jout:
        assert_same(jout[k], xout[k], (name, k))
    # eagerly: an array with a Python scalar
    args = (_vals(np.float32, 6), 2)
    if _valid(jfn, *map(_sds, args)):
        assert_same(jax_side(lambda *a: jfn(*a), *args), xfn(*args), (name, "eager"))


def test_integer_division_semantics():
    """floor_divide / remainder / divmod on negative operands and zero divisors, all int dtypes."""
    a = np.array([-7, 7, -7, 7, 0, 5, -5, 0], np.int32)
    b = np.array([2, -2, -2, 2, 3, 0, 0, 0], np.int32)
    for dt in (np.int8, np.int16, np.int32, np.uint8, np.uint32):
        x, y = (np.abs(a) if np.dtype(dt).kind == "u" else a).astype(dt), (np.abs(b) if np.dtype(dt).kind == "u" else b).astype(dt)
        for f in ("floor_divide", "remainder", "mod"):
            assert_same(jax_side(lambda: getattr(jnp, f)(x, y)), getattr(xnp, f)(x, y), (f, dt))
        nz = y != 0  # fmod by zero is whatever XLA's rem gives, as in jnp
        assert_same(jax_side(lambda: jnp.fmod(x[nz], y[nz])), xnp.fmod(x[nz], y[nz]), ("fmod", dt))
        jd, xd = jnp.divmod(x, y), xnp.divmod(x, y)
        assert_same(jd[0], xd[0]), assert_same(jd[1], xd[1])
    # Python semantics: the sign follows the divisor
    r = np.asarray(xnp.remainder(np.array([-7, 7], np.int32), np.array([2, -2], np.int32)))
    assert r.tolist() == [(-7) % 2, 7 % -2]
    q = np.asarray(xnp.floor_divide(np.array([-7.5, 7.5], np.float32), np.array([2.0, -2.0], np.float32)))
    assert q.tolist() == [-7.5 // 2.0, 7.5 // -2.0]


def test_power_forms():
    f = np.array([0.5, 2.0, -1.5, 0.0], np.float32)
    i = np.array([-3, 0, 2, 5], np.int32)
    for y in (0, 1, 2, 3, -1, -2, 7):
        assert_same(jax_side(lambda: jnp.power(f, y)), xnp.power(f, y), ("float", y))
        if y >= 0:
            assert_same(jax_side(lambda: jnp.power(i, y)), xnp.power(i, y), ("int", y))
    # a static Python int exponent is an integer_pow in the graph (exact, keeps the dtype)
    g = str(xf.make_jaxpr(lambda x: x ** 3)(f))
    assert "integer_pow" in g and "y=3" in g, g
    assert "pow" in str(xf.make_jaxpr(lambda x: x ** 2.5)(f))
    with pytest.raises(TypeError, match="negative powers"):
        xnp.power(i, -1)
    # integer array exponents (int ** int, float ** int)
    e = np.array([0, 1, 2, 3], np.int32)
    assert_same(jax_side(lambda: jnp.power(i, e)), xnp.power(i, e))
    assert_same(jax_side(lambda: jnp.power(f, e)), xnp.power(f, e))
    assert_same(jax_side(lambda: jnp.power(np.int8(3), e.astype(np.int8))), xnp.power(np.int8(3), e.astype(np.int8)))
    assert_same(jax_side(lambda: jnp.power(2, e)), xnp.power(2, e))
    assert_same(jax_side(lambda: jnp.power(f, np.float32(0.5))), xnp.power(f, np.float32(0.5)))
    b = np.array([True, False])
    assert_same(jax_side(lambda: jnp.power(b, 2)), xnp.power(b, 2))
    assert_same(jax_side(lambda: jnp.square(b)), xnp.square(b))


def test_complex_comparisons_and_minmax():
    a = np.array([1 + 2j, 1 + 3j, 2 - 1j, 1 + 2j], np.complex64)
    b = np.array([1 + 3j, 1 + 2j, 1 + 5j, 1 + 2j], np.complex64)
    for f in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "maximum", "minimum",
              "fmax", "fmin"):
        assert_same(jax_side(lambda: getattr(jnp, f)(a, b)), getattr(xnp, f)(a, b), f)
    assert_same(jax_side(lambda: jnp.arctan2(a, b)), xnp.arctan2(a, b))


def test_where_and_clip():
    c = np.array([True, False, True])
    x = np.array([1.0, 2.0, 3.0], np.float32)
    assert_same(jax_side(lambda: jnp.where(c, x, 0)), xnp.where(c, x, 0))
    assert_same(jax_side(lambda: jnp.where(c, 1, 2)), xnp.where(c, 1, 2))
    assert_same(jax_side(lambda: jnp.where(np.array([2, 0, -1], np.int8), 1, 2.0)), xnp.where(np.array([2, 0, -1], np.int8), 1, 2.0))
    assert_same(jax_side(lambda: jnp.where(c[:, None], x, np.float16(2))), xnp.where(c[:, None], x, np.float16(2)))
    assert_same(jax_side(lambda: jnp.where(True, x, 5)), xnp.where(True, x, 5))
    with pytest.raises(ValueError):
        xnp.where(c, x)
    i8 = np.array([-3, 3, 0], np.int8)
    assert_same(jax_side(lambda: jnp.clip(i8, 0.5)), xnp.clip(i8, 0.5))
    assert_same(jax_side(lambda: jnp.clip(i8, min=0, max=1)), xnp.clip(i8, min=0, max=1))
    assert_same(jax_side(lambda: jnp.clip(i8)), xnp.clip(i8))
    assert_same(jax_side(lambda: jnp.clip(x, 1.5, 2.5)), xnp.clip(x, 1.5, 2.5))
    assert_same(jax_side(lambda: jnp.clip(x, max=np.array([0, 5, 2.5], np.float32))), xnp.clip(x, max=np.array([0, 5, 2.5], np.float32)))
    # the older a_min / a_max spellings still work
    assert_same(jax_side(lambda: jnp.clip(x, min=1.5, max=2.5)), xnp.clip(x, a_min=1.5, a_max=2.5))
    assert_same(jax_side(lambda: jnp.asarray(x).clip(1.5, 2.5)), xnp.asarray(x).clip(1.5, 2.5))
    assert_same(jax_side(lambda: jnp.asarray(x).clip(max=2.0)), xnp.asarray(x).clip(max=2.0))


def test_isclose():
    a = np.array([1.0, 1.0 + 1e-6, np.inf, np.nan, -np.inf, 0.0], np.float32)
    b = np.array([1.0, 1.0, np.inf, np.nan, np.inf, 1e-9], np.float32)
    for kw in ({}, dict(equal_nan=True), dict(rtol=0.0, atol=0.0)):
        assert_same(jax_side(lambda: jnp.isclose(a, b, **kw)), xnp.isclose(a, b, **kw), kw)
    assert_same(jax_side(lambda: jnp.isclose(np.array([1, 2]), 2)), xnp.isclose(np.array([1, 2]), 2))


# ----------------------------------------------------------------------------- operators

BIN_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
           operator.pow, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]
INT_OPS = [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]


def test_operators_with_scalars_numpy_and_arrays():
    fa = np.array([[1.5, -2.0, 3.0]], np.float32)
    fb = np.array([[0.5], [2.0]], np.float32)
    ia = np.array([5, -7, 3], np.int32)
    ib = np.array([2, 3, -2], np.int32)
    jfa, xfa = jnp.asarray(fa), xnp.asarray(fa)
    jia, xia = jnp.asarray(ia), xnp.asarray(ia)
    for op in BIN_OPS:
        for other in (2, 1.5, fb):
            assert_same(jax_side(lambda: op(jfa, other)), op(xfa, other), (op.__name__, "arr op", type(other)))
            assert_same(op(other, jfa), op(other, xfa), (op.__name__, "reflected", type(other)))
        assert_same(jax_side(lambda: op(jfa, jnp.asarray(fb))), op(xfa, xnp.asarray(fb)), (op.__name__, "arr arr"))
        assert_same(jax_side(lambda: op(jia, 3)), op(xia, 3), (op.__name__, "int scalar"))
        if op is not operator.pow:
            assert_same(jax_side(lambda: op(jia, ib)), op(xia, ib), (op.__name__, "int numpy"))
    for op in INT_OPS:
        for other in (1, ib):
            assert_same(jax_side(lambda: op(jia, other)), op(xia, other), (op.__name__,))
            assert_same(op(other, jia), op(other, xia), (op.__name__, "reflected"))
    for op in (operator.neg, operator.pos, operator.abs, operator.invert):
        assert_same(jax_side(lambda: op(jia)), op(xia), op.__name__)
    for op in (operator.neg, operator.pos, operator.abs):
        assert_same(jax_side(lambda: op(jfa)), op(xfa), op.__name__)
    jd, xd = jax_side(lambda: divmod(jia, 4)), divmod(xia, 4)
    assert_same(jd[0], xd[0]), assert_same(jd[1], xd[1])
    jd, xd = jax_side(lambda: divmod(17, jia)), divmod(17, xia)
    assert_same(jd[0], xd[0]), assert_same(jd[1], xd[1])
    # operators under jit (tracers) with Python scalars on both sides
    j = jax_side(lambda fa: jax.jit(lambda x: (2 - x) * 3.0 / (x + 1) ** 2 % 4 // 1 - (-x) + abs(x))(fa), fa)
    x = xf.jit(lambda x: (2 - x) * 3.0 / (x + 1) ** 2 % 4 // 1 - (-x) + abs(x))(fa)
    assert_same(j, x)
    # unknown operand types are left to Python (NotImplemented -> TypeError)
    with pytest.raises(TypeError):
        xfa + "a"
    with pytest.raises(TypeError):
        "a" * xfa


# ----------------------------------------------------------------------------- errors

def test_shape_mismatch_names_shapes_and_site():
    here = os.path.basename(__file__)
    a, b = xnp.ones((3,)), xnp.ones((4,))
    with pytest.raises(TypeError) as e:
        jnp.add(jnp.ones(3), jnp.ones(4))  # jnp raises TypeError too
    with pytest.raises(TypeError) as e:
        xnp.add(a, b)
    msg = str(e.value)
    assert "(3,)" in msg and "(4,)" in msg and here in msg, msg
    # of different ranks: broadcast_shapes' ValueError, as jnp's
    with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
        jnp.ones(3) * jnp.ones((2, 4))
    with pytest.raises(ValueError, match="Incompatible shapes for broadcasting") as e:
        a * xnp.ones((2, 4))  # an operator
    assert "(3,)" in str(e.value) and "(2, 4)" in str(e.value) and here in str(e.value), str(e.value)
    with pytest.raises(ValueError) as e:
        xf.jit(lambda x, y: xnp.hypot(x, y))(xnp.ones((2, 3)), xnp.ones((4,)))
    assert "(2, 3)" in str(e.value) and "(4,)" in str(e.value) and here in str(e.value), str(e.value)
    # the next good call works, eagerly and under jit
    assert_same(jax_side(lambda: jnp.add(jnp.ones(3), jnp.ones(3))), xnp.add(a, xnp.ones(3)))
    assert_same(jax_side(lambda: jax.jit(jnp.hypot)(jnp.ones(3), 2.0)), xf.jit(xnp.hypot)(xnp.ones(3), 2.0))


def test_bad_operand_types():
    with pytest.raises(TypeError):
        xnp.sin("abc")
    with pytest.raises(TypeError):
        xnp.add([1, 2], 1)  # jnp rejects lists too
    with pytest.raises(TypeError):
        jnp.add([1, 2], 1)
    # a Python int wraps into the array's integer dtype (as JAX); only one beyond the default
    # int's range (int32 without x64) is an OverflowError
    assert_same(jax_side(lambda: jnp.add(np.array([1], np.int8), 1000)), xnp.add(np.array([1], np.int8), 1000))
    with pytest.raises(OverflowError):
        jnp.add(np.array([1], np.int8), 2 ** 31)
    with pytest.raises(OverflowError):
        xnp.add(np.array([1], np.int8), 2 ** 31)
    assert_same(jax_side(lambda: jnp.add(np.array([1], np.int8), 100)), xnp.add(np.array([1], np.int8), 100))


# ----------------------------------------------------------------------------- x64

@pytest.fixture
def x64():
    jax.config.update("jax_enable_x64", True)
    xf.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", False)
        xf.config.update("jax_enable_x64", False)


def test_ufuncs_with_x64(x64):
    f64 = np.linspace(-2, 2, 7)
    i64 = np.arange(-3, 4)
    u64 = np.arange(7, dtype=np.uint64)
    for name in ("sin", "sqrt", "floor", "sign", "abs", "exp2", "log10", "isnan", "signbit", "rint"):
        for v in (f64, i64, 1.5, 3):
            assert_same(jax_side(lambda: getattr(jnp, name)(v)), getattr(xnp, name)(v), (name, np.asarray(v).dtype))
    for name in ("add", "floor_divide", "remainder", "power", "true_divide", "maximum", "arctan2", "hypot",
                 "logaddexp", "bitwise_and"):
        jfn, xfn = getattr(jnp, name), getattr(xnp, name)
        for a, b in ((f64, 2.5), (i64, 2), (i64, f64), (np.float32(2), i64), (u64, i64), (2, 3.5),
                     (i64.astype(np.int8), 7)):
            if not _valid(jfn, *[jax.ShapeDtypeStruct(np.shape(v), np.asarray(v).dtype,
                                                      weak_type=not isinstance(v, (np.ndarray, np.generic)))
                                 for v in (a, b)]):
                continue
            assert_same(jax_side(lambda a, b: jfn(a, b), a, b), xfn(a, b), (name, np.asarray(a).dtype, np.asarray(b).dtype))
