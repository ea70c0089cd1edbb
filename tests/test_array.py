"""The device Array: attributes, host conversion, printing, scalar conversions,
immutability, iteration, pickling, against jax.Array."""
import copy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp

from xlafront import dtypes

DTYPES = ["float32", "int32", "bool", "bfloat16", "complex64", "float16", "int8", "uint32", "float8_e4m3fn"]
SHAPES = [(), (0,), (1,), (5,), (3, 4), (2, 3, 4), (3, 0, 2), (1001,), (40, 40), (11,), (7, 7)]


def _value(dtype, shape):
    v = np.arange(int(np.prod(shape))).reshape(shape) * 1.37 - 3
    return v > 0 if dtype == "bool" else v


def _pair(v, dtype=None):
    # jax.device_put of a host value of the final dtype: no compile on the JAX side
    ref = jax.device_put(np.asarray(v, dtype=dtype)) if dtype is not None or isinstance(v, np.ndarray) \
        else jnp.asarray(v)
    return xnp.asarray(v, dtype=dtype), ref


def test_repr_str_match_jax_over_dtypes_and_shapes():
    # 0-d, empty, long (summarized with ...), multi-line 2-D/3-D, every printable dtype
    mismatches = []
    for dt in DTYPES:
        for shape in SHAPES:
            ours, ref = _pair(_value(dt, shape), dt)
            for f in (repr, str):
                if f(ours) != f(ref):
                    mismatches.append((dt, shape, f.__name__, f(ours), f(ref)))
    assert not mismatches, mismatches[:3]


def test_repr_summarizes_long_arrays():
    x = xnp.arange(1001.)
    assert repr(x) == repr(jnp.arange(1001.)) == "Array([   0.,    1.,    2., ...,  998.,  999., 1000.], dtype=float32)"
    assert repr(xnp.arange(2000.)) == repr(jnp.arange(2000.))
    assert "..." in str(xnp.ones((50, 50))) and str(xnp.ones((50, 50))) == str(jnp.ones((50, 50)))


@pytest.mark.parametrize("v", [2.0, 3, True, 1 + 2j])
def test_repr_weak_typed(v):
    ours, ref = xnp.asarray(v), jnp.asarray(v)
    assert ours.weak_type == ref.weak_type == (type(v) is not bool)  # Python bools are not weak
    assert repr(ours) == repr(ref)
    assert ("weak_type=True" in repr(ours)) == ours.weak_type


def test_repr_of_computed_weak_values():
    # eager results of weak operands stay weak and print so
    assert repr(xnp.sin(2.0)) == repr(jnp.sin(2.0)) == "Array(0.9092974, dtype=float32, weak_type=True)"
    assert repr(xnp.asarray(2.0) * 2) == repr(jnp.asarray(2.0) * 2)


def test_repr_line_width_edges():
    # where the dtype no longer fits on the last line, JAX pads it (no line break)
    bad = []
    for k in range(1, 19):
        cases = [np.full((k,), 123.456, np.float32), np.full((2, k), 123.456, np.float32),
                 np.arange(k, dtype=np.int32) * 1000]
        for v in cases:
            ours, ref = _pair(v)
            if repr(ours) != repr(ref):
                bad.append((v.shape, repr(ours), repr(ref)))
    for k in (6, 13, 14):  # the weak_type suffix is longer: it is padded at other widths
        w = np.arange(k, dtype=np.float32) * 1500
        ours = xnp.asarray(w) * xnp.asarray(1.0)
        ref = jnp.asarray(w) * jnp.asarray(1.0)
        if repr(ours) != repr(ref):
            bad.append(("weak", k, repr(ours), repr(ref)))
    assert not bad, bad[:2]


def test_repr_respects_numpy_printoptions():
    v = np.linspace(0, 1, 7, dtype=np.float32)
    with np.printoptions(precision=2, linewidth=40):
        assert repr(xnp.asarray(v)) == repr(jnp.asarray(v))
        assert str(xnp.asarray(v)) == str(jnp.asarray(v))


