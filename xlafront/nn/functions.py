"""Activation functions and friends (mirrors jax.nn).

Each function follows jax.nn's formula, so that values, dtypes and weak types agree;
those JAX jits are jitted here too (one compiled program per signature in eager mode).
relu and relu6 carry JAX's custom derivatives (0 at the kinks).
"""
from __future__ import annotations

import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront import primitives as P
from xlafront import primitives_special as S
from xlafront.api import jit
from xlafront.api_autodiff import custom_jvp, stop_gradient
from xlafront.core import get_aval
from xlafront.numpy._util import canonicalize_axes, check_arraylike, jitted, promote_args_inexact, static_int

__all__ = [
    "identity", "relu", "relu6", "squareplus", "softplus", "sparse_plus", "soft_sign", "sigmoid",
    "sparse_sigmoid", "silu", "swish", "mish", "log_sigmoid", "elu", "leaky_relu", "hard_tanh", "celu",
    "selu", "gelu", "glu", "logsumexp", "logmeanexp", "log_softmax", "softmax", "standardize", "one_hot",
    "hard_sigmoid", "hard_silu", "hard_swish", "log1mexp", "tanh",
]

tanh = xnp.tanh


def _arraylike(name, x):
    check_arraylike(name, x)
    return xnp.asarray(x)


def _inexact(name, *args):
    """Operands promoted to a common inexact dtype, as arrays (Python scalars stay weak)."""
    return [xnp.asarray(a) for a in promote_args_inexact(name, *args)]


def _full_like_zero(g):
    return xnp.zeros_like(g)


@jit
def identity(x):
    """Identity activation: x unchanged."""
    return _arraylike("identity", x)


@custom_jvp
@jit
def relu(x):
    """max(x, 0); its derivative at 0 is taken as 0."""
    return xnp.maximum(x, 0)


relu.defjvps(lambda g, ans, x: P.select(x > 0, g, _full_like_zero(g)))


@custom_jvp
@jit
def relu6(x):
    """min(max(x, 0), 6); its derivative at 0 and 6 is taken as 0."""
    return xnp.minimum(xnp.maximum(x, 0), 6.)


relu6.defjvps(lambda g, ans, x: P.select((x > 0) & (x < 6), g, _full_like_zero(g)))


@jit
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    check_arraylike("squareplus", x, b)
    y = x + xnp.sqrt(xnp.square(x) + b)
    return y / 2


@jit
def softplus(x):
    """log(1 + exp(x))."""
    return xnp.logaddexp(x, 0)


@jit
def sparse_plus(x):
    x = _arraylike("sparse_plus", x)
    return xnp.where(x <= -1.0, 0.0, xnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


@jit
def soft_sign(x):
    """x / (|x| + 1)."""
    x = _arraylike("soft_sign", x)
    return x / (xnp.abs(x) + 1)


@jit(inline=True)
def sigmoid(x):
    """1 / (1 + exp(-x)) (lax.logistic)."""
    return P.logistic(x)


@jit
def sparse_sigmoid(x):
    return 0.5 * xnp.clip(x + 1.0, 0.0, 2.0)


@jit
def silu(x):
    """x * sigmoid(x)."""
    x = _arraylike("silu", x)
    return x * sigmoid(x)


swish = silu


@jit
def mish(x):
    """x * tanh(softplus(x))."""
    x = _arraylike("mish", x)
    return x * xnp.tanh(softplus(x))


@jit
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    x = _arraylike("log_sigmoid", x)
    return -softplus(-x)


@jit
def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    x = _arraylike("elu", x)
    return xnp.where(x > 0, x, alpha * xnp.expm1(xnp.where(x > 0, 0., x)))


@jit
def leaky_relu(x, negative_slope=1e-2):
    """x for x >= 0, negative_slope * x otherwise."""
    x = _arraylike("leaky_relu", x)
    return xnp.where(x >= 0, x, negative_slope * x)


@jit
def hard_tanh(x):
    """x clipped to [-1, 1]."""
    x = _arraylike("hard_tanh", x)
    return xnp.where(x > 1, 1, xnp.where(x < -1, -1, x))


@jit
def celu(x, alpha=1.0):
    """max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    return xnp.maximum(x, 0.0) + alpha * xnp.expm1(xnp.minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@jit
def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit: the tanh approximation by default, erfc when exact."""
    x, = _inexact("gelu", x)
    dt = get_aval(x).dtype
    if approximate:
        sqrt_2_over_pi = np.sqrt(2 / np.pi).astype(dt)
        cdf = 0.5 * (1.0 + xnp.tanh(sqrt_2_over_pi * (x + 0.044715 * (x ** 3))))
        return x * cdf
    sqrt_half = np.sqrt(0.5).astype(dt)
    return xnp.array(0.5 * x * S.erfc(-x * sqrt_half), dtype=dt)


def _glu(x, axis=-1):
    x = _arraylike("glu", x)
    size = get_aval(x).shape[axis]
    if size % 2:
        raise AssertionError("axis size must be divisible by 2")
    x1, x2 = xnp.split(x, 2, axis)
    return x1 * sigmoid(x2)


glu = jitted("glu", _glu, static_argnames=("axis",))
glu.__doc__ = "x[:n/2] * sigmoid(x[n/2:]) along `axis`."


# ----------------------------------------------------------------------------- log-sum-exp, softmax

def _reduction_axes(ndim, axis):
    """The sorted non-negative axes of a reduction over `axis` (None: all)."""
    return tuple(sorted(canonicalize_axes(axis, ndim, "axis"))) if ndim else ()


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False, where=None):
    """log(sum(b * exp(a))) over `axis`, computed stably (scipy.special.logsumexp)."""
    check_arraylike("logsumexp", a)
    if b is not None:
        check_arraylike("logsumexp", b)
    if where is not None:
        check_arraylike("logsumexp", where)
    if axis is not None and not isinstance(axis, (int, np.integer)):
        axis = tuple(operator.index(i) for i in axis)
    elif axis is not None:
        axis = operator.index(axis)
    return _logsumexp_jit(a, axis, b, bool(keepdims), bool(return_sign), where)


