"""Indexing and scatter at the edges, against JAX: traced negative out-of-range indices
(normalized once), the tangents of mode="fill" gathers, gradients of out-of-bound and
duplicate scatters, out-of-range static ints (clamped, as JAX), and mixed int32/int64
indices with x64 on. Values, jvp and grad are compared with JAX; vmap with a Python loop."""
import os

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from jax_ref import jax_side

THIS_FILE = os.path.basename(__file__)
BOTH = ((jax, jnp), (xf, xnp))
MODES = [None, "clip", "fill", "promise_in_bounds", "drop"]


def _leaves(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def same(ours, ref):
    ours, ref = _leaves(ours), _leaves(ref)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        o, r = np.asarray(o), np.asarray(r)
        assert o.shape == r.shape, (o.shape, r.shape)
        assert o.dtype == r.dtype, (o.dtype, r.dtype)
        np.testing.assert_array_equal(o, r)


def vs_jax(f, *args):
    """f(m, np_) -> callable; run it on JAX and on xlafront with args, compare."""
    ref = jax_side(lambda *a: f(jax, jnp)(*a), *args)
    ours = f(xf, xnp)(*args)
    same(ours, ref)
    return ours


def vmap_like_loop(f, xs, in_axes=0):
    """xf.vmap(f) over the leading axis of the mapped args == stacking f over a loop."""
    got = xf.vmap(f, in_axes=in_axes)(*xs)
    n = next(len(a) for a, ax in zip(xs, in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(xs))
             if ax is not None)
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(xs)
    rows = [f(*[xnp.asarray(a[k]) if ax is not None else a for a, ax in zip(xs, axes)]) for k in range(n)]
    rows = [_leaves(r) for r in rows]
    for j, g in enumerate(_leaves(got)):
        np.testing.assert_array_equal(np.asarray(g), np.stack([np.asarray(r[j]) for r in rows]))


X5 = np.arange(1.0, 6.0, dtype=np.float32)
A34 = np.arange(12.0, dtype=np.float32).reshape(3, 4)
OOB = [-7, -6, -5, -1, 0, 4, 5, 9]


# ----------------------------------------------------------------------------- 1. traced negative OOR
@pytest.mark.parametrize("i", OOB)
def test_traced_scalar_index_normalized_once(i):
    i = np.int32(i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: x[i]), X5, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: x[i]), A34, i)
    vs_jax(lambda m, np_: m.jit(lambda x, j: x[:, j]), A34, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i, j: x[i, j]), A34, i, np.int32(-5))
    vs_jax(lambda m, np_: m.jit(lambda x, i: x[i, 1:3]), A34, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: m.lax.dynamic_slice(x, (i,), (2,))), X5, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: m.lax.dynamic_slice(x, (i, i), (2, 2))), A34, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: m.lax.dynamic_index_in_dim(x, i, 1, False)), A34, i)
    vs_jax(lambda m, np_: m.jit(lambda x, i: m.lax.dynamic_update_slice(x, np_.full(2, 9.0, np_.float32),
                                                                        (i,))), X5, i)
    # derivatives of the same: the transposes and jvps reuse the normalized starts
    vs_jax(lambda m, np_: m.jit(m.grad(lambda x, i: (x[i] * np_.arange(1.0, 5.0)).sum())), A34, i)
    vs_jax(lambda m, np_: m.grad(lambda x, i: (m.lax.dynamic_slice(x, (i,), (2,)) * np_.array([1.0, 2.0])).sum()),
           X5, i)
    vs_jax(lambda m, np_: m.grad(lambda x, u, i: (m.lax.dynamic_update_slice(x, u, (i,)) * np_.arange(5.0)).sum(),
                                 argnums=(0, 1)), X5, np.array([1.0, 2.0], np.float32), i)
    vs_jax(lambda m, np_: lambda x, u: m.jvp(lambda x, u: m.lax.dynamic_update_slice(x, u, (i,)), (x, u),
                                             (np_.ones(5), np_.array([10.0, 20.0]))),
           X5, np.array([1.0, 2.0], np.float32))


