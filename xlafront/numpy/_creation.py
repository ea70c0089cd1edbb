"""Array creation (array/asarray, zeros/ones/full, *_like, eye, arange, linspace, meshgrid, ...),
the scalar type objects (`xnp.float32(2)`), and dtype queries (result_type, can_cast, ...)."""
from __future__ import annotations

import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import dispatch
from xlafront import primitives as P
from xlafront.array import ArrayImpl, make_array
from xlafront.core import Tracer, get_aval
from xlafront.numpy._util import broadcast_to_shape, convert
from xlafront.numpy._util import static_int as _static_int
from xlafront._explicit_sharding import with_out_sharding as _with_out_sharding

__all__ = ["from_dlpack", 
    "array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
    "empty_like", "eye", "identity", "arange", "linspace", "meshgrid", "tri",
    "result_type", "promote_types", "can_cast", "isscalar", "shape", "ndim", "size", "iscomplexobj",
    "isrealobj", "issubdtype", "finfo", "iinfo", "isdtype",
]

_PY_SCALARS = (bool, int, float, complex)
_object_dtype = np.dtype(object)


# ----------------------------------------------------------------------------- helpers

def _device_array(np_value, weak=False):
    buf, aval = dispatch.to_buffer(np_value)
    return make_array(buf, aval.update(weak_type=weak) if weak else aval)


def _dtype_arg(dtype, fun_name="array"):
    """The canonical np.dtype of a user's dtype argument; TypeError (as jnp) for unsupported ones."""
    if dtype is None:
        return None
    try:
        return dtypes.canonicalize(dtypes.dtype(dtype))
    except TypeError as e:
        raise TypeError(f"{fun_name}: xlafront only supports number and bool dtypes, got dtype {dtype!r} "
                        f"(at {core.user_site()}). {e}") from None


def _check_value_dtype(value: np.ndarray, fun_name):
    if value.dtype not in dtypes.supported_dtypes:
        try:
            dtypes.dtype(value.dtype)
        except TypeError:
            raise TypeError(f"{fun_name}: value with dtype {value.dtype} is not a valid xlafront array type; only "
                            f"arrays of numeric and bool types are supported (at {core.user_site()})") from None


def _is_traced_or_array(x):
    return isinstance(x, (Tracer, ArrayImpl))


def _contains_array(obj):
    if isinstance(obj, (list, tuple)):
        return any(_contains_array(o) for o in obj)
    return _is_traced_or_array(obj) or hasattr(obj, "__jax_array__")


def _leaf_avals(obj, out):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _leaf_avals(o, out)
    elif hasattr(obj, "__jax_array__") and not _is_traced_or_array(obj):
        out.append(get_aval(obj.__jax_array__()))
    elif isinstance(obj, np.ndarray):
        _check_value_dtype(obj, "array")
        out.append(core.ShapedArray(obj.shape, dtypes.canonicalize(obj.dtype), False))
    else:
        out.append(get_aval(obj))
    return out


def _stack_leaves(obj, dt):
    """A nested list holding arrays/tracers as one array: each level stacks along a new axis 0."""
    if isinstance(obj, (list, tuple)):
        parts = [_stack_leaves(o, dt) for o in obj]
        if not parts:
            raise ValueError("array: cannot make an array from an empty list nested with arrays")
        shapes = {get_aval(p).shape for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"array: setting an array element with a sequence: the elements have different "
                             f"shapes {sorted(shapes)} (at {core.user_site()})")
        rows = [P.reshape(p, (1,) + get_aval(p).shape) for p in parts]
        return P.concatenate(rows, 0)
    if hasattr(obj, "__jax_array__") and not _is_traced_or_array(obj):
        obj = obj.__jax_array__()
    x = convert(obj, dt, False)
    if not _is_traced_or_array(x):
        x = _device_array(np.asarray(x, dt))
    return x


# ----------------------------------------------------------------------------- array, asarray

