"""Compiled run time (dispatch is negligible here): a 1e6-element elementwise function and
a 1024x1024 float32 matmul. Both libraries hand XLA a program; this checks ours is as good."""
from __future__ import annotations

import _harness  # noqa: F401
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp


def make_selu(np_mod):
    def selu(x, alpha=1.67, lmbda=1.05):
        return lmbda * np_mod.where(x > 0, x, alpha * np_mod.exp(x) - alpha)
    return selu


def bench_elementwise():
    host = np.linspace(-3, 3, 1_000_000, dtype=np.float32)
    jx, xx = jnp.asarray(host), xnp.asarray(host)
    jf, xfj = jax.jit(make_selu(jnp)), xf.jit(make_selu(xnp))
    np.testing.assert_allclose(np.asarray(xfj(xx)), np.asarray(jf(jx)), rtol=1e-5, atol=1e-6)
    j, x = compare(lambda: jf(jx).block_until_ready(), lambda: xfj(xx).block_until_ready(),
                   repeat=15, min_time=0.1)
    return Row("compiled selu, 1e6 float32", j, x, 1.05)


def bench_matmul():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    ja, jb, xa, xb = jnp.asarray(a), jnp.asarray(b), xnp.asarray(a), xnp.asarray(b)

    def mm(x, y):
        return x @ y

    jf, xfj = jax.jit(mm), xf.jit(mm)
    np.testing.assert_allclose(np.asarray(xfj(xa, xb)), np.asarray(jf(ja, jb)), rtol=1e-4, atol=1e-3)
    j, x = compare(lambda: jf(ja, jb).block_until_ready(), lambda: xfj(xa, xb).block_until_ready(),
                   repeat=15, min_time=0.2)
    return Row("compiled matmul, 1024x1024 float32", j, x, 1.05)


def run():
    return [bench_elementwise(), bench_matmul()]


if __name__ == "__main__":
    main(run)