@pytest.mark.parametrize("mode", MODES)
def test_traced_negative_index_at_and_take_modes(mode):
    for i in (np.int32(-6), np.int32(-7), np.int32(-1), np.array([-6, -5, -1, 5, 7], np.int32)):
        vs_jax(lambda m, np_: m.jit(lambda x, i: x.at[i].get(mode=mode)), X5, i)
        vs_jax(lambda m, np_: m.jit(lambda x, i: x.at[i].set(10.0, mode=mode)), X5, i)
        vs_jax(lambda m, np_: m.jit(lambda x, i: x.at[i].add(10.0, mode=mode)), X5, i)
        vs_jax(lambda m, np_: m.jit(lambda x, i: x.at[i, 1].get(mode=mode)), A34, np.int32(np.ravel(i)[0] + 2))
        vs_jax(lambda m, np_: m.jit(lambda x, i: x.at[1, i].add(5.0, mode=mode)), A34, i)
        if mode in (None, "fill", "clip"):
            vs_jax(lambda m, np_: m.jit(lambda x, i: np_.take(x, i, mode=mode)), X5, i)
            vs_jax(lambda m, np_: m.jit(lambda x, i: np_.take(x, i, axis=1, mode=mode)), A34, i)
    # vmap over the traced index vs a Python loop
    idx = np.array([-7, -6, -1, 0, 4, 9], np.int32)
    vmap_like_loop(lambda i: xnp.asarray(X5)[i], (idx,))
    vmap_like_loop(lambda i: xnp.asarray(X5).at[i].get(mode=mode), (idx,))
    vmap_like_loop(lambda i: xnp.asarray(X5).at[i].set(0.0, mode=mode), (idx,))
    vmap_like_loop(lambda i: xf.lax.dynamic_slice(xnp.asarray(A34), (i, i), (2, 2)), (idx,))


def test_take_rejects_scatter_only_modes():
    for mode in ("promise_in_bounds", "drop", "bogus"):
        for m, np_ in BOTH:
            with pytest.raises(ValueError, match="Invalid mode") as e:
                np_.take(np_.arange(5.0), np_.array([7]), mode=mode)
        assert THIS_FILE in str(e.value)
    # take_along_axis takes any gather mode, as JAX
    for mode in ("promise_in_bounds", "drop", "clip", "fill"):
        vs_jax(lambda m, np_: lambda x: np_.take_along_axis(x, np_.array([7, -6, 2]), 0, mode=mode), X5)
    # the next good call works
    vs_jax(lambda m, np_: lambda x: np_.take(x, np_.array([7, -6]), mode="clip"), X5)


# ----------------------------------------------------------------------------- 2. fill-mode tangents
@pytest.mark.parametrize("fill", [None, np.nan, 7.0])
def test_fill_mode_gather_tangent_is_zero(fill):
    idx = np.array([0, 7, -9, -1], np.int32)
    t5 = np.ones(5, np.float32)
    vs_jax(lambda m, np_: lambda x, t: m.jvp(lambda x: x.at[idx].get(mode="fill", fill_value=fill), (x,), (t,)),
           X5, t5)
    vs_jax(lambda m, np_: lambda x, t: m.jvp(lambda x: np_.take(x, idx, mode="fill", fill_value=fill), (x,), (t,)),
           X5, t5)
    vs_jax(lambda m, np_: lambda x, t: m.jvp(
        lambda x: np_.take_along_axis(x, idx, 0, mode="fill", fill_value=fill), (x,), (t,)), X5, t5)
    vs_jax(lambda m, np_: m.jit(lambda x, t: m.jvp(lambda x: x.at[2, idx].get(mode="fill", fill_value=fill),
                                                   (x,), (t,))), A34, np.ones_like(A34))
    w = np.arange(1.0, 5.0, dtype=np.float32)
    vs_jax(lambda m, np_: m.grad(lambda x: np_.nansum(x.at[idx].get(mode="fill", fill_value=fill) * w)), X5)
    vs_jax(lambda m, np_: m.grad(lambda x: np_.nansum(np_.take(x, idx, mode="fill", fill_value=fill) * w)), X5)
    # a traced scalar index in fill mode
    vs_jax(lambda m, np_: m.jit(lambda x, i, t: m.jvp(lambda x: x.at[i].get(mode="fill", fill_value=fill),
                                                      (x,), (t,))), X5, np.int32(-6), t5)
    # vmap of the jvp over the tangents vs a loop
    ts = np.random.RandomState(0).randn(3, 5).astype(np.float32)
    vmap_like_loop(lambda t: xf.jvp(lambda x: xnp.take(x, idx, mode="fill", fill_value=fill), (xnp.asarray(X5),),
                                    (t,))[1], (ts,))