def array(object, dtype=None, copy=True, order="K", ndmin=0):  # noqa: A002
    """Like np.array, with JAX's dtypes: Python scalars give weak arrays, 64-bit values narrow
    when x64 is off, and lists may hold arrays or traced scalars (stacked)."""
    dt = _dtype_arg(dtype, "array")
    if order not in (None, "K", "A", "C"):
        raise NotImplementedError(f"array: only C order is supported, got order={order!r}")
    if _is_traced_or_array(object):
        out = object if dt is None else convert(object, dt, False)
    elif hasattr(object, "__jax_array__"):
        out = array(object.__jax_array__(), dtype=dtype, copy=copy)
    elif type(object) in _PY_SCALARS:
        sdt, weak = dtypes.scalar_type_of(object)
        if dt is not None:
            sdt, weak = dt, False
        if type(object) is int and dtypes.is_int(sdt):
            info = np.iinfo(sdt)
            if not info.min <= object <= info.max:
                raise OverflowError(f"Python int {object} too large to convert to {sdt.name}")
        out = _device_array(np.asarray(object, sdt), weak)
    elif isinstance(object, (list, tuple)) and _contains_array(object):
        if dt is None:
            dt, _ = dtypes.promote([(a.dtype, a.weak_type) for a in _leaf_avals(object, [])])
        out = _stack_leaves(object, dt)
    else:
        if isinstance(object, (list, tuple)):
            value = np.asarray(object)
            if value.dtype == _object_dtype or value.dtype.kind in "USO":
                bad = next((v for v in _flat(object) if not isinstance(v, (*_PY_SCALARS, np.generic))), None)
                raise TypeError(f"array: value {bad!r} of type {type(bad).__name__} is not a valid xlafront array "
                                f"element; only numeric and bool values are supported (at {core.user_site()})")
            if dt is None:
                leaves = _leaf_avals(object, [])
                dt = dtypes.promote([(a.dtype, a.weak_type) for a in leaves])[0] if leaves else \
                    dtypes.default_float()
        else:
            value = np.asarray(object)
            _check_value_dtype(value, "array")
            if dt is None:
                dt = dtypes.canonicalize(value.dtype)
        if isinstance(object, (list, tuple)):
            _check_int_range(value, object, dt)
        out = _device_array(np.asarray(value, dt))
    if ndmin and get_aval(out).ndim < ndmin:
        a = get_aval(out)
        out = P.reshape(out, (1,) * (ndmin - a.ndim) + a.shape)
    return out


def _flat(obj):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _flat(o)
    else:
        yield obj


def _check_int_range(value, obj, dt):
    if dtypes.is_int(dt) and value.dtype.kind in "iu" and value.size:
        info = np.iinfo(dt)
        lo, hi = int(value.min()), int(value.max())
        if lo < info.min or hi > info.max:
            raise OverflowError(f"Python int {hi if hi > info.max else lo} too large to convert to {dt.name}")


def asarray(a, dtype=None, order=None, *, copy=None):
    if dtype is None and _is_traced_or_array(a):
        return a
    return array(a, dtype=dtype, copy=bool(copy), order=order or "K")


def from_dlpack(x, /, *, device=None, copy=None):
    """An Array from an object with `__dlpack__` (a NumPy array, a torch CPU tensor, ...).
    The data is copied to xlafront's device."""
    if isinstance(x, ArrayImpl):
        return x
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__, got {type(x).__name__} "
                        f"(at {core.user_site()})")
    return array(np.from_dlpack(x))


# ----------------------------------------------------------------------------- scalar type objects

class _ScalarMeta(type):
    """Type of `xnp.float32` etc.: calling it makes a (strong) array of that dtype, as
    `jnp.float32(2)`; as a dtype argument it stands for its numpy scalar type."""

    def __call__(cls, x=0, *args, **kwargs):
        return asarray(x, dtype=cls.dtype)

    def __instancecheck__(cls, instance):
        return isinstance(instance, cls.dtype.type)

    def __eq__(cls, other):
        return cls is other or other == cls.dtype.type

    def __ne__(cls, other):
        return not cls.__eq__(other)

    def __hash__(cls):
        return hash(cls.dtype.type)

    def __repr__(cls):
        return f"<class 'xlafront.numpy.{cls.__name__}'>"


def _scalar_type(name, np_type):
    return _ScalarMeta(name, (object,), {"dtype": np.dtype(np_type), "__module__": "xlafront.numpy"})


# ----------------------------------------------------------------------------- filled arrays

def _shape(shape, fun_name):
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "__index__") and not isinstance(shape, tuple)
                                                and np.ndim(shape) == 0):
        shape = (shape,)
    try:
        out = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fun_name}: shape must be an integer or a sequence of integers, got {shape!r} "
                        f"(at {core.user_site()})") from None
    if any(s < 0 for s in out):
        raise ValueError(f"{fun_name}: negative dimensions are not allowed, got shape {out}")
    return out


