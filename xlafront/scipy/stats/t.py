"""Student's t distribution's density (mirrors jax.scipy.stats.t)."""
from __future__ import annotations

import numpy as np

from xlafront import numpy as xnp
from xlafront.scipy.special import gammaln
from xlafront.scipy.stats._util import const, promote


def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    two = const(x, 2)
    scaled_x = (x - loc) / scale
    df_over_two = df / two
    df_plus_one_over_two = df_over_two + const(x, 0.5)
    normalize_term_const = scale * scale * const(x, np.pi)
    normalize_term_tmp = xnp.log(normalize_term_const * df) / two
    normalize_term = gammaln(df_over_two) + normalize_term_tmp - gammaln(df_plus_one_over_two)
    quadratic = scaled_x * scaled_x / df
    return -(normalize_term + df_plus_one_over_two * xnp.log1p(quadratic))


def pdf(x, df, loc=0, scale=1):
    return xnp.exp(logpdf(x, df, loc, scale))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
