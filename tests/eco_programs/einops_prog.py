"""einops: rearrange / reduce / repeat inside jit and grad."""
import jax
import jax.numpy as jnp
import numpy as np
from einops import rearrange, reduce, repeat

x = jnp.asarray(np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6) / 100.0)


@jax.jit
def f(x):
    y = rearrange(x, "b c (h p1) (w p2) -> b (h w) (c p1 p2)", p1=2, p2=3)
    z = reduce(y, "b n d -> b d", "mean")
    r = repeat(z, "b d -> b k d", k=2)
    return jnp.sum(jnp.sin(r) * r)


print("f", float(f(x)))
g = jax.grad(f)(x)
print("grad sum", float(jnp.sum(g)), "grad[0,0,0]", np.asarray(g[0, 0, 0]).tolist())
print("pool", np.asarray(jax.jit(lambda t: reduce(t, "b c (h 2) (w 2) -> b c h w", "max"))(x))[1, 2].tolist())
print("shape", rearrange(x, "b c h w -> (b c) h w").shape, repeat(x[0, 0], "h w -> h w r", r=3).shape)
