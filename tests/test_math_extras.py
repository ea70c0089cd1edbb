"""Numerical extras against jax.numpy: diff, ediff1d, gradient, trapezoid, gcd, lcm, frexp,
ldexp, modf, i0, vander, trim_zeros, copy, isreal, iscomplex, iterable, packbits,
unpackbits, bitwise_count, array_str/array_repr, fromfunction, frombuffer, save/load,
convolve and correlate (values, dtypes, weak types eagerly and under jit, derivatives
against JAX and float64 finite differences, vmap against a loop, errors)."""
import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from jnp_compare import check, grad_fd, grads_like_jax, raises_like_jax, vmap_like_loop

jax.config.update("jax_platforms", "cpu")

RNG = np.random.RandomState(2)
F6 = RNG.randn(6).astype(np.float32)
F23 = RNG.randn(2, 3).astype(np.float32)
SQ = (np.arange(6.0, dtype=np.float32).reshape(2, 3) ** 2)
I4 = np.array([1, 4, 9, 16], np.int32)


# ----------------------------------------------------------------------------- diff, ediff1d

def test_diff_ediff1d():
    check(lambda m, a, i: [m.diff(a), m.diff(a, n=2, axis=0), m.diff(a, n=0), m.diff(a, n=5),
                           m.diff(a, append=m.zeros((2, 1))), m.diff(a, axis=0, append=7.), m.diff(a, prepend=a[:, :1]),
                           m.diff(i), m.diff(i, prepend=0), m.diff(i, prepend=0.5), m.diff(m.array([1, 0], m.uint8)),
                           m.diff(m.array([True, False, False])), m.diff(m.array([True, False, False]), n=2),
                           m.diff(m.arange(3) * 2.0), m.diff(m.arange(3) * 2.0, prepend=m.ones(1)),
                           m.diff(m.zeros((0, 2))),
                           m.ediff1d(a), m.ediff1d(i, to_end=m.array([7, 8]), to_begin=-1), m.ediff1d(i, to_end=2.5),
                           m.ediff1d(m.array(3.)), m.ediff1d(m.arange(3) * 2.0),
                           m.ediff1d(m.arange(3) * 2.0, to_end=1.)],
          SQ, I4)
    grads_like_jax(lambda m, x: (m.diff(x, n=2, prepend=1.) ** 2).sum() + (m.ediff1d(x, to_begin=1.) ** 3).sum(), F6)
    vmap_like_loop(lambda x: xnp.diff(x, 2, prepend=0.), F23)
    raises_like_jax(lambda m: m.diff(m.array(1.)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.diff(a, n=-1), SQ, xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m, a: m.diff(a, n=1.0), SQ, xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m, a: m.diff(a, append=m.zeros((3, 1))), SQ, xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.diff([1, 2]), xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.ediff1d(m.array([True, False])), xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a: m.diff(a), SQ)


# ----------------------------------------------------------------------------- gradient, trapezoid

def test_gradient():
    f5 = np.array([1., 4, 9, 16, 25], np.float32)
    check(lambda m, f, a, i: [
        m.gradient(f), m.gradient(i), m.gradient(a), m.gradient(a, axis=1), m.gradient(a, axis=-2),
        m.gradient(a, axis=(1,)), m.gradient(f, 2.0), m.gradient(f, m.array([0., 1, 3, 4, 7])),
        m.gradient(a, 2.0, 3.0), m.gradient(a, m.array([0., 2.]), 3.0), m.gradient(m.array([1., 3.])),
        m.gradient(m.arange(3) * 2.0), m.gradient(m.array([1., 4, 9]), m.array([0, 1, 3])),
        m.gradient(m.array([1., 4, 9], m.float16)), m.gradient(m.array([1., 4j, 9])), m.gradient(m.array(1.))],
        f5, SQ, I4)
    # edge_order=1 (the only order jnp computes) is accepted too, as by numpy
    np.testing.assert_allclose(np.asarray(xnp.gradient(f5, edge_order=1)), np.gradient(f5, edge_order=1), rtol=1e-6)
    raises_like_jax(lambda m, a: m.gradient(a, 2.0, 3.0, 4.0), SQ, xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.gradient(m.array([1.])), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.gradient(m.ones(3), m.ones((3, 3))), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.gradient(m.ones(3), m.ones(2)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.gradient(m.ones(3), edge_order=2), xf_exc=NotImplementedError,
                    jax_exc=NotImplementedError)
    check(lambda m: m.gradient(m.ones(3)))


def test_trapezoid():
    check(lambda m, a, i: [
        m.trapezoid(a), m.trapezoid(a, x=m.array([0., 1, 3])), m.trapezoid(a, x=m.array([[0., 1, 3], [0, 2, 3]])),
        m.trapezoid(a, dx=0.5, axis=0), m.trapezoid(i), m.trapezoid(i, x=m.array([0, 1, 2, 5])),
        m.trapezoid(m.arange(3) * 2.0), m.trapezoid(m.arange(3) * 2.0, x=m.arange(3) * 1.0),
        m.trapezoid(m.array([2.])), m.trapezoid(m.array([True, False])), m.trapezoid(m.array([1., 2, 3], m.float16)),
        m.trapezoid(m.array([1., 2, 3], m.float16), x=m.arange(3.)),
        m.trapezoid(m.ones((2, 3)), dx=m.array([1., 2.])[:, None])], SQ, I4)
    raises_like_jax(lambda m: m.trapezoid(m.array(2.)), xf_exc=ValueError, jax_exc=ValueError)


def test_gradient_trapezoid_transforms():
    x = np.cumsum(np.abs(F6) + 0.5).astype(np.float32)
    grads_like_jax(lambda m, f, h: (m.gradient(f, h) ** 2).sum() + (m.gradient(f) ** 3).sum(), F6, x, argnums=(0, 1))
    grads_like_jax(lambda m, y, x: m.trapezoid(y ** 2, x=x) + m.trapezoid(m.sin(y), dx=0.3), F6, x, argnums=(0, 1))
    vmap_like_loop(lambda f: xnp.gradient(f), F23)
    vmap_like_loop(lambda y, x: xnp.trapezoid(y, x), F23, np.cumsum(np.abs(F23), axis=1))


# ----------------------------------------------------------------------------- gcd, lcm

def test_gcd_lcm():
    a, b = np.array([12, -18, 0, 7, 0, 1 << 20], np.int32), np.array([8, 6, 0, -21, 5, 3 << 12], np.int32)
    check(lambda m, a, b: [m.gcd(a, b), m.lcm(a, b), m.gcd(12, 18), m.lcm(4, 6), m.gcd(a, 6), m.lcm(a[:, None], b[:3]),
                           m.gcd(a.astype(m.uint8), b.astype(m.uint8)), m.lcm(a.astype(m.uint8), b.astype(m.uint8)),
                           m.gcd(m.array([12], m.int8), m.array([18], m.int16)),
                           m.gcd(m.array([-128], m.int8), m.array([0], m.int8))], a, b)
    vmap_like_loop(lambda x, y: [xnp.gcd(x, y), xnp.lcm(x, y)], np.array([[12, 7], [0, 9]]),
                   np.array([[18, 0], [5, 6]]))
    raises_like_jax(lambda m: m.gcd(1.0, 2), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.lcm(m.array([True]), m.array([True])), xf_exc=ValueError, jax_exc=ValueError)
    check(lambda m: m.gcd(9, 6))


# ----------------------------------------------------------------------------- frexp, ldexp, modf

def test_frexp_ldexp_modf():
    x = np.array([0., -0., 1., -3.5, 3e38, np.inf, -np.inf, np.nan, 0.1, 1e-30, -7e-20], np.float32)
    e = np.array([1, 3, -2, 128, -126, -150, 200, -200, 0, 200, 7], np.int32)
    check(lambda m, x, e: [m.frexp(x), m.frexp(m.array([1, 2, 3])), m.frexp(3.0), m.frexp(m.arange(3) * 2.0),
                           m.frexp(m.array([3., 1e-6, 0., -6e-5], m.float16)),
                           m.frexp(m.array([3., 1e-6, 0.], m.bfloat16)),
                           m.ldexp(x, e), m.ldexp(1.5, 3), m.ldexp(m.array([3]), m.array([2])),
                           m.ldexp(m.array([1.5, -3], m.float16), m.array([3, -30])), m.ldexp(m.array([1.5, 2.]), 3),
                           m.ldexp(m.array([1.5], m.float32), m.array([3], m.int8)),
                           m.ldexp(m.array([1.5], m.float32), m.array([3], m.uint32)),
                           m.modf(x), m.modf(m.array([3, -2])), m.modf(3.5), m.modf(m.arange(3) * 2.0 - 1.25)], x, e)
    # the decomposition is exact for the normal numbers
    mant, ex = xnp.frexp(x[np.isfinite(x)])
    np.testing.assert_array_equal(np.asarray(mant), np.frexp(x[np.isfinite(x)])[0])
    np.testing.assert_array_equal(np.asarray(ex), np.frexp(x[np.isfinite(x)])[1])
    np.testing.assert_array_equal(np.asarray(xnp.ldexp(mant, ex)), x[np.isfinite(x)])
    grads_like_jax(lambda m, x: m.frexp(x)[0].sum() + m.ldexp(x, m.array([1, 2, -3, 0, 4, 5])).sum()
                   + (m.modf(x * 3)[0] ** 2).sum(), F6)
    vmap_like_loop(lambda x, e: [xnp.frexp(x), xnp.ldexp(x, e), xnp.modf(x * 3)], F23,
                   np.arange(6).reshape(2, 3) - 3)
    raises_like_jax(lambda m: m.frexp(m.array([1j])), xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.ldexp(1.5, 3.0), xf_exc=ValueError, jax_exc=ValueError)
    with pytest.raises(NotImplementedError):
        xnp.modf(3.5, out=1)
    check(lambda m: m.ldexp(1.5, 2))


# ----------------------------------------------------------------------------- i0

def test_i0_values():
    x = np.array([0., 1e-3, 1., -2.5, 9.99, 10.01, -30., 50., 88., 100.], np.float32)
    check(lambda m, x: [m.i0(x), m.i0(m.array([1, 2])), m.i0(2.), m.i0(m.arange(3) * 2.0), m.i0(m.zeros((0, 2)))], x)
    check(lambda m: m.i0(m.array([1., 5., 12.], m.float16)), rtol=1e-3)
    grads_like_jax(lambda m, x: m.i0(x).sum(), np.array([0.5, -2., 9.9, 10.1, -30., 60.], np.float32), eager=False)
    vmap_like_loop(lambda x: xnp.i0(x * 10), F23)
    raises_like_jax(lambda m: m.i0(m.array([1j])), xf_exc=ValueError, jax_exc=ValueError)


def test_i0_float64_and_derivatives(x64):
    from scipy import special
    x = np.array([0., 1e-3, 0.7, -2.5, 15., 21.9, 22.1, -40., 300., 700.])
    np.testing.assert_allclose(np.asarray(xnp.i0(x)), special.i0(x), rtol=2e-15)
    # d/dx I0 = I1, also at 0; the second derivative is I0 - I1 / x (1/2 at 0)
    g = xf.vmap(xf.grad(xnp.i0))(x)
    np.testing.assert_allclose(np.asarray(g), special.i1(x), rtol=3e-15, atol=1e-300)
    h = xf.jit(xf.vmap(xf.grad(xf.grad(xnp.i0))))(x[:-1])
    x1 = x[:-1]
    want = np.where(x1 == 0, 0.5, special.i0(x1) - special.i1(x1) / np.where(x1 == 0, 1, x1))
    np.testing.assert_allclose(np.asarray(h), want, rtol=1e-13)
    f6 = F6.astype(np.float64)
    grad_fd(lambda x: (xnp.sin(x) * xnp.i0(x)).sum() + (xnp.gradient(xnp.reshape(x, (2, 3)))[1] ** 2).sum()
            + xnp.trapezoid(x ** 3, dx=0.5) + (xnp.correlate(x, xnp.sin(x[:3]), mode="full") ** 2).sum()
            + (xnp.vander(x, 4) ** 2).sum(), f6)
    grad_fd(lambda x: (xnp.sin(x) * xnp.i0(x)).sum(), np.array([0.3, -1.5, 12.]))
    t = xf.jvp(xnp.i0, (np.array([1.0, -3.0]),), (np.array([2.0, 1.0]),))[1]
    np.testing.assert_allclose(np.asarray(t), special.i1([1.0, -3.0]) * [2.0, 1.0], rtol=1e-14)


# ----------------------------------------------------------------------------- vander, trim_zeros, copy, isreal

def test_vander():
    x = np.array([1., 2, 3, -1.5], np.float32)
    check(lambda m, x: [m.vander(x), m.vander(m.array([1, 2, 3]), N=2, increasing=True),
                        m.vander(m.array([1, 2, 3]), N=0), m.vander(m.arange(3) * 2.0), m.vander(m.ones(0)),
                        m.vander(x, 6, True), m.vander(x, 1)], x)
    grads_like_jax(lambda m, x: (m.vander(x, 4) ** 2).sum(), F6)
    # at 0 the derivative is finite (jnp's is NaN for the x**0 column)
    np.testing.assert_allclose(np.asarray(xf.jacfwd(lambda x: xnp.vander(x, 3))(np.array([0., 2.]))),
                               [[[0., 0.], [1., 0.], [0., 0.]], [[0., 4.], [0., 1.], [0., 0.]]])
    vmap_like_loop(lambda x: xnp.vander(x), F23)
    raises_like_jax(lambda m: m.vander(m.ones((2, 2))), xf_exc=ValueError, jax_exc=ValueError)
    with pytest.raises(ValueError):
        xnp.vander(xnp.ones(2), N=-1)
    check(lambda m: m.vander(m.arange(3)))


def test_trim_zeros_copy_isreal():
    z = np.array([0, 0, 1, 2, 0, 3, 0], np.int32)
    check(lambda m, z: [m.trim_zeros(z), m.trim_zeros(z, "f"), m.trim_zeros(z, "B"), m.trim_zeros(m.array([0, 0])),
                        m.trim_zeros(m.array([[0, 0, 0], [0, 1, 0]]), axis=1), m.trim_zeros(m.array([0, 1]), "x"),
                        m.trim_zeros(m.array(0)), m.trim_zeros(m.arange(3) * 2.0), m.trim_zeros(m.zeros((2, 3))),
                        m.trim_zeros(m.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "f"),
                        m.trim_zeros(m.array([0., np.nan, 0]))], z, jit=False, jax_eager=True)
    grads_like_jax(lambda m, x: (m.trim_zeros(x) ** 2).sum(), np.array([0., 1., 2., 0.], np.float32), jit=False)
    raises_like_jax(lambda m, z: (jax.jit if m is jnp else xf.jit)(m.trim_zeros)(z), z,
                    xf_exc=xf.ConcretizationTypeError, jax_exc=jax.errors.ConcretizationTypeError)
    check(lambda m: [m.copy(m.asarray(2.)), m.copy(m.arange(3) * 2.0), m.copy(m.ones(3, m.int8)),
                     m.isreal(m.array([1 + 0j, 1j, 2])), m.isreal(m.array([1., 2])), m.isreal(1j), m.isreal(2.0),
                     m.iscomplex(m.array([1 + 0j, 1j, 2])), m.iscomplex(2.0), m.isreal(m.array([1, 2])),
                     m.iscomplex(m.asarray(1j)), m.isreal(m.arange(3) * 2.0), m.isreal(m.arange(2) * 1j),
                     m.iscomplex(m.asarray(2.0))])
    c = xnp.copy(F6)
    assert c is not F6 and isinstance(c, xf.Array)
    np.testing.assert_array_equal(np.asarray(c), F6)
    raises_like_jax(lambda m: m.copy([1, 2]), xf_exc=TypeError, jax_exc=TypeError)
    with pytest.raises(NotImplementedError):
        xnp.copy(xnp.ones(2), order="F")
    assert [xnp.iterable(v) for v in (xnp.ones(2), xnp.array(1.), 3, [1])] == [True, False, False, True]


# ----------------------------------------------------------------------------- bits

def test_packbits_unpackbits_bitwise_count():
    b = np.array([[1, 0, 1], [0, 1, 1]], np.uint8)
    u = np.array([5, 255], np.uint8)
    check(lambda m, b, u: [m.packbits(m.array([1, 0, 1, 1, 0, 0, 0, 1, 1])), m.packbits(m.array([True, False, True])),
                           m.packbits(m.array([1, 0, 1, 1, 0, 0, 0, 1, 1]), bitorder="little"), m.packbits(b, axis=1),
                           m.packbits(b, axis=0), m.packbits(b), m.packbits(m.array([2, 0, -1])),
                           m.packbits(m.array(1)),
                           m.packbits(m.zeros(0, m.int32)),
                           m.unpackbits(u), m.unpackbits(u, bitorder="little"), m.unpackbits(u, count=3),
                           m.unpackbits(u[:1], count=10), m.unpackbits(u, count=-3),
                           m.unpackbits(u.reshape(2, 1), axis=1),
                           m.unpackbits(u.reshape(2, 1), axis=1, count=2), m.unpackbits(u[0]),
                           m.bitwise_count(m.array([0, 7, -1, 255, -128])), m.bitwise_count(u),
                           m.bitwise_count(m.array([-1], m.int8)), m.bitwise_count(m.array([True])), m.bitwise_count(7),
                           m.bitwise_count(m.array([-(1 << 31)], m.int32))],
          b, u)
    vmap_like_loop(lambda x, v: [xnp.packbits(x > 0), xnp.unpackbits(v), xnp.bitwise_count(v)], F23,
                   np.array([[1, 2], [255, 0]], np.uint8))
    raises_like_jax(lambda m: m.packbits(m.array([1., 0])), xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.unpackbits(m.array([5])), xf_exc=TypeError, jax_exc=TypeError)
    raises_like_jax(lambda m: m.bitwise_count(m.array([1.0])), xf_exc=TypeError, jax_exc=TypeError)
    with pytest.raises(ValueError):
        xnp.packbits(xnp.array([1, 0]), bitorder="x")
    check(lambda m: m.packbits(m.array([1, 1])))


# ----------------------------------------------------------------------------- from*, save/load, str/repr

def test_fromfunction_frombuffer_save_load_repr():
    check(lambda m: [m.fromfunction(lambda i, j: i + j, (2, 3)), m.fromfunction(lambda i, j: i + j, (2, 3), dtype=int),
                     m.fromfunction(lambda i: (i, i * 2), (3,)), m.fromfunction(lambda i: 1., (3,)),
                     m.fromfunction(lambda i: i * 2.0, (3,)), m.fromfunction(lambda i, j: m.sin(i) * j, (0, 2))])
    grads_like_jax(lambda m, s: m.fromfunction(lambda i, j: (i + s) * j, (2, 3)).sum(), np.float32(2.))
    check(lambda m: [m.frombuffer(np.arange(4, dtype=np.float32).tobytes(), dtype=m.float32),
                     m.frombuffer(np.arange(2, dtype=np.float64).tobytes()),
                     m.frombuffer(np.arange(6, dtype=np.int32).tobytes(), dtype=m.int32, count=2, offset=4)], jit=False,
          jax_eager=True)
    buf = io.BytesIO()
    xnp.save(buf, xnp.arange(3.0))
    buf.seek(0)
    out = xnp.load(buf)
    assert isinstance(out, xf.Array) and out.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(out), [0.0, 1.0, 2.0])
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    buf.seek(0)
    assert xnp.load(buf).dtype == jnp.load(io.BytesIO(buf.getvalue())).dtype == np.int32
    assert xnp.array_str(xnp.array([1.5123, 2]), precision=2) == jnp.array_str(jnp.array([1.5123, 2]), precision=2)
    assert xnp.array_repr(xnp.array([1.5, 2])) == "Array([1.5, 2. ], dtype=float32)"


# ----------------------------------------------------------------------------- convolve, correlate

A4 = np.array([1., 2, 3, 4], np.float32)
V3 = np.array([0., 1, 0.5], np.float32)
V2 = np.array([1., 0.5], np.float32)
V4 = np.array([0., 1, .5, 4], np.float32)


def test_convolve_correlate_values():
    check(lambda m, a4, v3, v2, v4: [
        m.convolve(a4, v3), m.convolve(a4, v3, mode="same"), m.convolve(a4, v2, mode="same"),
        m.convolve(v2, v4, mode="same"), m.convolve(a4, v3, mode="valid"), m.convolve(v2, v3, mode="valid"),
        m.convolve(m.array([1, 2, 3]), m.array([0, 1, 2])), m.convolve(m.array([True, False]), m.array([True])),
        m.convolve(m.array([1., 2j]), m.array([1j, 3])), m.convolve(m.arange(3) * 2.0, m.arange(2) * 1.0),
        m.convolve(m.arange(3) * 2.0, m.ones(2, m.float16)), m.convolve(v2, v2, precision="highest"),
        m.convolve(m.ones(2, m.int32), m.ones(2, m.int32), preferred_element_type=m.float32),
        m.convolve(a4[:1], v3), m.convolve(a4[:1], a4[:1]),
        m.correlate(a4, v3), m.correlate(a4, v3, mode="full"), m.correlate(a4, v3, mode="same"),
        m.correlate(a4, v2, mode="same"), m.correlate(v2, v3, mode="full"), m.correlate(v2, v4, mode="same"),
        m.correlate(v2, v4, mode="valid"), m.correlate(m.array([1., 2j]), m.array([1j, 3])),
        m.correlate(m.array([1., 2j, 3]), m.array([1j, 3]), mode="full"),
        m.correlate(m.array([1., 2j]), m.array([0., 1j, 0.5]), mode="same"),
        m.correlate(m.arange(2) * 1.0, m.arange(3) * 1.0, preferred_element_type=m.float32)], A4, V3, V2, V4)
    long, kern = RNG.randn(50).astype(np.float32), RNG.randn(7).astype(np.float32)
    for mode in ("full", "same", "valid"):   # against numpy too, both orders
        np.testing.assert_allclose(np.asarray(xnp.convolve(kern, long, mode)), np.convolve(kern, long, mode),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(xnp.correlate(kern, long, mode)), np.correlate(kern, long, mode),
                                   rtol=1e-5, atol=1e-5)


def test_convolve_correlate_transforms():
    a, v = RNG.randn(6).astype(np.float32), RNG.randn(3).astype(np.float32)
    grads_like_jax(lambda m, a, v: (m.convolve(a, v) ** 2).sum() + (m.correlate(v, a, mode="same") ** 2).sum()
                   + (m.convolve(v, a, mode="valid") ** 3).sum(), a, v, argnums=(0, 1))
    jv = xf.jvp(lambda a: xnp.convolve(a, v, mode="same"), (a,), (np.ones(6),))
    np.testing.assert_allclose(np.asarray(jv[1]), np.convolve(np.ones(6), v, "same"), rtol=1e-6)
    vmap_like_loop(lambda a, v: [xnp.convolve(a, v), xnp.correlate(v, a, mode="same")], F23, F23[:, :2])
    vmap_like_loop(lambda a: xnp.correlate(a, V2, mode="full"), F23)


def test_convolve_correlate_errors():
    raises_like_jax(lambda m: m.convolve(2., 3.), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.convolve(m.ones((2, 2)), m.ones(2)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.correlate(m.ones(0), m.ones(2)), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.convolve(m.ones(2), m.ones(2), mode="x"), xf_exc=ValueError, jax_exc=ValueError)
    raises_like_jax(lambda m: m.correlate(m.ones(2), [1.0]), xf_exc=TypeError, jax_exc=TypeError)
    check(lambda m, a, v: m.convolve(a, v), A4, V3)


def test_convolve_correlate_loop_over_taps(monkeypatch):
    """Past _TOEPLITZ_MAX matrix entries the sum runs as a scan over the kernel taps."""
    from xlafront.numpy import _math_extras
    monkeypatch.setattr(_math_extras, "_TOEPLITZ_MAX", 0)
    a, v = RNG.randn(9).astype(np.float32), RNG.randn(4).astype(np.float32)
    assert "scan" in str(xf.make_jaxpr(lambda a: xnp.convolve(a, v))(a))
    check(lambda m, a, v: [m.convolve(a, v), m.convolve(v, a, mode="same"), m.correlate(a, v),
                           m.correlate(v, a, "full"), m.correlate(a, v * 1j, mode="same"),
                           m.convolve(m.ones(3, m.int32), m.ones(2, m.int32), preferred_element_type=m.float32)], a, v)
    grads_like_jax(lambda m, a, v: (m.convolve(a, v, mode="same") ** 2).sum() + (m.correlate(v, a) ** 2).sum(), a, v,
                   argnums=(0, 1), eager=False)
    vmap_like_loop(lambda a, v: xnp.convolve(a, v), np.stack([a, -a]), np.stack([v, v * 2]))


def _outer_jit_name(closed):
    """The name of the jit equation a traced graph (xlafront's or a ClosedJaxpr) starts with."""
    eqns = closed.graph.eqns if hasattr(closed, "graph") else closed.jaxpr.eqns
    return eqns[0].params["name"]


def test_make_jaxpr_jit_names_match_jax():
    # the library's inner jits print their public function's name, as jnp's do
    for name, args in [("diff", (F6,)), ("convolve", (F6, F6[:3])), ("correlate", (F6, F6[:3])),
                       ("polyval", (F6[:3], F6))]:
        want = _outer_jit_name(jax.make_jaxpr(getattr(jnp, name))(*args))
        got = _outer_jit_name(xf.make_jaxpr(getattr(xnp, name))(*args))
        assert got == want == name, (name, got, want)
