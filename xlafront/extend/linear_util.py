"""jax.extend.linear_util: JAX's wrapped-function plumbing, as far as libraries use it.

`wrap_init(f, params=None, debug_info=None)` gives a `WrappedFun`: calling it
(`call_wrapped(*args)`) calls `f(*args, **params)`. xlafront's transforms take plain
callables, so `WrappedFun` is only a carrier: JAX's `transformation*` decorators and
`cache` raise NotImplementedYetError when used."""
from __future__ import annotations

from xlafront import _missing

__all__ = ["WrappedFun", "wrap_init", "StoreException"]


class StoreException(Exception):
    pass


class WrappedFun:
    """A function with its keyword parameters (JAX's lu.WrappedFun, without transformations)."""
    __slots__ = ("f", "params", "debug_info")

    def __init__(self, f, params=None, debug_info=None):
        self.f = f
        self.params = dict(params or {})
        self.debug_info = debug_info

    @property
    def __name__(self):
        return getattr(self.f, "__name__", type(self.f).__name__)

    def call_wrapped(self, *args, **kwargs):
        return self.f(*args, **self.params, **kwargs)

    __call__ = call_wrapped

    def __repr__(self):
        return f"Wrapped function: {self.__name__}"

    def __eq__(self, other):
        return type(other) is WrappedFun and self.f == other.f and self.params == other.params

    def __hash__(self):
        return hash((self.f, tuple(sorted(self.params.items(), key=lambda kv: kv[0]))))


def wrap_init(f, params=None, *, debug_info=None):
    return WrappedFun(f, params, debug_info)


def _unsupported(name):
    def fn(*args, **kwargs):
        raise _missing.missing_attribute(__name__, name)
    fn.__name__ = fn.__qualname__ = name
    return fn


transformation = _unsupported("transformation")
transformation2 = _unsupported("transformation2")
transformation_with_aux = _unsupported("transformation_with_aux")
transformation_with_aux2 = _unsupported("transformation_with_aux2")
cache = _unsupported("cache")
merge_linear_aux = _unsupported("merge_linear_aux")

__getattr__ = _missing.module_getattr(__name__)
