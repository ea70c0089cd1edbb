"""Shared check for numpy-layer tests: f(module, *args) under xlafront.numpy and
jax.numpy agree in value, shape, dtype and weak type (eagerly, or both under jit)."""
import jax
import jax.numpy as jnp
import numpy as np

import xlafront as xf
import xlafront.numpy as xnp


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
