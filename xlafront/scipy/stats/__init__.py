"""xlafront.scipy.stats: probability distributions (mirrors jax.scipy.stats).

Each distribution is a module (`stats.norm.logpdf(...)`), as in JAX."""
from xlafront.scipy.stats import (  # noqa: F401
    bernoulli, beta, cauchy, chi2, expon, gamma, geom, laplace, logistic, norm, poisson, t, uniform,
)
from xlafront.scipy.stats import multivariate_normal  # noqa: F401,E402
from xlafront.scipy.stats._kde import gaussian_kde  # noqa: F401,E402

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
