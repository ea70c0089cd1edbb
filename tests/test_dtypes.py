"""Dtypes: JAX's promotion lattice with weak types, x64 on and off, dtype queries, config."""
import itertools
import warnings

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import dtypes

warnings.filterwarnings("ignore", category=UserWarning)

ALL = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.float16,
       ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128, ml_dtypes.float8_e4m3fn,
       ml_dtypes.float8_e5m2, ml_dtypes.float8_e4m3b11fnuz, ml_dtypes.float8_e4m3fnuz, ml_dtypes.float8_e5m2fnuz]


@pytest.fixture(params=[False, True], ids=["x32", "x64"])
def x64_mode(request):
    jax.config.update("jax_enable_x64", request.param)
    xf.config.update("jax_enable_x64", request.param)
    try:
        yield request.param
    finally:
        jax.config.update("jax_enable_x64", False)
        xf.config.update("jax_enable_x64", False)


def _operands():
    """(dtype, weak) for every dtype, strong and weak (weak bool does not exist)."""
    ops = []
    for d in ALL:
        dt = dtypes.canonicalize(np.dtype(d))
        for w in (False, True):
            if (dt, w) not in ops and not (w and dt == np.bool_):
                ops.append((dt, w))
    return ops


def test_promotion_lattice_matches_jax_for_all_pairs(x64_mode):
    """dtypes.promote and xnp.add's abstract result vs jnp.add's, for every (dtype, weak) pair."""
    mismatches = []
    for (a, wa), (b, wb) in itertools.product(_operands(), repeat=2):
        try:
            r = jax.eval_shape(jnp.add, jax.ShapeDtypeStruct((), a, weak_type=wa),
                               jax.ShapeDtypeStruct((), b, weak_type=wb))
            expected = (np.dtype(r.dtype), bool(r.weak_type))
        except (TypeError, ValueError):  # jax's TypePromotionError is a ValueError
            expected = TypeError
        try:
            got = dtypes.promote([(a, wa), (b, wb)])
        except TypeError:
            got = TypeError
        if got != expected:
            mismatches.append(((a.name, wa), (b.name, wb), expected, got))
    assert not mismatches, mismatches[:10]


def test_ops_use_the_lattice(x64_mode):
    """xnp's binary ops on abstract operands (no compile) give jnp's dtype and weak type."""
    ops = [o for o in _operands() if o[0] in (np.dtype(np.bool_), np.dtype(np.int8), np.dtype(np.uint8),
                                             dtypes.canonicalize(np.dtype(np.int64)), np.dtype(np.float16),
                                             np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32),
                                             np.dtype(np.complex64))]
    for name in ("add", "multiply", "maximum", "true_divide", "where"):
        for (a, wa), (b, wb) in itertools.product(ops, repeat=2):
            def mk(lib, fn):
                if name == "where":
                    return lambda x, y: fn(True, x, y)
                return fn
            jargs = (jax.ShapeDtypeStruct((2,), a, weak_type=wa), jax.ShapeDtypeStruct((), b, weak_type=wb))
            xargs = (xf.ShapeDtypeStruct((2,), a, weak_type=wa), xf.ShapeDtypeStruct((), b, weak_type=wb))
            try:
                r = jax.eval_shape(mk(jax, getattr(jnp, name)), *jargs)
            except (TypeError, ValueError):
                with pytest.raises(TypeError):
                    xf.eval_shape(mk(xf, getattr(xnp, name)), *xargs)
                continue
            x = xf.eval_shape(mk(xf, getattr(xnp, name)), *xargs)
            assert (x.shape, np.dtype(x.dtype), x.weak_type) == (r.shape, np.dtype(r.dtype), r.weak_type), \
                (name, (a, wa), (b, wb))


def test_python_scalars_are_weak(x64_mode):
    for v in (1, 1.5, 1j):
        j, x = jnp.asarray(v), xnp.asarray(v)
        assert (x.dtype, x.weak_type) == (j.dtype, j.weak_type), v
    assert xnp.asarray(True).weak_type is False
    for arr in (np.ones(2, np.int8), np.ones(2, np.float16), np.ones(2, ml_dtypes.bfloat16), np.ones(2, np.uint8)):
        for v in (2, 2.5, 2j):
            j, x = jnp.asarray(arr) * v, xnp.asarray(arr) * v
            assert (x.dtype, x.weak_type) == (j.dtype, j.weak_type), (arr.dtype, v)
            np.testing.assert_allclose(np.asarray(x).astype(np.complex128), np.asarray(j).astype(np.complex128))


def test_promote_types_and_result_type(x64_mode):
    names = [np.bool_, np.int8, np.uint16, np.int32, np.int64, np.float16, ml_dtypes.bfloat16, np.float32,
             np.float64, np.complex64]
    for a, b in itertools.product(names, repeat=2):
        assert xnp.promote_types(a, b) == jnp.promote_types(a, b), (a, b)
        assert xnp.result_type(a, b) == jnp.result_type(a, b), (a, b)
    for args in [(1,), (1.0,), (1j,), (1.0, xnp.int8), (xnp.int8, xnp.uint8), (np.float64,), (True, 1),
                 (xnp.float32, xnp.int64), ("float16", 2), (xnp.bfloat16, 1.0, 3)]:
        jargs = [getattr(jnp, a.__name__) if isinstance(a, type(xnp.float32)) else a for a in args]
        assert xnp.result_type(*args) == jnp.result_type(*jargs), args
    assert xnp.result_type(xnp.ones(2, xnp.bfloat16), 1.0) == jnp.bfloat16
    assert xnp.result_type(np.ones(2, np.int8), 1) == np.int8
    with pytest.raises(TypeError):
        xnp.promote_types(np.float8_e4m3fn if hasattr(np, "float8_e4m3fn") else ml_dtypes.float8_e4m3fn,
                          ml_dtypes.float8_e5m2)
    with pytest.raises(ValueError):  # jax.dtypes.TypePromotionError; xlafront's is both classes
        jnp.promote_types(ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2)
    with pytest.raises(TypeError):
        xnp.add(np.ones(2, ml_dtypes.float8_e4m3fn), np.ones(2, ml_dtypes.float8_e5m2))


