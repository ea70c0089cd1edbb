"""`xlafront.debug`: print and call back into Python from inside transformed code.

`print(fmt, *args, **kwargs)` and `callback(fn, *args, **kwargs)` bind the effectful
`debug_callback` primitive (xlafront/primitives_callback.py): eagerly it calls back at
once; inside `jit` the compiled program calls back while it runs (a custom call into
the PJRT client's Python callback target, see lowering/runtime.py), in execution order;
under `grad` it sees the primal values and under `vmap` it is called once per batch
element, as JAX does. `pure_callback` (exported as `xlafront.pure_callback`) computes
values on the host.
"""
from __future__ import annotations

import string
import sys

import numpy as np

from xlafront import core, dtypes, tree_util
from xlafront import primitives_callback as PC
from xlafront.array import make_array
from xlafront.core import ShapedArray
from xlafront import dispatch
from xlafront.lowering import runtime

__all__ = ["print", "callback"]



# ----------------------------------------------------------------------------- callback params
class _Unhashable:
    """A static value that cannot be hashed, keyed by identity."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return id(self.value)

    def __eq__(self, other):
        return type(other) is _Unhashable and other.value is self.value


def _split_args(args, kwargs):
    """(in_tree, array leaves, ((position, static leaf), ...)) of a call's arguments."""
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    dyn, static = [], []
    for i, x in enumerate(leaves):
        try:
            core.get_aval(x)
            dyn.append(x)
        except TypeError:
            try:
                hash(x)
            except TypeError:
                x = _Unhashable(x)
            static.append((i, x))
    return in_tree, dyn, tuple(static)


def _merge_args(in_tree, dyn, static):
    n = len(dyn) + len(static)
    leaves = [None] * n
    pos = dict(static)
    it = iter(dyn)
    for i in range(n):
        if i in pos:
            v = pos[i]
            leaves[i] = v.value if type(v) is _Unhashable else v
        else:
            leaves[i] = next(it)
    return in_tree.unflatten(leaves)


def _host_array(value, aval):
    """An Array holding a copy of a host value the callback received."""
    arr = np.array(value, dtype=aval.dtype, copy=True)
    a = make_array(runtime.device_put(arr, aval.weak_type), aval)
    arr.flags.writeable = False
    a._npy = arr   # printing reads this: no device-to-host copy back
    return a


class FlatCallback:
    """The `callback` param of debug_callback: the user's function with the tree of its
    arguments and their static (non-array) leaves. Compared by value, so that equal
    calls (the same format string, say) share compiled programs."""
    __slots__ = ("fn", "in_tree", "static", "_hash")

    def __init__(self, fn, in_tree, static):
        self.fn, self.in_tree, self.static = fn, in_tree, static
        self._hash = hash((fn, in_tree, static))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (type(other) is type(self) and self.fn == other.fn and self.in_tree == other.in_tree
                and self.static == other.static)

    def __repr__(self):
        return f"{self.fn!r}"

    def host_call(self, values, avals):
        arrays = [_host_array(v, a) for v, a in zip(values, avals)]
        args, kwargs = _merge_args(self.in_tree, arrays, self.static)
        self.fn(*args, **kwargs)
        return ()


class _Printer:
    """fmt.format(*args, **kwargs) written to stdout with the numpy print options of the
    call site (as jax.debug.print)."""
    __slots__ = ("fmt", "printoptions", "has_placeholders", "_hash")

    def __init__(self, fmt, printoptions, has_placeholders):
        self.fmt, self.printoptions, self.has_placeholders = fmt, printoptions, has_placeholders
        self._hash = hash((fmt, printoptions, has_placeholders))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (type(other) is _Printer and self.fmt == other.fmt
                and self.printoptions == other.printoptions
                and self.has_placeholders == other.has_placeholders)

    def __repr__(self):
        return f"print({self.fmt!r})"

    def __call__(self, *args, **kwargs):
        if self.has_placeholders:
            with np.printoptions(**dict(self.printoptions)):
                msg = self.fmt.format(*args, **kwargs)
        else:
            msg = " ".join((self.fmt, *(str(a) for a in args)))
        sys.stdout.write(msg + "\n")


class _FormatChecker(string.Formatter):
    """str.format's argument checks without formatting (JAX's errors for unused ones)."""

    def format_field(self, value, format_spec):
        return ""

    def check_unused_args(self, used_args, args, kwargs):
        unused = [a for i, a in enumerate(args) if i not in used_args]
        unused_kw = [k for k in kwargs if k not in used_args]
        if unused:
            raise ValueError(f"Unused positional arguments to `jax.debug.print`: {unused}")
        if unused_kw:
            raise ValueError(f"Unused keyword arguments to `jax.debug.print`: {unused_kw}. You may be "
                             f"passing an f-string (i.e, `f\"{{x}}\"`) into `jax.debug.print` and "
                             f"instead should pass in a regular string.")


