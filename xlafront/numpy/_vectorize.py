"""jnp.vectorize: a NumPy-style vectorized function built on vmap.

The loop (non-core) dimensions of the arguments broadcast against each other; each is
one vmap level, mapped only over the arguments that have it (size-1 dimensions are
squeezed and come back through vmap's broadcasting, or as expanded dims when no
argument has them). A gufunc `signature` like "(n),(n)->()" names the trailing core
dimensions each argument and output keeps; their sizes must agree.
"""
from __future__ import annotations

import functools
import re

import numpy as np

__all__ = ["vectorize"]

_DIM = r"\w+"
_DIM_LIST = rf"(?:{_DIM}(?:,{_DIM})*)?"
_ARG = rf"\({_DIM_LIST}\)"
_ARG_LIST = rf"{_ARG}(?:,{_ARG})*"
_SIGNATURE = re.compile(rf"^{_ARG_LIST}->{_ARG_LIST}$")


def _parse_signature(signature):
    sig = signature
    if not _SIGNATURE.match(sig):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    ins, outs = sig.split("->")

    def parse(part):
        return tuple(tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARG, part))

    return parse(ins), parse(outs)


def _update_sizes(sizes, shape, core_dims, context, is_input):
    n = len(core_dims)
    if is_input:
        if len(shape) < n:
            raise ValueError(f"input with shape {tuple(shape)} does not have enough dimensions for all core "
                             f"dimensions {core_dims} {context}")
    elif len(shape) != n:
        raise ValueError(f"output shape {tuple(shape)} does not match core dimensions {core_dims} {context}")
    if not n:
        return
    for dim, size in zip(core_dims, shape[len(shape) - n:]):
        if dim in sizes and sizes[dim] != size:
            raise ValueError(f"inconsistent size for core dimension {dim!r}: {size} vs {sizes[dim]} {context}")
        sizes[dim] = size


def _without_excluded(func, excluded, args, kwargs):
    """func taking only the vectorized positional arguments; excluded ones are bound as they
    are. Keyword arguments that are not excluded are not passed on (as jnp.vectorize)."""
    if not excluded:
        return func, args
    static_pos = [(i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int)) if i < len(args)]
    static_kw = {k: v for k, v in kwargs.items() if k in excluded}
    dynamic = [a for i, a in enumerate(args) if i not in excluded]

    def new_func(*dyn):
        full = list(dyn)
        for i, a in static_pos:
            full.insert(i, a)
        return func(*full, **static_kw)

    return new_func, dynamic


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """Vectorize `pyfunc` over the leading (loop) dimensions of its array arguments, with vmap.

    `excluded`: positions (ints) or keyword names (strs) passed through unvectorized.
    `signature`: a gufunc signature such as "(m,n),(n)->(m)" naming the core dimensions.
    """
    excluded = frozenset(excluded)
    if any(not isinstance(e, (int, str)) for e in excluded):
        raise TypeError(f"excluded must be a set of integers and strings, got {set(excluded)}")
    try:   # parsed once; a bad signature raises when the function is called, as in jnp
        parsed = None if signature is None else _parse_signature(signature)
    except ValueError as e:
        parsed = e

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        from xlafront.api_batching import vmap
        from xlafront.numpy._creation import asarray
        from xlafront.numpy._shapes import broadcast_shapes, expand_dims, squeeze
        context = f"on vectorized function with excluded={excluded!r} and signature={signature!r}"
        func, args = _without_excluded(pyfunc, excluded, args, kwargs)
        if isinstance(parsed, ValueError):
            raise ValueError(*parsed.args)
        if parsed is not None:
            in_core, out_core = parsed
        else:
            in_core, out_core = [()] * len(args), None
        nones = {i for i, a in enumerate(args) if a is None}
        if nones:
            if any(in_core[i] != () for i in nones if i < len(in_core)):
                raise ValueError(f"Cannot pass None at locations {nones} with signature={signature!r}")
            func, args = _without_excluded(func, nones, args, {})
            in_core = [d for i, d in enumerate(in_core) if i not in nones]
        args = [asarray(a) for a in args]
        if len(args) != len(in_core):
            raise TypeError(f"wrong number of positional arguments: expected {len(in_core)}, got "
                            f"{len(args)} {context}")
        sizes = {}
        loop_shapes = []
        for a, core in zip(args, in_core):
            _update_sizes(sizes, a.shape, core, context, True)
            loop_shapes.append(a.shape[:a.ndim - len(core)])
        loop_shape = broadcast_shapes(*loop_shapes)

        checked = func
        if out_core is not None:
            def checked(*xs):
                out = func(*xs)
                outs = out if isinstance(out, tuple) else [out]
                if len(out_core) > 1 and not isinstance(out, tuple):
                    raise TypeError(f"output must be a tuple when multiple outputs are expected, got: "
                                    f"{out!r}\n{context}")
                if len(outs) != len(out_core):
                    raise TypeError(f"wrong number of output arguments: expected {len(out_core)}, got "
                                    f"{len(outs)} {context}")
                s = dict(sizes)
                for o, core in zip(outs, out_core):
                    _update_sizes(s, np.shape(o), core, context, False)
                return out

        squeezed, rev_shapes = [], []
        for a, core, ls in zip(args, in_core, loop_shapes):
            ones = tuple(i for i, d in enumerate(ls) if d == 1)
            squeezed.append(squeeze(a, axis=ones) if ones else a)
            rev_shapes.append(((1,) * (len(loop_shape) - len(ls)) + tuple(ls))[::-1])
        f = checked
        expand = []
        for neg, dims in enumerate(zip(*rev_shapes)):
            in_axes = tuple(None if d == 1 else 0 for d in dims)
            if all(ax is None for ax in in_axes):
                expand.append(len(loop_shape) - 1 - neg)
            else:
                f = vmap(f, in_axes=in_axes)
        result = f(*squeezed)
        if not expand:
            return result
        if isinstance(result, tuple):
            return tuple(expand_dims(r, axis=tuple(expand)) for r in result)
        return expand_dims(result, axis=tuple(expand))

    return wrapped
