"""Linear algebra, compiled: a Cholesky solve of a 512x512 system and its gradient, and the
marginal likelihood of a Gaussian process (n=1000) with its gradient. Both libraries call
the same LAPACK kernels (jaxlib's FFI targets), so this checks the programs around them."""
from __future__ import annotations

import _harness  # noqa: F401
from _harness import Row, compare, main

import numpy as np
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.linalg as xsl


def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    return (a @ a.T / n + np.eye(n, dtype=np.float32)).astype(np.float32)


def make_cho_solve(np_mod, sl):
    def solve(a, b):
        return sl.cho_solve(sl.cho_factor(a, lower=True), b)

    def loss(a, b):
        return np_mod.sum(solve(a, b) ** 2)
    return solve, loss


def bench_cho_solve():
    n = 512
    a = _spd(n)
    b = np.random.default_rng(1).standard_normal((n, 4), dtype=np.float32)
    ja, jb, xa, xb = jnp.asarray(a), jnp.asarray(b), xnp.asarray(a), xnp.asarray(b)
    js, jl = make_cho_solve(jnp, jsl)
    xs, xl = make_cho_solve(xnp, xsl)
    jf, xfj = jax.jit(js), xf.jit(xs)
    np.testing.assert_allclose(np.asarray(xfj(xa, xb)), np.asarray(jf(ja, jb)), rtol=1e-4, atol=1e-4)
    j, x = compare(lambda: jf(ja, jb).block_until_ready(), lambda: xfj(xa, xb).block_until_ready(),
                   repeat=15, min_time=0.1)
    rows = [Row("cho_factor + cho_solve 512x512 float32, jit", j, x, 1.05)]
    jg, xg = jax.jit(jax.grad(jl, argnums=(0, 1))), xf.jit(xf.grad(xl, argnums=(0, 1)))
    for g, w in zip(xg(xa, xb), jg(ja, jb)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-3, atol=2e-3)
    j, x = compare(lambda: jax.block_until_ready(jg(ja, jb)), lambda: xf.block_until_ready(xg(xa, xb)),
                   repeat=15, min_time=0.1)
    rows.append(Row("grad of cho_solve 512x512 float32 (a and b), jit", j, x, 1.05))
    return rows


def make_gp_nll(np_mod, sl):
    def nll(params, x, y):
        log_ell, log_sig, log_noise = params[0], params[1], params[2]
        sq = np_mod.sum(x ** 2, axis=1)
        d2 = np_mod.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
        k = np_mod.exp(log_sig) * np_mod.exp(-0.5 * d2 / np_mod.exp(2.0 * log_ell))
        k = k + (np_mod.exp(log_noise) + 1e-4) * np_mod.eye(x.shape[0], dtype=x.dtype)
        l = sl.cholesky(k, lower=True)
        alpha = sl.cho_solve((l, True), y)
        n = x.shape[0]
        return (0.5 * np_mod.dot(y, alpha) + np_mod.sum(np_mod.log(np_mod.diagonal(l)))
                + 0.5 * n * np_mod.log(2 * np_mod.pi))
    return nll


def bench_gp():
    n, d = 1000, 3
    rng = np.random.default_rng(2)
    xs = rng.uniform(-2, 2, (n, d)).astype(np.float32)
    ys = (np.sin(xs.sum(1)) + 0.1 * rng.standard_normal(n)).astype(np.float32)
    params = np.array([0.0, 0.0, -2.0], np.float32)
    jf = jax.jit(jax.value_and_grad(make_gp_nll(jnp, jsl)))
    xfj = xf.jit(xf.value_and_grad(make_gp_nll(xnp, xsl)))
    jargs = [jnp.asarray(v) for v in (params, xs, ys)]
    xargs = [xnp.asarray(v) for v in (params, xs, ys)]
    (jv, jgr), (xv, xgr) = jf(*jargs), xfj(*xargs)
    np.testing.assert_allclose(float(xv), float(jv), rtol=1e-3)
    np.testing.assert_allclose(np.asarray(xgr), np.asarray(jgr), rtol=2e-2, atol=1e-2)
    j, x = compare(lambda: jax.block_until_ready(jf(*jargs)), lambda: xf.block_until_ready(xfj(*xargs)),
                   repeat=11, min_time=0.2)
    return Row("GP marginal likelihood + grad, n=1000 float32, jit", j, x, 1.05)


def run():
    return [*bench_cho_solve(), bench_gp()]


if __name__ == "__main__":
    main(run)