_checker = _FormatChecker()


# ----------------------------------------------------------------------------- public API
def callback(callback=None, *args, ordered: bool = False, partitioned: bool = False, **kwargs):
    """Call `callback(*args, **kwargs)` for its side effect, also from inside jit/vmap/grad.

    Array arguments reach it as Arrays of their values at run time. The two-call form
    `callback(ordered=True)(fn, *args)` is accepted too."""
    def _callback(fn, *c_args, **c_kwargs):
        if not callable(fn):
            raise TypeError("first argument to jax.debug.callback must be callable, but got an "
                            f"object of type {type(fn)} (at {core.user_site()})")
        in_tree, dyn, static = _split_args(c_args, c_kwargs)
        PC.debug_callback(*dyn, callback=FlatCallback(fn, in_tree, static), ordered=ordered,
                          partitioned=partitioned)

    if callback is not None:
        _callback(callback, *args, **kwargs)
        return None
    if args or kwargs:
        raise TypeError(f"debug_callback received unexpected arguments in the two-call form: "
                        f"{args=} {kwargs=}")
    return _callback


def print(fmt=None, *args, ordered: bool = False, partitioned: bool = False,  # noqa: A001
          skip_format_check: bool = False, **kwargs):
    """Print `fmt.format(*args, **kwargs)` with the values the arguments have at run time,
    also from inside jit (when the program runs), grad and vmap (once per element)."""
    def _debug_print(fmt, *c_args, **c_kwargs):
        if not isinstance(fmt, str):
            raise TypeError(f"jax.debug.print format must be a str, got {type(fmt).__name__} "
                            f"(at {core.user_site()})")
        if not skip_format_check:
            try:
                _checker.format(fmt, *c_args, **c_kwargs)
            except (ValueError, IndexError, KeyError) as e:
                raise type(e)(f"{e.args[0] if e.args else e} (in jax.debug.print at {core.user_site()})") from None
        # any replacement field, not only a leading one ("a {{b}} {x}" has one)
        has_placeholders = any(f is not None for _, f, _, _ in string.Formatter().parse(fmt))
        printer = _Printer(fmt, tuple(np.get_printoptions().items()), has_placeholders)
        in_tree, dyn, static = _split_args(c_args, c_kwargs)
        PC.debug_callback(*dyn, callback=FlatCallback(printer, in_tree, static), ordered=ordered,
                          partitioned=partitioned)

    if fmt is not None:
        _debug_print(fmt, *args, **kwargs)
        return None
    if args or kwargs:
        raise TypeError(f"debug_print received unexpected arguments in the two-call form: "
                        f"{args=} {kwargs=}")
    return _debug_print


# ----------------------------------------------------------------------------- pure_callback
_VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                 "legacy_vectorized", None)


class PureCallback:
    """The `callback` param of pure_callback: the user's function, the tree of its
    arguments, and the avals its results must have."""
    __slots__ = ("fn", "in_tree", "_hash")

    def __init__(self, fn, in_tree):
        self.fn, self.in_tree = fn, in_tree
        self._hash = hash((fn, in_tree))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return type(other) is PureCallback and self.fn == other.fn and self.in_tree == other.in_tree

    def __repr__(self):
        return f"{self.fn!r}"

    def host_call(self, values, avals, result_avals=None):
        arrays = [_host_array(v, a) for v, a in zip(values, avals)]
        args, kwargs = self.in_tree.unflatten(arrays)
        out = self.fn(*args, **kwargs)
        outs = tree_util.tree_leaves(out)
        if result_avals is None:
            return tuple(np.asarray(o) for o in outs)
        if len(outs) != len(result_avals):
            raise RuntimeError(f"Mismatched number of outputs from callback. Expected: "
                               f"{len(result_avals)}, Actual: {len(outs)}")
        res = []
        for i, (o, a) in enumerate(zip(outs, result_avals)):
            o = np.asarray(o)
            if o.dtype != a.dtype and dtypes.canonicalize(o.dtype) == a.dtype:
                o = o.astype(a.dtype)
            if o.shape != a.shape:
                raise RuntimeError(f"Incorrect output shape for return value #{i}: Expected: {a.shape}, "
                                   f"Actual: {o.shape}")
            if o.dtype != a.dtype:
                raise RuntimeError(f"Incorrect output dtype for return value #{i}: Expected: "
                                   f"{a.dtype}, Actual: {o.dtype}")
            # (not np.ascontiguousarray: it makes a 0-d array 1-d)
            res.append(o if o.flags.c_contiguous else np.ascontiguousarray(o))
        return tuple(res)


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None, **kwargs):
    """Compute `callback(*args, **kwargs)` on the host, also from inside jit: a pure function
    returning arrays of the shapes and dtypes `result_shape_dtypes` gives (a pytree)."""
    if vmap_method not in _VMAP_METHODS:
        raise ValueError(f"vmap_method must be on of the allowed methods {list(_VMAP_METHODS)}, "
                         f"but got: {vmap_method}")
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    result_avals, out_tree = callback_result_avals("pure_callback", result_shape_dtypes)
    outs = PC.pure_callback(*leaves, callback=PureCallback(callback, in_tree),
                            result_avals=result_avals, vmap_method=vmap_method)
    return out_tree.unflatten(outs)


