"""Sorting and searching against jax.numpy: sort, argsort, lexsort, sort_complex, partition,
argpartition, searchsorted, unique (values, dtypes, weak types, errors, jit, vmap, grads)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jax_ref import jax_side
from jnp_compare import check_like_jnp, jax_fd_jvp, jax_jvp, jax_vjp, jax_vmap

jax.config.update("jax_platforms", "cpu")

I = np.array([3, 1, 2, 3, 1, 5, 0, 2, 2], np.int32)
F = np.array([2.0, np.nan, 1.0, np.nan, 2.0, -0.0, 0.0, -np.inf], np.float32)
M = np.array([[3, 1, 2], [3, 1, 2], [0, 5, 1]], np.int32)
F2 = np.random.RandomState(0).randn(3, 4).astype(np.float32)
CPLX = np.array([1 + 1j, 1 - 1j, -2 + 0j, 1 + 1j, np.nan + 0j], np.complex64)


def check(f, *args, jit=False):
    return check_like_jnp(f, *args, jit=jit, exact=True)


def test_sort_and_argsort():
    for a in (I, F, M, F2, CPLX, np.array([True, False, True])):
        check(lambda m, x: [m.sort(x), m.sort(x, descending=True), m.sort(x, axis=None), m.argsort(x),
                            m.argsort(x, descending=True), m.argsort(x, stable=False, descending=True)],
              a, jit=True)
    check(lambda m, x: m.sort(x), F)                # eagerly
    check(lambda m, x: m.argsort(x, descending=True), F)
    check(lambda m, x: m.sort(x, axis=0), M)
    check(lambda m, x: m.argsort(x, axis=0, descending=True), M)
    check(lambda m, x: m.asarray(x).sort(axis=0), F2)          # methods
    check(lambda m, x: m.asarray(x).argsort(), F2)
    check(lambda m: m.sort(3.0, axis=None))         # weak type kept
    check(lambda m: m.sort(m.ones(3) * 2.0))
    check(lambda m, x: m.argsort(x, axis=None), np.array(3.0))
    check(lambda m, x: m.argsort(x, dtype=m.int32), F2)


def test_lexsort_sort_complex_partition():
    check(lambda m, a, b: m.lexsort([a, b]), np.array([1, 1, 0, 0]), np.array([2, 1, 2, 1]))
    check(lambda m, a, b: m.lexsort((a, b)), np.array([1.0, 1, 0, 0]), np.array([2, 1, 2, 1]))
    check(lambda m, k: m.lexsort(k), np.array([[1, 1, 0, 0], [2, 1, 2, 1]]))
    check(lambda m, a, b: m.lexsort((a, b), axis=0), M, M[::-1])
    for a in (I, np.array([3.0, 1.0, 2.0], np.float32), M):
        check(lambda m, x: m.sort_complex(x), a)
    for k in (0, 3, -1, -2, 8):
        check(lambda m, x: m.partition(x, k), I)
        check(lambda m, x: m.argpartition(x, k), I)
    check(lambda m, x: m.partition(x, 1), np.array([3.0, np.nan, 1.0, 2.0], np.float32))
    check(lambda m, x: m.argpartition(x, 1), np.array([3.0, np.nan, 1.0, 2.0], np.float32))
    check(lambda m, x: m.partition(x, 1, axis=0), F2)
    check(lambda m, x: m.argpartition(x, 2, axis=1), F2)
    check(lambda m, x: m.asarray(x).argpartition(1), F2)
    check(lambda m: m.partition(m.ones(3) * 3.0, 1))


def test_searchsorted():
    a = np.array([1.0, 2.0, 2.0, 3.0, np.nan], np.float32)
    v = np.array([[2.0, 0.0], [np.nan, 5.0]], np.float32)
    for side in ("left", "right"):
        for method in ("scan", "scan_unrolled", "sort", "compare_all"):
            check(lambda m, a, v: m.searchsorted(a, v, side=side, method=method), a, v)
        check(lambda m, a: m.searchsorted(a, 0.0, side=side), np.array([-0.0, 0.0, 1.0], np.float32))
        check(lambda m, a, v: m.searchsorted(a, v, side=side), np.arange(10, dtype=np.int32),
              np.array([-1, 0, 4, 9, 10, 11], np.int32))
        check(lambda m, a, v: m.searchsorted(a, v, side=side), np.sort(CPLX), CPLX)
    check(lambda m, a: m.searchsorted(a, 2), a)
    check(lambda m, a: m.searchsorted(a, 2.5), np.array([1, 2, 3], np.int32))
    check(lambda m, a, s: m.searchsorted(a, 2.0, sorter=s), np.array([3.0, 1.0, 2.0]), np.array([1, 2, 0]))
    check(lambda m, a: m.searchsorted(a, np.array([1.0, 2.0])), np.zeros(0, np.float32))
    check(lambda m, a: m.asarray(a).searchsorted(np.array([1.5, 2.5], np.float32), side="right"), a)
    check(lambda m, a, v: m.searchsorted(a, v), a, v, jit=True)


def test_unique():
    full = dict(return_index=True, return_inverse=True, return_counts=True)
    for a in (I, F, np.array([True, False, True]), CPLX):
        check(lambda m, x: m.unique(x, **full), a)
    check(lambda m, x: m.unique(x), M)
    check(lambda m, x: m.unique(x, return_counts=True, equal_nan=False), F)
    check(lambda m, x: m.unique(x, size=12, **full), F)
    check(lambda m, x: m.unique(x, return_index=True, return_counts=True, size=2, fill_value=7), I)
    for ax in (0, -1):
        check(lambda m, x: m.unique(x, axis=ax, **full), M)
    check(lambda m, x: m.unique(x, return_counts=True, axis=0, size=4, fill_value=-1), M)
    check(lambda m: m.unique(3.0))
    check(lambda m: m.unique(m.zeros((0,))))
    check(lambda m: m.unique(m.zeros((0,)), size=3, fill_value=1.0, return_counts=True))
    check(lambda m, x: tuple(m.unique_all(x)), I)
    for name in ("unique_counts", "unique_inverse", "unique_values"):
        r, jr = getattr(xnp, name)(M), getattr(jnp, name)(M)
        assert getattr(r, "_fields", None) == getattr(jr, "_fields", None)
        for a, b in zip(r if isinstance(jr, tuple) else [r], jr if isinstance(jr, tuple) else [jr]):
            np.testing.assert_array_equal(a, b)
    r = xnp.unique_all(I)
    assert type(r).__name__ == "UniqueAllResult" and r.counts.shape == (5,)


def test_x64_index_dtypes(x64):
    x = np.array([3, 1, 2, 1])
    check(lambda m, x: m.argsort(x), x)
    check(lambda m, x: m.searchsorted(x, 2), np.sort(x))
    check(lambda m, x: m.unique(x, return_index=True, return_inverse=True, return_counts=True), x)
    check(lambda m, x: m.lexsort([x]), x)
    check(lambda m, x: m.argpartition(x, 1), x)
    check(lambda m, x: m.sort_complex(x), x)
    check(lambda m, x: m.sort_complex(x), x.astype(np.int32))


def test_unique_needs_size_under_jit_and_works_with_it():
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(jnp.unique)(I)
    with pytest.raises(xf.ConcretizationTypeError, match="size argument") as e:
        xf.jit(xnp.unique)(I)
    assert "test_sorting.py" in str(e.value)
    check(lambda m, x: m.unique(x, size=4, return_inverse=True, return_counts=True), I, jit=True)
    check(lambda m, x: m.unique(x, size=3, axis=0, return_index=True), M, jit=True)
    # vmap of unique with size, against a loop
    batch = np.array([[1, 1, 2, 9], [4, 4, 4, 4], [0, 3, 2, 3]], np.int32)
    got = xf.vmap(lambda r: xnp.unique(r, size=3, fill_value=-1, return_counts=True))(batch)
    for i, row in enumerate(batch):
        want = jax_side(lambda r: tuple(jnp.unique(r, size=3, fill_value=-1, return_counts=True)), row)
        np.testing.assert_array_equal(got[0][i], want[0])
        np.testing.assert_array_equal(got[1][i], want[1])
    np.testing.assert_array_equal(xnp.unique(I), np.unique(I))    # the next good call works
    # grads: without size the result comes from the concrete value (zero gradient, as in JAX)
    x = np.array([3.0, 1.0, 3.0, 2.0], np.float32)
    for kw in ({}, {"size": 2}):
        g = xf.grad(lambda v: xnp.sum(xnp.unique(v, **kw) * xnp.arange(1.0, 1.0 + (kw.get("size") or 3))))(x)
        jg = jax_side(lambda x: jax.grad(lambda v: jnp.sum(jnp.unique(v, **kw) * jnp.arange(1.0, 1.0 + (kw.get("size") or 3))))(x), x)
        np.testing.assert_array_equal(g, jg)


def test_errors():
    bad = [
        (lambda m: m.sort(I, kind="quicksort"), TypeError, "'kind' argument to sort"),
        (lambda m: m.argsort(I, kind="quicksort"), TypeError, "'kind' argument to argsort"),
        (lambda m: m.sort(I, order="a"), TypeError, "'order' argument"),
        (lambda m: m.sort(M, axis=2), ValueError, "out of bounds"),
        (lambda m: m.argsort(3.0), ValueError, "out of bounds"),
        (lambda m: m.lexsort([]), TypeError, "need sequence of keys"),
        (lambda m: m.lexsort([np.array([1, 1]), np.array([2, 1, 2])]), ValueError, "same shape"),
        (lambda m: m.partition(I, 9), ValueError, "out of bounds"),
        (lambda m: m.searchsorted(F, 1.0, side="middle"), ValueError, "invalid argument side"),
        (lambda m: m.searchsorted(F, 1.0, method="foo"), ValueError, "invalid argument method"),
        (lambda m: m.searchsorted(M, 1), ValueError, "a should be 1-dimensional"),
        (lambda m: m.unique([1, 2]), TypeError, "requires ndarray or scalar"),
        (lambda m: m.unique(np.zeros((0,)), size=3), ValueError, "fill_value must be specified"),
        (lambda m: m.unique(M, axis=2), ValueError, "out of bounds"),
    ]
    for f, cls, msg in bad:
        with pytest.raises(cls):
            f(jnp)
        with pytest.raises(cls, match=msg):
            f(xnp)
    np.testing.assert_array_equal(xnp.sort(I), np.sort(I))


# ----------------------------------------------------------------------------- transforms


def test_sort_grads_against_jax_and_fd(x64):
    x = np.random.RandomState(3).randn(3, 5)
    t = np.random.RandomState(4).randn(3, 5)
    for f in (lambda m: lambda v: m.sort(v, axis=1) * m.arange(5.0),
              lambda m: lambda v: m.sort(v, axis=0, descending=True) ** 2,
              lambda m: lambda v: m.partition(v, 2, axis=1) * m.arange(5.0),
              lambda m: lambda v: m.sort(v, axis=None)[:7]):
        y, ty = xf.jit(lambda x, t: xf.jvp(f(xnp), (x,), (t,)))(x, t)
        jy, jty = jax_jvp(f(jnp), x, t)
        np.testing.assert_allclose(y, jy, rtol=1e-12)
        np.testing.assert_allclose(ty, jty, rtol=1e-12)
        fd = jax_fd_jvp(f(jnp), x, t)
        np.testing.assert_allclose(ty, fd, rtol=1e-6, atol=1e-6)
        ct = np.random.RandomState(5).randn(*np.shape(jy))
        g = xf.jit(lambda x, ct: xf.vjp(f(xnp), x)[1](ct)[0])(x, ct)
        jg = jax_vjp(f(jnp), x, ct)
        np.testing.assert_allclose(g, jg, rtol=1e-12)
    # and eagerly, once
    g = xf.grad(lambda v: xnp.sum(xnp.sort(v, axis=0) * xnp.arange(3.0)[:, None]))(x)
    jg = jax_side(lambda x: jax.grad(lambda v: jnp.sum(jnp.sort(v, axis=0) * jnp.arange(3.0)[:, None]))(x), x)
    np.testing.assert_allclose(g, jg, rtol=1e-12)


def test_vmap_against_jax():
    x = np.random.RandomState(6).randn(4, 3, 5).astype(np.float32)
    for in_axes in (0, 1, 2):
        for f in (lambda m: lambda v: m.sort(v, axis=-1, descending=True),
                  lambda m: lambda v: m.argsort(v, axis=0),
                  lambda m: lambda v: m.argpartition(v, 1, axis=-1)):
            np.testing.assert_array_equal(xf.vmap(f(xnp), in_axes)(x), jax_vmap(f(jnp), x, in_axes=in_axes))
    a = np.sort(x[:, 0], axis=-1)
    v = x[:, 1]
    for side in ("left", "right"):
        f = lambda m: lambda a, v: m.searchsorted(a, v, side=side)
        np.testing.assert_array_equal(xf.vmap(f(xnp))(a, v), jax_vmap(f(jnp), a, v))
        np.testing.assert_array_equal(xf.vmap(f(xnp), (None, 0))(a[0], v), jax_vmap(f(jnp), a[0], v, in_axes=(None, 0)))
