"""`jax._src.core`: a few names libraries import from JAX's private core.

- `trace_state_clean()` (numpyro, real): True when no transformation is tracing in this
  thread (xlafront's current trace is the eager one).
- `ShapedArray`, `AbstractValue`, `Tracer` (flax fp8_ops, real): xlafront's own classes.
- `physical_aval` (flax fp8_ops, placeholder): extended dtypes are not implemented.
"""
from __future__ import annotations

from xlafront import _missing
from xlafront import core as _core
from xlafront._compat import placeholder_function

ShapedArray = _core.ShapedArray
AbstractValue = _core.AbstractValue
Tracer = _core.Tracer


def trace_state_clean() -> bool:
    return _core.current_trace() is _core.eval_trace


physical_aval = placeholder_function("jax._src.core.physical_aval", "flax.linen.fp8_ops")

__getattr__ = _missing.module_getattr(__name__)
