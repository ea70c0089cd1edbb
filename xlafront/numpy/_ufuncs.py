"""Elementwise functions: JAX's promotion (lattice, weak types) + numpy broadcasting + primitives.

Each public function promotes its operands (`_promote` / `_promote_inexact`),
broadcasts them, and binds one primitive or a short composition of primitives
whose results follow jax.numpy's values, dtypes and weak types. The composite
functions (floor_divide, remainder, hypot, ...) use the same formulas as
jax.numpy so that values agree to the bit where XLA's kernels do.
"""
from __future__ import annotations

import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import dispatch as _dispatch
from xlafront import primitives as P
from xlafront.array import ArrayImpl
from xlafront.core import Tracer, get_aval
from xlafront.numpy._util import (broadcast_args, broadcast_to_shape, check_arraylike, const_like, convert,
                                  is_arraylike, result_type_of, with_weak)

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "remainder", "fmod",
    "divmod", "power", "pow", "float_power", "sqrt", "cbrt", "exp", "exp2", "log", "log1p", "log2",
    "log10", "expm1", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arctan2",
    "atan2", "hypot", "abs", "absolute", "fabs", "sign", "floor", "ceil", "round", "around", "rint",
    "trunc", "fix", "maximum", "minimum", "fmax", "fmin", "clip", "isnan", "isinf",
    "isfinite", "isposinf", "isneginf", "nan_to_num", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "invert",
    "bitwise_invert", "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "reciprocal", "square",
    "negative", "positive", "conjugate", "conj", "real", "imag", "angle", "deg2rad", "rad2deg",
    "degrees", "radians", "sinc", "heaviside", "copysign", "signbit", "logaddexp", "logaddexp2",
    "isclose", "nextafter",
]

_PY_SCALARS = (bool, int, float, complex)
_INEXACT = frozenset(dtypes.inexact_floats + dtypes.complex_dtypes)
# The eager hot path of the float-valued unary functions in C (xlafront/_cfast.c), if built.
_eager1 = None
if _dispatch._cfast is not None:
    _dispatch._cfast.setup_eager(vars(_dispatch), _INEXACT)
    _eager1 = _dispatch._cfast.eager1


# ----------------------------------------------------------------------------- helpers

def _promote(name, *args):
    """Operands at their common dtype; returns (operands, dtype, weak)."""
    check_arraylike(name, *args)
    dt, weak = result_type_of(*args)
    return tuple(convert(a, dt, weak) for a in args), dt, weak


def _promote_inexact(name, *args):
    check_arraylike(name, *args)
    dt, weak = result_type_of(*args)
    if not dtypes.is_inexact(dt):
        dt = dtypes.to_inexact(dt, weak)
    return tuple(convert(a, dt, weak) for a in args), dt, weak


def _bool_to_int(args, dt, weak):
    """Arithmetic that numpy defines on ints only: bools become the default int (strong)."""
    if dt != dtypes.bool_:
        return args, dt, weak
    it = dtypes.default_int()
    return tuple(convert(a, it, False) for a in args), it, False


def _shape_of(*xs):
    shape = ()
    for x in xs:
        s = get_aval(x).shape
        if len(s) > len(shape):
            shape = s
    return shape


def _full(value, shape, like):
    """A constant of `like`'s dtype and weak type, broadcast to `shape`."""
    c = const_like(like, value)
    return P.broadcast_in_dim_p.bind(c, shape=tuple(shape), broadcast_dimensions=()) if shape else \
        _as_array(c)


def _as_array(x):
    """A 0-d operand as an array-like value the caller may return (Python scalars become arrays)."""
    if isinstance(x, (*_PY_SCALARS, np.generic, np.ndarray)):
        from xlafront.numpy._creation import asarray
        return asarray(x)
    return x


def _sel(pred, on_true, on_false):
    """select with scalar operands broadcast to the common shape (operands share a dtype)."""
    shape = _shape_of(pred, on_true, on_false)
    t = broadcast_to_shape(on_true, shape) if get_aval(on_true).shape != shape else on_true
    f = broadcast_to_shape(on_false, shape) if get_aval(on_false).shape != shape else on_false
    if get_aval(pred).shape not in ((), shape):
        pred = broadcast_to_shape(pred, shape)
    if isinstance(t, _PY_SCALARS) and isinstance(f, _PY_SCALARS) and isinstance(pred, _PY_SCALARS):
        return _as_array(t if pred else f)
    return P.select_n_p.bind(pred, f, t)


def _weak_if_scalar(out, weak):
    """jnp builds some functions from strong constants: their result stays weak only
    for rank-0 weak inputs (hypot, sinc, heaviside, deg2rad, ...). Mirror that."""
    return with_weak(out, weak and not get_aval(out).shape)


def _named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


def _dtype(x):
    return get_aval(x).dtype


# ----------------------------------------------------------------------------- arithmetic

def _same_numeric(x1, x2):
    """Hot path: two arrays/tracers of one aval (dtype, weak type, shape), not bool,
    need neither promotion nor broadcasting."""
    if (type(x1) is ArrayImpl or isinstance(x1, Tracer)) and (type(x2) is ArrayImpl or isinstance(x2, Tracer)):
        a1, a2 = x1.aval, x2.aval
        return a1 == a2 and a1.dtype != dtypes.bool_
    return False