def _logsumexp(a, axis, b, keepdims, return_sign, where):
    if where is not None:
        a = xnp.where(where, a, 0)
    if b is not None:
        a_arr, b_arr = _inexact("logsumexp", a, b)
        a_arr = xnp.where(b_arr != 0, a_arr, -np.inf)
    else:
        a_arr, = _inexact("logsumexp", a)
        b_arr = None
    aval = get_aval(a_arr)
    dims = _reduction_axes(aval.ndim, axis)
    real = xnp.real(a_arr) if dtypes.is_complex(aval.dtype) else a_arr
    amax = xnp.max(real, axis=dims, keepdims=keepdims, where=where, initial=-np.inf)
    amax = stop_gradient(P.select(xnp.isfinite(amax), amax, xnp.zeros_like(amax)))
    amax_dims = amax if keepdims else P.expand_dims(amax, dims)
    exp_a = P.exp(xnp.subtract(a_arr, amax_dims.astype(aval.dtype)))
    if b_arr is not None:
        exp_a = xnp.multiply(exp_a, b_arr)
    sumexp = exp_a.sum(axis=dims, keepdims=keepdims, where=where)
    sign = P.sign(sumexp)
    if return_sign or not dtypes.is_complex(aval.dtype):
        sumexp = abs(sumexp)
    out = xnp.add(P.log(sumexp), amax.astype(get_aval(sumexp).dtype))
    if return_sign:
        return out, sign
    if b_arr is not None and not dtypes.is_complex(get_aval(out).dtype):
        out = xnp.where(sign < 0, xnp.array(np.nan, dtype=get_aval(out).dtype), out)
    return out


_logsumexp_jit = jitted("logsumexp", _logsumexp, static_argnames=("axis", "keepdims", "return_sign"))


def _logmeanexp(x, axis=None, where=None, keepdims=False):
    lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
    ones = xnp.ones(get_aval(x).shape, dtype=get_aval(lse).dtype)
    count = xnp.sum(ones, axis=axis, where=where, keepdims=keepdims)
    return lse - xnp.log(count)


logmeanexp = jitted("logmeanexp", _logmeanexp, static_argnames=("axis", "keepdims"))
logmeanexp.__doc__ = "log(mean(exp(x))) over `axis` = logsumexp(x) - log(n)."


def _initial_for(x, initial):
    """-inf as a reduction's initial value, for integer inputs their minimum (as JAX's cast)."""
    dt = get_aval(x).dtype
    if dtypes.is_inexact(dt):
        return initial
    return int(np.iinfo(dt).min) if dt != dtypes.bool_ else False


