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
from jax_ref import jax_side


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


def plain(x):
    """Named tuples (eigh's, unique_all's...) as plain tuples, which jax_side can record."""
    if isinstance(x, (list, tuple)):
        return type(x)(plain(e) for e in x) if type(x) in (list, tuple) else tuple(plain(e) for e in x)
    return x


def _jnp_side(f, args, jit):
    """f(jnp, *args) (numpy arrays as JAX arrays; under jax.jit if jit), recorded by jax_side."""
    def run(*args):
        jargs = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        return plain(jax.jit(lambda *a: f(jnp, *a))(*jargs) if jit else f(jnp, *jargs))
    return jax_side(run, *args)


def check_like_jnp(f, *args, rtol=1e-5, atol=1e-6, jit=False, exact=False):
    """Run f with xnp and with jnp and compare; returns the xlafront result."""
    expected = _jnp_side(f, args, jit)
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
    expected = _jnp_side(f, args, not jax_eager)
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
    expected = jax_side(lambda *a: (jax.jit if jit else (lambda g: g))(
        jax.grad(lambda *b: f(jnp, *b), argnums=argnums))(*a), *args)
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


# JAX's side of transform checks, recorded by jax_side (f is a JAX function of one argument,
# e.g. make(jnp); each is jitted: one compile per function)
def jax_jvp(f, x, t):
    """jax.jvp(f, (x,), (t,)) under jax.jit."""
    return jax_side(lambda x, t: jax.jit(lambda x, t: jax.jvp(f, (x,), (t,)))(x, t), x, t)


def jax_vjp(f, x, ct):
    """The vjp of f at x applied to ct, under jax.jit."""
    return jax_side(lambda x, ct: jax.jit(lambda x, ct: jax.vjp(f, x)[1](ct)[0])(x, ct), x, ct)


def jax_fd_jvp(f, x, t, eps=1e-6):
    """Central differences of jax.jit(f) at x along t (a numpy array)."""
    def fd(x, t):
        jf = jax.jit(f)
        return (np.asarray(jf(x + eps * t)) - np.asarray(jf(x - eps * t))) / (2 * eps)
    return jax_side(fd, x, t)


def jax_vmap(f, *args, in_axes=0):
    """jax.vmap(f, in_axes)(*args)."""
    return jax_side(lambda *a: jax.vmap(f, in_axes)(*a), *args)
