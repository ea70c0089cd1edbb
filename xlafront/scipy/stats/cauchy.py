"""The Cauchy distribution (mirrors jax.scipy.stats.cauchy)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy._util import const, promote


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("cauchy.logpdf", x, loc, scale)
    scaled_x = (x - loc) / scale
    normalize_term = xnp.log(const(x, np.pi) * scale)
    return -(normalize_term + xnp.log1p(scaled_x * scaled_x))


def pdf(x, loc=0, scale=1):
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote("cauchy.cdf", x, loc, scale)
    scaled_x = (x - loc) / scale
    return const(x, 0.5) + const(x, 1.0) / const(x, np.pi) * xnp.arctan(scaled_x)


def logcdf(x, loc=0, scale=1):
    return xnp.log(cdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    x, loc, scale = promote("cauchy.sf", x, loc, scale)
    return cdf(-x, -loc, scale)


def logsf(x, loc=0, scale=1):
    x, loc, scale = promote("cauchy.logsf", x, loc, scale)
    return logcdf(-x, -loc, scale)


def isf(q, loc=0, scale=1):
    q, loc, scale = promote("cauchy.isf", q, loc, scale)
    unscaled = xnp.tan(const(q, np.pi / 2) - const(q, np.pi) * q)
    return unscaled * scale + loc


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote("cauchy.ppf", q, loc, scale)
    unscaled = xnp.tan(const(q, np.pi) * q - const(q, np.pi / 2))
    return unscaled * scale + loc

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