def test_repr_x64_dtypes():
    xf.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    try:
        for v in [np.arange(4.0), np.arange(4), np.array([1 + 1j]), np.array(2.5)]:
            ours, ref = _pair(v)
            assert repr(ours) == repr(ref)
        assert repr(xnp.asarray(2.5)) == repr(jnp.asarray(2.5)) == "Array(2.5, dtype=float64, weak_type=True)"
    finally:
        xf.config.update("jax_enable_x64", False)
        jax.config.update("jax_enable_x64", False)


def test_attributes():
    x = xnp.asarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    assert x.shape == (3, 4) and type(x.shape) is tuple
    assert x.dtype == np.float32 and isinstance(x.dtype, np.dtype)
    assert (x.ndim, x.size, x.itemsize, x.nbytes) == (2, 12, 4, 48)
    assert x.weak_type is False
    assert x.T.shape == (4, 3)
    np.testing.assert_array_equal(np.asarray(x.T), np.arange(12).reshape(3, 4).T)
    s = xnp.asarray(1.0)
    assert (s.shape, s.ndim, s.size, s.weak_type) == ((), 0, 1, True)
    b = xnp.asarray(np.zeros((2, 0), dtype=dtypes.bfloat16))
    assert (b.size, b.nbytes, b.itemsize, b.dtype) == (0, 0, 2, dtypes.bfloat16)
    assert isinstance(x, xf.Array) and isinstance(x, xnp.ndarray)


def test_array_protocol():
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = xnp.asarray(v)
    h = np.asarray(x)
    assert h.dtype == np.float32 and h.shape == (2, 3)
    np.testing.assert_array_equal(h, v)
    assert not h.flags.writeable  # the host view is read-only, as JAX's
    c = np.array(x)  # np.array copies: a writeable array
    c[0, 0] = 7.0
    assert c.flags.writeable and float(x[0, 0]) == 0.0
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.asarray(xnp.asarray(np.arange(3, dtype=dtypes.bfloat16))).dtype == dtypes.bfloat16
    # numpy ufuncs and functions take it (matplotlib-style consumers call np.asarray)
    np.testing.assert_allclose(np.sin(np.asarray(x)), np.sin(v))
    assert np.mean(np.asarray(x)) == 2.5
    assert memoryview(np.asarray(x)).shape == (2, 3)


def test_block_until_ready_item_tolist():
    x = xnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert x.block_until_ready() is x
    assert xf.block_until_ready({"a": x})["a"] is x
    assert x.tolist() == jnp.asarray(np.asarray(x)).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert xnp.asarray(2.5).item() == 2.5 and type(xnp.asarray(2.5).item()) is float
    assert xnp.asarray(np.arange(3)).item(1) == 1
    assert type(xnp.asarray(np.int32(3)).item()) is int
    assert xnp.asarray(True).item() is True
    with pytest.raises(ValueError):
        xnp.arange(3).item()
    assert xnp.asarray(np.array([1, 2], dtype=dtypes.bfloat16)).tolist() == \
        jnp.asarray(np.array([1, 2], dtype=dtypes.bfloat16)).tolist()


def _both(f):
    """Run f on xlafront and on JAX; return (result or exception type+message) for each."""
    out = []
    for m in (xnp, jnp):
        try:
            out.append(("ok", f(m)))
        except Exception as e:  # noqa: BLE001
            out.append((type(e), str(e)))
    return out


@pytest.mark.parametrize("conv", [float, int, complex])
def test_scalar_conversions(conv):
    for v in [2.5, -3, True]:
        ours, ref = _both(lambda m: conv(m.asarray(v)))
        assert ours == ref and ours[0] == "ok"
        assert type(ours[1]) is conv
    # bfloat16 / float16 0-d arrays convert too
    assert conv(xnp.asarray(2.0, dtype=xnp.bfloat16)) == conv(2.0)
    # JAX requires a 0-d array (size-1 arrays of higher rank are refused)
    for shape in [(3,), (1,), (1, 1), (0,)]:
        ours, ref = _both(lambda m: conv(m.ones(shape)))
        assert ours[0] is TypeError and ref[0] is TypeError, (shape, ours, ref)
        assert ours[1] == ref[1] == f"Only scalar arrays can be converted to Python scalars; got arr.ndim={len(shape)}"


