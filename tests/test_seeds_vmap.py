"""The vmap examples of the tutorials in shared/seeds, written as their authors wrote
them (with `import xlafront as jax`), checked against JAX and the printed results."""
import numpy as np

import jax as rjax
import jax.numpy as rjnp

import xlafront as jax
import xlafront.numpy as jnp
from jax_ref import jax_side


def close(a, b, rtol=1e-5, atol=1e-5):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def eye(n):
    return jnp.array(np.eye(n, dtype=np.float32))


# ---------------------------------------------------------------- seeds/000: AA 203 recitation, section 3
def test_vectorize_sum_and_inf_norm():
    f = lambda x: jnp.array([jnp.sum(x**2) / 2, jnp.linalg.norm(x, jnp.inf)])  # noqa: E731
    f = jax.vmap(f)
    batch_size, n = 100, 3
    x = jnp.ones((batch_size, n))
    assert x.shape == (100, 3)
    assert f(x).shape == (100, 2)
    xr = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    ref = jax_side(lambda xr: rjax.vmap(lambda x: rjnp.array([rjnp.sum(x**2) / 2, rjnp.linalg.norm(x, rjnp.inf)]))(xr), xr)
    close(f(xr), ref)


def test_batched_two_layer_network():
    f = lambda x, W, b: W[1] @ jnp.tanh(W[0] @ x + b[0]) + b[1]  # noqa: E731
    f = jax.vmap(f, in_axes=(0, None, None))
    n, m = 3, 5
    batch_size = 100
    hdim = 32
    W = (jnp.ones((hdim, n)), jnp.ones((m, hdim)))
    b = (jnp.ones(hdim), jnp.ones(m))
    x = jnp.ones((batch_size, n))
    assert f(x, W, b).shape == (100, 5)
    rng = np.random.default_rng(1)
    Wr = (rng.standard_normal((hdim, n)).astype(np.float32), rng.standard_normal((m, hdim)).astype(np.float32))
    br = (rng.standard_normal(hdim).astype(np.float32), rng.standard_normal(m).astype(np.float32))
    xr = rng.standard_normal((9, n)).astype(np.float32)
    ref = jax_side(lambda *a: rjax.vmap(lambda x, W, b: W[1] @ rjnp.tanh(W[0] @ x + b[0]) + b[1],
                                        in_axes=(0, None, None))(*a), xr, Wr, br)
    close(f(xr, Wr, br), ref, rtol=1e-4, atol=1e-4)


def test_jacobian_from_vmapped_jvp_and_vjp():
    f = lambda x: jnp.array([x[0], x[0]**2 + x[2]**2])  # noqa: E731

    def df(x, v):
        fx, dfx_v = jax.jvp(f, (x,), (v,))
        return dfx_v

    def dfT(x, w):
        fx, dfxT = jax.vjp(f, x)
        return dfxT(w)[0]  # need to index into tuple

    n, m = 3, 2
    x = jnp.ones(n)
    Jx = jax.vmap(df, in_axes=(None, 0))(x, eye(n))
    JxT = jax.vmap(dfT, in_axes=(None, 0))(x, eye(m))
    close(Jx, np.array([[1., 2.], [0., 0.], [0., 2.]], np.float32))
    close(JxT, np.array([[1., 0., 0.], [2., 0., 2.]], np.float32))
    close(JxT, np.asarray(Jx).T)


def test_linearizing_pendulum_dynamics_at_many_points():
    # Inverted pendulum (with unit mass and unit length)
    f = lambda x, u: jnp.array([x[1], 9.81 * jnp.sin(x[0]) + u[0]])  # noqa: E731

    def taylor(x̄, ū, Δx, Δu):
        f_x̄ū, AΔx = jax.jvp(lambda x: f(x, ū), (x̄,), (Δx,))
        _, BΔu = jax.jvp(lambda u: f(x̄, u), (ū,), (Δu,))
        return f_x̄ū, AΔx, BΔu

    n, m = 2, 1
    K, T = 5, 10
    x̄, ū = jnp.ones((K, n)), jnp.ones((K, m))
    Δx, Δu = jnp.ones((T, n)), jnp.ones((T, m))

    taylor_v = jax.vmap(taylor, in_axes=(None, None, 0, 0))
    taylor_v = jax.vmap(taylor_v, in_axes=(0, 0, None, None))
    c, Ax, Bu = taylor_v(x̄, ū, Δx, Δu)
    assert (c.shape, Ax.shape, Bu.shape) == ((5, 10, 2), (5, 10, 2), (5, 10, 2))

    rng = np.random.default_rng(2)
    xs, us = rng.standard_normal((K, n)).astype(np.float32), rng.standard_normal((K, m)).astype(np.float32)
    dxs, dus = rng.standard_normal((T, n)).astype(np.float32), rng.standard_normal((T, m)).astype(np.float32)
    rf = lambda x, u: rjnp.array([x[1], 9.81 * rjnp.sin(x[0]) + u[0]])  # noqa: E731

    def rtaylor(xb, ub, dx, du):
        f_xu, Adx = rjax.jvp(lambda x: rf(x, ub), (xb,), (dx,))
        _, Bdu = rjax.jvp(lambda u: rf(xb, u), (ub,), (du,))
        return f_xu, Adx, Bdu

    ref = jax_side(lambda *a: rjax.vmap(rjax.vmap(rtaylor, in_axes=(None, None, 0, 0)), in_axes=(0, 0, None, None))(*a),
                   xs, us, dxs, dus)
    for g, r in zip(taylor_v(xs, us, dxs, dus), ref):
        close(g, r)


