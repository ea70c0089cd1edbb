"""xlafront.scipy.special against jax.scipy.special: values, dtypes and weak types, jvp/grad
(against JAX and central finite differences in float64), vmap, and the special primitives
(erfc, polygamma, zeta) through every transform."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

import xlafront as xf
import xlafront.numpy as xnp
import xlafront.scipy.special as xsp
from xlafront import primitives_special as S
from jax_ref import jax_side


X = np.array([-2.5, -1., -0.3, 0., 0.3, 0.7, 1., 2.5, 7.], np.float32)
POS = np.abs(X) + np.float32(0.1)
PROB = np.array([0., 1e-30, 1e-5, 0.01, 0.1, 0.5, 0.9, 0.999, 1.], np.float32)
NINT = np.array([0, 1, 2, 3, 1, 1, 2, 0, 1], np.int32)

# (name, args); every function is compared jitted (one program each side), bit for bit
# where XLA computes the same formula, else to float32 rounding.
VALUE_CASES = [
    ("gammaln", (X,)), ("gamma", (X,)), ("gammasgn", (X,)), ("loggamma", (X,)), ("digamma", (X,)),
    ("erf", (X,)), ("erfc", (X * 2,)), ("erfinv", (X / 8,)), ("expit", (X,)), ("logit", (PROB,)),
    ("xlogy", (X, POS)), ("xlog1py", (X, POS)), ("entr", (X,)), ("ndtr", (X * 3,)), ("ndtri", (PROB,)),
    ("log_ndtr", (X * 4,)), ("betaln", (POS, POS[::-1] * 3)), ("beta", (POS, POS[::-1])),
    ("factorial", (X,)), ("rel_entr", (PROB, PROB[::-1])), ("kl_div", (PROB, PROB[::-1])),
    ("polygamma", (NINT, POS)), ("zeta", (POS + 1, POS)), ("logsumexp", (X,)),
    ("softmax", (X,)), ("log_softmax", (X,)),
]


def _apply_all(lib, names, arg_lists):
    return [getattr(lib, n)(*a) for n, a in zip(names, arg_lists)]


def test_values_match_jax():
    # every case in one jitted program per side (compiles are the cost of this file)
    names, arg_lists = [c[0] for c in VALUE_CASES], [list(c[1]) for c in VALUE_CASES]
    got = xf.jit(lambda al: _apply_all(xsp, names, al))(arg_lists)
    want = jax_side(lambda al: jax.jit(lambda al: _apply_all(jsp, names, al))(al), arg_lists)
    for name, g, w in zip(names, got, want):
        assert (g.dtype, g.shape, g.weak_type) == (w.dtype, w.shape, w.weak_type), name
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-6, atol=1e-7, equal_nan=True,
                                   err_msg=name)


def test_eager_values_and_weak_types_of_python_scalars():
    # eager (op by op) and with Python scalars: weak in, weak out where JAX's is
    for name in ("gammaln", "erfc", "expit", "logit"):
        got, want = getattr(xsp, name)(0.25), jax_side(lambda v: getattr(jsp, name)(v), 0.25)
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), name
        assert float(got) == pytest.approx(float(want), rel=1e-6), name
    for name in ("ndtr", "log_ndtr"):  # these build strong constants: strong result, as JAX
        got, want = getattr(xsp, name)(0.25), jax_side(lambda v: getattr(jsp, name)(v), 0.25)
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type) == (np.float32, False)
    got, want = xsp.xlogy(0.5, 2), jax_side(lambda a, b: jsp.xlogy(a, b), 0.5, 2)
    assert (got.dtype, got.weak_type, float(got)) == (want.dtype, want.weak_type, float(want))
    # integer inputs promote to the default float
    got, want = xsp.gammaln(np.arange(1, 4, dtype=np.int32)), jax_side(lambda v: jsp.gammaln(v), np.arange(1, 4, dtype=np.int32))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_logsumexp_options():
    a = np.array([[-7., -2.5, -1., -0.3, 0.], [0.3, 0.7, 1., 2.5, 7.]], np.float32)
    b = np.array([1., -2., 0.5, 0., 1.], np.float32)
    opts = [dict(axis=1), dict(axis=0, keepdims=True), dict(axis=(0, 1)), dict(axis=-1, b=b),
            dict(axis=1, b=-np.ones(5, np.float32)), dict(where=a > 0, axis=1), dict(where=a > 0, keepdims=True)]
    for kw in opts:
        got = xf.jit(lambda x, kw=kw: xsp.logsumexp(x, **kw))(a)
        want = jax_side(lambda a: jax.jit(lambda x, kw=kw: jsp.logsumexp(x, **kw))(a), a)
        assert got.shape == want.shape, kw
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True, err_msg=str(kw))
    got, sign = xsp.logsumexp(a, axis=1, b=b, return_sign=True)
    want, wsign = jax_side(lambda a, b: jsp.logsumexp(a, axis=1, b=b, return_sign=True), a, b)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(sign, wsign)
    # all -inf: -inf, not nan (the max is replaced by 0 where it is not finite)
    assert float(xsp.logsumexp(np.full(3, -np.inf, np.float32))) == -np.inf
    assert xsp.logsumexp(a).shape == () and xsp.logsumexp(a).dtype == np.float32


def test_logsumexp_bad_axis_raises_and_next_call_works():
    with pytest.raises(ValueError, match="out of bounds"):
        xsp.logsumexp(np.ones((2, 3), np.float32), axis=2)
    assert float(xsp.logsumexp(np.zeros(2, np.float32))) == pytest.approx(np.log(2))


def test_errors_match_jax():
    with pytest.raises(ValueError, match="integer type"):
        xsp.polygamma(1.0, 2.0)
    with pytest.raises(NotImplementedError):
        xsp.zeta(2.0)
    with pytest.raises(TypeError, match="not supported"):
        xsp.ndtr(np.ones(2, np.int32))
    with pytest.raises(TypeError, match="series_order"):
        xsp.log_ndtr(1.0, series_order=1.5)
    assert float(xsp.erf(0.0)) == 0.0


# ----------------------------------------------------------------------------- derivatives (float64)
rng = np.random.RandomState(0)
XD = np.array([-1.7, -0.4, 0.3, 0.9, 2.2])
PD = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
YD = np.array([0.2, 0.8, 1.5, 2.5, 4.0])

GRAD_CASES = [
    ("erf", 0, (XD,)), ("erfc", 0, (XD,)), ("erfinv", 0, (PD - 0.5,)), ("gammaln", 0, (YD,)),
    ("digamma", 0, (YD,)), ("expit", 0, (XD,)), ("logit", 0, (PD,)), ("xlogy", 0, (XD, YD)),
    ("xlogy", 1, (XD, YD)), ("xlog1py", 0, (XD, YD)), ("xlog1py", 1, (XD, YD)), ("entr", 0, (YD,)),
    ("ndtr", 0, (XD,)), ("ndtri", 0, (PD,)), ("log_ndtr", 0, (XD * 3,)), ("betaln", 0, (YD, YD[::-1] * 4)),
    ("betaln", 1, (YD, YD[::-1] * 4)), ("gamma", 0, (YD,)), ("logsumexp", 0, (XD,)),
    ("polygamma", 1, (np.array([0, 1, 2, 1, 0]), YD)), ("zeta", 1, (YD + 1, YD)), ("rel_entr", 0, (PD, PD[::-1])),
]


def _fd(f, args, argnum, eps=1e-6):
    """Central finite differences of an elementwise f in one argument."""
    a = list(args)
    hi, lo = list(a), list(a)
    hi[argnum] = a[argnum] + eps
    lo[argnum] = a[argnum] - eps
    return (np.asarray(f(*hi)) - np.asarray(f(*lo))) / (2 * eps)


def test_grad_matches_jax_and_finite_differences(x64):
    # d/d(arg) of sum(f(args)) for every case, in one jitted program per side
    cases = [(name, argnum, [np.asarray(a) for a in args]) for name, argnum, args in GRAD_CASES]

    def grads(lib, np_, grad, arg_lists):
        return [grad(lambda *a, n=n: np_.sum(getattr(lib, n)(*a)), argnums=i)(*al)
                for (n, i, _), al in zip(cases, arg_lists)]
    arg_lists = [c[2] for c in cases]
    got = xf.jit(lambda al: grads(xsp, xnp, xf.grad, al))(arg_lists)
    want = jax_side(lambda al: jax.jit(lambda al: grads(jsp, jnp, jax.grad, al))(al), arg_lists)

    def jax_values(al):
        return _apply_all(jsp, [c[0] for c in cases], al)
    values = lambda al: jax_side(lambda al: jax.jit(jax_values)(al), al)  # noqa: E731 (one compile)
    eps = 1e-6
    hi = [[a + eps if k == i else a for k, a in enumerate(al)] for (_, i, al) in cases]
    lo = [[a - eps if k == i else a for k, a in enumerate(al)] for (_, i, al) in cases]
    fds = [(np.asarray(h) - np.asarray(l)) / (2 * eps) for h, l in zip(values(hi), values(lo))]
    for (name, i, _), g, w, fd in zip(cases, got, want, fds):
        assert g.dtype == np.float64, name
        if name != "zeta":  # (JAX's zeta derivative in x is a series; its q derivative is the rule here)
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"{name} d/darg{i}")
        if name != "logsumexp":  # elementwise: finite differences per element
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7, err_msg=f"{name} d/darg{i}")


def test_jvp_matches_jax(x64):
    for name, args in [("erfc", (XD,)), ("log_ndtr", (XD * 4,)), ("logit", (PD,)), ("ndtri", (PD,))]:
        t = np.linspace(0.5, 1.5, len(XD))
        p, tout = xf.jit(lambda a, t, name=name: xf.jvp(getattr(xsp, name), (a,), (t,)))(*args, t)
        jp, jt = jax_side(lambda *a: jax.jit(lambda a, t, name=name: jax.jvp(getattr(jsp, name), (a,), (t,)))(*a),
                          *args, t)
        np.testing.assert_allclose(p, jp, rtol=1e-12)
        np.testing.assert_allclose(tout, jt, rtol=1e-9, err_msg=name)


def test_xlogy_xlog1py_derivative_is_zero_at_x_zero():
    # JAX's custom derivatives: at x = 0, d/dx is log(y) (log1p(y)) and d/dy is x / y = 0
    for xfn, jfn in ((xsp.xlogy, lambda x, y: jsp.xlogy(x, y)), (xsp.xlog1py, lambda x, y: jsp.xlog1py(x, y))):
        for y in (0.0, 2.0):
            gx, gy = xf.grad(xfn, argnums=(0, 1))(0.0, y)
            jx, jy = jax_side(lambda x, y: jax.grad(jfn, argnums=(0, 1))(x, y), 0.0, y)
            np.testing.assert_array_equal(np.asarray([gx, gy]), np.asarray([jx, jy]))  # nan at y = 0 as JAX
            if y:
                assert float(gy) == 0.0 and float(gx) == pytest.approx(float(jax_side(lambda x, y: jfn(x, y), 1.0, y)))
        assert float(xfn(0.0, 0.0)) == 0.0
    # entr at 0: value 0
    assert float(xsp.entr(0.0)) == 0.0


def test_log_ndtr_tails_and_gradient_far_out():
    x = np.array([-40., -15., -5., 0., 5., 10.], np.float32)
    np.testing.assert_allclose(xf.jit(xsp.log_ndtr)(x), jax_side(lambda x: jax.jit(jsp.log_ndtr)(x), x), rtol=1e-6)
    g = xf.jit(xf.vmap(xf.grad(xsp.log_ndtr)))(x)
    np.testing.assert_allclose(g, jax_side(lambda x: jax.jit(jax.vmap(jax.grad(jsp.log_ndtr)))(x), x), rtol=1e-5)
    assert np.all(np.isfinite(np.asarray(g)))


def test_vmap_matches_jax():
    a = rng.uniform(0.1, 3.0, size=(4, 5)).astype(np.float32)
    b = rng.uniform(0.1, 3.0, size=(5,)).astype(np.float32)
    for name in ("xlogy", "betaln", "rel_entr"):
        got = xf.jit(xf.vmap(getattr(xsp, name), in_axes=(0, None)))(a, b)
        want = jax_side(lambda a, b: jax.jit(jax.vmap(getattr(jsp, name), in_axes=(0, None)))(a, b), a, b)
        # rel_entr: xlafront takes p log(p/q), JAX p log p - p log q; near p == q both are
        # off by ~1e-7 absolute (the float32 rounding of p/q, of the two logs), so compare
        # absolutely there, and against the float64 value
        atol = 1e-6 if name == "rel_entr" else 0
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=atol, err_msg=name)
    exact = a.astype(np.float64) * np.log(a.astype(np.float64) / b.astype(np.float64))
    np.testing.assert_allclose(xf.vmap(xsp.rel_entr, in_axes=(0, None))(a, b), exact, rtol=1e-6, atol=5e-7)
    got = xf.jit(xf.vmap(lambda r: xsp.logsumexp(r, b=b)))(a)
    np.testing.assert_allclose(got, jax_side(lambda a, b: jax.jit(jax.vmap(lambda r: jsp.logsumexp(r, b=b)))(a), a, b), rtol=1e-6)
    got = xf.jit(xf.vmap(xsp.ndtri, in_axes=1))(a / 4)
    np.testing.assert_allclose(got, jax_side(lambda a: jax.jit(jax.vmap(jsp.ndtri, in_axes=1))(a), a / 4), rtol=1e-6)


# ----------------------------------------------------------------------------- the special primitives

def test_special_primitives_lower_to_chlo():
    text = xf.jit(lambda x, q: (S.erfc(x), S.polygamma(x, q), S.zeta(x, q))).lower(
        np.ones(3, np.float32), np.ones(3, np.float32)).as_text()
    for op in ("chlo.erfc", "chlo.polygamma", "chlo.zeta"):
        assert op in text


def test_special_primitives_transforms(x64):
    x = np.array([0.3, 1.2, 2.5])
    m = np.array([0., 1., 2.])
    # jvp rules: erfc', d/dx polygamma = polygamma(m + 1), d/dq zeta(s, q) = -s zeta(s + 1, q)
    np.testing.assert_allclose(xf.grad(lambda v: xnp.sum(S.erfc(v)))(x),
                               jax_side(lambda x: jax.grad(lambda v: jnp.sum(jax.lax.erfc(v)))(x), x), rtol=1e-12)
    np.testing.assert_allclose(xf.grad(lambda v: xnp.sum(S.polygamma(m, v)))(x),
                               jax_side(lambda m, x: jax.grad(lambda v: jnp.sum(jax.lax.polygamma(m, v)))(x), m, x), rtol=1e-10)
    np.testing.assert_allclose(xf.grad(lambda v: xnp.sum(S.zeta(x + 2, v)))(x),
                               jax_side(lambda x: _fd(lambda v: np.asarray(jax.lax.zeta(x + 2, v)), [x], 0), x), rtol=1e-6)
    with pytest.raises(ValueError, match="with respect to m"):
        xf.grad(lambda mm: xnp.sum(S.polygamma(mm, x)))(m)
    # batching, with a rank-0 unbatched operand and mixed batch axes
    xs = np.stack([x, x + 1])
    np.testing.assert_allclose(xf.vmap(lambda v: S.polygamma(1.0, v))(xs), jax_side(lambda xs: jax.lax.polygamma(1.0, xs), xs), rtol=1e-12)
    np.testing.assert_allclose(xf.vmap(S.zeta, in_axes=(1, 0))(xs.T + 2, xs),
                               jax_side(lambda xs: jax.lax.zeta(xs + 2, xs), xs), rtol=1e-12)
    np.testing.assert_allclose(xf.vmap(S.erfc)(xs), jax_side(lambda xs: jax.lax.erfc(xs), xs), rtol=1e-12)


def test_special_primitive_shape_errors_name_the_call_site():
    with pytest.raises(TypeError, match="erfc does not accept dtype int32"):
        S.erfc(np.ones(2, np.int32))
    with pytest.raises(TypeError, match="zeta requires arguments to have the same dtypes"):
        S.zeta(np.ones(2, np.float32), np.ones(2, np.float16))
    assert float(S.erfc(np.float32(0.0))) == 1.0
