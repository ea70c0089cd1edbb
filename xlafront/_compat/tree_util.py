"""`jax._src.tree_util`: `_registry` (flax.nnx, real): `type in _registry` says whether a
type is a registered pytree node (xlafront's registry, on jaxlib's C++ one)."""
from __future__ import annotations

from xlafront import _missing
from xlafront import tree_util as _tu


class _RegistryView:
    """Membership view of xlafront's pytree registry (only `in` is supported)."""

    def __contains__(self, typ) -> bool:
        return isinstance(typ, type) and _tu.registry.is_node(typ)

    def __repr__(self):
        return "<xlafront pytree registry view>"


_registry = _RegistryView()

__getattr__ = _missing.module_getattr(__name__)
