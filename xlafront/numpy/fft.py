"""xlafront.numpy.fft: discrete Fourier transforms (mirrors jax.numpy.fft).

Every transform is one `fft` primitive (xlafront/primitives_fft.py) over up to three
trailing axes: the requested axes are moved last, cropped or zero-padded to the
requested lengths, transformed, scaled for `norm`, and moved back. Dtypes follow JAX:
integers and bools become the inexact dtype of their width (int32 -> complex64 even
under x64), float16/bfloat16 work for the complex transforms but not for rfft.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.primitives_fft import fft_p, FftType
from xlafront.numpy._util import aval, check_arraylike, canonicalize_axis, convert, static_int

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = (None, "backward", "ortho", "forward")


def _check_norm(norm):
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward","ortho" or "forward".')


def _ints(name, v, what):
    try:
        return tuple(operator.index(i) for i in v)
    except TypeError:
        raise TypeError(f"jax.numpy.fft.{name}: {what} must be a sequence of integers, got {v!r} "
                        f"(at {core.user_site()})") from None


def _asarray(a):
    from xlafront.numpy._creation import asarray
    return asarray(a)


def _input(name, fft_type, a):
    """a as a strong array of the dtype the transform takes."""
    check_arraylike(f"jax.numpy.fft.{name}", a)
    x = _asarray(a)
    dt = dtypes.to_inexact(aval(x).dtype)
    if fft_type == FftType.RFFT:
        if dtypes.is_complex(dt):
            raise ValueError(f"only real valued inputs supported for {name}")
        if dt not in (dtypes.float32, dtypes.float64):
            raise ValueError(f"RFFT input must be float32 or float64, got {dt.name}")
    else:
        dt = dtypes.to_complex(dt)
    return convert(x, dt, False)


def _resize(x, axis, n):
    """x cropped or zero-padded to length n along axis."""
    a = aval(x)
    size = a.shape[axis]
    if size == n:
        return x
    if size > n:
        limits = list(a.shape)
        limits[axis] = n
        return P.slice(x, [0] * a.ndim, limits)
    cfg = [(0, 0, 0)] * a.ndim
    cfg[axis] = (0, n - size, 0)
    return P.pad(x, np.zeros((), a.dtype)[()], cfg)


def _apply(x, fft_type, lengths):
    """The transform of the trailing len(lengths) axes of x, chained in groups of at most
    three axes (XLA's limit); the real axis of RFFT/IRFFT is the last one."""
    k = len(lengths)
    if k <= 3:
        return fft_p.bind(x, fft_type=fft_type, fft_lengths=tuple(lengths))
    nd = aval(x).ndim
    lead = nd - k
    # the first k-3 transformed axes, as a complex FFT/IFFT, moved last and back
    perm = list(range(lead)) + list(range(nd - 3, nd)) + list(range(lead, nd - 3))
    inv = list(np.argsort(perm))
    complex_type = FftType.IFFT if fft_type in (FftType.IFFT, FftType.IRFFT) else FftType.FFT

    def rest(y):
        y = P.transpose(y, perm)
        y = _apply(y, complex_type, lengths[:-3])
        return P.transpose(y, inv)

    if fft_type == FftType.IRFFT:   # complex axes first, then the real inverse
        return fft_p.bind(rest(x), fft_type=fft_type, fft_lengths=tuple(lengths[-3:]))
    return rest(fft_p.bind(x, fft_type=fft_type, fft_lengths=tuple(lengths[-3:])))


def _fft_core(name, fft_type, a, s, axes, norm):
    _check_norm(norm)
    x = _input(name, fft_type, a)
    av = aval(x)
    if s is not None:
        s = _ints(name, s, "s")
        if any(n < 1 for n in s):
            raise ValueError("Shape should be positive.")
    if axes is None:
        axes = tuple(range(-len(s), 0)) if s is not None else tuple(range(av.ndim))
    else:
        axes = _ints(name, axes, "axes")
        if len(set(axes)) != len(axes):
            raise ValueError(f"jax.numpy.fft.{name} does not support repeated axes. Got axes {axes}.")
    if s is not None and len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if len(axes) > av.ndim:
        raise ValueError(f"FFT input shape {av.shape} must have at least as many input dimensions "
                         f"as fft_lengths {s if s is not None else axes}.")
    axes = tuple(canonicalize_axis(ax, av.ndim, name) for ax in axes)
    if not axes:
        return x
    if s is None:
        s = tuple(av.shape[ax] for ax in axes)
        if fft_type == FftType.IRFFT:
            s = s[:-1] + (2 * (s[-1] - 1),)
    # crop/pad the input to the lengths it is transformed at
    for ax, n in zip(axes, s):
        x = _resize(x, ax, n // 2 + 1 if (fft_type == FftType.IRFFT and ax == axes[-1]) else n)
    rest = [i for i in range(av.ndim) if i not in axes]
    perm = rest + list(axes)
    x = P.transpose(x, perm)
    xa = aval(x)
    out_last = {FftType.RFFT: s[-1] // 2 + 1, FftType.IRFFT: s[-1]}.get(fft_type, s[-1])
    out_shape = xa.shape[:-1] + (out_last,)
    out_dt = dtypes.to_real(xa.dtype) if fft_type == FftType.IRFFT else dtypes.to_complex(xa.dtype)
    if xa.size == 0 or math.prod(out_shape) == 0:
        y = P.broadcast_in_dim(np.zeros((), out_dt)[()], out_shape, ())
    else:
        y = _apply(x, fft_type, s)
    y = P.transpose(y, list(np.argsort(perm)))
    n_total = math.prod(s)
    inverse = fft_type in (FftType.IFFT, FftType.IRFFT)
    if norm == "ortho":
        factor = math.sqrt(n_total) if inverse else 1.0 / math.sqrt(n_total)
    elif norm == "forward":
        factor = float(n_total) if inverse else 1.0 / n_total
    else:
        factor = None
    if factor is not None and n_total:
        y = P.mul(y, np.asarray(factor, out_dt)[()])
    return y


def fft(a, n=None, axis=-1, norm=None):
    return _fft_core("fft", FftType.FFT, a, None if n is None else [n], [axis], norm)


def ifft(a, n=None, axis=-1, norm=None):
    return _fft_core("ifft", FftType.IFFT, a, None if n is None else [n], [axis], norm)


def rfft(a, n=None, axis=-1, norm=None):
    return _fft_core("rfft", FftType.RFFT, a, None if n is None else [n], [axis], norm)


def irfft(a, n=None, axis=-1, norm=None):
    return _fft_core("irfft", FftType.IRFFT, a, None if n is None else [n], [axis], norm)


_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def hfft(a, n=None, axis=-1, norm=None):
    """The FFT of a signal with Hermitian symmetry (a real spectrum): irfft(conj(a)) scaled."""
    _check_norm(norm)
    x = _input("hfft", FftType.IRFFT, a)
    return irfft(P.conj(x), n=n, axis=axis, norm=_SWAP[norm])


def ihfft(a, n=None, axis=-1, norm=None):
    """The inverse of hfft: conj(rfft(a)) scaled."""
    _check_norm(norm)
    return P.conj(rfft(a, n=n, axis=axis, norm=_SWAP[norm]))


def fftn(a, s=None, axes=None, norm=None):
    return _fft_core("fftn", FftType.FFT, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    return _fft_core("ifftn", FftType.IFFT, a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
    return _fft_core("rfftn", FftType.RFFT, a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    return _fft_core("irfftn", FftType.IRFFT, a, s, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("fft2", FftType.FFT, a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("ifft2", FftType.IFFT, a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("rfft2", FftType.RFFT, a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("irfft2", FftType.IRFFT, a, s, axes, norm)


# ----------------------------------------------------------------------------- frequencies, shifts


def _freq(name, k, n, d, dtype):
    if isinstance(d, (list, tuple)) or (hasattr(d, "shape") and tuple(d.shape) != ()):
        raise ValueError(f"The d argument of jax.numpy.fft.{name} only takes a single value. Got d = {d}.")
    dt = dtypes.default_float() if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_inexact(dt):
        dt = dtypes.to_inexact(dt)
    if isinstance(d, (int, float, np.integer, np.floating)):
        return _asarray(np.asarray(k, dt) / np.asarray(d * n, dt))
    from xlafront.numpy._ufuncs import multiply, divide
    return divide(_asarray(np.asarray(k, dt)), convert(multiply(d, n), dt, False))


def _freq_n(name, n):
    if isinstance(n, float) and n == int(n):
        n = int(n)
    return static_int(n, f"jax.numpy.fft.{name}", "n")


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an n-point FFT with sample spacing d."""
    n = _freq_n("fftfreq", n)
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)]) if n else np.zeros(0)
    return _freq("fftfreq", k, n, d, dtype)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an n-point rfft with sample spacing d."""
    n = _freq_n("rfftfreq", n)
    return _freq("rfftfreq", np.arange(0, n // 2 + 1), n, d, dtype)


def _shift(name, x, axes, sign):
    from xlafront.numpy._shapes import roll
    check_arraylike(f"jax.numpy.fft.{name}", x)
    x = _asarray(x)
    shape = aval(x).shape
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    else:
        axes = tuple(axes)
    for ax in axes:
        canonicalize_axis(ax, len(shape), name)
    if not axes:
        return x
    shift = [sign * (shape[ax] // 2) for ax in axes]
    return roll(x, shift, axes)


def fftshift(x, axes=None):
    """Move the zero-frequency term to the centre."""
    return _shift("fftshift", x, axes, 1)


def ifftshift(x, axes=None):
    """The inverse of fftshift."""
    return _shift("ifftshift", x, axes, -1)


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
