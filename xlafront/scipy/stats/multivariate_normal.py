"""The multivariate normal distribution (mirrors jax.scipy.stats.multivariate_normal).

The density goes through the Cholesky factor of `cov` (symmetrized first, as JAX's
lax.linalg.cholesky): log|cov| from its diagonal and the Mahalanobis term from one
triangular solve."""
from __future__ import annotations

import numpy as np

from xlafront import core
from xlafront import numpy as xnp
from xlafront.core import get_aval
from xlafront.numpy._util import check_arraylike
from xlafront.scipy._util import promote


def logpdf(x, mean, cov, allow_singular=None):
    if allow_singular is not None:
        raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    check_arraylike("multivariate_normal.logpdf", x, mean, cov)
    x, mean, cov = promote("multivariate_normal.logpdf", x, mean, cov)
    mshape, cshape = get_aval(mean).shape, get_aval(cov).shape
    if not mshape:
        return -1 / 2 * xnp.square(x - mean) / cov - 1 / 2 * (xnp.log(2 * np.pi) + xnp.log(cov))
    n = mshape[-1]
    if not cshape:
        y = x - mean
        return (-1 / 2 * xnp.einsum("...i,...i->...", y, y) / cov
                - n / 2 * (xnp.log(2 * np.pi) + xnp.log(cov)))
    if len(cshape) < 2 or cshape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal.logpdf got incompatible shapes: mean {mshape}, cov {cshape} "
                         f"(at {core.user_site()})")
    from xlafront.lax import linalg as lax_linalg  # (JAX: lax.linalg.cholesky symmetrizes cov)
    L = lax_linalg.cholesky(cov)
    diff = x - mean
    dshape = get_aval(diff).shape
    if len(cshape) == 2:
        # for every row d of diff, y solves y L^T = d (that is L y = d): one triangular solve
        rows = xnp.reshape(diff, (-1, n))
        y = xnp.reshape(lax_linalg.triangular_solve(L, rows, left_side=False, lower=True, transpose_a=True),
                        dshape)
    else:
        batch = tuple(xnp.broadcast_shapes(cshape[:-2], dshape[:-1]))
        Lb = xnp.broadcast_to(L, batch + (n, n))
        db = xnp.broadcast_to(diff, batch + (n,))[..., None, :]
        y = lax_linalg.triangular_solve(Lb, db, left_side=False, lower=True, transpose_a=True)[..., 0, :]
    return (-1 / 2 * xnp.einsum("...i,...i->...", y, y) - n / 2 * xnp.log(2 * np.pi)
            - xnp.log(xnp.diagonal(L, axis1=-1, axis2=-2)).sum(-1))


def pdf(x, mean, cov):
    return xnp.exp(logpdf(x, mean, cov))

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