# ----------------------------------------------------------------------------- 3. out-of-bound scatter grads
@pytest.mark.parametrize("mode", [None, "drop", "clip", "fill"])
def test_out_of_bound_scatter_add_grads(mode):
    w = np.arange(1.0, 6.0, dtype=np.float32)
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[7].add(u, mode=mode) ** 2 * w).sum(), argnums=(0, 1)),
           X5, np.float32(3.0))
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[np.array([1, 7, -9, 4])].add(u, mode=mode) ** 2 * w).sum(),
                                 argnums=(0, 1)), X5, np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    vs_jax(lambda m, np_: m.jit(m.grad(lambda x, u, i: (x.at[i].add(u, mode=mode) * w).sum(), argnums=(0, 1))),
           X5, np.float32(3.0), np.int32(11))
    vs_jax(lambda m, np_: lambda x, u: m.jvp(lambda x, u: x.at[np.array([1, 7])].add(u, mode=mode), (x, u),
                                             (np_.ones(5), np_.array([1.0, 2.0]))),
           X5, np.array([1.0, 2.0], np.float32))
    # windows (2-D): a row beyond the array
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[np.array([0, 5])].add(u, mode=mode) ** 2).sum(),
                                 argnums=(0, 1)), A34, np.ones((2, 4), np.float32))
    # out-of-bound set/min/max: finite grads like JAX's (clip+max: see the next test)
    for op in ("set", "min", "max") if mode != "clip" else ("set", "min"):
        vs_jax(lambda m, np_: m.grad(lambda x, u: (getattr(x.at[np.array([1, 7])], op)(u, mode=mode) * w).sum(),
                                     argnums=(0, 1)), X5, np.array([0.5, 9.0], np.float32))
    # vmap of the updates' gradient vs a loop
    us = np.random.RandomState(1).randn(4, 3).astype(np.float32)
    g = xf.grad(lambda u: (xnp.asarray(X5).at[np.array([1, 7, -9])].add(u, mode=mode) ** 2).sum())
    vmap_like_loop(g, (us,))


def test_clipped_scatter_max_grad_goes_to_the_winning_update():
    """x.at[[1, 7]].max(u, mode="clip"): 7 clips to 4, and u[1] = 9 beats x[4] = 5, so the
    cotangent w[4] = 5 goes to u[1] and none to x[4]. JAX 0.10.2 gives x[4] 5 and u[1] inf
    here (docs/differences.md, Autodiff at edge points); we check against finite differences."""
    w = np.arange(1.0, 6.0, dtype=np.float32)
    u = np.array([0.5, 9.0], np.float32)
    f = lambda x, u: (x.at[np.array([1, 7])].max(u, mode="clip") * w).sum()  # noqa: E731
    gx, gu = xf.grad(f, argnums=(0, 1))(X5, u)
    np.testing.assert_array_equal(np.asarray(gx), [1.0, 2.0, 3.0, 4.0, 0.0])
    np.testing.assert_array_equal(np.asarray(gu), [0.0, 5.0])
    h = 1e-2
    x64, u64 = X5.astype(np.float64), u.astype(np.float64)
    g = lambda x, u: float(jnp.sum(jnp.asarray(x).at[np.array([1, 7])].max(u, mode="clip") * w))  # noqa: E731
    fd_u, fd_x = jax_side(lambda: ([(g(x64, u64 + h * e) - g(x64, u64 - h * e)) / (2 * h) for e in np.eye(2)],
                                   [(g(x64 + h * e, u64) - g(x64 - h * e, u64)) / (2 * h) for e in np.eye(5)]))
    np.testing.assert_allclose(np.asarray(gu), fd_u, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(gx), fd_x, rtol=1e-3)
    vmap_like_loop(lambda u: xf.grad(f, argnums=1)(X5, u), (np.stack([u, u[::-1], u + 5]),))


