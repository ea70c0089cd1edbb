"""`jax._src.dispatch`: equinox reads `wait_for_tokens` (and takes another path when it is
missing, which is what xlafront wants: the name is deliberately absent)."""
from __future__ import annotations

from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
