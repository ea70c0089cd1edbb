"""diffrax: Tsit5 solve of an ODE, grad through the solve, vmap over initial conditions."""
import diffrax
import jax
import jax.numpy as jnp
import numpy as np


def vf(t, y, args):
    k = args
    return jnp.stack([y[1], -k * y[0] - 0.1 * y[1]])


def solve(y0, k):
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vf), diffrax.Tsit5(), t0=0.0, t1=2.0, dt0=0.05, y0=y0, args=k,
                              saveat=diffrax.SaveAt(t1=True))
    return sol.ys[-1]


y0 = jnp.array([1.0, 0.0])
print("solve", np.asarray(jax.jit(solve)(y0, 2.0)).tolist())
print("grad", float(jax.jit(jax.grad(lambda k: solve(y0, k)[0]))(2.0)))
ys = jax.jit(jax.vmap(solve, in_axes=(0, None)))(jnp.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]), 2.0)
print("vmap", np.asarray(ys).tolist())
