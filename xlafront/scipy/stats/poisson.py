"""The Poisson distribution: pmf and cdf (mirrors jax.scipy.stats.poisson)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import gammaincc, gammaln, xlogy
from xlafront.scipy._util import const, promote


def logpmf(k, mu, loc=0):
    k, mu, loc = promote("poisson.logpmf", k, mu, loc)
    zero = const(k, 0)
    x = k - loc
    log_probs = xlogy(x, mu) - gammaln(x + 1) - mu
    return xnp.where(xnp.logical_or(x < zero, xnp.round(k) != k), -np.inf, log_probs)


def pmf(k, mu, loc=0):
    return xnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    """P(K <= k) = Q(floor(k - loc) + 1, mu), the regularized upper incomplete gamma function
    (0 below the support)."""
    k, mu, loc = promote("poisson.cdf", k, mu, loc)
    n = xnp.floor(k - loc)
    zero = const(k, 0)
    return xnp.where(n < zero, zero, gammaincc(n + const(k, 1), mu))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
