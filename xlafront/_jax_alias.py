"""`jax` served by xlafront: the import hook of `python -m xlafront run` (for the rest of
the process) and of `dump`/`compare` (scoped: `jax_as_xlafront()`).

Every `jax` / `jax.*` module asked for is served by the xlafront module of the same path,
wrapped in a proxy module named `jax...` so that `jax.__name__`, `jax.numpy is jnp`,
submodule attributes and error messages read as JAX's. A JAX name xlafront lacks raises
`NotImplementedYetError` (an AttributeError) or, for imports, a ModuleNotFoundError, both
naming the JAX name and the user's file:line.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import types

from xlafront import _missing

# The JAX release whose API xlafront implements: `jax.__version__` under the drop-in runner.
JAX_API_VERSION = "0.10.2"

_PROXY_SKIP = frozenset({"__name__", "__spec__", "__loader__", "__file__", "__package__", "__cached__",
                         "__builtins__", "__getattr__", "__dir__", "__path__"})


def _make_proxy(jax_name: str, real: types.ModuleType) -> types.ModuleType:
    """A module named `jax...` holding xlafront's module's names."""
    proxy = types.ModuleType(jax_name, real.__doc__)
    ns = proxy.__dict__
    for k, v in vars(real).items():
        # xlafront submodules are served as proxies too (through __getattr__ -> import)
        if k in _PROXY_SKIP or (isinstance(v, types.ModuleType) and v.__name__.startswith("xlafront")):
            continue
        ns[k] = v
    # Every proxy is a package, so that `from jax.random import missing` asks our finder
    # (which explains) instead of failing with Python's bare "cannot import name".
    ns["__path__"] = []
    # `from jax.numpy import missing` in Python's own messages names xlafront's file
    ns["__file__"] = getattr(real, "__file__", None)
    ns["__xlafront_module__"] = real
    if jax_name == "jax":
        # libraries choose code paths by JAX's version: the API level xlafront implements
        # (xlafront's own version stays `xlafront.__version__`)
        ns["__version__"] = JAX_API_VERSION
        ns["__version_info__"] = tuple(int(p) for p in JAX_API_VERSION.split("."))

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {jax_name!r} has no attribute {name!r}", name=name, obj=proxy)
        try:
            v = getattr(real, name)
        except AttributeError:
            v = None
        else:
            if not isinstance(v, types.ModuleType):
                return v
        # a submodule (imported or not yet): its `jax...` proxy
        try:
            return importlib.import_module(f"{jax_name}.{name}")
        except ModuleNotFoundError as e:
            if getattr(e, "jax_name", None) != f"{jax_name}.{name}":
                raise
        if v is not None:  # a module under another name (e.g. an alias of a private module)
            return v
        raise _missing.missing_attribute(real.__name__, name, proxy, shown_as=jax_name)

    def __dir__():
        return sorted(set(ns) | set(dir(real)))

    ns["__getattr__"] = __getattr__
    ns["__dir__"] = __dir__
    return proxy


class _JaxAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve `jax` and `jax.*` imports to xlafront's modules (wrapped in proxies)."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_jax_name(fullname):
            return None
        real_name = _real_name(fullname)
        try:
            real = importlib.import_module(real_name)
        except ModuleNotFoundError as e:
            if e.name and real_name.startswith(e.name):
                raise _missing.missing_module(real_name) from None
            raise
        spec = importlib.util.spec_from_loader(fullname, self, is_package=True)
        spec._xlafront_real = real
        return spec

    def create_module(self, spec):
        return _make_proxy(spec.name, spec._xlafront_real)

    def exec_module(self, module):
        pass


def install_jax_alias():
    """Make `import jax...` resolve to xlafront (for `run`; for the rest of the process)."""
    for name in [n for n in sys.modules if _is_jax_name(n)]:
        del sys.modules[name]
    if not any(isinstance(f, _JaxAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _JaxAlias())


def _is_jax_name(name: str) -> bool:
    return name == "jax" or name.startswith("jax.")


def _real_name(jax_name: str) -> str:
    """The xlafront module serving `jax_name`: `jax.X` -> `xlafront.X`, and JAX's private
    `jax._src.X` -> the compatibility stand-ins `xlafront._compat.X` (xlafront/_compat)."""
    if jax_name == "jax._src" or jax_name.startswith("jax._src."):
        return "xlafront._compat" + jax_name[len("jax._src"):]
    return "xlafront" + jax_name[3:]


@contextlib.contextmanager
def jax_as_xlafront():
    """Within the block, `import jax...` gives xlafront's modules (as `run` does); after it,
    the real `jax` modules (if any were imported) are back, and the user modules imported
    inside (which hold xlafront's `jax`) are forgotten, so a later import runs them afresh."""
    saved = {n: sys.modules.pop(n) for n in [n for n in sys.modules if _is_jax_name(n)]}
    before = set(sys.modules)
    finder = _JaxAlias()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for n in set(sys.modules) - before:
            if _is_jax_name(n) or _missing.is_user_module(sys.modules[n]):
                del sys.modules[n]
        sys.modules.update(saved)
