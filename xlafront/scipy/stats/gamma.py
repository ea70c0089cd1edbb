"""The gamma distribution: density, cdf and survival function (mirrors jax.scipy.stats.gamma)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import gammainc, gammaincc, gammaln, xlogy
from xlafront.scipy._util import const, promote


def logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote("gamma.logpdf", x, a, loc, scale)
    ok = x >= loc
    one = const(x, 1)
    y = xnp.where(ok, (x - loc) / scale, one)
    log_linear_term = xlogy(a - one, y) - y
    shape_terms = gammaln(a) + xnp.log(scale)
    return xnp.where(ok, log_linear_term - shape_terms, -np.inf)


def pdf(x, a, loc=0, scale=1):
    return xnp.exp(logpdf(x, a, loc, scale))


def _standardized(name, x, a, loc, scale):
    """a and (x - loc) / scale, clipped below at 0 (the support starts at loc)."""
    x, a, loc, scale = promote(name, x, a, loc, scale)
    return a, xnp.maximum((x - loc) / scale, const(x, 0))


def cdf(x, a, loc=0, scale=1):
    """P(X <= x): the regularized lower incomplete gamma function P(a, (x - loc) / scale)."""
    return gammainc(*_standardized("gamma.cdf", x, a, loc, scale))


def sf(x, a, loc=0, scale=1):
    """P(X > x) = Q(a, (x - loc) / scale), accurate where the cdf is near 1."""
    return gammaincc(*_standardized("gamma.sf", x, a, loc, scale))


def logcdf(x, a, loc=0, scale=1):
    return xnp.log(cdf(x, a, loc, scale))


def logsf(x, a, loc=0, scale=1):
    return xnp.log(sf(x, a, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
