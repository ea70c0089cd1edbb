"""xlafront.scipy.linalg against jax.scipy.linalg: values (float32, float64, complex64),
jvp and vjp (against JAX and central finite differences in float64), vmap, bad input."""
import functools

import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.linalg as xsl

from jax_ref import jax_side
from jnp_compare import mats


def spd(dt, n, seed=0):
    a = mats(dt, n, n, seed=seed)
    return (a @ np.conj(a.T) + n * np.eye(n)).astype(dt)


def leaves(x):
    return jax.tree_util.tree_leaves(x)


def assert_trees_close(got, want, rtol, atol, name=""):
    gl, wl = leaves(xf.tree_util.tree_map(np.asarray, got)), leaves(want)
    assert len(gl) == len(wl), name
    for g, w in zip(gl, wl):
        w = np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, w.shape, g.dtype, w.dtype)
        if np.issubdtype(w.dtype, np.inexact):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)


# (name, f(scipy.linalg module, *args), args(dtype))
CASES = [
    ("cholesky", lambda s, a: s.cholesky(a), lambda dt: [spd(dt, 4)]),
    ("cholesky_lower", lambda s, a: s.cholesky(a, lower=True), lambda dt: [spd(dt, 3)]),
    ("cho_solve", lambda s, a, b: s.cho_solve(s.cho_factor(a), b), lambda dt: [spd(dt, 4), mats(dt, 4, 2, seed=1)]),
    ("cho_solve_lower_vec", lambda s, a, b: s.cho_solve(s.cho_factor(a, lower=True), b),
     lambda dt: [spd(dt, 4), mats(dt, 4, seed=1)]),
    ("solve_triangular", lambda s, a, b: s.solve_triangular(a, b, lower=True),
     lambda dt: [np.tril(spd(dt, 4)), mats(dt, 4, 2, seed=1)]),
    ("solve_triangular_T_unit", lambda s, a, b: s.solve_triangular(a, b, trans=1, unit_diagonal=True),
     lambda dt: [mats(dt, 3, 3), mats(dt, 3, seed=1)]),
    ("solve_triangular_C", lambda s, a, b: s.solve_triangular(a, b, trans="C", lower=False),
     lambda dt: [np.triu(spd(dt, 3)), mats(dt, 3, 2, seed=1)]),
    ("lu", lambda s, a: s.lu(a), lambda dt: [mats(dt, 4, 4)]),
    ("lu_tall", lambda s, a: s.lu(a), lambda dt: [mats(dt, 5, 3)]),
    ("lu_permute_l", lambda s, a: s.lu(a, permute_l=True), lambda dt: [mats(dt, 3, 4)]),
    ("lu_factor", lambda s, a: s.lu_factor(a), lambda dt: [mats(dt, 4, 4)]),
    ("lu_solve", lambda s, a, b: s.lu_solve(s.lu_factor(a), b), lambda dt: [mats(dt, 4, 4), mats(dt, 4, 2, seed=1)]),
    ("lu_solve_T", lambda s, a, b: s.lu_solve(s.lu_factor(a), b, trans=1), lambda dt: [mats(dt, 4, 4), mats(dt, 4, seed=1)]),
    ("lu_solve_H", lambda s, a, b: s.lu_solve(s.lu_factor(a), b, trans=2), lambda dt: [mats(dt, 3, 3), mats(dt, 3, 2, seed=1)]),
    ("expm_small", lambda s, a: s.expm(a), lambda dt: [0.05 * mats(dt, 3, 3)]),
    ("expm", lambda s, a: s.expm(a), lambda dt: [mats(dt, 4, 4)]),
    ("expm_big", lambda s, a: s.expm(a), lambda dt: [8.0 * mats(dt, 3, 3)]),
    ("expm_batched", lambda s, a: s.expm(a), lambda dt: [mats(dt, 2, 3, 3) * np.array([0.3, 2.0], dt)[:, None, None]]),
    ("solve", lambda s, a, b: s.solve(a, b), lambda dt: [mats(dt, 4, 4), mats(dt, 4, 2, seed=1)]),
    ("solve_pos", lambda s, a, b: s.solve(a, b, assume_a="pos"), lambda dt: [spd(dt, 4), mats(dt, 4, seed=1)]),
    ("inv", lambda s, a: s.inv(a), lambda dt: [mats(dt, 3, 3)]),
    ("det", lambda s, a: s.det(a), lambda dt: [mats(dt, 4, 4)]),
    ("eigh", lambda s, a: s.eigh(a), lambda dt: [spd(dt, 4)]),
    ("eigh_upper_vals", lambda s, a: s.eigh(a, lower=False, eigvals_only=True), lambda dt: [spd(dt, 3)]),
    ("svd", lambda s, a: s.svd(a, full_matrices=False), lambda dt: [mats(dt, 4, 3)]),
    ("svd_vals", lambda s, a: s.svd(a, compute_uv=False), lambda dt: [mats(dt, 3, 4)]),
    ("qr", lambda s, a: s.qr(a), lambda dt: [mats(dt, 4, 3)]),
    ("qr_economic", lambda s, a: s.qr(a, mode="economic"), lambda dt: [mats(dt, 4, 3)]),
    ("qr_r", lambda s, a: s.qr(a, mode="r"), lambda dt: [mats(dt, 4, 3)]),
]
COMPLEX_OK = {"cholesky", "cho_solve", "solve_triangular", "solve_triangular_C", "lu", "lu_solve", "lu_solve_H",
              "expm", "solve", "inv", "eigh", "svd", "qr"}
