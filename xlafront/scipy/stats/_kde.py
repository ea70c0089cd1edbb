"""gaussian_kde: a Gaussian kernel density estimate (mirrors jax.scipy.stats.gaussian_kde).

The density at x is sum_i w_i N(x; x_i, C) with C = factor^2 cov(dataset, aweights=w) and
factor from Scott's or Silverman's rule, a scalar, or a callable of the estimator. The
estimator is a pytree (dataset, weights, covariance, inv_cov, neff), so it passes through jit.
"""
from __future__ import annotations

import numpy as np

from xlafront import core
from xlafront import numpy as xnp
from xlafront.core import get_aval
from xlafront.nn.functions import logsumexp
from xlafront.tree_util import register_pytree_node_class

__all__ = ["gaussian_kde"]


@register_pytree_node_class
class gaussian_kde:  # noqa: N801 (SciPy's name)
    def __init__(self, dataset, bw_method=None, weights=None):
        dataset = xnp.atleast_2d(xnp.asarray(dataset))
        if dataset.size <= 1:
            raise ValueError("`dataset` input should have multiple elements.")
        dataset = dataset.astype(xnp.result_type(dataset, 1.0))
        d, n = dataset.shape
        if weights is not None:
            weights = xnp.atleast_1d(xnp.asarray(weights)).astype(dataset.dtype)
            weights = weights / weights.sum()
            if weights.ndim != 1:
                raise ValueError("`weights` input should be one-dimensional.")
            if len(weights) != n:
                raise ValueError("`weights` input should be of length n")
        else:
            weights = xnp.full(n, 1.0 / n, dtype=dataset.dtype)
        neff = 1 / (weights ** 2).sum()   # (n up to rounding without weights, as JAX's)
        self.dataset, self.weights, self.neff = dataset, weights, neff
        if bw_method is None or bw_method == "scott":
            factor = neff ** (-1.0 / (d + 4))
        elif bw_method == "silverman":
            factor = (neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif np.isscalar(bw_method) and not isinstance(bw_method, str):
            factor = bw_method
        elif callable(bw_method):
            factor = bw_method(self)
        else:
            raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar, or a callable.")
        data_cov = xnp.atleast_2d(xnp.cov(dataset, rowvar=True, bias=False, aweights=weights))
        data_inv_cov = xnp.linalg.inv(data_cov)
        self.covariance = data_cov * factor ** 2
        self.inv_cov = data_inv_cov / factor ** 2

    # pytree: the arrays are leaves (d and n follow from the dataset's shape)
    def tree_flatten(self):
        return (self.dataset, self.weights, self.covariance, self.inv_cov, self.neff), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        kde = object.__new__(cls)
        kde.dataset, kde.weights, kde.covariance, kde.inv_cov, kde.neff = children
        return kde

    @property
    def d(self):
        return get_aval(self.dataset).shape[0]

    @property
    def n(self):
        return get_aval(self.dataset).shape[1]

    def _points(self, points):
        points = xnp.atleast_2d(xnp.asarray(points))
        dp, m = get_aval(points).shape
        if dp != self.d:
            if dp == 1 and m == self.d:
                points = xnp.reshape(points, (self.d, 1))
            else:
                raise ValueError(f"points have dimension {dp}, dataset has dimension {self.d} "
                                 f"(at {core.user_site()})")
        return points.astype(self.dataset.dtype)

    def _log_terms(self, points):
        """log(w_i N(x_j; x_i, C)) for every data point i (axis 0) and query point j (axis 1)."""
        diff = self.dataset[:, :, None] - points[:, None, :]                  # (d, n, m)
        maha = xnp.einsum("inm,ij,jnm->nm", diff, self.inv_cov, diff)
        _, logdet = xnp.linalg.slogdet(2 * np.pi * self.covariance)
        return xnp.log(self.weights)[:, None] - 0.5 * maha - 0.5 * logdet

    def evaluate(self, points):
        """The density at each column of points (shape (d, m), or (m,) when d == 1)."""
        return xnp.exp(self.logpdf(points))

    __call__ = evaluate

    def pdf(self, x):
        return self.evaluate(x)

    def logpdf(self, x):
        """The log density at each column of x, without underflow far from the data."""
        return logsumexp(self._log_terms(self._points(x)), axis=0)

    def integrate_gaussian(self, mean, cov):
        """The integral of the density times N(x; mean, cov)."""
        mean = xnp.atleast_1d(xnp.squeeze(xnp.asarray(mean)))
        cov = xnp.atleast_2d(xnp.asarray(cov))
        if mean.shape != (self.d,):
            raise ValueError(f"mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise ValueError(f"covariance does not have dimension {self.d}")
        total = self.covariance + cov
        diff = self.dataset - mean[:, None]
        maha = xnp.einsum("in,ij,jn->n", diff, xnp.linalg.inv(total), diff)
        _, logdet = xnp.linalg.slogdet(2 * np.pi * total)
        return xnp.sum(self.weights * xnp.exp(-0.5 * maha - 0.5 * logdet))

    def integrate_box_1d(self, low, high):
        """The integral of a one-dimensional density over [low, high]."""
        from xlafront.scipy.special import ndtr
        if self.d != 1:
            raise ValueError("integrate_box_1d() only handles 1D pdfs")
        sd = xnp.sqrt(self.covariance[0, 0])
        lo = (low - self.dataset[0]) / sd
        hi = (high - self.dataset[0]) / sd
        return xnp.sum(self.weights * (ndtr(hi) - ndtr(lo)))

    def integrate_kde(self, other):
        """The integral of the product of two estimates' densities."""
        if other.d != self.d:
            raise ValueError("KDEs are not the same dimensionality")
        total = self.covariance + other.covariance
        diff = self.dataset[:, :, None] - other.dataset[:, None, :]
        maha = xnp.einsum("inm,ij,jnm->nm", diff, xnp.linalg.inv(total), diff)
        _, logdet = xnp.linalg.slogdet(2 * np.pi * total)
        w = self.weights[:, None] * other.weights[None, :]
        return xnp.sum(w * xnp.exp(-0.5 * maha - 0.5 * logdet))

    def integrate_box(self, low_bounds, high_bounds, maxpts=None):
        raise NotImplementedError("gaussian_kde.integrate_box is not implemented (as in JAX)")

    def set_bandwidth(self, bw_method=None):
        raise NotImplementedError("gaussian_kde.set_bandwidth is not implemented (as in JAX)")

    def resample(self, key, shape=()):
        raise NotImplementedError("gaussian_kde.resample is not implemented yet in xlafront")
