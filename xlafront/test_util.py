"""`jax.test_util`: `check_grads`, `check_jvp`, `check_vjp` (numerical checks of derivatives).

- `check_jvp(f, f_jvp, args)`: the jvp at `args` along a random tangent against central
  differences `(f(x + eps t) - f(x - eps t)) / 2 eps`;
- `check_vjp(f, f_vjp, args)`: the vjp of a random cotangent `c` against central differences
  through the adjoint identity `<c, J t> = <vjp(c), t>`, and the vjp's primal output against `f`;
- `check_grads(f, args, order, modes=("fwd", "rev"))`: both, to the given order (each order
  checks the derivative of the previous one).

Tolerances default to JAX's per-dtype gradient tolerances (float32: 2e-3, float64: 1e-5,
...) and `eps` to 1e-4; a failure raises AssertionError with the values that differ.
"""
from __future__ import annotations

import functools

import numpy as np

from xlafront import _missing, dtypes, tree_util

__all__ = ["check_grads", "check_jvp", "check_vjp"]

EPS = 1e-4
_TOL = {dtypes.bfloat16: 1e-1, dtypes.float16: 1e-2, dtypes.float32: 2e-3, dtypes.float64: 1e-5,
        dtypes.complex64: 1e-3, dtypes.complex128: 1e-5}


def _tol(tol, *trees):
    if tol is not None:
        return tol
    dts = [np.asarray(x).dtype for t in trees for x in tree_util.tree_leaves(t)]
    return max((_TOL.get(np.dtype(d), 0.1 if dtypes.is_float(np.dtype(d)) else 0.0) for d in dts), default=0.0)


def _rng():
    return np.random.RandomState(0)


def _rand_like(rng, x):
    a = np.asarray(x)
    if dtypes.is_complex(a.dtype):
        v = rng.randn(*a.shape) + 1j * rng.randn(*a.shape)
    else:
        v = rng.randn(*a.shape)
    return np.asarray(v, dtype=a.dtype)


def _add(xs, ts, s):
    import xlafront.numpy as xnp
    return tree_util.tree_map(lambda x, t: xnp.asarray(x) + s * xnp.asarray(t, dtype=xnp.asarray(x).dtype), xs, ts)


def _sub_scale(a, b, s):
    return tree_util.tree_map(lambda u, v: (np.asarray(u) - np.asarray(v)) * s, a, b)


def _inner(a, b):
    return sum(np.vdot(np.asarray(u, np.complex128), np.asarray(v, np.complex128))
               for u, v in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b)))


def _assert_close(x, y, atol, rtol, err_msg):
    for u, v in zip(tree_util.tree_leaves(x), tree_util.tree_leaves(y)):
        u, v = np.asarray(u), np.asarray(v)
        dt = np.promote_types(u.dtype, v.dtype)
        np.testing.assert_allclose(u.astype(dt), v.astype(dt), atol=atol, rtol=rtol, err_msg=err_msg)


def check_jvp(f, f_jvp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
    """Assert that `f_jvp(args, tangents)` matches central differences of `f`."""
    rng = _rng()
    tangent = tree_util.tree_map(lambda x: _rand_like(rng, x), args)
    v_out, t_out = f_jvp(args, tangent)
    v_expected = f(*args)
    atol, rtol = _tol(atol, v_out, t_out), _tol(rtol, v_out, t_out)
    _assert_close(v_out, v_expected, atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    f_pos, f_neg = f(*_add(args, tangent, eps)), f(*_add(args, tangent, -eps))
    t_expected = _sub_scale(f_pos, f_neg, 0.5 / eps)
    _assert_close(t_out, t_expected, atol, rtol, f"{err_msg} tangent" if err_msg else "tangent")


def check_vjp(f, f_vjp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
    """Assert that `f_vjp(*args)` gives `f`'s value and a vjp adjoint to `f`'s numerical jvp."""
    rng = _rng()
    v_out, vjpfun = f_vjp(*args)
    v_expected = f(*args)
    atol, rtol = _tol(atol, v_out), _tol(rtol, v_out)
    _assert_close(v_out, v_expected, atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    tangent = tree_util.tree_map(lambda x: _rand_like(rng, x), args)
    t_out = _sub_scale(f(*_add(args, tangent, eps)), f(*_add(args, tangent, -eps)), 0.5 / eps)
    ct = tree_util.tree_map(lambda x: _rand_like(rng, x), v_out)
    ct_in = vjpfun(ct)
    ip = _inner(t_out, ct)
    ip_expected = _inner(tangent, ct_in)
    _assert_close(np.real(ip), np.real(ip_expected), atol, rtol, f"{err_msg} vjp" if err_msg else "vjp")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """Check `f`'s derivatives at `args` numerically, in forward and/or reverse mode, to
    `order` (an order-2 check checks the derivatives of the jvp and of the vjp)."""
    from xlafront.api_autodiff import jvp, vjp
    args = tuple(args)
    eps = eps or EPS
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"Unrecognized mode: {m}")

    def _check(f, args, order):
        if "fwd" in modes:
            check_jvp(f, functools.partial(jvp, f), args, atol, rtol, eps, err_msg="JVP")
            if order > 1:
                _check(lambda *a: jvp(f, a, tuple(_const_tangent(a)))[1], args, order - 1)
        if "rev" in modes:
            check_vjp(f, functools.partial(vjp, f), args, atol, rtol, eps, err_msg="VJP")
            if order > 1:
                def f_vjp(*a):
                    out, vf = vjp(f, *a)
                    ct = tree_util.tree_map(lambda x: np.asarray(_rand_like(np.random.RandomState(1), x)), out)
                    return vf(ct)
                _check(f_vjp, args, order - 1)

    def _const_tangent(a):
        return tree_util.tree_map(lambda x: _rand_like(np.random.RandomState(2), x), a)

    _check(f, args, order)


__getattr__ = _missing.module_getattr(__name__)
