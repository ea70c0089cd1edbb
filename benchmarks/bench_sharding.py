"""Sharded programs on 8 host devices, JAX and xlafront in one process (issue 14):

- a data-parallel MLP train step (784-512-512-10, batch 1024 split over 8 devices):
  run time (target <= 1.05x JAX) and first-call compile time (target <= 1.0x JAX);
- a tensor-parallel MLP layer on a 4 (data) x 2 (model) mesh: run time (<= 1.05x JAX);
- a ring all-reduce written with `ppermute` in a shard_map (<= 1.05x JAX);
- scaling: the data-parallel step on 1, 2, 4 and 8 of the host devices (`--scaling`).

Both meshes use Auto axes (XLA's propagation picks the intermediate layouts, as in JAX).
On this machine the 8 host devices share 2 cores: the figures compare the two front ends
on the same partitioned work, not a speedup."""
from __future__ import annotations

import time

import _harness  # noqa: F401  (sets sys.path)
from _harness import Row, compare_runs, main

import numpy as np
import jax

jax.config.update("jax_num_cpu_devices", 8)
import jax.numpy as jnp  # noqa: E402
from jax.sharding import NamedSharding as JN, PartitionSpec as JP, AxisType as JT  # noqa: E402

import xlafront as xf  # noqa: E402

xf.config.update("jax_num_cpu_devices", 8)
import xlafront.numpy as xnp  # noqa: E402
from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP, AxisType as XT  # noqa: E402

RUNS = 3


def _params(rng, sizes):
    return [(rng.normal(size=(a, b)).astype(np.float32) / np.sqrt(a), np.zeros(b, np.float32))
            for a, b in zip(sizes[:-1], sizes[1:])]


def _step(lib, np_):
    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = np_.tanh(h)
        logp = h - np_.log(np_.sum(np_.exp(h), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))

    def step(params, x, y):
        g = lib.grad(loss)(params, x, y)
        return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, g)]
    return step


def _data_parallel():
    rng = np.random.default_rng(0)
    params = _params(rng, [784, 512, 512, 10])
    x = rng.normal(size=(1024, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 1024)]
    jm = jax.make_mesh((8,), ("batch",), axis_types=(JT.Auto,))
    xm = xf.make_mesh((8,), ("batch",), axis_types=(XT.Auto,))
    jrep, jbat = JN(jm, JP()), JN(jm, JP("batch"))
    xrep, xbat = XN(xm, XP()), XN(xm, XP("batch"))
    jargs = (jax.device_put(params, jrep), jax.device_put(x, jbat), jax.device_put(y, jbat))
    xargs = (xf.device_put(params, xrep), xf.device_put(x, xbat), xf.device_put(y, xbat))
    jstep, xstep = jax.jit(_step(jax, jnp)), xf.jit(_step(xf, xnp))

    t0 = time.perf_counter()
    jax.block_until_ready(jstep(*jargs))
    jc = time.perf_counter() - t0
    t0 = time.perf_counter()
    xf.block_until_ready(xstep(*xargs))
    xc = time.perf_counter() - t0
    # the values agree with JAX's
    for (a, b), (c, d) in zip(jstep(*jargs), xstep(*xargs)):
        np.testing.assert_allclose(np.asarray(c), np.asarray(a), rtol=1e-4, atol=1e-5)
    j, xr, spread = compare_runs(lambda: jax.block_until_ready(jstep(*jargs)),
                                 lambda: xf.block_until_ready(xstep(*xargs)), runs=RUNS, repeat=5)
    return [Row("data-parallel MLP step, 8 devices", j, xr, 1.05, spread=spread),
            Row("  its first call (trace+compile)", jc * 1e6, xc * 1e6, 1.0)]


def _tensor_parallel():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1024, 512)).astype(np.float32)
    w1 = rng.normal(size=(512, 1024)).astype(np.float32) / 20
    w2 = rng.normal(size=(1024, 512)).astype(np.float32) / 30
    jm = jax.make_mesh((4, 2), ("data", "model"), axis_types=(JT.Auto, JT.Auto))
    xm = xf.make_mesh((4, 2), ("data", "model"), axis_types=(XT.Auto, XT.Auto))

    def layer(np_):
        return lambda x, w1, w2: np_.tanh(x @ w1) @ w2
    jargs = (jax.device_put(x, JN(jm, JP("data"))), jax.device_put(w1, JN(jm, JP(None, "model"))),
             jax.device_put(w2, JN(jm, JP("model"))))
    xargs = (xf.device_put(x, XN(xm, XP("data"))), xf.device_put(w1, XN(xm, XP(None, "model"))),
             xf.device_put(w2, XN(xm, XP("model"))))
    jl, xl = jax.jit(layer(jnp)), xf.jit(layer(xnp))
    np.testing.assert_allclose(np.asarray(xl(*xargs)), np.asarray(jl(*jargs)), rtol=1e-4, atol=1e-4)
    j, xr, spread = compare_runs(lambda: jl(*jargs).block_until_ready(),
                                 lambda: xl(*xargs).block_until_ready(), runs=RUNS, repeat=5)
    return [Row("tensor-parallel MLP layer, 4x2 mesh", j, xr, 1.05, spread=spread)]


