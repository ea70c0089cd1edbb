"""The exponentially scaled modified Bessel functions of order 0 and 1 (`lax.bessel_i0e`,
`lax.bessel_i1e`; `scipy.special.i0e`/`i1e`/`i0`/`i1` build on them), with the small
helpers the scipy.special implementations share: they compute in float32/float64 and
convert back (`_to_work`, `_from_work`), and evaluate nested Horner forms (`_inner_horner`).
Derivatives come from custom_jvp rules of the closed forms, as JAX's rules give them."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront import primitives as P
from xlafront.api import jit
from xlafront.api_autodiff import custom_jvp
from xlafront.core import get_aval


def _dtype(x):
    return get_aval(x).dtype


def _work_dtype(dt):
    dt = np.dtype(dt)
    return dt if dt in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)


def _to_work(x):
    return P.convert_element_type(x, _work_dtype(_dtype(x)))


def _from_work(y, x, weak):
    return P.convert_element_type(y, _dtype(x), weak_type=weak)


def _inner_horner(t, coefs):
    """1 + t c_1 (1 + t c_2 (1 + ... (1 + t c_n))), evaluated from the inside."""
    r = xnp.ones_like(t)
    for c in coefs[::-1]:
        r = 1 + (t * c) * r
    return r


def _is_f64(x):
    return _dtype(x) == np.dtype(np.float64)


# (crossover |x|, series terms, asymptotic terms) of the exponentially scaled I0, I1
_BESSEL_PARAMS = {False: (10.0, 26, 14), True: (22.0, 52, 34)}


def _bessel_scaled(x, order):
    """exp(-|x|) I_order(x) for order 0 or 1: the power series in x^2/4 times exp(-|x|) up to
    the crossover, the asymptotic series in 1/|x| over sqrt(2 pi |x|) beyond it (no exp, so it
    neither overflows nor underflows); each branch gets an input inside its own domain."""
    dt = _dtype(x).type
    cross, ns, na = _BESSEL_PARAMS[_is_f64(x)]
    ax = P.abs(x)
    small = ax <= dt(cross)
    xs = xnp.where(small, x, dt(cross))
    xl = xnp.where(small, dt(cross), ax)
    t = xs * xs * dt(0.25)
    if order == 0:
        ser = _inner_horner(t, [dt(1.0 / (k * k)) for k in range(1, ns + 1)])
        asym_c = [dt((2 * j - 1) ** 2 / (8.0 * j)) for j in range(1, na + 1)]
    else:
        ser = xs * dt(0.5) * _inner_horner(t, [dt(1.0 / (k * (k + 1))) for k in range(1, ns + 1)])
        asym_c = [dt(((2 * j - 1) ** 2 - 4) / (8.0 * j)) for j in range(1, na + 1)]
    ser = ser * P.exp(-P.abs(xs))
    # sqrt(2 pi) sqrt(x), not sqrt(2 pi x): 2 pi x overflows near the dtype's max
    asym = _inner_horner(dt(1) / xl, asym_c) / (dt(np.sqrt(2 * np.pi)) * P.sqrt(xl))
    if order == 1:
        asym = xnp.where(x < 0, -asym, asym)
    return xnp.where(small, ser, asym)


@jit
def _i0e_impl(x):
    return _from_work(_bessel_scaled(_to_work(x), 0), x, get_aval(x).weak_type)


@jit
def _i1e_impl(x):
    return _from_work(_bessel_scaled(_to_work(x), 1), x, get_aval(x).weak_type)


@custom_jvp
def _i0e(x):
    return _i0e_impl(x)


@custom_jvp
def _i1e(x):
    return _i1e_impl(x)


@_i0e.defjvp
def _i0e_jvp(primals, tangents):
    # d/dx exp(-|x|) I0(x) = i1e(x) - sign(x) i0e(x)
    (x,), (t,) = primals, tangents
    y = _i0e(x)
    return y, t * (_i1e(x) - P.sign(x) * y)


@_i1e.defjvp
def _i1e_jvp(primals, tangents):
    # d/dx exp(-|x|) I1(x) = i0e(x) - i1e(x) (sign(x) + 1/x); 1/2 where |x| <= eps (and at nan,
    # as JAX's rule)
    (x,), (t,) = primals, tangents
    y = _i1e(x)
    dt = _dtype(x)
    eps = np.asarray(dtypes.finfo(dt).eps, dt)[()]
    not_tiny = P.abs(x) > eps
    safe = xnp.where(not_tiny, x, xnp.full_like(x, eps))
    d = _i0e(safe) - y * (P.sign(safe) + 1 / safe)
    return y, t * xnp.where(not_tiny, d, xnp.full_like(x, 0.5))


def _lax_float_arg(name, x):
    """lax's check: a floating operand, as an array (a Python float stays weakly typed)."""
    dt = get_aval(x).dtype
    if not dtypes.is_float(dt):
        raise TypeError(f"{name} does not accept dtype {dt.name}. Accepted dtypes are subtypes of "
                        f"floating (at {core.user_site()}).")
    return xnp.asarray(x)


def bessel_i0e(x):
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0."""
    return _i0e(_lax_float_arg("bessel_i0e", x))


def bessel_i1e(x):
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1."""
    return _i1e(_lax_float_arg("bessel_i1e", x))
