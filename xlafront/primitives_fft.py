"""Primitives of the fft family: definitions and shape rules (core layer).

`fft` is one primitive with a `fft_type` (FFT, IFFT: complex -> complex; RFFT: real ->
the non-negative half of the spectrum; IRFFT: that half -> real) acting on the trailing
`len(fft_lengths)` axes, as lax.fft and StableHLO's `fft` op. The transforms are
unnormalized except IFFT/IRFFT, which divide by the number of points (numpy's "backward").
"""
from __future__ import annotations

import enum

import numpy as np

from xlafront import dtypes
from xlafront.core import ShapedArray, primitive, shape_rules, get_aval


class FftType(enum.IntEnum):
    """As jax.lax.FftType."""
    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3

    def __str__(self):
        return self.name


fft_p = primitive("fft")


def _fft_rule(x, *, fft_type, fft_lengths):
    fft_type = FftType(fft_type)
    k = len(fft_lengths)
    if not 1 <= k <= 3:
        raise ValueError(f"fft supports 1 to 3 transformed axes, got fft_lengths {fft_lengths}")
    if x.ndim < k:
        raise ValueError(f"fft with fft_lengths {fft_lengths} needs an operand of rank >= {k}, "
                         f"got shape {x.shape}")
    tail = tuple(x.shape[-k:])
    if fft_type == FftType.RFFT:
        if x.dtype not in (dtypes.float32, dtypes.float64):
            raise TypeError(f"RFFT needs a float32 or float64 operand, got {x.dtype.name}")
        if tail != tuple(fft_lengths):
            raise ValueError(f"RFFT operand's trailing dimensions {tail} must equal fft_lengths {fft_lengths}")
        shape = x.shape[:-1] + (fft_lengths[-1] // 2 + 1,)
        return ShapedArray(shape, dtypes.to_complex(x.dtype), False)
    if x.dtype not in (dtypes.complex64, dtypes.complex128):
        raise TypeError(f"{fft_type.name} needs a complex64 or complex128 operand, got {x.dtype.name}")
    if fft_type == FftType.IRFFT:
        want = tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,)
        if tail != want:
            raise ValueError(f"IRFFT operand's trailing dimensions {tail} must be {want} for "
                             f"fft_lengths {fft_lengths}")
        return ShapedArray(x.shape[:-1] + (fft_lengths[-1],), dtypes.to_real(x.dtype), False)
    if tail != tuple(fft_lengths):
        raise ValueError(f"{fft_type.name} operand's trailing dimensions {tail} must equal "
                         f"fft_lengths {fft_lengths}")
    return ShapedArray(x.shape, x.dtype, False)


shape_rules[fft_p] = _fft_rule


def fft(x, fft_type, fft_lengths):
    """lax.fft: the transform `fft_type` ("FFT", "IFFT", "RFFT", "IRFFT" or an FftType) of the
    trailing len(fft_lengths) axes of x."""
    if isinstance(fft_type, str):
        try:
            fft_type = FftType[fft_type.upper()]
        except KeyError:
            raise ValueError(f"unknown fft_type {fft_type!r}; expected FFT, IFFT, RFFT or IRFFT") from None
    else:
        fft_type = FftType(int(getattr(fft_type, "value", fft_type)))
    lengths = tuple(int(n) for n in np.atleast_1d(fft_lengths))
    get_aval(x)  # reject non-arrays early
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=lengths)
