"""Numerical odds and ends: diff, ediff1d, gradient, trapezoid, gcd, lcm, frexp, ldexp,
modf, i0, vander, trim_zeros, copy, isreal, iscomplex, iterable, packbits, unpackbits,
bitwise_count, array_str, array_repr, fromfunction, frombuffer, save, load, convolve,
correlate, logspace and geomspace.

Written with xlafront.numpy's functions and the primitives, so they trace, differentiate
and batch like any other code. A few notes on the less obvious ones:
- `frexp`/`ldexp` build powers of two from their bits (exact), and scale by them in a
  few steps so that no intermediate leaves the normal range; the mantissa's derivative
  is 2**-exponent, as in JAX.
- `i0` is a power series below a crossover and the asymptotic expansion of
  exp(-x) I0(x) above it (terms chosen per dtype), with the derivative I1 computed the
  same way (a custom_jvp: d/dx I0 = I1, so it is also right at 0 and differentiates again).
- `convolve`/`correlate` are one dot_general of the kernel against the Toeplitz matrix of
  the padded signal, which is made from broadcast/reshape/slice alone (row j of the
  matrix is the signal shifted by j): no gather, any precision=, and the transforms of
  those primitives give jvp, transpose and vmap. The matrix holds len(kernel) rows of
  about len(signal) entries (the shorter input is the kernel); past _TOEPLITZ_MAX
  entries a scan over the kernel taps sums shifted products instead (memory O(signal)).
- `array_str`, `array_repr`, `save` and `iterable` are NumPy's (as in jax.numpy);
  `load` and `frombuffer` read on the host and return an Array.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import (aval, canonicalize_axes, check_arraylike, convert,
                                  promote_args, promote_args_inexact, with_weak)
from xlafront.numpy import _creation as C, _shapes as S, _ufuncs as U, _reductions as R
from xlafront.numpy._index_tricks import _axis
from xlafront.numpy._shapes import _arr, _axis_slice
from xlafront.numpy._util import host as _host, static_int as _static_int
from xlafront.numpy._util import jitted as _jitted

__all__ = ["diff", "ediff1d", "gradient", "trapezoid", "gcd", "lcm", "frexp", "ldexp", "modf", "i0",
           "vander", "trim_zeros", "copy", "isreal", "iscomplex", "iterable", "packbits", "unpackbits",
           "bitwise_count", "array_str", "array_repr", "fromfunction", "frombuffer", "save", "load",
           "convolve", "correlate", "logspace", "geomspace", "spacing"]

# NumPy's own, as jax.numpy has them
array_str = np.array_str


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """NumPy's array_repr; an xlafront array prints as its repr (`Array([...], dtype=...)`, as
    jax.numpy's), since NumPy would name the concrete class (`ArrayImpl`)."""
    from xlafront.array import ArrayImpl
    if type(arr) is ArrayImpl and max_line_width is None and precision is None and suppress_small is None:
        return repr(arr)
    return np.array_repr(arr, max_line_width, precision, suppress_small)
save = np.save
iterable = np.iterable


# ----------------------------------------------------------------------------- diff, ediff1d

def _diff_body(x, n, axis):
    op = U.not_equal if aval(x).dtype == dtypes.bool_ else U.subtract
    for _ in range(n):
        m = aval(x).shape[axis]
        if m == 0:
            break
        x = op(_axis_slice(x, 1, m, axis), _axis_slice(x, 0, m - 1, axis))
    return x


def _edge(name, v, x, axis):
    check_arraylike(name, v)
    v = C.asarray(v)
    if aval(v).ndim == 0:
        shape = list(aval(x).shape)
        shape[axis] = 1
        v = S.broadcast_to(v, tuple(shape))
    return v


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The n-th discrete difference along `axis` (`not_equal` for booleans), after
    joining `prepend` and `append` (scalars are broadcast) to `a`."""
    check_arraylike("diff", a)
    x = C.asarray(a)
    n = _static_int(n, "diff", "n")
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n} (at {core.user_site()})")
    # jnp's order: a non-integer axis (None included) is a TypeError first, n = 0 returns
    # the input as it is (a 0-d one too), then a 0-d input is a ValueError
    axis = _static_int(axis, "diff", "axis")
    if n == 0:
        return x
    if aval(x).ndim == 0:
        raise ValueError(f"diff requires input that is at least one dimensional; got {a} "
                         f"(at {core.user_site()})")
    axis = _axis(axis, aval(x).ndim, "diff")
    parts = [x]
    if prepend is not None:
        parts.insert(0, _edge("diff", prepend, x, axis))
    if append is not None:
        parts.append(_edge("diff", append, x, axis))
    if len(parts) > 1:
        x = S.concatenate(parts, axis=axis)
    return _jitted("diff", _diff_body, (1, 2))(x, n, axis)


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of consecutive elements of the flattened `ary`, with `to_begin` and
    `to_end` (cast to ary's dtype) joined at the ends."""
    check_arraylike("ediff1d", ary)
    x = S.ravel(C.asarray(ary))
    n = aval(x).shape[0]
    d = U.subtract(_axis_slice(x, 1, builtins.max(n, 1), 0), _axis_slice(x, 0, builtins.max(n - 1, 0), 0))
    dt = aval(x).dtype
    parts = [d]
    for v, front in ((to_begin, True), (to_end, False)):
        if v is None:
            continue
        check_arraylike("ediff1d", v)
        v = S.ravel(C.asarray(v))
        v = convert(v, dt, False)   # as jnp: the ends are cast to ary's dtype (strong)
        parts.insert(0, v) if front else parts.append(v)
    return S.concatenate(parts) if len(parts) > 1 else d


