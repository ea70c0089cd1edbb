"""PRNG throughput: 1e7 standard normal float32 draws in a jitted function (threefry-2x32
bits, mantissa-to-float, erf_inv), xlafront against jax.random in one process. The key is an
argument so nothing is constant-folded; both results are checked bit-identical first."""
from __future__ import annotations

import _harness  # noqa: F401
from _harness import Row, compare, main

import numpy as np
import jax
from jax import random as jr

import xlafront as xf
from xlafront import random as xr

N = 10_000_000


def bench_normal():
    jf = jax.jit(lambda k: jr.normal(k, (N,)))
    xfj = xf.jit(lambda k: xr.normal(k, (N,)))
    jk, xk = jr.PRNGKey(0), xr.PRNGKey(0)
    assert np.asarray(xfj(xk)).tobytes() == np.asarray(jf(jk)).tobytes()
    j, x = compare(lambda: jf(jk).block_until_ready(), lambda: xfj(xk).block_until_ready(),
                   repeat=9, min_time=0.3)
    return Row("jitted random.normal, 1e7 float32", j, x, 1.05)


def bench_uniform_bits():
    jf = jax.jit(lambda k: jr.bits(k, (N,)))
    xfj = xf.jit(lambda k: xr.bits(k, (N,)))
    jk, xk = jr.PRNGKey(0), xr.PRNGKey(0)
    assert np.asarray(xfj(xk)).tobytes() == np.asarray(jf(jk)).tobytes()
    j, x = compare(lambda: jf(jk).block_until_ready(), lambda: xfj(xk).block_until_ready(),
                   repeat=9, min_time=0.3)
    return Row("jitted random.bits, 1e7 uint32", j, x, 1.05)


def run():
    return [bench_normal(), bench_uniform_bits()]


if __name__ == "__main__":
    main(run)