@pytest.mark.parametrize("u", [[2.0, 3.0, 0.5, -1.0], [0.0, 3.0, 0.5, -1.0], [0.0, 0.0, 0.0, 2.0],
                               [0.0, 0.0, 0.0, 0.0], [1.5, 0.0, 2.0, 0.0]])
def test_duplicate_scatter_mul_derivative_against_finite_differences(x64, u):
    """x.at[[0, 0, 2, 0]].mul(u): y0 = x0 u0 u1 u3, so dy0/du0 = x0 u1 u3 (no division by
    u0: exact where an update is 0). JAX 0.10.2 raises NotImplementedError for scatter_mul
    gradients with duplicate indices (docs/differences.md, Autodiff at edge points)."""
    idx = np.array([0, 0, 2, 0])
    x, u = np.array([1.5, -2.0, 0.0, 4.0]), np.array(u)
    f = lambda x, u: xnp.asarray(x).at[idx].mul(u)  # noqa: E731
    h = 1e-6
    fd_x = np.stack([(np.asarray(f(x + h * e, u)) - np.asarray(f(x - h * e, u))) / (2 * h) for e in np.eye(4)], 1)
    fd_u = np.stack([(np.asarray(f(x, u + h * e)) - np.asarray(f(x, u - h * e))) / (2 * h) for e in np.eye(4)], 1)
    for jac in (xf.jacrev, xf.jacfwd, lambda g, argnums: xf.jit(xf.jacrev(g, argnums=argnums))):
        jx, ju = jac(f, argnums=(0, 1))(x, u)
        np.testing.assert_allclose(np.asarray(jx), fd_x, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(np.asarray(ju), fd_u, rtol=1e-8, atol=1e-8)
    with pytest.raises(NotImplementedError):
        jax.grad(lambda x, u: jnp.sum(jnp.asarray(x).at[idx].mul(u)), argnums=1)(x, u)
    vmap_like_loop(lambda u: xf.grad(lambda u: xnp.sum(f(x, u) * np.arange(1.0, 5.0)))(u),
                   (np.stack([u, u[::-1], u + 1]),))


# ----------------------------------------------------------------------------- 4. duplicate set: the winner
def test_duplicate_set_gradient_goes_to_the_last_write():
    idx = np.array([0, 0, 2], np.int32)
    w = np.arange(1.0, 6.0, dtype=np.float32)
    u = np.array([1.0, 2.0, 3.0], np.float32)
    vs_jax(lambda m, np_: lambda x, u: np_.asarray(x).at[idx].set(u), X5, u)
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[idx].set(u) * w).sum(), argnums=(0, 1)), X5, u)
    vs_jax(lambda m, np_: m.jit(m.grad(lambda x, u: (x.at[idx].set(u) * w).sum(), argnums=(0, 1))), X5, u)
    vs_jax(lambda m, np_: lambda x, u: m.jvp(lambda x, u: x.at[idx].set(u), (x, u),
                                             (np_.ones(5), np_.array([10.0, 20.0, 30.0]))), X5, u)
    vs_jax(lambda m, np_: lambda x, u: m.linearize(lambda x, u: x.at[idx].set(u), x, u)[1](
        np_.ones(5), np_.array([10.0, 20.0, 30.0])), X5, u)
    # traced duplicate indices, 2-D windows, and duplicates made by clipping
    vs_jax(lambda m, np_: m.jit(m.grad(lambda x, u, i: (x.at[i].set(u) * w).sum(), argnums=(0, 1))),
           X5, u, np.array([3, 1, 3], np.int32))
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[idx].set(u) * np_.arange(12.0).reshape(3, 4)).sum(),
                                 argnums=(0, 1)), A34, np.ones((3, 4), np.float32))
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[np.array([5, 9, 1])].set(u, mode="clip") * w).sum(),
                                 argnums=(0, 1)), X5, u)
    vs_jax(lambda m, np_: m.grad(lambda x, u: (x.at[np.array([-1, 4, 7])].set(u) * w).sum(), argnums=(0, 1)),
           X5, u)
    # vmap of the gradient over the updates and over the indices vs a loop
    us = np.random.RandomState(2).randn(4, 3).astype(np.float32)
    g = xf.grad(lambda x, u: (x.at[idx].set(u) * w).sum(), argnums=(0, 1))
    vmap_like_loop(g, (xnp.asarray(X5), us), in_axes=(None, 0))
    ii = np.array([[0, 0, 2], [1, 2, 1], [4, 4, 4]], np.int32)
    gi = xf.grad(lambda x, u, i: (x.at[i].set(u) * w).sum(), argnums=(0, 1))
    vmap_like_loop(gi, (xnp.asarray(X5), xnp.asarray(u), ii), in_axes=(None, None, 0))


