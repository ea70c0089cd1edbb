"""An unmodified JAX program: fit a line by gradient descent.

    python examples/jax_script.py                 # on JAX
    python -m xlafront run examples/jax_script.py  # the same file on xlafront
"""
import jax
import jax.numpy as jnp


def predict(params, x):
    w, b = params
    return w * x + b


def loss(params, x, y):
    return jnp.mean((predict(params, x) - y) ** 2)


@jax.jit
def update(params, x, y, lr=0.1):
    grads = jax.grad(loss)(params, x, y)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


x = jnp.linspace(-1.0, 1.0, 64)
y = 3.0 * x - 0.5 + 0.1 * jnp.sin(7.0 * x)
params = (jnp.zeros(()), jnp.zeros(()))
for step in range(201):
    params = update(params, x, y)
    if step % 50 == 0:
        print(f"step {step:3d}  loss {float(loss(params, x, y)):.6f}")
w, b = params
print(f"w = {float(w):.4f}, b = {float(b):.4f}")
print("batched predictions:", jax.vmap(predict, in_axes=(None, 0))(params, jnp.array([0.0, 1.0])))
