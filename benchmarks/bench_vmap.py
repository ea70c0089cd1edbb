"""vmap against JAX: the logistic map of seeds/003 (a jitted, unrolled iteration vmapped
over 600 parameters: compiled run and trace time) and a Gram matrix of 1000 points by
nested vmap (compiled run)."""
from __future__ import annotations

import _harness  # noqa: F401
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp

STEPS = 200  # 2 x STEPS unrolled steps, the last STEPS values returned


def make_iterfun(np_mod):
    def iterfun(start, a):
        result = []
        for _ in range(STEPS):
            start = a * start - a * start**2
        for _ in range(STEPS):
            start = a * start - a * start**2
            result.append(start)
        return np_mod.stack(result)
    return iterfun


def _logistic():
    a = np.linspace(3.4, 4.0, 600, dtype=np.float32)
    ja, xa = jax.device_put(a), xf.device_put(a)
    jit_j, jit_x = jax.jit(make_iterfun(jnp)), xf.jit(make_iterfun(xnp))
    vj = jax.vmap(lambda p: jit_j(0.5, p))
    vx = xf.vmap(lambda p: jit_x(0.5, p))
    np.testing.assert_allclose(np.asarray(vx(xa)), np.asarray(vj(ja)), rtol=1e-4, atol=1e-4)
    return a, ja, xa, vj, vx


def bench_logistic_run():
    a, ja, xa, vj, vx = _logistic()
    j, x = compare(lambda: vj(ja).block_until_ready(), lambda: vx(xa).block_until_ready(),
                   repeat=15, min_time=0.1)
    return Row(f"vmap(jit) logistic map, 600 x {2 * STEPS} steps: run", j, x, 1.05)


def bench_logistic_trace():
    """Tracing the vmapped function from scratch: the jitted function is traced and its
    graph batched every time (a fresh function, so no trace cache helps either library)."""
    a = np.linspace(3.4, 4.0, 600, dtype=np.float32)

    def trace_jax():
        g = jax.jit(make_iterfun(jnp))  # a new function: JAX caches traces per function
        return jax.make_jaxpr(jax.vmap(lambda p: g(0.5, p)))(a)

    def trace_xf():
        g = xf.jit(make_iterfun(xnp))
        return xf.make_jaxpr(xf.vmap(lambda p: g(0.5, p)))(a)

    j, x = compare(trace_jax, trace_xf, repeat=5, min_time=0.2)
    return Row(f"vmap(jit) logistic map, 600 x {2 * STEPS} steps: trace", j, x, 1.0)


def make_gram(np_mod, vmap):
    def k(x, y):
        return np_mod.exp(-np_mod.sum((x - y) ** 2))
    return vmap(vmap(k, (0, None)), (None, 0))


def bench_gram():
    pts = np.random.default_rng(0).standard_normal((1000, 3)).astype(np.float32)
    jp, xp = jax.device_put(pts), xf.device_put(pts)
    gj, gx = jax.jit(make_gram(jnp, jax.vmap)), xf.jit(make_gram(xnp, xf.vmap))
    np.testing.assert_allclose(np.asarray(gx(xp, xp)), np.asarray(gj(jp, jp)), rtol=1e-5, atol=1e-6)
    j, x = compare(lambda: gj(jp, jp).block_until_ready(), lambda: gx(xp, xp).block_until_ready(),
                   repeat=15, min_time=0.2)
    return Row("Gram matrix, 1000 points, nested vmap: run", j, x, 1.05)


def run():
    return [bench_logistic_run(), bench_logistic_trace(), bench_gram()]


if __name__ == "__main__":
    main(run)
