"""chex: assert_shape, assert_trees_all_close, chex.dataclass in jit and tree ops."""
import chex
import jax
import jax.numpy as jnp


@chex.dataclass
class Params:
    w: chex.Array
    b: chex.Array


@jax.jit
def apply(p, x):
    chex.assert_shape(x, (None, 3))
    chex.assert_rank(p.w, 2)
    out = x @ p.w + p.b
    chex.assert_shape(out, (x.shape[0], 2))
    return out


p = Params(w=jnp.arange(6.0).reshape(3, 2) / 10, b=jnp.ones(2))
x = jnp.arange(12.0).reshape(4, 3)
out = apply(p, x)
print("out", out.tolist())
g = jax.grad(lambda p: jnp.sum(apply(p, x) ** 2))(p)
print("grad type", type(g).__name__, "w", g.w.tolist(), "b", g.b.tolist())
p2 = jax.tree_util.tree_map(lambda a: a * 2, p)
print("tree_map", p2.w.tolist(), len(jax.tree_util.tree_leaves(p)))
chex.assert_trees_all_close(p, Params(w=p.w + 1e-7, b=p.b), atol=1e-6)
print("trees_all_close ok")
try:
    chex.assert_shape(x, (4, 4))
except AssertionError as e:
    print("assert_shape raised", "AssertionError")
try:
    apply(p, jnp.ones((4, 5)))
except AssertionError:
    print("jit assert raised", "AssertionError")
print("replace", p.replace(b=jnp.zeros(2)).b.tolist())