def test_complex_to_real_conversion_refused():
    for conv in (float, int):
        ours, ref = _both(lambda m: conv(m.asarray(1 + 2j)))
        assert ours[0] is TypeError and ref[0] is TypeError


def test_bool():
    for shape, v in [((), 0.0), ((), 2.0), ((1,), 1.0), ((1, 1), 0.0)]:
        ours, ref = _both(lambda m: bool(m.full(shape, v)))
        assert ours == ref and ours[0] == "ok"
    for shape in [(3,), (0,), (2, 2)]:
        ours, ref = _both(lambda m: bool(m.ones(shape)))
        assert ours[0] is ValueError and ours == ref, (ours, ref)
    assert ("yes" if xnp.asarray(3) > 2 else "no") == "yes"


def test_index():
    lst = [10, 20, 30]
    assert lst[xnp.asarray(1)] == 20
    assert lst[xnp.asarray(np.uint8(2))] == 30
    assert [0, 1, 2, 3][xnp.asarray(1):xnp.asarray(3)] == [1, 2]
    assert range(10)[xnp.asarray(np.int8(4))] == 4
    assert "ab" * xnp.asarray(2) == "abab"
    for bad in [lambda m: m.asarray(1.0), lambda m: m.asarray(True), lambda m: m.asarray(np.array([1])),
                lambda m: m.arange(3)]:
        ours, ref = _both(lambda m: lst[bad(m)])
        assert ours[0] is TypeError and ours == ref, (ours, ref)
    assert lst[xnp.asarray(2)] == 30  # the next good call works


def test_len_iter_unpack():
    x = xnp.asarray(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, xf.Array) for r in rows)
    for r, ref in zip(rows, jnp.asarray(np.asarray(x))):
        assert repr(r) == repr(ref)
    a, b, c = xnp.arange(3.0)
    assert isinstance(a, xf.Array) and a.shape == () and float(c) == 2.0
    w0, w1 = xnp.asarray(2.0) * xnp.ones(2, dtype=xnp.float32)
    assert not w0.weak_type
    # iteration keeps the weak type (JAX's rows of a weak array are weak)
    weak_rows = list(xnp.broadcast_to(xnp.asarray(1.5), (2, 2)))
    ref_rows = list(jnp.broadcast_to(jnp.asarray(1.5), (2, 2)))
    assert [repr(r) for r in weak_rows] == [repr(r) for r in ref_rows]
    assert ref_rows[0].weak_type and weak_rows[0].weak_type
    assert list(xnp.zeros((0, 3))) == []
    assert [r.shape for r in xnp.zeros((2, 0))] == [(0,), (0,)]
    with pytest.raises(ValueError):
        p, q = xnp.arange(3)
    # large arrays are sliced on the device instead of copied to the host
    big = xnp.zeros((2, 40000), dtype=xnp.int8)
    rows = list(big)
    assert [(r.shape, r.dtype) for r in rows] == [((40000,), np.int8)] * 2 and big._npy is None
    for f in (len, iter):
        ours, ref = _both(lambda m: f(m.asarray(1.0)))
        assert ours[0] is TypeError and ref[0] is TypeError
    assert [float(v) for v in xnp.arange(3.0)] == [0.0, 1.0, 2.0]
    assert 2 in xnp.arange(3) and 5 not in xnp.arange(3)


def test_immutable():
    x = xnp.arange(3.0)
    with pytest.raises(TypeError, match=r"immutable.*\.at\["):
        x[0] = 1.0
    with pytest.raises(TypeError, match=r"\.at\["):
        x[1:] = 0
    # JAX raises TypeError too
    with pytest.raises(TypeError):
        jnp.arange(3.0)[0] = 1.0
    np.testing.assert_array_equal(np.asarray(x), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError):
        np.asarray(x)[0] = 5.0  # the host view is read-only too
    np.testing.assert_array_equal(np.asarray(x), [0.0, 1.0, 2.0])


def test_unhashable():
    with pytest.raises(TypeError, match="unhashable"):
        hash(xnp.ones(3))
    with pytest.raises(TypeError):
        {xnp.ones(3): 1}


