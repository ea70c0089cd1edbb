"""The uniform distribution on [loc, loc + scale] (mirrors jax.scipy.stats.uniform)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy._util import promote


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("uniform.logpdf", x, loc, scale)
    log_probs = -xnp.log(scale)
    return xnp.where(xnp.logical_or(x > loc + scale, x < loc), -np.inf, log_probs)


def pdf(x, loc=0, scale=1):
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote("uniform.cdf", x, loc, scale)
    zero, one = xnp.array(0, x.dtype), xnp.array(1, x.dtype)
    inside = (x >= loc) & (x <= loc + scale)
    return xnp.where(x < loc, zero, xnp.where(x > loc + scale, one,
                                              xnp.where(inside, (x - loc) / scale, zero)))


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote("uniform.ppf", q, loc, scale)
    return xnp.where(xnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc + scale * q)

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