# (integer outputs, and what is a composition of other cases, are left out of the derivative checks)
DERIV = ["cholesky", "cho_solve", "cho_solve_lower_vec", "solve_triangular", "solve_triangular_T_unit",
         "lu", "lu_tall", "lu_solve", "lu_solve_T", "expm_small", "expm", "expm_big", "solve_pos", "eigh"]


def _run(cases, argsets, wrap=None):
    """All cases in one compiled program per library (compiles dominate these tests)."""
    def program(s, tr):
        def run(argsets):
            return [(functools.partial(f, s) if wrap is None else wrap(tr, functools.partial(f, s)))(*args)
                    for (_, f, _), args in zip(cases, argsets)]
        return run
    return xf.jit(program(xsl, xf))(argsets), jax_side(lambda a: jax.jit(program(jsl, jax))(a), argsets)


def _check(cases, got, want, rtol, atol):
    for (name, _, _), g, w in zip(cases, got, want):
        assert_trees_close(g, w, rtol, atol, name)


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_values(dtype):
    cases = CASES if dtype == "float32" else [c for c in CASES if c[0] in COMPLEX_OK]
    got, want = _run(cases, [c[2](np.dtype(dtype)) for c in cases])
    _check(cases, got, want, 2e-4, 2e-5)


def test_values_float64(x64):
    got, want = _run(CASES, [c[2](np.float64) for c in CASES])
    _check(CASES, got, want, 1e-10, 1e-12)


def test_eager_values():
    a, b = spd(np.float32, 3), mats(np.float32, 3, seed=1)
    c = xsl.cho_factor(a, lower=True)
    assert c[1] is True
    want = jax_side(lambda a, b: [jsl.cho_solve(jsl.cho_factor(a, lower=True), b), jsl.expm(a * 0.1), jsl.lu(a)],
                    a, b)
    assert_trees_close(xsl.cho_solve(c, b), want[0], 1e-5, 1e-6)
    assert_trees_close(xsl.expm(a * 0.1), want[1], 1e-5, 1e-6)
    assert_trees_close(xsl.lu(a), want[2], 1e-5, 1e-6)


def _tangents(args, seed=1):
    r = np.random.RandomState(seed)
    return [r.randn(*a.shape).astype(a.dtype) for a in args]


@pytest.mark.parametrize("group", [DERIV[0::2], DERIV[1::2]], ids=["even", "odd"])
def test_jvp_vjp_float64(x64, group):
    cases = [c for c in CASES if c[0] in group]
    eps = 1e-6
    data = []
    for name, f, make in cases:
        args = make(np.float64)
        if name == "solve_triangular_T_unit":
            args[0] = np.triu(args[0])
        outs = leaves(jax_side(lambda *a: jax.jit(functools.partial(f, jsl))(*a), *args))
        r = np.random.RandomState(2)
        ts = _tangents(args)
        if name.startswith("cho") or name in ("solve_pos", "eigh"):
            # these read one triangle of a symmetric matrix: their derivative (JAX's too) is
            # the one along symmetric directions
            ts[0] = (ts[0] + ts[0].T) / 2
        data.append((args, ts, [r.randn(*np.shape(o)) for o in outs]))

    def program(s, m, tr):
        def run(data):
            res = []
            for (name, f, _), (args, ts, ws) in zip(cases, data):
                fs = functools.partial(f, s)

                def loss(*a):
                    return sum(m.sum(o * w) for o, w in zip(leaves(fs(*a)), ws))
                p, t = tr.jvp(fs, tuple(args), tuple(ts))
                g = tr.grad(loss, argnums=tuple(range(len(args))))(*args)
                if tr is jax:
                    res.append((p, t, g))
                    continue
                plus = fs(*[a + eps * d for a, d in zip(args, ts)])
                minus = fs(*[a - eps * d for a, d in zip(args, ts)])
                res.append((p, t, g, [(u - v) / (2 * eps) for u, v in zip(leaves(plus), leaves(minus))]))
            return res
        return run
    got = xf.jit(program(xsl, xnp, xf))(data)
    want = jax_side(lambda d: jax.jit(program(jsl, jnp, jax))(d), data)
    for (name, _, _), g, w in zip(cases, got, want):
        assert_trees_close(g[:3], w[:3], 1e-8, 1e-10, name)
        for t, d in zip(leaves(xf.tree_util.tree_map(np.asarray, g[1])), g[3]):
            np.testing.assert_allclose(t, np.asarray(d), rtol=1e-5, atol=1e-6, err_msg=name)


