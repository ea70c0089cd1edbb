"""xlafront.numpy.linalg and xlafront.lax.linalg against jax: values (float32, float64, complex),
jvp and vjp (against JAX and central finite differences in float64), vmap, bad input, and
the LAPACK custom calls in the lowered StableHLO."""
import functools

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xlax

from jax_ref import jax_side
from jnp_compare import mats, plain


def _rng():
    return np.random.RandomState(0)


def spd(dt, n, batch=(), seed=0):
    a = mats(dt, *batch, n, n, seed=seed)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dt)


def tree_leaves(x):
    return jax.tree_util.tree_leaves(x)


def assert_trees_close(got, want, rtol, atol, check_dtype=True):
    gl, wl = tree_leaves(xf.tree_util.tree_map(np.asarray, got)), tree_leaves(want)
    assert len(gl) == len(wl)
    for g, w in zip(gl, wl):
        w = np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        if check_dtype:
            assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if np.issubdtype(w.dtype, np.inexact):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)


# (name, f(np_module, *args), args(dtype)); f gets jnp or xnp
def _la(m):
    return m.linalg


CASES = [
    ("cholesky", lambda m, a: _la(m).cholesky(a), lambda dt: [spd(dt, 4)]),
    ("cholesky_upper", lambda m, a: _la(m).cholesky(a, upper=True), lambda dt: [spd(dt, 3)]),
    ("solve_vec", lambda m, a, b: _la(m).solve(a, b), lambda dt: [mats(dt, 4, 4), mats(dt, 4, seed=1)]),
    ("solve_mat", lambda m, a, b: _la(m).solve(a, b), lambda dt: [mats(dt, 2, 3, 3), mats(dt, 3, 2, seed=1)]),
    ("inv", lambda m, a: _la(m).inv(a), lambda dt: [mats(dt, 4, 4)]),
    ("det2", lambda m, a: _la(m).det(a), lambda dt: [mats(dt, 2, 2)]),
    ("det3", lambda m, a: _la(m).det(a), lambda dt: [mats(dt, 2, 3, 3)]),
    ("det4", lambda m, a: _la(m).det(a), lambda dt: [mats(dt, 4, 4)]),
    ("slogdet", lambda m, a: tuple(_la(m).slogdet(a)), lambda dt: [mats(dt, 4, 4)]),
    ("qr", lambda m, a: tuple(_la(m).qr(a)), lambda dt: [mats(dt, 4, 3)]),
    ("qr_wide", lambda m, a: tuple(_la(m).qr(a)), lambda dt: [mats(dt, 3, 4)]),
    ("qr_complete", lambda m, a: tuple(_la(m).qr(a, mode="complete")), lambda dt: [mats(dt, 4, 3)]),
    ("qr_r", lambda m, a: _la(m).qr(a, mode="r"), lambda dt: [mats(dt, 4, 3)]),
    ("eigh", lambda m, a: tuple(_la(m).eigh(a)), lambda dt: [spd(dt, 4)]),
    ("eigh_upper", lambda m, a: tuple(_la(m).eigh(a, UPLO="U")), lambda dt: [spd(dt, 3)]),
    ("eigvalsh", lambda m, a: _la(m).eigvalsh(a), lambda dt: [spd(dt, 4)]),
    ("svd", lambda m, a: tuple(_la(m).svd(a)), lambda dt: [mats(dt, 4, 4)]),
    ("svd_tall", lambda m, a: tuple(_la(m).svd(a, full_matrices=False)), lambda dt: [mats(dt, 4, 3)]),
    ("svd_wide_full", lambda m, a: tuple(_la(m).svd(a)), lambda dt: [mats(dt, 3, 4)]),
    ("svdvals", lambda m, a: _la(m).svd(a, compute_uv=False), lambda dt: [mats(dt, 3, 4)]),
    ("pinv", lambda m, a: _la(m).pinv(a), lambda dt: [mats(dt, 4, 3)]),
    ("lstsq", lambda m, a, b: _la(m).lstsq(a, b), lambda dt: [mats(dt, 5, 3), mats(dt, 5, 2, seed=1)]),
    ("lstsq_vec", lambda m, a, b: _la(m).lstsq(a, b), lambda dt: [mats(dt, 5, 3), mats(dt, 5, seed=1)]),
    ("matrix_power_neg", lambda m, a: _la(m).matrix_power(a, -2), lambda dt: [mats(dt, 3, 3) + 3 * np.eye(3, dtype=dt)]),
    ("matrix_power_3", lambda m, a: _la(m).matrix_power(a, 3), lambda dt: [mats(dt, 3, 3)]),
    ("norm_2", lambda m, a: _la(m).norm(a, 2), lambda dt: [mats(dt, 4, 3)]),
    ("norm_-2", lambda m, a: _la(m).norm(a, -2, axis=(0, 2), keepdims=True), lambda dt: [mats(dt, 4, 2, 3)]),
    ("norm_nuc", lambda m, a: _la(m).norm(a, "nuc", axis=(1, 2)), lambda dt: [mats(dt, 2, 4, 3)]),
    ("cond", lambda m, a: _la(m).cond(a), lambda dt: [mats(dt, 4, 4)]),
    ("cond_fro", lambda m, a: _la(m).cond(a, "fro"), lambda dt: [mats(dt, 3, 3)]),
    ("matrix_rank", lambda m, a: _la(m).matrix_rank(a), lambda dt: [(mats(dt, 5, 2) @ mats(dt, 2, 4, seed=1))]),
]
CASE_IDS = [c[0] for c in CASES]
# complex inputs: the functions JAX supports for complex matrices
COMPLEX_OK = {"cholesky", "cholesky_upper", "solve_vec", "solve_mat", "inv", "det2", "det4", "slogdet", "qr",
              "qr_wide", "qr_complete", "eigh", "eigvalsh", "svd", "svd_tall", "svdvals", "pinv", "norm_2",
              "norm_nuc", "cond", "matrix_power_neg"}
