"""The Bernoulli distribution (mirrors jax.scipy.stats.bernoulli)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import xlog1py, xlogy
from xlafront.scipy._util import const, promote


def logpmf(k, p, loc=0):
    k, p, loc = promote("bernoulli.logpmf", k, p, loc)
    zero, one = const(k, 0), const(k, 1)
    x = k - loc
    log_probs = xlogy(x, p) + xlog1py(one - x, -p)
    return xnp.where(xnp.logical_or(x < zero, x > one), -np.inf, log_probs)


def pmf(k, p, loc=0):
    return xnp.exp(logpmf(k, p, loc))


def cdf(k, p):
    k, p = promote("bernoulli.cdf", k, p)
    zero, one = const(k, 0), const(k, 1)
    invalid = xnp.isnan(k) | xnp.isnan(p) | (p < zero) | (p > one)
    # the first true condition picks the value (as jnp.select)
    return xnp.where(invalid, np.nan, xnp.where(k < zero, zero, xnp.where(
        xnp.logical_and(k >= zero, k < one), one - p, xnp.where(k >= one, one, zero))))


def ppf(q, p):
    q, p = promote("bernoulli.ppf", q, p)
    zero, one = const(q, 0), const(q, 1)
    return xnp.where(xnp.isnan(q) | xnp.isnan(p) | (p < zero) | (p > one) | (q < zero) | (q > one),
                     np.nan, xnp.where(q <= one - p, zero, one))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
