"""Importable stand-ins for names of JAX's *private* modules (`jax._src.*`).

Some ecosystem libraries import names from JAX's internals at import time (equinox and
flax: `jax._src.traceback_util`; flax: `jax._src.tree_util._registry`, ...). xlafront does
not re-implement JAX's internals; this package is the one place that gives those imports
something to bind, so that the libraries load. Each module here says which library needs
each name. There are three kinds of names:

- **real**: a small faithful equivalent on xlafront's own machinery (e.g.
  `traceback_util.register_exclusion`, `core.trace_state_clean`, `dtypes.TypePromotionError`);
- **placeholders**: a class or function that can be imported, subclassed and registered
  with, but raises `NotImplementedYetError` (an AttributeError) naming the JAX name and the
  call site when really used (`placeholder_function`, `placeholder_class`);
- anything else is missing: `from jax._src.x import y` is an ImportError and `m.y` an
  `NotImplementedYetError` naming `jax._src.x.y` (each module ends with the usual
  `_missing.module_getattr`), so a library's `try: ... except ImportError` takes its
  fallback.

Who uses it: `python -m xlafront run` serves `jax._src.X` from `xlafront._compat.X`
(xlafront/_jax_alias.py). Users of `import xlafront as jax` opt in with
`xlafront._compat.enable()`, after which `xlafront._src` is this package. Nothing else in
xlafront imports it. The list of names is in docs/ecosystem.md.
"""
from __future__ import annotations

import sys

from xlafront import _missing

__all__ = ["placeholder_function", "placeholder_class", "enable"]


def _error(jax_name: str, needed_by: str, site: str) -> _missing.NotImplementedYetError:
    err = _missing.NotImplementedYetError(
        f"xlafront does not implement {jax_name} (a JAX internal; a compatibility placeholder "
        f"for {needed_by}) yet; used at {site}", name=jax_name.rpartition(".")[2])
    err.jax_name = jax_name
    err.site = site
    return err


def placeholder_function(jax_name: str, needed_by: str):
    """A function that can be imported and referenced, and raises NotImplementedYetError
    naming `jax_name` and the caller when called."""
    def fn(*args, **kwargs):
        raise _error(jax_name, needed_by, _missing.user_site(2))
    fn.__name__ = fn.__qualname__ = jax_name.rpartition(".")[2]
    fn.__doc__ = f"Placeholder of {jax_name} (needed by {needed_by} at import time); raises when called."
    return fn


def placeholder_class(jax_name: str, needed_by: str, bases=(object,)):
    """A class that can be imported, subclassed and used in isinstance checks; making an
    instance (of it or of a subclass that does not override __init__) raises
    NotImplementedYetError naming `jax_name` and the caller."""
    def __init__(self, *args, **kwargs):
        raise _error(jax_name, needed_by, _missing.user_site(2))
    name = jax_name.rpartition(".")[2]
    ns = {"__init__": __init__, "__module__": jax_name.rpartition(".")[0],
          "__doc__": f"Placeholder of {jax_name} (needed by {needed_by}); cannot be instantiated."}
    return type(name, tuple(bases), ns)


def enable():
    """For `import xlafront as jax` users: make `xlafront._src` this package, so that code
    reaching for `jax._src.X` finds these stand-ins."""
    import xlafront
    sys.modules.setdefault("xlafront._src", sys.modules[__name__])
    xlafront.__dict__.setdefault("_src", sys.modules[__name__])


__getattr__ = _missing.module_getattr(__name__)