# derivatives: everything with a derivative (JAX has no SVD derivative of full U/V of
# non-square matrices; ranks are integers)
NO_DERIV = {"svd_wide_full", "matrix_rank"}


def _run_cases(cases, make_args, wrap=None):
    """All cases in one compiled program per library (compiles dominate these tests);
    returns [(name, got, want)]."""
    argsets = [make_args(c) for c in cases]

    def program(m, tr):
        def run(argsets):
            outs = []
            for (name, f, _), args in zip(cases, argsets):
                g = functools.partial(f, m)
                outs.append(g(*args) if wrap is None else wrap(tr, g)(*args))
            return outs
        return run
    got = xf.jit(program(xnp, xf))(argsets)
    want = jax_side(lambda a: plain(jax.jit(program(jnp, jax))(a)), argsets)
    return [(c[0], g, w) for c, g, w in zip(cases, got, want)]


def _check_cases(results, rtol, atol):
    for name, got, want in results:
        try:
            assert_trees_close(got, want, rtol, atol)
        except AssertionError as e:
            raise AssertionError(f"case {name}: {e}") from None


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_values(dtype):
    cases = CASES if dtype == "float32" else [c for c in CASES if c[0] in COMPLEX_OK]
    _check_cases(_run_cases(cases, lambda c: c[2](np.dtype(dtype))), rtol=2e-4, atol=2e-5)


def test_values_float64(x64):
    _check_cases(_run_cases(CASES, lambda c: c[2](np.float64)), rtol=1e-10, atol=1e-12)