def test_vmap():
    def batch(c):
        out = []
        for a in c[2](np.float32):
            sq = a.ndim >= 2 and a.shape[-1] == a.shape[-2]
            out.append(np.stack([a, a * np.float32(1.25) + (np.eye(a.shape[-1], dtype=a.dtype) if sq else 0)]))
        return out
    got, want = _run(CASES, [batch(c) for c in CASES], wrap=lambda tr, g: tr.vmap(g))
    _check(CASES, got, want, 2e-4, 2e-5)


def test_bad_input_and_recovery():
    here = __file__.rsplit("/", 1)[-1]
    with pytest.raises(ValueError, match="Invalid 'trans'"):
        xsl.solve_triangular(np.eye(3, dtype=np.float32), np.ones(3, np.float32), trans=5)
    for f in (lambda s: s.expm(np.ones((2, 3), np.float32)),
              lambda s: s.cho_solve(s.cho_factor(np.eye(3, dtype=np.float32)), np.ones(4, np.float32)),
              lambda s: s.solve_triangular(np.eye(3, dtype=np.float32), np.ones((2, 2), np.float32))):
        with pytest.raises(ValueError):
            f(jsl)
        with pytest.raises(ValueError) as e:
            f(xsl)
        assert here in str(e.value) and "(" in str(e.value), str(e.value)
    # singular and indefinite: JAX's NaN/inf
    neg = -np.eye(3, dtype=np.float32)
    sing = np.ones((3, 3), np.float32)
    got = xf.jit(lambda: [xsl.cholesky(neg), xsl.lu_solve(xsl.lu_factor(sing), np.ones(3, np.float32)),
                          xsl.expm(np.full((2, 2), 1e30, np.float32))])()
    want = jax_side(lambda neg, sing: jax.jit(lambda: [
        jsl.cholesky(neg), jsl.lu_solve(jsl.lu_factor(sing), np.ones(3, np.float32)),
        jsl.expm(np.full((2, 2), 1e30, np.float32))])(), neg, sing)
    assert_trees_close(got, want, 1e-5, 1e-6)
    assert np.isnan(np.asarray(got[0])).any()
    a = spd(np.float32, 3)
    assert_trees_close(xsl.cholesky(a), jax_side(lambda a: jsl.cholesky(a), a), 1e-5, 1e-6)


def test_lowering_uses_lapack():
    text = xf.jit(lambda a, b: xsl.cho_solve(xsl.cho_factor(a), b)).lower(spd(np.float32, 3),
                                                                           np.ones(3, np.float32)).as_text()
    assert text.count("@lapack_strsm_ffi(") == 2 and "@lapack_spotrf_ffi(" in text


def test_solve_pos_third_derivative_matches_general_solve(x64):
    """solve(assume_a='pos') is differentiated implicitly in the whole matrix: its derivatives
    of every order (here up to the third, along a non-symmetric direction) are those of a
    general solve, in xlafront and in JAX."""
    r = np.random.RandomState(0)
    m = r.randn(4, 4)
    a, b, e = m @ m.T + 4 * np.eye(4), r.randn(4, 2), r.randn(4, 4)

    def derivs(tr, m_, solve):
        f = lambda t: m_.sum(solve(a + t * e, b) ** 2)  # noqa: E731
        g1 = tr.grad(f)
        g2 = tr.grad(g1)
        return [float(g(0.0)) for g in (f, g1, g2, tr.grad(g2))]
    got = derivs(xf, xnp, lambda a, b: xsl.solve(a, b, assume_a="pos"))
    general = derivs(xf, xnp, xnp.linalg.solve)
    want = jax_side(lambda: derivs(jax, jnp, jnp.linalg.solve))
    np.testing.assert_allclose(got, want, rtol=1e-9)
    np.testing.assert_allclose(general, want, rtol=1e-9)
    assert abs(want[3]) > 1e-3
    # the value is one Cholesky factorization and two triangular solves
    text = xf.jit(lambda a, b: xsl.solve(a, b, assume_a="pos")).lower(a, b).as_text()
    assert text.count("potrf_ffi(") == 1 and text.count("trsm_ffi(") == 2 and "getrf" not in text, text
