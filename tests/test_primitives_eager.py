"""Every primitive's StableHLO lowering, compiled and run eagerly, against jax.lax.

Each test runs one primitive over a few dtypes and shapes (0-d and empty included) and
compares value, shape, dtype and weak_type with the equivalent jax.lax call. Gather and
scatter live in tests of the indexing layer.
"""
import contextlib
import importlib.util

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
from xlafront import core
from xlafront import primitives as P
import xlafront.lowering.rules as rules

from jax_ref import recorded

lax = recorded(jax.lax)   # JAX's side: recorded (tests/jax_ref.py)

bf16 = np.dtype(ml_dtypes.bfloat16)
f16, f32, f64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
c64, c128 = np.dtype(np.complex64), np.dtype(np.complex128)
i8, i32, i64, u8, u32 = (np.dtype(t) for t in (np.int8, np.int32, np.int64, np.uint8, np.uint32))
b1 = np.dtype(np.bool_)

_TOL = {bf16: 2e-2, f16: 2e-3, f32: 2e-6, f64: 1e-13, c64: 2e-6, c128: 1e-13}


@contextlib.contextmanager
def x64():
    """Turn on 64-bit mode in both libraries for the block."""
    prev = (xf.config.x64, jax.config.jax_enable_x64)
    xf.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        xf.config.update("jax_enable_x64", prev[0])
        jax.config.update("jax_enable_x64", prev[1])


