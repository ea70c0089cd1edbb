"""Reductions: sum, prod, max, min, mean, var, std, arg{max,min}, all, any, cumulative
sums and products, nan-variants, average, median, count_nonzero, ptp.

numpy's axis/keepdims/dtype/where/initial conventions, JAX's dtypes: booleans and
small integers are summed in the default integer, means of integers are floats,
and reductions never return weak-typed results (`jnp.sum(3.0)` is a strong float32).
"""
from __future__ import annotations

import builtins

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, canonicalize_axis, check_arraylike, convert

_SCALARS = (bool, int, float, complex)


# ----------------------------------------------------------------------------- helpers


def _operand(name, a):
    """`a` as a strong (non-weak) operand: reductions drop weak types, as in JAX."""
    check_arraylike(name, a)
    if type(a) in _SCALARS:
        return _asarray(np.asarray(a, dtypes.scalar_type_of(a)[0]))
    if isinstance(a, (np.ndarray, np.generic)):
        return _asarray(a)
    av = aval(a)
    return convert(a, av.dtype, False) if av.weak_type else a


def _operand_w(name, a):
    """(strong operand, whether the input was weak-typed): the weak flag picks the
    float a weak int becomes (jnp.mean(3) is float64 under x64, an int32 array's float32)."""
    check_arraylike(name, a)
    return _operand(name, a), aval(a).weak_type


def _asarray(a):
    from xlafront.numpy._creation import asarray
    return asarray(a)


def _axes(name, axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(x, ndim, name) for x in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {tuple(axis)}")
        return axes
    return (canonicalize_axis(axis, ndim, name),)


def _keepdims(out, in_shape, axes):
    shape = tuple(1 if i in axes else d for i, d in enumerate(in_shape))
    return P.reshape(out, shape)


def _count(shape, axes):
    return int(np.prod([shape[i] for i in axes], dtype=np.int64))


def _sum_dtype(dt, promote_integers=True):
    """Accumulation dtype of sum/prod: bools and narrow integers widen (jnp semantics)."""
    if dt == dtypes.bool_:
        return dtypes.default_int()
    if promote_integers and dtypes.is_int(dt):
        if dtypes.is_unsigned(dt):
            wide = dtypes.canonicalize(dtypes.uint64)
        else:
            wide = dtypes.default_int()
        return wide if dt.itemsize < wide.itemsize else dt
    return dt


def _where(mask, x, fill):
    from xlafront.numpy._ufuncs import where
    return where(mask, x, fill)


def _no_out(name, out):
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported "
                                  f"(xlafront arrays are immutable).")


def _max_identity(dt):
    if dt == dtypes.bool_:
        return False
    if dtypes.is_int(dt):
        return int(np.iinfo(dt).min)
    return -np.inf


def _min_identity(dt):
    if dt == dtypes.bool_:
        return True
    if dtypes.is_int(dt):
        return int(np.iinfo(dt).max)
    return np.inf


def _bin(prim, x, y):
    """Binary primitive with numpy broadcasting (operands share a dtype already)."""
    from xlafront.numpy._util import broadcast_args
    return prim.bind(*broadcast_args(prim.name, x, y))


def _scalar(v, dt):
    """Python value v as a strong scalar of dtype dt (a graph literal)."""
    return np.asarray(v, dt)[()]


# ----------------------------------------------------------------------------- sum, prod, max, min


_COMBINE = {"sum": P.add_p, "prod": P.mul_p, "max": P.max_p, "min": P.min_p}
_PRIM = {"sum": P.reduce_sum_p, "prod": P.reduce_prod_p, "max": P.reduce_max_p, "min": P.reduce_min_p}
_IDENTITY = {"sum": lambda dt: 0, "prod": lambda dt: 1, "max": _max_identity, "min": _min_identity}