def add(x1, x2, /):
    """Elementwise x1 + x2 (logical or for bools, as jnp)."""
    if _same_numeric(x1, x2):
        return P.add_p.bind(x1, x2)
    (x1, x2), dt, _ = _promote("add", x1, x2)
    x1, x2 = broadcast_args("add", x1, x2)
    return (P.or_p if dt == dtypes.bool_ else P.add_p).bind(x1, x2)


def subtract(x1, x2, /):
    if _same_numeric(x1, x2):
        return P.sub_p.bind(x1, x2)
    (x1, x2), _, _ = _promote("subtract", x1, x2)
    x1, x2 = broadcast_args("subtract", x1, x2)
    return P.sub_p.bind(x1, x2)


def multiply(x1, x2, /):
    """Elementwise x1 * x2 (logical and for bools, as jnp)."""
    if _same_numeric(x1, x2):
        return P.mul_p.bind(x1, x2)
    (x1, x2), dt, _ = _promote("multiply", x1, x2)
    x1, x2 = broadcast_args("multiply", x1, x2)
    return (P.and_p if dt == dtypes.bool_ else P.mul_p).bind(x1, x2)


def true_divide(x1, x2, /):
    if _same_numeric(x1, x2) and x1.aval.dtype in _INEXACT:
        return P.div_p.bind(x1, x2)
    (x1, x2), _, _ = _promote_inexact("true_divide", x1, x2)
    x1, x2 = broadcast_args("true_divide", x1, x2)
    return P.div_p.bind(x1, x2)


divide = true_divide


def floor_divide(x1, x2, /):
    """x1 // x2 rounding toward -inf, as Python and jnp (ints and floats)."""
    (x1, x2), dt, weak = _bool_to_int(*_promote("floor_divide", x1, x2))
    if dtypes.is_complex(dt):
        raise TypeError(f"floor_divide does not support complex-valued inputs (at {core.user_site()})")
    x1, x2 = broadcast_args("floor_divide", x1, x2)
    if dtypes.is_unsigned(dt):
        return P.div_p.bind(x1, x2)
    if dtypes.is_int(dt):
        d = P.div_p.bind(x1, x2)
        adjust = P.and_p.bind(P.ne_p.bind(P.sign_p.bind(x1), P.sign_p.bind(x2)),
                              P.ne_p.bind(P.rem_p.bind(x1, x2), const_like(x1, 0)))
        return _sel(adjust, P.sub_p.bind(d, const_like(d, 1)), d)
    # floats: divide the exact multiple (x1 - fmod) and round, correcting the sign of the remainder
    mod = P.rem_p.bind(x1, x2)
    numer = _sel(P.eq_p.bind(x2, const_like(x2, 0)), x1, P.sub_p.bind(x1, mod))
    div = P.div_p.bind(numer, x2)
    ind = P.and_p.bind(P.ne_p.bind(mod, const_like(mod, 0)),
                       P.ne_p.bind(P.sign_p.bind(x2), P.sign_p.bind(mod)))
    div = _sel(ind, P.sub_p.bind(div, const_like(div, 1)), div)
    return P.round_p.bind(div, rounding_method=0)


def remainder(x1, x2, /):
    """x1 % x2 with the sign of the divisor (Python semantics), as jnp; x % 0 is 0 for ints."""
    (x1, x2), dt, weak = _bool_to_int(*_promote("remainder", x1, x2))
    if dtypes.is_complex(dt):
        raise TypeError(f"remainder does not support complex-valued inputs (at {core.user_site()})")
    x1, x2 = broadcast_args("remainder", x1, x2)
    if dtypes.is_int(dt):
        x2 = _sel(P.eq_p.bind(x2, const_like(x2, 0)), const_like(x2, 1), x2)
    r = P.rem_p.bind(x1, x2)
    zero = const_like(r, 0)
    do_plus = P.and_p.bind(P.ne_p.bind(P.lt_p.bind(r, zero), P.lt_p.bind(x2, const_like(x2, 0))),
                           P.ne_p.bind(r, zero))
    return _sel(do_plus, P.add_p.bind(r, x2), r)


mod = remainder


def fmod(x1, x2, /):
    """C-style remainder (sign of the dividend)."""
    promoted = _promote("fmod", x1, x2)
    (x1, x2), dt, weak = _bool_to_int(*promoted)
    if dtypes.is_complex(dt):
        raise TypeError(f"fmod does not support complex-valued inputs (at {core.user_site()})")
    x1, x2 = broadcast_args("fmod", x1, x2)
    if dtypes.is_int(promoted[1]):   # fmod(x, 0) is 0 for ints (not bools: x), as jnp
        x2 = _sel(P.eq_p.bind(x2, const_like(x2, 0)), const_like(x2, 1), x2)
    return P.rem_p.bind(x1, x2)


def divmod(x1, x2, /):  # noqa: A001
    return floor_divide(x1, x2), remainder(x1, x2)


def _static_int(x):
    """x as a Python int if it is a concrete integer scalar (not traced), else None."""
    if isinstance(x, Tracer) or isinstance(x, bool):
        return None
    if isinstance(x, (float, complex)):
        return None
    try:
        return operator.index(x)
    except TypeError:
        return None


