"""jax.custom_derivatives: custom differentiation rules and the objects their rules see
with `symbolic_zeros=True` (SymbolicZero tangents/cotangents, CustomVJPPrimal primals)."""
from xlafront.api_autodiff import (CustomVJPPrimal, SymbolicZero, closure_convert,  # noqa: F401
                                   custom_gradient, custom_jvp, custom_vjp)

__all__ = ["CustomVJPPrimal", "SymbolicZero", "closure_convert", "custom_gradient", "custom_jvp",
           "custom_vjp"]
