"""Array creation in xlafront.numpy against jax.numpy: values, shapes, dtypes, weak types."""
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

warnings.filterwarnings("ignore", category=UserWarning)


def assert_same(j, x, label="", rtol=1e-6):
    if isinstance(j, (list, tuple)):
        assert isinstance(x, (list, tuple)) and len(j) == len(x), (label, j, x)
        for a, b in zip(j, x):
            assert_same(a, b, label, rtol)
        return
    assert type(x).__name__ == "ArrayImpl", (label, type(x))
    assert tuple(x.shape) == tuple(j.shape), (label, x.shape, j.shape)
    assert np.dtype(x.dtype) == np.dtype(j.dtype), (label, x.dtype, j.dtype)
    assert bool(x.weak_type) == bool(j.weak_type), (label, "weak_type", x.weak_type, j.weak_type)
    jv, xv = np.asarray(j), np.asarray(x)
    if jv.dtype.kind in "biu":
        np.testing.assert_array_equal(xv, jv, err_msg=str(label))
    else:
        wide = np.complex128 if jv.dtype.kind == "c" else np.float64
        np.testing.assert_allclose(xv.astype(wide), jv.astype(wide), rtol=rtol, atol=1e-7, equal_nan=True,
                                   err_msg=str(label))


# Each case runs the same code with m = jnp and m = xnp.
CASES = {
    "array py float": lambda m: m.array(1.0),
    "array py int": lambda m: m.array(3),
    "array py bool": lambda m: m.array(True),
    "array py complex": lambda m: m.array(1 + 2j),
    "array list mixed": lambda m: m.array([1, 2.0]),
    "array nested ints": lambda m: m.array([[1, 2], [3, 4]]),
    "array bools": lambda m: m.array([True, False]),
    "array empty list": lambda m: m.array([]),
    "array empty 2d": lambda m: m.array(np.zeros((0, 3), np.int8)),
    "array np float64": lambda m: m.array(np.arange(3.0)),
    "array np int64": lambda m: m.array(np.arange(3)),
    "array np scalar": lambda m: m.array(np.float16(1.5)),
    "array list np scalars": lambda m: m.array([np.float16(1), 2]),
    "array dtype": lambda m: m.array([1, 2], dtype=m.int8),
    "array dtype str": lambda m: m.array([1, 2], dtype="float16"),
    "array dtype py": lambda m: m.array([1, 2], dtype=float),
    "array ndmin": lambda m: m.array([1, 2], ndmin=3),
    "array of array": lambda m: m.array(m.ones(2), dtype=m.int32),
    "array list of arrays": lambda m: m.array([m.asarray(1.0), m.ones(()), 2]),
    "array nested arrays": lambda m: m.array([[m.asarray(1), 2], [3, m.int8(4)]]),
    "array list of vectors": lambda m: m.array([m.arange(3), m.arange(3) * 2]),
    "asarray py": lambda m: m.asarray(3),
    "asarray dtype": lambda m: m.asarray([1.5, 2.5], m.bfloat16),
    "zeros": lambda m: m.zeros((2, 3)),
    "zeros int": lambda m: m.zeros(3, m.int32),
    "zeros 0d": lambda m: m.zeros(()),
    "ones empty bf16": lambda m: m.ones((0, 3), m.bfloat16),
    "ones bool": lambda m: m.ones(2, bool),
    "empty": lambda m: m.empty(2),
    "full weak": lambda m: m.full((2,), 1.0),
    "full int": lambda m: m.full((2,), 3),
    "full dtype": lambda m: m.full((2, 2), 3, m.float16),
    "full array fill": lambda m: m.full((2, 3), m.array([1, 2, 3])),
    "full np fill": lambda m: m.full(2, np.float16(2)),
    "zeros_like weak": lambda m: m.zeros_like(m.asarray(2.5)),
    "zeros_like": lambda m: m.zeros_like(m.ones((2,), m.int8)),
    "ones_like dtype": lambda m: m.ones_like(m.ones(2), dtype=m.bool_),
    "full_like": lambda m: m.full_like(m.ones(3, m.int8), 2.7),
    "full_like weak": lambda m: m.full_like(m.asarray(3), 3),
    "full_like shape": lambda m: m.full_like(m.ones(3), 1, shape=(2, 2)),
    "full_like numpy": lambda m: m.full_like(np.ones(2, np.float16), 7),
    "empty_like": lambda m: m.empty_like(m.ones((2, 1))),
    "eye": lambda m: m.eye(3),
    "eye NMk": lambda m: m.eye(3, 4, 1, dtype=int),
    "eye neg k": lambda m: m.eye(4, 3, -2),
    "eye 0": lambda m: m.eye(0),
    "identity": lambda m: m.identity(2, m.bool_),
    "tri": lambda m: m.tri(3, 2, -1),
    "tri int": lambda m: m.tri(3, dtype=m.int32),
    "arange 5": lambda m: m.arange(5),
    "arange start stop step": lambda m: m.arange(2, 10, 3),
    "arange negative step": lambda m: m.arange(5, 0, -2),
    "arange float": lambda m: m.arange(0, 1, 0.1),
    "arange float bf16": lambda m: m.arange(0, 1, 0.25, dtype=m.bfloat16),
    "arange int dtype float": lambda m: m.arange(5, dtype=float),
    "arange 5.": lambda m: m.arange(5.0),
    "arange empty": lambda m: m.arange(3, 1),
    "arange uint8": lambda m: m.arange(3, dtype=m.uint8),
    "arange from array": lambda m: m.arange(m.asarray(4)),
    "arange np ints": lambda m: m.arange(np.int8(2), np.int16(7)),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace 7": lambda m: m.linspace(-3, 3, 7),
    "linspace no endpoint": lambda m: m.linspace(0, 1, 5, endpoint=False),
    "linspace retstep": lambda m: m.linspace(2, 3, 4, retstep=True),
    "linspace 1": lambda m: m.linspace(0, 1, 1, retstep=True),
    "linspace 0": lambda m: m.linspace(0, 1, 0, retstep=True),
    "linspace 1 no endpoint": lambda m: m.linspace(0, 1, 1, endpoint=False, retstep=True),
    "linspace int dtype": lambda m: m.linspace(0, 10, 4, dtype=int),
    "linspace array bounds axis": lambda m: m.linspace(m.array([0, 1.0]), 2, 3, axis=1),
    "linspace array bounds": lambda m: m.linspace(m.array([0, 1.0]), m.array([2.0, 5]), 3),
    "linspace array axis -1": lambda m: m.linspace(m.zeros((2, 1)), m.ones(3), 4, axis=-1),
    "linspace 1000": lambda m: m.linspace(0.1, 7.3, 1000),
    "linspace f16": lambda m: m.linspace(0, 1, 7, dtype=m.float16),
    "linspace complex": lambda m: m.linspace(0, 1 + 1j, 3),
    "logspace": lambda m: m.logspace(0, 2, 3),
    "logspace base 2": lambda m: m.logspace(0, 4, 5, base=2.0),
    "logspace no endpoint": lambda m: m.logspace(1, 2, 4, endpoint=False),
    "meshgrid xy": lambda m: m.meshgrid(m.arange(3), m.arange(2)),
    "meshgrid ij": lambda m: m.meshgrid(m.arange(3), m.arange(2), indexing="ij"),
    "meshgrid sparse": lambda m: m.meshgrid(m.arange(3), m.arange(2), m.arange(4), sparse=True),
    "meshgrid 3": lambda m: m.meshgrid(m.arange(3), m.arange(2.0), m.arange(4)),
    "meshgrid 1": lambda m: m.meshgrid(m.arange(3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_creation_against_jnp(name):
    f = CASES[name]
    assert_same(f(jnp), f(xnp), name)


def test_geomspace_close():
    for args in ((1, 1000, 4), (-1, -1000, 4), (2.0, 32.0, 5)):
        j, x = jnp.geomspace(*args), xnp.geomspace(*args)
        assert_same(j, x, args, rtol=2e-6)


def test_linspace_values_match_numpy_endpoints():
    x = np.asarray(xnp.linspace(-3.7, 11.2, 1001))
    assert x[0] == np.float32(-3.7) and x[-1] == np.float32(11.2)
    np.testing.assert_allclose(x, np.linspace(-3.7, 11.2, 1001), rtol=1e-6, atol=1e-6)


SCALAR_TYPES = ["bool_", "int8", "int16", "int32", "uint8", "uint16", "uint32", "float16", "float32", "bfloat16",
                "complex64", "float8_e4m3fn", "float8_e5m2"]


@pytest.mark.parametrize("name", SCALAR_TYPES)
def test_scalar_type_objects(name):
    jt, xt = getattr(jnp, name), getattr(xnp, name)
    # calling makes a strong Array of that dtype
    assert_same(jt(1), xt(1), name)
    assert_same(jt([1, 0]), xt([1, 0]), name)
    assert_same(jt(jnp.asarray(1.0)), xt(xnp.asarray(1.0)), name)
    # and they work wherever a dtype is expected
    assert xnp.dtype(xt) == np.dtype(jt.dtype) == xt.dtype
    assert np.dtype(xt) == np.dtype(jt)
    assert xt == jt.dtype.type and hash(xt) == hash(jt.dtype.type)
    assert xnp.zeros(2, dtype=xt).dtype == np.dtype(jt)
    assert xnp.ones(2).astype(xt).dtype == np.dtype(jt)
    assert isinstance(np.dtype(jt).type(1), xt)
    assert xnp.issubdtype(xt, xnp.generic)


def test_scalar_type_under_jit():
    j = jax.jit(lambda x: jnp.float32(x) + jnp.int8(3))(2)
    x = xf.jit(lambda x: xnp.float32(x) + xnp.int8(3))(2)
    assert_same(j, x)


def test_array_of_traced_scalars_under_jit():
    def f(m):
        return lambda a, b: m.array([a, b * 2, 1.0]) + m.asarray([[a], [b]])

    assert_same(jax.jit(f(jnp))(1.0, jnp.float32(2)), xf.jit(f(xnp))(1.0, xnp.float32(2)))
    assert_same(jax.jit(lambda v: jnp.array([v[0], v[1]], dtype=jnp.int32))(jnp.ones(2)),
                xf.jit(lambda v: xnp.array([v[0], v[1]], dtype=xnp.int32))(xnp.ones(2)))
    g = str(xf.make_jaxpr(lambda a, b: xnp.array([a, b]))(1.0, 2.0))
    assert "concatenate" in g, g


def test_creation_under_jit():
    def f(m):
        def g(x):
            return (m.zeros_like(x) + m.ones((3,)) * m.eye(3)[0] + m.linspace(0, 1, 3) + m.arange(3)
                    + m.full((3,), x[0]), m.meshgrid(x, x[:2]))
        return g
    v = np.array([1.0, 2.0, 3.0], np.float32)
    assert_same(jax.jit(f(jnp))(v), xf.jit(f(xnp))(v))
    assert_same(jax.jit(lambda a: jnp.linspace(a, 2, 4))(0.5), xf.jit(lambda a: xnp.linspace(a, 2, 4))(0.5))


def test_arange_traced_bound_is_a_concretization_error():
    with pytest.raises(xf.errors.ConcretizationTypeError if hasattr(xf, "errors") and
                       hasattr(xf.errors, "ConcretizationTypeError") else TypeError) as e:
        xf.jit(lambda n: xnp.arange(n))(3)
    assert os.path.basename(__file__) in str(e.value)
    assert_same(jnp.arange(3), xnp.arange(3))


def test_unsupported_dtypes_raise_type_error():
    here = os.path.basename(__file__)
    for bad in (object, np.str_, "U3", np.void):
        with pytest.raises(TypeError):
            jnp.zeros(3, dtype=bad)
        with pytest.raises(TypeError) as e:
            xnp.zeros(3, dtype=bad)
        assert here in str(e.value), str(e.value)
    for fn in (lambda m: m.ones(2, dtype=object), lambda m: m.full(2, 1, dtype=np.str_),
               lambda m: m.array([1, 2], dtype=object), lambda m: m.arange(3, dtype=object),
               lambda m: m.eye(2, dtype="U2"), lambda m: m.array(["a"]), lambda m: m.array([1, "a"]),
               lambda m: m.array(np.array(["a"])), lambda m: m.asarray(np.array([None]))):
        with pytest.raises(TypeError):
            fn(jnp)
        with pytest.raises(TypeError):
            fn(xnp)
    # the next good call works
    assert_same(jnp.zeros(3, dtype=jnp.float32), xnp.zeros(3, dtype=xnp.float32))


def test_bad_shapes_and_counts():
    with pytest.raises(ValueError):
        xnp.linspace(0, 1, -1)
    with pytest.raises(ValueError):
        xnp.zeros((2, -1))
    with pytest.raises(TypeError):
        xnp.zeros((2, 1.5))
    with pytest.raises(ValueError):
        xnp.meshgrid(xnp.ones(2), indexing="yx")
    with pytest.raises(OverflowError):
        xnp.array([1, 300], dtype=xnp.int8)
    assert_same(jnp.zeros((2, 1)), xnp.zeros((2, 1)))


@pytest.fixture
def x64():
    jax.config.update("jax_enable_x64", True)
    xf.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", False)
        xf.config.update("jax_enable_x64", False)


X64_CASES = ["array py float", "array py int", "array np float64", "array np int64", "array list mixed", "zeros",
             "full weak", "full int", "eye", "arange 5", "arange float", "linspace", "linspace int dtype",
             "logspace", "tri", "array dtype py"]


def test_creation_with_x64(x64):
    for name in X64_CASES:
        assert_same(CASES[name](jnp), CASES[name](xnp), name)
    assert_same(jnp.float64(1.5), xnp.float64(1.5))
    assert_same(jnp.int64(2 ** 40), xnp.int64(2 ** 40))
    assert_same(jnp.array(2 ** 40), xnp.array(2 ** 40))
