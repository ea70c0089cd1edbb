"""Trace + lower + compile of a 500-step unrolled elementwise loop (a fresh function
each time, so no cache of either library is hit)."""
from __future__ import annotations

import time

import _harness  # noqa: F401
from _harness import Row, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp

STEPS = 500


def make_loop(np_mod):
    def loop(x, y):
        for i in range(STEPS):
            if i % 3 == 0:
                x = x * 1.01 + 0.5
            elif i % 3 == 1:
                x = np_mod.sin(x) - y
            else:
                x = np_mod.maximum(x, y) * 0.5
        return x
    return loop


def _phases_jax(x, y):
    f = jax.jit(make_loop(jnp))
    t0 = time.perf_counter()
    traced = f.trace(x, y)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    lowered.compile()
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def _phases_xf(x, y):
    f = xf.jit(make_loop(xnp))
    t0 = time.perf_counter()
    lowered = f.lower(x, y)          # traces
    t1 = time.perf_counter()
    lowered.as_text()                # lowers to StableHLO text
    t2 = time.perf_counter()
    lowered.compile()
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def run(repeat=3):
    jx, jy = jnp.ones((8,), jnp.float32), jnp.full((8,), 0.25, jnp.float32)
    xx, xy = xnp.ones((8,), xnp.float32), xnp.full((8,), 0.25, xnp.float32)
    ref = jax.jit(make_loop(jnp))(jx, jy)
    got = xf.jit(make_loop(xnp))(xx, xy)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-4)
    runs_j, runs_x = [], []
    for _ in range(repeat):            # interleaved, best total of each
        runs_j.append(_phases_jax(jx, jy))
        runs_x.append(_phases_xf(xx, xy))
    pj, px = min(runs_j, key=sum), min(runs_x, key=sum)
    note = ("phases trace/lower/compile (ms): JAX " + "/".join(f"{p * 1e3:.1f}" for p in pj)
            + ", xlafront " + "/".join(f"{p * 1e3:.1f}" for p in px))
    return [Row(f"trace+lower+compile, {STEPS}-step loop", sum(pj) * 1e6, sum(px) * 1e6, 1.0, note)]


if __name__ == "__main__":
    main(run)
