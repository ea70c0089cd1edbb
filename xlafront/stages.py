"""`jax.stages`: the classes of jit's ahead-of-time stages, for annotations and isinstance
checks (equinox and flax.nnx annotate with them at import).

`jit(f).trace(...)` and `jit(f).lower(...)` both give a `Lowered` in xlafront (there is
no separate traced stage), so `Traced` is `Lowered`; `jit(f)` is a `Wrapped`.
"""
from __future__ import annotations

from typing import Any

from xlafront import _missing
from xlafront.api import Compiled, Jitted as Wrapped, Lowered  # noqa: F401

Traced = Lowered
CompilerOptions = dict[str, Any]

__all__ = ["Compiled", "CompilerOptions", "Lowered", "Traced", "Wrapped"]

__getattr__ = _missing.module_getattr(__name__)
