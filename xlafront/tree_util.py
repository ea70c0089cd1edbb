"""Pytrees, on jaxlib's C++ pytree registry (our own registry instance).

Flattening is on the jit hit path, so it must be the C++ implementation: a
Python flattener is several times slower. Everything here follows
`jax.tree_util`: the same names, signatures, treedef reprs and error classes.
"""
from __future__ import annotations

import collections
import dataclasses
import difflib
import functools
import operator
import textwrap
from typing import Any, Callable, Iterable

from jaxlib import _jax

_pt = _jax.pytree
registry = _pt.PyTreeRegistry()   # None, tuple, namedtuple, list, dict are built in
# a module and name let treedefs be pickled (they refer to their registry by reference)
registry.__module__ = __name__
registry.__name__ = "registry"
default_registry = registry
PyTreeDef = _pt.PyTreeDef
DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey = (
    _pt.DictKey, _pt.SequenceKey, _pt.GetAttrKey, _pt.FlattenedIndexKey)
KeyEntry = Any
KeyPath = tuple
_flatten = registry.flatten

__all__ = [
    "DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial", "PyTreeDef",
    "SequenceKey", "all_leaves", "build_tree", "default_registry", "flatten_one_level",
    "flatten_one_level_with_keys", "is_tree_node", "keystr", "register_dataclass",
    "register_pytree_node", "register_pytree_node_class", "register_pytree_with_keys",
    "register_pytree_with_keys_class", "register_static", "tree_all", "tree_broadcast",
    "tree_flatten", "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path", "tree_map",
    "tree_map_with_path", "tree_reduce", "tree_reduce_associative", "tree_structure",
    "tree_transpose", "tree_unflatten", "treedef_children", "treedef_is_leaf",
    "treedef_is_strict_leaf", "treedef_tuple",
]


# ----------------------------------------------------------------------------- flatten / unflatten
def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None):
    """(leaves, treedef) of `tree`; `is_leaf(x)` True stops the descent at `x`."""
    return _flatten(tree, is_leaf)


def tree_unflatten(treedef: PyTreeDef, leaves):
    return treedef.unflatten(leaves)


def tree_leaves(tree, is_leaf: Callable[[Any], bool] | None = None):
    return _flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf: Callable[[Any], bool] | None = None):
    return _flatten(tree, is_leaf)[1]


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    return _pt.treedef_tuple(registry, list(treedefs))


def treedef_children(treedef: PyTreeDef):
    return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.num_nodes == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
    return treedef.num_nodes == 1 and treedef.num_leaves == 1


