"""optax: adam, and chain(clip_by_global_norm, adamw) with a schedule, on a small least-squares fit."""
import jax
import jax.numpy as jnp
import numpy as np
import optax

rng = np.random.RandomState(0)
X = jnp.asarray(rng.randn(32, 4).astype(np.float32))
w_true = jnp.asarray([1.0, -2.0, 0.5, 3.0], dtype=jnp.float32)
y = X @ w_true + 0.1 * jnp.asarray(rng.randn(32).astype(np.float32))


def loss(params):
    pred = X @ params["w"] + params["b"]
    return jnp.mean((pred - y) ** 2)


def fit(opt, steps=50):
    params = {"w": jnp.zeros(4, jnp.float32), "b": jnp.zeros((), jnp.float32)}
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        l, g = jax.value_and_grad(loss)(params)
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state, l

    for _ in range(steps):
        params, state, l = step(params, state)
    return params, l


p, l = fit(optax.adam(0.1))
print("adam loss", float(l), "w", np.asarray(p["w"]).tolist(), "b", float(p["b"]))
sched = optax.warmup_cosine_decay_schedule(0.0, 0.2, warmup_steps=5, decay_steps=50)
opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=1e-3))
p, l = fit(opt)
print("chain loss", float(l), "w", np.asarray(p["w"]).tolist(), "b", float(p["b"]))
print("sched", [float(sched(i)) for i in (0, 3, 10, 49)])
