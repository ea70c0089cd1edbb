"""Autodiff: eager grad call, MLP train step (run; trace+compile), reverse-mode memory of a
100-layer elementwise chain. JAX and xlafront in one process.

    python benchmarks/bench_autodiff.py [--markdown]
"""
from __future__ import annotations

import time

import _harness  # noqa: F401  (sets sys.path)
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp


def bench_eager_grad():
    def make(np_):
        return lambda x: np_.sum(np_.tanh(x) * x ** 2)
    x = np.linspace(-1, 1, 100).astype(np.float32)
    ja, xa = jnp.asarray(x), xnp.asarray(x)
    jf, xfn = make(jnp), make(xnp)
    np.testing.assert_allclose(np.asarray(jax.grad(jf)(ja)), np.asarray(xf.grad(xfn)(xa)), rtol=1e-5)
    j, x_ = compare(lambda: jax.grad(jf)(ja).block_until_ready(), lambda: xf.grad(xfn)(xa).block_until_ready())
    return Row("eager grad(f)(x), small f, repeated", j, x_, 0.5)


SIZES = [784, 512, 512, 10]


def _mlp_step(np_, grad):
    def loss(params, x, y):
        h = x
        for W, b in params[:-1]:
            h = np_.tanh(h @ W + b)
        W, b = params[-1]
        logits = h @ W + b
        m = np_.max(logits, axis=1, keepdims=True)
        lse = np_.log(np_.sum(np_.exp(logits - m), axis=1, keepdims=True)) + m
        return -np_.mean(np_.sum(y * (logits - lse), axis=1))

    def step(params, x, y):
        g = grad(loss)(params, x, y)
        return [(W - 0.01 * gW, b - 0.01 * gb) for (W, b), (gW, gb) in zip(params, g)]
    return step


def _mlp_data():
    rng = np.random.RandomState(0)
    params = [(rng.normal(size=(m, n)).astype(np.float32) * 0.05, np.zeros(n, np.float32))
              for m, n in zip(SIZES[:-1], SIZES[1:])]
    x = rng.normal(size=(128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, 128)]
    return params, x, y


def bench_mlp_run():
    params, x, y = _mlp_data()
    js, xs = jax.jit(_mlp_step(jnp, jax.grad)), xf.jit(_mlp_step(xnp, xf.grad))
    jp = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    xp = [(xnp.asarray(W), xnp.asarray(b)) for W, b in params]
    jx, jy, xx, xy = jnp.asarray(x), jnp.asarray(y), xnp.asarray(x), xnp.asarray(y)
    np.testing.assert_allclose(np.asarray(js(jp, jx, jy)[0][0]), np.asarray(xs(xp, xx, xy)[0][0]), rtol=1e-4, atol=1e-6)
    j, x_ = compare(lambda: js(jp, jx, jy)[0][0].block_until_ready(),
                    lambda: xs(xp, xx, xy)[0][0].block_until_ready(), repeat=5, min_time=0.1)
    return Row("MLP 784-512-512-10 b128 train step (jit grad+SGD), run", j, x_, 1.05)


def bench_mlp_compile(repeat=3):
    params, x, y = _mlp_data()
    tj = tx = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.jit(_mlp_step(jnp, jax.grad)).lower(params, x, y).compile()
        tj = min(tj, time.perf_counter() - t0)
        t0 = time.perf_counter()
        xf.jit(_mlp_step(xnp, xf.grad)).lower(params, x, y).compile()
        tx = min(tx, time.perf_counter() - t0)
    return Row("MLP train step, trace+lower+compile", tj * 1e6, tx * 1e6, 1.0)


def bench_chain_memory(layers=100, n=1 << 16):
    def make(np_):
        def f(x):
            for _ in range(layers):
                x = np_.sin(x) * 0.9 + 0.1
            return np_.sum(x)
        return f
    x = np.linspace(-1, 1, n).astype(np.float32)
    jc = jax.jit(jax.grad(make(jnp))).lower(x).compile()
    jm = jc.memory_analysis()
    xc = xf.jit(xf.grad(make(xnp))).lower(x).compile()
    xm = xc.program.exe.loaded.get_compiled_memory_stats()
    jb = jm.temp_size_in_bytes + jm.output_size_in_bytes
    xb = xm.temp_size_in_bytes + xm.output_size_in_bytes
    np.testing.assert_allclose(np.asarray(jax.grad(make(jnp))(x)), np.asarray(xf.grad(make(xnp))(x)), rtol=1e-4)
    return Row(f"reverse mode, {layers}-layer elementwise chain: peak buffers", jb / 1.024, xb / 1.024, 1.0,
               note=f"columns are KiB of temp+output buffers (JAX {jb >> 10} KiB, xlafront {xb >> 10} KiB), "
                    f"not time")


def run():
    return [bench_eager_grad(), bench_mlp_run(), bench_mlp_compile(), bench_chain_memory()]


if __name__ == "__main__":
    main(run)
