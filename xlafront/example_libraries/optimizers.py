"""`jax.example_libraries.optimizers`: JAX's small functional optimizer library.

An optimizer is a triple `(init_fun, update_fun, get_params)`:
`state = init_fun(params)`, `state = update_fun(step, grads, state)`,
`params = get_params(state)`; params and grads are pytrees of arrays. The update rules are
the textbook ones (as JAX's): sgd, momentum, nesterov, adagrad, rmsprop,
rmsprop_momentum, adam, adamax; step sizes are numbers or schedules `i -> step size`
(constant, exponential_decay, inverse_time_decay, polynomial_decay, piecewise_constant).
`sm3` and `pack_optimizer_state`/`unpack_optimizer_state` are not implemented
(NotImplementedYetError).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

from xlafront import _missing, tree_util
from xlafront._compat import placeholder_function

__all__ = ["Optimizer", "OptimizerState", "optimizer", "sgd", "momentum", "nesterov", "adagrad", "rmsprop",
           "rmsprop_momentum", "adam", "adamax", "constant", "exponential_decay", "inverse_time_decay",
           "polynomial_decay", "piecewise_constant", "make_schedule", "l2_norm", "clip_grads"]


def _np():
    import xlafront.numpy as xnp
    return xnp


class OptimizerState(NamedTuple):
    """The state of an optimizer over a pytree: each leaf's state flattened, the params'
    tree and each leaf state's tree."""
    packed_state: Any
    tree_def: Any
    subtree_defs: Any


tree_util.register_pytree_node(
    OptimizerState,
    lambda s: ((s.packed_state,), (s.tree_def, s.subtree_defs)),
    lambda aux, children: OptimizerState(children[0], *aux))


class Optimizer(NamedTuple):
    init_fn: Callable
    update_fn: Callable
    params_fn: Callable


def optimizer(opt_maker):
    """Lift an optimizer of one array (`opt_maker(*args) -> (init, update, get_params)`) to
    pytrees of arrays."""
    @functools.wraps(opt_maker)
    def tree_opt_maker(*args, **kwargs):
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree):
            x0_flat, tree = tree_util.tree_flatten(x0_tree)
            states = [init(x0) for x0 in x0_flat]
            flat = [tree_util.tree_flatten(s) for s in states]
            return OptimizerState(tuple(f[0] for f in flat), tree, tuple(f[1] for f in flat))

        @functools.wraps(update)
        def tree_update(i, grad_tree, opt_state):
            states_flat, tree, subtrees = opt_state
            grad_flat, tree2 = tree_util.tree_flatten(grad_tree)
            if tree2 != tree:
                raise TypeError(f"optimizer update function was passed a gradient tree that did not match "
                                f"the parameter tree structure with which it was initialized: parameter "
                                f"tree {tree} and grad tree {tree2}.")
            states = [t.unflatten(s) for t, s in zip(subtrees, states_flat)]
            new_states = [update(i, g, s) for g, s in zip(grad_flat, states)]
            flat = [tree_util.tree_flatten(s) for s in new_states]
            subtrees2 = tuple(f[1] for f in flat)
            for s1, s2 in zip(subtrees, subtrees2):
                if s2 != s1:
                    raise TypeError(f"optimizer update function produced an output structure that did not "
                                    f"match its input structure: input {s1} and output {s2}.")
            return OptimizerState(tuple(f[0] for f in flat), tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state):
            states_flat, tree, subtrees = opt_state
            states = [t.unflatten(s) for t, s in zip(subtrees, states_flat)]
            return tree.unflatten([get_params(s) for s in states])

        return Optimizer(tree_init, tree_update, tree_get_params)
    return tree_opt_maker


# ----------------------------------------------------------------------------- optimizers
def _init_with_two_zero_slots(x0):
    """The state (x, 0, 0) of the optimizers that keep two running averages."""
    xnp = _np()
    return x0, xnp.zeros_like(x0), xnp.zeros_like(x0)


@optimizer
def sgd(step_size):
    step_size = make_schedule(step_size)
    return (lambda x0: x0), (lambda i, g, x: x - step_size(i) * g), (lambda x: x)


@optimizer
def momentum(step_size, mass: float):
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * velocity, velocity
    return (lambda x0: (x0, _np().zeros_like(x0))), update, (lambda state: state[0])


@optimizer
def nesterov(step_size, mass: float):
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * (mass * velocity + g), velocity
    return (lambda x0: (x0, _np().zeros_like(x0))), update, (lambda state: state[0])


