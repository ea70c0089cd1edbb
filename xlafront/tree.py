"""`xlafront.tree`: the short names of `xlafront.tree_util` (as `jax.tree`)."""
import dataclasses as _dataclasses

from xlafront.tree_util import (  # noqa: F401
    tree_all as all, tree_broadcast as broadcast, tree_flatten as flatten,
    tree_flatten_with_path as flatten_with_path, tree_leaves as leaves,
    tree_leaves_with_path as leaves_with_path, tree_map as map, tree_map_with_path as map_with_path,
    tree_reduce as reduce, tree_reduce_associative as reduce_associative, tree_structure as structure,
    tree_transpose as transpose, tree_unflatten as unflatten,
)


def static(**kwargs):
    """A `dataclasses.field` marked static: `register_dataclass` makes it aux data."""
    metadata = {"static": True, **(kwargs.pop("metadata", {}) or {})}
    return _dataclasses.field(metadata=metadata, **kwargs)


__all__ = ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path", "map",
           "map_with_path", "reduce", "reduce_associative", "static", "structure", "transpose",
           "unflatten"]


# A JAX name this module lacks: an AttributeError that says so.
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
