"""Functions from JAX tutorials, written as plain JAX code (`import jax.numpy as jnp`), to
inspect and compare from the command line (docs/inspect.md):

    python -m xlafront dump examples.inspect_targets:newton_step --args 'f32[2]' --stage all
    python -m xlafront compare examples.inspect_targets:mlp --transform vmap --in-axes 0,None,None \\
        --args 'f32[3], (f32[32,3], f32[5,32]), (f32[32], f32[5])'

`dump` and `compare` run this module with `jax` resolved to xlafront (as `python -m
xlafront run` does); `compare` runs it a second time with the real JAX.
"""
import jax
import jax.numpy as jnp
from jax import jacfwd, jacrev


# --- Newton's method with Hessians ("Fun with Jax", Optimization): a quadratic with its
# maximum at (3, 7); one Newton step from any point lands on it.
def quad_fun(x):
    x = x - jnp.array([3, 7])
    return -1 * (x.T @ jnp.array([[3, 2], [2, 7]]) @ x - 2)


def newton_step(start):
    """The Newton update H^-1 J at `start` (the tutorial's naive_solve): J by reverse mode,
    H = the forward-mode Jacobian of J."""
    J = jacrev(quad_fun)
    H = jacfwd(J)
    return jnp.linalg.inv(H(start)) @ J(start)


def newton_step_hessian(start):
    """The same step with jax.hessian."""
    return jnp.linalg.solve(jax.hessian(quad_fun)(start), jax.grad(quad_fun)(start))


# --- An MLP batched with vmap ("AA 203 Recitation #2", 3.1: batch evaluation of a neural
# network): vmap it over x with in_axes=(0, None, None).
def mlp(x, W, b):
    return W[1] @ jnp.tanh(W[0] @ x + b[0]) + b[1]


def mlp_loss(x, W, b):
    """A scalar of the MLP's output, to take gradients of."""
    return jnp.sum(mlp(x, W, b) ** 2)


# --- The logistic map ("Fun with Jax", Iterations): x <- a x - a x^2 from x0 = 0.5, `burn`
# steps, then `keep` more whose values are returned (the tutorial uses 1000 and 1000;
# the loop unrolls under jit, so the defaults here are smaller). vmap it over `a`.
def logistic_map(a, burn=100, keep=50):
    x = 0.5
    for _ in range(burn):
        x = a * x - a * x ** 2
    result = []
    for _ in range(keep):
        x = a * x - a * x ** 2
        result.append(x)
    return jnp.array(result)