# ----------------------------------------------------------------------------- gradient, trapezoid

def _gradient_axis(f, h, axis):
    """Second-order central differences inside, first-order one-sided ones at the edges;
    h: None (unit spacing), a 0-d spacing, or the 1-D coordinates along `axis`."""
    n = aval(f).shape[axis]
    nd = aval(f).ndim

    def sl(a, b):
        return _axis_slice(f, a, b, axis)
    if h is None or aval(h).ndim == 0:
        h = 1.0 if h is None else h
        inner = U.divide(U.subtract(sl(2, n), sl(0, n - 2)), U.multiply(2.0, h))
        left = U.divide(U.subtract(sl(1, 2), sl(0, 1)), h)
        right = U.divide(U.subtract(sl(n - 1, n), sl(n - 2, n - 1)), h)
    else:
        dx = U.subtract(_axis_slice(h, 1, n, 0), _axis_slice(h, 0, n - 1, 0))

        def along(v):   # a 1-D array along `axis` of f
            return P.reshape(v, tuple(aval(v).shape[0] if d == axis else 1 for d in range(nd)))
        dx1, dx2 = along(_axis_slice(dx, 0, n - 2, 0)), along(_axis_slice(dx, 1, n - 1, 0))
        s = U.add(dx1, dx2)
        a = U.negative(U.divide(dx2, U.multiply(dx1, s)))
        b = U.divide(U.subtract(dx2, dx1), U.multiply(dx1, dx2))
        c = U.divide(dx1, U.multiply(dx2, s))
        inner = U.add(U.add(U.multiply(a, sl(0, n - 2)), U.multiply(b, sl(1, n - 1))), U.multiply(c, sl(2, n)))
        left = U.divide(U.subtract(sl(1, 2), sl(0, 1)), along(_axis_slice(dx, 0, 1, 0)))
        right = U.divide(U.subtract(sl(n - 1, n), sl(n - 2, n - 1)), along(_axis_slice(dx, n - 2, n - 1, 0)))
    return S.concatenate([left, inner, right], axis=axis)


