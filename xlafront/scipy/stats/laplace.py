"""The Laplace distribution (mirrors jax.scipy.stats.laplace)."""
from __future__ import annotations

from xlafront import numpy as xnp
from xlafront.scipy._util import const, promote


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("laplace.logpdf", x, loc, scale)
    linear_term = xnp.abs(x - loc) / scale
    return -(linear_term + xnp.log(const(x, 2) * scale))


def pdf(x, loc=0, scale=1):
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote("laplace.cdf", x, loc, scale)
    half, one, zero = const(x, 0.5), const(x, 1), const(x, 0)
    diff = (x - loc) / scale
    return xnp.where(diff <= zero, half * xnp.exp(diff), one - half * xnp.exp(-diff))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
