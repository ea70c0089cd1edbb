"""The tutorial examples of ../shared/seeds/ (autodiff), run on xlafront and checked against
JAX and the known answers."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp


def test_grad_half_squared_norm():
    f = lambda x: xnp.sum(x ** 2) / 2
    x = xnp.asarray(np.array([0., 1., 2.], np.float32))
    assert float(f(x)) == 2.5
    np.testing.assert_allclose(np.asarray(xf.grad(f)(x)), [0., 1., 2.])
    # vjp with Python-scalar seeds, jvp along a direction
    f_x, dfxT = xf.vjp(f, x)
    assert float(f_x) == 2.5
    (g1,), (g2,) = dfxT(1.), dfxT(2.)
    np.testing.assert_allclose(np.asarray(g1), [0., 1., 2.])
    np.testing.assert_allclose(np.asarray(g2), [0., 2., 4.])
    assert g1.dtype == np.float32
    f_x, dfx_v = xf.jvp(f, (x,), (xnp.ones(3),))
    assert float(f_x) == 2.5 and float(dfx_v) == 3.0


def test_vjp_two_inputs_two_outputs():
    def f(x, y):
        return xnp.sum(x ** 2) / 2 + xnp.sum(y ** 2) / 2, xnp.sum(x)
    x = y = np.array([0., 1., 2.], np.float32)
    (f1, f2), dfT = xf.vjp(f, x, y)
    assert float(f1) == 5.0 and float(f2) == 3.0
    gx, gy = dfT((1., 1.))
    np.testing.assert_allclose(np.asarray(gx), [1., 2., 3.])
    np.testing.assert_allclose(np.asarray(gy), [0., 1., 2.])


def test_matrix_input_vjp_and_jvp_with_identity_seed():
    def f(X):
        a = b = xnp.asarray(np.array([0., 1., 2.], np.float32))
        return a @ (X @ b)
    X = xnp.ones((3, 3))
    f_x, dfT = xf.vjp(f, X)
    _, df_v = xf.jvp(f, (X,), (np.eye(3, dtype=np.float32),))
    jf = lambda X: jnp.array([0., 1., 2.]) @ (X @ jnp.array([0., 1., 2.]))
    assert float(f_x) == 9.0
    np.testing.assert_allclose(np.asarray(dfT(xnp.asarray(np.float32(1.)))[0]),
                               np.asarray(jax.vjp(jf, jnp.ones((3, 3)))[1](1.)[0]))
    np.testing.assert_allclose(float(df_v), 5.0)


def simplefun(x, w):
    return (x + w) * x ** 2


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 3, 3)])
def test_jacrev_jacfwd_simplefun(shape):
    rng = np.random.RandomState(1)
    x = rng.uniform(-2, 2, size=shape).astype(np.float32)
    w = np.array([1.0, -1.0, 2.2], np.float32)
    for argnums in (0, 1):
        r = xf.jacrev(simplefun, argnums=argnums)(x, w)
        f = xf.jacfwd(simplefun, argnums=argnums)(x, w)
        jr = jax.jacrev(simplefun, argnums=argnums)(x, w)
        assert r.shape == jr.shape == f.shape == shape + (x.shape if argnums == 0 else w.shape)
        np.testing.assert_allclose(np.asarray(r), np.asarray(jr), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(f), np.asarray(jr), rtol=1e-5, atol=1e-5)


def test_scalar_grad_argnums():
    x, w = xnp.asarray(np.float32(3.0)), xnp.asarray(np.float32(1.0))
    assert float(xf.grad(simplefun, argnums=0)(x, w)) == 33.0
    assert float(xf.grad(simplefun, argnums=1)(x, w)) == 9.0
    # the dot example: gradient of a @ b with respect to a is b
    np.testing.assert_allclose(np.asarray(xf.grad(lambda a, b: xnp.dot(a, b))(
        np.array([1., 2.], np.float32), np.array([3., 4.], np.float32))), [3., 4.])
    # argnums tuples
    poly = lambda x, y, z: xnp.sum(x ** 2 + y ** 3 + z ** 4)
    a = np.arange(3.0, dtype=np.float32)
    dx, dy, dz = xf.grad(poly, argnums=(0, 1, 2))(a, a, a)
    np.testing.assert_allclose(np.asarray(dx), 2 * a)
    np.testing.assert_allclose(np.asarray(dy), 3 * a ** 2)
    np.testing.assert_allclose(np.asarray(dz), 4 * a ** 3)


def test_grad_of_scalar_function_and_unpacking():
    assert float(xf.grad(lambda x: x ** 2)(3.0)) == 6.0
    g = xf.grad(lambda x: x[0] ** 2 + 3 * x[1] ** 3)(np.array([1., 2.], np.float32))
    np.testing.assert_allclose(np.asarray(g), [2., 36.])

    def func(x):
        x, y, z = x
        return x ** 2 + x * y ** 3 + xnp.sin(z)
    g = xf.grad(func)(np.array([2, 2, np.pi], np.float32))
    np.testing.assert_allclose(np.asarray(g), [12., 24., -1.], rtol=1e-6)


def test_jacobian_and_hessian():
    def f(x):
        x, y = x
        return xnp.stack([x ** 2 + y ** 2, x ** 2 + x * y])
    np.testing.assert_allclose(np.asarray(xf.jacobian(f)(np.array([2., 3.], np.float32))), [[4., 6.], [7., 2.]])

    def g(x):
        x, y = x
        return x ** 3 + y ** 2 + x * y
    np.testing.assert_allclose(np.asarray(xf.hessian(g)(np.array([3., 2.], np.float32))), [[18., 1.], [1., 2.]])


def quad_fun(x):
    x = x - xnp.asarray(np.array([3., 7.], np.float32))
    return -1 * (x.T @ xnp.asarray(np.array([[3., 2.], [2., 7.]], np.float32)) @ x - 2)


def test_jitted_newton_step():
    def naive_solve(start):
        J = xf.jacrev(quad_fun)
        H = xf.jacfwd(J)
        return xnp.linalg.inv(H(start)) @ J(start)   # as the tutorial writes it
    update = -1 * xf.jit(naive_solve)(np.zeros(2, np.float32))
    np.testing.assert_allclose(np.asarray(update), [3., 7.], rtol=1e-5)


def test_jitted_conjugate_gradient_with_hvp():
    def cg_solve(point, ndim):
        J = xf.jacrev(quad_fun)
        H = lambda x: xf.jvp(J, (point,), (x,))[1]
        x = xnp.zeros(ndim)
        b = J(point)
        r = b - H(x)
        p = r
        for _ in range(ndim):
            Ap = H(p)
            rr = r.T @ r
            alpha = rr / (p.T @ Ap)
            x = x + alpha * p
            r = r - alpha * Ap
            beta = r.T @ r / rr
            p = r + beta * p
        return x
    update = -1 * xf.jit(lambda x: cg_solve(x, 2))(np.zeros(2, np.float32))
    np.testing.assert_allclose(np.asarray(update), [3., 7.], rtol=1e-4)


def test_logistic_regression_vjp_equals_u_times_jacobian():
    rng = np.random.RandomState(0)
    W = rng.normal(size=(3,)).astype(np.float32)
    b = np.float32(rng.normal())
    inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30],
                       [0.74, -2.49, 1.39]], np.float32)

    def sigmoid(x):
        return 0.5 * (xnp.tanh(x / 2) + 1)

    def predict(W, b, inputs):
        return sigmoid(xnp.dot(inputs, W) + b)

    f = lambda W: predict(W, b, inputs)
    y, vjp_fun = xf.vjp(f, W)
    np.testing.assert_allclose(np.asarray(y), np.asarray(f(W)), rtol=1e-6)
    u = rng.normal(size=(4,)).astype(np.float32)
    v, = vjp_fun(u)
    np.testing.assert_allclose(np.asarray(v), np.asarray(xnp.dot(u, xf.jacrev(f)(W))), rtol=1e-5, atol=1e-6)
    jf = lambda W: 0.5 * (jnp.tanh((inputs @ W + b) / 2) + 1)
    np.testing.assert_allclose(np.asarray(v), np.asarray(jax.vjp(jf, W)[1](u)[0]), rtol=1e-5, atol=1e-6)

    # vjp for tensors: dot of two (3, 3) matrices, u * jacobian
    x1, x2, u2 = (rng.normal(size=(3, 3)).astype(np.float32) for _ in range(3))
    _, vf = xf.vjp(lambda a, c: xnp.dot(a, c), x1, x2)
    g1, g2 = vf(u2)
    np.testing.assert_allclose(np.asarray(g1), np.asarray(xnp.tensordot(u2, xf.jacrev(lambda a, c: xnp.dot(a, c))(x1, x2))),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(g2), x1.T @ u2, rtol=1e-5, atol=1e-5)


def test_linear_regression_sgd():
    rng = np.random.RandomState(1)
    x = np.linspace(-2, 2, 100).astype(np.float32)
    y = 5 * x + 2 + 0.001 * rng.normal(size=x.shape).astype(np.float32)
    f = lambda params, x: params[0] * x + params[1]
    loss = lambda params, x, y: xnp.mean((y - f(params, x)) ** 2)
    grad_loss = xf.grad(loss)
    params = xnp.asarray(np.array([0., 1.], np.float32))
    for i in range(60):
        idx = rng.choice(100, 10)
        g = grad_loss(params, x[idx], y[idx])
        params = xf.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, g)
    np.testing.assert_allclose(np.asarray(params), [5., 2.], atol=0.05)
