"""Pytrees, on jaxlib's C++ pytree registry (our own registry instance).

Flattening is on the jit hit path, so it must be the C++ implementation: a
Python flattener is several times slower.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

from jaxlib import _jax

_pt = _jax.pytree
registry = _pt.PyTreeRegistry()
PyTreeDef = _pt.PyTreeDef
DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey = _pt.DictKey, _pt.SequenceKey, _pt.GetAttrKey, _pt.FlattenedIndexKey
_flatten = registry.flatten


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None):
    return _flatten(tree, is_leaf)


def tree_unflatten(treedef: PyTreeDef, leaves):
    return treedef.unflatten(leaves)


def tree_leaves(tree, is_leaf=None):
    return _flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return _flatten(tree, is_leaf)[1]


def treedef_tuple(treedefs):
    return _pt.treedef_tuple(registry, list(treedefs))


def treedef_children(treedef):
    return treedef.children()


def tree_map(f: Callable, tree, *rest, is_leaf=None):
    leaves, treedef = _flatten(tree, is_leaf)
    all_leaves = [leaves] + [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(*xs) for xs in zip(*all_leaves))


def tree_reduce(function, tree, initializer=dataclasses.MISSING, is_leaf=None):
    leaves = tree_leaves(tree, is_leaf)
    if initializer is dataclasses.MISSING:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree, is_leaf=None):
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    flat, treedef = tree_flatten(pytree_to_transpose)
    inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
    if treedef.num_leaves != inner_size * outer_size:
        raise TypeError(f"Mismatch\n{treedef}\n != \n{outer_treedef.compose(inner_treedef)}")
    lol = [flat[i * inner_size:(i + 1) * inner_size] for i in range(outer_size)]
    transposed = zip(*lol)
    subtrees = map(outer_treedef.unflatten, transposed)
    return inner_treedef.unflatten(subtrees)


def tree_flatten_with_path(tree, is_leaf=None):
    return registry.flatten_with_path(tree, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None):
    return registry.flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(f, tree, *rest, is_leaf=None):
    kls, treedef = registry.flatten_with_path(tree, is_leaf)
    all_leaves = [[kl[1] for kl in kls]] + [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(kl[0], *xs) for kl, xs in zip(kls, zip(*all_leaves)))


def keystr(keys, *, simple=False, separator=""):
    if simple:
        return separator.join(str(_key_simple(k)) for k in keys)
    return "".join(str(k) for k in keys)


def _key_simple(k):
    for attr in ("key", "idx", "name"):
        if hasattr(k, attr):
            return getattr(k, attr)
    return k


def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    registry.register_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func)
    return nodetype


def register_pytree_with_keys(nodetype, flatten_with_keys, unflatten_func, flatten_func=None):
    if flatten_func is None:
        def flatten_func(x):
            kls, aux = flatten_with_keys(x)
            return [c for _, c in kls], aux
    registry.register_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)
    return nodetype


def register_pytree_node_class(cls):
    registry.register_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype, data_fields=None, meta_fields=None, drop_fields=()):
    if data_fields is None or meta_fields is None:
        fields = [f for f in dataclasses.fields(nodetype) if f.name not in drop_fields]
        meta = [f.name for f in fields if f.metadata.get("static", False)]
        data = [f.name for f in fields if not f.metadata.get("static", False)]
        data_fields = data if data_fields is None else data_fields
        meta_fields = meta if meta_fields is None else meta_fields
    registry.register_dataclass_node(nodetype, list(data_fields), list(meta_fields))
    return nodetype


def all_leaves(iterable, is_leaf=None):
    if is_leaf is None:
        return _pt.all_leaves(registry, iterable)
    return all(tree_structure(x, is_leaf).num_nodes == 1 for x in iterable)


class Partial(functools.partial):
    """functools.partial as a pytree: the bound arguments are leaves, the function is static."""

    def __new__(klass, func, *args, **kw):
        if isinstance(func, functools.partial):
            original = func
            func = _HashableByObjectId(original)
            out = super().__new__(klass, func, *args, **kw)
            func._func = original
            return out
        return super().__new__(klass, func, *args, **kw)


class _HashableByObjectId:
    def __init__(self, func=None):
        self._func = func

    def __call__(self, *a, **k):
        return self._func(*a, **k)


registry.register_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)
