"""`jax.experimental.hijax`: importable names, not implemented.

flax.nnx defines its (opt-in) hijax variables at import time: it subclasses
`HiPrimitive`/`MutableHiType`, calls `register_hitype` and
`control_flow_allowed_effects.add_type`, and wraps properties with `aval_property`. Those
work here (the registrations are recorded and change nothing), and so does making a
`HiPrimitive`; binding one, making a hijax type's value or calling the other functions
raises NotImplementedYetError naming it.
"""
from __future__ import annotations

from xlafront import _missing
from xlafront._compat import placeholder_class, placeholder_function
from xlafront.core import AbstractValue, ShapedArray  # noqa: F401
from xlafront._compat.state.types import AbstractRef  # noqa: F401

_NEED = "flax.nnx (hijax variables)"


class HiPrimitive:
    """A hijax primitive: flax.nnx makes its three at import (`NewVariable('new_variable')`),
    so an instance can be made; binding it raises NotImplementedYetError."""

    def __init__(self, name, *args, **kwargs):
        self.name = name

    def bind(self, *args, **params):
        raise _compat_error(f"jax.experimental.hijax.HiPrimitive.bind ({self.name})")

    def __repr__(self):
        return self.name


class VJPHiPrimitive(HiPrimitive):
    pass


def _compat_error(what):
    return _missing.NotImplementedYetError(
        f"xlafront does not implement {what} yet (needed by {_NEED}); used at {_missing.user_site(3)}",
        name=what)

HiType = placeholder_class("jax.experimental.hijax.HiType", _NEED, (AbstractValue,))
MutableHiType = placeholder_class("jax.experimental.hijax.MutableHiType", _NEED, (HiType,))
HiPspec = placeholder_class("jax.experimental.hijax.HiPspec", _NEED)
AvalQDD = placeholder_class("jax.experimental.hijax.AvalQDD", _NEED)
AvalMutableQDD = placeholder_class("jax.experimental.hijax.AvalMutableQDD", _NEED)
TransformedRef = placeholder_class("jax.experimental.hijax.TransformedRef", _NEED)
Zero = placeholder_class("jax.experimental.hijax.Zero", _NEED)
instantiate_zeros = placeholder_function("jax.experimental.hijax.instantiate_zeros", _NEED)
is_undefined_primal = placeholder_function("jax.experimental.hijax.is_undefined_primal", _NEED)

_hitypes: dict = {}


def register_hitype(typ, to_aval) -> None:
    """Recorded; xlafront does not trace hijax types."""
    _hitypes[typ] = to_aval


class _EffectTypeSet:
    def __init__(self):
        self._types = set()

    def add_type(self, t) -> None:
        self._types.add(t)

    def __contains__(self, t) -> bool:
        return t in self._types


control_flow_allowed_effects = _EffectTypeSet()


class aval_property(property):
    """A property of a hijax type's values, read from its aval (a plain property here)."""


def aval_method(f):
    return f


__getattr__ = _missing.module_getattr(__name__)