def _integer_pow(x, y: int):
    """x ** y for a static Python int y (lax.integer_pow), as jnp.power does."""
    check_arraylike("power", x)
    a = get_aval(x)
    if a.dtype == dtypes.bool_:
        x = convert(x, dtypes.default_int(), False)
        a = get_aval(x)
    elif isinstance(x, _PY_SCALARS):
        x = convert(x, a.dtype, a.weak_type)
    if dtypes.is_int(a.dtype) and y < 0:
        raise TypeError(f"Integers cannot be raised to negative powers, got integer_pow("
                        f"{'~' if a.weak_type else ''}{a.dtype.name}[{','.join(map(str, a.shape))}], {y}) "
                        f"(at {core.user_site()})")
    if y == 0:
        return _full(1, a.shape, x)
    if y == 1:
        return _as_array(x)
    return P.integer_pow_p.bind(x, y=int(y))


def power(x1, x2, /):
    """x1 ** x2. A static integer exponent uses integer_pow (exact, keeps x1's dtype), as jnp."""
    y = _static_int(x2)
    if y is not None and is_arraylike(x1):
        return _integer_pow(x1, y)
    check_arraylike("power", x1, x2)
    a2 = get_aval(x2)
    if dtypes.is_int(a2.dtype) and not isinstance(x2, _PY_SCALARS) and dtypes.is_inexact(get_aval(x1).dtype):
        dt, weak = result_type_of(x1, x2)
        if dtypes.is_inexact(dt):
            # float ** integer array: lax.pow takes the integer exponent as it is
            x1 = convert(x1, dt, weak)
            x1, x2 = broadcast_args("power", x1, x2)
            return P.pow_p.bind(x1, x2)
    (x1, x2), dt, weak = _bool_to_int(*_promote("power", x1, x2))
    x1, x2 = broadcast_args("power", x1, x2)
    if dtypes.is_int(dt):
        return _int_pow(x1, x2)
    return P.pow_p.bind(x1, x2)


pow = power  # noqa: A001


def _int_pow(x, y):
    """Integer x ** y (arrays) by binary exponentiation over the low 6 bits of y, as jnp."""
    shape = _shape_of(x, y)
    x = broadcast_to_shape(x, shape) if get_aval(x).shape != shape else x
    y = broadcast_to_shape(y, shape) if get_aval(y).shape != shape else y
    zero, one = const_like(x, 0), const_like(x, 1)
    acc = _sel(P.and_p.bind(P.eq_p.bind(x, zero), P.ne_p.bind(y, zero)), zero, one)
    for _ in range(6):
        bit = P.ne_p.bind(P.and_p.bind(y, one), zero)
        acc = _sel(bit, P.mul_p.bind(acc, x), acc)
        x = P.mul_p.bind(x, x)
        y = P.shift_right_logical_p.bind(y, one)
    return with_weak(acc, False)  # jnp's result here is strong, even for weak operands


def float_power(x1, x2, /):
    (x1, x2), _, _ = _promote_inexact("float_power", x1, x2)
    x1, x2 = broadcast_args("float_power", x1, x2)
    return P.pow_p.bind(x1, x2)


# ----------------------------------------------------------------------------- float-valued unary

def _unary_inexact(name, prim):
    if _eager1 is not None:
        def fn(x, /):
            # eager hot path in C: `prim.bind(x)` on a cached program, else None
            if type(x) is ArrayImpl:
                out = _eager1(prim, x)
                if out is not None:
                    return out
            if (type(x) is ArrayImpl or isinstance(x, Tracer)) and x.aval.dtype in _INEXACT:
                return prim.bind(x)
            (x,), _, _ = _promote_inexact(name, x)
            return prim.bind(x)
        return _named(fn, name)

    def fn(x, /):
        # hot path (eager and tracing): an array that is already inexact needs no promotion
        if (type(x) is ArrayImpl or isinstance(x, Tracer)) and x.aval.dtype in _INEXACT:
            return prim.bind(x)
        (x,), _, _ = _promote_inexact(name, x)
        return prim.bind(x)
    return _named(fn, name)


sqrt = _unary_inexact("sqrt", P.sqrt_p)
cbrt = _unary_inexact("cbrt", P.cbrt_p)
exp = _unary_inexact("exp", P.exp_p)
exp2 = _unary_inexact("exp2", P.exp2_p)
log = _unary_inexact("log", P.log_p)
log1p = _unary_inexact("log1p", P.log1p_p)
expm1 = _unary_inexact("expm1", P.expm1_p)
sin = _unary_inexact("sin", P.sin_p)
cos = _unary_inexact("cos", P.cos_p)
tan = _unary_inexact("tan", P.tan_p)
arcsin = asin = _unary_inexact("arcsin", P.asin_p)
arccos = acos = _unary_inexact("arccos", P.acos_p)
arctan = atan = _unary_inexact("arctan", P.atan_p)
sinh = _unary_inexact("sinh", P.sinh_p)
cosh = _unary_inexact("cosh", P.cosh_p)
tanh = _unary_inexact("tanh", P.tanh_p)
arcsinh = asinh = _unary_inexact("arcsinh", P.asinh_p)
arccosh = acosh = _unary_inexact("arccosh", P.acosh_p)
arctanh = atanh = _unary_inexact("arctanh", P.atanh_p)


def log2(x, /):
    (x,), dt, _ = _promote_inexact("log2", x)
    return P.div_p.bind(P.log_p.bind(x), P.log_p.bind(np.asarray(2.0, dt)[()]))  # log(2) on device, as jnp


def log10(x, /):
    (x,), dt, _ = _promote_inexact("log10", x)
    if dtypes.is_complex(dt):
        return P.div_p.bind(P.log_p.bind(x), P.log_p.bind(np.asarray(10.0, dt)[()]))
    return P.mul_p.bind(P.log_p.bind(x), np.asarray(1.0 / np.log(10.0), dt)[()])


