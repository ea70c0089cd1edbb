"""The beta distribution's density (mirrors jax.scipy.stats.beta; cdf needs betainc: not yet)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import betaln, xlog1py, xlogy
from xlafront.scipy._util import const, promote


def logpdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote("beta.logpdf", x, a, b, loc, scale)
    one, zero = const(x, 1), const(a, 0)
    shape_term = -betaln(a, b)
    y = (x - loc) / scale
    log_linear_term = xlogy(a - one, y) + xlog1py(b - one, -y)
    log_probs = shape_term + log_linear_term - xnp.log(scale)
    result = xnp.where(xnp.logical_or(x > loc + scale, x < loc), -np.inf, log_probs)
    return xnp.where((a <= zero) | (b <= zero) | (scale <= zero), np.nan, result)


def pdf(x, a, b, loc=0, scale=1):
    return xnp.exp(logpdf(x, a, b, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