@optimizer
def adagrad(step_size, momentum=0.9):
    step_size = make_schedule(step_size)

    init = _init_with_two_zero_slots

    def update(i, g, state):
        xnp = _np()
        x, g_sq, m = state
        g_sq = g_sq + xnp.square(g)
        g_sq_inv_sqrt = xnp.where(g_sq > 0, 1.0 / xnp.sqrt(g_sq), 0.0)
        m = (1.0 - momentum) * (g * g_sq_inv_sqrt) + momentum * m
        return x - step_size(i) * m, g_sq, m
    return init, update, (lambda state: state[0])


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
    step_size = make_schedule(step_size)

    def update(i, g, state):
        xnp = _np()
        x, avg_sq_grad = state
        avg_sq_grad = avg_sq_grad * gamma + xnp.square(g) * (1.0 - gamma)
        return x - step_size(i) * g / xnp.sqrt(avg_sq_grad + eps), avg_sq_grad
    return (lambda x0: (x0, _np().zeros_like(x0))), update, (lambda state: state[0])


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
    step_size = make_schedule(step_size)

    init = _init_with_two_zero_slots

    def update(i, g, state):
        xnp = _np()
        x, avg_sq_grad, mom = state
        avg_sq_grad = avg_sq_grad * gamma + xnp.square(g) * (1.0 - gamma)
        mom = momentum * mom + step_size(i) * g / xnp.sqrt(avg_sq_grad + eps)
        return x - mom, avg_sq_grad, mom
    return init, update, (lambda state: state[0])


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
    step_size = make_schedule(step_size)

    init = _init_with_two_zero_slots

    def update(i, g, state):
        xnp = _np()
        x, m, v = state
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * xnp.square(g) + b2 * v
        mhat = m / (1 - xnp.asarray(b1, m.dtype) ** (i + 1))
        vhat = v / (1 - xnp.asarray(b2, m.dtype) ** (i + 1))
        return x - step_size(i) * mhat / (xnp.sqrt(vhat) + eps), m, v
    return init, update, (lambda state: state[0])


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
    step_size = make_schedule(step_size)

    init = _init_with_two_zero_slots

    def update(i, g, state):
        xnp = _np()
        x, m, u = state
        m = (1 - b1) * g + b1 * m
        u = xnp.maximum(b2 * u, xnp.abs(g))
        return x - (step_size(i) / (1 - xnp.asarray(b1, m.dtype) ** (i + 1))) * m / (u + eps), m, u
    return init, update, (lambda state: state[0])


sm3 = placeholder_function("jax.example_libraries.optimizers.sm3", "numpyro.optim (SM3)")
pack_optimizer_state = placeholder_function("jax.example_libraries.optimizers.pack_optimizer_state",
                                            "users of optimizer checkpoints")
unpack_optimizer_state = placeholder_function("jax.example_libraries.optimizers.unpack_optimizer_state",
                                              "users of optimizer checkpoints")


# ----------------------------------------------------------------------------- schedules
def constant(step_size):
    return lambda i: step_size


def exponential_decay(step_size, decay_steps, decay_rate):
    return lambda i: step_size * decay_rate ** (i / decay_steps)


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False):
    if staircase:
        return lambda i: step_size / (1 + decay_rate * _np().floor(i / decay_steps))
    return lambda i: step_size / (1 + decay_rate * i / decay_steps)


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0):
    def schedule(step_num):
        xnp = _np()
        step_num = xnp.minimum(step_num, decay_steps)
        step_mult = (1 - step_num / decay_steps) ** power
        return step_mult * (step_size - final_step_size) + final_step_size
    return schedule


def piecewise_constant(boundaries, values):
    xnp = _np()
    boundaries, values = xnp.array(boundaries), xnp.array(values)
    if not boundaries.ndim == values.ndim == 1:
        raise ValueError("boundaries and values must be sequences")
    if not boundaries.shape[0] == values.shape[0] - 1:
        raise ValueError("boundaries length must be one shorter than values length")
    return lambda i: values[xnp.sum(i > boundaries)]


def make_schedule(scalar_or_schedule):
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if _np().ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)
    raise TypeError(type(scalar_or_schedule))


# ----------------------------------------------------------------------------- utilities
def l2_norm(tree):
    """The l2 norm of all the leaves of `tree` together."""
    xnp = _np()
    leaves = tree_util.tree_leaves(tree)
    return xnp.sqrt(sum(xnp.vdot(x, x) for x in leaves))


def clip_grads(grad_tree, max_norm):
    """Scale `grad_tree` down to l2 norm `max_norm` when it is longer."""
    xnp = _np()
    norm = l2_norm(grad_tree)
    return tree_util.tree_map(lambda g: xnp.where(norm < max_norm, g, g * (max_norm / norm)), grad_tree)


__getattr__ = _missing.module_getattr(__name__)
