"""The exponential distribution (mirrors jax.scipy.stats.expon)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy._util import promote


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("expon.logpdf", x, loc, scale)
    # -(x - loc) / scale - log(scale), negated before log(scale) is subtracted: at x = -0
    # (scale 1) that is +0 (scipy's -x, JAX's compiled result), where -(-0 + 0) would be -0
    log_probs = -((x - loc) / scale) - xnp.log(scale)
    return xnp.where(x < loc, -np.inf, log_probs)


def pdf(x, loc=0, scale=1):
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote("expon.cdf", x, loc, scale)
    neg_scaled_x = (loc - x) / scale
    return xnp.where(x < loc, xnp.zeros_like(neg_scaled_x), -xnp.expm1(neg_scaled_x))


def logcdf(x, loc=0, scale=1):
    return xnp.log1p(-sf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    x, loc, scale = promote("expon.sf", x, loc, scale)
    neg_scaled_x = (loc - x) / scale
    return xnp.where(x < loc, xnp.zeros_like(neg_scaled_x), neg_scaled_x)


def sf(x, loc=0, scale=1):
    return xnp.exp(logsf(x, loc, scale))


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote("expon.ppf", q, loc, scale)
    return xnp.where(xnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc - scale * xnp.log1p(-q))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