def all_leaves(iterable: Iterable, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every element of `iterable` is a leaf."""
    if is_leaf is None:
        return _pt.all_leaves(registry, iterable)
    items = list(iterable)
    leaves = tree_leaves(items, is_leaf)
    return len(leaves) == len(items) and all(a is b for a, b in zip(items, leaves))


def is_tree_node(typ: type) -> bool:
    return registry.is_node(typ)


def flatten_one_level(tree):
    """(children, aux data) of one node; a ValueError for a leaf."""
    out = registry.flatten_one_level(tree)
    if out is None:
        raise ValueError(f"can't tree-flatten type: {type(tree)}")
    return out


def flatten_one_level_with_keys(tree):
    out = registry.flatten_one_level_with_keys(tree)
    if out is None:
        raise ValueError(f"can't tree-flatten type: {type(tree)}")
    return out


def build_tree(treedef: PyTreeDef, xs):
    """Build the tree `treedef` describes from nested tuples `xs` of its children."""
    return treedef.from_iterable_tree(xs)


# ----------------------------------------------------------------------------- map / reduce
def tree_map(f: Callable, tree, *rest, is_leaf: Callable[[Any], bool] | None = None):
    """`f` applied leafwise; `rest` are trees with `tree`'s structure (or a superset of it:
    each of their subtrees at a leaf of `tree` is passed whole)."""
    leaves, treedef = _flatten(tree, is_leaf)
    if not rest:
        return treedef.unflatten(map(f, leaves))
    all_leaves_ = [leaves]
    for r in rest:
        try:
            all_leaves_.append(treedef.flatten_up_to(r))
        except (ValueError, TypeError) as e:
            raise _prefix_error(tree, r, "tree_map tree", is_leaf) or e from None
    return treedef.unflatten(f(*xs) for xs in zip(*all_leaves_))


class Unspecified:
    """No initializer given to tree_reduce."""


def tree_reduce(function: Callable, tree, initializer: Any = Unspecified(),
                is_leaf: Callable[[Any], bool] | None = None):
    leaves = tree_leaves(tree, is_leaf)
    if isinstance(initializer, Unspecified):
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_reduce_associative(operation: Callable, tree, *, identity: Any = Unspecified(),
                            is_leaf: Callable[[Any], bool] | None = None):
    """Reduce the leaves pairwise, as a balanced tree of `operation` calls."""
    def reduce(xs):
        if not xs:
            if isinstance(identity, Unspecified):
                raise TypeError("Must specify identity for parallel reduction of empty sequence.")
            return identity
        if len(xs) == 1:
            return xs[0]
        mid = len(xs) // 2
        return operation(reduce(xs[:mid]), reduce(xs[mid:]))
    return reduce(tree_leaves(tree, is_leaf))


def tree_all(tree, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose):
    """An outer tree of inner trees -> the inner tree of outer trees."""
    flat, treedef = tree_flatten(pytree_to_transpose)
    if inner_treedef is None:
        inner_treedef = tree_structure(outer_treedef.flatten_up_to(pytree_to_transpose)[0])
    inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
    if treedef.num_leaves != inner_size * outer_size:
        raise TypeError(f"Mismatch\n{treedef}\n != \n{outer_treedef.compose(inner_treedef)}")
    lol = [flat[i * inner_size:(i + 1) * inner_size] for i in range(outer_size)]
    return inner_treedef.unflatten(outer_treedef.unflatten(col) for col in zip(*lol))


def tree_broadcast(prefix_tree, full_tree, is_leaf: Callable[[Any], bool] | None = None):
    """`prefix_tree` with each leaf repeated over the subtree of `full_tree` it covers."""
    return tree_structure(full_tree).unflatten(broadcast_prefix(prefix_tree, full_tree, is_leaf))


def broadcast_prefix(prefix_tree, full_tree, is_leaf: Callable[[Any], bool] | None = None):
    """The leaves of `prefix_tree` repeated over the leaves of `full_tree` each one covers."""
    out = []
    leaves, treedef = _flatten(prefix_tree, is_leaf)
    try:
        subtrees = treedef.flatten_up_to(full_tree)
    except (ValueError, TypeError) as e:
        raise _prefix_error(prefix_tree, full_tree, "prefix_tree", is_leaf) or e from None
    for leaf, sub in zip(leaves, subtrees):
        out.extend([leaf] * tree_structure(sub).num_leaves)
    return out


# ----------------------------------------------------------------------------- prefix errors
def _prefix_error(prefix, full, name, is_leaf=None, path=()):
    """A ValueError saying where `prefix` stops being a prefix of `full` (as JAX words it),
    or None when it is one."""
    if is_leaf is not None and is_leaf(prefix):
        return None
    if registry.flatten_one_level(prefix) is None:   # a leaf covers any subtree
        return None
    where = f"    {name}{keystr(path)}"
    head = f"pytree structure error: different types at key path\n{where}\n"
    if type(prefix) is not type(full):
        return ValueError(
            f"{head}At that key path, the prefix pytree {name} has a subtree of type\n    {type(prefix)}\n"
            f"but at the same key path the full pytree has a subtree of different type\n    {type(full)}.")
    p_kids, p_meta = flatten_one_level_with_keys(prefix)
    f_kids, f_meta = flatten_one_level_with_keys(full)
    p_kids, f_kids = list(p_kids), list(f_kids)
    if isinstance(prefix, (list, tuple)) and len(p_kids) != len(f_kids):
        t = type(prefix).__name__
        return ValueError(
            f"pytree structure error: different lengths of {t} at key path\n{where}\n"
            f"At that key path, the prefix pytree {name} has a subtree of type {t} of length "
            f"{len(p_kids)}, but the full pytree has a subtree of the same type but of length "
            f"{len(f_kids)}.")
    if len(p_kids) != len(f_kids) or p_meta != f_meta:
        diff = textwrap.indent("\n".join(difflib.ndiff([repr(p_meta)], [repr(f_meta)])), "    ")
        return ValueError(
            f"pytree structure error: different pytree metadata at key path\n{where}\n"
            f"At that key path, the prefix pytree {name} has a subtree of type\n    {type(prefix)}\n"
            f"with metadata\n    {p_meta!r}\nbut at the same key path the full pytree has a subtree "
            f"of the same type but with metadata\n    {f_meta!r}\nso the diff in the metadata at "
            f"these pytree nodes is\n{diff}")
    for (k, p), (_, f) in zip(p_kids, f_kids):
        err = _prefix_error(p, f, name, is_leaf, (*path, k))
        if err is not None:
            return err
    return None


# ----------------------------------------------------------------------------- key paths
def _flatten_with_path(tree, is_leaf, is_leaf_takes_path):
    # jaxlib's leaf predicate for key paths takes (path, x)
    if is_leaf is not None and not is_leaf_takes_path:
        leaf = is_leaf
        is_leaf = lambda _, x: leaf(x)  # noqa: E731
    return registry.flatten_with_path(tree, is_leaf)


def tree_flatten_with_path(tree, is_leaf: Callable[..., bool] | None = None,
                           is_leaf_takes_path: bool = False):
    """([(key path, leaf)], treedef)."""
    return _flatten_with_path(tree, is_leaf, is_leaf_takes_path)


def tree_leaves_with_path(tree, is_leaf: Callable[..., bool] | None = None,
                          is_leaf_takes_path: bool = False):
    return _flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def tree_map_with_path(f: Callable, tree, *rest, is_leaf: Callable[..., bool] | None = None,
                       is_leaf_takes_path: bool = False):
    """`f(path, leaf, *others)` leafwise."""
    kls, treedef = _flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    all_leaves_ = [[x for _, x in kls]]
    for r in rest:
        try:
            all_leaves_.append(treedef.flatten_up_to(r))
        except (ValueError, TypeError) as e:
            raise _prefix_error(tree, r, "tree_map_with_path tree", None) or e from None
    paths = [k for k, _ in kls]
    return treedef.unflatten(f(p, *xs) for p, xs in zip(paths, zip(*all_leaves_)))


def keystr(keys, *, simple: bool = False, separator: str = "") -> str:
    """'['a'][0].b' for a key path; `simple=True` gives 'a0b' (joined by `separator`)."""
    return separator.join(map(_simple_entrystr if simple else str, keys))


def _simple_entrystr(key) -> str:
    if isinstance(key, SequenceKey):
        return str(key.idx)
    if isinstance(key, DictKey):
        return str(key.key)
    if isinstance(key, GetAttrKey):
        return str(key.name)
    if isinstance(key, FlattenedIndexKey):
        return str(key.key)
    return str(key)


# ----------------------------------------------------------------------------- registration
def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """Make `nodetype` a pytree node: flatten_func(x) -> (children, hashable aux data),
    unflatten_func(aux, children) -> x."""
    registry.register_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func)


def register_pytree_with_keys(nodetype, flatten_with_keys, unflatten_func, flatten_func=None):
    """As register_pytree_node, with flatten_with_keys(x) -> ([(key, child)], aux)."""
    if flatten_func is None:
        def flatten_func(x):
            kls, aux = flatten_with_keys(x)
            return [c for _, c in kls], aux
    registry.register_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_node_class(cls):
    """Class decorator: `x.tree_flatten()` and `cls.tree_unflatten(aux, children)`."""
    registry.register_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls):
    """Class decorator: `x.tree_flatten_with_keys()` and `cls.tree_unflatten(aux, children)`."""
    flat = operator.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None
    register_pytree_with_keys(cls, operator.methodcaller("tree_flatten_with_keys"),
                              cls.tree_unflatten, flat)
    return cls


def register_dataclass(nodetype, data_fields=None, meta_fields=None, drop_fields=()):
    """A dataclass as a pytree node: `data_fields` are children, `meta_fields` static aux
    data. Both may be left out for a @dataclass, whose fields are data unless marked
    `field(metadata=dict(static=True))`."""
    if data_fields is None or meta_fields is None:
        if (data_fields is None) != (meta_fields is None):
            raise TypeError("register_dataclass: data_fields and meta_fields must both be specified"
                            f" when either is specified. Got {data_fields=} {meta_fields=}.")
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError("register_dataclass: data_fields and meta_fields are required when"
                            f" nodetype is not a dataclass. Got {nodetype=}.")
        fields = dataclasses.fields(nodetype)
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init} - set(drop_fields)
        given = {*meta_fields, *data_fields}
        if given != init_fields:
            msg = ("data_fields and meta_fields must include all dataclass fields with"
                   " ``init=True`` and only them.")
            if init_fields - given:
                msg += (f" Missing fields: {init_fields - given}. Add them to drop_fields to "
                        f"suppress this error.")
            if given - init_fields:
                msg += f" Unexpected fields: {given - init_fields}."
            raise ValueError(msg)
    overlap = set(data_fields) & set(meta_fields)
    if overlap:
        raise ValueError(f"data_fields and meta_fields must not overlap. Overlapping fields: {overlap}.")
    registry.register_dataclass_node(nodetype, list(data_fields), list(meta_fields))
    return nodetype


def register_static(cls):
    """Instances of `cls` are pytrees without leaves (static under jit)."""
    register_pytree_with_keys(cls, lambda obj: ((), obj), lambda obj, _: obj)
    return cls


register_pytree_with_keys(
    collections.OrderedDict,
    lambda x: (tuple((DictKey(k), x[k]) for k in x.keys()), tuple(x.keys())),
    lambda keys, values: collections.OrderedDict(zip(keys, values)),
)


def _flatten_defaultdict_with_keys(d):
    keys = tuple(sorted(d))
    return tuple((DictKey(k), d[k]) for k in keys), (d.default_factory, keys)


register_pytree_with_keys(
    collections.defaultdict,
    _flatten_defaultdict_with_keys,
    lambda s, values: collections.defaultdict(s[0], zip(s[1], values)),
)


# ----------------------------------------------------------------------------- Partial
class _HashableCallableShim:
    """Holds a functools.partial so that Partial does not merge its arguments; hashes and
    compares as the partial it holds."""

    def __init__(self, fun):
        self.fun = fun

    def __call__(self, *args, **kw):
        return self.fun(*args, **kw)

    def __hash__(self):
        return hash(self.fun)

    def __eq__(self, other):
        if isinstance(other, _HashableCallableShim):
            return self.fun == other.fun
        return self.fun == other

    def __repr__(self):
        return f"_HashableCallableShim({self.fun!r})"


class Partial(functools.partial):
    """functools.partial as a pytree: the bound arguments are its leaves and the function
    its (static) aux data, so it can be passed to jitted and transformed functions."""

    def __new__(klass, func, *args, **kw):
        if isinstance(func, functools.partial):
            # functools.partial would merge the arguments of a partial `func` into ours:
            # box it so that only the arguments given here become leaves
            original = func
            func = _HashableCallableShim(original)
            out = super().__new__(klass, func, *args, **kw)
            func.func, func.args, func.keywords = original.func, original.args, original.keywords
            return out
        return super().__new__(klass, func, *args, **kw)


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)


# A JAX name this module lacks: an AttributeError that says so.
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
