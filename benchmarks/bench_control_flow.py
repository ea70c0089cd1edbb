"""Control flow against JAX: a 1000-step `scan` RNN cell (hidden 256), forward and grad,
jitted: compiled run, and trace+lower+compile."""
from __future__ import annotations

import time

import _harness  # noqa: F401
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp

STEPS, HIDDEN, INPUT = 1000, 256, 32


def make_loss(np_mod, lax):
    def loss(params, h0, xs):
        W, U, b = params

        def cell(h, x):
            h = np_mod.tanh(h @ W + x @ U + b)
            return h, np_mod.sum(h)

        h, ys = lax.scan(cell, h0, xs)
        return np_mod.sum(h) + 0.01 * np_mod.sum(ys)
    return loss


def _data():
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32)
    U = (rng.standard_normal((INPUT, HIDDEN)) / np.sqrt(INPUT)).astype(np.float32)
    b = np.zeros(HIDDEN, np.float32)
    h0 = np.zeros(HIDDEN, np.float32)
    xs = rng.standard_normal((STEPS, INPUT)).astype(np.float32)
    return (W, U, b), h0, xs


def _fns(kind):
    lj, lx = make_loss(jnp, jax.lax), make_loss(xnp, xf.lax)
    if kind == "grad":
        lj, lx = jax.value_and_grad(lj), xf.value_and_grad(lx)
    return lj, lx


def _bench_run(kind):
    params, h0, xs = _data()
    lj, lx = _fns(kind)
    fj, fx = jax.jit(lj), xf.jit(lx)
    aj = jax.device_put((params, h0, xs))
    ax = xf.device_put((params, h0, xs))
    rj, rx = fj(*aj), fx(*ax)
    for a, b in zip(jax.tree_util.tree_leaves(rj), xf.tree_util.tree_leaves(rx)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-3, atol=2e-3)
    j, x = compare(lambda: jax.block_until_ready(fj(*aj)), lambda: xf.block_until_ready(fx(*ax)),
                   repeat=7, min_time=0.2)
    return Row(f"scan RNN {STEPS} steps, hidden {HIDDEN}, {kind}: run", j, x, 1.05)


def _bench_compile(kind, repeat=3):
    params, h0, xs = _data()
    tj = tx = float("inf")
    for _ in range(repeat):
        lj, lx = _fns(kind)   # fresh functions: no trace cache helps either library
        t0 = time.perf_counter()
        jax.jit(lj).lower(params, h0, xs).compile()
        tj = min(tj, time.perf_counter() - t0)
        t0 = time.perf_counter()
        xf.jit(lx).lower(params, h0, xs).compile()
        tx = min(tx, time.perf_counter() - t0)
    return Row(f"scan RNN {STEPS} steps, {kind}: trace+lower+compile", tj * 1e6, tx * 1e6, 1.0)


def run():
    return [_bench_run("forward"), _bench_run("grad"), _bench_compile("forward"), _bench_compile("grad")]


if __name__ == "__main__":
    main(run)
