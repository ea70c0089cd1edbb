"""jnp.vectorize against jax.numpy.vectorize: broadcasting of loop dimensions, gufunc
signatures, excluded arguments, errors, jit and grad."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jax_ref import jax_side
from jnp_compare import check_like_jnp

jax.config.update("jax_platforms", "cpu")

rng = np.random.RandomState(0)
A = rng.randn(4, 3).astype(np.float32)
B = rng.randn(2, 1, 3).astype(np.float32)
K = rng.randn(4, 3, 2).astype(np.float32)


def check(f, *args, jit=False):
    return check_like_jnp(f, *args, rtol=1e-5, atol=1e-5, jit=jit)


def test_elementwise_and_broadcasting():
    check(lambda m: m.vectorize(lambda x, y: x * y + 1)(A[0], 2.0))
    check(lambda m: m.vectorize(lambda x: m.sum(x) + x)(A))
    check(lambda m: m.vectorize(lambda a, b: a + b)(np.ones((5, 1, 1), np.float32), np.ones((1, 4, 1), np.float32)))
    check(lambda m: m.vectorize(lambda a: 2 * a)(3.0))                     # weak type kept
    check(lambda m: m.vectorize(lambda a: (a, a.shape[0] if a.ndim else 0))(A)[0])


def test_signatures():
    check(lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A, B))
    check(lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A, B), jit=True)
    check(lambda m: m.vectorize(lambda a: (a.sum(), a * 2), signature="(n)->(),(n)")(A))
    check(lambda m: m.vectorize(lambda a: a[0] * a[1], signature="(2)->()")(A[:, :2]))
    check(lambda m: m.vectorize(m.matmul, signature="(m,n),(n,k)->(m,k)")(
        np.ones((5, 1, 2, 3), np.float32), K))
    check(lambda m: m.vectorize(lambda a, b: a * 2, signature="(n),()->(n)")(A, None))
    check(lambda m: m.vectorize(lambda a, b: m.outer(a, b), signature="(n),(k)->(n,k)")(A, B[0, :, :2]))


def test_excluded():
    check(lambda m: m.vectorize(lambda a, k: a[k], excluded={1}, signature="(n)->()")(A, 1))
    check(lambda m: m.vectorize(lambda k, a: a ** k, excluded={0})(2, A))
    check(lambda m: m.vectorize(lambda a, k=0.0: a + k, excluded={"k"})(A[:, :1, None], k=np.ones(2, np.float32)))
    # keyword arguments that are not excluded are not passed on (jnp.vectorize does the same)
    check(lambda m: m.vectorize(lambda x, y=1.0: x * y)(A[0], y=np.ones((2, 1), np.float32)))


def test_errors_and_recovery():
    bad = [
        (lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A, B[..., :2]), ValueError,
         "inconsistent size for core dimension 'n': 2 vs 3"),
        (lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A), TypeError,
         "wrong number of positional arguments: expected 2, got 1"),
        (lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A, 1.0), ValueError,
         "does not have enough dimensions for all core dimensions"),
        (lambda m: m.vectorize(lambda a: a.sum(), signature="(n)->(),(n)")(A), TypeError,
         "output must be a tuple when multiple outputs are expected"),
        (lambda m: m.vectorize(lambda a: a, signature="(n)->()")(A), ValueError,
         r"output shape \(3,\) does not match core dimensions \(\)"),
        (lambda m: m.vectorize(lambda a: a, signature="(n)->(n")(A), ValueError, "not a valid gufunc signature"),
        (lambda m: m.vectorize(lambda a, b: a, signature="(n),(m)->(n)")(A, None), ValueError,
         "Cannot pass None at locations"),
        (lambda m: m.vectorize(lambda a, b: a + b)(A, B[:, :, :2]), ValueError, "broadcast"),
        (lambda m: m.vectorize(m.outer, signature="(n), (k)->(n,k)")(A, A), ValueError, "not a valid gufunc"),
    ]
    for f, cls, msg in bad:
        with pytest.raises(cls):
            f(jnp)
        with pytest.raises(cls, match=msg):
            f(xnp)
    check(lambda m: m.vectorize(m.dot, signature="(n),(n)->()")(A, B))


def test_grad_and_vmap_of_vectorized():
    f = lambda m: m.vectorize(lambda a, b: m.sum(m.sin(a) * b), signature="(n),(n)->()")
    g = xf.grad(lambda a: xnp.sum(f(xnp)(a, B)))(A)
    jg = jax_side(lambda a, b: jax.grad(lambda a: jnp.sum(f(jnp)(a, b)))(a), A, B)
    np.testing.assert_allclose(g, jg, rtol=1e-5, atol=1e-6)
    v = xf.vmap(f(xnp), (None, 0))(A, B)
    jv = jax_side(lambda a, b: jax.vmap(f(jnp), (None, 0))(a, b), A, B)
    np.testing.assert_allclose(v, jv, rtol=1e-5, atol=1e-6)