# ----------------------------------------------------------------------------- 5. static out-of-range ints
STATIC_CASES = [
    (np.arange(3), lambda x: x[10]), (np.arange(3), lambda x: x[-10]), (np.arange(3), lambda x: x[3]),
    (A34, lambda x: x[10, 0]), (A34, lambda x: x[1, -10]), (A34, lambda x: x[10, -10]),
    (A34, lambda x: x[10]), (A34, lambda x: x[..., 10]), (A34, lambda x: x[10, None]),
    (A34, lambda x: x[10, 1:3]), (A34, lambda x: x[-10, ::-1]), (A34, lambda x: x[10, np.array([0, 1])]),
    (A34, lambda x: x[np.array([0, 1]), 10]), (A34, lambda x: x[10:20]), (A34, lambda x: x[-10:2, 5:]),
    (A34, lambda x: x[:, 3:-10:-1]), (A34, lambda x: x.at[10, 0].get()), (A34, lambda x: x.at[10, 0].set(1.0)),
    (A34, lambda x: x.at[10].add(1.0)), (A34, lambda x: x.at[-10, 1].get(mode="fill")),
]


@pytest.mark.parametrize("k", range(len(STATIC_CASES)))
def test_static_out_of_range_int_clamps(k):
    x, f = STATIC_CASES[k]
    ref = jax_side(lambda x: f(jnp.asarray(x)), x)
    same(f(xnp.asarray(x)), ref)
    same(xf.jit(f)(x), ref)


def test_static_out_of_range_reads_and_grads():
    # reading Q[T + 1] of a length-T+1 array reads its last element
    def f(np_, q):
        T = q.shape[0] - 1
        return q[T + 1] + q[T]
    q = np.arange(1.0, 5.0, dtype=np.float32)
    same(f(xnp, xnp.asarray(q)), jax_side(lambda q: f(jnp, jnp.asarray(q)), q))
    vs_jax(lambda m, np_: m.grad(lambda x: x[10]), X5)
    vs_jax(lambda m, np_: m.jit(m.grad(lambda x: (x[10, -10] + x[1, 9]))), A34)
    vs_jax(lambda m, np_: lambda x, t: m.jvp(lambda x: x[-7], (x,), (t,)), X5, np.arange(5.0, dtype=np.float32))
    vmap_like_loop(lambda x: x[10, 0], (np.stack([A34, A34 + 1]),))


def test_static_index_errors_that_remain():
    for m, np_ in BOTH:
        with pytest.raises(IndexError, match="out of bounds for axis 0 with size 0") as e:
            np_.zeros((0, 3))[0]
        with pytest.raises(IndexError):
            m.jit(lambda x: x[-1])(np_.zeros((0, 3)))
        with pytest.raises(OverflowError, match="too large to convert to int32"):
            np_.arange(5.0)[2**40]
    assert THIS_FILE in str(e.value)
    # an empty axis sliced is fine; the next good call works
    same(xnp.zeros((0, 3))[:, 1], jax_side(lambda: jnp.zeros((0, 3))[:, 1]))
    same(xnp.arange(3)[10], jax_side(lambda: jnp.arange(3)[10]))