def test_eager_values_and_result_types():
    a = spd(np.float32, 3)
    got, want = xnp.linalg.eigh(a), jax_side(lambda a: tuple(jnp.linalg.eigh(a)), a)
    assert type(got).__name__ == "EighResult" and got._fields == ("eigenvalues", "eigenvectors")
    assert_trees_close(tuple(got), want, 1e-5, 1e-6)
    u, s, vh = xnp.linalg.svd(a)
    assert xnp.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert xnp.linalg.qr(a)._fields == ("Q", "R")
    assert xnp.linalg.slogdet(a)._fields == ("sign", "logabsdet")
    np.testing.assert_allclose(np.asarray(xnp.linalg.det(a)), np.asarray(jax_side(lambda a: jnp.linalg.det(a), a)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(xnp.linalg.solve(a, np.ones(3, np.float32))),
                               np.asarray(jax_side(lambda a: jnp.linalg.solve(a, np.ones(3, np.float32)), a)), rtol=1e-5)
    # integer input is promoted, as in JAX
    got = xnp.linalg.det(np.array([[2, 1], [1, 3]], np.int32))
    assert got.dtype == np.float32 and float(got) == 5.0


# ----------------------------------------------------------------------------- derivatives
def _tangents(args, seed=1):
    r = np.random.RandomState(seed)
    out = []
    for a in args:
        t = r.randn(*a.shape)
        if np.iscomplexobj(a):
            t = t + 1j * r.randn(*a.shape)
        out.append(t.astype(a.dtype))
    return out


def _weights(tree, seed=2):
    r = np.random.RandomState(seed)
    return [r.randn(*np.shape(x)) for x in tree_leaves(tree)]


def _loss(m, f, ws):
    def loss(*args):
        outs = [o for o in tree_leaves(f(m, *args)) if m.issubdtype(o.dtype, m.inexact)]
        return sum(m.sum(m.real(o) * w) for o, w in zip(outs, ws))
    return loss


# (derivatives that are compositions of others already covered are left out to keep this fast)
DERIV_SKIP = NO_DERIV | {"cholesky_upper", "qr_r", "eigvalsh", "norm_-2", "lstsq_vec", "matrix_power_3", "det2",
                         "cond", "svdvals", "matrix_power_neg", "norm_nuc"}
DERIV_CASES = [c for c in CASES if c[0] not in DERIV_SKIP]


DERIV_GROUPS = [DERIV_CASES[i::3] for i in range(3)]


@pytest.mark.parametrize("group", DERIV_GROUPS, ids=["+".join(c[0] for c in g) for g in DERIV_GROUPS])
def test_jvp_vjp_float64(x64, group):
    """jvp and grad against JAX, and the jvp against central finite differences of the
    xlafront function: one compiled program per library for a group of cases."""
    eps = 1e-6
    data = []
    for name, f, make in group:
        args = make(np.float64)
        want_p = jax_side(lambda *a: plain(jax.jit(functools.partial(f, jnp))(*a)), *args)
        int_out = [not np.issubdtype(np.asarray(w).dtype, np.inexact) for w in tree_leaves(want_p)]
        ws = [w for w, i in zip(_weights(want_p), int_out) if not i]
        data.append((args, _tangents(args), ws))

    def program(m, tr):
        def run(data):
            res = []
            for (name, f, _), (args, ts, ws) in zip(group, data):
                def inexact_outs(*a):  # integer outputs have float0 tangents (values compared elsewhere)
                    return [o for o in tree_leaves(f(m, *a)) if m.issubdtype(o.dtype, m.inexact)]
                p, t = tr.jvp(inexact_outs, tuple(args), tuple(ts))
                g = tr.grad(_loss(m, f, ws), argnums=tuple(range(len(args))))(*args)
                if tr is jax:
                    res.append((p, t, g))
                    continue
                plus = inexact_outs(*[a + eps * d for a, d in zip(args, ts)])
                minus = inexact_outs(*[a - eps * d for a, d in zip(args, ts)])
                res.append((p, t, g, [(u - v) / (2 * eps) for u, v in zip(plus, minus)]))
            return res
        return run

    got = xf.jit(program(xnp, xf))(data)
    want = jax_side(lambda d: plain(jax.jit(program(jnp, jax))(d)), data)
    for (name, _, _), g, w in zip(group, got, want):
        try:
            assert_trees_close(g[:3], w[:3], 1e-8, 1e-10)
            for t, d in zip(tree_leaves(xf.tree_util.tree_map(np.asarray, g[1])),
                            tree_leaves(xf.tree_util.tree_map(np.asarray, g[3]))):
                np.testing.assert_allclose(t, d, rtol=1e-5, atol=1e-6)
        except AssertionError as e:
            raise AssertionError(f"case {name}: {e}") from None


def test_eager_grad_float32_and_second_order():
    a = spd(np.float32, 2)
    g = xf.grad(lambda x: xnp.linalg.slogdet(x)[1])(a)
    np.testing.assert_allclose(np.asarray(g), np.asarray(jax_side(lambda a: jax.grad(lambda x: jnp.linalg.slogdet(x)[1])(a), a)),
                               rtol=1e-4, atol=1e-5)

    def f(m):
        return lambda x: m.sum(m.linalg.cholesky(x) ** 2)
    h = xf.jit(xf.hessian(f(xnp)))(a)
    np.testing.assert_allclose(np.asarray(h), np.asarray(jax_side(lambda a: jax.hessian(f(jnp))(a), a)), rtol=1e-3, atol=1e-4)


def test_complex_jvp(x64):
    cases = [c for c in CASES if c[0] in ("cholesky", "inv", "qr", "eigh", "svd", "slogdet")]
    data = []
    for name, f, make in cases:
        args = make(np.complex128)
        ts = _tangents(args)
        if name in ("cholesky", "eigh"):  # Hermitian tangents
            ts = [(t + np.conj(t.T)) / 2 for t in ts]
        data.append((args, ts))

    def program(m, tr):
        return lambda data: [tr.jvp(functools.partial(f, m), tuple(a), tuple(t))
                             for (_, f, _), (a, t) in zip(cases, data)]
    got = xf.jit(program(xnp, xf))(data)
    want = jax_side(lambda d: plain(jax.jit(program(jnp, jax))(d)), data)
    _check_cases([(c[0], g, w) for c, g, w in zip(cases, got, want)], 1e-8, 1e-10)


# ----------------------------------------------------------------------------- vmap
def test_vmap():
    def batch(c):
        return [np.stack([a, a * np.float32(1.5) + (np.eye(*a.shape[-2:], dtype=a.dtype) if a.ndim >= 2 else 0)])
                for a in c[2](np.float32)]
    _check_cases(_run_cases(CASES, batch, wrap=lambda tr, g: tr.vmap(g)), rtol=2e-4, atol=2e-5)


def test_vmap_axes_and_unbatched_operands():
    a, b = spd(np.float32, 3), mats(np.float32, 3, 4, 2)
    # only b batched (along axis 1)
    got = xf.vmap(xnp.linalg.solve, in_axes=(None, 1))(a, b)
    want = jax_side(lambda a, b: jax.vmap(jnp.linalg.solve, in_axes=(None, 1))(a, b), a, b)
    assert_trees_close(got, want, 1e-4, 1e-5)
    # a batched along its last axis, out_axes 1
    ab = np.stack([a, 2 * a], axis=-1)
    got = xf.vmap(xnp.linalg.cholesky, in_axes=2, out_axes=1)(ab)
    want = jax_side(lambda ab: jax.vmap(jnp.linalg.cholesky, in_axes=2, out_axes=1)(ab), ab)
    assert_trees_close(got, want, 1e-4, 1e-5)


# ----------------------------------------------------------------------------- lax.linalg
TRI_FLAGS = [(ls, lo, ta, ca, ud) for ls in (True, False) for lo in (True, False) for ta, ca in
             ((False, False), (True, False), (True, True), (False, True)) for ud in (False, True)]


def test_triangular_solve_all_flags(x64):
    a = np.tril(mats(np.complex128, 3, 3)) + 3 * np.eye(3)
    a = a + np.triu(mats(np.complex128, 3, 3, seed=3), 1)   # the other triangle must be ignored
    b_left, b_right = mats(np.complex128, 3, 2, seed=1), mats(np.complex128, 2, 3, seed=1)

    def all_flags(lin):
        def f(a, bl, br):
            return [lin.triangular_solve(a, bl if ls else br, left_side=ls, lower=lo, transpose_a=ta,
                                         conjugate_a=ca, unit_diagonal=ud) for ls, lo, ta, ca, ud in TRI_FLAGS]
        return f
    got = xf.jit(all_flags(xlax.linalg))(a, b_left, b_right)
    want = jax_side(lambda *a: jax.jit(all_flags(jax.lax.linalg))(*a), a, b_left, b_right)
    assert_trees_close(got, want, 1e-10, 1e-12)


@pytest.mark.parametrize("ls,lo,ta,ca,ud", [(True, True, False, False, False), (False, False, True, False, True),
                                             (True, False, True, True, False), (False, True, False, True, False)])
def test_triangular_solve_derivatives_and_vmap(x64, ls, lo, ta, ca, ud):
    dt = np.complex128 if ca else np.float64
    a = mats(dt, 3, 3) + 3 * np.eye(3)
    b = mats(dt, 3, 2, seed=1) if ls else mats(dt, 2, 3, seed=1)
    kw = dict(left_side=ls, lower=lo, transpose_a=ta, conjugate_a=ca, unit_diagonal=ud)
    fx = functools.partial(xlax.linalg.triangular_solve, **kw)
    fj = functools.partial(jax.lax.linalg.triangular_solve, **kw)
    ts = tuple(_tangents([a, b]))
    assert_trees_close(xf.jit(lambda p, t: xf.jvp(fx, p, t))((a, b), ts), jax_side(lambda p, t: jax.jvp(fj, p, t), (a, b), ts), 1e-9, 1e-11)
    ct = mats(dt, *b.shape, seed=5)
    got = xf.vjp(fx, a, b)[1](ct)
    want = jax_side(lambda a, b, ct: jax.vjp(fj, a, b)[1](ct), a, b, ct)
    assert_trees_close(got, want, 1e-9, 1e-11)
    # vmap: both batched, only b batched (the folded path), only a batched
    ab, bb = np.stack([a, 2 * a]), np.stack([b, -b + 1])
    for axes, xs in (((0, 0), (ab, bb)), ((None, 0), (a, bb)), ((None, 2), (a, np.stack([b, b * 3], 2))),
                     ((0, None), (ab, b))):
        got = xf.vmap(fx, in_axes=axes)(*xs)
        want = jax_side(lambda *xs: jax.vmap(fj, in_axes=axes)(*xs), *xs)
        assert_trees_close(got, want, 1e-9, 1e-11)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 3)])
