"""jax.extend.source_info_util: importable, with no-op context managers.

xlafront records the user's file:line on every traced equation by itself (from the call
stack, skipping registered library folders), so JAX's name stacks and user contexts have
nothing to change here: `user_context`, `extend_name_stack`, `set_name_stack`,
`reset_name_stack`, `transform_name_stack` and `new_name_stack` are context managers that do
nothing; `current()` returns the current user frame's `SourceInfo` (or None);
`register_exclusion(path)` adds a folder whose frames are not the user's."""
from __future__ import annotations

import contextlib

from xlafront import _missing, core
from xlafront.core import SourceInfo  # noqa: F401

__all__ = ["SourceInfo", "NameStack", "current", "current_name_stack", "extend_name_stack",
           "new_name_stack", "new_source_info", "register_exclusion", "reset_name_stack",
           "set_name_stack", "summarize", "transform_name_stack", "user_context"]


class NameStack(tuple):
    """An (always empty) name stack."""

    def extend(self, name):
        return self


def current():
    return core.user_source_info()


def new_source_info():
    return None


def current_name_stack():
    return NameStack()


def new_name_stack(name=""):
    return NameStack()


def summarize(source_info, num_frames=1) -> str:
    return "<unknown>" if source_info is None else str(source_info)


def register_exclusion(path: str):
    """Frames from files under `path`'s folder are not the user's (in located messages and
    equation locations)."""
    import os
    core.register_internal_path(os.path.join(path, "_") if os.path.isdir(path) else path)


@contextlib.contextmanager
def _nothing(*args, **kwargs):
    yield


user_context = extend_name_stack = set_name_stack = reset_name_stack = _nothing
transform_name_stack = _nothing

__getattr__ = _missing.module_getattr(__name__)
