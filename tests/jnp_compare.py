"""Shared checks for numpy-layer tests: f(module, *args) under xlafront.numpy and
jax.numpy agree in value, shape, dtype and weak type (eagerly, or both under jit);
gradients against JAX and finite differences; vmap against a loop; errors like JAX's."""
import os
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp


def mats(dt, *shape, seed=0):
    """A random float or complex array of `shape` and dtype `dt` (seeded)."""
    r = np.random.RandomState(seed)
    x = r.randn(*shape)
    if np.issubdtype(dt, np.complexfloating):
        x = x + 1j * r.randn(*shape)
    return x.astype(dt)


def leaves(x):
    if isinstance(x, (list, tuple)):
        return [l for e in x for l in leaves(e)]
    return [x]


def check_like_jnp(f, *args, rtol=1e-5, atol=1e-6, jit=False, exact=False):
    """Run f with xnp and with jnp and compare; returns the xlafront result."""
    jargs = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    expected = jax.jit(lambda *a: f(jnp, *a))(*jargs) if jit else f(jnp, *jargs)
    got = xf.jit(lambda *a: f(xnp, *a))(*args) if jit else f(xnp, *args)
    ge, gg = leaves(expected), leaves(got)
    assert len(ge) == len(gg)
    for e, g in zip(ge, gg):
        assert tuple(g.shape) == tuple(e.shape), (g.shape, e.shape)
        assert np.dtype(g.dtype) == np.dtype(e.dtype), (g.dtype, e.dtype)
        assert bool(g.weak_type) == bool(e.weak_type), ("weak_type", g.weak_type, e.weak_type)
        ev, gv = np.asarray(e), np.asarray(g)
        if not exact and np.issubdtype(ev.dtype, np.inexact):
            np.testing.assert_allclose(gv, ev, rtol=rtol, atol=atol, equal_nan=True)
        else:
            np.testing.assert_array_equal(gv, ev)
    return got


def _compare(got, expected, rtol, atol):
    ge, gg = leaves(expected), leaves(got)
    assert len(ge) == len(gg), (len(ge), len(gg))
    for e, g in zip(ge, gg):
        assert tuple(g.shape) == tuple(e.shape), (g.shape, e.shape)
        assert np.dtype(g.dtype) == np.dtype(e.dtype), (g.dtype, e.dtype)
        assert bool(g.weak_type) == bool(e.weak_type), ("weak_type", g.weak_type, e.weak_type)
        ev, gv = np.asarray(e), np.asarray(g)
        if np.issubdtype(ev.dtype, np.inexact):
            np.testing.assert_allclose(gv, ev, rtol=rtol, atol=atol, equal_nan=True)
        else:
            np.testing.assert_array_equal(gv, ev)


def check(f, *args, eager=True, jit=True, jax_eager=False, rtol=1e-6, atol=1e-6):
    """f(xnp, *args) eagerly and under xf.jit against f(jnp, *args) (under jax.jit unless
    jax_eager: the same values, dtypes and weak types, and one JAX compile)."""
    jargs = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    expected = f(jnp, *jargs) if jax_eager else jax.jit(lambda *a: f(jnp, *a))(*jargs)
    if eager:
        _compare(f(xnp, *args), expected, rtol, atol)
    if jit:
        _compare(xf.jit(lambda *a: f(xnp, *a))(*args), expected, rtol, atol)


def raises_like_jax(f, *args, xf_exc, jax_exc):
    """The same class of error as JAX's, naming the line of the test file that called."""
    here = re.escape(os.path.basename(sys._getframe(1).f_code.co_filename)) + r":\d+"
    with pytest.raises(jax_exc):
        f(jnp, *args)
    with pytest.raises(xf_exc, match=here):
        f(xnp, *args)


def grads_like_jax(f, *args, argnums=0, rtol=1e-5, jit=True, eager=True):
    """xf.grad (eagerly and/or under jit) against jax.grad of a scalar f(module, *args)."""
    expected = (jax.jit if jit else (lambda g: g))(jax.grad(lambda *a: f(jnp, *a), argnums=argnums))(*args)
    grad = xf.grad(lambda *a: f(xnp, *a), argnums=argnums)
    for g in [grad] * eager + [xf.jit(grad)] * jit:
        for e, x in zip(leaves(expected), leaves(g(*args))):
            np.testing.assert_allclose(np.asarray(x), np.asarray(e), rtol=rtol, atol=1e-6)


def grad_fd(f, x, eps=1e-6):
    """xf.grad of the scalar f against central differences in float64 (x64 fixture on)."""
    x = np.asarray(x, np.float64)
    g = np.asarray(xf.grad(f)(x))
    f = xf.jit(f)
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        num[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def vmap_like_loop(f, *args, in_axes=0):
    """xf.vmap(f) against stacking f over the mapped axis in a Python loop."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    got = xf.vmap(f, in_axes=in_axes)(*args)
    f = xf.jit(f)
    rows = [f(*(a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes))) for i in range(n)]
    for k, g in enumerate(leaves(got)):
        want = np.stack([np.asarray(leaves(r)[k]) for r in rows])
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6, atol=1e-6)