@_with_out_sharding
def full(shape, fill_value, dtype=None, *, device=None):
    shape = _shape(shape, "full")
    if dtype is None:
        a = get_aval(fill_value)
        dt, weak = a.dtype, a.weak_type
    else:
        dt, weak = _dtype_arg(dtype, "full"), False
    v = convert(fill_value, dt, weak)
    a = get_aval(v)
    if a.ndim:
        return broadcast_to_shape(v, shape)
    if type(v) in _PY_SCALARS and not weak:
        v = np.asarray(v, dt)[()]
    return P.broadcast_in_dim_p.bind(v, shape=shape, broadcast_dimensions=())


@_with_out_sharding
def zeros(shape, dtype=None, *, device=None):
    return full(shape, 0, dtypes.default_float() if dtype is None else _dtype_arg(dtype, "zeros"))


@_with_out_sharding
def ones(shape, dtype=None, *, device=None):
    return full(shape, 1, dtypes.default_float() if dtype is None else _dtype_arg(dtype, "ones"))


@_with_out_sharding
def empty(shape, dtype=None, *, device=None):
    return full(shape, 0, dtypes.default_float() if dtype is None else _dtype_arg(dtype, "empty"))


@_with_out_sharding
def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    """Like a (its shape, dtype and, when dtype is not given, weak type), filled with fill_value."""
    av = get_aval(a) if not isinstance(a, (list, tuple)) else get_aval(asarray(a))
    shp = av.shape if shape is None else _shape(shape, "full_like")
    if dtype is None:
        dt, weak = av.dtype, av.weak_type
    else:
        dt, weak = _dtype_arg(dtype, "full_like"), False
    v = convert(fill_value, dt, weak)
    if get_aval(v).ndim:
        return broadcast_to_shape(v, shp)
    if type(v) in _PY_SCALARS and not (weak and get_aval(v).dtype == dt):
        v = np.asarray(v, dt)[()]
        if weak:
            v = P.convert_element_type_p.bind(v, new_dtype=dt, weak_type=True)
    return P.broadcast_in_dim_p.bind(v, shape=shp, broadcast_dimensions=())


@_with_out_sharding
def zeros_like(a, dtype=None, shape=None, *, device=None):
    return full_like(a, 0, dtype, shape)


@_with_out_sharding
def ones_like(a, dtype=None, shape=None, *, device=None):
    return full_like(a, 1, dtype, shape)


def empty_like(prototype, dtype=None, shape=None, *, device=None):
    return full_like(prototype, 0, dtype, shape)


# ----------------------------------------------------------------------------- eye, tri

def _iota_compare(fun_name, N, M, k, dtype, prim):
    n = _static_int(N, fun_name, "N")
    m = n if M is None else _static_int(M, fun_name, "M")
    k = _static_int(k, fun_name, "k")
    if n < 0 or m < 0:
        raise ValueError(f"{fun_name}: negative dimensions are not allowed, got N={n}, M={m}")
    dt = _dtype_arg(dtype, fun_name) or dtypes.default_float()
    it = dtypes.int32
    rows = P.broadcasted_iota(it, (n, m), 0)
    cols = P.broadcasted_iota(it, (n, m), 1)
    shifted = P.add(rows, np.int32(k)) if k else rows
    mask = prim.bind(shifted, cols)
    return P.convert_element_type(mask, dt) if dt != dtypes.bool_ else mask


def eye(N, M=None, k=0, dtype=None, *, device=None):
    return _iota_compare("eye", N, M, k, dtype, P.eq_p)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    # jnp.tri defaults to float32, also with x64 on
    return _iota_compare("tri", N, M, k, dtypes.float32 if dtype is None else dtype, P.ge_p)


# ----------------------------------------------------------------------------- ranges

def _concrete_scalar(v, fun_name):
    if v is None:
        return None
    if isinstance(v, Tracer):
        c = v.to_concrete_value()
        if c is None:
            raise core.ConcretizationTypeError(
                f"{fun_name} needs concrete start/stop/step (the output shape depends on them), got a traced "
                f"value {v!r} at {core.user_site()}; pass them as static arguments (static_argnums) or use "
                f"a fixed size")
        v = c
    if isinstance(v, ArrayImpl):
        if v.ndim:
            raise TypeError(f"{fun_name}: start/stop/step must be scalars, got an array of shape {v.shape}")
        return np.asarray(v)[()]
    return v