def _ring():
    n = 8
    x = np.random.default_rng(2).normal(size=(n * 4096,)).astype(np.float32)
    jm = jax.make_mesh((n,), ("i",), axis_types=(JT.Auto,))
    xm = xf.make_mesh((n,), ("i",), axis_types=(XT.Auto,))

    def ring(lib, P, mesh):
        lax = lib.lax
        perm = [(j, (j + 1) % n) for j in range(n)]

        def body(a):
            def step(_, carry):
                acc, msg = carry
                msg = lax.ppermute(msg, "i", perm)
                return acc + msg, msg
            acc, _ = lax.fori_loop(0, n - 1, step, (a, a))
            return acc
        return lib.jit(lib.shard_map(body, mesh=mesh, in_specs=P("i"), out_specs=P("i"), check_vma=False))
    jr, xr_ = ring(jax, JP, jm), ring(xf, XP, xm)
    jx, xx = jax.device_put(x, JN(jm, JP("i"))), xf.device_put(x, XN(xm, XP("i")))
    want = np.tile(x.reshape(n, -1).sum(0), n)
    np.testing.assert_allclose(np.asarray(xr_(xx)), want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(jr(jx)), want, rtol=1e-4, atol=1e-4)
    j, xr, spread = compare_runs(lambda: jr(jx).block_until_ready(),
                                 lambda: xr_(xx).block_until_ready(), runs=RUNS, repeat=5)
    # the floor from Python: JAX's own executable called through jaxlib's execute_sharded,
    # the call xlafront makes (JAX's C++ jit path does not go through it)
    jex = jr.lower(jx).compile()._executable.xla_executable
    fj, floor, fspread = compare_runs(lambda: jr(jx).block_until_ready(),
                                      lambda: jex.execute_sharded([jx]).disassemble_into_single_device_arrays()[0][0]
                                      .block_until_ready(), runs=RUNS, repeat=5)
    return [Row("ring all-reduce (ppermute), 8 devices", j, xr, 1.05, spread=spread,
                note=f"jaxlib floor (JAX's executable through execute_sharded) {floor / fj:.2f}x JAX "
                     f"({fspread[0]:.2f}-{fspread[1]:.2f})")]


def scaling():
    """The data-parallel step on the first k host devices, k = 1, 2, 4, 8 (a check that the
    work is split: the 8 host devices share this machine's cores)."""
    rng = np.random.default_rng(0)
    params = _params(rng, [784, 512, 512, 10])
    x = rng.normal(size=(1024, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 1024)]
    rows = []
    for k in (1, 2, 4, 8):
        jm = jax.sharding.Mesh(np.array(jax.devices()[:k]), ("batch",), axis_types=(JT.Auto,))
        xm = xf.sharding.Mesh(np.array(xf.devices()[:k], dtype=object), ("batch",), axis_types=(XT.Auto,))
        jargs = (jax.device_put(params, JN(jm, JP())), jax.device_put(x, JN(jm, JP("batch"))),
                 jax.device_put(y, JN(jm, JP("batch"))))
        xargs = (xf.device_put(params, XN(xm, XP())), xf.device_put(x, XN(xm, XP("batch"))),
                 xf.device_put(y, XN(xm, XP("batch"))))
        jstep, xstep = jax.jit(_step(jax, jnp)), xf.jit(_step(xf, xnp))
        j, xr, spread = compare_runs(lambda: jax.block_until_ready(jstep(*jargs)),
                                     lambda: xf.block_until_ready(xstep(*xargs)), runs=RUNS, repeat=5)
        rows.append(Row(f"data-parallel MLP step, {k} device(s)", j, xr, 1.05, spread=spread))
    return rows


def run():
    return _data_parallel() + _tensor_parallel() + _ring()


if __name__ == "__main__":
    import sys
    main(scaling if "--scaling" in sys.argv else run)