def arctan2(x1, x2, /):
    (x1, x2), _, _ = _promote_inexact("arctan2", x1, x2)
    x1, x2 = broadcast_args("arctan2", x1, x2)
    return P.atan2_p.bind(x1, x2)


atan2 = arctan2


def hypot(x1, x2, /):
    (x1, x2), dt, _ = _promote_inexact("hypot", x1, x2)
    if dtypes.is_complex(dt):
        raise ValueError("jnp.hypot is not well defined for complex-valued inputs. Please convert to real "
                         f"values first, such as by using abs(x) (at {core.user_site()})")
    x1, x2 = broadcast_args("hypot", x1, x2)
    x, y = P.abs_p.bind(x1), P.abs_p.bind(x2)
    inf = const_like(x, np.inf)
    any_inf = P.or_p.bind(P.eq_p.bind(x, inf), P.eq_p.bind(y, inf))
    x, y = P.max_p.bind(x, y), P.min_p.bind(x, y)
    x_zero = P.eq_p.bind(x, const_like(x, 0))
    safe_x = _sel(x_zero, const_like(x, 1), x)
    r = P.mul_p.bind(x, P.sqrt_p.bind(P.add_p.bind(const_like(x, 1), P.square_p.bind(P.div_p.bind(y, safe_x)))))
    r = _sel(x_zero, x, r)
    return _weak_if_scalar(_sel(any_inf, inf, r), get_aval(r).weak_type)


def fabs(x, /):
    (x,), dt, _ = _promote_inexact("fabs", x)
    if dtypes.is_complex(dt):
        raise TypeError(f"ufunc 'fabs' does not support complex dtypes (at {core.user_site()})")
    return P.abs_p.bind(x)


def reciprocal(x, /):
    (x,), _, _ = _promote_inexact("reciprocal", x)
    return P.integer_pow_p.bind(x, y=-1)


def rint(x, /):
    check_arraylike("rint", x)
    if not dtypes.is_inexact(get_aval(x).dtype):  # ints convert to a strong float
        a = get_aval(x)
        return P.round_p.bind(convert(x, dtypes.to_inexact(a.dtype, a.weak_type), False), rounding_method=1)
    (x,), dt, _ = _promote_inexact("rint", x)
    if dtypes.is_complex(dt):
        return P.complex_p.bind(P.round_p.bind(P.real_p.bind(x), rounding_method=1),
                                P.round_p.bind(P.imag_p.bind(x), rounding_method=1))
    return P.round_p.bind(x, rounding_method=1)


def deg2rad(x, /):
    (x,), _, weak = _promote_inexact("deg2rad", x)
    return _weak_if_scalar(P.mul_p.bind(x, const_like(x, np.pi / 180)), weak)


def rad2deg(x, /):
    (x,), _, weak = _promote_inexact("rad2deg", x)
    return _weak_if_scalar(P.mul_p.bind(x, const_like(x, 180 / np.pi)), weak)


radians, degrees = deg2rad, rad2deg


def sinc(x, /):
    """sin(pi x) / (pi x), 1 at 0, with every derivative defined at 0 (`_sinc_at_zero`)."""
    (x,), _, weak = _promote_inexact("sinc", x)
    is_zero = P.eq_p.bind(x, const_like(x, 0))
    pi_x = P.mul_p.bind(const_like(x, np.pi), x)
    safe = _sel(is_zero, const_like(x, 1), pi_x)
    at_zero = _sinc_at_zero(0)(pi_x)
    return _weak_if_scalar(_sel(is_zero, at_zero, P.div_p.bind(P.sin_p.bind(safe), safe)), weak)


_SINC_AT_ZERO = {}


