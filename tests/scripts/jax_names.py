"""Touches the JAX names a typical small program uses, each printing a result.
Written for JAX; the drop-in test runs it under JAX and under `python -m xlafront run`."""
import sys

import numpy as np

import jax
import jax.numpy as jnp
import jax.numpy.linalg
import jax.numpy.fft
import jax.scipy.special
import jax.scipy.stats
import jax.nn.initializers
from jax import grad, jit, vmap, random, lax
from jax.typing import ArrayLike

jax.config.update("jax_enable_x64", True)


def f(x: ArrayLike) -> jax.Array:
    return jnp.sum(jnp.sin(x) ** 2)


def show(name, value):
    leaves = jax.tree_util.tree_leaves(jax.device_get(value))
    print(name, " ".join(f"{float(v):.10g}" for leaf in leaves for v in np.ravel(leaf)))


@jit
def everything(x, key):
    k1, k2 = random.split(key)
    jax.debug.print("debug.print {a:.4f}", a=x[1])
    return {
        "grad vmap": vmap(grad(f))(jnp.stack([x, 2 * x])),
        "random.normal": random.normal(k1, (3,)),
        "jax.random.uniform": jax.random.uniform(k2, (2,), minval=-1.0, maxval=1.0),
        "lax.fori_loop": lax.fori_loop(0, 5, lambda i, c: c * 1.5 + i, x[0]),
        "lax.scan": lax.scan(lambda c, v: (c + v, c * v), 0.0, x),
        "jax.lax.cond": jax.lax.cond(x[0] > 0, lambda v: v + 1, lambda v: v - 1, x),
        "nn.relu softplus": [jax.nn.relu(x - 0.5), jax.nn.softplus(x)],
        "nn.initializers": jax.nn.initializers.zeros(key, (2,)),
        "scipy.special": [jax.scipy.special.logsumexp(x), jax.scipy.special.erf(x)],
        "scipy.stats.norm": jax.scipy.stats.norm.logpdf(x),
        "tree_util": jax.tree_util.tree_map(lambda a, b: a * b, {"a": x, "b": 2.0}, {"a": x, "b": 3.0}),
        "jax.tree": jax.tree.map(lambda a: a + 1, (1.0, [2.0])),
        "numpy.linalg": [jnp.linalg.det(jnp.eye(3) * 2.0), jnp.linalg.inv(jnp.eye(2) * 4.0)],
        "numpy.fft": jnp.abs(jnp.fft.fft(x)),
    }


x = jnp.linspace(0.1, 1.0, 4)
show("dtype is float64", x.dtype == jnp.float64)
show("isinstance Array", isinstance(x, jax.Array))
show("devices", len(jax.devices()) >= 1)
show("block_until_ready", jax.block_until_ready({"x": x})["x"])
results = everything(x, random.PRNGKey(42))
for name in results:  # sorted keys: jit returns dicts as pytrees rebuild them
    show(name, results[name])
show("eager grad", grad(f)(x))
show("argv", len(sys.argv))