def assert_same(ours, ref, what="", tol_scale=1.0):
    """Same shape, dtype, weak_type and values (NaNs where the reference has NaNs)."""
    if isinstance(ref, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(ref), what
        for o, r in zip(ours, ref):
            assert_same(o, r, what, tol_scale)
        return
    assert isinstance(ours, xf.Array), f"{what}: got {type(ours)}"
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != {ref.dtype}"
    assert ours.weak_type == ref.weak_type, f"{what}: weak_type {ours.weak_type} != {ref.weak_type}"
    a, b = np.asarray(ours), np.asarray(ref)
    tol = _TOL.get(np.dtype(b.dtype))
    if tol is None:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        wide = np.complex128 if b.dtype.kind == "c" else np.float64
        with np.errstate(invalid="ignore"):
            a, b = a.astype(wide), b.astype(wide)
        np.testing.assert_allclose(a, b, rtol=tol * tol_scale, atol=tol * tol_scale, equal_nan=True,
                                   err_msg=what)


def sample(dtype, shape, domain="any", seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == b1:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = (max(info.min, -100), min(info.max, 100)) if domain != "bits" else (info.min, info.max)
        if domain == "pos":
            lo = 1
        if domain == "shift":
            lo, hi = 0, 8 * dtype.itemsize + 2
        return rng.integers(lo, hi, shape, dtype=dtype, endpoint=True)
    lo, hi = {"any": (-3, 3), "pos": (0.1, 4), "unit": (-0.95, 0.95), "ge1": (1.05, 4)}[domain]
    x = rng.uniform(lo, hi, shape)
    if dtype.kind == "c":
        x = x + 1j * rng.uniform(lo, hi, shape)
    return np.asarray(x).astype(dtype)


# --------------------------------------------------------------------------- unary
FLOATS = ((f32, (2, 3)), (f32, ()), (f32, (0,)), (bf16, (4,)), (f16, (4,)))
COMPLEX = ((c64, (3,)),)
INTS = ((i32, (5,)), (u8, (2, 2)), (i8, ()))
BOOLS = ((b1, (4,)),)

# name: (xlafront wrapper, jax.lax function, cases, domain)
UNARY = {
    "neg": (P.neg, lax.neg, FLOATS + COMPLEX + INTS, "any"),
    "sign": (P.sign, lax.sign, FLOATS + COMPLEX + ((i32, (5,)), (u8, (3,))), "any"),
    "floor": (P.floor, lax.floor, FLOATS, "any"),
    "ceil": (P.ceil, lax.ceil, FLOATS, "any"),
    "is_finite": (P.is_finite, lax.is_finite, FLOATS, "any"),
    "exp": (P.exp, lax.exp, FLOATS + COMPLEX, "any"),
    "exp2": (P.exp2, lax.exp2, FLOATS + COMPLEX, "any"),
    "log": (P.log, lax.log, FLOATS + COMPLEX, "pos"),
    "log1p": (P.log1p, lax.log1p, FLOATS + COMPLEX, "pos"),
    "expm1": (P.expm1, lax.expm1, FLOATS + COMPLEX, "any"),
    "tanh": (P.tanh, lax.tanh, FLOATS + COMPLEX, "any"),
    "logistic": (P.logistic, lax.logistic, FLOATS + COMPLEX, "any"),
    "sin": (P.sin, lax.sin, FLOATS + COMPLEX, "any"),
    "cos": (P.cos, lax.cos, FLOATS + COMPLEX, "any"),
    "tan": (P.tan, lax.tan, FLOATS + COMPLEX, "unit"),
    "asin": (P.asin, lax.asin, FLOATS + COMPLEX, "unit"),
    "acos": (P.acos, lax.acos, FLOATS + COMPLEX, "unit"),
    "atan": (P.atan, lax.atan, FLOATS + COMPLEX, "any"),
    "sinh": (P.sinh, lax.sinh, FLOATS + COMPLEX, "any"),
    "cosh": (P.cosh, lax.cosh, FLOATS + COMPLEX, "any"),
    "asinh": (P.asinh, lax.asinh, FLOATS + COMPLEX, "any"),
    "acosh": (P.acosh, lax.acosh, FLOATS + COMPLEX, "ge1"),
    "atanh": (P.atanh, lax.atanh, FLOATS + COMPLEX, "unit"),
    "sqrt": (P.sqrt, lax.sqrt, FLOATS + COMPLEX, "pos"),
    "rsqrt": (P.rsqrt, lax.rsqrt, FLOATS + COMPLEX, "pos"),
    "cbrt": (P.cbrt, lax.cbrt, FLOATS, "any"),
    "abs": (P.abs, lax.abs, FLOATS + COMPLEX + ((i32, (5,)), (i8, ())), "any"),
    "not": (P.bitwise_not, lax.bitwise_not, INTS + BOOLS, "bits"),
    "real": (P.real, lax.real, COMPLEX + ((c64, ()),), "any"),
    "imag": (P.imag, lax.imag, COMPLEX + ((c64, ()),), "any"),
    "conj": (P.conj, lax.conj, COMPLEX + ((c64, ()),), "any"),
    "square": (P.square, lax.square, FLOATS + COMPLEX + INTS, "any"),
    "population_count": (P.population_count, lax.population_count, INTS + ((u32, (3,)),), "bits"),
    "erf": (P.erf, lax.erf, FLOATS, "any"),
    "erf_inv": (P.erf_inv, lax.erf_inv, FLOATS, "unit"),
    "lgamma": (P.lgamma, lax.lgamma, FLOATS, "pos"),
    "digamma": (P.digamma, lax.digamma, FLOATS, "pos"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    ours, ref, cases, domain = UNARY[name]
    for dt, shape in cases:
        x = sample(dt, shape, domain)
        assert_same(ours(x), ref(x), f"{name} {dt}{list(shape)}", tol_scale=5 if name == "erf_inv" else 1)


def test_unary_special_values():
    """NaN, infinities and signed zeros go through each op as in JAX."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -2.5, 3.5, 0.5, -0.5], np.float32)
    for name in ("neg", "sign", "floor", "ceil", "is_finite", "exp", "log", "sqrt", "tanh", "abs",
                 "logistic", "erf", "cbrt", "square", "lgamma", "digamma", "sin", "atan"):
        ours, ref, _, _ = UNARY[name]
        assert_same(ours(x), ref(x), f"{name} on special values", tol_scale=5)


def test_round_modes():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6, np.nan, np.inf], np.float32)
    for method in (0, 1):
        assert_same(P.round(x, method), lax.round(x, method), f"round method {method}")
    assert_same(P.round(x.astype(bf16), 1), lax.round(x.astype(bf16), 1), "round bf16")
    assert_same(P.round(np.float32(2.5), 0), lax.round(np.float32(2.5), 0), "round 0-d")


def test_integer_pow():
    x = sample(f32, (2, 3))
    for y in (0, 1, 2, 3, 5, -1, -2):
        assert_same(P.integer_pow(x, y), lax.integer_pow(x, y), f"integer_pow {y}")
    xi = sample(i32, (4,))
    assert_same(P.integer_pow(xi, 3), lax.integer_pow(xi, 3), "integer_pow int32")
    xc = sample(c64, (3,))
    assert_same(P.integer_pow(xc, 3), lax.integer_pow(xc, 3), "integer_pow complex64")


def test_float64_unary():
    with x64():
        x = sample(f64, (4,), "unit")
        for name in ("exp", "sin", "erf", "erf_inv", "atanh", "tan", "lgamma", "cbrt"):
            ours, ref, _, _ = UNARY[name]
            assert_same(ours(x), ref(x), f"{name} f64", tol_scale=100)
        z = sample(c128, (3,))
        assert_same(P.exp(z), lax.exp(z), "exp c128")
        assert_same(P.abs(z), lax.abs(z), "abs c128")


# --------------------------------------------------------------------------- binary
FB = ((f32, (2, 3)), (f32, ()), (f32, (0, 2)), (bf16, (4,)))
IB = ((i32, (5,)), (u8, (3,)), (i8, ()))
BB = ((b1, (4,)),)
CB = ((c64, (3,)),)

BINARY = {
    "add": (P.add, lax.add, FB + IB + CB, "any"),
    "sub": (P.sub, lax.sub, FB + IB + CB, "any"),
    "mul": (P.mul, lax.mul, FB + IB + CB, "any"),
    "div": (P.div, lax.div, FB + ((i32, (5,)), (u8, (3,))) + CB, "pos"),
    "rem": (P.rem, lax.rem, FB + ((i32, (5,)), (u8, (3,))), "pos"),
    "pow": (P.pow, lax.pow, FB + CB, "pos"),
    "max": (P.max, lax.max, FB + IB + BB, "any"),
    "min": (P.min, lax.min, FB + IB + BB, "any"),
    "atan2": (P.atan2, lax.atan2, FB, "any"),
    "nextafter": (P.nextafter, lax.nextafter, FB, "any"),
    "and": (P.bitwise_and, lax.bitwise_and, IB + BB, "bits"),
    "or": (P.bitwise_or, lax.bitwise_or, IB + BB, "bits"),
    "xor": (P.bitwise_xor, lax.bitwise_xor, IB + BB, "bits"),
    "shift_left": (P.shift_left, lax.shift_left, IB, "shift"),
    "shift_right_arithmetic": (P.shift_right_arithmetic, lax.shift_right_arithmetic, IB, "shift"),
    "shift_right_logical": (P.shift_right_logical, lax.shift_right_logical, IB, "shift"),
    "eq": (P.eq, lax.eq, FB + IB + BB + CB, "any"),
    "ne": (P.ne, lax.ne, FB + IB + BB + CB, "any"),
    "lt": (P.lt, lax.lt, FB + IB + BB, "any"),
    "le": (P.le, lax.le, FB + IB + BB, "any"),
    "gt": (P.gt, lax.gt, FB + IB + BB, "any"),
    "ge": (P.ge, lax.ge, FB + IB + BB, "any"),
    "complex": (P.complex, lax.complex, FB[:3], "any"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name):
    ours, ref, cases, domain = BINARY[name]
    for dt, shape in cases:
        x = sample(dt, shape, "any" if domain in ("pos", "shift") and name not in ("div", "rem", "pow")
                   else ("bits" if domain == "shift" else domain), seed=1)
        y = sample(dt, shape, domain, seed=2)
        if name in ("eq", "ne", "le", "ge") and x.size:
            y.reshape(-1)[0] = x.reshape(-1)[0]   # some equal pairs
        assert_same(ours(x, y), ref(x, y), f"{name} {dt}{list(shape)}")
    # a rank-0 operand against an array (the lowering broadcasts it)
    dt, shape = cases[0]
    x, y = sample(dt, (3, 2), domain, seed=3), sample(dt, (), domain, seed=4)
    yb = np.broadcast_to(y, x.shape)
    assert_same(ours(x, y), ref(x, yb), f"{name} with a rank-0 right operand")
    assert_same(ours(y, x), ref(yb, x), f"{name} with a rank-0 left operand")


def test_binary_special_values():
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.5], np.float32)
    x, y = np.repeat(v, len(v)), np.tile(v, len(v))
    for name in ("add", "mul", "div", "rem", "pow", "max", "min", "atan2", "nextafter",
                 "eq", "ne", "lt", "ge"):
        ours, ref, _, _ = BINARY[name]
        assert_same(ours(x, y), ref(x, y), f"{name} on special values")


def test_integer_division_and_remainder_signs():
    x = np.array([7, -7, 7, -7, 0, 5], np.int32)
    y = np.array([2, 2, -2, -2, 3, 5], np.int32)
    assert_same(P.div(x, y), lax.div(x, y), "int div truncates")
    assert_same(P.rem(x, y), lax.rem(x, y), "int rem takes the dividend's sign")
    xf_ = x.astype(np.float32) + 0.5
    assert_same(P.rem(xf_, y.astype(np.float32)), lax.rem(xf_, y.astype(np.float32)), "float rem")


def test_pow_integer_exponent():
    x = sample(f32, (4,), "pos")
    y = np.array([0, 1, -2, 3], np.int32)
    assert_same(P.pow(x, y), lax.pow(x, y), "pow with int exponent")
    xn = np.array([-2.0, -0.5, 0.0, 3.0, -np.inf, np.nan], np.float32)
    yn = np.array([3, -3, -1, 0, 3, 0], np.int32)
    assert_same(P.pow(xn, yn), lax.pow(xn, yn), "pow: negative bases, zero and special values")


def test_weak_types_of_python_scalars():
    assert_same(P.add(2.0, 3.0), lax.add(2.0, 3.0), "weak + weak")
    x = sample(f32, (3,))
    assert_same(P.mul(x, 2.0), lax.mul(x, 2.0), "strong * weak")
    assert_same(P.lt(1, 2), lax.lt(1, 2), "comparison of weak ints")
    assert_same(P.neg(3), lax.neg(3), "neg of a weak int")


# --------------------------------------------------------------------------- select, clamp, convert
def test_select_n():
    a, b, c = (sample(f32, (2, 3), seed=s) for s in (1, 2, 3))
    pred = sample(b1, (2, 3))
    assert_same(P.select_n(pred, a, b), lax.select_n(pred, a, b), "bool selector")
    assert_same(P.select_n(np.True_, a, b), lax.select_n(np.True_, a, b), "scalar bool selector")
    which = np.array([[0, 1, 2], [2, 1, 0]], np.int32)
    assert_same(P.select_n(which, a, b, c), lax.select_n(which, a, b, c), "int32 selector, 3 cases")
    w4 = np.array([[0, 1, 2], [3, 3, 1]], np.int32)
    d = sample(f32, (2, 3), seed=4)
    assert_same(P.select_n(w4, a, b, c, d), lax.select_n(w4, a, b, c, d), "int32 selector, 4 cases")
    assert_same(P.select_n(np.int32(2), a, b, c), lax.select_n(np.int32(2), a, b, c), "scalar int selector")
    assert_same(P.select_n(pred, a), lax.select_n(pred, a), "one case")
    ia, ib = sample(i32, (0,)), sample(i32, (0,), seed=5)
    assert_same(P.select_n(np.zeros(0, bool), ia, ib), lax.select_n(np.zeros(0, bool), ia, ib), "empty")
    assert_same(P.select_n(np.False_, np.float32(1), np.float32(2)),
                lax.select_n(np.False_, np.float32(1), np.float32(2)), "0-d")
    assert_same(P.select(pred, a, b), lax.select(pred, a, b), "select")


def test_clamp():
    x = sample(f32, (2, 3))
    lo, hi = np.float32(-1), np.float32(1.5)
    assert_same(P.clamp(lo, x, hi), lax.clamp(lo, x, hi), "scalar bounds")
    alo, ahi = sample(f32, (2, 3), seed=7) - 2, sample(f32, (2, 3), seed=8) + 2
    assert_same(P.clamp(alo, x, ahi), lax.clamp(alo, x, ahi), "array bounds")
    assert_same(P.clamp(lo, x, ahi), lax.clamp(lo, x, ahi), "mixed bounds")
    xi = sample(i32, (5,))
    assert_same(P.clamp(np.int32(-3), xi, np.int32(4)), lax.clamp(np.int32(-3), xi, np.int32(4)), "int")
    assert_same(P.clamp(lo, np.float32(7), hi), lax.clamp(lo, np.float32(7), hi), "0-d")
    xn = np.array([np.nan, -np.inf, np.inf], np.float32)
    assert_same(P.clamp(lo, xn, hi), lax.clamp(lo, xn, hi), "special values")


CONVERT_DTYPES = (b1, i8, u32, bf16, f16, f32, c64)


def test_convert_element_type():
    for src in CONVERT_DTYPES:
        x = sample(src, (2, 3), "any", seed=3)
        for dst in CONVERT_DTYPES:
            if src.kind == "c" and dst.kind != "c" or src == dst:
                continue  # JAX warns and drops the imaginary part; covered below
            assert_same(P.convert_element_type(x, dst), lax.convert_element_type(x, dst),
                        f"convert {src} -> {dst}")
    z = sample(c64, (3,))
    with pytest.warns(np.exceptions.ComplexWarning):
        ref = jax.lax.convert_element_type(z, f32)   # (live: the warning is JAX's)
    assert_same(P.convert_element_type(z, f32), ref, "complex -> real keeps the real part")
    v = np.array([np.nan, np.inf, -0.0, 0.25, -3.75], np.float32)
    for dst in (b1, f16, bf16):
        assert_same(P.convert_element_type(v, dst), lax.convert_element_type(v, dst), f"special -> {dst}")
    assert_same(P.convert_element_type(np.float32(2.5), i32),
                lax.convert_element_type(np.float32(2.5), i32), "0-d")
    assert_same(P.convert_element_type(2.0, f32, weak_type=True),
                lax.convert_element_type_p.bind(2.0, new_dtype=f32, weak_type=True, sharding=None),
                "to a weak type")


def test_convert_float64_and_int64():
    with x64():
        x = sample(f64, (3,))
        for dst in (i64, f32, c128, b1, bf16):
            assert_same(P.convert_element_type(x, dst), lax.convert_element_type(x, dst), f"f64 -> {dst}")
        big = np.array([2 ** 40, -(2 ** 40) - 1], np.int64)
        assert_same(P.convert_element_type(big, f64), lax.convert_element_type(big, f64), "i64 -> f64")


def test_bitcast_convert_type():
    x = sample(f32, (2, 3))
    cases = [(x, i32), (x, u32), (x, u8), (x, bf16), (sample(u8, (3, 4), "bits"), f32),
             (sample(u8, (5, 2), "bits"), np.dtype(np.int16)), (np.float32(1.5), i32),
             (sample(f32, (0,)), i32)]
    for v, dt in cases:
        assert_same(P.bitcast_convert_type(v, dt), lax.bitcast_convert_type(v, dt),
                    f"bitcast {np.asarray(v).dtype}{list(np.shape(v))} -> {dt}")


def test_copy():
    x = sample(f32, (2,))
    assert_same(P.copy(x), lax.copy_p.bind(x), "copy")


# --------------------------------------------------------------------------- shapes
def test_shape_ops():
    x = sample(f32, (2, 3, 4))
    e = sample(i32, (0, 3))
    s = np.float32(3.0)
    checks = [
        (P.broadcast_in_dim(x[:, :1, :], (2, 5, 4), (0, 1, 2)), lax.broadcast_in_dim(x[:, :1, :], (2, 5, 4), (0, 1, 2))),
        (P.broadcast_in_dim(s, (2, 2), ()), lax.broadcast_in_dim(s, (2, 2), ())),
        (P.broadcast_in_dim(e, (2, 0, 3), (1, 2)), lax.broadcast_in_dim(e, (2, 0, 3), (1, 2))),
        (P.broadcast(x[0], (3,)), lax.broadcast(x[0], (3,))),
        (P.reshape(x, (4, 6)), lax.reshape(x, (4, 6))),
        (P.reshape(x, (3, 8), (2, 1, 0)), lax.reshape(x, (3, 8), (2, 1, 0))),
        (P.reshape(s, (1, 1)), lax.reshape(s, (1, 1))),
        (P.reshape(e, (3, 0)), lax.reshape(e, (3, 0))),
        (P.squeeze(x[:1, :, :1], (0, 2)), lax.squeeze(x[:1, :, :1], (0, 2))),
        (P.expand_dims(x, (0, 3)), lax.expand_dims(x, (0, 3))),
        (P.transpose(x, (2, 0, 1)), lax.transpose(x, (2, 0, 1))),
        (P.transpose(e, (1, 0)), lax.transpose(e, (1, 0))),
        (P.rev(x, (0, 2)), lax.rev(x, (0, 2))),
        (P.rev(s, ()), lax.rev(s, ())),
        (P.concatenate([x, x[:, :1]], 1), lax.concatenate([x, x[:, :1]], 1)),
        (P.concatenate([e, e, sample(i32, (2, 3))], 0), lax.concatenate([e, e, sample(i32, (2, 3))], 0)),
        (P.pad(x, np.float32(-1), ((1, 2, 0), (0, 0, 1), (-1, 1, 2))),
         lax.pad(x, np.float32(-1), ((1, 2, 0), (0, 0, 1), (-1, 1, 2)))),
        (P.pad(e, np.int32(7), ((1, 1, 0), (0, 0, 0))), lax.pad(e, np.int32(7), ((1, 1, 0), (0, 0, 0)))),
        (P.slice(x, (0, 1, 0), (2, 3, 4)), lax.slice(x, (0, 1, 0), (2, 3, 4))),
        (P.slice(x, (0, 0, 1), (2, 3, 4), (2, 2, 2)), lax.slice(x, (0, 0, 1), (2, 3, 4), (2, 2, 2))),
        (P.slice(x, (1, 1, 1), (1, 3, 4)), lax.slice(x, (1, 1, 1), (1, 3, 4))),
        (P.iota(i32, 5), lax.iota(i32, 5)),
        (P.iota(f32, 0), lax.iota(f32, 0)),
        (P.broadcasted_iota(u8, (2, 3), 1), lax.broadcasted_iota(u8, (2, 3), 1)),
    ]
    for i, (o, r) in enumerate(checks):
        assert_same(o, r, f"shape op #{i}")


def test_dynamic_slice_wraps_and_clamps_like_jax():
    """Negative start indices count from the end, then starts are clamped into range,
    as jax.lax.dynamic_slice / dynamic_update_slice do."""
    x = sample(f32, (4, 5))
    u = sample(f32, (2, 3), seed=9)
    for starts in [(1, 2), (3, 4), (-1, 0), (10, -10), (0, 0), (-3, -2)]:
        idx = [np.int32(s) for s in starts]
        assert_same(P.dynamic_slice(x, idx, (2, 3)), lax.dynamic_slice(x, idx, (2, 3)), f"starts {starts}")
        assert_same(P.dynamic_update_slice(x, u, idx), lax.dynamic_update_slice(x, u, idx), f"update {starts}")
    with x64():
        idx = [np.int64(1), np.int64(1)]
        assert_same(P.dynamic_slice(x, idx, (1, 1)), lax.dynamic_slice(x, idx, (1, 1)), "int64 starts")
    assert_same(P.dynamic_slice(x, [np.int32(1), np.int32(1)], (0, 2)),
                lax.dynamic_slice(x, [np.int32(1), np.int32(1)], (0, 2)), "empty slice")


# --------------------------------------------------------------------------- reductions
REDUCE = {
    "reduce_sum": (P.reduce_sum, lax.reduce_sum_p, (f32, i32, bf16, c64, u8)),
    "reduce_prod": (P.reduce_prod, lax.reduce_prod_p, (f32, i32, c64)),
    "reduce_max": (P.reduce_max, lax.reduce_max_p, (f32, i32, u8, b1, bf16)),
    "reduce_min": (P.reduce_min, lax.reduce_min_p, (f32, i8, u32, b1)),
    "reduce_and": (P.reduce_and, lax.reduce_and_p, (b1,)),
    "reduce_or": (P.reduce_or, lax.reduce_or_p, (b1,)),
    "reduce_xor": (P.reduce_xor, lax.reduce_xor_p, (b1, i32)),
}


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reductions(name):
    ours, ref_p, dts = REDUCE[name]
    for dt in dts:
        for shape, axes in (((2, 3, 4), (0, 2)), ((2, 3), (1,)), ((0, 3), (0,)), ((0, 3), (1,)), ((), ())):
            x = sample(dt, shape, "unit" if name == "reduce_prod" else "any")
            params = dict(axes=axes) if name in ("reduce_and", "reduce_or", "reduce_xor") else dict(axes=axes, out_sharding=None)
            ref = ref_p.bind(x, **params)
            assert_same(ours(x, axes), ref, f"{name} {dt}{list(shape)} axes={axes}")


def test_reductions_with_nan_and_inf():
    x = np.array([[1.0, np.nan, -np.inf], [np.inf, 2.0, -1.0]], np.float32)
    for name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
        ours, ref_p, _ = REDUCE[name]
        for axes in ((0,), (1,), (0, 1)):
            assert_same(ours(x, axes), ref_p.bind(x, axes=axes, out_sharding=None), f"{name} {axes}")


def test_argmin_argmax():
    x = np.array([[3.0, np.nan, 1.0, np.nan], [2.0, 2.0, -1.0, -1.0], [0.0, -0.0, np.inf, -np.inf]], np.float32)
    for ours, ref in ((P.argmax, lax.argmax), (P.argmin, lax.argmin)):
        for axis in (0, 1):
            for idt in (i32, u8):
                assert_same(ours(x, axis, idt), ref(x, axis, idt), f"{ours.__name__} axis {axis} {idt}")
        xi = sample(i8, (3, 4))
        assert_same(ours(xi, 1, i32), ref(xi, 1, i32), f"{ours.__name__} int8")
        xb = sample(b1, (5,))
        assert_same(ours(xb, 0, i32), ref(xb, 0, i32), f"{ours.__name__} bool")
        x0 = sample(f32, (0, 3))
        assert_same(ours(x0, 1, i32), ref(x0, 1, i32), f"{ours.__name__} empty non-reduced axis")


CUMULATIVE = {
    "cumsum": (P.cumsum, lax.cumsum, (f32, i32, bf16, c64)),
    "cumprod": (P.cumprod, lax.cumprod, (f32, i32)),
    "cummax": (P.cummax, lax.cummax, (f32, i32, u8)),
    "cummin": (P.cummin, lax.cummin, (f32, i8)),
    "cumlogsumexp": (P.cumlogsumexp, lax.cumlogsumexp, (f32, bf16)),
}


@pytest.mark.parametrize("name", sorted(CUMULATIVE))
def test_cumulative(name):
    ours, ref, dts = CUMULATIVE[name]
    for dt in dts:
        for shape, axis in (((3, 4), 1), ((5,), 0), ((0, 2), 0)):
            x = sample(dt, shape, "unit")
            for reverse in (False, True):
                assert_same(ours(x, axis, reverse), ref(x, axis, reverse),
                            f"{name} {dt}{list(shape)} axis={axis} reverse={reverse}", tol_scale=4)
    if dts[0] == f32:
        v = np.array([1.0, np.nan, -np.inf, np.inf, 2.0, -np.inf], np.float32)
        assert_same(ours(v, 0, False), ref(v, 0, False), f"{name} special values")
        w = np.array([-np.inf, -np.inf, 0.0], np.float32)
        assert_same(ours(w, 0, True), ref(w, 0, True), f"{name} leading -inf")


# --------------------------------------------------------------------------- products
def test_dot_general():
    a, b = sample(f32, (2, 3, 4)), sample(f32, (2, 4, 5), seed=2)
    dn = (((2,), (1,)), ((0,), (0,)))
    assert_same(P.dot_general(a, b, dn), lax.dot_general(a, b, dn), "batched matmul")
    m, v = sample(f32, (3, 4)), sample(f32, (4,), seed=3)
    assert_same(P.dot(m, v), lax.dot(m, v), "matvec")
    assert_same(P.dot(v, v), lax.dot(v, v), "inner product (0-d result)")
    dn2 = (((), ()), ((), ()))
    assert_same(P.dot_general(v, m, dn2), lax.dot_general(v, m, dn2), "outer product")
    ia, ib = sample(i8, (2, 3)), sample(i8, (3, 2), seed=4)
    assert_same(P.dot(ia, ib, preferred_element_type=i32), lax.dot(ia, ib, preferred_element_type=i32),
                "int8 -> int32 accumulation")
    ha, hb = sample(bf16, (2, 3)), sample(bf16, (3, 2), seed=5)
    assert_same(P.dot(ha, hb, preferred_element_type=f32), lax.dot(ha, hb, preferred_element_type=f32),
                "bf16 -> f32")
    ca, cb = sample(c64, (2, 2)), sample(c64, (2, 2), seed=6)
    assert_same(P.dot(ca, cb), lax.dot(ca, cb), "complex")
    e1, e2 = sample(f32, (0, 3)), sample(f32, (3, 2))
    assert_same(P.dot(e1, e2), lax.dot(e1, e2), "empty rows")
    z1, z2 = sample(f32, (2, 0)), sample(f32, (0, 2))
    assert_same(P.dot(z1, z2), lax.dot(z1, z2), "empty contraction gives zeros")
    assert_same(P.dot(m, v, precision="HIGHEST"), lax.dot(m, v, precision=lax.Precision.HIGHEST), "precision")


def test_sort():
    v = np.array([3.0, np.nan, -0.0, 0.0, 1.0, -np.inf, 2.0, -np.nan, np.inf, 1.0], np.float32)
    idx = np.arange(v.size, dtype=np.int32)
    assert_same(P.sort(v), lax.sort(v), "floats with NaN, inf and signed zeros")
    assert_same(P.sort((v, idx), 0, True, 1), lax.sort((v, idx), 0, True, 1), "stable argsort")
    m = sample(f32, (3, 4))
    for dim in (0, 1, -1):
        assert_same(P.sort(m, dim), lax.sort(m, dim), f"dimension {dim}")
    k1 = np.array([1, 0, 1, 0, 1, 0], np.int32)
    k2 = np.array([5, 4, 3, 2, 1, 0], np.uint8)
    assert_same(P.sort((k1, k2, idx[:6]), 0, True, 2), lax.sort((k1, k2, idx[:6]), 0, True, 2), "two keys")
    z = v.astype(np.complex64)
    z.imag = v[::-1]
    assert_same(P.sort(z), lax.sort(z), "complex: real, then imaginary")
    assert_same(P.sort(sample(b1, (6,))), lax.sort(sample(b1, (6,))), "bool")
    assert_same(P.sort(sample(bf16, (5,))), lax.sort(sample(bf16, (5,))), "bfloat16")
    assert_same(P.sort(sample(u8, (5,), "bits")), lax.sort(sample(u8, (5,), "bits")), "uint8")
    assert_same(P.sort(sample(f32, (0,))), lax.sort(sample(f32, (0,))), "empty")
    assert_same(P.sort(k1, 0, False, 1), lax.sort(k1, 0, False, 1), "unstable")


# --------------------------------------------------------------------------- coverage
def _load_indexing_rules():
    if importlib.util.find_spec("xlafront.lowering.rules_indexing") is not None:
        importlib.import_module("xlafront.lowering.rules_indexing")


def test_every_primitive_has_a_lowering_rule():
    _load_indexing_rules()
    missing = sorted(name for name, p in core.all_primitives.items() if p not in rules.lowering_rules)
    assert not missing, f"primitives without a StableHLO lowering rule: {missing}"


def test_every_primitive_is_exercised_here():
    """A new primitive of xlafront.primitives must get an eager test here (gather/scatter:
    in the indexing tests; primitives declared by other layers are tested by those layers)."""
    tested = set(UNARY) | set(BINARY) | set(REDUCE) | set(CUMULATIVE) | {
        "round", "integer_pow", "select_n", "clamp", "convert_element_type", "bitcast_convert_type",
        "copy", "broadcast_in_dim", "reshape", "squeeze", "transpose", "rev", "concatenate", "pad",
        "slice", "dynamic_slice", "dynamic_update_slice", "iota", "argmax", "argmin", "dot_general",
        "sort", "jit"}
    indexing = {"gather", "scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max"}
    declared = {v.name for v in vars(P).values() if isinstance(v, core.Primitive)}
    untested = sorted(declared - tested - indexing)
    assert not untested, f"primitives without an eager lowering test: {untested}"


def test_jit_primitive_eager():
    """jit_p bound eagerly compiles its graph (nested jit is covered in test_lowering)."""
    graph = core.trace_to_graph(lambda a, b: [P.add(P.mul(a, b), a)],
                                [core.ShapedArray((3,), f32), core.ShapedArray((3,), f32)])
    x, y = sample(f32, (3,)), sample(f32, (3,), seed=2)
    out, = P.jit_p.bind(x, y, graph=graph.graph, name="f")
    assert_same(out, jnp.asarray(x * y + x), "jit_p")