# ----------------------------------------------------------------------------- 6. x64: mixed index dtypes
def test_x64_mixed_index_dtypes(x64):
    a = np.arange(12.0).reshape(3, 4)
    for i in (np.int64(2), np.int64(-4), np.int64(-6), np.int32(1), np.int8(-6), np.uint8(2)):
        vs_jax(lambda m, np_: m.jit(lambda i: np_.asarray(a)[i, 1]), i)
        vs_jax(lambda m, np_: m.jit(lambda i: np_.asarray(a)[i]), i)
        vs_jax(lambda m, np_: m.jit(lambda i: np_.asarray(a)[1:, i]), i)
        vs_jax(lambda m, np_: m.jit(lambda i: np_.asarray(a).at[i, 1].get(mode="fill")), i)
    for i, j in ((np.int64(2), np.int32(1)), (np.int32(2), np.int64(-1)), (np.uint8(2), np.int64(-1)),
                 (np.uint64(2), np.int16(-1)), (np.int64(1), np.uint32(2))):
        vs_jax(lambda m, np_: m.jit(lambda i, j: np_.asarray(a)[i, j]), i, j)
        vs_jax(lambda m, np_: m.jit(lambda i, j: np_.asarray(a).at[i, j].set(100.0)), i, j)
        vs_jax(lambda m, np_: m.jit(lambda i, j: np_.asarray(a).at[i, j].add(100.0)), i, j)
        vs_jax(lambda m, np_: m.jit(m.grad(lambda x, i, j: x[i, j] * x[j, i])), a, i, j)
    vs_jax(lambda m, np_: m.jit(lambda i, j: np_.asarray(a)[i, j]), np.array([0, 2], np.int32),
           np.array([0, -1], np.int64))
    vs_jax(lambda m, np_: m.jit(lambda i: m.lax.dynamic_index_in_dim(np_.asarray(a), i, 1, False)), np.int64(-1))
    # lax.dynamic_slice: a Python int takes the default int type, NumPy scalars their own
    vs_jax(lambda m, np_: m.jit(lambda i: m.lax.dynamic_slice(np_.asarray(a), (i, 1), (1, 1))), np.int64(1))
    vs_jax(lambda m, np_: m.jit(lambda i: m.lax.dynamic_update_slice(np_.asarray(a), np_.ones((1, 1)), (i, 1))),
           np.int64(1))
    vs_jax(lambda m, np_: m.jit(lambda i: m.lax.dynamic_slice(np_.asarray(a), (i, np.int64(1)), (1, 1))),
           np.int64(1))
    for m, np_ in BOTH:
        with pytest.raises(TypeError, match="dynamic_slice must be integers of the same type, got: int64, int32"):
            m.jit(lambda i, j: m.lax.dynamic_slice(np_.asarray(a), (i, j), (2, 2)))(np.int64(1), np.int32(1))
        with pytest.raises(TypeError, match="dynamic_update_slice must be integers of the same type, "
                                            "got int64, int32"):
            m.jit(lambda i, j: m.lax.dynamic_update_slice(np_.asarray(a), np_.ones((2, 2)), (i, j)))(
                np.int64(1), np.int32(1))
    vmap_like_loop(lambda i: xnp.asarray(a)[i, 1], (np.array([-6, -1, 0, 2, 7], np.int64),))


def test_mixed_index_dtypes_x32():
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    vs_jax(lambda m, np_: m.jit(lambda i: np_.asarray(a)[i, 1]), np.int32(-6))
    vs_jax(lambda m, np_: m.jit(lambda i: m.lax.dynamic_slice(np_.asarray(a), (i, np.int64(1)), (1, 1))),
           np.int32(1))
    vs_jax(lambda m, np_: m.jit(lambda i, j: np_.asarray(a)[i, j]), np.int8(-1), np.uint16(1))


def test_narrow_int_index_on_a_long_axis():
    """x[i] with a traced int8 i = -100 on 300 elements is element 200 (NumPy's answer; JAX
    0.10.2 counts from the end in int8 arithmetic, which wraps, and gives element 0:
    docs/differences.md, Indexing). lax.dynamic_slice follows JAX (the start is in the
    index's own type)."""
    x = np.arange(300.0, dtype=np.float32)
    for i, want in ((np.int8(-100), 200.0), (np.int8(-128), 172.0), (np.int16(-301), 0.0), (np.uint8(200), 200.0)):
        assert float(xf.jit(lambda x, i: x[i])(x, i)) == want == float(np.asarray(x)[max(int(i), -300)])
        assert float(xf.jit(lambda x, i: x.at[i].get(mode="fill", fill_value=-1.0))(x, i)) == \
            (want if int(i) >= -300 else -1.0)
        vs_jax(lambda m, np_: m.jit(lambda x, i: m.lax.dynamic_slice(x, (i,), (2,))), x, i)
    vmap_like_loop(lambda i: xnp.asarray(x)[i], (np.array([-100, -1, 5, 127], np.int8),))