# ---------------------------------------------------------------- seeds/002: linear model, vmap section
def test_vmap_loss_with_in_axes_none_0_1():
    fhat = lambda params, x: params[0] * x + params[1]  # noqa: E731
    loss = lambda params, x, y: (fhat(params, x) - y)**2  # noqa: E731
    vmap_loss = jax.vmap(loss, in_axes=(None, 0, 1))
    samples = 5
    xs = jnp.linspace(0, 2, samples)
    ys = 5 * xs + 2
    loss_vals = vmap_loss(jnp.array([5., 2.]), xs.reshape((samples, 1)), ys.reshape((1, samples)))
    assert loss_vals.shape == (5, 1)
    close(loss_vals, np.zeros((5, 1), np.float32), atol=1e-5)  # all 0s: the params are the true values
    # with out_axes, and against JAX on other parameters
    p = np.array([4.0, 1.5], np.float32)
    xr, yr = np.linspace(0, 2, samples, dtype=np.float32), np.linspace(1, 3, samples, dtype=np.float32)
    for out_axes in (0, 1):
        got = jax.vmap(loss, in_axes=(None, 0, 1), out_axes=out_axes)(p, xr.reshape(samples, 1), yr.reshape(1, samples))
        ref = jax_side(lambda *a: rjax.vmap(lambda p, x, y: (p[0] * x + p[1] - y)**2, in_axes=(None, 0, 1),
                                            out_axes=out_axes)(*a), p, xr.reshape(samples, 1), yr.reshape(1, samples))
        close(got, ref)


def test_vmap_of_grad_of_sin():
    f = lambda x: jnp.sin(x)  # noqa: E731
    dx_f = jax.grad(f)
    x = jnp.linspace(0, 2 * jnp.pi, 100)
    y = f(x)
    dy = jax.vmap(dx_f)(x)
    close(dy, np.cos(np.asarray(x)), atol=1e-5)
    close(y, np.sin(np.asarray(x)), atol=1e-5)


def test_gram_matrix_by_nested_vmap_both_styles():
    # From the JAX repo
    def apply_double_arg_func(func, xs, xs2=None):
        if xs2 is None:
            return jax.vmap(lambda x: jax.vmap(lambda y: func(x, y))(xs))(xs)
        else:
            return jax.vmap(lambda x: jax.vmap(lambda y: func(x, y))(xs))(xs2).T

    # From Matthew Johnson
    def apply_double_arg_func2(func, xs, xs2=None):
        if xs2 is None:
            return jax.vmap(jax.vmap(func, (0, None)), (None, 0))(xs, xs)
        else:
            return jax.vmap(jax.vmap(func, (0, None)), (None, 0))(xs, xs2).T

    def l1dist(x, y):
        return jnp.sum(jnp.abs(x - y))

    x1 = jnp.linspace(1, 10, 100)
    y1 = jnp.linspace(1, 5, 20)
    a, b = apply_double_arg_func(l1dist, x1, y1), apply_double_arg_func2(l1dist, x1, y1)
    assert a.shape == b.shape == (100, 20)
    close(a, b)
    close(a, np.abs(np.asarray(x1)[:, None] - np.asarray(y1)[None, :]), atol=1e-5)
    close(apply_double_arg_func(l1dist, x1), apply_double_arg_func2(l1dist, x1))


# ---------------------------------------------------------------- seeds/003: logistic map, vmap of a jitted function
def test_vmap_of_jitted_iteration_over_parameters():
    def iterfun(start, a):
        result = []
        for i in range(10):
            start = a * start - a * start**2
        for i in range(10):
            start = a * start - a * start**2
            result.append(start)
        return jnp.array(result)

    fast_iterfun = jax.jit(iterfun)
    vec_iterfun = jax.vmap(lambda a: fast_iterfun(0.5, a))
    a_vector = np.arange(3.4, 4.0, 0.01)
    a_vector = jax.device_put(a_vector)
    out = vec_iterfun(a_vector)
    assert out.shape == (len(a_vector), 10)
    ref = jax_side(lambda av: rjax.vmap(lambda a: rjax.jit(lambda s, a: _rlogistic(s, a))(0.5, a))(av), np.asarray(a_vector))
    close(out, ref, rtol=1e-5, atol=1e-5)
    # the batched call stays one jit call
    assert [e.prim.name for e in jax.make_jaxpr(vec_iterfun)(a_vector).eqns] == ["jit"]
    plot_y = vec_iterfun(a_vector).reshape((-1))
    assert plot_y.shape == (len(a_vector) * 10,)


def _rlogistic(start, a):
    result = []
    for i in range(10):
        start = a * start - a * start**2
    for i in range(10):
        start = a * start - a * start**2
        result.append(start)
    return rjnp.array(result)


# ---------------------------------------------------------------- seeds/004: jit(vmap(grad))
def test_jit_of_vmap_of_grad():
    def slow_fn(x):
        return jnp.sin(x) + jnp.cos(x) * x**2

    fast_vectorized_fn = jax.jit(jax.vmap(slow_fn))
    x = jnp.array([3.0])
    close(fast_vectorized_fn(x), np.array([np.sin(3.0) + np.cos(3.0) * 9.0], np.float32), atol=1e-5)

    dfunc = jax.grad(slow_fn)
    xs = jnp.linspace(-3, 3, 20)

    def list_comprehension(x):
        return jnp.array([dfunc(val) for val in x])

    df_vec = jax.vmap(dfunc)
    fx_vec = jax.jit(jax.vmap(dfunc))
    a, b, c = list_comprehension(xs), df_vec(xs), fx_vec(xs)
    close(a, b)
    close(b, c)
    ref = jax_side(lambda x: rjax.jit(rjax.vmap(rjax.grad(lambda x: rjnp.sin(x) + rjnp.cos(x) * x**2)))(x), np.asarray(xs))
    close(c, ref)
