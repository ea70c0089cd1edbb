"""xlafront.typing: annotations for arguments, as `jax.typing`."""
from __future__ import annotations

from typing import Any, Protocol, Union

import numpy as np

from xlafront.array import Array

__all__ = ["ArrayLike", "DTypeLike"]


class SupportsDType(Protocol):
    @property
    def dtype(self) -> np.dtype: ...


# What the numpy layer accepts as an array argument.
ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]
# What `dtype=` accepts.
DTypeLike = Union[str, type[Any], np.dtype, SupportsDType]

from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
