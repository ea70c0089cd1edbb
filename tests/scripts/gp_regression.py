"""Gaussian-process regression: marginal likelihood by a Cholesky solve, hyperparameters
fitted by gradient descent, predictions with variances. Written for JAX (64-bit).

    python gp_regression.py [steps]
"""
import sys

import jax
import jax.numpy as jnp
import jax.scipy as jsp
from jax.scipy.linalg import cho_solve

jax.config.update("jax_enable_x64", True)


def kernel(params, a, b):
    lengthscale, variance = jnp.exp(params["log_lengthscale"]), jnp.exp(params["log_variance"])
    d2 = (a[:, None] - b[None, :]) ** 2
    return variance * jnp.exp(-0.5 * d2 / lengthscale ** 2)


def neg_log_marginal_likelihood(params, x, y):
    n = x.shape[0]
    K = kernel(params, x, x) + (jnp.exp(params["log_noise"]) + 1e-6) * jnp.eye(n)
    L = jnp.linalg.cholesky(K)
    alpha = cho_solve((L, True), y)
    return 0.5 * y @ alpha + jnp.sum(jnp.log(jnp.diag(L))) + 0.5 * n * jnp.log(2 * jnp.pi)


@jax.jit
def predict(params, x, y, x_new):
    K = kernel(params, x, x) + (jnp.exp(params["log_noise"]) + 1e-6) * jnp.eye(x.shape[0])
    L = jnp.linalg.cholesky(K)
    Ks = kernel(params, x_new, x)
    mean = Ks @ cho_solve((L, True), y)
    v = jsp.linalg.solve_triangular(L, Ks.T, lower=True)
    var = jnp.exp(params["log_variance"]) - jnp.sum(v ** 2, axis=0)
    return mean, var


value_and_grad = jax.jit(jax.value_and_grad(neg_log_marginal_likelihood))


@jax.jit
def make_data():
    x = jnp.linspace(0.0, 6.0, 40)
    return x, jnp.sin(x) + 0.1 * jnp.cos(7.0 * x)  # a smooth signal with a wiggle as "noise"


@jax.jit
def descend(params, grads):
    norm = jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree_util.tree_leaves(grads)))
    return jax.tree_util.tree_map(lambda p, g: p - 0.02 * g, params, grads), norm


@jax.jit
def logdet(params, x):
    L = jnp.linalg.cholesky(kernel(params, x, x) + 0.01 * jnp.eye(x.shape[0]))
    return 2 * jnp.sum(jnp.log(jnp.diag(L)))


def main(steps):
    print("x64:", jnp.ones(()).dtype)
    x, y = make_data()
    params = {"log_lengthscale": jnp.log(0.5), "log_variance": jnp.array(0.0), "log_noise": jnp.log(0.1)}
    for i in range(steps + 1):
        nll, grads = value_and_grad(params, x, y)
        new_params, gnorm = descend(params, grads)
        if i % 10 == 0:
            print(f"step {i:3d}  nll {float(nll):.8f}  |grad| {float(gnorm):.8f}")
        params = new_params
    for k, v in sorted(jax.device_get(params).items()):
        print(f"{k} = {float(v):.8f}")
    mean, var = predict(params, x, y, jnp.array([0.5, 2.5, 4.75, 7.0]))
    print("mean:", " ".join(f"{m:.8f}" for m in mean.tolist()))
    print("var: ", " ".join(f"{v:.8e}" for v in var.tolist()))
    print("logdet via cholesky:", f"{float(logdet(params, x)):.8f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