def _sinc_at_zero(k):
    """y -> the k-th derivative of sin(y)/y at 0 (a constant of y's shape: (-1)^(k/2)/(k+1)
    for even k, 0 for odd k) whose derivative is the (k+1)-th: the branch sinc takes at 0,
    so that derivatives of every order at 0 are the Maclaurin coefficients (the quotient's
    own derivatives there come through the safe denominator as 0)."""
    fn = _SINC_AT_ZERO.get(k)
    if fn is not None:
        return fn
    from xlafront.api_autodiff import custom_jvp
    coef = 0.0 if k % 2 else (-1.0) ** (k // 2) / (k + 1)

    def value(y):
        return _full(coef, get_aval(y).shape, y)
    value.__name__ = value.__qualname__ = f"sinc_derivative_{k}_at_zero"
    fn = custom_jvp(value)

    @fn.defjvp
    def _jvp(primals, tangents):
        (y,), (t,) = primals, tangents
        return fn(y), P.mul_p.bind(_sinc_at_zero(k + 1)(y), t)
    _SINC_AT_ZERO[k] = fn
    return fn


def heaviside(x1, x2, /):
    (x1, x2), _, weak = _promote_inexact("heaviside", x1, x2)
    x1, x2 = broadcast_args("heaviside", x1, x2)
    zero = const_like(x1, 0)
    inner = _sel(P.ne_p.bind(x1, x1), x1, x2)
    out = _sel(P.lt_p.bind(x1, zero), zero, _sel(P.gt_p.bind(x1, zero), const_like(x1, 1), inner))
    return with_weak(out, weak and not get_aval(x1).shape)  # jnp: weak only for a rank-0 x1


def signbit(x, /):
    """True where the sign bit is set (also for -0.0 and negative NaNs)."""
    check_arraylike("signbit", x)
    a = get_aval(x)
    dt = a.dtype
    if dtypes.is_complex(dt):
        raise ValueError(f"jnp.signbit is not well defined for complex-valued inputs (at {core.user_site()})")
    if dt == dtypes.bool_ or dtypes.is_unsigned(dt):
        return _full(False, a.shape, np.bool_(False))
    if dtypes.is_int(dt):
        return P.lt_p.bind(x, np.asarray(0, dt)[()])
    x = convert(x, dt, False)
    it = np.dtype(f"int{dt.itemsize * 8}")
    bits = P.bitcast_convert_type_p.bind(x, new_dtype=it)
    neg = P.shift_right_arithmetic_p.bind(bits, np.asarray(dt.itemsize * 8 - 1, it)[()])
    return P.convert_element_type_p.bind(neg, new_dtype=dtypes.bool_, weak_type=False)


def copysign(x1, x2, /):
    (x1, x2), dt, _ = _promote_inexact("copysign", x1, x2)
    if dtypes.is_complex(dt):
        raise TypeError(f"copysign does not support complex-valued inputs (at {core.user_site()})")
    x1, x2 = broadcast_args("copysign", x1, x2)
    neg = signbit(x2)
    if get_aval(neg).weak_type != get_aval(x2).weak_type:
        neg = with_weak(neg, False)
    mag = P.abs_p.bind(x1)
    return _sel(neg, P.neg_p.bind(mag), mag)


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow."""
    (x1, x2), dt, _ = _promote_inexact("logaddexp", x1, x2)
    x1, x2 = broadcast_args("logaddexp", x1, x2)
    return _logaddexp_fn(False)(x1, x2)


def logaddexp2(x1, x2, /):
    (x1, x2), dt, _ = _promote_inexact("logaddexp2", x1, x2)
    x1, x2 = broadcast_args("logaddexp2", x1, x2)
    out = _logaddexp_fn(True)(x1, x2)
    return _weak_if_scalar(out, get_aval(x1).weak_type and get_aval(x2).weak_type)


_LOGADDEXP = {}


def _logaddexp_fn(base2):
    """logaddexp (logaddexp2) with its own derivative, as jnp's custom_jvp:
    t1 * exp(x1 - out) + t2 * exp(x2 - out). Differentiating the max + log1p(exp(-|d|))
    formula instead gives 0 at ties (max's 1/2 split meets |d|'s derivative 0) and NaN at
    infinities. The rule is written with differentiable primitives, so second derivatives
    come from differentiating it. Built on first use (the autodiff API imports this module)."""
    fn = _LOGADDEXP.get(base2)
    if fn is not None:
        return fn
    from xlafront.api_autodiff import custom_jvp
    from xlafront.transforms.jvp import logaddexp_weight
    exp_prim, scale = (P.exp2_p, 1 / np.log(2)) if base2 else (P.exp_p, None)

    def value(x1, x2):
        return _logaddexp(x1, x2, get_aval(x1).dtype, exp_prim, scale)
    value.__name__ = value.__qualname__ = "logaddexp2" if base2 else "logaddexp"
    fn = custom_jvp(value)

    @fn.defjvp
    def _jvp(primals, tangents):
        x1, x2 = primals
        t1, t2 = tangents
        out = fn(x1, x2)
        return out, P.add_p.bind(P.mul_p.bind(t1, logaddexp_weight(x1, out, exp_prim)),
                                 P.mul_p.bind(t2, logaddexp_weight(x2, out, exp_prim)))
    _LOGADDEXP[base2] = fn
    return fn


def _logaddexp(x1, x2, dt, exp_prim, scale):
    amax = _max(x1, x2, dt)
    delta = P.sub_p.bind(x1, x2)
    nan = _isnan(delta)
    if dtypes.is_complex(dt):
        # complex: amax + log1p(exp(amin - amax)), amax by jnp's lexicographic max
        amin = _sel(P.eq_p.bind(amax, x1), x2, x1)
        corr = P.log1p_p.bind(exp_prim.bind(P.sub_p.bind(amin, amax)))
    else:
        corr = P.log1p_p.bind(exp_prim.bind(P.neg_p.bind(P.abs_p.bind(delta))))
    if scale is not None:
        corr = P.mul_p.bind(const_like(corr, scale), corr)
    return _sel(nan, P.add_p.bind(x1, x2), P.add_p.bind(amax, corr))


def nextafter(x1, x2, /):
    (x1, x2), _, _ = _promote_inexact("nextafter", x1, x2)
    x1, x2 = broadcast_args("nextafter", x1, x2)
    return P.nextafter_p.bind(x1, x2)


# ----------------------------------------------------------------------------- dtype-preserving unary

def negative(x, /):
    (x,), _, _ = _promote("negative", x)
    return P.neg_p.bind(x)


def positive(x, /):
    (x,), _, _ = _promote("positive", x)
    return _as_array(x)


def absolute(x, /):
    (x,), dt, _ = _promote("absolute", x)
    if dt == dtypes.bool_ or dtypes.is_unsigned(dt):
        return _as_array(x)
    return P.abs_p.bind(x)


abs = absolute  # noqa: A001


def sign(x, /):
    (x,), dt, _ = _promote("sign", x)
    if dtypes.is_unsigned(dt):
        return P.convert_element_type_p.bind(P.ne_p.bind(x, const_like(x, 0)), new_dtype=dt,
                                             weak_type=get_aval(x).weak_type)
    return P.sign_p.bind(x)


def _int_identity_or(name, prim):
    """floor/ceil: ints and bools pass through unchanged, as jnp."""
    def fn(x, /):
        (x,), dt, _ = _promote(name, x)
        if dt == dtypes.bool_ or dtypes.is_int(dt):
            return _as_array(x)
        return prim.bind(x)
    return _named(fn, name)


floor = _int_identity_or("floor", P.floor_p)
ceil = _int_identity_or("ceil", P.ceil_p)


def trunc(x, /):
    (x,), dt, _ = _promote("trunc", x)
    if dt == dtypes.bool_ or dtypes.is_int(dt):
        return _as_array(x)
    return _sel(P.lt_p.bind(x, const_like(x, 0)), P.ceil_p.bind(x), P.floor_p.bind(x))


fix = trunc


def round(a, decimals=0, out=None):  # noqa: A001
    """Round half to even, to `decimals` digits (negative: to tens, hundreds, ...), as jnp."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.round is not supported.")
    check_arraylike("round", a)
    decimals = operator.index(decimals)
    (a,), dt, weak = _promote("round", a)
    if dt == dtypes.bool_:
        raise ValueError(f"data type {dt.type} not inexact (at {core.user_site()})")
    if dtypes.is_int(dt):
        if decimals < 0:
            raise NotImplementedError("integer np.round not implemented for decimals < 0")
        return _as_array(a)

    def round_real(x):
        if decimals == 0:
            return P.round_p.bind(x, rounding_method=1)
        factor = np.asarray(10.0 ** decimals, get_aval(x).dtype)[()]
        return P.div_p.bind(P.round_p.bind(P.mul_p.bind(x, factor), rounding_method=1), factor)

    if dtypes.is_complex(dt):
        out = P.complex_p.bind(round_real(P.real_p.bind(a)), round_real(P.imag_p.bind(a)))
    else:
        out = round_real(a)
    return with_weak(out, weak) if decimals else out


