"""xlafront.scipy.optimize, as jax.scipy.optimize: `minimize(fun, x0, args, method="BFGS")`.

BFGS (Nocedal & Wright, "Numerical Optimization", Algorithm 6.1) with an inexact line search
for the strong Wolfe conditions (their Algorithms 3.5 and 3.6: step doubling, then a zoom by
cubic, quadratic or bisection interpolation), everything in `lax.while_loop`s with the
per-step decisions as selects, so `minimize` works under `jit` and `vmap`. The constants and
the bookkeeping are JAX's (c1 = 1e-4, c2 = 0.9, the first trial step from the previous
decrease, at most 30 zoom steps, the zoom's interval floors, the step floor of 1e-8 below
64 bits, the status codes), so that a run takes the same steps as JAX's and reports the same
counts; `tol` is accepted and ignored, as JAX does.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp
from xlafront.core import get_aval

__all__ = ["minimize", "OptimizeResults"]


class OptimizeResults(NamedTuple):
    """The result of `minimize` (JAX's fields).

    x: the last point; success: converged and the line search did not fail; status: 0
    converged, 1 maxiter reached, 3 zoom failed, 5 line search maxiter reached, -1 other;
    fun, jac: value and gradient at x; hess_inv: the inverse Hessian estimate; nfev, njev:
    function and gradient evaluations; nit: iterations."""
    x: object
    success: object
    status: object
    fun: object
    jac: object
    hess_inv: object
    nfev: object
    njev: object
    nit: object


_BFGS = "bfgs"
_LBFGS = "l-bfgs-experimental-do-not-rely-on-this"


def minimize(fun, x0, args=(), *, method, tol=None, options=None):
    """Minimize the scalar `fun(x, *args)` over a 1-D `x`, starting at `x0`.

    method: "BFGS" (case-insensitive) or, as JAX, the experimental
    "l-bfgs-experimental-do-not-rely-on-this". tol: ignored (as JAX's). options for BFGS:
    maxiter (default 200 * x0.size), norm (of the gradient for the convergence test, default
    inf), gtol (default 1e-5), line_search_maxiter (default 10); for L-BFGS: maxiter, norm,
    maxcor (10), ftol (2.2e-9), gtol, maxfun, maxgrad, maxls (20)."""
    if options is None:
        options = {}
    if not isinstance(args, tuple):
        raise TypeError(f"args argument to xlafront.scipy.optimize.minimize must be a tuple, "
                        f"got {args!r} (at {core.user_site()})")
    x0 = _check_x0(x0)
    m = method.lower()
    if m == _BFGS:
        r = _minimize_bfgs(lambda x: fun(x, *args), x0, **options)
        return OptimizeResults(x=r.x, success=r.converged & ~r.failed, status=r.status, fun=r.f,
                               jac=r.g, hess_inv=r.H, nfev=r.nfev, njev=r.ngev, nit=r.k)
    if m == _LBFGS:
        r = _minimize_lbfgs(lambda x: fun(x, *args), x0, **options)
        return OptimizeResults(x=r.x, success=r.converged & ~r.failed, status=r.status, fun=r.f,
                               jac=r.g, hess_inv=None, nfev=r.nfev, njev=r.ngev, nit=r.k)
    raise ValueError(f"Method {method} not recognized")


def _check_x0(x0):
    if not hasattr(x0, "shape"):
        raise AttributeError(f"minimize: x0 must be an array of shape (n,), got "
                             f"{type(x0).__name__} (at {core.user_site()})")
    x0 = xnp.asarray(x0)
    aval = get_aval(x0)
    if aval.ndim != 1:
        # (the classes JAX's run into: IndexError for a scalar, TypeError for an array of 2+ dims)
        err = IndexError if aval.ndim == 0 else TypeError
        raise err(f"minimize: x0 must be 1-D, of shape (n,), got shape {aval.shape} "
                  f"(at {core.user_site()})")
    if not dtypes.issubdtype(aval.dtype, np.inexact):
        raise TypeError(f"minimize: x0 must have a floating dtype to differentiate fun at it, got "
                        f"{aval.dtype} (at {core.user_site()})")
    return x0


# ----------------------------------------------------------------------------- helpers

def _dot(a, b):
    from xlafront.lax import Precision
    return xnp.dot(a, b, precision=Precision.HIGHEST)


def _pick(flag, new, old):
    """`new` where the scalar `flag` holds, else `old`, leaf by leaf (tuples of arrays)."""
    if isinstance(new, tuple):
        picked = [_pick(flag, n, o) for n, o in zip(new, old)]
        return type(new)(*picked) if hasattr(new, "_fields") else tuple(picked)
    return xnp.where(flag, new, old)


def _low_precision(dtype):
    return np.finfo(np.dtype(dtype)).bits < 64


def _cubic_minimizer(a, fa, fpa, b, fb, c, fc):
    """The minimizer of the cubic through (a, fa) with slope fpa at a, (b, fb) and (c, fc)
    (nan when it has none)."""
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    m = xnp.stack([xnp.stack([dc ** 2, -db ** 2]), xnp.stack([-dc ** 3, db ** 3])])
    rhs = xnp.stack([fb - fa - fpa * db, fc - fa - fpa * dc])
    coef = _dot(m, rhs) / denom
    A, B = coef[0], coef[1]
    return a + (-B + xnp.sqrt(B * B - 3. * A * fpa)) / (3. * A)


def _quadratic_minimizer(a, fa, fpa, b, fb):
    """The minimizer of the parabola through (a, fa) with slope fpa at a and (b, fb)."""
    db = b - a
    curv = (fb - fa - fpa * db) / (db * db)
    return a - fpa / (2. * curv)


# ----------------------------------------------------------------------------- line search

class _Point(NamedTuple):
    a: object      # step
    phi: object    # f(x + a p)
    dphi: object   # f'(x + a p) . p


class _Search(NamedTuple):
    """What a line search (or a zoom) returns."""
    done: object
    failed: object
    a: object
    phi: object
    dphi: object
    g: object
    nfev: object


def _zoom(phi_grad, wolfe1, wolfe2, lo, hi, g0, skip):
    """Algorithm 3.6: shrink [lo, hi] (lo: the end with the lower phi, satisfying the sufficient
    decrease) until a step satisfies the strong Wolfe conditions. Does nothing where `skip`."""
    from xlafront.lax import while_loop
    dt = get_aval(lo.a).dtype
    floor = 1e-5 if _low_precision(dt) else 1e-10

    def body(c):
        done, failed, j, lo, hi, rec_a, rec_phi, star, nfev = c
        width = hi.a - lo.a
        left, right = xnp.minimum(hi.a, lo.a), xnp.maximum(hi.a, lo.a)
        # the interval collapsed: give up after this step. As JAX's, the signed width: a bracket
        # with hi < lo (the slope at the trial step turned non-negative) counts as collapsed, so
        # that zoom always fails -- it is why JAX's BFGS stops with status 3 on Rosenbrock even
        # in float64 (|width| would converge there); kept, to take JAX's steps
        failed = failed | (width <= floor)
        cub = _cubic_minimizer(lo.a, lo.phi, lo.dphi, hi.a, hi.phi, rec_a, rec_phi)
        use_cub = (j > 0) & (cub > left + 0.2 * width) & (cub < right - 0.2 * width)
        quad = _quadratic_minimizer(lo.a, lo.phi, lo.dphi, hi.a, hi.phi)
        use_quad = ~use_cub & (quad > left + 0.1 * width) & (quad < right - 0.1 * width)
        a = xnp.where(use_cub, cub, xnp.where(use_quad, quad, (lo.a + hi.a) / 2.))
        phi, dphi, g = phi_grad(a)
        phi, dphi, g = phi.astype(lo.phi.dtype), dphi.astype(lo.dphi.dtype), g.astype(star[3].dtype)
        new = _Point(a, phi, dphi)
        # the new point becomes hi (too high), the answer (strong Wolfe), or lo (lower; the old
        # lo becomes hi when the slope at the new point points back past it)
        to_hi = wolfe1(a, phi) | (phi >= lo.phi)
        accept = wolfe2(dphi) & ~to_hi
        to_lo = ~to_hi & ~accept
        flip = to_lo & (dphi * (hi.a - lo.a) >= 0.)
        rec_a = xnp.where(to_hi | flip, hi.a, xnp.where(to_lo, lo.a, rec_a))
        rec_phi = xnp.where(to_hi | flip, hi.phi, xnp.where(to_lo, lo.phi, rec_phi))
        hi = _pick(to_hi, new, _pick(flip, lo, hi))
        lo = _pick(to_lo, new, lo)
        star = _pick(accept, (a, phi, dphi, g), star)
        j = j + 1
        return done | accept, failed | (j >= 30), j, lo, hi, rec_a, rec_phi, star, nfev + 1

    init = (xnp.asarray(False), xnp.asarray(False), 0, lo, hi, (lo.a + hi.a) / 2., (lo.phi + hi.phi) / 2.,
            (xnp.ones_like(lo.a), lo.phi, lo.dphi, g0), 0)
    done, failed, _, _, _, _, _, star, nfev = while_loop(
        lambda c: ~c[0] & ~skip & ~c[1], body, init)
    return _Search(done, failed, *star, nfev)


def _line_search(f, x, p, f0, f_prev, g0, maxiter, c1=1e-4, c2=0.9):
    """Algorithm 3.5: a step along the descent direction p satisfying the strong Wolfe
    conditions. Returns (failed, nfev, step, f, g, status): status 0 found, 1 zoom failed,
    3 maxiter reached."""
    from xlafront.api_autodiff import value_and_grad
    from xlafront.lax import while_loop

    dt = get_aval(p).dtype

    def phi_grad(t):
        v, g = value_and_grad(f)(x + xnp.asarray(t, dt) * p)
        return v, xnp.real(_dot(g, p)), g

    dphi0 = xnp.real(_dot(g0, p))
    if f_prev is None:
        first = 1.0
    else:
        # the first trial step: from the previous decrease (Nocedal & Wright eq. 3.60), at most 1
        first = 1.01 * 2 * (f0 - f_prev) / dphi0
        first = xnp.where(first > 1, 1.0, first)

    def wolfe1(a, phi):   # sufficient decrease violated
        return phi > f0 + c1 * a * dphi0

    def wolfe2(dphi):     # curvature condition holds
        return xnp.abs(dphi) <= -c2 * dphi0

    def body(c):
        done, failed, i, prev, star, nfev = c
        a = xnp.where(i == 1, first, prev.a * 2.)
        phi, dphi, g = phi_grad(a)
        cur = _Point(a, phi, dphi)
        bracket_lo = wolfe1(a, phi) | ((phi >= prev.phi) & (i > 1))   # [prev, cur] brackets
        accept = wolfe2(dphi) & ~bracket_lo
        bracket_hi = (dphi >= 0.) & ~bracket_lo & ~accept             # [cur, prev] brackets
        zoom = bracket_lo | bracket_hi
        z = _zoom(phi_grad, wolfe1, wolfe2, _pick(bracket_lo, prev, cur), _pick(bracket_lo, cur, prev),
                  g0, ~zoom)
        star = _pick(accept, (a, phi, dphi, g), _pick(zoom, (z.a, z.phi, z.dphi, z.g), star))
        return done | zoom | accept, failed | (zoom & z.failed), i + 1, cur, star, nfev + 1 + z.nfev

    start = _Point(xnp.zeros((), dt), f0, dphi0)
    init = (xnp.asarray(False), xnp.asarray(False), 1, start, (start.a, f0, dphi0, g0), 0)
    done, failed, i, _, (a, phi, _, g), nfev = while_loop(
        lambda c: ~c[0] & (c[2] <= maxiter) & ~c[1], body, init)
    status = xnp.where(failed, 1, xnp.where(i > maxiter, 3, 0))
    if _low_precision(get_aval(a).dtype):
        # a step too small to move x in float32 stalls the search: keep it at least 1e-8
        a = xnp.where(xnp.abs(a) < 1e-8, xnp.sign(a) * 1e-8, a)
    return failed | ~done, nfev, a, phi, g, status


# ----------------------------------------------------------------------------- BFGS

class _BFGSState(NamedTuple):
    converged: object
    failed: object
    k: object
    nfev: object
    ngev: object
    x: object
    f: object
    g: object
    H: object
    f_prev: object
    status: object


def _minimize_bfgs(fun, x0, maxiter=None, norm=np.inf, gtol=1e-5, line_search_maxiter=10):
    from xlafront.api_autodiff import value_and_grad
    from xlafront.lax import while_loop

    if maxiter is None:
        maxiter = int(np.size(x0)) * 200
    n = get_aval(x0).shape[0]
    eye = xnp.eye(n, dtype=get_aval(x0).dtype)
    f0, g0 = value_and_grad(fun)(x0)
    state = _BFGSState(converged=xnp.linalg.norm(g0, ord=norm) < gtol, failed=xnp.asarray(False),
                       k=0, nfev=1, ngev=1, x=x0, f=f0, g=g0, H=eye,
                       f_prev=f0 + xnp.linalg.norm(g0) / 2, status=0)

    def body(s):
        p = -_dot(s.H, s.g)
        failed, nfev, a, f1, g1, ls_status = _line_search(fun, s.x, p, s.f, s.f_prev, s.g,
                                                          line_search_maxiter)
        step = a * p
        dg = g1 - s.g
        rho = 1. / _dot(dg, step)
        # H+ = (I - rho s y^T) H (I - rho y s^T) + rho s s^T (kept when rho is not finite)
        w = eye - rho * (step[:, None] * dg[None, :])
        H = _dot(_dot(w, s.H), w.T) + rho * step[:, None] * step[None, :]
        H = xnp.where(xnp.isfinite(rho), H, s.H)
        return _BFGSState(converged=xnp.linalg.norm(g1, ord=norm) < gtol, failed=failed, k=s.k + 1,
                          nfev=s.nfev + nfev, ngev=s.ngev + nfev, x=s.x + step, f=f1, g=g1, H=H,
                          f_prev=s.f, status=ls_status)

    s = while_loop(lambda s: ~s.converged & ~s.failed & (s.k < maxiter), body, state)
    status = xnp.where(s.converged, 0,
                       xnp.where(s.k == maxiter, 1, xnp.where(s.failed, 2 + s.status, -1)))
    return s._replace(status=status)


# ----------------------------------------------------------------------------- L-BFGS

class _LBFGSState(NamedTuple):
    converged: object
    failed: object
    k: object
    nfev: object
    ngev: object
    x: object
    f: object
    g: object
    S: object       # the last maxcor steps s_i, oldest first (zero rows before the history fills)
    Y: object       # the gradient changes y_i
    rho: object     # 1 / (y_i . s_i)
    gamma: object   # the initial inverse Hessian scale (s . y) / (y . y) of the last step
    status: object


def _lbfgs_direction(st, maxcor):
    """-H g by the two-loop recursion (Nocedal & Wright Algorithm 7.4) over the stored pairs."""
    from xlafront.lax import fori_loop
    used = xnp.minimum(st.k, maxcor)
    dt = st.rho.dtype

    def newest_first(j, c):
        q, alpha = c
        i = maxcor - 1 - j
        a = st.rho[i] * xnp.real(_dot(xnp.conj(st.S[i]), q)).astype(dt)
        return q - a * xnp.conj(st.Y[i]), alpha.at[i].set(a)

    q, alpha = fori_loop(0, used, newest_first, (-xnp.conj(st.g), xnp.zeros_like(st.rho)))
    q = st.gamma * q

    def oldest_first(j, q):
        i = maxcor - used + j
        b = st.rho[i] * xnp.real(_dot(st.Y[i], q)).astype(dt)
        return q + (alpha[i] - b) * st.S[i]

    return fori_loop(0, used, oldest_first, q)


def _push(history, new):
    return xnp.concatenate([history[1:], new[None]], axis=0)


def _minimize_lbfgs(fun, x0, maxiter=None, norm=np.inf, maxcor=10, ftol=2.220446049250313e-09,
                    gtol=1e-5, maxfun=None, maxgrad=None, maxls=20):
    """L-BFGS (Nocedal & Wright Algorithm 7.5) as JAX's experimental method: the same line
    search (first trial step 1), status 0 converged, 1 maxiter, 2 maxfun, 3 maxgrad, 4 the
    decrease fell below ftol, 5 the line search failed."""
    from xlafront.api_autodiff import value_and_grad
    from xlafront.lax import while_loop

    n = get_aval(x0).shape[0]
    dt = get_aval(x0).dtype
    if maxiter is None and maxfun is None and maxgrad is None:
        maxiter = n * 200
    maxiter, maxfun, maxgrad = (np.inf if v is None else v for v in (maxiter, maxfun, maxgrad))
    f0, g0 = value_and_grad(fun)(x0)
    state = _LBFGSState(converged=xnp.asarray(False), failed=xnp.asarray(False), k=0, nfev=1, ngev=1,
                        x=x0, f=f0, g=g0, S=xnp.zeros((maxcor, n), dt), Y=xnp.zeros((maxcor, n), dt),
                        rho=xnp.zeros((maxcor,), dt), gamma=1., status=0)

    def body(st):
        p = _lbfgs_direction(st, maxcor)
        ls_failed, nfev, a, f1, g1, _ = _line_search(fun, st.x, p, st.f, None, st.g, maxls)
        step = xnp.asarray(a).astype(p.dtype) * p
        dg = g1 - st.g
        sy = xnp.real(_dot(dg, step))
        # the first reason that applies, in this order: ls failed, maxiter, maxfun, maxgrad, ftol
        status = xnp.where(ls_failed, 5, xnp.where(st.k >= maxiter, 1, xnp.where(
            st.nfev >= maxfun, 2, xnp.where(st.ngev >= maxgrad, 3, xnp.where(st.f - f1 < ftol, 4, 0)))))
        converged = xnp.linalg.norm(g1, ord=norm) < gtol
        return _LBFGSState(
            converged=converged, failed=(status > 0) & ~converged, k=st.k + 1,
            nfev=st.nfev + nfev, ngev=st.ngev + nfev, x=(st.x + step).astype(st.x.dtype),
            f=f1.astype(st.f.dtype), g=g1.astype(st.g.dtype), S=_push(st.S, step), Y=_push(st.Y, dg),
            rho=_push(st.rho, (1. / sy).astype(dg.dtype)),
            gamma=(sy / xnp.real(_dot(xnp.conj(dg), dg))).astype(st.g.dtype),
            status=xnp.where(converged, 0, status))

    return while_loop(lambda st: ~st.converged & ~st.failed, body, state)
