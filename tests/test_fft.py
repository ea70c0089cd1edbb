"""xlafront.numpy.fft and the fft primitive against jax.numpy.fft: values, dtypes, StableHLO,
jvp/vjp (against JAX and finite differences, float64), vmap, errors."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xl
from jax_ref import jax_side
from jnp_compare import check_like_jnp, jax_fd_jvp, jax_jvp, jax_vjp, jax_vmap

jax.config.update("jax_platforms", "cpu")

rng = np.random.RandomState(0)
R = rng.randn(3, 8).astype(np.float32)
C = (rng.randn(3, 5) + 1j * rng.randn(3, 5)).astype(np.complex64)
R4 = rng.randn(2, 3, 2, 4, 3).astype(np.float32)


def check(f, *args, tol=1e-4):
    return check_like_jnp(f, *args, rtol=tol, atol=tol)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_transforms_values_and_dtypes(norm):
    for name in ("fft", "ifft", "rfft", "fft2", "ifft2", "rfft2", "fftn", "ifftn", "rfftn", "hfft", "ihfft"):
        check(lambda m, x: getattr(m.fft, name)(x, norm=norm), R)
    for name in ("fft", "ifft", "irfft", "irfft2", "irfftn", "hfft", "fftn"):
        check(lambda m, x: getattr(m.fft, name)(x, norm=norm), C)


def test_lengths_axes_and_input_dtypes():
    check(lambda m, x: m.fft.fft(x, n=5, axis=0), R)          # crop
    check(lambda m, x: m.fft.rfft(x, n=11), R)                # zero-pad, odd length
    check(lambda m, x: m.fft.irfft(x, n=7, axis=-1), C)       # odd output length
    check(lambda m, x: m.fft.irfft(x, n=12, axis=0), C)
    check(lambda m, x: m.fft.fftn(x, s=(4, 6), axes=(1, 0)), R)
    check(lambda m, x: m.fft.irfftn(x, s=(2, 6)), C)
    check(lambda m, x: m.fft.rfft2(x, axes=(0, 1)), R)
    # more than three axes are chained (XLA transforms at most three at a time)
    for name in ("fftn", "ifftn", "rfftn", "irfftn"):
        check_like_jnp(lambda m, x: getattr(m.fft, name)(x, axes=(4, 0, 1, 3)), R4, rtol=1e-3, atol=1e-3,
                       jit=True)
    check_like_jnp(lambda m, x: m.fft.irfftn(x, s=(3, 2, 2, 4, 6)), R4, rtol=1e-3, atol=1e-3, jit=True)
    # integer, bool and half inputs take JAX's dtypes
    check(lambda m, x: m.fft.fft(x), np.arange(6, dtype=np.int32))
    check(lambda m, x: m.fft.rfft(x), np.array([True, False, True]))
    check(lambda m, x: m.fft.fft(x), np.ones(4, np.float16))
    check(lambda m: m.fft.fft(3.0 * m.ones(4)))
    # empty arrays
    check(lambda m, x: m.fft.fft(x), np.ones((4, 0), np.float32))
    check(lambda m, x: m.fft.irfft(x), np.ones(1, np.complex64))


def test_x64_dtypes(x64):
    check(lambda m, x: m.fft.fft(x), np.arange(4))                        # int64 -> complex128
    check(lambda m, x: m.fft.irfft(x), np.arange(4, dtype=np.int32))      # int32 -> float32
    check(lambda m, x: m.fft.rfft(x), rng.randn(6))
    check(lambda m: m.fft.fftfreq(5, 0.1))


def test_freqs_and_shifts():
    check(lambda m: m.fft.fftfreq(5, 0.3))
    check(lambda m: m.fft.fftfreq(8))
    check(lambda m: m.fft.rfftfreq(7, d=2.0))
    check(lambda m: m.fft.fftfreq(4, dtype=m.float32))
    check(lambda m: m.fft.fftfreq(0))
    check(lambda m, d: m.fft.fftfreq(6, d), np.float32(0.5))
    check(lambda m, x: m.fft.fftshift(x), np.arange(15).reshape(3, 5))
    check(lambda m, x: m.fft.ifftshift(x), np.arange(15).reshape(3, 5))
    check(lambda m, x: m.fft.fftshift(x, axes=1), R)
    check(lambda m, x: m.fft.ifftshift(x, axes=(0,)), R)
    # fftfreq under jit with a traced spacing
    check_like_jnp(lambda m, d: m.fft.fftfreq(4, d), np.float32(0.25), jit=True)


def test_under_jit_and_stablehlo():
    check_like_jnp(lambda m, x: m.fft.rfft(x, norm="ortho"), R, jit=True, rtol=1e-4, atol=1e-4)
    text = xf.jit(xnp.fft.rfft).lower(R).as_text()
    assert re.search(r"stablehlo\.fft %arg0, type = RFFT, length = \[8\] : \(tensor<3x8xf32>\) -> "
                     r"tensor<3x5xcomplex<f32>>", text), text
    text = xf.jit(lambda z: xnp.fft.irfft(z, n=8)).lower(C).as_text()
    assert "type = IRFFT, length = [8]" in text and "-> tensor<3x8xf32>" in text
    text = xf.jit(xnp.fft.fftn).lower(C).as_text()
    assert "type = FFT, length = [3, 5]" in text
    text = xf.jit(xnp.fft.ifft).lower(C).as_text()
    assert "type = IFFT, length = [5]" in text


def test_lax_fft_wrapper():
    z = C.astype(np.complex64)
    for t in ("FFT", "IFFT"):
        np.testing.assert_allclose(xl.fft(z, t, (5,)), jax_side(lambda z, t: jax.lax.fft(z, t, (5,)), z, t), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xl.fft(R, xl.FftType.RFFT, (3, 8)), jax_side(lambda R: jax.lax.fft(R, "RFFT", (3, 8)), R),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xl.fft(z, "irfft", (8,)), jax_side(lambda z: jax.lax.fft(z, "IRFFT", (8,)), z), rtol=1e-5, atol=1e-5)


def test_errors_and_recovery():
    bad = [
        (lambda m: m.fft.rfft(C), ValueError, "only real valued inputs"),
        (lambda m: m.fft.rfft(np.ones(4, np.float16)), ValueError, "float32 or float64"),
        (lambda m: m.fft.fft(R, n=0), ValueError, "Shape should be positive"),
        (lambda m: m.fft.fft(R, norm="bad"), ValueError, "Invalid norm value bad"),
        (lambda m: m.fft.fft(R, axis=2), ValueError, "out of bounds"),
        (lambda m: m.fft.fftn(R, axes=(0, 0)), ValueError, "repeated axes"),
        (lambda m: m.fft.fftn(R, s=(2, 3), axes=(0,)), ValueError, "Shape and axes have different lengths"),
        (lambda m: m.fft.fftn(R, s=(2, 3, 4)), ValueError, "at least as many input dimensions"),
        (lambda m: m.fft.fft([1.0, 2.0]), TypeError, "requires ndarray or scalar arguments"),
        (lambda m: m.fft.fftfreq(4, d=[1.0, 2.0]), ValueError, "only takes a single value"),
    ]
    for f, cls, msg in bad:
        with pytest.raises(cls):
            f(jnp)
        with pytest.raises(cls, match=msg):
            f(xnp)
    with pytest.raises(TypeError, match="complex64 or complex128"):
        xl.fft(R, "FFT", (8,))
    with pytest.raises(ValueError, match="trailing dimensions"):
        xl.fft(C, "FFT", (4,))
    np.testing.assert_allclose(xnp.fft.fft(R), np.fft.fft(R), rtol=1e-4, atol=1e-4)  # still works


# ----------------------------------------------------------------------------- derivatives


TRANSFORMS = [
    ("fft", lambda m: lambda x: m.fft.fft(x, n=6), "c"),
    ("ifft", lambda m: lambda x: m.fft.ifft(x, norm="ortho"), "c"),
    ("rfft_even", lambda m: lambda x: m.fft.rfft(x), "r"),
    ("rfft_odd", lambda m: lambda x: m.fft.rfft(x, n=7), "r"),
    ("irfft_even", lambda m: lambda x: m.fft.irfft(x, n=8), "c"),
    ("irfft_odd", lambda m: lambda x: m.fft.irfft(x, n=9), "c"),
    ("rfft2", lambda m: lambda x: m.fft.rfft2(x, norm="forward"), "r"),
    ("irfft2", lambda m: lambda x: m.fft.irfft2(x, s=(3, 6)), "c"),
    ("fftn", lambda m: lambda x: m.fft.fftn(x), "c"),
]


@pytest.mark.parametrize("name,make,kind", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_jvp_vjp_against_jax_and_fd(x64, name, make, kind):
    r = np.random.RandomState(1)
    if kind == "r":
        x, t = r.randn(3, 5), r.randn(3, 5)
    else:
        x = r.randn(3, 5) + 1j * r.randn(3, 5)
        t = r.randn(3, 5) + 1j * r.randn(3, 5)
    f, jf = make(xnp), make(jnp)
    y, ty = xf.jit(lambda x, t: xf.jvp(f, (x,), (t,)))(x, t)
    jy, jty = jax_jvp(jf, x, t)
    np.testing.assert_allclose(y, jy, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ty, jty, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ty, jax_fd_jvp(jf, x, t), rtol=1e-6, atol=1e-6)
    ct = r.randn(*np.shape(jy)) + (1j * r.randn(*np.shape(jy)) if np.iscomplexobj(jy) else 0)
    g = xf.jit(lambda x, ct: xf.vjp(f, x)[1](ct)[0])(x, ct)
    jg = jax_vjp(jf, x, ct)
    assert np.asarray(g).dtype == np.asarray(jg).dtype
    np.testing.assert_allclose(g, jg, rtol=1e-10, atol=1e-10)
    # vjp is the adjoint of jvp: <ct, J t> == <J^T ct, t> (real pairing, JAX's convention)
    lhs = np.sum(np.real(np.asarray(ct) * np.asarray(ty)))
    rhs = np.sum(np.real(np.asarray(g) * np.asarray(t)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


def test_grad_of_real_loss_and_second_order(x64):
    x = np.random.RandomState(2).randn(6)
    loss = lambda m: lambda x: m.sum(m.abs(m.fft.rfft(m.sin(x))) ** 2)
    np.testing.assert_allclose(xf.jit(xf.grad(loss(xnp)))(x), jax_side(lambda x: jax.jit(jax.grad(loss(jnp)))(x), x), rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(xf.jit(xf.hessian(loss(xnp)))(x), jax_side(lambda x: jax.jit(jax.hessian(loss(jnp)))(x), x),
                               rtol=1e-8, atol=1e-8)
    g = xf.jit(xf.grad(lambda x: xnp.sum(xnp.real(xnp.fft.ifft(x * x)))))(x)
    jg = jax_side(lambda x: jax.jit(jax.grad(lambda x: jnp.sum(jnp.real(jnp.fft.ifft(x * x)))))(x), x)
    np.testing.assert_allclose(g, jg, rtol=1e-9, atol=1e-9)


def test_vmap_against_jax():
    x = rng.randn(4, 3, 6).astype(np.float32)
    for in_axes in (0, 1, 2):
        f = lambda m: lambda v: m.fft.rfft(v, axis=-1, norm="ortho")
        np.testing.assert_allclose(xf.vmap(f(xnp), in_axes)(x), jax_vmap(f(jnp), x, in_axes=in_axes),
                                   rtol=1e-4, atol=1e-4)
    z = (rng.randn(4, 3, 6) + 1j * rng.randn(4, 3, 6)).astype(np.complex64)
    f = lambda m: lambda v: m.fft.irfft2(v)
    np.testing.assert_allclose(xf.vmap(f(xnp), 2)(z), jax_vmap(f(jnp), z, in_axes=2), rtol=1e-4, atol=1e-4)
    f = lambda m: lambda v: m.fft.fftn(v)
    np.testing.assert_allclose(xf.vmap(f(xnp), 1)(z), jax_vmap(f(jnp), z, in_axes=1), rtol=1e-4, atol=1e-4)
    # batched against a Python loop, with vmap of grad
    g = xf.vmap(xf.grad(lambda v: xnp.sum(xnp.real(xnp.fft.fft(v)) * xnp.arange(6.0))))(x[:, 0])
    for i in range(4):
        gi = jax_side(lambda v: jax.grad(lambda v: jnp.sum(jnp.real(jnp.fft.fft(v)) * jnp.arange(6.0)))(v), x[i, 0])
        np.testing.assert_allclose(g[i], gi, rtol=1e-4, atol=1e-4)
