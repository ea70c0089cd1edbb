"""The gamma distribution's density (mirrors jax.scipy.stats.gamma; cdf needs gammainc: not yet)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import gammaln, xlogy
from xlafront.scipy.stats._util import const, promote


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

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
