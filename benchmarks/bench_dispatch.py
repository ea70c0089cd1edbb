"""Call overhead: steady-state jit call, jit of a 100-leaf dict, eager `sin` on a 3-vector."""
from __future__ import annotations

import _harness  # noqa: F401  (sets sys.path)
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp


def bench_jit_small():
    def f(x):
        return x * 2.0 + 1.0

    jf, xfj = jax.jit(f), xf.jit(f)
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jf(ja)), np.asarray(xfj(xa)))
    j, x = compare(lambda: jf(ja), lambda: xfj(xa))
    return Row("jit call, one small array", j, x, 1.0)


def bench_jit_dict100():
    def f(d):
        return {k: v * 2.0 for k, v in d.items()}

    host = {f"p{i:03d}": np.full((4,), i, np.float32) for i in range(100)}
    jd = {k: jnp.asarray(v) for k, v in host.items()}
    xd = {k: xnp.asarray(v) for k, v in host.items()}
    jf, xfj = jax.jit(f), xf.jit(f)
    ro, xo = jf(jd), xfj(xd)
    assert all(np.array_equal(np.asarray(ro[k]), np.asarray(xo[k])) for k in host)
    j, x = compare(lambda: jf(jd), lambda: xfj(xd))
    return Row("jit call, 100-leaf dict in and out", j, x, 0.5)


def bench_eager_sin():
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jnp.sin(ja)), np.asarray(xnp.sin(xa)), rtol=1e-6)
    j, x = compare(lambda: jnp.sin(ja), lambda: xnp.sin(xa))
    return Row("eager sin, 3-vector", j, x, 1.0)


def run():
    return [bench_jit_small(), bench_jit_dict100(), bench_eager_sin()]


if __name__ == "__main__":
    main(run)