around = round


def square(x, /):
    (x,), _, _ = _bool_to_int(*_promote("square", x))
    return P.square_p.bind(x)


def conjugate(x, /):
    (x,), dt, _ = _promote("conjugate", x)
    return P.conj_p.bind(x) if dtypes.is_complex(dt) else _as_array(x)


conj = conjugate


def real(val, /):
    (val,), dt, _ = _promote("real", val)
    return P.real_p.bind(val) if dtypes.is_complex(dt) else _as_array(val)


def imag(val, /):
    (val,), dt, _ = _promote("imag", val)
    if dtypes.is_complex(dt):
        return P.imag_p.bind(val)
    return _full(0, get_aval(val).shape, val)


def angle(z, deg=False):
    (z,), dt, _ = _promote_inexact("angle", z)
    if dtypes.is_complex(dt):
        re, im = P.real_p.bind(z), P.imag_p.bind(z)
    else:
        re, im = z, _full(0, get_aval(z).shape, z)
    out = with_weak(P.atan2_p.bind(im, re), False)
    return P.mul_p.bind(out, const_like(out, 180 / np.pi)) if deg else out


# ----------------------------------------------------------------------------- comparisons, min/max

def _real_imag(x):
    return P.real_p.bind(x), P.imag_p.bind(x)


def _compare(name, prim):
    def fn(x1, x2, /):
        (x1, x2), dt, _ = _promote(name, x1, x2)
        x1, x2 = broadcast_args(name, x1, x2)
        if dtypes.is_complex(dt) and prim not in (P.eq_p, P.ne_p):
            # lexicographic on (real, imag), as jnp
            (r1, i1), (r2, i2) = _real_imag(x1), _real_imag(x2)
            return _sel(P.eq_p.bind(r1, r2), prim.bind(i1, i2), prim.bind(r1, r2))
        return prim.bind(x1, x2)
    return _named(fn, name)


equal = _compare("equal", P.eq_p)
not_equal = _compare("not_equal", P.ne_p)
less = _compare("less", P.lt_p)
less_equal = _compare("less_equal", P.le_p)
greater = _compare("greater", P.gt_p)
greater_equal = _compare("greater_equal", P.ge_p)


def maximum(x1, x2, /):
    (x1, x2), dt, _ = _promote("maximum", x1, x2)
    x1, x2 = broadcast_args("maximum", x1, x2)
    return _max(x1, x2, dt)


def minimum(x1, x2, /):
    (x1, x2), dt, _ = _promote("minimum", x1, x2)
    x1, x2 = broadcast_args("minimum", x1, x2)
    return _min(x1, x2, dt)


def _max(x1, x2, dt):
    if dtypes.is_complex(dt):  # lexicographic on (real, imag), as jnp
        return _sel(P.or_p.bind(greater(x1, x2), _isnan(x1)), x1, x2)
    return P.max_p.bind(x1, x2)


def _min(x1, x2, dt):
    if dtypes.is_complex(dt):
        return _sel(P.or_p.bind(less(x1, x2), _isnan(x1)), x1, x2)
    return P.min_p.bind(x1, x2)


