"""`jax._src.state.types`: `AbstractRef` (flax.nnx imports it at import and tests values
with isinstance; placeholder: xlafront has no mutable array references, so nothing is an
instance of it)."""
from __future__ import annotations

from xlafront import _missing
from xlafront._compat import placeholder_class
from xlafront.core import AbstractValue

AbstractRef = placeholder_class("jax._src.state.types.AbstractRef", "flax.nnx", (AbstractValue,))

__getattr__ = _missing.module_getattr(__name__)