def test_lax_lu_values_jvp_vmap(x64, shape):
    a = mats(np.float64, *shape)
    got, want = xlax.linalg.lu(a), jax_side(lambda a: jax.lax.linalg.lu(a), a)
    assert_trees_close(got, want, 1e-12, 1e-12)
    t = _tangents([a])[0]
    ab = np.stack([a, a[..., ::-1, :]])

    def checks(m, lin, tr):
        def f(a, t, ab):
            jv = tr.jvp(lambda x: lin.lu(x)[0], (a,), (t,))[1]
            g = tr.grad(lambda x: m.sum(m.sin(lin.lu(x)[0])))(a)
            return jv, g, tr.vmap(lin.lu)(ab)
        return f
    got = xf.jit(checks(xnp, xlax.linalg, xf))(a, t, ab)
    want = jax_side(lambda *a: jax.jit(checks(jnp, jax.lax.linalg, jax))(*a), a, t, ab)
    assert_trees_close(got, want, 1e-9, 1e-11)


def test_lax_linalg_signatures():
    a = spd(np.float32, 3)
    piv = np.array([[2, 2, 3, 3], [1, 1, 2, 4]], np.int32)
    lin = jax.lax.linalg
    want = jax_side(lambda a, piv: plain([lin.cholesky(a), lin.eigh(a), lin.svd(a), lin.svd(a, compute_uv=False),
                                          lin.qr(a[:, :2], full_matrices=False),
                                          lin.lu_pivots_to_permutation(piv, 5)]), a, piv)
    assert_trees_close(xlax.linalg.cholesky(a), want[0], 1e-5, 1e-6)
    assert_trees_close(xlax.linalg.eigh(a), want[1], 1e-5, 1e-6)
    assert_trees_close(xlax.linalg.svd(a), want[2], 1e-5, 1e-6)
    assert_trees_close(xlax.linalg.svd(a, compute_uv=False), want[3], 1e-5, 1e-6)
    assert_trees_close(xlax.linalg.qr(a[:, :2], full_matrices=False), want[4], 1e-5, 1e-6)
    assert_trees_close(xf.jit(lambda p: xlax.linalg.lu_pivots_to_permutation(p, 5))(piv), want[5], 0, 0)