def _shifted(name, x, axis, where):
    """x less its maximum along `axis` (a constant to differentiation), the entries masked
    out by `where` set to the reduction's initial value first: softmax's stable form."""
    x = _arraylike(name, x)
    initial = _initial_for(x, -np.inf)
    x_max = xnp.max(x, axis, where=where, initial=initial, keepdims=True)
    x_safe = x if where is None else xnp.where(where, x, initial)
    return x_safe - stop_gradient(x_max)


def _log_softmax(x, axis=-1, where=None):
    shifted = _shifted("log_softmax", x, axis, where)
    result = shifted - xnp.log(xnp.sum(xnp.exp(shifted), axis, where=where, keepdims=True))
    return result if where is None else xnp.where(where, result, -np.inf)


log_softmax = jitted("log_softmax", _log_softmax, static_argnames=("axis",))
log_softmax.__doc__ = "log(softmax(x)) along `axis`; masked-out entries (where=False) are -inf."


def _softmax(x, axis=-1, where=None):
    unnormalized = xnp.exp(_shifted("softmax", x, axis, where))
    result = unnormalized / xnp.sum(unnormalized, axis, where=where, keepdims=True)
    return result if where is None else xnp.where(where, result, 0)


softmax = jitted("softmax", _softmax, static_argnames=("axis",))
softmax.__doc__ = ("exp(x) / sum(exp(x)) along `axis` (computed with the max subtracted); "
                   "masked-out entries (where=False) are 0.")


def _standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *, algorithm="fast"):
    check_arraylike("standardize", x)
    for v in (mean, variance, where):
        if v is not None:
            check_arraylike("standardize", v)
    if mean is None:
        mean = xnp.mean(x, axis, keepdims=True, where=where)
    if variance is None:
        if algorithm == "stable":
            variance = xnp.mean(xnp.square(xnp.subtract(x, mean)), axis, keepdims=True, where=where)
        elif algorithm == "fast":
            variance = xnp.mean(xnp.square(x), axis, keepdims=True, where=where) - xnp.square(mean)
            variance = xnp.clip(variance, 0)
        else:
            raise ValueError(f"Unknown algorithm '{algorithm}'. Expected 'fast' or 'stable'.")
    return xnp.subtract(x, mean) * P.rsqrt(variance + epsilon)


standardize = jitted("standardize", _standardize, static_argnames=("axis", "algorithm"))
standardize.__doc__ = "(x - mean) / sqrt(variance + epsilon) along `axis`."


def _one_hot_impl(x, num_classes, *, dtype, axis):
    nd = get_aval(x).ndim
    if not -(nd + 1) <= axis <= nd:
        raise ValueError(f"axis {axis} is out of bounds for the one_hot output of dimension {nd + 1} "
                         f"(at {core.user_site()})")
    out_axis = axis % (nd + 1)
    lhs = P.expand_dims(x, (axis,))
    rhs_shape = [1] * nd
    rhs_shape.insert(out_axis, num_classes)
    rhs = P.broadcasted_iota(get_aval(x).dtype, rhs_shape, out_axis)
    return (lhs == rhs).astype(dtype)


_one_hot = jitted("_one_hot", _one_hot_impl, static_argnames=("num_classes", "dtype", "axis"))


def one_hot(x, num_classes: int, *, dtype=None, axis=-1):
    """One-hot encoding of integer indices; out-of-range indices encode as all zeros."""
    num_classes = static_int(num_classes, "jax.nn.one_hot", "num_classes")
    if not isinstance(axis, (int, np.integer)):
        raise NotImplementedError("one_hot over a named axis is not implemented yet in xlafront")
    x_arr = xnp.asarray(x)
    dtype = dtypes.default_float() if dtype is None else dtypes.canonicalize(dtype)
    return _one_hot(x_arr, num_classes, dtype=dtype, axis=int(axis))


@jit
def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    return relu6(x + 3.) / 6.


@jit
def hard_silu(x):
    """x * hard_sigmoid(x)."""
    x = _arraylike("hard_silu", x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


@custom_jvp
@jit
def log1mexp(x):
    """log(1 - exp(-x)), accurate on both sides of log(2)."""
    x = _arraylike("log1mexp", x)
    c = xnp.log(2.0)
    return xnp.where(x < c, xnp.log(-xnp.expm1(-x)), xnp.log1p(-xnp.exp(-x)))


log1mexp.defjvps(lambda g, ans, x: g / xnp.expm1(x))
