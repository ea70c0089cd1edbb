"""The chi-squared distribution with df degrees of freedom (mirrors jax.scipy.stats.chi2):
Gamma(df / 2, scale 2), so the cdf and sf are the incomplete gamma functions."""
from __future__ import annotations

import numpy as np

from xlafront import lax
from xlafront import numpy as xnp
from xlafront.scipy.special import gammainc, gammaincc
from xlafront.scipy._util import const, promote


def logpdf(x, df, loc=0, scale=1):
    """log of y^(df/2 - 1) e^(-y/2) / (2^(df/2) Gamma(df/2) scale), y = (x - loc) / scale
    (-inf below loc)."""
    x, df, loc, scale = promote("chi2.logpdf", x, df, loc, scale)
    one, two = const(x, 1), const(x, 2)
    y = (x - loc) / scale
    half_df = df / two
    kernel = (half_df - one) * xnp.log(y) - y / two
    log_norm = -(lax.lgamma(half_df) + xnp.log(two) * df / two)
    return xnp.where(x < loc, -np.inf, log_norm - xnp.log(scale) + kernel)


def pdf(x, df, loc=0, scale=1):
    return xnp.exp(logpdf(x, df, loc, scale))


def _half(x, df, loc, scale):
    """df / 2 and (x - loc) / (2 scale) clamped to [0, inf]: the clamp's derivative is 0 at
    the ends and at NaN, as JAX's."""
    two = const(scale, 2)
    y = (x - loc) / (scale * two)
    return df / two, xnp.asarray(lax.clamp(const(x, 0), y, const(x, np.inf)))


def cdf(x, df, loc=0, scale=1):
    """P(X <= x) = P(df / 2, (x - loc) / (2 scale)), the regularized lower incomplete gamma."""
    x, df, loc, scale = promote("chi2.cdf", x, df, loc, scale)
    return gammainc(*_half(x, df, loc, scale))


def logcdf(x, df, loc=0, scale=1):
    return xnp.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0, scale=1):
    """P(X > x) = Q(df / 2, (x - loc) / (2 scale)), accurate where the cdf is near 1."""
    x, df, loc, scale = promote("chi2.sf", x, df, loc, scale)
    return gammaincc(*_half(x, df, loc, scale))


def logsf(x, df, loc=0, scale=1):
    return xnp.log(sf(x, df, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