@_with_out_sharding
def arange(start, stop=None, step=None, dtype=None, *, device=None):
    start, stop, step = (_concrete_scalar(v, "arange") for v in (start, stop, step))
    if start is None:
        raise TypeError("arange: start must be given")
    for v in (start, stop, step):
        if v is not None and np.ndim(v) != 0:
            raise TypeError(f"arange: start/stop/step must be scalars, got {v!r}")
    args = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        dt = dtypes.promote([(get_aval(v).dtype, get_aval(v).weak_type) for v in args])[0]
        if dt == dtypes.bool_:
            dt = dtypes.default_int()
    else:
        dt = _dtype_arg(dtype, "arange")
    if dtypes.is_int(dt) and all(isinstance(v, (int, np.integer, bool, np.bool_)) for v in args):
        n = len(range(*(int(v) for v in args)))
        lo = int(start) if stop is not None else 0
        st = int(step) if step is not None else 1
        out = P.iota(dt, n)
        if st != 1:
            out = P.mul(out, np.asarray(st, dt)[()])
        if lo != 0:
            out = P.add(out, np.asarray(lo, dt)[()])
        return out
    try:
        value = np.arange(start, stop, step, dtype=dt)
    except (TypeError, ValueError):
        value = np.arange(start, stop, step).astype(dt)
    return _device_array(value)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """`num` evenly spaced values from start to stop, computed as JAX does:
    start * (1 - t) + stop * t with t = iota / div (so the endpoints are exact)."""
    num = _static_int(num, "linspace", "num")
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    if dtype is None:
        dt, _ = dtypes.promote([(get_aval(start).dtype, get_aval(start).weak_type),
                                (get_aval(stop).dtype, get_aval(stop).weak_type),
                                (dtypes.default_float(), True)])
    else:
        dt = _dtype_arg(dtype, "linspace")
    ct = dt if dtypes.is_inexact(dt) else dtypes.to_inexact(dt)
    rt = P._real_dtype(ct)
    start = asarray(convert(start, ct, False))
    stop = asarray(convert(stop, ct, False))
    from xlafront.numpy._util import broadcast_shapes
    bounds = broadcast_shapes(get_aval(start).shape, get_aval(stop).shape, fun_name="linspace")
    start, stop = broadcast_to_shape(start, bounds), broadcast_to_shape(stop, bounds)
    nd = len(bounds) + 1
    axis = _static_int(axis, "linspace", "axis")
    if not -nd <= axis < nd:
        raise ValueError(f"linspace: axis {axis} is out of bounds for an output of dimension {nd}")
    axis %= nd
    bshape = bounds[:axis] + (1,) + bounds[axis:]
    div = (num - 1) if endpoint else num
    nan = np.asarray(np.nan, ct)[()]
    if num > 1:
        delta = P.div(P.sub(stop, start), np.asarray(div, ct)[()])
        iota_shape = [1] * nd
        iota_shape[axis] = div
        t = P.div(P.convert_element_type(P.iota(rt, div), rt), np.asarray(div, rt)[()])
        t = P.reshape(P.convert_element_type(t, ct), iota_shape)
        out_shape = tuple(div if i == axis else s for i, s in enumerate(bshape))
        t = broadcast_to_shape(t, out_shape)
        s0 = broadcast_to_shape(P.reshape(start, bshape), out_shape)
        s1 = broadcast_to_shape(P.reshape(stop, bshape), out_shape)
        one = np.asarray(1, ct)[()]
        out = P.add(P.mul(s0, P.sub(one, t)), P.mul(s1, t))
        if endpoint:
            out = P.concatenate([out, P.reshape(stop, bshape)], axis)
    elif num == 1:
        delta = _device_array(np.asarray(nan)) if endpoint else P.sub(stop, start)
        out = P.reshape(start, bshape)
    else:
        delta = _device_array(np.asarray(nan))
        out = full(tuple(0 if i == axis else s for i, s in enumerate(bshape)), 0, ct)
    if dtypes.is_int(dt) or dt == dtypes.bool_:
        out = P.floor(out)
    out = P.convert_element_type(out, dt)
    return (out, delta) if retstep else out


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing!r}")
    arrays = []
    for i, x in enumerate(xi):
        x = asarray(x)
        a = get_aval(x)
        if a.ndim != 1:
            raise ValueError(f"meshgrid: arguments must be 1-D, got an array of shape {a.shape} at position {i}")
        arrays.append(x)
    n = len(arrays)
    shape = [get_aval(x).shape[0] for x in arrays]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    outs = []
    for i, x in enumerate(arrays):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        s = [1] * n
        s[pos] = shape[pos]
        y = P.reshape(x, s)
        if not sparse:
            y = broadcast_to_shape(y, tuple(shape))
        outs.append(y)
    return outs