def _reduce(name, a, axis, dtype, out, keepdims, initial, where, promote_integers):
    _no_out(name, out)
    a = _operand(name, a)
    av = aval(a)
    axes = _axes(name, axis, av.ndim)
    if dtype is not None:
        dt = dtypes.canonicalize(dtypes.dtype(dtype))
    elif name in ("sum", "prod"):
        dt = _sum_dtype(av.dtype, promote_integers)
    else:
        dt = av.dtype
    a = convert(a, dt)
    if name in ("max", "min") and initial is None:
        if where is not None:
            raise ValueError(f"reduction operation {name} does not have an identity, so to use a "
                             f"where mask one has to specify 'initial'")
        if builtins.any(av.shape[ax] == 0 for ax in axes):
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    if name in ("max", "min") and dt == dtypes.bool_:
        prim = P.reduce_or_p if name == "max" else P.reduce_and_p
    else:
        prim = _PRIM[name]
    if where is not None:
        a = _where(where, a, _scalar(_IDENTITY[name](dt), dt))
        if aval(a).shape != av.shape:
            raise ValueError(f"{name}: where mask of shape {aval(where).shape} does not broadcast to "
                             f"the operand's shape {av.shape} (at {core.user_site()})")
    r = prim.bind(a, axes=tuple(sorted(axes))) if axes else a
    if initial is not None:
        init = convert(initial, dt)
        if name in ("max", "min") and dt == dtypes.bool_:
            r = (P.or_p if name == "max" else P.and_p).bind(r, init)
        else:
            r = _COMBINE[name].bind(r, init)
    if keepdims:
        r = _keepdims(r, av.shape, axes)
    return r


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,  # noqa: A001
        promote_integers=True):
    return _reduce("sum", a, axis, dtype, out, keepdims, initial, where, promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    return _reduce("prod", a, axis, dtype, out, keepdims, initial, where, promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    return _reduce("max", a, axis, None, out, keepdims, initial, where, False)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    return _reduce("min", a, axis, None, out, keepdims, initial, where, False)


amax, amin = max, min


def _bool_reduce(name, prim, a, axis, out, keepdims, where):
    _no_out(name, out)
    a = _operand(name, a)
    av = aval(a)
    axes = _axes(name, axis, av.ndim)
    if av.dtype != dtypes.bool_:
        a = P.ne_p.bind(a, _scalar(0, av.dtype))
    if where is not None:
        a = _where(where, a, name == "all")
    r = prim.bind(a, axes=tuple(sorted(axes))) if axes else a
    return _keepdims(r, av.shape, axes) if keepdims else r


def all(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    return _bool_reduce("all", P.reduce_and_p, a, axis, out, keepdims, where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    return _bool_reduce("any", P.reduce_or_p, a, axis, out, keepdims, where)


def count_nonzero(a, axis=None, keepdims=False):
    a = _operand("count_nonzero", a)
    av = aval(a)
    nz = P.ne_p.bind(a, _scalar(0, av.dtype)) if av.dtype != dtypes.bool_ else a
    return sum(nz, axis=axis, keepdims=keepdims, dtype=dtypes.default_int())


def ptp(a, axis=None, out=None, keepdims=False):
    _no_out("ptp", out)
    a = _operand("ptp", a)
    hi = max(a, axis=axis, keepdims=keepdims)
    lo = min(a, axis=axis, keepdims=keepdims)
    return P.sub(hi, lo)


# ----------------------------------------------------------------------------- argmax, argmin


def _argminmax(name, prim, a, axis, out, keepdims):
    _no_out(name, out)
    a = _operand(name, a)
    av = aval(a)
    if axis is None:
        flat = P.reshape(a, (av.size,))
        if av.size == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        r = prim.bind(flat, axes=(0,), index_dtype=dtypes.default_int())
        return P.reshape(r, (1,) * av.ndim) if keepdims else r
    ax = canonicalize_axis(axis, av.ndim, name)
    if av.ndim == 0:
        a, av = P.reshape(a, (1,)), av.update(shape=(1,))
    if av.shape[ax] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    r = prim.bind(a, axes=(ax,), index_dtype=dtypes.default_int())
    if keepdims:
        r = _keepdims(r, av.shape, (ax,))
    return r


def argmax(a, axis=None, out=None, keepdims=None):
    return _argminmax("argmax", P.argmax_p, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
    return _argminmax("argmin", P.argmin_p, a, axis, out, keepdims)


def _nanarg(name, fn, a, axis, out, keepdims):
    _no_out(name, out)
    a = _operand(name, a)
    if not dtypes.is_inexact(aval(a).dtype):
        return fn(a, axis=axis, keepdims=keepdims)
    filled, nan = _nan_fill(name, a, -np.inf if name == "nanargmax" else np.inf)
    r = fn(filled, axis=axis, keepdims=keepdims)
    all_nan = all(nan, axis=axis, keepdims=keepdims)
    return P.select_n(all_nan, r, P.broadcast_in_dim(_scalar(-1, aval(r).dtype), aval(r).shape, ()))


def nanargmax(a, axis=None, out=None, keepdims=None):
    return _nanarg("nanargmax", argmax, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    return _nanarg("nanargmin", argmin, a, axis, out, keepdims)


# ----------------------------------------------------------------------------- mean, var, std


def _inexact_dtype(name, dt, dtype, weak=False):
    if dtype is not None:
        return dtypes.canonicalize(dtypes.dtype(dtype))
    return dtypes.to_inexact(dt, weak)


def _divide(num, den):
    """num / den where den is a Python number or an array of num's dtype."""
    dt = aval(num).dtype
    if isinstance(den, (int, float)):
        return P.div(num, _scalar(den, dt))
    return _bin(P.div_p, num, convert(den, dt))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _no_out("mean", out)
    a, weak = _operand_w("mean", a)
    av = aval(a)
    axes = _axes("mean", axis, av.ndim)
    out_dt = _inexact_dtype("mean", av.dtype, dtype, weak)
    dt = dtypes.to_inexact(out_dt)
    s = sum(convert(a, dt), axis=axes, keepdims=keepdims, where=where, dtype=dt)
    if where is None:
        r = _divide(s, float(_count(av.shape, axes)))
    else:
        from xlafront.numpy._util import broadcast_to_shape
        mask = broadcast_to_shape(_operand("mean", where), av.shape)
        r = _divide(s, sum(mask, axis=axes, keepdims=keepdims, dtype=dt))
    return convert(r, out_dt)


def _var_dtypes(dt, dtype, weak):
    if dtype is not None:
        out = dtypes.canonicalize(dtypes.dtype(dtype))
        return dtypes.to_inexact(out), out
    comp = dtypes.to_inexact(dt, weak)
    return comp, P._real_dtype(comp)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    _no_out("var", out)
    if correction is not None:
        ddof = correction
    a, weak = _operand_w("var", a)
    av = aval(a)
    axes = _axes("var", axis, av.ndim)
    comp, out_dt = _var_dtypes(av.dtype, dtype, weak)
    a = convert(a, comp)
    m = mean(a, axis=axes, where=where)
    m = P.broadcast_in_dim(m, av.shape, [i for i in range(av.ndim) if i not in axes])
    centered = P.sub(a, m)
    if dtypes.is_complex(comp):
        sq = P.real(P.mul(centered, P.conj(centered)))
    else:
        sq = P.mul(centered, centered)
    s = sum(sq, axis=axes, keepdims=keepdims, where=where)
    if where is None:
        r = _normalize(s, float(_count(av.shape, axes) - ddof))
    else:
        from xlafront.numpy._util import broadcast_to_shape
        mask = broadcast_to_shape(_operand("var", where), av.shape)
        cnt = sum(mask, axis=axes, keepdims=keepdims, dtype=aval(s).dtype)
        r = _normalize(s, P.sub(cnt, _scalar(ddof, aval(s).dtype)))
    return convert(r, out_dt)


def _normalize(s, n):
    """s / n where n > 0, else NaN, as a select: where the normalizer is not positive the
    value is NaN and its derivative 0 (as JAX's var/nanvar; a plain s / 0 would give NaN
    tangents, and s / -1 a negative variance). `n` is a Python float or an array like s."""
    sv = aval(s)
    nan = P.broadcast_in_dim(_scalar(np.nan, sv.dtype), sv.shape, ())
    if isinstance(n, float):
        r = P.div(s, _scalar(n, sv.dtype))
        return r if n > 0 else P.select_n(np.bool_(False), nan, r)
    return P.select_n(P.gt(n, _scalar(0, sv.dtype)), nan, P.div(s, n))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    _no_out("std", out)
    v = var(a, axis=axis, ddof=ddof, keepdims=keepdims, where=where, correction=correction)
    r = P.sqrt(v)
    return r if dtype is None else convert(r, dtypes.canonicalize(dtypes.dtype(dtype)))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    a_in = a
    a, weak = _operand_w("average", a)
    av = aval(a)
    if weights is None:
        avg = mean(a_in, axis=axis, keepdims=keepdims)
        axes = _axes("average", axis, av.ndim)
        wsum = _scalar(_count(av.shape, axes), aval(avg).dtype)
        from xlafront.numpy._util import broadcast_to_shape
        wsum = broadcast_to_shape(wsum, aval(avg).shape)
    else:
        w, wweak = _operand_w("average", weights)
        wv = aval(w)
        dt, pweak = dtypes.promote([(av.dtype, weak), (wv.dtype, wweak)])
        dt = dtypes.to_inexact(dt, pweak)
        a, w = convert(a, dt), convert(w, dt)
        if wv.shape != av.shape:
            if axis is None:
                raise ValueError("Axis must be specified when shapes of a and weights differ.")
            if wv.ndim != 1:
                raise ValueError("1D weights expected when shapes of a and weights differ.")
            ax = canonicalize_axis(axis, av.ndim, "average")
            if wv.shape[0] != av.shape[ax]:
                raise ValueError(f"Length of weights not compatible with specified axis: weights of "
                                 f"shape {wv.shape}, a of shape {av.shape}, axis {axis}")
            w = P.broadcast_in_dim(w, av.shape, (ax,))
        wsum = sum(w, axis=axis, keepdims=keepdims)
        avg = _bin(P.div_p, sum(_bin(P.mul_p, a, w), axis=axis, keepdims=keepdims), wsum)
    if returned:
        return avg, wsum
    return avg


# ----------------------------------------------------------------------------- nan-aware


def _isnan(x):
    return P.ne_p.bind(x, x)


def _nan_fill(name, a, fill):
    a = _operand(name, a)
    if not dtypes.is_inexact(aval(a).dtype):
        return a, None
    nan = _isnan(a)
    return _where_fill(nan, fill, a), nan


def _where_fill(pred, fill, a):
    """where(pred, fill, a) for a Python scalar fill. On an empty array this is the fill
    alone (no dependence on a), as jnp.where returns its x operand for a zero-size result:
    so the tangents of nansum & co. of empty arrays are zero, as JAX's."""
    av = aval(a)
    full = P.broadcast_in_dim(_scalar(fill, av.dtype), av.shape, ())
    if 0 in av.shape:
        return full
    return P.select_n(pred, a, full)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    a, _ = _nan_fill("nansum", a, 0)
    return sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    a, _ = _nan_fill("nanprod", a, 1)
    return prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where)


def _nanminmax(name, fn, a, axis, out, keepdims, initial, where):
    a = _operand(name, a)
    dt = aval(a).dtype
    if not dtypes.is_inexact(dt):
        return fn(a, axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)
    filled, nan = _nan_fill(name, a, -np.inf if name == "nanmax" else np.inf)
    r = fn(filled, axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)
    all_nan = all(nan, axis=axis, keepdims=keepdims)
    return P.select_n(all_nan, r, P.broadcast_in_dim(_scalar(np.nan, dt), aval(r).shape, ()))


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nanminmax("nanmax", max, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nanminmax("nanmin", min, a, axis, out, keepdims, initial, where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _no_out("nanmean", out)
    check_arraylike("nanmean", a)
    if not dtypes.is_inexact(aval(a).dtype):
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    a = _operand("nanmean", a)
    filled, nan = _nan_fill("nanmean", a, 0)
    dt = _inexact_dtype("nanmean", aval(a).dtype, dtype)
    s = sum(filled, axis=axis, dtype=dt, keepdims=keepdims, where=where)
    valid = P.not_p.bind(nan)
    if where is not None:
        valid = P.and_p.bind(*_broadcast_pair(valid, _operand("nanmean", where)))
    cnt = sum(valid, axis=axis, dtype=dt, keepdims=keepdims)
    return P.div(s, cnt)


def _broadcast_pair(x, y):
    from xlafront.numpy._util import broadcast_args
    return broadcast_args("nanmean", x, y)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    _no_out("nanvar", out)
    check_arraylike("nanvar", a)
    if not dtypes.is_inexact(aval(a).dtype):
        return var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where)
    a, weak = _operand_w("nanvar", a)
    av = aval(a)
    axes = _axes("nanvar", axis, av.ndim)
    comp, out_dt = _var_dtypes(av.dtype, dtype, weak)
    a = convert(a, comp)
    invalid = _isnan(a)
    if where is not None:
        from xlafront.numpy._util import broadcast_to_shape
        mask = broadcast_to_shape(_operand("nanvar", where), av.shape)
        invalid = P.or_p.bind(invalid, P.not_p.bind(mask))
    # the mean of the valid entries, then their squared deviations, the others' set to 0
    # (a select, so that a NaN entry gets a zero gradient rather than 0 * NaN)
    real = P._real_dtype(comp)
    cnt = sum(P.not_p.bind(invalid), axis=axes, keepdims=True, dtype=real)
    m = _bin(P.div_p, sum(_where_fill(invalid, 0, a), axis=axes, keepdims=True),
             convert(cnt, comp))
    centered = _where_fill(invalid, 0, _bin(P.sub_p, a, m))
    if dtypes.is_complex(comp):
        sq = P.real(P.mul(centered, P.conj(centered)))
    else:
        sq = P.mul(centered, centered)
    s = sum(sq, axis=axes, keepdims=keepdims)
    n = cnt if keepdims else P.reshape(cnt, aval(s).shape)
    # NaN where the normalizer is not positive, selected before dividing by a safe 1 there:
    # the value is NaN and the gradient 0 (JAX's nanvar; var divides first, see _normalize)
    n = P.sub(n, _scalar(ddof, real))
    positive = P.gt(n, _scalar(0, real))
    nan = P.broadcast_in_dim(_scalar(np.nan, real), aval(s).shape, ())
    one = P.broadcast_in_dim(_scalar(1, real), aval(s).shape, ())
    r = P.div(P.select_n(positive, nan, s), P.select_n(positive, one, n))
    return convert(r, out_dt)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    return P.sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where))


# ----------------------------------------------------------------------------- cumulative


def _cumulative(name, prim, a, axis, dtype, reverse=False):
    a = _operand(name, a)
    av = aval(a)
    if axis is None:
        a = P.reshape(a, (av.size,))
        av = aval(a)
        axis = 0
    axis = canonicalize_axis(axis, av.ndim, name)
    if dtype is not None:
        dt = dtypes.canonicalize(dtypes.dtype(dtype))
    elif av.dtype == dtypes.bool_ and name in ("cumsum", "cumprod"):
        dt = dtypes.default_int()
    else:
        dt = av.dtype
    a = convert(a, dt)
    if name in ("cummax", "cummin") and dt == dtypes.bool_:
        # bool running max/min: via int8, whose order agrees
        r = prim.bind(convert(a, np.dtype(np.int8)), axis=axis, reverse=bool(reverse))
        return convert(r, dt)
    return prim.bind(a, axis=axis, reverse=bool(reverse))


def cumsum(a, axis=None, dtype=None, out=None):
    _no_out("cumsum", out)
    return _cumulative("cumsum", P.cumsum_p, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    _no_out("cumprod", out)
    return _cumulative("cumprod", P.cumprod_p, a, axis, dtype)


cumproduct = cumprod


def nancumsum(a, axis=None, dtype=None, out=None):
    a, _ = _nan_fill("nancumsum", a, 0)
    return cumsum(a, axis=axis, dtype=dtype, out=out)


def nancumprod(a, axis=None, dtype=None, out=None):
    a, _ = _nan_fill("nancumprod", a, 1)
    return cumprod(a, axis=axis, dtype=dtype, out=out)


def _cumulative_with_initial(name, fn, x, axis, dtype, include_initial, identity):
    x = _operand(name, x)
    av = aval(x)
    if axis is None:
        if av.ndim > 1:
            raise ValueError(f"{name}: axis must be specified for arrays of more than one dimension, "
                             f"got shape {av.shape}")
        axis = 0
    if av.ndim == 0:
        raise ValueError(f"{name}: the input must be at least 1-D, got a scalar")
    r = fn(x, axis=axis, dtype=dtype)
    if include_initial:
        ax = canonicalize_axis(axis, av.ndim, name)
        ra = aval(r)
        shape = list(ra.shape)
        shape[ax] = 1
        first = P.broadcast_in_dim(_scalar(identity, ra.dtype), tuple(shape), ())
        r = P.concatenate([first, r], ax)
    return r


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    return _cumulative_with_initial("cumulative_sum", cumsum, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    return _cumulative_with_initial("cumulative_prod", cumprod, x, axis, dtype, include_initial, 1)


# ----------------------------------------------------------------------------- median


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median via a sort along the reduced axis (NaN anywhere in a slice gives NaN, as JAX)."""
    _no_out("median", out)
    a, weak = _operand_w("median", a)
    av = aval(a)
    dt = dtypes.to_inexact(av.dtype, weak)
    a = convert(a, dt)
    if axis is None:
        x = P.reshape(a, (av.size,))
        ax = 0
    else:
        axes = _axes("median", axis, av.ndim)
        if len(axes) != 1:
            # move the reduced axes last and merge them
            rest = [i for i in range(av.ndim) if i not in axes]
            x = P.transpose(a, rest + list(axes))
            x = P.reshape(x, [av.shape[i] for i in rest] + [_count(av.shape, axes)])
            ax = len(rest)
        else:
            x, ax = a, axes[0]
    xs = aval(x)
    n = xs.shape[ax]
    if n == 0:
        raise _EmptyAxisTypeError(f"median of an empty axis (shape {av.shape}) is not defined "
                                  f"(at {core.user_site()})")
    s = P.sort(x, dimension=ax)

    def take(i):
        starts = [0] * xs.ndim
        limits = list(xs.shape)
        starts[ax], limits[ax] = i, i + 1
        return P.squeeze(P.slice(s, starts, limits), (ax,))

    if n % 2:
        r = take(n // 2)
    else:
        r = P.mul(P.add(take(n // 2 - 1), take(n // 2)), _scalar(0.5, dt))
    if dtypes.is_float(dt) or dtypes.is_complex(dt):
        has_nan = any(_isnan(x), axis=ax)
        r = P.select_n(has_nan, r, P.broadcast_in_dim(_scalar(np.nan, dt), aval(r).shape, ()))
    if keepdims:
        axes = tuple(range(av.ndim)) if axis is None else _axes("median", axis, av.ndim)
        r = _keepdims(r, av.shape, axes)
    return r


# ----------------------------------------------------------------------------- quantiles

# An empty axis has no median or quantile. jnp raises an internal error there (a TypeError
# from its gather; an IndexError for the nan-variants reducing every axis); these keep xlafront's
# clear message with JAX's class, and are ValueErrors too.
class _EmptyAxisTypeError(TypeError, ValueError):
    pass


class _EmptyAxisIndexError(IndexError, ValueError):
    pass


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, a, q, axis, method, keepdims, ignore_nan):
    """Quantiles of the sorted values, picked with one-hot masks (q and, for the nan-variants,
    the count of valid entries may be traced, so the positions are data)."""
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"{name}: method must be one of {_QUANTILE_METHODS}, got {method!r}")
    a, weak = _operand_w(name, a)
    q, qweak = _operand_w(name, q)
    av, qv = aval(a), aval(q)
    if qv.ndim > 1:
        raise ValueError(f"q must be have rank <= 1, got shape {qv.shape}")
    dt, w = dtypes.promote([(av.dtype, weak), (qv.dtype, qweak)])
    dt = dtypes.to_inexact(dt, w)
    if dtypes.is_complex(dt):
        raise ValueError(f"{name} does not support complex input")
    a, q = convert(a, dt), convert(q, dt)
    axes = _axes(name, axis, av.ndim)
    rest = [i for i in range(av.ndim) if i not in axes]
    n = _count(av.shape, axes)
    if n == 0:
        err = _EmptyAxisIndexError if ignore_nan and not rest else _EmptyAxisTypeError
        raise err(f"{name} of an empty axis (shape {av.shape}) is not defined (at {core.user_site()})")
    batch = [av.shape[i] for i in rest]
    x = P.reshape(P.transpose(a, rest + list(axes)), batch + [n])
    x = P.sort(x, dimension=len(batch))
    Q, B = list(qv.shape), batch
    full = Q + B
    isnan = P.ne_p.bind(x, x)
    if ignore_nan:
        valid = sum(P.not_p.bind(isnan), axis=-1, dtype=dt)
    else:
        valid = P.broadcast_in_dim(_scalar(n, dt), B, ())
    qb = P.broadcast_in_dim(q, full, range(len(Q)))
    nb = P.broadcast_in_dim(valid, full, range(len(Q), len(full)))
    one, zero = _scalar(1, dt), _scalar(0, dt)
    top = P.max(P.sub(nb, one), zero)
    pos = P.clamp(zero, P.mul(qb, top), top) if full else P.min(P.max(P.mul(qb, top), zero), top)
    lo = P.floor(pos)
    hi = P.min(P.ceil(pos), top)
    xb = P.broadcast_in_dim(x, full + [n], range(len(Q), len(full) + 1))
    it = dtypes.default_int()
    iota = P.broadcasted_iota(it, full + [n], len(full))

    def take(idx):
        idx = P.broadcast_in_dim(convert(idx, it), full + [n], range(len(full)))
        pick = P.eq(iota, idx)
        return P.reduce_sum(P.select_n(pick, P.broadcast_in_dim(zero, full + [n], ()), xb), (len(full),))

    if method == "lower":
        r = take(lo)
    elif method == "higher":
        r = take(hi)
    elif method == "nearest":
        r = take(P.select_n(P.gt(P.sub(pos, lo), _scalar(0.5, dt)), lo, hi))
    else:
        vlo, vhi = take(lo), take(hi)
        if method == "midpoint":
            r = P.mul(P.add(vlo, vhi), _scalar(0.5, dt))
        else:
            # the weighted sum, as jnp (vlo + (vhi - vlo) * f is NaN between equal infinities)
            f = P.sub(pos, lo)
            r = P.add(P.mul(vlo, P.sub(one, f)), P.mul(vhi, f))
    if ignore_nan:
        bad = P.eq(nb, zero)
    else:
        bad = P.broadcast_in_dim(any(isnan, axis=-1), full, range(len(Q), len(full)))
    r = P.select_n(bad, r, P.broadcast_in_dim(_scalar(np.nan, dt), full, ()))
    if keepdims:
        r = P.reshape(r, Q + [1 if i in axes else d for i, d in enumerate(av.shape)])
    return r


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             interpolation=None):
    _no_out("quantile", out)
    return _quantile("quantile", a, q, axis, interpolation or method, keepdims, False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                interpolation=None):
    _no_out("nanquantile", out)
    return _quantile("nanquantile", a, q, axis, interpolation or method, keepdims, True)


def _percent(name, q):
    check_arraylike(name, q)
    if type(q) in (int, float):
        return q / 100.0
    q = _operand(name, q)
    qv = aval(q)
    q = convert(q, dtypes.to_inexact(qv.dtype))
    return P.div(q, _scalar(100.0, aval(q).dtype))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               interpolation=None):
    _no_out("percentile", out)
    return _quantile("percentile", a, _percent("percentile", q), axis, interpolation or method, keepdims, False)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  interpolation=None):
    _no_out("nanpercentile", out)
    return _quantile("nanpercentile", a, _percent("nanpercentile", q), axis, interpolation or method,
                     keepdims, True)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _no_out("nanmedian", out)
    return _quantile("nanmedian", a, 0.5, axis, "midpoint", keepdims, True)  # as jnp


# ----------------------------------------------------------------------------- methods


def _method_reduction(fn):
    def method(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return fn(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)
    method.__name__ = fn.__name__
    return method


array_methods = {
    "sum": sum, "prod": prod, "max": max, "min": min, "mean": mean, "var": var, "std": std,
    "argmax": argmax, "argmin": argmin, "all": all, "any": any, "cumsum": cumsum, "cumprod": cumprod,
    "ptp": ptp,
}

__all__ = [
    "sum", "prod", "max", "min", "amax", "amin", "all", "any", "count_nonzero", "ptp", "argmax", "argmin",
    "nanargmax", "nanargmin",
    "mean", "var", "std", "average", "nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanvar",
    "nanstd", "cumsum", "cumprod", "cumproduct", "nancumsum", "nancumprod", "cumulative_sum",
    "cumulative_prod", "median", "quantile", "nanquantile", "percentile", "nanpercentile", "nanmedian",
    "allclose", "array_equal", "array_equiv",
]


# ----------------------------------------------------------------------------- comparisons of arrays
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """all(isclose(a, b)): a 0-d bool array, as jnp.allclose."""
    from xlafront.numpy._ufuncs import isclose
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """True (as a 0-d bool array) iff the shapes agree and every element is equal."""
    from xlafront.numpy._creation import asarray
    from xlafront.numpy._ufuncs import equal, isnan, logical_and, logical_or
    a1, a2 = asarray(a1), asarray(a2)
    if aval(a1).shape != aval(a2).shape:
        return asarray(False)
    eq = equal(a1, a2)
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return all(eq)


def array_equiv(a1, a2):
    """True iff the arrays broadcast together and every element is equal."""
    from xlafront.numpy._creation import asarray
    from xlafront.numpy._ufuncs import equal
    from xlafront.numpy._util import broadcast_shapes
    a1, a2 = asarray(a1), asarray(a2)
    try:
        broadcast_shapes(aval(a1).shape, aval(a2).shape)
    except (ValueError, TypeError):
        return asarray(False)
    return all(equal(a1, a2))
