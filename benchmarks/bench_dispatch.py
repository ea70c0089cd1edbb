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
    return Row("jit call, one small array", j, x, 1.0, _floor_note(xfj, (xa,), j))


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
    return Row("jit call, 100-leaf dict in and out", j, x, 0.5, _floor_note(xfj, (xd,), j))


def bench_eager_sin():
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jnp.sin(ja)), np.asarray(xnp.sin(xa)), rtol=1e-6)
    j, x = compare(lambda: jnp.sin(ja), lambda: xnp.sin(xa))
    return Row("eager sin, 3-vector", j, x, 1.0)


def _floor_note(jitted, args, jax_us):
    """What jaxlib itself costs for this executable: `execute_sharded` alone, and with the
    C++ result handlers making the output arrays (no Python wrapper) -- the floor any
    Python front end on jaxlib pays, and JAX too."""
    from _harness import best_us
    leaves = xf.tree_util.tree_leaves(args)
    entry = next(iter(jitted._cache.values()))     # the one signature compiled
    exe = entry.program.exe
    bufs = [a._buf for a in leaves]
    from xlafront.lowering import runtime
    raw = runtime.output_handlers(entry.program.out_avals)
    ex = best_us(lambda: exe._execute(bufs))
    ex_out = best_us(lambda: exe._execute(bufs).consume_with_handlers(raw))
    return (f"jaxlib floor: execute_sharded {ex:.1f} µs ({ex / jax_us:.2f}x JAX), + output arrays "
            f"{ex_out:.1f} µs ({ex_out / jax_us:.2f}x JAX)")


def run():
    return [bench_jit_small(), bench_jit_dict100(), bench_eager_sin()]


if __name__ == "__main__":
    main(run)
