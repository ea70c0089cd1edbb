"""Shared machinery of xlafront.numpy: conversion, promotion, broadcasting, axes."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.array import ArrayImpl
from xlafront.core import Tracer, get_aval

_SCALARS = (bool, int, float, complex)
_PY_KIND = {bool: bool, int: int, float: float, complex: complex}


def is_arraylike(x) -> bool:
    return isinstance(x, (ArrayImpl, Tracer, np.ndarray, np.generic, *_SCALARS))


def check_arraylike(fun_name: str, *args):
    for i, a in enumerate(args):
        if not is_arraylike(a):
            raise TypeError(f"{fun_name} requires ndarray or scalar arguments, got {type(a).__name__} "
                            f"at position {i} (at {core.user_site()})")


def aval(x):
    return get_aval(x)


def _as_scalar_of(x, dt, weak):
    """A Python scalar operand as a value of dtype `dt` (kept weak where it can be)."""
    if type(x) is int:
        try:
            x = dtypes.python_int_value(x, dt)
        except OverflowError as e:
            raise OverflowError(f"{e} (at {core.user_site()})") from None
    if weak:
        for pytype, default in ((bool, dtypes.bool_), (int, dtypes.default_int()),
                                (float, dtypes.default_float()), (complex, dtypes.default_complex())):
            if dt == dtypes.canonicalize(default) and pytype is not bool:
                if dtypes.is_int(dt) and pytype is int:
                    return int(x)
                if dtypes.is_float(dt) and pytype is float:
                    return float(x)
                if dtypes.is_complex(dt) and pytype is complex:
                    return complex(x)
    return np.asarray(x, dt)[()]


def convert(x, dt, weak=False):
    """x (any operand) as dtype dt; Python scalars stay literals."""
    t = type(x)
    if t in _SCALARS:
        return _as_scalar_of(x, dt, weak)
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x)
        if a.dtype != dt:
            a = a.astype(dt)
        a = a[()] if a.ndim == 0 else a
        if weak:  # e.g. a bool numpy array meeting a Python int: the result is weak, as in JAX
            return P.convert_element_type_p.bind(a, new_dtype=dt, weak_type=True)
        return a
    a = get_aval(x)
    if a.dtype == dt and a.weak_type == weak:
        return x
    return P.convert_element_type_p.bind(x, new_dtype=dt, weak_type=weak)


def result_type_of(*args):
    """(dtype, weak) of combining operands by JAX's promotion rules."""
    return dtypes.promote([(a.dtype, a.weak_type) for a in map(get_aval, args)])


def promote_args(fun_name, *args):
    """Operands converted to their common dtype, broadcast-ready (shapes untouched)."""
    check_arraylike(fun_name, *args)
    if len(args) == 1:
        return args
    dt, weak = result_type_of(*args)
    return tuple(convert(a, dt, weak) for a in args)


def promote_args_inexact(fun_name, *args):
    check_arraylike(fun_name, *args)
    dt, weak = result_type_of(*args)
    if not dtypes.is_inexact(dt):
        dt = dtypes.to_inexact(dt, weak)
    return tuple(convert(a, dt, weak) for a in args)


def broadcast_shapes(*shapes, fun_name="broadcast_shapes"):
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        size = 1
        for s in shapes:
            k = len(s) - nd + i
            if k < 0:
                continue
            d = s[k]
            if d == 1:
                continue
            if size == 1:
                size = d
            elif d != size:
                raise ValueError(f"{fun_name}: incompatible shapes for broadcasting: "
                                 f"{', '.join(str(tuple(x)) for x in shapes)} (at {core.user_site()})")
        out.append(size)
    return tuple(out)


def broadcast_to_shape(x, shape):
    a = get_aval(x)
    if a.shape == tuple(shape):
        return x
    nd = len(shape)
    if a.ndim > nd:
        raise ValueError(f"cannot broadcast array of shape {a.shape} to shape {tuple(shape)}")
    # drop size-1 dims that are stretched, then broadcast_in_dim
    lead = nd - a.ndim
    keep = [i for i, d in enumerate(a.shape) if not (d == 1 and shape[lead + i] != 1)]
    for i, d in enumerate(a.shape):
        if d != 1 and d != shape[lead + i]:
            raise ValueError(f"cannot broadcast array of shape {a.shape} to shape {tuple(shape)} "
                             f"(at {core.user_site()})")
    if len(keep) != a.ndim:
        x = P.reshape(x, [a.shape[i] for i in keep])
    if not a.ndim and isinstance(x, (*_SCALARS, np.generic)):
        x = np.asarray(x, a.dtype) if not a.weak_type else x
    return P.broadcast_in_dim_p.bind(x, shape=tuple(int(s) for s in shape),
                                     broadcast_dimensions=tuple(lead + i for i in keep))