def callback_result_avals(name, result_shape_dtypes):
    """(avals, treedef) of a host callback's `result_shape_dtypes` pytree (pure_callback,
    io_callback), with JAX's error for a leaf that has no shape and dtype."""
    specs, out_tree = tree_util.tree_flatten(result_shape_dtypes)
    result_avals = []
    for s in specs:
        if not hasattr(s, "shape") or not hasattr(s, "dtype"):
            raise ValueError(f"{name}: result_shape_dtypes must be a pytree of objects with "
                             f"shape and dtype, got {s!r}")
        result_avals.append(ShapedArray(tuple(s.shape), dtypes.canonicalize(np.dtype(s.dtype))))
    return tuple(result_avals), out_tree


def effects_barrier():
    """Wait until every computation dispatched so far has run (and so made its callbacks)."""
    for buf in runtime.backend().client.live_arrays():
        try:
            buf.block_until_ready()
        except Exception:  # noqa: BLE001 - a deleted buffer has nothing left to wait for
            pass


# ----------------------------------------------------------------------------- eager
class _EagerCall:
    """Eager implementation of a callback primitive: call back now, on host copies."""
    __slots__ = ("callback", "avals", "result_avals")

    def __init__(self, callback, avals, result_avals):
        self.callback, self.avals, self.result_avals = callback, avals, result_avals

    def run(self, bufs):
        values = [runtime.to_numpy(b) for b in bufs]
        if self.result_avals is None:
            self.callback.host_call(values, self.avals)
            return []
        outs = self.callback.host_call(values, self.avals, self.result_avals)
        return [make_array(runtime.device_put(o), a) for o, a in zip(outs, self.result_avals)]


dispatch.eager_graph_rules[PC.debug_callback_p] = \
    lambda avals, params: _EagerCall(params["callback"], tuple(avals), None)
dispatch.eager_graph_rules[PC.pure_callback_p] = \
    lambda avals, params: _EagerCall(params["callback"], tuple(avals), tuple(params["result_avals"]))


# ----------------------------------------------------------------------------- shardings
def visualize_sharding(shape, sharding, *, use_color=True, scale=1.0, min_width=9, max_width=80,
                       color_map=None):
    """Print a text grid of which devices hold which block of an array of `shape` (1-D or
    2-D) laid out by `sharding` (xlafront/_visualize_sharding.py)."""
    from xlafront._visualize_sharding import visualize_sharding as _vis
    _vis(shape, sharding, use_color=use_color, scale=scale, min_width=min_width,
         max_width=max_width, color_map=color_map)


def visualize_array_sharding(arr, **kwargs):
    """`jax.debug.visualize_array_sharding`: the grid of `arr`'s sharding (a concrete
    array; under a trace the sharding is not known yet)."""
    if isinstance(arr, core.Tracer):
        raise ValueError(f"visualize_array_sharding needs a concrete array, got a traced value "
                         f"(call it outside jit, or use inspect_array_sharding) "
                         f"(at {core.user_site()})")
    sharding = getattr(arr, "sharding", None)
    if sharding is None:
        raise AttributeError(f"visualize_array_sharding takes an array with a sharding, got "
                             f"{type(arr).__name__} (at {core.user_site()})")
    visualize_sharding(arr.shape, sharding, **kwargs)


def inspect_array_sharding(value, *, callback):
    """`jax.debug.inspect_array_sharding` on concrete arrays: `callback(sharding)` for
    each array of the pytree `value`, now. Inside a trace the sharding is XLA's choice,
    known only when the program compiles: not implemented yet."""
    for leaf in tree_util.tree_leaves(value):
        if isinstance(leaf, core.Tracer):
            from xlafront._missing import NotImplementedYetError
            raise NotImplementedYetError(
                f"jax.debug.inspect_array_sharding inside a traced function is not implemented "
                f"yet in xlafront (it works on concrete arrays) (at {core.user_site()})")
        callback(leaf.sharding)


# A JAX name this module lacks: an AttributeError that says so.
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