def gradient(f, *varargs, axis=None, edge_order=None):
    """The gradient of `f` by central differences (one-sided at the edges), along `axis`
    (all axes by default: a list of arrays). `varargs` give the spacing: none (1), one for
    all axes, or one per axis, each a scalar or the 1-D coordinates along its axis."""
    if edge_order is not None and edge_order != 1:
        raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported (only "
                                  f"edge_order=1, the default, is). (at {core.user_site()})")
    check_arraylike("gradient", f, *varargs)
    x = C.asarray(f)
    x = promote_args_inexact("gradient", x)[0]
    x = C.asarray(x)
    nd = aval(x).ndim
    axes = canonicalize_axes(axis, nd, "gradient")
    if not varargs:
        spacing = [None] * len(axes)
    elif len(varargs) == 1:
        spacing = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError(f"Invalid number of spacing arguments {len(varargs)} for axis={axis} "
                        f"(at {core.user_site()})")
    outs = []
    for ax, h in zip(axes, spacing):
        n = aval(x).shape[ax]
        if n < 2:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least 2 elements "
                             f"are required. (at {core.user_site()})")
        if h is not None:
            h = C.asarray(h)
            if aval(h).ndim > 1:
                raise ValueError(f"Spacing arrays must be 1D arrays or scalars. (at {core.user_site()})")
            if aval(h).ndim == 1 and aval(h).shape[0] != n:
                raise ValueError("Spacing arrays must have the same length as the dimension along which the "
                                 f"gradient is calculated. (at {core.user_site()})")
        outs.append(_gradient_axis(x, h, ax))
    return outs[0] if len(axes) == 1 else outs


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of `y` along `axis` by the trapezoidal rule, at the points `x` (or
    spaced `dx`)."""
    if x is None:
        check_arraylike("trapezoid", y, dx)
        y, dx = promote_args_inexact("trapezoid", y, dx)
        yy = C.asarray(y)
        ax = _axis(axis, aval(yy).ndim, "trapezoid")
        yy = S.moveaxis(yy, ax, -1)
        d = dx
    else:
        check_arraylike("trapezoid", y, x)
        y, x = promote_args_inexact("trapezoid", y, x)
        yy, xx = C.asarray(y), C.asarray(x)
        ax = _axis(axis, aval(yy).ndim, "trapezoid")
        yy = S.moveaxis(yy, ax, -1)
        if aval(xx).ndim == 1:
            d = diff(xx)
        else:
            d = diff(S.moveaxis(xx, ax, -1), axis=-1)
    n = aval(yy).shape[-1]
    if n == 0:
        raise ValueError(f"trapezoid: y must not be empty along axis {axis} (at {core.user_site()})")
    nd = aval(yy).ndim
    avg = U.multiply(U.add(_axis_slice(yy, 1, n, nd - 1), _axis_slice(yy, 0, n - 1, nd - 1)), 0.5)
    out = R.sum(U.multiply(d, avg), axis=-1)
    return with_weak(out, False)


# ----------------------------------------------------------------------------- gcd, lcm

def _int_args(name, x1, x2):
    check_arraylike(name, x1, x2)
    x1, x2 = promote_args(name, x1, x2)
    x1, x2 = C.asarray(x1), C.asarray(x2)
    if not dtypes.is_int(aval(x1).dtype):
        raise ValueError(f"Arguments to jax.numpy.{name} must be integers. (at {core.user_site()})")
    return S.broadcast_arrays(x1, x2)


def _gcd_body(a, b):
    from xlafront.lax._control_flow import while_loop
    if not dtypes.is_unsigned(aval(a).dtype):
        a, b = U.abs(a), U.abs(b)
    zero = convert(0, aval(a).dtype, aval(a).weak_type)
    one = convert(1, aval(a).dtype, aval(a).weak_type)

    def body(c):
        a, b = c
        nz = U.not_equal(b, zero)
        return U.where(nz, b, a), U.where(nz, P.rem(a, U.where(nz, b, one)), zero)
    return while_loop(lambda c: R.any(U.not_equal(c[1], zero)), body, (a, b))[0]


def gcd(x1, x2):
    """Greatest common divisor of |x1| and |x2| (Euclid's algorithm in a while_loop)."""
    x1, x2 = _int_args("gcd", x1, x2)
    return _jitted("gcd", _gcd_body, ())(x1, x2)


def _lcm_body(x1, x2):
    g = _gcd_body(x1, x2)
    zero = convert(0, aval(g).dtype, aval(g).weak_type)
    one = convert(1, aval(g).dtype, aval(g).weak_type)
    is0 = U.equal(g, zero)
    m = U.multiply(P.div(x1, U.where(is0, one, g)), x2)
    m = m if dtypes.is_unsigned(aval(m).dtype) else U.abs(m)
    return U.where(is0, zero, m)


def lcm(x1, x2):
    """Least common multiple of |x1| and |x2| (0 if either is 0)."""
    x1, x2 = _int_args("lcm", x1, x2)
    return _jitted("lcm", _lcm_body, ())(x1, x2)


# ----------------------------------------------------------------------------- frexp, ldexp, modf

_INT_OF_WIDTH = {2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}


def _float_info(dt):
    fi = dtypes.finfo(dt)
    return int(fi.nmant), int(fi.maxexp) - 1, _INT_OF_WIDTH[np.dtype(dt).itemsize]   # nmant, bias, int type


def _pow2(n, dt):
    """2.0**n in dtype dt, exactly, for int32 n with 1 - bias <= n <= bias."""
    nmant, bias, it = _float_info(dt)
    e = P.add(convert(n, it, False), np.asarray(bias, it)[()])
    return P.bitcast_convert_type(P.shift_left(e, np.asarray(nmant, it)[()]), dt)


def _scale(x, n):
    """x * 2**n for int32 n in [-3 (bias - 2), 3 (bias - 2)]: three exact power-of-two steps."""
    q = P.div(P.sub(n, P.rem(P.add(P.rem(n, np.int32(3)), np.int32(3)), np.int32(3))), np.int32(3))  # floor(n/3)
    r = P.sub(n, P.mul(q, np.int32(2)))
    dt = aval(x).dtype
    p = _pow2(q, dt)
    return U.multiply(U.multiply(U.multiply(x, p), p), _pow2(r, dt))


def _frexp_body(x):
    dt = aval(x).dtype
    nmant, bias, it = _float_info(dt)
    expmask = (1 << (np.dtype(dt).itemsize * 8 - 1 - nmant)) - 1

    def exponent_bits(v):
        b = P.bitcast_convert_type(v, it)
        return P.and_p.bind(P.shift_right_logical(b, np.asarray(nmant, it)[()]), np.asarray(expmask, it)[()])
    # subnormals: scale by 2**nmant (exact) into the normal range first
    sub = P.eq(exponent_bits(x), np.asarray(0, it)[()])
    xs = U.where(sub, U.multiply(x, _pow2(np.int32(nmant), dt)), x)
    e = P.sub(convert(exponent_bits(xs), np.dtype(np.int32), False), np.int32(bias - 1))
    e = U.where(sub, P.sub(e, np.int32(nmant)), e)
    special = U.logical_or(U.equal(x, convert(0, dt, False)), U.logical_not(U.isfinite(x)))
    exponent = U.where(special, np.int32(0), e)
    mantissa = U.where(special, x, _scale(x, P.neg(exponent)))
    return mantissa, exponent


def frexp(x, /):
    """(mantissa, exponent) with x == mantissa * 2**exponent and 0.5 <= |mantissa| < 1
    (0, inf and nan give themselves and exponent 0); the exponent is int32."""
    check_arraylike("frexp", x)
    x = C.asarray(promote_args_inexact("frexp", x)[0])
    dt = aval(x).dtype
    if dtypes.is_complex(dt):
        raise TypeError(f"frexp does not support complex-valued inputs (at {core.user_site()})")
    return _jitted("frexp", _frexp_body, ())(with_weak(x, False))


def _spacing_body(x):
    dt = aval(x).dtype
    # the step to the next representable number away from zero; where the subtraction
    # flushes a subnormal step to 0 (XLA on CPU), the step is the smallest subnormal
    step = P.sub(U.nextafter(x, U.copysign(convert(np.inf, dt, False), x)), x)
    tiny = U.copysign(convert(float(dtypes.finfo(dt).smallest_subnormal), dt, False), x)
    return U.where(U.equal(step, convert(0, dt, False)), tiny, step)


def spacing(x, /):
    """The distance from x to the next representable number away from zero, signed as x
    (negative for -0.0 as in jax.numpy; inf at the largest float, NaN at +-inf and NaN).
    Piecewise constant: its derivative is 0 (JAX has no derivative rule and raises)."""
    check_arraylike("spacing", x)
    x = C.asarray(promote_args_inexact("spacing", x)[0])
    if dtypes.is_complex(aval(x).dtype):
        raise ValueError(f"jnp.spacing is not defined for complex inputs (at {core.user_site()})")
    from xlafront.api_autodiff import stop_gradient
    return _jitted("spacing", _spacing_body, ())(stop_gradient(with_weak(x, False)))


def _ldexp_body(x1, x2):
    _, bias, _ = _float_info(aval(x1).dtype)
    lim = 3 * (bias - 2)
    x2dt = aval(x2).dtype
    if np.dtype(x2dt).itemsize >= 8:
        lo = np.asarray(0 if dtypes.is_unsigned(x2dt) else -lim, x2dt)[()]
        x2 = P.clamp(lo, x2, np.asarray(lim, x2dt)[()])
        n = convert(x2, np.dtype(np.int32), False)
    else:
        n = P.clamp(np.int32(-lim), convert(x2, np.dtype(np.int32), False), np.int32(lim))
    return _scale(x1, n)


def ldexp(x1, x2, /):
    """x1 * 2**x2 for an integer x2 (exact unless it over- or underflows)."""
    check_arraylike("ldexp", x1, x2)
    a, b = C.asarray(x1), C.asarray(x2)
    if not dtypes.is_int(aval(b).dtype) or dtypes.is_complex(aval(a).dtype):
        raise ValueError(f"ldexp not supported for input types {(aval(a).dtype, aval(b).dtype)} "
                         f"(at {core.user_site()})")
    a = with_weak(C.asarray(promote_args_inexact("ldexp", a)[0]), False)
    a, b = S.broadcast_arrays(a, b)
    return _jitted("ldexp", _ldexp_body, ())(a, b)


def modf(x, /, out=None):
    """(fractional part, integral part) of x, both with x's sign."""
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.modf is not supported. (at {core.user_site()})")
    check_arraylike("modf", x)
    x = C.asarray(promote_args_inexact("modf", x)[0])
    whole = U.trunc(x)
    return U.subtract(x, whole), whole


# ----------------------------------------------------------------------------- i0

# (crossover, series terms, asymptotic terms) for float32 and float64: the series of
# I0 at the crossover and the asymptotic series of exp(-x) I0 beyond it are both below
# the dtype's epsilon by then (the asymptotic error ~ exp(-2 x)).
_I0_PARAMS = {np.dtype(np.float32): (10.0, 26, 14), np.dtype(np.float64): (22.0, 52, 34)}


def _series(t, coef, terms):
    """1 + t coef(1) (1 + t coef(2) (1 + ...)), evaluated from the inside."""
    r = convert(1.0, aval(t).dtype, False)
    for k in range(terms, 0, -1):
        r = U.add(1.0, U.multiply(U.multiply(r, t), coef(k)))
    return r


def _bessel_parts(x, order):
    """(series branch, asymptotic branch, which) of I0 (order 0) or I1 (order 1) at x, with
    each branch fed an input inside its own domain (so neither leaks NaNs into derivatives)."""
    dt = aval(x).dtype
    cross, ns, na = _I0_PARAMS[dt]
    ax = U.abs(x)
    small = U.less_equal(ax, cross)
    xs = U.where(small, x, convert(cross, dt, False))
    xl = U.where(small, convert(cross, dt, False), ax)
    t = U.multiply(U.multiply(xs, xs), 0.25)
    if order == 0:
        ser = _series(t, lambda k: 1.0 / (k * k), ns)
        asym_c = (lambda j: (2 * j - 1) ** 2 / (8.0 * j))
    else:
        ser = U.multiply(U.multiply(xs, 0.5), _series(t, lambda k: 1.0 / (k * (k + 1)), ns))
        asym_c = (lambda j: ((2 * j - 1) ** 2 - 4) / (8.0 * j))
    z = U.divide(1.0, xl)
    asym = U.multiply(U.divide(U.exp(xl), U.sqrt(U.multiply(2 * math.pi, xl))), _series(z, asym_c, na))
    if order == 1:
        asym = U.multiply(U.sign(x), asym)
    return U.where(small, ser, asym)


def _compute_dtype(dt):
    return dt if dt in _I0_PARAMS else np.dtype(np.float32)


def _i0_impl(x):
    dt = aval(x).dtype
    y = convert(x, _compute_dtype(dt), False)
    out = _bessel_parts(y, 0)
    if _compute_dtype(dt) != dt:   # jnp's exp(|x|) overflows in the narrow dtype itself
        out = U.where(U.greater(U.abs(y), float(np.log(dtypes.finfo(dt).max))), np.float32(np.inf), out)
    return convert(out, dt, aval(x).weak_type)


def _i1_impl(x):
    dt = aval(x).dtype
    y = convert(x, _compute_dtype(dt), False)
    return convert(_bessel_parts(y, 1), dt, aval(x).weak_type)


def _i0_custom():
    from xlafront.api_autodiff import custom_jvp
    from xlafront.api import jit
    i0_jit, i1_jit = jit(_i0_impl), jit(_i1_impl)

    @custom_jvp
    def _i0(x):
        return i0_jit(x)

    @_i0.defjvp
    def _i0_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return _i0(x), U.multiply(i1_jit(x), t)    # d/dx I0 = I1
    return _i0


_I0 = []


def i0(x):
    """The modified Bessel function of the first kind of order 0 (derivative I1)."""
    check_arraylike("i0", x)
    x = C.asarray(promote_args_inexact("i0", x)[0])
    if dtypes.is_complex(aval(x).dtype):
        raise ValueError(f"Unsupported input type to jax.numpy.i0: {aval(x).dtype} (at {core.user_site()})")
    if not _I0:
        _I0.append(_i0_custom())
    return _I0[0](x)


# ----------------------------------------------------------------------------- vander

def _vander_body(x, N, increasing):
    n = aval(x).shape[0]
    dt = aval(x).dtype
    k = P.broadcasted_iota(np.dtype(np.int32), (n, N), 1)
    if not increasing:
        k = P.sub(np.int32(N - 1), k)
    base = P.broadcast_in_dim(x, (n, N), (0,))
    out = P.broadcast_in_dim(convert(1, dt, False), (n, N), ())
    # x**k by binary powering over the bits of k: products only, exact for integers, and
    # no x**-1 factor to make the derivative NaN at 0
    nbits = builtins.max(N - 1, 0).bit_length()
    for b in range(nbits):
        bit = P.ne(P.and_p.bind(k, np.int32(1 << b)), np.int32(0))
        out = U.where(bit, U.multiply(out, base), out)
        if b + 1 < nbits:
            base = U.multiply(base, base)
    return out


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: columns x**(N-1), ..., x, 1 (or increasing)."""
    check_arraylike("vander", x)
    x = C.asarray(x)
    if aval(x).ndim != 1:
        raise ValueError(f"x must be a one-dimensional array (at {core.user_site()})")
    if aval(x).dtype == dtypes.bool_:
        raise TypeError(f"vander does not accept dtype bool (at {core.user_site()})")
    N = aval(x).shape[0] if N is None else _static_int(N, "vander", "N")
    if N < 0:
        raise ValueError(f"N must be nonnegative (at {core.user_site()})")
    return _jitted("vander", _vander_body, (1, 2))(with_weak(x, False), N, bool(increasing))


# ----------------------------------------------------------------------------- trim_zeros, copy, isreal

def trim_zeros(filt, trim="fb", axis=None):
    """`filt` without its leading ('f') and/or trailing ('b') zeros along `axis` (every axis
    by default: the bounding box of the nonzero entries). The values must be concrete."""
    x = _arr("trim_zeros", filt)
    v = _host(x, "trim_zeros", "Error arose in the `filt` argument of trim_zeros(): the output shape "
              "depends on its values.")
    nd = v.ndim
    if nd == 0:
        return x
    trim = trim.lower()
    front, back = "f" in trim, "b" in trim
    nz = v != 0
    for ax in canonicalize_axes(axis, nd, "trim_zeros"):
        n = v.shape[ax]
        other = tuple(d for d in range(nd) if d != ax)
        hit = np.flatnonzero(nz.any(axis=other) if other else nz)
        if hit.size == 0:
            start = stop = 0
        else:
            start = int(hit[0]) if front else 0
            stop = int(hit[-1]) + 1 if back else n
        x = _axis_slice(x, start, stop, ax)
    return x


def copy(a, order=None):
    """A copy of `a` (an Array)."""
    if order not in (None, "K"):
        raise NotImplementedError(f"Only implemented for order='K' (at {core.user_site()})")
    check_arraylike("copy", a)
    return C.array(a, copy=True)


def _real_test(name, x, want_complex):
    check_arraylike(name, x)
    x = C.asarray(x)
    a = aval(x)
    if dtypes.is_complex(a.dtype):
        im = U.imag(x)
        out = U.not_equal(im, 0) if want_complex else U.equal(im, 0)
    else:
        out = P.broadcast_in_dim(np.bool_(not want_complex), a.shape, ())
    return with_weak(out, a.weak_type and a.ndim == 0)


def isreal(x):
    """Elementwise: the imaginary part is zero (True for real dtypes)."""
    return _real_test("isreal", x, False)


def iscomplex(x):
    """Elementwise: the imaginary part is nonzero (False for real dtypes)."""
    return _real_test("iscomplex", x, True)


# ----------------------------------------------------------------------------- bits

def _bitorder(bitorder):
    if bitorder not in ("little", "big"):
        raise ValueError(f"'order' must be either 'little' or 'big' (at {core.user_site()})")


def _packbits_body(x, axis, bitorder):
    x = S.moveaxis(x, axis, -1)
    shape = aval(x).shape
    n = shape[-1]
    pad = -n % 8
    u8 = np.dtype(np.uint8)
    bits = convert(U.not_equal(x, 0) if aval(x).dtype != dtypes.bool_ else x, u8, False)
    if pad:
        bits = P.concatenate([bits, np.zeros(shape[:-1] + (pad,), u8)], len(shape) - 1)
    m = (n + pad) // 8
    bits = P.reshape(bits, shape[:-1] + (m, 8))
    shifts = np.arange(8, dtype=np.uint8) if bitorder == "little" else np.arange(7, -1, -1, dtype=np.uint8)
    w = P.shift_left(bits, P.broadcast_in_dim(shifts, aval(bits).shape, (len(shape),)))
    out = P.reduce_sum(w, (len(shape),))   # the bits are disjoint: the sum is their or
    return S.moveaxis(out, -1, axis)


def packbits(a, axis=None, bitorder="big"):
    """Pack the truthiness of the elements of an integer or boolean array into uint8 bits
    along `axis` (the flattened array by default), zero-padded to a multiple of 8."""
    check_arraylike("packbits", a)
    x = C.asarray(a)
    if not (dtypes.is_int(aval(x).dtype) or aval(x).dtype == dtypes.bool_):
        raise TypeError(f"Expected an input array of integer or boolean data type (at {core.user_site()})")
    _bitorder(bitorder)
    if axis is None:
        x, axis = S.ravel(x), 0
    axis = _axis(axis, aval(x).ndim, "packbits")
    return _jitted("packbits", _packbits_body, (1, 2))(x, axis, bitorder)


def _unpackbits_body(x, axis, count, bitorder):
    x = S.moveaxis(x, axis, -1)
    shape = aval(x).shape
    nd = len(shape)
    u8 = np.dtype(np.uint8)
    shifts = np.arange(8, dtype=np.uint8) if bitorder == "little" else np.arange(7, -1, -1, dtype=np.uint8)
    full = shape + (8,)
    b = P.shift_right_logical(P.broadcast_in_dim(x, full, tuple(range(nd))),
                              P.broadcast_in_dim(shifts, full, (nd,)))
    b = P.and_p.bind(b, np.uint8(1))
    b = P.reshape(b, shape[:-1] + (shape[-1] * 8,))
    total = shape[-1] * 8
    if count is not None:
        keep = count if count >= 0 else builtins.max(total + count, 0)
        if keep <= total:
            b = _axis_slice(b, 0, keep, nd - 1)
        else:
            b = P.concatenate([b, np.zeros(shape[:-1] + (keep - total,), u8)], nd - 1)
    return S.moveaxis(b, -1, axis)


def unpackbits(a, axis=None, count=None, bitorder="big"):
    """The bits of a uint8 array as uint8 0/1 values along `axis` (flattened by default);
    `count` keeps that many (pads with zeros beyond; negative: drops from the end)."""
    check_arraylike("unpackbits", a)
    x = C.asarray(a)
    if aval(x).dtype != np.dtype(np.uint8):
        raise TypeError(f"Expected an input array of unsigned byte data type (at {core.user_site()})")
    _bitorder(bitorder)
    if axis is None:
        x, axis = S.ravel(x), 0
    axis = _axis(axis, aval(x).ndim, "unpackbits")
    count = None if count is None else _static_int(count, "unpackbits", "count")
    return _jitted("unpackbits", _unpackbits_body, (1, 2, 3))(x, axis, count, bitorder)


def bitwise_count(x, /):
    """The number of 1 bits in |x| (as numpy.bitwise_count), as uint8."""
    check_arraylike("bitwise_count", x)
    x = C.asarray(x)
    dt = aval(x).dtype
    if dt == dtypes.bool_:
        x = convert(x, np.dtype(np.uint8), False)
    elif not dtypes.is_int(dt):
        raise TypeError(f"bitwise_count does not accept dtype {dt.name}. Accepted dtypes are subtypes of "
                        f"integer. (at {core.user_site()})")
    elif not dtypes.is_unsigned(dt):
        x = U.abs(x)
    return convert(P.population_count(with_weak(x, False)), np.dtype(np.uint8), False)


# ----------------------------------------------------------------------------- from* and load

def fromfunction(function, shape, *, dtype=float, **kwargs):
    """function(*indices) over the index grid of `shape`, as nested vmaps: `function`
    sees scalar (0-d) indices of `dtype` and may return any pytree of arrays."""
    from xlafront.api_batching import vmap
    shape = tuple(_static_int(d, "fromfunction", "shape") for d in shape)
    dt = dtypes.canonicalize(dtypes.dtype(dtype))
    n = len(shape)

    def f(*idx):
        return function(*idx, **kwargs)
    for i in reversed(range(n)):
        f = vmap(f, in_axes=tuple(0 if j == i else None for j in range(n)))
    return f(*(P.iota(dt, s) for s in shape))


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """An Array of the values in a bytes-like `buffer` (read on the host)."""
    v = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    return C.asarray(v.astype(dtypes.canonicalize(v.dtype)))


def load(file, *args, **kwargs):
    """numpy.load, with arrays returned as Arrays."""
    out = np.load(file, *args, **kwargs)
    if isinstance(out, np.ndarray) and out.dtype != np.dtype(object):
        return C.asarray(out.astype(dtypes.canonicalize(out.dtype)))
    return out


# ----------------------------------------------------------------------------- convolve, correlate

_MODES = ("full", "same", "valid")


def _toeplitz_dot(p, w, length, precision, preferred_element_type):
    """out[k] = sum_j p[k + j] w[j] for k < length, where len(p) == length + len(w) - 1.

    The (M, length) matrix T[j, k] = p[j + k] is M copies of p read with a row stride of
    len(p) + 1: row j then starts at element j of its copy."""
    M = aval(w).shape[0]
    L = aval(p).shape[0]
    rows = P.reshape(P.broadcast_in_dim(p, (M, L), (1,)), (M * L,))
    rows = P.concatenate([rows, P.broadcast_in_dim(convert(0, aval(p).dtype, False), (M,), ())], 0)
    T = P.slice(P.reshape(rows, (M, L + 1)), (0, 0), (M, length))
    return P.dot_general(w, T, (((0,), (0,)), ((), ())), precision, preferred_element_type)


def _shifted_sum(p, w, length, preferred_element_type):
    """The same sum as _toeplitz_dot, as a scan over the M kernel taps (memory O(length))."""
    from xlafront.lax._control_flow import scan
    M = aval(w).shape[0]
    dt = preferred_element_type or aval(p).dtype
    p, w = convert(p, dt, False), convert(w, dt, False)

    def step(acc, jw):
        j, wj = jw
        return U.add(acc, U.multiply(P.dynamic_slice(p, (j,), (length,)), wj)), None
    acc, _ = scan(step, P.broadcast_in_dim(convert(0, dt, False), (length,), ()), (P.iota(np.dtype(np.int32), M), w))
    return acc


# Beyond this many elements of the Toeplitz matrix, convolve/correlate loop over the taps.
_TOEPLITZ_MAX = 1 << 22


def _out_range(N, M, mode):
    if mode == "full":
        return 0, N + M - 1
    if mode == "same":
        return (M - 1) // 2, N
    return M - 1, N - M + 1


def _correlate_body(a, v, mode, conj, flip, precision, preferred_element_type, loop):
    """numpy's correlate(a, v) (conj) or convolve(a, v) (flip) for len(a) >= len(v)."""
    N, M = aval(a).shape[0], aval(v).shape[0]
    w = U.conjugate(v) if conj else v
    if flip:
        w = P.rev(w, (0,))
    start, length = _out_range(N, M, mode)
    z = convert(0, aval(a).dtype, False)
    p = P.pad(a, z, ((M - 1, M - 1, 0),))
    p = P.slice(p, (start,), (start + length + M - 1,))
    if loop:
        return _shifted_sum(p, w, length, preferred_element_type)
    return _toeplitz_dot(p, w, length, precision, preferred_element_type)


def _loop(a, v, mode):
    """Whether the Toeplitz matrix of a (the longer) against v would be too big."""
    N, M = aval(a).shape[0], aval(v).shape[0]
    return M * (_out_range(N, M, mode)[1] + M) > _TOEPLITZ_MAX


def _conv_args(name, a, v, mode):
    check_arraylike(name, a, v)
    a, v = promote_args_inexact(name, a, v)
    a, v = C.asarray(a), C.asarray(v)
    if aval(a).ndim != 1 or aval(v).ndim != 1:
        raise ValueError(f"{name}() only support 1-dimensional inputs. (at {core.user_site()})")
    if aval(a).size == 0 or aval(v).size == 0:
        raise ValueError(f"{name}: inputs cannot be empty, got shapes {aval(a).shape} and {aval(v).shape}. "
                         f"(at {core.user_site()})")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {list(_MODES)} (at {core.user_site()})")
    return a, v


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """The discrete linear convolution of the 1-D a and v (mode 'full', 'same' or 'valid',
    as numpy.convolve)."""
    a, v = _conv_args("convolve", a, v, mode)
    weak = aval(a).weak_type
    if aval(a).shape[0] < aval(v).shape[0]:
        a, v = v, a
    pet = None if preferred_element_type is None else dtypes.canonicalize(dtypes.dtype(preferred_element_type))
    out = _jitted("convolve", _correlate_body, (2, 3, 4, 5, 6, 7))(a, v, mode, False, True,
                                                                  P._canon_precision(precision), pet, _loop(a, v, mode))
    return with_weak(out, weak)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """The cross-correlation of the 1-D a and v, c[k] = sum_n a[n + k] conj(v[n]) (mode
    'valid', 'same' or 'full', as numpy.correlate)."""
    a, v = _conv_args("correlate", a, v, mode)
    weak = aval(a).weak_type
    pet = None if preferred_element_type is None else dtypes.canonicalize(dtypes.dtype(preferred_element_type))
    body = _jitted("correlate", _correlate_body, (2, 3, 4, 5, 6, 7))
    if aval(a).shape[0] >= aval(v).shape[0]:
        return with_weak(body(a, v, mode, True, False, P._canon_precision(precision), pet, _loop(a, v, mode)), weak)
    # numpy swaps the operands, then reverses and conjugates the result
    out = body(v, a, mode, True, False, P._canon_precision(precision), pet, _loop(v, a, mode))
    out = P.rev(out, (0,))
    return with_weak(U.conjugate(out) if dtypes.is_complex(aval(out).dtype) else out, weak)


# logspace and geomspace live here, not beside linspace in _creation.py, because they are
# written with ufuncs (power, log10) and _ufuncs.py sits above _creation.py.
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    if dtype is None:
        dt, _ = dtypes.promote([(aval(start).dtype, aval(start).weak_type),
                                (aval(stop).dtype, aval(stop).weak_type),
                                (dtypes.default_float(), True)])
    else:
        dt = C._dtype_arg(dtype, "logspace")
    ct = dt if dtypes.is_inexact(dt) else dtypes.to_inexact(dt)
    lin = C.linspace(start, stop, num, endpoint=endpoint, dtype=ct, axis=axis)
    out = U.power(convert(base, ct, False), lin)
    return P.convert_element_type(out, dt)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Geometric progression from start to stop (same sign, nonzero), as sign * 10**linspace(log10 ...)."""
    if dtype is None:
        dt, _ = dtypes.promote([(aval(start).dtype, aval(start).weak_type),
                                (aval(stop).dtype, aval(stop).weak_type),
                                (dtypes.default_float(), True)])
    else:
        dt = C._dtype_arg(dtype, "geomspace")
    ct = dt if dtypes.is_inexact(dt) else dtypes.to_inexact(dt)
    start, stop = C.asarray(convert(start, ct, False)), C.asarray(convert(stop, ct, False))
    sgn = U.sign(start)
    res = logspace(U.log10(U.abs(start)), U.log10(U.abs(stop)), num, endpoint=endpoint, base=10.0, dtype=ct, axis=axis)
    if aval(sgn).ndim:
        nd = aval(res).ndim
        ax = axis % nd
        sgn = P.expand_dims(sgn, (ax,))
    return P.convert_element_type(U.multiply(sgn, res), dt)
