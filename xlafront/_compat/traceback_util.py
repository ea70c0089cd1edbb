"""`jax._src.traceback_util` (real, on xlafront's own traceback handling).

- `register_exclusion(path)`: equinox, flax, jaxtyping call it at import for their own
  files (JAX hides those frames from tracebacks). xlafront records the path (flax reads
  and edits `_exclude_paths`) and changes nothing else.
- `api_boundary(fun)`: flax decorates its API entry points; JAX filters tracebacks there.
  xlafront returns `fun` unchanged (tracebacks are not filtered).
- `include_frame(frame)`: equinox; True unless the frame's file is excluded.
"""
from __future__ import annotations

from xlafront import _missing

_exclude_paths: list = []


def register_exclusion(path: str) -> None:
    if path not in _exclude_paths:
        _exclude_paths.append(path)


def api_boundary(fun=None, **kwargs):
    if fun is None:
        return lambda f: f
    return fun


def include_frame(f) -> bool:
    return not any(f.f_code.co_filename.startswith(p) for p in _exclude_paths)


__getattr__ = _missing.module_getattr(__name__)