# ----------------------------------------------------------------------------- bad input
def test_singular_and_indefinite_give_jax_values():
    one = np.ones((3, 3), np.float32)
    four = np.ones((4, 4), np.float32)
    neg = -np.eye(2, dtype=np.float32)
    checks = [(lambda m: m.linalg.inv(one)), (lambda m: m.linalg.solve(one, np.ones(3, np.float32))),
              (lambda m: m.linalg.det(four)), (lambda m: tuple(m.linalg.slogdet(four))),
              (lambda m: m.linalg.cholesky(neg)), (lambda m: m.linalg.det(one)),
              (lambda m: m.linalg.matrix_rank(one)), (lambda m: m.linalg.cond(one, 1))]
    got = xf.jit(lambda: [c(xnp) for c in checks])()
    want = jax_side(lambda: jax.jit(lambda: [c(jnp) for c in checks])())
    assert_trees_close(got, want, 1e-5, 1e-6)
    assert np.isnan(np.asarray(xnp.linalg.cholesky(neg))).any()
    assert float(xnp.linalg.slogdet(four)[1]) == -np.inf


def test_bad_shapes_raise_jax_error_class_and_recover():
    here = __file__.rsplit("/", 1)[-1]
    bad = [
        (lambda m: m.linalg.inv(np.ones((2, 3), np.float32)), ValueError),
        (lambda m: m.linalg.det(np.ones((2, 3), np.float32)), ValueError),
        (lambda m: m.linalg.solve(np.eye(3, dtype=np.float32), np.ones(4, np.float32)), ValueError),
        (lambda m: m.linalg.solve(np.ones((2, 3, 3), np.float32), np.ones((2, 3), np.float32)), ValueError),
        (lambda m: m.linalg.cholesky(np.ones((2, 3), np.float32)), TypeError),
        (lambda m: m.linalg.eigh(np.ones((2, 3), np.float32)), TypeError),
        (lambda m: m.linalg.svd(np.ones(3, np.float32)), TypeError),
        (lambda m: m.linalg.qr(np.ones(3, np.float32)), TypeError),
    ]
    for f, cls in bad:
        with pytest.raises(cls):
            f(jnp)
        with pytest.raises(cls) as e:
            f(xnp)
        assert here in str(e.value), str(e.value)
        assert "(2, 3)" in str(e.value) or "(3,)" in str(e.value) or "(4,)" in str(e.value) or \
            "(2, 3, 3)" in str(e.value), str(e.value)
    # jit: the same errors at trace time, and the next good call works
    with pytest.raises(ValueError):
        xf.jit(xnp.linalg.inv)(np.ones((2, 3), np.float32))
    a = spd(np.float32, 3)
    want = jax_side(lambda a: jnp.linalg.inv(a), a)
    assert_trees_close(xf.jit(xnp.linalg.inv)(a), want, 1e-4, 1e-5)
    for lin in (jax.lax.linalg, xlax.linalg):
        with pytest.raises(TypeError):
            lin.triangular_solve(np.eye(3, dtype=np.float32), np.ones((3, 2), np.complex64), left_side=True)
    with pytest.raises(ValueError, match="b must have 3 rows"):
        xlax.linalg.triangular_solve(np.eye(3, dtype=np.float32), np.ones((2, 2), np.float32), left_side=True)
    assert_trees_close(xnp.linalg.inv(a), want, 1e-4, 1e-5)


