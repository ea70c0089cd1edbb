"""flax: an MLP with flax.linen and with flax.nnx: init, apply, grad."""
import jax
import jax.numpy as jnp
import numpy as np
import flax.linen as nn
from flax import nnx

x = jnp.asarray(np.random.RandomState(0).randn(4, 3).astype(np.float32))
y = jnp.asarray(np.random.RandomState(1).randn(4, 2).astype(np.float32))


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(8)(x))
        return nn.Dense(2)(x)


m = MLP()
params = m.init(jax.random.PRNGKey(0), x)
out = jax.jit(m.apply)(params, x)
print("linen out", np.asarray(out).round(6).tolist())
g = jax.grad(lambda p: jnp.mean((m.apply(p, x) - y) ** 2))(params)
print("linen grad", [float(jnp.sum(l)) for l in jax.tree_util.tree_leaves(g)])


class NMLP(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(3, 8, rngs=rngs)
        self.l2 = nnx.Linear(8, 2, rngs=rngs)

    def __call__(self, x):
        return self.l2(nnx.relu(self.l1(x)))


nm = NMLP(nnx.Rngs(0))
print("nnx out", np.asarray(nm(x)).round(6).tolist())


@nnx.jit
def loss_grad(model, x, y):
    return nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)


l, g = loss_grad(nm, x, y)
print("nnx loss", float(l))
print("nnx grad", [float(jnp.sum(v)) for v in jax.tree_util.tree_leaves(nnx.state(g))])
