"""equinox: eqx.nn.MLP trained a few steps with filter_jit / filter_value_and_grad."""
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

key = jax.random.PRNGKey(0)
mlp = eqx.nn.MLP(in_size=3, out_size=1, width_size=16, depth=2, key=key)
rng = np.random.RandomState(1)
X = jnp.asarray(rng.randn(20, 3).astype(np.float32))
y = jnp.asarray(np.sin(rng.randn(20, 1)).astype(np.float32))


@eqx.filter_value_and_grad
def loss(model, x, y):
    pred = jax.vmap(model)(x)
    return jnp.mean((pred - y) ** 2)


@eqx.filter_jit
def step(model, x, y):
    l, g = loss(model, x, y)
    model = eqx.apply_updates(model, jax.tree_util.tree_map(lambda gp: -0.05 * gp, g))
    return model, l


print("out0", np.asarray(mlp(X[0])).tolist())
for i in range(20):
    mlp, l = step(mlp, X, y)
    if i % 5 == 0:
        print("step", i, "loss", float(l))
print("final", float(loss(mlp, X, y)[0]))
print("n_params", sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(mlp, eqx.is_array))))