def test_svd_derivative_unimplemented_case_like_jax():
    a = mats(np.float32, 3, 4)
    with pytest.raises(NotImplementedError):
        jax.jvp(jnp.linalg.svd, (a,), (a,))
    with pytest.raises(NotImplementedError):
        xf.jvp(xnp.linalg.svd, (a,), (a,))


# ----------------------------------------------------------------------------- StableHLO
def test_lowering_uses_lapack_custom_calls():
    a = spd(np.float32, 3)
    text = xf.jit(lambda x: (xnp.linalg.cholesky(x), xnp.linalg.solve(x, x), xnp.linalg.qr(x),
                             xnp.linalg.eigh(x), xnp.linalg.svd(x))).lower(a).as_text()
    for target in ("lapack_spotrf_ffi", "lapack_sgetrf_ffi", "lapack_strsm_ffi", "lapack_sgeqrf_ffi",
                   "lapack_sorgqr_ffi", "lapack_ssyevd_ffi", "lapack_sgesdd_ffi"):
        assert f"stablehlo.custom_call @{target}(" in text, target
    assert "mhlo.backend_config = {uplo = 76 : ui8}" in text
    assert "operand_layouts = [dense<[0, 1]> : tensor<2xindex>]" in text
    bt = xf.jit(xnp.linalg.cholesky).lower(spd(np.float64, 3, batch=(2,)).astype(np.float32)).as_text()
    assert 'num_batch_dims = "1"' in bt and "dense<[1, 2, 0]> : tensor<3xindex>" in bt


