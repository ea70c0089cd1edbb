"""`jax._src.dtypes`: names libraries import from JAX's private dtypes module.

- `TypePromotionError` (equinox.nn, real), `extended`, `prng_key`, `issubdtype`,
  `canonicalize_dtype`, `finfo`, `iinfo` (flax fp8_ops, real): xlafront.dtypes' own.
- `ExtendedDType` (flax fp8_ops subclasses it at import, placeholder): user-defined
  extended dtypes are not implemented.
- `supports_inf` (flax fp8_ops, real): whether a float dtype has infinities.
"""
from __future__ import annotations

import numpy as np

from xlafront import _missing
from xlafront import dtypes as _d
from xlafront._compat import placeholder_class

TypePromotionError = _d.TypePromotionError
extended, prng_key = _d.extended, _d.prng_key
issubdtype, canonicalize_dtype, finfo, iinfo = _d.issubdtype, _d.canonicalize_dtype, _d.finfo, _d.iinfo
DType = np.dtype

ExtendedDType = placeholder_class("jax._src.dtypes.ExtendedDType", "flax.linen.fp8_ops")


def supports_inf(dt) -> bool:
    dt = np.dtype(dt)
    return _d.is_inexact(dt) and bool(np.isinf(np.array(np.inf).astype(dt)))


__getattr__ = _missing.module_getattr(__name__)
