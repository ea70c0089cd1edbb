"""Statistics and polynomials: cov, corrcoef, interp, histogram, histogram_bin_edges,
bincount, digitize, polyval, polyadd, polysub, polymul, polyder, polyint.

Written with xlafront.numpy's own functions, following jnp's formulas and dtypes
(quantiles, percentiles and medians live in _reductions.py).
"""
from __future__ import annotations


import numpy as np

from xlafront import dtypes
from xlafront.numpy._util import aval, check_arraylike, host, jitted, promote_args, static_int
# the submodules that define what this module uses (it is part of xlafront.numpy and does not
# import the package back)
from xlafront.numpy import _creation as C, _ufuncs as U, _reductions as R, _shapes as S
from xlafront.numpy import _products as PR, _sorting as SO, _math_extras as ME, linalg

__all__ = ["cov", "corrcoef", "interp", "histogram", "histogram_bin_edges", "bincount", "digitize",
           "polyval", "polyadd", "polysub", "polymul", "polyder", "polyint", "polyfit"]


def _inexact(x):
    """x as a strong array of its inexact dtype (jnp's promote_dtypes_inexact on one operand)."""
    x = C.asarray(x)
    a = aval(x)
    dt = dtypes.to_inexact(a.dtype)
    return x.astype(dt) if (dt != a.dtype or a.weak_type) else x


def _sample_weights(name, w, n):
    """cov's fweights or aweights: a 1-D array of one weight per sample."""
    check_arraylike("cov", w)
    w = C.asarray(w)
    if w.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if w.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    return w


# ----------------------------------------------------------------------------- cov, corrcoef


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, dtype=None):
    """Covariance matrix of the variables in the rows (columns if not rowvar) of m."""
    check_arraylike("cov", m)
    X = C.asarray(m)
    if aval(X).ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    X = _inexact(S.atleast_2d(X))
    if dtype is not None:
        X = X.astype(dtype)
    if not rowvar and X.shape[0] != 1:
        X = X.T
    if X.shape[0] == 0:
        return C.zeros((0, 0), X.dtype)
    if y is not None:
        check_arraylike("cov", y)
        yy = C.asarray(y)
        if aval(yy).ndim > 2:
            raise ValueError("y has more than 2 dimensions")
        yy = _inexact(S.atleast_2d(yy))
        if not rowvar and yy.shape[0] != 1:
            yy = yy.T
        X = S.concatenate((X, yy), axis=0)
    if ddof is None:
        ddof = 1 if not bias else 0
    w = None
    if fweights is not None:
        fw = _sample_weights("fweights", fweights, X.shape[1])
        if not dtypes.is_int(aval(fw).dtype):
            raise TypeError("fweights must be integer.")
        w = fw
    if aweights is not None:
        aw = _sample_weights("aweights", aweights, X.shape[1])
        w = aw if w is None else w * aw
    avg, w_sum = R.average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        f = X.shape[1] - ddof
    elif ddof == 0:
        f = w_sum
    elif aweights is None:
        f = w_sum - ddof
    else:
        f = w_sum - ddof * R.sum(w * aw) / w_sum
    X = X - avg[:, None]
    X_T = X.T if w is None else (X * w).T
    return S.squeeze(U.true_divide(PR.dot(X, U.conj(X_T)), f))


def corrcoef(x, y=None, rowvar=True, dtype=None):
    """Pearson correlation coefficients: cov normalized by the standard deviations, clipped
    to [-1, 1]."""
    check_arraylike("corrcoef", x)
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return U.divide(c, c)
    d = S.diag(c)
    stddev = U.sqrt(U.real(d)).astype(c.dtype)
    c = c / stddev[:, None] / stddev[None, :]
    real_part = U.clip(U.real(c), -1, 1)
    if C.iscomplexobj(c):
        from xlafront import primitives as P
        return P.complex(real_part, U.clip(U.imag(c), -1, 1))
    return real_part