def fmax(x1, x2, /):
    """maximum that ignores NaNs (NaN only where both are NaN)."""
    (x1, x2), _, _ = _promote("fmax", x1, x2)
    x1, x2 = broadcast_args("fmax", x1, x2)
    return _sel(P.or_p.bind(greater(x1, x2), _isnan(x2)), x1, x2)


def fmin(x1, x2, /):
    (x1, x2), _, _ = _promote("fmin", x1, x2)
    x1, x2 = broadcast_args("fmin", x1, x2)
    return _sel(P.or_p.bind(less(x1, x2), _isnan(x2)), x1, x2)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """Elements of x where condition holds, else of y (x and y promoted together). The
    public jnp.where (numpy/_index_tricks.py) sends the one-argument form to nonzero
    before it gets here; this module sits below _index_tricks and does not import it."""
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be provided to jax.numpy.where, "
                         f"got {x} and {y}.")
    check_arraylike("where", condition, x, y)
    (x, y), _, _ = _promote("where", x, y)
    c = condition
    ca = get_aval(c)
    if ca.dtype != dtypes.bool_:
        c = P.ne_p.bind(convert(c, ca.dtype, ca.weak_type), np.asarray(0, ca.dtype)[()])
    c, x, y = broadcast_args("where", c, x, y)
    shape = _shape_of(c, x, y)
    if 0 in shape:   # a zero-size result is x alone, as jnp.where's (its tangent is x's)
        return broadcast_to_shape(x, shape) if get_aval(x).shape != shape else x
    return _sel(c, x, y)


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):  # noqa: A002
    """Clip to [min, max]; `a_min`/`a_max`/`a` are the older spellings of min/max/arr."""
    if arr is None:
        arr = a
    if arr is None:
        raise TypeError("clip() missing the array argument")
    if min is None:
        min = a_min  # noqa: A001
    if max is None:
        max = a_max  # noqa: A001
    check_arraylike("clip", arr)
    if min is not None:
        arr = maximum(min, arr)
    if max is not None:
        arr = minimum(max, arr)
    return _as_array(arr)


# ----------------------------------------------------------------------------- classification

def _isnan(x):
    """isnan of a same-dtype operand (kept in the graph for ints too, as jnp)."""
    if dtypes.is_complex(_dtype(x)):
        re, im = _real_imag(x)
        return P.or_p.bind(P.ne_p.bind(re, re), P.ne_p.bind(im, im))
    return P.ne_p.bind(x, x)


def isnan(x, /):
    (x,), _, _ = _promote("isnan", x)
    if isinstance(x, _PY_SCALARS):
        x = _as_array(x)
    return _isnan(x)


def isinf(x, /):
    (x,), dt, _ = _promote("isinf", x)
    a = get_aval(x)
    if dtypes.is_complex(dt):
        re, im = _real_imag(x)
        inf = np.asarray(np.inf, get_aval(re).dtype)[()]
        return P.or_p.bind(P.eq_p.bind(P.abs_p.bind(re), inf), P.eq_p.bind(P.abs_p.bind(im), inf))
    if not dtypes.is_float(dt):
        return _full(False, a.shape, _bool_like(a))
    return P.eq_p.bind(P.abs_p.bind(x), np.asarray(np.inf, dt)[()])


def _bool_like(a):
    """A bool scalar with a's weak type (jnp's full_like(x, False, bool) keeps it)."""
    return False if a.weak_type else np.bool_(False)


def isfinite(x, /):
    (x,), dt, _ = _promote("isfinite", x)
    a = get_aval(x)
    if dtypes.is_complex(dt):
        re, im = _real_imag(x)
        return P.and_p.bind(P.is_finite_p.bind(re), P.is_finite_p.bind(im))
    if not dtypes.is_float(dt):
        return _full(True, a.shape, np.bool_(True))
    return P.is_finite_p.bind(x)


def _isinf_signed(name, value):
    def fn(x, /):
        (x,), dt, _ = _promote(name, x)
        a = get_aval(x)
        if dtypes.is_complex(dt):
            raise ValueError(f"isposinf/isneginf are not well defined for complex types (at {core.user_site()})")
        if not dtypes.is_float(dt):
            return _full(False, a.shape, _bool_like(a))
        return P.eq_p.bind(x, np.asarray(value, dt)[()])
    return _named(fn, name)


isposinf = _isinf_signed("isposinf", np.inf)
isneginf = _isinf_signed("isneginf", -np.inf)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf (default the largest finite), -inf -> neginf (default the lowest)."""
    (x,), dt, _ = _promote("nan_to_num", x)
    if not dtypes.is_inexact(dt):
        return _as_array(x)
    if dtypes.is_complex(dt):
        re, im = _real_imag(x)
        return P.complex_p.bind(nan_to_num(re, nan=nan, posinf=posinf, neginf=neginf),
                                nan_to_num(im, nan=nan, posinf=posinf, neginf=neginf))
    info = dtypes.finfo(dt)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    c = lambda v: np.asarray(v, dt)[()]  # noqa: E731
    out = _sel(P.ne_p.bind(x, x), c(nan), x)
    out = _sel(P.eq_p.bind(out, c(np.inf)), c(posinf), out)
    return _sel(P.eq_p.bind(out, c(-np.inf)), c(neginf), out)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b|, with infs equal to themselves, as jnp."""
    (a, b), dt, weak = _promote("isclose", a, b)
    a, b = broadcast_args("isclose", a, b)
    if not dtypes.is_inexact(dt):
        return with_weak(equal(a, b), False)
    rdt = P._real_dtype(dt)
    rt, at = np.asarray(rtol, rdt)[()], np.asarray(atol, rdt)[()]
    diff = P.abs_p.bind(P.sub_p.bind(a, b))
    close = P.le_p.bind(diff, P.add_p.bind(at, P.mul_p.bind(rt, P.abs_p.bind(b))))
    if dtypes.is_complex(dt):
        fin = P.and_p.bind(isfinite(a), isfinite(b))
    else:
        fin = P.and_p.bind(P.is_finite_p.bind(a), P.is_finite_p.bind(b))
    # non-finite values are close only when equal (inf == inf)
    out = _sel(fin, close, P.eq_p.bind(a, b))
    if equal_nan:
        out = P.or_p.bind(out, P.and_p.bind(_isnan(a), _isnan(b)))
    return with_weak(out, False)


