"""xlafront.numpy.linalg at singular and degenerate points, against JAX 0.10.2: values,
reverse-mode gradients and forward-mode tangents (NaN/inf patterns compared with equal_nan)
at the zero matrix, the identity, rank-deficient and non-positive-definite matrices, repeated
singular values, tied entries, and a random well-conditioned matrix; vmap against a Python
loop for batches that mix these points."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from jax_ref import jax_side


def _np(t):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(xf.tree_util.tree_map(np.asarray, t))]


def _close(got, want, rtol=1e-7, atol=1e-9, what=""):
    got, want = _np(got), _np(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert g.shape == w.shape, (what, g.shape, w.shape)
        if np.issubdtype(w.dtype, np.inexact):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)


def _weights(out, seed=3):
    rng = np.random.RandomState(seed)
    return [rng.uniform(0.5, 1.5, np.shape(o)) for o in jax.tree_util.tree_leaves(out)]


def _scalarize(m, f, ws, diff_out):
    """sum(w * Re out) over the inexact outputs `diff_out` of f."""
    def g(*args):
        outs = jax.tree_util.tree_leaves(f(*args)) if m is jnp else xf.tree_util.tree_leaves(f(*args))
        tot = 0.0
        for i in diff_out:
            tot = tot + m.sum(m.real(outs[i]) * ws[i])
        return tot
    return g


def _jax_check(fj, args, argnums, diff_out, tans):
    """JAX's side of `check`: the value, the grad of the weighted sum and the jvp's tangents."""
    want = fj(*args)
    leaves = jax.tree_util.tree_leaves(want)
    if diff_out is None:
        diff_out = [i for i, l in enumerate(leaves) if jnp.issubdtype(l.dtype, jnp.inexact)]
    ws = _weights(want)
    gj = jax.grad(_scalarize(jnp, fj, ws, diff_out), argnums=argnums)(*args)
    _, tj = jax.jvp(fj, tuple(args), tuple(tans))
    tj = [t for i, t in enumerate(jax.tree_util.tree_leaves(tj)) if i in diff_out]
    return want, diff_out, gj, tj


def check(fj, fx, args, *, argnums=(0,), diff_out=None, rtol=1e-7, atol=1e-9, seed=1):
    """value, grad (of a weighted sum of the outputs) and jvp (random tangents) vs JAX."""
    args = [np.asarray(a) for a in args]
    rng = np.random.RandomState(seed)
    tans = [rng.randn(*a.shape).astype(a.dtype) if i in argnums else np.zeros_like(a)
            for i, a in enumerate(args)]
    if any(np.iscomplexobj(a) for a in args):
        tans = [t + 1j * rng.randn(*t.shape) if np.iscomplexobj(a) and i in argnums else t
                for i, (t, a) in enumerate(zip(tans, args))]
    want, diff_out, gj, tj = jax_side(_jax_check, fj, args, argnums, diff_out, tans)
    _close(fx(*args), want, rtol, atol, "value")
    ws = _weights(want)
    gx = xf.grad(_scalarize(xnp, fx, ws, diff_out), argnums=argnums)(*args)
    _close(gx, gj, rtol, atol, "grad")
    _, tx = xf.jvp(fx, tuple(args), tuple(tans))
    tx = [t for i, t in enumerate(_np(tx)) if i in diff_out]
    _close(tx, tj, rtol, atol, "jvp")


# ----------------------------------------------------------------------------- points
def _exact_rank(n, r, seed=0):
    """An integer n x n matrix of rank r (rows beyond r are integer combinations)."""
    rng = np.random.RandomState(seed + 10 * n + r)
    a = rng.randint(-3, 4, (n, n)).astype(np.float64)
    while np.linalg.matrix_rank(a[:r]) < r:
        a = rng.randint(-3, 4, (n, n)).astype(np.float64)
    for i in range(r, n):
        a[i] = a[(i - r) % r] * (i - r + 1) - (a[(i - r + 1) % r] if r > 1 else 0)
    assert np.linalg.matrix_rank(a) == r
    return a


def _rand(n, seed=0):
    return np.random.RandomState(seed).randn(n, n) + n * np.eye(n)


SQUARE = {
    "zero": np.zeros((4, 4)),
    "eye": np.eye(4),
    "rank3": _exact_rank(4, 3),
    "rank2": _exact_rank(4, 2),
    "repeated_sv": np.diag([2.0, 2.0, -2.0, 1.0]),
    "rand": _rand(4),
}


# ----------------------------------------------------------------------------- 1. pinv
@pytest.mark.parametrize("name", list(SQUARE) + ["zero_2x3", "rank1_3x2", "rand_3x5"])
def test_pinv_degenerate(x64, name):
    a = {"zero_2x3": np.zeros((2, 3)), "rank1_3x2": np.outer([1.0, 2, 3], [1.0, -1]),
         "rand_3x5": np.random.RandomState(2).randn(3, 5)}.get(name)
    a = SQUARE[name] if a is None else a
    check(lambda a: jnp.linalg.pinv(a), xnp.linalg.pinv, [a])


def test_pinv_identity_grad_is_finite(x64):
    # d pinv(I) = -dA: the derivative through the SVD was NaN here (repeated singular values)
    g = xf.grad(lambda a: xnp.sum(xnp.linalg.pinv(a)))(np.eye(3))
    np.testing.assert_array_equal(np.asarray(g), -np.ones((3, 3)))
    g0 = xf.grad(lambda a: xnp.sum(xnp.linalg.pinv(a)))(np.zeros((3, 3)))
    np.testing.assert_array_equal(np.asarray(g0), np.zeros((3, 3)))


def test_pinv_complex_and_rtol(x64):
    rng = np.random.RandomState(4)
    a = rng.randn(3, 3) + 1j * rng.randn(3, 3)
    check(lambda a: jnp.linalg.pinv(a), xnp.linalg.pinv, [a], rtol=1e-6)
    check(lambda a: jnp.linalg.pinv(a), xnp.linalg.pinv, [np.eye(3, dtype=np.complex128)])
    d = np.diag([1.0, 1e-3, 0.0])
    check(lambda a: jnp.linalg.pinv(a, rtol=1e-2), lambda a: xnp.linalg.pinv(a, rtol=1e-2), [d])


def test_pinv_vmap_vs_loop(x64):
    batch = np.stack([SQUARE[k] for k in ("zero", "eye", "rank2", "repeated_sv", "rand")])
    g = lambda a: xf.grad(lambda m: xnp.sum(xnp.linalg.pinv(m) * np.arange(16.0).reshape(4, 4)))(a)  # noqa: E731
    _close(xf.vmap(g)(batch), [np.stack([np.asarray(g(b)) for b in batch])])
    t = np.random.RandomState(0).randn(*batch.shape)
    jv = lambda a, t: xf.jvp(xnp.linalg.pinv, (a,), (t,))[1]  # noqa: E731
    _close(xf.vmap(jv)(batch, t), [np.stack([np.asarray(jv(b, tt)) for b, tt in zip(batch, t)])])


# ----------------------------------------------------------------------------- 2. lstsq
LSTSQ_A = {"zero": np.zeros((4, 4)), "zero_4x3": np.zeros((4, 3)), "zero_3x4": np.zeros((3, 4)),
           "eye": np.eye(4), "rank2": _exact_rank(4, 2), "tiny_sv": np.diag([1.0, 1e-20, 0.0, 0.0]),
           "rand_5x3": np.random.RandomState(5).randn(5, 3)}


@pytest.mark.parametrize("rcond", [None, -1, 0.0, 0.5, 2.0])
@pytest.mark.parametrize("name", list(LSTSQ_A))
def test_lstsq_values(x64, name, rcond):
    a = LSTSQ_A[name]
    b = np.arange(1.0, a.shape[0] + 1)
    jl = lambda a, b, rcond: tuple(jnp.linalg.lstsq(a, b, rcond=rcond))  # noqa: E731
    _close(xnp.linalg.lstsq(a, b, rcond=rcond), jax_side(jl, a, b, rcond), what=f"{name} {rcond}")
    b2 = np.arange(2.0 * a.shape[0]).reshape(a.shape[0], 2)
    _close(xnp.linalg.lstsq(a, b2, rcond=rcond), jax_side(jl, a, b2, rcond))


def test_lstsq_zero_matrix(x64):
    x, resid, rank, s = xnp.linalg.lstsq(np.zeros((3, 3)), np.array([1.0, 2.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(x), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(resid), [9.0])
    assert int(rank) == 0


@pytest.mark.parametrize("name", ["eye", "rand_5x3", "zero_4x3"])
def test_lstsq_derivatives(x64, name):
    a = LSTSQ_A[name]
    b = np.linspace(-1.0, 2.0, a.shape[0])
    check(lambda a, b: tuple(jnp.linalg.lstsq(a, b)), xnp.linalg.lstsq, [a, b], argnums=(0, 1), diff_out=[0, 1], rtol=1e-6)


# ----------------------------------------------------------------------------- 3. det
def _adjugate_T(a):
    """The cofactor matrix from minors (numpy, the textbook definition)."""
    n = a.shape[0]
    c = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


DET_POINTS = [("zero_1", np.zeros((1, 1)))]
for _n in (2, 3, 4, 5):
    DET_POINTS += [(f"zero_{_n}", np.zeros((_n, _n))), (f"rank{_n - 1}_{_n}", _exact_rank(_n, _n - 1)),
                   (f"rand_{_n}", _rand(_n, _n))]
    if _n >= 3:
        DET_POINTS.append((f"rank{_n - 2}_{_n}", _exact_rank(_n, _n - 2)))
    DET_POINTS.append((f"eye_{_n}", np.eye(_n)))


@pytest.mark.parametrize("name,a", DET_POINTS, ids=[p[0] for p in DET_POINTS])
def test_det_singular(x64, name, a):
    check(lambda a: jnp.linalg.det(a), xnp.linalg.det, [a], rtol=1e-7, atol=1e-9)
    g = np.asarray(xf.grad(xnp.linalg.det)(a))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, _adjugate_T(a), rtol=1e-8, atol=1e-9)


def test_det_complex_singular(x64):
    rng = np.random.RandomState(6)
    for n in (1, 4, 5):
        a = rng.randn(n, n) + 1j * rng.randn(n, n)
        if n > 1:
            a[-1] = a[0] * (1 - 2j)
        else:
            a[:] = 0
        check(lambda a: jnp.linalg.det(a), xnp.linalg.det, [a], rtol=1e-7, atol=1e-9)


def test_det_float32(x64):
    a = _exact_rank(4, 3).astype(np.float32)
    check(lambda a: jnp.linalg.det(a), xnp.linalg.det, [a], rtol=2e-4, atol=2e-4)
    r = _rand(5).astype(np.float32)
    check(lambda a: jnp.linalg.det(a), xnp.linalg.det, [r], rtol=2e-4, atol=2e-3)


def test_det_vmap_vs_loop(x64):
    batch = np.stack([np.zeros((4, 4)), np.eye(4), _exact_rank(4, 3), _exact_rank(4, 2), _rand(4)])
    g = xf.grad(xnp.linalg.det)
    _close(xf.vmap(g)(batch), [np.stack([np.asarray(g(b)) for b in batch])])
    _close(xf.vmap(g)(batch), [np.stack([_adjugate_T(b) for b in batch])], rtol=1e-8, atol=1e-9)
    jv = lambda a, t: xf.jvp(xnp.linalg.det, (a,), (t,))[1]  # noqa: E731
    t = np.random.RandomState(1).randn(*batch.shape)
    _close(xf.vmap(jv)(batch, t), [np.stack([np.asarray(jv(b, tt)) for b, tt in zip(batch, t)])])
    _close(xf.jit(xf.vmap(g))(batch), [jax_side(lambda b: jax.vmap(jax.grad(jnp.linalg.det))(b), batch)], atol=1e-9)


# ----------------------------------------------------------------------------- 4. slogdet, inv, solve, cholesky
SING = dict(SQUARE, zero_1=np.zeros((1, 1)), dup_rows=np.array([[1.0, 2, 3, 4], [2, 4, 6, 8], [0, 1, 0, 1], [1, 0, 1, 0]]))


@pytest.mark.parametrize("name", list(SING))
def test_slogdet_singular(x64, name):
    f = lambda m: lambda a: tuple(m.linalg.slogdet(a))  # noqa: E731
    check(f(jnp), f(xnp), [SING[name]], diff_out=[0, 1])


SMALL_SING = {  # 1x1 and 2x2 take JAX 0.10.2's closed forms (sign(det), log|det|, adj/det)
    "rank1_2": np.array([[1.0, 2.0], [2.0, 4.0]]), "zero_2": np.zeros((2, 2)),
    "nan_2": np.array([[np.nan, 1.0], [1.0, 2.0]]), "negzero_1": np.array([[-0.0]]),
    "nan_1": np.array([[np.nan]]), "inf_2": np.array([[np.inf, 1.0], [1.0, 2.0]]),
    "neg_2": np.array([[1.0, 3.0], [2.0, 1.0]]), "batch_2": np.array([[[1.0, 2.0], [2.0, 4.0]], [[4.0, 2.0], [1.0, 3.0]]]),
}


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(SMALL_SING))
def test_slogdet_small_closed_form(x64, name, dt):
    """sign NaN at a NaN entry (not the LU's parity 1), and at det = +0 the gradient's inf signs
    of adj(a)^T / +0 ([[inf, -inf], [-inf, inf]] at [[1, 2], [2, 4]]); values, grad, jvp as
    JAX; weak types kept; vmap as a loop."""
    a = SMALL_SING[name].astype(dt)
    f = lambda m: lambda a: tuple(m.linalg.slogdet(a))  # noqa: E731
    check(f(jnp), f(xnp), [a], diff_out=[0, 1], rtol=1e-6 if dt == np.float32 else 1e-7)
    got, want = xnp.linalg.slogdet(a), jax_side(lambda a: tuple(jnp.linalg.slogdet(a)), a)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.signbit(np.asarray(g)), np.signbit(np.asarray(w)))
    if a.ndim == 3:
        loop = [np.stack([np.asarray(xnp.linalg.slogdet(b)[k]) for b in a]) for k in range(2)]
        _close(list(xf.vmap(xnp.linalg.slogdet)(a)), loop)
    theirs = jax_side(lambda s: tuple(jnp.linalg.slogdet(jax.lax.broadcast(2.0, s))), a.shape[-2:])
    ours = xnp.linalg.slogdet(xf.lax.broadcast(2.0, a.shape[-2:]))
    assert [o.weak_type for o in ours] == [t.weak_type for t in theirs] == [True, True]


def test_matrix_rank_empty_matrix_raises_like_jax():
    """A matrix without rows or columns has no largest singular value to scale the default
    tolerance: ValueError as JAX (naming the call site and shape); with tol= it is rank 0;
    tol and rtol together are an error; the next good call works."""
    for shape in [(0, 0), (2, 0), (0, 3), (4, 0, 0)]:
        z = np.zeros(shape, np.float32)
        with pytest.raises(ValueError):
            jnp.linalg.matrix_rank(z)
        with pytest.raises(ValueError, match=r"zero-size array.*\(" + ", ".join(map(str, shape[-2:])) + r"\).*test_edge_linalg"):
            xnp.linalg.matrix_rank(z)
        with pytest.raises(ValueError, match="zero-size"):
            xf.vmap(xnp.linalg.matrix_rank)(z[None])
    _close(xnp.linalg.matrix_rank(np.zeros((0, 0), np.float32), tol=0.1),
           jax_side(lambda z: jnp.linalg.matrix_rank(z, tol=0.1), np.zeros((0, 0), np.float32)))
    with pytest.raises(ValueError, match="only one of tol or rtol"):
        xnp.linalg.matrix_rank(np.eye(2), rtol=0.1, tol=0.1)
    _close(xnp.linalg.matrix_rank(np.eye(3, dtype=np.float32)),
           jax_side(lambda e: jnp.linalg.matrix_rank(e), np.eye(3, dtype=np.float32)))


def test_slogdet_complex(x64):
    rng = np.random.RandomState(7)
    f = lambda m: lambda a: tuple(m.linalg.slogdet(a))  # noqa: E731
    a = rng.randn(3, 3) + 1j * rng.randn(3, 3)
    check(f(jnp), f(xnp), [a], diff_out=[0, 1], rtol=1e-6)
    a[2] = a[0]
    check(f(jnp), f(xnp), [a], diff_out=[0, 1], rtol=1e-6)


@pytest.mark.parametrize("name", list(SING))
def test_inv_singular(x64, name):
    check(lambda a: jnp.linalg.inv(a), xnp.linalg.inv, [SING[name]], rtol=1e-6)


@pytest.mark.parametrize("name", list(SING))
def test_solve_singular(x64, name):
    a = SING[name]
    b = np.arange(1.0, a.shape[0] + 1)
    check(lambda a, b: jnp.linalg.solve(a, b), xnp.linalg.solve, [a, b], argnums=(0, 1), rtol=1e-6)
    bm = np.arange(2.0 * a.shape[0]).reshape(a.shape[0], 2) - 1
    check(lambda a, b: jnp.linalg.solve(a, b), xnp.linalg.solve, [a, bm], argnums=(0, 1), rtol=1e-6)


def test_solve_inv_zero_1x1_inf_pattern(x64):
    # x = 1/0 = inf; dx = a^-1 (db - da x) = -inf (the LU route gave 0 * inf = NaN)
    _, t = xf.jvp(xnp.linalg.inv, (np.zeros((1, 1)),), (np.ones((1, 1)),))
    assert np.asarray(t)[0, 0] == -np.inf


CHOL = {"pd": _rand(4) @ _rand(4).T, "not_pd": np.diag([1.0, -1.0, 2.0, 3.0]), "semi_pd": np.diag([1.0, 0.0, 2.0, 3.0]),
        "zero": np.zeros((3, 3)), "eye": np.eye(3), "indefinite_2x2": np.array([[1.0, 2.0], [2.0, 1.0]]),
        "nonsymmetric": np.random.RandomState(0).randn(4, 4)}


@pytest.mark.parametrize("name", list(CHOL))
def test_cholesky_not_pd(x64, name):
    check(lambda a: jnp.linalg.cholesky(a), xnp.linalg.cholesky, [CHOL[name]], rtol=1e-6)
    # the tangent is lower triangular: exact zeros above the diagonal, whatever the input
    t = np.asarray(xf.jvp(xnp.linalg.cholesky, (CHOL[name],), (np.ones_like(CHOL[name]),))[1])
    assert np.all(np.triu(t, 1) == 0)


def test_singular_vmap_vs_loop(x64):
    batch = np.stack([SING[k] for k in ("zero", "eye", "rank3", "dup_rows", "rand")])
    t = np.random.RandomState(2).randn(*batch.shape)
    b = np.arange(1.0, 5.0)
    fns = [lambda a: tuple(xnp.linalg.slogdet(a)), xnp.linalg.inv, lambda a: xnp.linalg.solve(a, b)]
    for f in fns:
        jv = lambda a, t: xf.jvp(f, (a,), (t,))[1]  # noqa: E731
        loop = [jv(a, tt) for a, tt in zip(batch, t)]
        got = _np(xf.vmap(jv)(batch, t))
        want = [np.stack(z) for z in zip(*[_np(l) for l in loop])]
        _close(got, want)
    chol = np.stack([CHOL[k] for k in ("pd", "not_pd", "semi_pd")])
    jv = lambda a, t: xf.jvp(xnp.linalg.cholesky, (a,), (t,))[1]  # noqa: E731
    tc = np.ones_like(chol)
    _close(xf.vmap(jv)(chol, tc), [np.stack([np.asarray(jv(a, tt)) for a, tt in zip(chol, tc)])])


# ----------------------------------------------------------------------------- 5. norms
VECS = {"zero": np.zeros(4), "tied_max": np.array([1.0, -1.0, 1.0, 0.5]), "tied_min": np.array([0.5, -0.5, 2.0, 3.0]),
        "with_zeros": np.array([0.0, 1.0, -1.0, 0.0]), "rand": np.array([0.3, -1.2, 2.0, 0.7])}
VEC_ORDS = [None, 1, 2, np.inf, -np.inf, 0, -1, 3, 0.5]


@pytest.mark.parametrize("ord", VEC_ORDS, ids=[str(o) for o in VEC_ORDS])
@pytest.mark.parametrize("name", list(VECS))
def test_vector_norm_ties(x64, name, ord):
    check(lambda x: jnp.linalg.norm(x, ord=ord), lambda x: xnp.linalg.norm(x, ord=ord), [VECS[name]])


MATS = {"zero": np.zeros((3, 3)), "eye": np.eye(3), "tied": np.array([[1.0, -1, 2], [2, 1, -1], [0, 1, 1]]),
        "zero_2x3": np.zeros((2, 3)), "rank1": np.outer([1.0, 2, 0], [1, -1, 1]),
        "rand": np.random.RandomState(1).randn(3, 3)}
MAT_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", MAT_ORDS, ids=[str(o) for o in MAT_ORDS])
@pytest.mark.parametrize("name", list(MATS))
def test_matrix_norm_ties(x64, name, ord):
    check(lambda x: jnp.linalg.norm(x, ord=ord), lambda x: xnp.linalg.norm(x, ord=ord), [MATS[name]], rtol=1e-6)


def test_norm_zero_inf_grad_splits_with_initial(x64):
    # max(|x|) with initial 0 (as JAX): at x = 0 the four entries and the initial value tie
    g = xf.grad(lambda x: xnp.linalg.norm(x, ord=np.inf))(np.zeros(4))
    np.testing.assert_array_equal(np.asarray(g), np.full(4, 0.125))


def test_norm_vmap_vs_loop(x64):
    batch = np.stack([MATS[k] for k in ("zero", "eye", "tied", "rand")])
    for o in (1, 2, np.inf, -1, "nuc"):
        g = xf.grad(lambda x: xnp.linalg.norm(x, ord=o))
        _close(xf.vmap(g)(batch), [np.stack([np.asarray(g(b)) for b in batch])], what=str(o))
    vb = np.stack(list(VECS.values()))
    for o in (1, np.inf, -np.inf):
        g = xf.grad(lambda x: xnp.linalg.norm(x, ord=o))
        _close(xf.vmap(g)(vb), [np.stack([np.asarray(g(b)) for b in vb])], what=str(o))
