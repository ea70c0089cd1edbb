"""The gamma distribution: density, cdf and survival function (mirrors jax.scipy.stats.gamma)."""
from __future__ import annotations

import numpy as np

from xlafront import lax
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


def _clamped(x, loc, scale):
    """(x - loc) / scale clamped to [0, inf] (the support starts at loc). A clamp, not a
    maximum: its derivative is 0 at the ends and at NaN (as JAX's), so the cdf's gradient is
    0 at x = inf and NaN, not 0 * (the density's NaN there)."""
    y = (x - loc) / scale
    return xnp.asarray(lax.clamp(const(x, 0), y, const(x, np.inf)))


def cdf(x, a, loc=0, scale=1):
    """P(X <= x): the regularized lower incomplete gamma function P(a, (x - loc) / scale)."""
    x, a, loc, scale = promote("gamma.cdf", x, a, loc, scale)
    return gammainc(a, _clamped(x, loc, scale))


def sf(x, a, loc=0, scale=1):
    """P(X > x) = Q(a, (x - loc) / scale), accurate where the cdf is near 1 (1 below loc)."""
    x, a, loc, scale = promote("gamma.sf", x, a, loc, scale)
    y = (x - loc) / scale
    return xnp.where(y < const(y, 0), const(y, 1), gammaincc(a, y))


def logcdf(x, a, loc=0, scale=1):
    return xnp.log(cdf(x, a, loc, scale))


def logsf(x, a, loc=0, scale=1):
    return xnp.log(sf(x, a, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
