"""Set operations against jax.numpy: isin, setdiff1d, union1d, intersect1d (with
return_indices), setxor1d (values, dtypes, weak types eagerly and under jit, size= and
fill_value= defaults, assume_unique, NaN and -0.0, gradients, vmap against a loop,
errors). jnp.in1d no longer exists in JAX 0.10, so neither does xnp.in1d."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jnp_compare import check, grad_fd, grads_like_jax, raises_like_jax, vmap_like_loop

jax.config.update("jax_platforms", "cpu")

A = np.array([7, 3, 9, 3, 5], np.int32)
B = np.array([5, 8, 2], np.int32)
U1 = np.array([7, 3, 9, 5], np.int32)          # unique, unsorted
F1 = np.array([7.0, 3, np.nan, -0.0, 3], np.float32)
F2 = np.array([3.0, 2, 0.0, np.nan], np.float32)
SETOPS = ("setdiff1d", "union1d", "intersect1d", "setxor1d")


def test_in1d_is_gone_as_in_jax():
    assert not hasattr(jnp, "in1d") and not hasattr(xnp, "in1d")


def test_isin():
    x, y = np.array([1, 2, 3, 4, 5], np.int32), np.array([[4, 5], [6, 8]], np.int32)
    check(lambda m, x, y: [m.isin(x, y), m.isin(x, y, invert=True), m.isin(x.reshape(5, 1), y, method="sort"),
                           m.isin(3, y), m.isin(x, 3), m.isin(x, y.astype(m.float32) - 0.5, method="binary_search"),
                           m.isin(x, y, assume_unique=True, method="compare_all"), m.isin(x, m.zeros(0, m.int32)),
                           m.isin(m.zeros((0, 2)), y), m.isin(m.array([True, False]), m.array([1])),
                           m.isin(m.array([1 + 1j, 2]), m.array([1 + 1j])), m.isin(m.arange(3) * 2.0, 2)], x, y)
    nan = np.array([np.nan, 1.0, -0.0, 2.0], np.float32)
    big = np.arange(600, dtype=np.int32)        # 'auto' switches to a binary search for large inputs
    check(lambda m, a, b, c, d: [m.isin(a, b, method=k) for k in ("auto", "compare_all", "binary_search", "sort")]
          + [m.isin(c, d), m.isin(c, d, invert=True)],
          nan, np.array([np.nan, 0.0, 1.0], np.float32), big, big[::7] * 2, eager=False)
    vmap_like_loop(lambda a, b: xnp.isin(a, b), (A * np.ones((2, 1), np.int32)).astype(np.int32),
                   np.array([[3, 5], [9, 1]], np.int32))
    raises_like_jax(lambda m: m.isin(m.ones(2), m.ones(2), method="foo"), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.isin([1], m.ones(2)), xf_exc=TypeError, jax_exc=TypeError)


@pytest.mark.parametrize("name", SETOPS)
def test_setops_without_size(name):
    kw = {} if name == "union1d" else {"assume_unique": False}
    check(lambda m, a, b: [getattr(m, name)(a, b, **kw), getattr(m, name)(a.reshape(5, 1), a),
                           getattr(m, name)(m.zeros(0, m.int32), b), getattr(m, name)(3., 4.),
                           getattr(m, name)(m.arange(3) * 2.0, m.array([1, 2], m.int8)), getattr(m, name)(F1, F2)],
          A, B, jit=False, jax_eager=True)
    if name != "union1d":     # assume_unique with unique inputs: ar1's order for setdiff1d
        check(lambda m, a, b: [getattr(m, name)(a, b, assume_unique=True), getattr(m, name)(b, a, assume_unique=True)],
              U1, B, jit=False, jax_eager=True)


@pytest.mark.parametrize("name", SETOPS)
def test_setops_with_size(name):
    op = name

    def f(m, a, b, u, f1, f2):
        g = getattr(m, op)
        au = {} if op == "union1d" else {"assume_unique": True}
        return [g(a, b, size=7), g(b, a, size=7, fill_value=-1), g(a, a, size=3), g(u, b, size=6, **au),
                g(f1, f2, size=8), g(m.zeros(0, m.int32), a, size=4, fill_value=1),
                g(m.arange(3) * 2.0, m.arange(3) * 1.0, size=6)]
    check(f, A, B, U1, F1, F2, eager=False)
    check(lambda m, a, b: getattr(m, op)(a, b, size=4), A, B, jit=False)


def test_intersect1d_return_indices():
    def f(m, a, b, u):
        return [m.intersect1d(a, b, return_indices=True), m.intersect1d(a.reshape(5, 1), b, return_indices=True),
                m.intersect1d(u, m.array([9, 1, 5]), assume_unique=True, return_indices=True),
                m.intersect1d(m.array([3, 1, 3, 2, 1]), m.array([1, 1, 3, 3]), return_indices=True),
                m.intersect1d(m.zeros(0, m.int32), a, return_indices=True)]
    b = np.array([5, 8, 3, 2, 3], np.int32)
    check(f, A, b, U1, jit=False, jax_eager=True)
    check(lambda m, a, b: [m.intersect1d(a, b, return_indices=True, size=4),
                           m.intersect1d(a, b, size=4, fill_value=-1, return_indices=True),
                           m.intersect1d(a, b[:1] + 100, size=2, return_indices=True)], A, b)


def test_setops_x64(x64):
    check(lambda m, a, b: [m.intersect1d(a, b, return_indices=True, size=3), m.setdiff1d(a, b, size=3),
                           m.isin(a, b)], A, B)
    x = np.random.RandomState(1).randn(6)
    w = np.arange(1.0, 6.0)
    grad_fd(lambda x: (xnp.setdiff1d(x, x[:2], size=5, fill_value=0.0) ** 3 * w).sum()
            + (xnp.union1d(x, x[:2] + 1, size=5) ** 2 * w).sum(), x)


def test_setops_transforms():
    x = np.random.RandomState(1).randn(6).astype(np.float32)
    w = np.arange(1.0, 10.0, dtype=np.float32)
    grads_like_jax(lambda m, x: ((m.union1d(x, x[:2] + 1, size=9) ** 2 * w).sum()
                                 + (m.intersect1d(x, x[1:3], size=3) ** 2 * w[:3]).sum()
                                 + (m.setdiff1d(x, x[:2], size=5) ** 2 * w[:5]).sum()
                                 + (m.setxor1d(x, x[:2] + 1, size=5) ** 2 * w[:5]).sum()), x)
    ints = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], np.int32)
    other = np.array([[1, 5], [7, 9]], np.int32)
    vmap_like_loop(lambda a, b: [xnp.setdiff1d(a, b, size=4, fill_value=-1), xnp.union1d(a, b, size=7),
                                 xnp.intersect1d(a, b, size=3, return_indices=True), xnp.setxor1d(a, b, size=6)],
                   ints, other)


@pytest.mark.parametrize("name", SETOPS)
def test_setops_errors(name):
    jit = {jnp: jax.jit, xnp: xf.jit}
    raises_like_jax(lambda m, a, b: jit[m](getattr(m, name))(a, b), A, B,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    raises_like_jax(lambda m, a: getattr(m, name)([1, 2], a), B, xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a, b: getattr(m, name)(a, b, size=3), A, B)     # the next good call works


def test_union1d_empty_needs_fill_value():
    raises_like_jax(lambda m: m.union1d(m.zeros(0, m.int32), m.zeros(0, m.int32), size=2),
                    xf_exc=ValueError, jax_exc=ValueError)
    check(lambda m: m.union1d(m.zeros(0, m.int32), m.zeros(0, m.int32), size=2, fill_value=5))
