"""The geometric distribution on k = 1, 2, ... (mirrors jax.scipy.stats.geom)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import xlog1py
from xlafront.scipy._util import const, promote


def logpmf(k, p, loc=0):
    """log((1 - p)^(k - loc - 1) p) for k - loc >= 1, -inf below. As JAX, k is not checked to
    be an integer (scipy gives -inf off the integers)."""
    k, p, loc = promote("geom.logpmf", k, p, loc)
    x = k - loc
    log_probs = xlog1py(x - const(k, 1), -p) + xnp.log(p)
    return xnp.where(x <= const(k, 0), -np.inf, log_probs)


def pmf(k, p, loc=0):
    return xnp.exp(logpmf(k, p, loc))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
