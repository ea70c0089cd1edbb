"""Names xlafront lacks: a clear AttributeError instead of Python's bare one.

xlafront's public modules mirror JAX's (`xlafront.numpy` <-> `jax.numpy`, ...), so a
name missing from one of them is, for a user porting JAX code, a JAX name xlafront does
not implement yet. Each public module ends with

    __getattr__ = _missing.module_getattr(__name__)

and `xnp.foo` then raises `NotImplementedYetError` (an AttributeError, so `hasattr`
and `getattr(m, name, default)` behave as usual) saying which JAX name is missing and
where the user's code asked for it. The drop-in runner (`python -m xlafront run`) uses
the same messages for `jax.*` names.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import sys

__all__ = ["NotImplementedYetError", "jax_name", "user_site", "missing_attribute", "missing_module",
           "module_getattr"]

# xlafront's own code: the package and its sibling layers (lowering/, transforms/)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OWN_DIRS = tuple(os.path.join(_ROOT, d) + os.sep for d in ("xlafront", "lowering", "transforms"))


class NotImplementedYetError(AttributeError):
    """A JAX name that xlafront does not implement (yet)."""

    def __str__(self):
        msg = super().__str__()
        # "did you mean" is computed only when the message is shown (hasattr stays cheap)
        obj, name = getattr(self, "obj", None), getattr(self, "name", None)
        if obj is not None and name:
            try:
                close = difflib.get_close_matches(name, [n for n in dir(obj) if not n.startswith("_")], 3)
            except Exception:  # pragma: no cover - a broken __dir__
                close = []
            if close:
                shown = getattr(self, "shown_module", None) or getattr(obj, "__name__", "")
                msg += "; did you mean " + " or ".join(f"{shown}.{c}" for c in close) + "?"
        return msg


def jax_name(module_name: str) -> str:
    """`xlafront.numpy` -> `jax.numpy`, `xlafront._compat.core` -> `jax._src.core` (its
    stand-ins, xlafront/_compat); names already under `jax` stay."""
    if module_name == "xlafront._compat" or module_name.startswith("xlafront._compat."):
        return "jax._src" + module_name[len("xlafront._compat"):]
    if module_name == "xlafront" or module_name.startswith("xlafront."):
        return "jax" + module_name[len("xlafront"):]
    return module_name


_code_dirs = None


def code_dirs():
    """(the standard library's and installed packages' folders, xlafront's own folders), as
    real paths ending in a separator (computed on first use: sysconfig is not imported at
    start-up)."""
    global _code_dirs
    if _code_dirs is None:
        import sysconfig
        library = tuple({os.path.realpath(p) + os.sep for p in
                         (sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib"))
                         if p})
        own = tuple(os.path.join(os.path.realpath(_ROOT), d) + os.sep for d in ("xlafront", "lowering", "transforms"))
        _code_dirs = (library, own)
    return _code_dirs


def is_user_module(m) -> bool:
    """A module of the user's (not the standard library's, an installed package's or xlafront's)."""
    file = getattr(m, "__file__", None)
    if not file or (getattr(m, "__name__", "") or "").startswith("xlafront"):
        return False
    library, own = code_dirs()
    file = os.path.realpath(file)
    return not file.startswith(library) and not file.startswith(own)


def _is_library_frame(filename: str) -> bool:
    return (filename.startswith(_OWN_DIRS) or filename.startswith("<frozen")
            or os.sep + "importlib" + os.sep in filename)


def user_site(depth: int = 1) -> str:
    """`file.py:12` of the innermost frame outside xlafront and the import machinery."""
    f = sys._getframe(depth)
    while f is not None:
        fn = f.f_code.co_filename
        if not _is_library_frame(os.path.abspath(fn) if not fn.startswith("<") else fn):
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def missing_attribute(module_name: str, name: str, obj=None, *, shown_as: str | None = None,
                      site: str | None = None) -> NotImplementedYetError:
    """The error for `module.name` missing. `shown_as` is the module's name as the user
    wrote it (`jax.numpy` under the drop-in runner; `module_name` otherwise)."""
    site = site or user_site(2)
    jax_module = jax_name(module_name)
    shown = shown_as or module_name
    msg = f"module {shown!r} has no attribute {name!r}: xlafront does not implement {jax_module}.{name} yet"
    if shown != module_name:
        msg += f" (`{shown}` is served by `{module_name}`)"
    msg += f"; used at {site}"
    err = NotImplementedYetError(msg, name=name, obj=obj)
    err.jax_name = f"{jax_module}.{name}"
    err.site = site
    err.shown_module = shown
    return err


def missing_module(module_name: str, *, site: str | None = None):
    """The error for `import module_name` where xlafront has no such module."""
    site = site or user_site(2)
    jax_module = jax_name(module_name)
    parent, _, leaf = module_name.rpartition(".")
    msg = (f"xlafront does not implement {jax_module} yet ({parent or module_name} has no module or "
           f"name {leaf!r}); imported at {site}")
    # name=None: `from jax import foo` must not swallow this as "no submodule foo"
    err = ModuleNotFoundError(msg)
    err.jax_name = jax_module
    err.site = site
    return err


def module_getattr(module_name: str):
    """A module-level `__getattr__` for xlafront's module `module_name`: names xlafront
    lacks raise `NotImplementedYetError`; dunder and private names raise the plain
    AttributeError Python would."""
    def __getattr__(name: str):
        module = sys.modules.get(module_name)
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}", name=name, obj=module)
        # a submodule not imported yet (`xf.scipy` after `import xlafront`, as `jax.scipy`)
        sub = f"{module_name}.{name}"
        if sub in sys.modules:
            return sys.modules[sub]
        if hasattr(module, "__path__") and importlib.util.find_spec(sub) is not None:
            return importlib.import_module(sub)
        raise missing_attribute(module_name, name, module)
    __getattr__.__qualname__ = f"{module_name}.__getattr__"
    return __getattr__
