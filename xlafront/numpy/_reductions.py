"""Reductions: sum, prod, max, min, mean, ... with numpy's axis/keepdims/dtype."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, canonicalize_axes, check_arraylike, convert


def _as_array(a):
    from xlafront.numpy._creation import asarray
    return asarray(a) if not isinstance(a, (core.Tracer,)) else a


def _keepdims(out, in_shape, axes):
    shape = tuple(1 if i in axes else d for i, d in enumerate(in_shape))
    return P.reshape(out, shape)


def _reduction(name, prim, upcast_bool=False, identity=None, kinds=None):
    def fn(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None, promote_integers=True):
        if out is not None:
            raise NotImplementedError(f"{name}: the 'out' argument is not supported (arrays are immutable)")
        check_arraylike(name, a)
        a = _as_array(a)
        av = aval(a)
        axes = canonicalize_axes(axis, av.ndim, name)
        if dtype is not None:
            a = convert(a, dtypes.canonicalize(dtype))
        elif upcast_bool and av.dtype == dtypes.bool_:
            a = convert(a, dtypes.default_int())
        elif upcast_bool and promote_integers and dtypes.is_int(av.dtype) and av.dtype.itemsize < dtypes.default_int().itemsize:
            a = convert(a, dtypes.default_int() if not dtypes.is_unsigned(av.dtype) else
                        dtypes.canonicalize(dtypes.uint64))
        if name in ("max", "min") and initial is None and where is None:
            for ax in axes:
                if av.shape[ax] == 0:
                    raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        if where is not None:
            from xlafront.numpy._ufuncs import where as _where
            a = _where(where, a, identity(aval(a).dtype))
        r = prim.bind(a, axes=axes)
        if initial is not None:
            from xlafront.numpy import _ufuncs as U
            combine = {"sum": U.add, "prod": U.multiply, "max": U.maximum, "min": U.minimum}[name]
            r = combine(r, convert(initial, aval(r).dtype))
        if keepdims:
            r = _keepdims(r, av.shape, axes)
        return r

    fn.__name__ = fn.__qualname__ = name
    return fn


def _max_identity(dt):
    if dtypes.is_int(dt):
        return np.iinfo(dt).min
    if dt == dtypes.bool_:
        return False
    return -np.inf


def _min_identity(dt):
    if dtypes.is_int(dt):
        return np.iinfo(dt).max
    if dt == dtypes.bool_:
        return True
    return np.inf


sum = _reduction("sum", P.reduce_sum_p, upcast_bool=True, identity=lambda dt: 0)  # noqa: A001
prod = _reduction("prod", P.reduce_prod_p, upcast_bool=True, identity=lambda dt: 1)
max = _reduction("max", P.reduce_max_p, identity=_max_identity)  # noqa: A001
min = _reduction("min", P.reduce_min_p, identity=_min_identity)  # noqa: A001
amax, amin = max, min


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    check_arraylike("mean", a)
    a = _as_array(a)
    av = aval(a)
    axes = canonicalize_axes(axis, av.ndim, "mean")
    n = int(np.prod([av.shape[i] for i in axes], dtype=np.int64))
    if dtype is None:
        dt = av.dtype if dtypes.is_inexact(av.dtype) else dtypes.default_float()
    else:
        dt = dtypes.canonicalize(dtype)
    s = sum(convert(a, dt, av.weak_type), axis=axes, keepdims=keepdims, where=where)
    if where is not None:
        from xlafront.numpy._ufuncs import true_divide
        cnt = sum(where, axis=axes, keepdims=keepdims, dtype=dt) if not isinstance(where, bool) else n
        return true_divide(s, cnt)
    return P.div(s, _scalar_like(n, s))


def _scalar_like(v, like):
    a = aval(like)
    return np.asarray(v, a.dtype)[()] if not a.weak_type else convert(float(v) if dtypes.is_float(a.dtype) else v, a.dtype, True)


array_methods = {"sum": sum, "max": max, "min": min, "mean": mean, "prod": prod}
