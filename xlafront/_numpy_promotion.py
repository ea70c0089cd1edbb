"""`jax.numpy_dtype_promotion(mode)`: the context manager that picks the dtype promotion
mode. xlafront implements JAX's "standard" promotion only: "strict" raises
NotImplementedYetError (`jax.config.jax_numpy_dtype_promotion` reads "standard")."""
from __future__ import annotations

from xlafront import _missing

_MODES = ("standard", "strict")


class numpy_dtype_promotion:
    """`with jax.numpy_dtype_promotion("standard"): ...` (as JAX's)."""

    def __init__(self, mode):
        if mode not in _MODES:
            raise ValueError(f"{mode!r} is not a valid NumpyDtypePromotion")
        if mode == "strict":
            raise _missing.NotImplementedYetError(
                f"xlafront does not implement jax.numpy_dtype_promotion('strict') yet (only 'standard'); "
                f"used at {_missing.user_site(2)}", name="numpy_dtype_promotion")
        self.mode = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