def test_dtype_queries():
    assert xnp.can_cast(xnp.int8, xnp.float32) == jnp.can_cast(jnp.int8, jnp.float32)
    assert xnp.can_cast(xnp.float32, xnp.int8) == jnp.can_cast(jnp.float32, jnp.int8)
    assert xnp.can_cast(xnp.bfloat16, xnp.float32) == jnp.can_cast(jnp.bfloat16, jnp.float32)
    assert xnp.can_cast(xnp.float32, xnp.int8, casting="unsafe")
    for v in (1, 1.5, np.float32(1), "a", np.ones(()), np.ones(2), [1], None):
        assert xnp.isscalar(v) == jnp.isscalar(v), v
    assert xnp.isscalar(xnp.asarray(1.0)) and not xnp.isscalar(xnp.ones(2))
    assert xnp.shape([[1, 2]]) == jnp.shape([[1, 2]]) == (1, 2)
    assert xnp.shape(xnp.ones((2, 1))) == (2, 1) and xnp.ndim(xnp.ones((2, 1))) == 2 and xnp.ndim(1.0) == 0
    assert xnp.size(xnp.ones((2, 3))) == 6 and xnp.size(xnp.ones((2, 3)), 1) == 3 and xnp.size([1, 2]) == 2
    assert xnp.iscomplexobj(xnp.ones(2, xnp.complex64)) and xnp.iscomplexobj(1j)
    assert not xnp.iscomplexobj(xnp.ones(2)) and not xnp.iscomplexobj(3)
    for a, b in [(xnp.bfloat16, xnp.floating), (xnp.float32, xnp.float32), (np.dtype("float32"), xnp.inexact),
                 (xnp.int8, xnp.integer), (xnp.float8_e4m3fn, xnp.inexact), (xnp.int8, xnp.floating),
                 (xnp.uint8, xnp.signedinteger), (xnp.complex64, xnp.complexfloating), (xnp.bool_, xnp.number),
                 (ml_dtypes.bfloat16, np.float16), (xnp.float16, xnp.bfloat16)]:
        ja = getattr(jnp, a.__name__) if isinstance(a, type(xnp.float32)) else a
        jb = getattr(jnp, b.__name__) if isinstance(b, type(xnp.float32)) else b
        assert xnp.issubdtype(a, b) == jnp.issubdtype(ja, jb), (a, b)
    assert float(xnp.finfo(xnp.bfloat16).eps) == float(jnp.finfo(jnp.bfloat16).eps)
    assert float(xnp.finfo(xnp.float32).max) == float(jnp.finfo(jnp.float32).max)
    assert float(xnp.finfo(xnp.ones(2, xnp.float16)).tiny) == float(jnp.finfo(jnp.float16).tiny)
    assert xnp.iinfo(xnp.int8).max == 127 and xnp.iinfo(xnp.ones(2, xnp.uint8)).max == 255
    assert xnp.isdtype(xnp.float32, "real floating") and not xnp.isdtype(xnp.int8, "real floating")
    assert xnp.isdtype(xnp.uint8, ("bool", "unsigned integer")) and xnp.isdtype(xnp.int8, xnp.int8)
    assert (xnp.pi, xnp.e, xnp.inf, xnp.newaxis, xnp.euler_gamma) == (jnp.pi, jnp.e, jnp.inf, jnp.newaxis,
                                                                       jnp.euler_gamma)
    assert np.isnan(xnp.nan)


def test_unsupported_dtype_type_errors():
    for bad in (object, np.str_, "U3", np.void, "S2"):
        with pytest.raises(TypeError):
            dtypes.dtype(bad)
        with pytest.raises(TypeError):
            xnp.ones(2, dtype=bad)
    with pytest.raises(TypeError):
        xnp.ones(2).astype(object)
    assert xnp.ones(2).astype(xnp.int8).dtype == np.int8  # and the next good call works


def test_config_update_x64_roundtrip():
    assert xf.config.jax_enable_x64 is False or xf.config.jax_enable_x64 == 0
    try:
        xf.config.update("jax_enable_x64", True)
        assert xf.config.read("jax_enable_x64")
        assert xnp.arange(3).dtype == np.int64 and xnp.asarray(1.0).dtype == np.float64
        assert xnp.ones(2).dtype == np.float64 and xnp.zeros(2, int).dtype == np.int64
        x = xf.jit(lambda v: v * 2)(np.arange(3))
        assert x.dtype == np.int64
        assert (xnp.ones(2, np.float32) + 1.0).dtype == np.float32
    finally:
        xf.config.update("jax_enable_x64", False)
    assert xnp.arange(3).dtype == np.int32 and xnp.asarray(1.0).dtype == np.float32
    assert xnp.array(np.arange(3.0)).dtype == np.float32
    assert xf.jit(lambda v: v * 2)(np.arange(3)).dtype == np.int32
    with pytest.raises(AttributeError):
        xf.config.update("not_a_flag", 1)