# ----------------------------------------------------------------------------- logical and bitwise

def _to_bool(x):
    a = get_aval(x)
    if a.dtype == dtypes.bool_:
        return _as_array(x) if isinstance(x, _PY_SCALARS) else x
    return _weak_if_scalar(P.ne_p.bind(x, const_like(x, 0)), a.weak_type)


def _logical(name, prim):
    def fn(x1, x2, /):
        check_arraylike(name, x1, x2)
        x1, x2 = _to_bool(x1), _to_bool(x2)
        x1, x2 = broadcast_args(name, x1, x2)
        return prim.bind(x1, x2)
    return _named(fn, name)


logical_and = _logical("logical_and", P.and_p)
logical_or = _logical("logical_or", P.or_p)
logical_xor = _logical("logical_xor", P.xor_p)


def logical_not(x, /):
    check_arraylike("logical_not", x)
    return P.not_p.bind(_to_bool(x))


def _bitwise(name, prim):
    def fn(x1, x2, /):
        (x1, x2), _, _ = _promote(name, x1, x2)
        x1, x2 = broadcast_args(name, x1, x2)
        return prim.bind(x1, x2)
    return _named(fn, name)


bitwise_and = _bitwise("bitwise_and", P.and_p)
bitwise_or = _bitwise("bitwise_or", P.or_p)
bitwise_xor = _bitwise("bitwise_xor", P.xor_p)


def bitwise_not(x, /):
    (x,), _, _ = _promote("bitwise_not", x)
    return P.not_p.bind(x)


invert = bitwise_invert = bitwise_not


def left_shift(x1, x2, /):
    (x1, x2), _, _ = _bool_to_int(*_promote("left_shift", x1, x2))
    x1, x2 = broadcast_args("left_shift", x1, x2)
    return P.shift_left_p.bind(x1, x2)


def right_shift(x1, x2, /):
    """Arithmetic shift for signed ints, logical for unsigned, as numpy."""
    (x1, x2), dt, _ = _bool_to_int(*_promote("right_shift", x1, x2))
    x1, x2 = broadcast_args("right_shift", x1, x2)
    prim = P.shift_right_logical_p if dtypes.is_unsigned(dt) else P.shift_right_arithmetic_p
    return prim.bind(x1, x2)


bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


# ----------------------------------------------------------------------------- operators

def _swap(f):
    return lambda self, other: f(other, self)


def _defer(f):
    """Binary operator that returns NotImplemented for operand types it does not know."""
    def op(self, other):
        if not is_arraylike(other):
            return NotImplemented
        return f(self, other)
    return op


def _rpow(self, other):
    return power(other, self)


array_methods = {
    "__add__": _defer(add), "__radd__": _defer(_swap(add)),
    "__sub__": _defer(subtract), "__rsub__": _defer(_swap(subtract)),
    "__mul__": _defer(multiply), "__rmul__": _defer(_swap(multiply)),
    "__truediv__": _defer(true_divide), "__rtruediv__": _defer(_swap(true_divide)),
    "__floordiv__": _defer(floor_divide), "__rfloordiv__": _defer(_swap(floor_divide)),
    "__mod__": _defer(remainder), "__rmod__": _defer(_swap(remainder)),
    "__divmod__": _defer(divmod), "__rdivmod__": _defer(_swap(divmod)),
    "__pow__": _defer(power), "__rpow__": _defer(_rpow),
    "__and__": _defer(bitwise_and), "__rand__": _defer(_swap(bitwise_and)),
    "__or__": _defer(bitwise_or), "__ror__": _defer(_swap(bitwise_or)),
    "__xor__": _defer(bitwise_xor), "__rxor__": _defer(_swap(bitwise_xor)),
    "__lshift__": _defer(left_shift), "__rlshift__": _defer(_swap(left_shift)),
    "__rshift__": _defer(right_shift), "__rrshift__": _defer(_swap(right_shift)),
    "__lt__": _defer(less), "__le__": _defer(less_equal),
    "__gt__": _defer(greater), "__ge__": _defer(greater_equal),
    "__eq__": _defer(equal), "__ne__": _defer(not_equal),
    "__neg__": negative, "__pos__": positive, "__abs__": absolute, "__invert__": bitwise_not,
    "conj": conjugate, "conjugate": conjugate,
    "real": property(real), "imag": property(imag),
    "clip": lambda self, min=None, max=None, **kw: clip(self, min, max, **kw),  # noqa: A002
    "round": lambda self, decimals=0, out=None: round(self, decimals, out),
    "__round__": lambda self, ndigits=None: round(self, 0 if ndigits is None else ndigits),
}