# ----------------------------------------------------------------------------- interp


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) at x; `left`/`right` set the
    values outside (or 'extrapolate'); `period` makes xp periodic."""
    check_arraylike("interp", x, xp, fp)
    x, xp = C.asarray(x), C.asarray(xp)
    dt = dtypes.to_inexact(dtypes.promote([(aval(x).dtype, aval(x).weak_type),
                                           (aval(xp).dtype, aval(xp).weak_type)])[0])
    x, xp = x.astype(dt), xp.astype(dt)
    fp = _inexact(fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape[0] != fp.shape[0]:
        raise ValueError("xp and fp must be one-dimensional arrays of equal size")
    extrapolate_left = extrapolate_right = False
    if isinstance(left, str):
        if left != "extrapolate":
            raise ValueError(f"the only valid string value of `left` is 'extrapolate', but got: {left!r}")
        extrapolate_left = True
    if isinstance(right, str):
        if right != "extrapolate":
            raise ValueError(f"the only valid string value of `right` is 'extrapolate', but got: {right!r}")
        extrapolate_right = True
    if period is not None:
        if np.ndim(period) != 0:
            raise ValueError(f"period must be a scalar; got {period}")
        period = U.abs(period)
        x = x % period
        xp = xp % period
        from xlafront import primitives as P
        xp, fp = P.sort((xp, fp), dimension=0, is_stable=True, num_keys=1)
        xp = S.concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = S.concatenate([fp[-1:], fp, fp[:1]])
    i = U.clip(SO.searchsorted(xp, x, side="right"), 1, xp.shape[0] - 1)
    df = fp[i] - fp[i - 1]
    dx = xp[i] - xp[i - 1]
    delta = x - xp[i - 1]
    epsilon = np.spacing(np.finfo(xp.dtype).eps)
    dx0 = U.abs(dx) <= epsilon   # a zero-width interval: take its left value (no NaN gradient)
    f = U.where(dx0, fp[i - 1], fp[i - 1] + (delta / U.where(dx0, 1, dx)) * df)
    if not extrapolate_left:
        f = U.where(x < xp[0], fp[0] if left is None else left, f)
    if not extrapolate_right:
        f = U.where(x > xp[-1], fp[-1] if right is None else right, f)
    return f


# ----------------------------------------------------------------------------- histograms


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """Edges of `bins` equal bins over `range` (default: the data's min and max)."""
    check_arraylike("histogram_bin_edges", a)
    if np.ndim(bins) == 1:
        return C.asarray(bins)
    a = S.ravel(C.asarray(a))
    dt = dtypes.to_inexact(aval(a).dtype)
    if range is None:
        range = (a.min(), a.max())  # noqa: A001
    r = C.asarray(S.stack([C.asarray(v) for v in range]) if isinstance(range, (tuple, list))
                    else range).astype(dt)
    if r.shape != (2,):
        raise ValueError(f"`range` must be either None or a sequence of scalars, got {range}")
    flat = R.ptp(r) == 0
    lo = U.where(flat, r[0] - 0.5, r[0])
    hi = U.where(flat, r[1] + 0.5, r[1])
    return C.linspace(lo, hi, static_int(bins, "histogram", "bins") + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """(counts, bin_edges) of `a`; the last bin includes its right edge."""
    check_arraylike("histogram", a)
    if weights is not None and np.shape(weights) != np.shape(a):
        raise ValueError("weights should have the same shape as a.")
    a = _inexact(S.ravel(C.asarray(a)))
    if weights is not None:
        weights = S.ravel(C.asarray(weights))
    bin_edges = histogram_bin_edges(a, bins, range, weights)
    bin_idx = SO.searchsorted(bin_edges, a, side="right")
    bin_idx = U.where(a == bin_edges[-1], bin_edges.shape[0] - 1, bin_idx)
    weights = C.ones_like(a) if weights is None else weights
    counts = C.zeros(bin_edges.shape[0], weights.dtype).at[bin_idx].add(weights)[1:]
    if density:
        counts = counts / ME.diff(bin_edges) / counts.sum()
    return counts, bin_edges


def bincount(x, weights=None, minlength=0, *, length=None, out_sharding=None):
    """Counts (or summed weights) of each non-negative integer in x; `length` fixes the
    output size (needed under jit)."""
    check_arraylike("bincount", x)
    x = C.asarray(x)
    if not dtypes.is_int(aval(x).dtype):
        raise TypeError(f"x argument to bincount must have an integer type; got {aval(x).dtype}")
    if x.ndim != 1:
        raise ValueError("only 1-dimensional input supported.")
    minlength = static_int(minlength, "bincount", "minlength")
    if length is None:
        xc = host(x, None, "The error occurred because of argument 'x' of jnp.bincount. To avoid this "
                  "error, pass a static `length` argument.")
        length = max(minlength, xc.size and int(xc.max()) + 1)
    else:
        length = static_int(length, "bincount", "length")
    if weights is None:
        weights = np.array(1, dtype=dtypes.default_int())
    else:
        check_arraylike("bincount", weights)
        weights = C.asarray(weights)
        if np.shape(weights) != np.shape(x):
            raise ValueError(f"shape of weights must match shape of x. Got {aval(x).str_short()} and "
                             f"{aval(weights).str_short()}")
    return C.zeros(length, aval(weights).dtype).at[U.clip(x, 0)].add(weights, mode="drop")


def digitize(x, bins, right=False, *, method=None):
    """Index of the bin of each x (bins increasing or decreasing), as int32."""
    check_arraylike("digitize", x, bins)
    bins = C.asarray(bins)
    x = C.asarray(x)
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins of shape {bins.shape}")
    if bins.shape[0] == 0:
        return C.zeros(x.shape, np.int32)
    side = "right" if not right else "left"
    kw = {} if method is None else {"method": method}
    return U.where(bins[-1] >= bins[0], SO.searchsorted(bins, x, side=side, **kw),
                     np.int32(bins.shape[0]) - SO.searchsorted(bins[::-1], x, side=side, **kw))


# ----------------------------------------------------------------------------- polynomials


def polyval(p, x, *, unroll=16):
    """p[0] * x**(n-1) + ... + p[n-1], by Horner's rule (p may carry trailing batch axes):
    a scan over the coefficients, `unroll` of them per iteration, as jnp.polyval."""
    check_arraylike("polyval", p, x)
    p, x = C.asarray(p), C.asarray(x)
    dt, weak = dtypes.promote([(aval(p).dtype, aval(p).weak_type), (aval(x).dtype, aval(x).weak_type)])
    p, x = p.astype(dt), x.astype(dt)
    if p.ndim == 0:
        raise IndexError("tuple index out of range")
    return jitted("polyval", _polyval_body, (2,))(p, x, unroll)


def _polyval_body(p, x, unroll):
    from xlafront.lax._control_flow import scan
    y = C.zeros(S.broadcast_shapes(p.shape[1:], x.shape), x.dtype)
    return scan(lambda y, c: (y * x + c, None), y, p, unroll=unroll)[0]


def _pad_front(a, n):
    return S.concatenate([C.zeros((n,) + a.shape[1:], a.dtype), a]) if n else a


def _polyadd(a1, a2):
    n = max(a1.shape[0], a2.shape[0])
    return _pad_front(a1, n - a1.shape[0]) + _pad_front(a2, n - a2.shape[0])


def polyadd(a1, a2):
    check_arraylike("polyadd", a1, a2)
    return _polyadd(*promote_args("polyadd", C.asarray(a1), C.asarray(a2)))


def polysub(a1, a2):
    check_arraylike("polysub", a1, a2)
    a1, a2 = promote_args("polysub", C.asarray(a1), C.asarray(a2))
    return _polyadd(a1, -a2)


def _trim_leading_zeros(a):
    v = host(a, "polymul", "trim_leading_zeros=True needs a concrete polynomial (it decides the output shape).")
    nz = np.flatnonzero(v)
    return a[int(nz[0]) if nz.size else a.shape[0]:]


def polymul(a1, a2, *, trim_leading_zeros=False):
    """Product of two polynomials (the full convolution of their coefficients)."""
    check_arraylike("polymul", a1, a2)
    a1, a2 = C.asarray(a1), C.asarray(a2)
    if trim_leading_zeros and (a1.shape[0] > 1 or a2.shape[0] > 1):
        a1, a2 = _trim_leading_zeros(a1), _trim_leading_zeros(a2)
    if a1.ndim != 1 or a2.ndim != 1:
        raise TypeError(f"polymul needs one-dimensional coefficient arrays, got {a1.shape} and {a2.shape}")
    a1, a2 = _inexact(a1), _inexact(a2)
    dt = dtypes.promote_types(a1.dtype, a2.dtype)
    a1, a2 = a1.astype(dt), a2.astype(dt)
    n1, n2 = a1.shape[0], a2.shape[0]
    if n1 == 0 or n2 == 0:
        return C.zeros((0,), dt)
    # out[k] = sum_i a1[i] a2[k - i]: skew the outer product so row i is shifted by i
    outer = a1[:, None] * a2[None, :]
    padded = S.pad(outer, ((0, 0), (0, n1)))
    skew = S.reshape(S.ravel(padded)[: n1 * (n1 + n2 - 1)], (n1, n1 + n2 - 1))
    return R.sum(skew, axis=0)


def polyder(p, m=1):
    """Coefficients of the m-th derivative."""
    check_arraylike("polyder", p)
    m = static_int(m, "polyder", "m")
    if m < 0:
        raise ValueError("Order of derivative must be positive")
    p = _inexact(p)
    if m == 0:
        return p
    n = p.shape[0]
    coeff = np.prod(np.arange(m, n)[None, :] - np.arange(m)[:, None], axis=0) if n > m else np.zeros(0)
    return p[:-m] * C.asarray(coeff[::-1].astype(p.dtype))


def polyint(p, m=1, k=None):
    """Coefficients of the m-th antiderivative; `k` gives the integration constants."""
    m = static_int(m, "polyint", "m")
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        k = C.zeros(m, dtypes.default_float())
    check_arraylike("polyint", p, k)
    p = _inexact(p)
    k = C.asarray(k)
    if k.ndim == 0:
        k = S.broadcast_to(k, (m,))
    if k.ndim != 1 or k.shape[0] not in (1, m):
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or m.")
    if k.shape[0] == 1 and m != 1:
        k = S.broadcast_to(k, (m,))
    if m == 0:
        return p
    dt = dtypes.promote_types(p.dtype, dtypes.to_inexact(aval(k).dtype))
    grid = np.arange(p.shape[0] + m)[None, :] - np.arange(m)[:, None]
    coeff = np.maximum(1, grid).prod(0)[::-1]
    return U.true_divide(S.concatenate((p.astype(dt), k.astype(dt))), C.asarray(coeff.astype(dt)))


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial fit of degree `deg` (numpy's algorithm: a column-scaled
    Vandermonde system solved with linalg.lstsq)."""
    check_arraylike("polyfit", x, y)
    deg = static_int(deg, "polyfit", "deg")
    x, y = C.asarray(x), C.asarray(y)
    if rcond is None and not dtypes.is_inexact(aval(x).dtype):   # as jnp.polyfit (finfo of x's dtype)
        raise ValueError(f"data type {aval(x).dtype.type!r} not inexact")
    dt = dtypes.to_inexact(dtypes.promote([(aval(x).dtype, aval(x).weak_type),
                                           (aval(y).dtype, aval(y).weak_type)])[0])
    x, y = x.astype(dt), y.astype(dt)
    order = deg + 1
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.size == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(dt).eps)
    lhs = U.power(x[:, None], C.arange(order - 1, -1, -1, dtype=dtypes.default_int())[None, :])
    rhs = y
    if w is not None:
        check_arraylike("polyfit", w)
        w = C.asarray(w).astype(dt)
        if w.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if w.shape[0] != y.shape[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if rhs.ndim == 1 else w[:, None])
    scale = U.sqrt(R.sum(lhs * lhs, axis=0))
    lhs = lhs / scale[None, :]
    c, resids, rank, sv = linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if full:
        return c, resids, rank, sv, C.asarray(rcond)
    if cov:
        base = linalg.inv(PR.dot(lhs.T, lhs)) / PR.outer(scale, scale)
        if cov == "unscaled":
            fac = C.asarray(1.0, dt)
        else:
            if x.shape[0] <= order:
                raise ValueError("the number of data points must exceed order to scale the covariance matrix")
            fac = resids / (x.shape[0] - order)
            fac = fac[0] if y.ndim == 1 else fac
        if y.ndim == 1:
            return c, base * fac
        return c, base[:, :, None] * fac
    return c