def test_gpu_lowering_paths(monkeypatch):
    """No GPU here: the GPU lowering (native cholesky/triangular_solve, cuSOLVER custom calls)
    is checked by parsing its text with jaxlib, and the native ops also run on the CPU."""
    import xlafront.lowering.rules_linalg as RL
    from jaxlib import _jax
    a = mats(np.float32, 2, 4, 4)
    s = np.stack([spd(np.float32, 4), spd(np.float32, 4, seed=1)])
    monkeypatch.setattr(RL, "_platform", lambda: "cuda")
    for f, arg in [(xnp.linalg.cholesky, s), (lambda x: xnp.linalg.solve(x, x[..., :1]), a),
                   (xnp.linalg.qr, a[:, :, :3]), (xnp.linalg.eigh, s), (xnp.linalg.svd, a[:, :3, :]),
                   (lambda x: xnp.linalg.svd(x, full_matrices=False), a[:, :, :3])]:
        text = xf.jit(f).lower(arg).as_text()
        _jax.mlir.mlir_module_to_xla_computation(text, use_tuple_args=False, return_tuple=False)
    assert "stablehlo.cholesky" in xf.jit(xnp.linalg.cholesky).lower(s).as_text()

    def native(x):
        return (xnp.linalg.cholesky(x),
                xlax.linalg.triangular_solve(x, x, left_side=True, lower=True, transpose_a=True))
    got = xf.jit(native)(s)
    monkeypatch.setattr(RL, "_platform", lambda: "cpu")
    want = jax_side(lambda s: jax.jit(lambda x: (jnp.linalg.cholesky(x), jax.lax.linalg.triangular_solve(
        x, x, left_side=True, lower=True, transpose_a=True)))(s), s)
    assert_trees_close(got, want, 1e-4, 1e-5)


def test_empty_matrices():
    z, z3, b = np.zeros((0, 0), np.float32), np.zeros((0, 3), np.float32), np.zeros((2, 0, 0), np.float32)

    def f(m):
        return lambda z, z3, b: [m.linalg.cholesky(z), m.linalg.inv(z), m.linalg.det(z), tuple(m.linalg.slogdet(b)),
                                 m.linalg.svd(z3, compute_uv=False), tuple(m.linalg.qr(z3)), tuple(m.linalg.eigh(z)),
                                 m.linalg.solve(z, np.zeros((0,), np.float32)), m.linalg.pinv(z3)]
    assert_trees_close(xf.jit(f(xnp))(z, z3, b), jax_side(lambda *a: jax.jit(f(jnp))(*a), z, z3, b), 0, 0)


