"""Finite-horizon LQR (Riccati recursion with lax.scan) and iLQR on a pendulum
(lax.fori_loop over iterations, lax.scan for the backward and forward passes,
jax.jacfwd + vmap to linearize the dynamics). Written for JAX.

    python lqr_ilqr.py [iterations]
"""
import sys
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

DT = 0.05


# ----------------------------------------------------------------------------- LQR
def lqr_gains(A, B, Q, R, Qf, horizon):
    """Time-varying gains of the finite-horizon LQR (one control input)."""
    def backward(P, _):
        S = R + B.T @ P @ B                      # (1, 1)
        K = (B.T @ P @ A) / S[0, 0]             # (1, n)
        P = Q + A.T @ P @ (A - B @ K)
        return P, K
    P0, Ks = lax.scan(backward, Qf, None, length=horizon, reverse=True)
    return Ks, P0


def lqr_rollout(A, B, Q, R, Ks, x0):
    def forward(x, K):
        u = -K @ x
        cost = x @ Q @ x + u @ R @ u
        return A @ x + B @ u, (x, u, cost)
    xT, (xs, us, costs) = lax.scan(forward, x0, Ks)
    return xT, xs, us, costs


# ----------------------------------------------------------------------------- iLQR
def pendulum(x, u):
    theta, omega = x
    domega = -9.81 * jnp.sin(theta) - 0.3 * omega + u[0]
    return jnp.array([theta + DT * omega, omega + DT * domega])


GOAL = jnp.array([1.0, 0.0])
Q_RUN = jnp.diag(jnp.array([1.0, 0.1]))
Q_END = jnp.diag(jnp.array([100.0, 10.0]))
R_RUN = 0.05


def trajectory_cost(xs, us, x_end):
    d = xs - GOAL
    run = jnp.sum(jnp.einsum("ti,ij,tj->t", d, Q_RUN, d)) + R_RUN * jnp.sum(us ** 2)
    e = x_end - GOAL
    return DT * run + e @ Q_END @ e


def rollout(x0, us):
    def step(x, u):
        return pendulum(x, u), x
    x_end, xs = lax.scan(step, x0, us)
    return xs, x_end


def ilqr_iteration(x0, us, reg=1e-3):
    xs, x_end = rollout(x0, us)
    fx = jax.vmap(jax.jacfwd(pendulum, argnums=0))(xs, us)   # (T, 2, 2)
    fu = jax.vmap(jax.jacfwd(pendulum, argnums=1))(xs, us)   # (T, 2, 1)

    def backward(carry, inputs):
        Vx, Vxx = carry
        x, u, A, B = inputs
        lx, lu = DT * 2 * Q_RUN @ (x - GOAL), DT * 2 * R_RUN * u
        Qx = lx + A.T @ Vx
        Qu = lu + B.T @ Vx
        Qxx = DT * 2 * Q_RUN + A.T @ Vxx @ A
        Quu = DT * 2 * R_RUN + B.T @ Vxx @ B + reg
        Qux = B.T @ Vxx @ A
        k = -Qu / Quu[0, 0]
        K = -Qux / Quu[0, 0]
        Vx = Qx + K.T @ Quu @ k + K.T @ Qu + Qux.T @ k
        Vxx = Qxx + K.T @ Quu @ K + K.T @ Qux + Qux.T @ K
        return (Vx, 0.5 * (Vxx + Vxx.T)), (k, K)

    end = (2 * Q_END @ (x_end - GOAL), 2 * Q_END)
    _, (ks, Ks) = lax.scan(backward, end, (xs, us, fx, fu), reverse=True)

    def forward(x, inputs):
        x_old, u_old, k, K = inputs
        u = u_old + k + K @ (x - x_old)
        return pendulum(x, u), (x, u)
    x_end_new, (xs_new, us_new) = lax.scan(forward, x0, (xs, us, ks, Ks))
    return us_new, trajectory_cost(xs_new, us_new, x_end_new)


@partial(jax.jit, static_argnums=2)
def ilqr(x0, us, iterations):
    xs, x_end = rollout(x0, us)
    costs = jnp.zeros(iterations + 1).at[0].set(trajectory_cost(xs, us, x_end))

    def body(i, state):
        us, costs = state
        us, cost = ilqr_iteration(x0, us)
        return us, costs.at[i + 1].set(cost)
    return lax.fori_loop(0, iterations, body, (us, costs))


@jax.jit
def lqr(x0):
    A = jnp.array([[1.0, DT], [0.0, 1.0]])
    B = jnp.array([[0.0], [DT]])
    Q, R, Qf = jnp.eye(2), 0.1 * jnp.eye(1), 10.0 * jnp.eye(2)
    Ks, P0 = lqr_gains(A, B, Q, R, Qf, 60)
    xT, xs, us, costs = lqr_rollout(A, B, Q, R, Ks, x0)
    return Ks, P0, xT, jnp.sum(costs) + xT @ Qf @ xT, x0 @ P0 @ x0


def main(iterations):
    Ks, P0, xT, total, predicted = jax.device_get(lqr(jnp.array([1.0, -0.5])))
    print("LQR gains", Ks.shape, "first", " ".join(f"{v:.6f}" for v in Ks[0, 0]),
          "last", " ".join(f"{v:.6f}" for v in Ks[-1, 0]))
    print("P0 =", " ".join(f"{v:.6f}" for v in P0.ravel()))
    print(f"LQR cost {float(total):.6f} (x0' P0 x0 = {float(predicted):.6f}), final state",
          " ".join(f"{v:.6f}" for v in xT))

    us, costs = ilqr(jnp.array([0.0, 0.0]), jnp.zeros((60, 1)), iterations)
    print("iLQR costs:", " ".join(f"{c:.6f}" for c in costs.tolist()))
    x_end = jax.jit(rollout)(jnp.array([0.0, 0.0]), us)[1]
    print("iLQR final state", " ".join(f"{v:.6f}" for v in x_end.tolist()),
          f"max |u| {float(jnp.max(jnp.abs(us))):.6f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
