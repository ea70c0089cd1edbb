"""`vmap`: the user-facing side of batching (pytrees of in_axes/out_axes, checks, errors).

The work happens in transforms/batching.py; this module maps user arguments to flat
(value, batch axis) pairs and the outputs back to `out_axes`.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable

from xlafront import core, tree_util
from xlafront.core import get_aval
from xlafront.primitives_sharding import axis_env
from xlafront.transforms import batching

__all__ = ["vmap"]

_flatten = tree_util.registry.flatten


def _is_none(x):
    return x is None


def _check_axes_spec(spec, what):
    leaves = _flatten(spec, _is_none)[0]
    for a in leaves:
        if a is not None and type(a) is not int:  # as JAX: numpy ints and bools are refused
            raise TypeError(f"vmap {what} must be an int, None, or (nested) container with those types "
                            f"as leaves, but got {spec}.")


def _type_str(x):
    try:
        a = get_aval(x)
    except TypeError:
        return type(x).__name__
    return f"{a.dtype.name}[{','.join(map(str, a.shape))}]"


class _ArgNames:
    """Names of arguments for error messages (computed only when an error is raised)."""

    def __init__(self, fun, args, kwargs):
        self.fun, self.args, self.kwargs = fun, args, kwargs

    def leaf_names(self):
        try:
            params = list(inspect.signature(self.fun).parameters.values())
        except (TypeError, ValueError):
            params = []
        pos = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = []
        for i, a in enumerate(self.args):
            base = f"argument {pos[i]}" if i < len(pos) else f"argument args[{i}]"
            for path, _ in tree_util.registry.flatten_with_path(a)[0]:
                names.append(base + tree_util.keystr(path))
        for k, v in self.kwargs.items():
            for path, _ in tree_util.registry.flatten_with_path(v)[0]:
                names.append(f"argument {k}" + tree_util.keystr(path))
        return names


def _flat_in_dims(in_axes, args, kwargs):
    """One batch axis (or None) per leaf of (args, kwargs); kwargs are mapped along 0."""
    if isinstance(in_axes, tuple):
        if len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding "
                             f"to the positional arguments passed to the function, but got "
                             f"len(in_axes)={len(in_axes)}, len(args)={len(args)} (at {core.user_site()})")
        per_arg = in_axes
    else:
        per_arg = (in_axes,) * len(args)
    dims = []
    for i, (spec, arg) in enumerate(zip(per_arg, args)):
        n = len(_flatten(arg)[0])
        if spec is None or type(spec) is int:
            dims.extend([spec] * n)
            continue
        spec_leaves, spec_tree = _flatten(spec, _is_none)
        try:
            subtrees = spec_tree.flatten_up_to(arg)
        except (ValueError, TypeError) as e:
            raise ValueError(f"vmap in_axes specification must be a tree prefix of the corresponding "
                             f"value; in_axes[{i}] is {spec!r} but argument {i} has structure "
                             f"{_flatten(arg)[1]} ({e}) (at {core.user_site()})") from None
        for s, sub in zip(spec_leaves, subtrees):
            dims.extend([s] * len(_flatten(sub)[0]))
    for v in kwargs.values():
        dims.extend([0] * len(_flatten(v)[0]))
    return dims


def _normalize_dims(leaves, dims, names):
    out = []
    for j, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            out.append(None)
            continue
        d = int(d)
        try:
            nd = get_aval(x).ndim
        except TypeError:
            raise TypeError(f"vmap: {names()[j]} of type {type(x).__name__} is not a valid array "
                            f"type (at {core.user_site()})") from None
        if not -nd <= d < nd:
            shape = get_aval(x).shape
            raise ValueError(f"vmap was requested to map its argument along axis {d}, which implies "
                             f"that its rank should be at least {d + 1 if d >= 0 else -d}, but is only "
                             f"{nd} (its shape is {shape}); {names()[j]} (at {core.user_site()})")
        out.append(d % nd)
    return out


def _axis_size(leaves, dims, axis_size, names):
    sizes = [get_aval(x).shape[d] for x, d in zip(leaves, dims) if d is not None]
    if axis_size is None:
        if not sizes:
            raise ValueError(f"vmap must have at least one non-None value in in_axes or axis_size must "
                             f"be specified (at {core.user_site()})")
        size = sizes[0]
    else:
        size = int(axis_size)
    if any(s != size for s in sizes):
        lines = [] if axis_size is None else [f"  * the `axis_size` argument was {axis_size};"]
        all_names = names()
        for j, (x, d) in enumerate(zip(leaves, dims)):
            if d is not None:
                lines.append(f"  * one axis had size {get_aval(x).shape[d]}: axis {d} of "
                             f"{all_names[j]} of type {_type_str(x)};")
        head = "vmap got inconsistent sizes for array axes to be mapped"
        raise ValueError(f"{head} at {core.user_site()}:\n" + "\n".join(lines))
    return size


def _flat_out_axes(out_axes, out_tree, n):
    if out_axes is None or type(out_axes) is int:
        return [out_axes] * n
    spec_leaves, spec_tree = _flatten(out_axes, _is_none)
    try:
        subtrees = spec_tree.flatten_up_to(out_tree.unflatten(list(range(n))))
    except (ValueError, TypeError) as e:
        raise ValueError(f"vmap out_axes specification must be a tree prefix of the corresponding value; "
                         f"out_axes is {out_axes!r} but the output has structure {out_tree} ({e}) "
                         f"(at {core.user_site()})") from None
    flat = [None] * n
    for s, sub in zip(spec_leaves, subtrees):
        for i in _flatten(sub)[0]:
            flat[i] = s
    return flat


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    """Vectorize `fun` over an axis of its arguments (JAX's `vmap`).

    `in_axes`: an int, None, or a tuple with one entry per positional argument, each a
    pytree prefix of that argument whose leaves are ints (the mapped axis) or None (not
    mapped). Keyword arguments are mapped over axis 0. `out_axes` likewise for the
    output; None marks outputs that must not depend on the batch. Unbatched outputs
    are broadcast along the batch."""
    if not callable(fun):
        raise TypeError(f"vmap expects a callable, got {type(fun).__name__} ({fun!r})")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not (in_axes is None or type(in_axes) in (int, tuple)):  # as JAX: not even a numpy int
        raise TypeError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
                        f"positional arguments passed to the function, but got {in_axes}.")
    _check_axes_spec(in_axes, "in_axes")
    if isinstance(out_axes, list):
        out_axes = tuple(out_axes)
    _check_axes_spec(out_axes, "out_axes")

    @functools.wraps(fun, updated=())  # not __dict__: a jitted fun's attributes are its own
    def vmapped(*args, **kwargs):
        leaves, treedef = _flatten((args, kwargs))
        names = lambda: _ArgNames(fun, args, kwargs).leaf_names()  # noqa: E731
        if type(in_axes) is int and not kwargs:
            dims = [in_axes] * len(leaves)
        else:
            dims = _flat_in_dims(in_axes, args, kwargs)
        dims = _normalize_dims(leaves, dims, names)
        size = _axis_size(leaves, dims, axis_size, names)
        out_tree_box = []

        def flat_fun(*xs):
            a, k = treedef.unflatten(xs)
            out = fun(*a, **k)
            out_leaves, out_tree = _flatten(out)
            out_tree_box.append(out_tree)
            return out_leaves

        if axis_name is None:
            out_vals, out_dims = batching.batch_flat(flat_fun, leaves, dims, size, axis_name)
        else:   # the name is bound for the collectives (psum, axis_index, ...) over the batch
            with axis_env({axis_name: size}):
                out_vals, out_dims = batching.batch_flat(flat_fun, leaves, dims, size, axis_name)
        out_tree = out_tree_box[0]
        specs = _flat_out_axes(out_axes, out_tree, len(out_vals))
        results = []
        for x, d, spec in zip(out_vals, out_dims, specs):
            if spec is None:
                if d is not None:
                    raise ValueError(f"at vmap out_axes, got axis spec None but output was batched on "
                                     f"axis {d} (output of type {_type_str(x)}, at {core.user_site()})")
                results.append(x)
                continue
            try:
                nd = get_aval(x).ndim + (d is None)
            except TypeError:
                raise TypeError(f"vmap: the function returned a value of type {type(x).__name__} "
                                f"({x!r}); outputs must be arrays, scalars or pytrees of them") from None
            if not -nd <= spec < nd:
                raise ValueError(f"vmap out_axes {spec} is out of bounds for an output of rank {nd} "
                                 f"(axis {spec} is out of bounds for array of dimension {nd}) at "
                                 f"{core.user_site()}")
            results.append(batching.bdim_to(x, d, size, spec % nd))
        return out_tree.unflatten(results)

    return vmapped