def test_format():
    for v, spec in [(2.5, ".3f"), (7, "04d"), (1.0, ""), (3.14159, "e"), (-2, "+d")]:
        ours, ref = _both(lambda m: format(m.asarray(v), spec))
        assert ours == ref and ours[0] == "ok", (v, spec, ours, ref)
    assert f"{xnp.asarray(2.5):.3f}" == "2.500"
    assert f"{xnp.arange(3.0)}" == f"{jnp.arange(3.0)}" == "[0. 1. 2.]"


def test_pickle_and_copy():
    for x in [xnp.arange(3.0) * 2, xnp.asarray(3.0), xnp.asarray(np.arange(4, dtype=dtypes.bfloat16)),
              xnp.zeros((2, 0), dtype=xnp.int32)]:
        y = pickle.loads(pickle.dumps(x))
        assert isinstance(y, xf.Array)
        assert (y.shape, y.dtype, y.weak_type) == (x.shape, x.dtype, x.weak_type)
        assert repr(y) == repr(x)
        for c in (copy.copy(x), copy.deepcopy(x), x.copy()):
            assert isinstance(c, xf.Array) and repr(c) == repr(x)
    y = pickle.loads(pickle.dumps({"w": xnp.ones(2)}))
    assert float((y["w"] + 1)[0]) == 2.0  # usable as an operand


def test_deleted_array():
    x = xnp.asarray(np.ones(3, np.float32))
    assert not x.is_deleted()
    x.delete()
    assert x.is_deleted()
    for f in (np.asarray, repr, lambda a: a.item(0)):
        with pytest.raises(RuntimeError, match=r"deleted with shape=float32\[3\]"):
            f(x)
    assert float(xnp.ones(3)[0]) == 1.0


def test_numpy_interop_operand_order():
    # numpy arrays and numpy scalars on the left defer to Array (__array_priority__)
    x = xnp.ones(3)
    for r in (np.ones(3, np.float32) + x, np.float32(2) * x, 2.0 * x):
        assert isinstance(r, xf.Array)
    assert repr(np.float32(2) * x) == repr(np.float32(2) * jnp.ones(3))


def test_devices():
    x = xnp.ones(2)
    assert x.devices() == {xf.devices()[0]}
    assert x.device == xf.devices()[0]


def test_sharding_and_buffer_attributes_as_jax():
    x, j = xnp.arange(6.0).reshape(2, 3), jnp.arange(6.0).reshape(2, 3)
    assert repr(x.sharding) == repr(j.sharding)
    assert x.sharding.device_set == {xf.devices()[0]}
    assert x.is_fully_addressable and x.is_fully_replicated
    assert x.on_device_size_in_bytes() == j.on_device_size_in_bytes() == 24
    assert isinstance(x.unsafe_buffer_pointer(), int) and x.unsafe_buffer_pointer() != 0
    y = x + 1
    y.copy_to_host_async()
    np.testing.assert_array_equal(np.asarray(y), np.arange(6.0).reshape(2, 3) + 1)


def test_dlpack_round_trips():
    x = xnp.arange(6, dtype=xnp.int32).reshape(2, 3) * 2
    assert tuple(x.__dlpack_device__()) == tuple(jnp.zeros(1).__dlpack_device__()) == (1, 0)
    h = np.from_dlpack(x)                                     # NumPy reads our buffer
    np.testing.assert_array_equal(h, np.arange(6).reshape(2, 3) * 2)
    np.testing.assert_array_equal(np.asarray(jnp.from_dlpack(x)), h)   # so does JAX
    back = xnp.from_dlpack(np.arange(4.0))                  # and we read NumPy's
    assert isinstance(back, xf.Array) and back.dtype == jnp.from_dlpack(np.arange(4.0)).dtype
    np.testing.assert_array_equal(np.asarray(back), np.arange(4.0))
    with pytest.raises(TypeError, match=r"from_dlpack: expected an object with __dlpack__, got list .*test_array.py"):
        xnp.from_dlpack([1, 2])
    np.testing.assert_array_equal(np.asarray(xnp.from_dlpack(np.ones(2, np.float32)) + 1), [2, 2])