def broadcast_args(fun_name, *args):
    """Broadcast operands against each other; rank-0 operands stay scalars (the
    elementwise primitives take them as they are)."""
    shapes = [get_aval(a).shape for a in args]
    nonscalar = [s for s in shapes if s]
    if not nonscalar or all(s == nonscalar[0] for s in nonscalar):
        return args
    try:
        shape = broadcast_shapes(*shapes, fun_name=fun_name)
    except ValueError:
        # as jnp: operands of different ranks fail in broadcast_shapes (ValueError; where's
        # three always do); of one rank, in the lax op itself (TypeError)
        listed = ", ".join(str(tuple(s)) for s in shapes)
        if fun_name == "where" or len({len(s) for s in shapes}) > 1:
            raise ValueError(f"Incompatible shapes for broadcasting: shapes=[{listed}] "
                             f"(in {fun_name} at {core.user_site()})") from None
        raise TypeError(f"{fun_name} got incompatible shapes for broadcasting: {listed} "
                        f"(at {core.user_site()})") from None
    return tuple(a if not s or s == shape else broadcast_to_shape(a, shape) for a, s in zip(args, shapes))


def canonicalize_axis(axis, ndim, fun_name="axis"):
    try:
        axis = int(axis.__index__()) if not isinstance(axis, int) else axis
    except (AttributeError, TypeError):
        raise TypeError(f"{fun_name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < builtins.max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def canonicalize_axes(axis, ndim, fun_name="axis"):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, ndim, fun_name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{fun_name}: repeated axis in {axis}")
        return axes
    return (canonicalize_axis(axis, ndim, fun_name),)


def ensure_array(x):
    """A Python/numpy value as an operand the primitives accept (arrays pass through)."""
    if isinstance(x, (ArrayImpl, Tracer)):
        return x
    return x


def const_like(x, value):
    """A scalar constant of x's dtype that keeps x's weak type where a literal can.

    Weak operands get a Python scalar when x's dtype is the one that scalar takes
    (so a weak f32 stays weak); otherwise a strong numpy scalar of x's dtype.
    """
    a = get_aval(x)
    dt = a.dtype
    if a.weak_type:
        if dtypes.is_float(dt) and dt == dtypes.default_float():
            return float(value)
        if dtypes.is_int(dt) and dt == dtypes.default_int() and float(value) == int(value):
            return int(value)
        if dtypes.is_complex(dt) and dt == dtypes.default_complex():
            return complex(value)
    return np.asarray(value, dt)[()]


def with_weak(x, weak):
    """x with its weak_type flag set to `weak` (a no-op conversion where it differs)."""
    a = get_aval(x)
    if a.weak_type == bool(weak):
        return x
    return P.convert_element_type_p.bind(x, new_dtype=a.dtype, weak_type=bool(weak))


def dtype_of(x):
    return get_aval(x).dtype


def _qualified(name):
    """A function's name as the messages print it: jnp's functions by their short name."""
    return name if "." in name else f"jnp.{name}"


def concrete(x, name, what):
    """x's value, read through any tracer that knows it (as it is: an Array, a numpy array
    or a scalar); a tracer without one raises JAX's ConcretizationTypeError, with `what`
    (the reason a concrete value is needed), the function `name` (None: not named) and the
    user's line."""
    while isinstance(x, Tracer):
        v = x.to_concrete_value()
        if v is None:
            where = f"\nThe error occurred in {_qualified(name)}()" if name else ""
            raise core.ConcretizationTypeError(
                f"Abstract tracer value encountered where concrete value is expected: traced array with "
                f"shape {x.aval.str_short()}\n{what}{where} (at {core.user_site()})")
        x = v
    return x


def host(x, name, what):
    """x as a host numpy array (see `concrete` for a traced x)."""
    return np.asarray(concrete(x, name, what))


def static_int(v, name, what):
    """v (a Python int, a numpy integer or a concrete integer array) as a Python int, for an
    argument `what` of function `name` that fixes a shape; a traced v without a concrete
    value raises ConcretizationTypeError, anything else not an integer TypeError (as jnp)."""
    if isinstance(v, Tracer):
        v = concrete(v, name, f"The {what} argument of {_qualified(name)} must be a static integer.")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer ({what} of "
                        f"{_qualified(name)}, at {core.user_site()})") from None


def static_size(size, name):
    """The `size=` argument of the functions whose output length depends on the data:
    None, or a non-negative static int (a negative one is JAX's TypeError)."""
    if size is None:
        return None
    size = static_int(size, name, "size")
    if size < 0:
        raise TypeError(f"{_qualified(name)}: size must be non-negative, got {size} (at {core.user_site()})")
    return size


_JITTED = {}


def jitted(name, fn, static=(), static_argnames=()):
    """`fn` under jit, for library functions built from many primitives: called eagerly,
    one compile per signature instead of one dispatch per primitive; under another trace,
    a nested call that is inlined. `name` is the jit's name (its __name__ and what
    make_jaxpr prints, as jnp's own jits print their function's name) and with `fn` keys
    the cache."""
    f = _JITTED.get((name, fn))
    if f is None:
        from xlafront.api import jit
        f = _JITTED[(name, fn)] = jit(fn, static_argnums=static or None,
                                      static_argnames=static_argnames or None, name=name)
    return f
