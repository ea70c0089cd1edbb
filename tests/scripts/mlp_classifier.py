"""A small MLP classifier on synthetic data: jax.random init, jax.nn activations,
grad + jit, tree_map updates. Written for JAX.

    python mlp_classifier.py [epochs]
"""
import sys
from functools import partial

import jax
import jax.numpy as jnp
from jax import grad, jit, random
from jax.nn import initializers


@jax.jit
def make_data(key, n_per_class=64, n_classes=3):
    angles = jnp.arange(n_classes) * (2 * jnp.pi / n_classes)
    centers = 2.0 * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1)
    noise = random.normal(key, (n_classes, n_per_class, 2))
    x = (centers[:, None, :] + 0.8 * noise).reshape(-1, 2)
    y = jnp.repeat(jnp.arange(n_classes), n_per_class)
    return x, y


@partial(jit, static_argnums=1)
def init_params(key, sizes):
    keys = random.split(key, len(sizes) - 1)
    init_w = initializers.glorot_normal()
    return [{"w": init_w(k, (m, n)), "b": jnp.zeros(n)} for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def forward(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss(params, x, y):
    logp = jax.nn.log_softmax(forward(params, x))
    return -jnp.mean(jnp.sum(logp * jax.nn.one_hot(y, logp.shape[-1]), axis=-1))


@jit
def update(params, x, y, lr=0.1):
    grads = grad(loss)(params, x, y)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


@jit
def evaluate(params, x, y):
    return loss(params, x, y), jnp.mean(jnp.argmax(forward(params, x), axis=-1) == y)


def main(epochs):
    key = random.PRNGKey(0)
    data_key, init_key = random.split(key)
    x, y = make_data(data_key)
    print("data:", x.shape, y.shape, "first", x[0].tolist(), "labels", jnp.bincount(y, length=3).tolist())
    params = init_params(init_key, (2, 16, 16, 3))
    print("param shapes:", jax.tree_util.tree_map(lambda p: p.shape, params))
    for epoch in range(epochs + 1):
        if epoch % 25 == 0:
            value, acc = evaluate(params, x, y)
            print(f"epoch {epoch:3d}  loss {float(value):.6f}  acc {float(acc):.4f}")
        if epoch < epochs:
            params = update(params, x, y)
    probs = jit(lambda p, q: jax.nn.softmax(forward(p, q)))(params, jnp.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]]))
    print("probabilities:")
    for row in probs.tolist():
        print("  " + " ".join(f"{p:.5f}" for p in row))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
