"""Kernel least squares fitted by gradient descent with momentum, in plain jax.numpy.

Written for JAX; the drop-in test runs it as is under JAX and under
`python -m xlafront run` and compares what it prints.

    python kernel_least_squares.py [steps]
"""
import sys

import jax
import jax.numpy as jnp

LENGTHSCALE, LAM = 0.7, 1e-2


def rbf_kernel(a, b, lengthscale):
    d2 = jnp.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)
    return jnp.exp(-0.5 * d2 / lengthscale ** 2)


def features(t):
    return jnp.stack([t, jnp.cos(3.0 * t)], axis=1)


def target(t):
    return jnp.sin(2.0 * t) + 0.3 * t ** 2 - 0.2


@jax.jit
def make_problem():
    t = jnp.linspace(-2.0, 2.0, 48)
    x = features(t)
    K = rbf_kernel(x, x, LENGTHSCALE)
    return x, target(t), K, jnp.trace(K)


def loss(alpha, K, y, lam):
    r = K @ alpha - y
    return jnp.mean(r ** 2) + lam * alpha @ (K @ alpha) / y.shape[0]


@jax.jit
def step(alpha, velocity, K, y, lr=0.1, beta=0.9):
    g = jax.grad(loss)(alpha, K, y, LAM)
    velocity = beta * velocity - lr * g
    return alpha + velocity, velocity


@jax.jit
def report(alpha, K, y):
    return jnp.stack([loss(alpha, K, y, LAM), jnp.linalg.norm(alpha)])


@jax.jit
def predict(alpha, x, t_new):
    return rbf_kernel(features(t_new), x, LENGTHSCALE) @ alpha, target(t_new)


def main(steps):
    x, y, K, trace = make_problem()
    print(f"kernel matrix: shape {K.shape}, trace {float(trace):.4f}")
    alpha = jnp.zeros(y.shape[0])
    velocity = jnp.zeros_like(alpha)
    for i in range(steps + 1):
        if i % 40 == 0:
            value, norm = report(alpha, K, y).tolist()
            print(f"step {i:4d}  loss {value:.6f}  |alpha| {norm:.5f}")
        if i < steps:
            alpha, velocity = step(alpha, velocity, K, y)
    pred, truth = predict(alpha, x, jnp.array([-1.5, 0.0, 1.25]))
    print("predictions:", " ".join(f"{v:.5f}" for v in pred.tolist()))
    print("targets:    ", " ".join(f"{v:.5f}" for v in truth.tolist()))
    batched = jax.jit(jax.vmap(lambda a: loss(a, K, y, LAM)))(jnp.stack([alpha, 0.5 * alpha]))
    print("losses at alpha, alpha/2:", " ".join(f"{v:.6f}" for v in batched.tolist()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
