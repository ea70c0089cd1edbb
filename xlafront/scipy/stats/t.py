"""Student's t distribution's density (mirrors jax.scipy.stats.t)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import gammaln
from xlafront.scipy._util import const, promote


def logpdf(x, df, loc=0, scale=1):
    """log f(x) = log Gamma((nu + 1) / 2) - log Gamma(nu / 2) - log(pi nu scale^2) / 2
    - (nu + 1) / 2 log(1 + z^2 / nu), with z = (x - loc) / scale and nu = df."""
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    half = const(x, 0.5)
    z = (x - loc) / scale
    exponent = half * (df + const(x, 1))
    log_norm = gammaln(exponent) - gammaln(half * df) - half * xnp.log(const(x, np.pi) * df * scale * scale)
    return log_norm - exponent * xnp.log1p(z * z / df)


def pdf(x, df, loc=0, scale=1):
    return xnp.exp(logpdf(x, df, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
