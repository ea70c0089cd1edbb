"""`jax._src.ad_util`: `stop_gradient_p` (lineax registers a transpose rule for it at
import): xlafront's own stop_gradient primitive."""
from __future__ import annotations

from xlafront import _missing
from xlafront.api_autodiff import stop_gradient_p  # noqa: F401

__getattr__ = _missing.module_getattr(__name__)
