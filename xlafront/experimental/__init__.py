"""`jax.experimental`: io_callback, the x64 context managers, and the submodules
`checkify`, `sparse` (importable), `layout`, `hijax` (importable names).

`shard_map` is in `xlafront.experimental.shard_map` (the sharding layer).
"""
from __future__ import annotations

import contextlib

from xlafront import _missing
from xlafront._compat import placeholder_class
from xlafront.config import config
from xlafront.experimental._io_callback import io_callback  # noqa: F401

__all__ = ["io_callback", "enable_x64", "disable_x64", "MutableArray"]


@contextlib.contextmanager
def enable_x64(new_val: bool = True):
    """Within the block, `jax_enable_x64` is `new_val` (as the former jax.experimental.enable_x64;
    JAX 0.10 spells it `jax.enable_x64(True)`)."""
    old = config.x64
    config.update("jax_enable_x64", bool(new_val))
    try:
        yield
    finally:
        config.update("jax_enable_x64", old)


def disable_x64():
    """Within the block, `jax_enable_x64` is False."""
    return enable_x64(False)


# flax.nnx falls back on it when jax has no `new_ref`/`Ref`; xlafront has no mutable arrays.
MutableArray = placeholder_class("jax.experimental.MutableArray", "flax.nnx (array refs)")

__getattr__ = _missing.module_getattr(__name__)
