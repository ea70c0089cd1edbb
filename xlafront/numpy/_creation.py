"""Array creation: array/asarray, zeros/ones/full, arange, linspace, eye, ..."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.array import Array, make_array
from xlafront.core import Tracer, get_aval
from xlafront import dispatch
from xlafront.numpy._util import convert


def _device_array(np_value, weak=False):
    buf, aval = dispatch.to_buffer(np_value)
    return make_array(buf, aval.update(weak_type=weak) if weak else aval)


def _dtype_arg(dtype):
    return None if dtype is None else dtypes.canonicalize(dtypes.dtype(dtype))


def array(object, dtype=None, copy=True, order="K", ndmin=0):
    """Like np.array; lists may hold traced scalars (stacked with concatenate)."""
    dtype = _dtype_arg(dtype)
    if isinstance(object, (Array, Tracer)):
        out = object if dtype is None else convert(object, dtype)
    elif isinstance(object, (list, tuple)) and _contains_traced(object):
        from xlafront.numpy._shapes import stack
        out = stack([array(o, dtype) for o in object])
    elif isinstance(object, (bool, int, float, complex)):
        dt, weak = dtypes.scalar_type_of(object)
        if dtype is not None:
            dt, weak = dtype, False
        out = _device_array(np.asarray(object, dt), weak)
    else:
        if hasattr(object, "__jax_array__"):
            return array(object.__jax_array__(), dtype)
        value = np.asarray(object)
        if isinstance(object, (list, tuple)) and value.dtype == object_dtype:
            raise TypeError(f"cannot make an array from {object!r}")
        if isinstance(object, (list, tuple)) and dtype is None:
            dt, weak = _list_dtype(object, value)
        else:
            dt, weak = (dtype if dtype is not None else dtypes.canonicalize(dtypes.dtype(value.dtype))), False
        out = _device_array(np.asarray(value, dt), weak)
    if ndmin and get_aval(out).ndim < ndmin:
        out = P.reshape(out, (1,) * (ndmin - get_aval(out).ndim) + get_aval(out).shape)
    return out


object_dtype = np.dtype(object)


def _list_dtype(obj, value):
    """dtype of an array made from a (nested) list: promotion of its elements, as JAX."""
    leaves = []

    def walk(o):
        if isinstance(o, (list, tuple)):
            for e in o:
                walk(e)
        else:
            leaves.append(o)
    walk(obj)
    if not leaves:
        return dtypes.default_float(), False
    return dtypes.promote([(get_aval(l).dtype, get_aval(l).weak_type) if not isinstance(l, np.ndarray)
                           else (dtypes.canonicalize(l.dtype), False) for l in leaves])


def _contains_traced(obj):
    if isinstance(obj, (list, tuple)):
        return any(_contains_traced(o) for o in obj)
    return isinstance(obj, (Tracer, Array))


def asarray(a, dtype=None, order=None, *, copy=None):
    if isinstance(a, (Array, Tracer)) and dtype is None:
        return a
    return array(a, dtype=dtype)


def full(shape, fill_value, dtype=None):
    shape = _shape(shape)
    if dtype is None:
        a = get_aval(fill_value)
        dt, weak = a.dtype, a.weak_type
    else:
        dt, weak = _dtype_arg(dtype), False
    v = convert(fill_value, dt, weak)
    if isinstance(v, (Array, Tracer)) and get_aval(v).ndim:
        from xlafront.numpy._util import broadcast_to_shape
        return broadcast_to_shape(v, shape)
    if not isinstance(v, (Array, Tracer)):
        v = np.asarray(v, dt) if not weak else v
    return P.broadcast_in_dim_p.bind(v, shape=shape, broadcast_dimensions=())


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of integers, got {shape!r}") from None


def zeros(shape, dtype=None):
    return full(shape, 0, dtypes.default_float() if dtype is None else dtype)


def ones(shape, dtype=None):
    return full(shape, 1, dtypes.default_float() if dtype is None else dtype)


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def arange(start, stop=None, step=None, dtype=None):
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            raise core.ConcretizationTypeError(
                f"arange needs concrete start/stop/step (the output shape depends on them), got a traced "
                f"value at {core.user_site()}; pass them as static arguments")
    np_out = np.arange(start, stop, step) if dtype is None else np.arange(start, stop, step, dtype=np.dtype(dtypes.dtype(dtype)))
    dt = _dtype_arg(dtype) or dtypes.canonicalize(np_out.dtype if not np.issubdtype(np_out.dtype, np.integer) else dtypes.int64)
    if dtypes.is_int(dt) and (dtype is not None or all(isinstance(v, (int, np.integer)) or v is None for v in (start, stop, step))):
        n = np_out.shape[0]
        s0 = int(start) if stop is not None else 0
        st = int(step) if step is not None else 1
        out = P.iota(dt, n)
        if st != 1:
            out = P.mul(out, np.asarray(st, dt)[()])
        if s0 != 0:
            out = P.add(out, np.asarray(s0, dt)[()])
        return out
    return array(np_out.astype(dt))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    dt = _dtype_arg(dtype) or dtypes.promote([(get_aval(start).dtype, get_aval(start).weak_type),
                                              (get_aval(stop).dtype, get_aval(stop).weak_type),
                                              (dtypes.default_float(), True)])[0]
    ct = dt if dtypes.is_inexact(dt) else dtypes.default_float()
    start_c, stop_c = convert(start, ct), convert(stop, ct)
    div = (num - 1) if endpoint else num
    from xlafront.numpy._ufuncs import add, multiply, subtract, true_divide
    if num == 0:
        out = zeros((0,), ct)
        step = np.nan
    else:
        iota = convert(P.iota(dtypes.default_int() if not dtypes.is_inexact(ct) else dtypes.int32, num), ct)
        if div > 0:
            step = true_divide(subtract(stop_c, start_c), np.asarray(div, ct)[()])
            out = add(multiply(iota, step), start_c)
            if endpoint and num > 1:
                from xlafront.numpy._shapes import concatenate
                from xlafront.numpy._indexing import static_slice
                out = concatenate([static_slice(out, 0, num - 1), full((1,), stop_c, ct)])
        else:
            step = np.nan
            out = full((num,), start_c, ct)
    out = convert(out, dt)
    return (out, step) if retstep else out