# ----------------------------------------------------------------------------- dtype queries

def _dtype_like(x):
    """(dtype, weak) of a value or a dtype-like (types, np.dtype, names, xnp.float32)."""
    if x is None:
        raise TypeError("result_type: None is not a valid dtype or value")
    if isinstance(x, (_ScalarMeta, np.dtype, str)) or (isinstance(x, type) and x not in _PY_SCALARS) \
            or (isinstance(x, type) and issubclass(x, np.generic)):
        return dtypes.canonicalize(dtypes.dtype(x)), False
    if isinstance(x, type) and x in (int, float, complex, bool):
        return dtypes.scalar_type_of(x(0)) if x is not bool else (dtypes.bool_, False)
    a = get_aval(x) if not isinstance(x, (list, tuple)) else get_aval(asarray(x))
    return a.dtype, a.weak_type


def result_type(*args, return_weak_type_flag=False):
    """The dtype JAX's promotion gives to combining args (values or dtypes)."""
    if not args:
        raise ValueError("at least one array or dtype is required")
    dt, weak = dtypes.promote([_dtype_like(a) for a in args])
    return (dt, weak) if return_weak_type_flag else dt


def promote_types(a, b):
    return dtypes.promote_types(a, b)


def can_cast(from_, to, casting="safe"):
    f = _dtype_like(from_)[0] if not isinstance(from_, (np.dtype, type, str, _ScalarMeta)) else dtypes.dtype(from_)
    return bool(np.can_cast(f, dtypes.dtype(to), casting=casting))


def isscalar(element):
    """True for Python/numpy scalars and 0-d arrays (as jnp.isscalar)."""
    if isinstance(element, (ArrayImpl, Tracer, np.ndarray)):
        return get_aval(element).ndim == 0 if not isinstance(element, np.ndarray) else element.ndim == 0
    return bool(np.isscalar(element))


def shape(a):
    if isinstance(a, (ArrayImpl, Tracer)):
        return get_aval(a).shape
    return np.shape(a)


def ndim(a):
    if isinstance(a, (ArrayImpl, Tracer)):
        return get_aval(a).ndim
    return np.ndim(a)


def size(a, axis=None):
    if isinstance(a, (ArrayImpl, Tracer)):
        s = get_aval(a).shape
        if axis is None:
            return int(np.prod(s, dtype=np.int64))
        return s[axis]
    return np.size(a, axis)


def iscomplexobj(x):
    if x is None:
        return False
    try:
        dt = _dtype_like(x)[0]
    except TypeError:
        dt = np.asarray(x).dtype
    return dtypes.is_complex(dt)


def isrealobj(x):
    return not iscomplexobj(x)


def issubdtype(arg1, arg2):
    return dtypes.issubdtype(_as_type(arg1), _as_type(arg2))


def _as_type(x):
    if isinstance(x, _ScalarMeta):
        return x.dtype.type
    return x


def finfo(dtype):
    return dtypes.finfo(dtypes.dtype(_as_type(dtype)) if not isinstance(dtype, (ArrayImpl, Tracer)) else dtype.dtype)


def iinfo(int_type):
    return dtypes.iinfo(int_type.dtype if isinstance(int_type, (ArrayImpl, Tracer)) else _as_type(int_type))


def isdtype(dtype, kind):
    """Array API dtype kinds: 'bool', 'signed integer', 'unsigned integer', 'integral',
    'real floating', 'complex floating', 'numeric', or dtypes / tuples of them."""
    dt = dtypes.dtype(_as_type(dtype))
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if isinstance(k, str):
            ok = {"bool": dt == dtypes.bool_, "signed integer": dt in dtypes.signed_ints,
                  "unsigned integer": dt in dtypes.unsigned_ints, "integral": dtypes.is_int(dt),
                  "real floating": dtypes.is_float(dt), "complex floating": dtypes.is_complex(dt),
                  "numeric": dt != dtypes.bool_}.get(k)
            if ok is None:
                raise ValueError(f"Unrecognized data type kind: {k!r}")
            if ok:
                return True
        elif dt == dtypes.dtype(_as_type(k)):
            return True
    return False
