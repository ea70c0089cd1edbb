"""jvp, transpose and batching rules of the fft primitive.

Every fft type is linear (over the reals), so its jvp applies the same transform to
the tangent. Transposes (JAX's convention for complex cotangents, checked against
jax.vjp in tests/test_fft.py):
- FFT and IFFT matrices are symmetric: the transpose is the same transform;
- RFFT (y = first m = n//2+1 entries of FFT x, x real): zero-pad the cotangent back
  to n entries, FFT, keep the real part;
- IRFFT (y = real inverse of the Hermitian extension): conj(RFFT(ct)) * w / N, where
  w doubles the entries that appear twice in the extension (all but the DC term and,
  for even n, the Nyquist term) and N is the number of points.
"""
from __future__ import annotations

import numpy as np

from xlafront import core
from xlafront import primitives as P
from xlafront.core import get_aval
from xlafront.primitives_fft import fft_p, FftType
from xlafront.transforms.jvp import Zero, tangent_aval, _linear_first
from xlafront.transforms.transpose import transpose_rules
from xlafront.transforms.batching import batch_rules, moveaxis

core.register_internal_path(__file__)


_linear_first(fft_p)   # linear: the same transform of the tangent


def _irfft_weights(n, m, dtype):
    w = np.full((m,), 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.astype(dtype)


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    aval = x.aval
    if type(ct) is Zero:
        return [Zero(tangent_aval(aval))]
    fft_type = FftType(fft_type)
    if fft_type in (FftType.FFT, FftType.IFFT):
        return [fft_p.bind(ct, fft_type=fft_type, fft_lengths=fft_lengths)]
    ca = get_aval(ct)
    if fft_type == FftType.RFFT:
        n, m = fft_lengths[-1], ca.shape[-1]
        zero = np.zeros((), ca.dtype)[()]
        cfg = [(0, 0, 0)] * (ca.ndim - 1) + [(0, n - m, 0)]
        full = P.pad(ct, zero, cfg) if n != m else ct
        y = fft_p.bind(full, fft_type=FftType.FFT, fft_lengths=fft_lengths)
        return [P.real(y)]
    # IRFFT: ct is real with trailing axes fft_lengths
    n = fft_lengths[-1]
    m = n // 2 + 1
    total = int(np.prod(fft_lengths))
    y = fft_p.bind(ct, fft_type=FftType.RFFT, fft_lengths=fft_lengths)
    ya = get_aval(y)
    w = _irfft_weights(n, m, ya.dtype) / np.asarray(total, ya.dtype)
    wb = P.broadcast_in_dim(w, ya.shape, (ya.ndim - 1,))
    return [P.mul(P.conj(y), wb)]


transpose_rules[fft_p] = _fft_transpose


def _fft_batch(args, dims, *, fft_type, fft_lengths):
    (x,), (d,) = args, dims
    nd = get_aval(x).ndim
    if d >= nd - len(fft_lengths):   # the batch axis is among the transformed ones
        x, d = moveaxis(x, d, 0), 0
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), d


batch_rules[fft_p] = _fft_batch