def test_weak_types_follow_jax():
    """A weakly typed matrix (built from Python scalars) keeps its weak type through the
    lax.linalg primitives and the jnp.linalg / jax.scipy.linalg functions that JAX keeps it
    in (det, cholesky, svdvals, eigh, qr, cond, the solves of weak operands, ...), and loses
    it where JAX does (inv, pinv, slogdet, det by LU, expm, lu's p and l, ...)."""
    import jax.scipy.linalg as jsl
    import xlafront.scipy.linalg as xsl

    def weak_types(np_, sl, lax):
        w = np_.where(np_.eye(3, dtype=bool), 4.0, 1.0)
        w4 = np_.where(np_.eye(4, dtype=bool), 4.0, 1.0)
        s = np_.asarray(w, np.float32)
        outs = {
            "det": np_.linalg.det(w), "det4": np_.linalg.det(w4), "cholesky": np_.linalg.cholesky(w),
            "svdvals": np_.linalg.svdvals(w), "svd": np_.linalg.svd(w), "eigh": np_.linalg.eigh(w),
            "qr": np_.linalg.qr(w), "slogdet": np_.linalg.slogdet(w), "cond": np_.linalg.cond(w),
            "cond1": np_.linalg.cond(w, 1), "inv": np_.linalg.inv(w), "solve": np_.linalg.solve(w, w),
            "solve_strong_b": np_.linalg.solve(w, s), "pinv": np_.linalg.pinv(w),
            "matrix_rank": np_.linalg.matrix_rank(w), "lstsq": np_.linalg.lstsq(w, w),
            "lax.cholesky": lax.linalg.cholesky(w), "lax.lu": lax.linalg.lu(w), "lax.qr": lax.linalg.qr(w),
            "lax.eigh": lax.linalg.eigh(w), "lax.svd": lax.linalg.svd(w),
            "lax.triangular_solve": lax.linalg.triangular_solve(w, w, left_side=True, lower=True),
            "lax.triangular_solve_mixed": lax.linalg.triangular_solve(w, s, left_side=True, lower=True),
            "sl.cholesky": sl.cholesky(w), "sl.lu": sl.lu(w), "sl.lu_factor": sl.lu_factor(w),
            "sl.expm": sl.expm(w), "sl.cho_solve": sl.cho_solve((w, False), w),
            "sl.solve_triangular": sl.solve_triangular(w, w), "sl.lu_solve": sl.lu_solve(sl.lu_factor(w), w),
            "sl.solve_pos": sl.solve(w, w, assume_a="pos"), "sl.eigh": sl.eigh(w), "sl.svd": sl.svd(w),
            "sl.qr": sl.qr(w),
        }
        return {k: [(str(x.dtype), x.weak_type) for x in jax.tree_util.tree_leaves(tuple(v) if isinstance(v, tuple) else v)]
                for k, v in outs.items()}
    got, want = weak_types(xnp, xsl, xlax), jax_side(lambda: weak_types(jnp, jsl, jax.lax))
    assert got == want
    assert want["det"] == [("float32", True)] and want["inv"] == [("float32", False)]


def test_lstsq_numpy_resid_and_rcond_like_jax():
    """numpy_resid=True: residuals only for a tall a of full column rank (else [], as numpy
    and JAX); a negative rcond means machine precision."""
    deficient = np.array([[1., 2.], [2., 4.], [3., 6.]], np.float32)
    full = mats(np.float32, 4, 2)
    b3, b4 = np.ones(3, np.float32), mats(np.float32, 4, 2, seed=1)
    for a, b in ((deficient, b3), (full, b4), (full.T, b4[:2])):
        for kw in ({"numpy_resid": True}, {}, {"rcond": -1.0}, {"rcond": 0.5}):
            got, want = xnp.linalg.lstsq(a, b, **kw), jax_side(lambda a, b: tuple(jnp.linalg.lstsq(a, b, **kw)), a, b)
            for g, w in zip(got, want):
                assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype, (a.shape, kw)
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=2e-5, err_msg=str(kw))
    assert np.asarray(xnp.linalg.lstsq(deficient, b3, numpy_resid=True)[1]).shape == (0,)
