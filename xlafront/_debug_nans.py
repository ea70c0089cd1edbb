"""`jax_debug_nans` / `jax_debug_infs`: raise FloatingPointError where a NaN (an inf)
first appears, as JAX does.

Switched on by `xf.config.update("jax_debug_nans", True)`, the `JAX_DEBUG_NANS=1`
environment variable, or the `xf.debug_nans(True)` context manager (this thread only);
`jax_debug_infs` likewise. What is checked, as in JAX:

- an eager primitive: its floating (and complex) outputs; a NaN raises
  `FloatingPointError: invalid value (nan) encountered in log` (the primitive's name).
  Integer outputs are not checked. A call of a graph run eagerly as one program (a `jit`
  graph made by a transform, `custom_jvp`/`custom_vjp` functions, `checkpoint`) is run
  again op by op when its outputs are bad, so the error names the primitive inside;
- a `jit` function called at the top level: its outputs. When one is bad, JAX's line
  "Invalid nan value encountered in the output of a jax.jit function. Calling the
  de-optimized version." is printed and the Python function is called again without
  that `jit` (its operations then run eagerly, checked one by one), so the error names
  the primitive; if that run finds nothing (a NaN passed in, or made by XLA's
  rewriting), the FloatingPointError says so in JAX's words;
- `grad`/`value_and_grad` called eagerly differentiate op by op (as under disable_jit),
  so a NaN in the forward or the backward pass names its primitive.

Cost when both flags are off: none on the hot paths. Nothing here runs then: the
checking evaluator is swapped into the core (`core.set_eager_impl`) only while a flag is
on in some thread, the Array (op) Python-scalar fast path steps aside, and the jit hot
path (xlafront/api.py) is sent to its slow path by the hook it registers in `hooks`.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from xlafront import core, dispatch, dtypes
from xlafront.array import ArrayImpl
from xlafront.config import _ThreadLocal, config, local

__all__ = ["debug_nans", "debug_infs"]

core.register_internal_path(__file__)

# Non-empty while a check may be on in some thread (a flag set globally, or a context open).
active: list = []
# fn(on): called when `active` flips (the jit hot path registers here: xlafront/api.py).
hooks: list = []


def add_hook(fn):
    """Register fn(on); called at once with True when a check is already on."""
    hooks.append(fn)
    if active:
        fn(True)
_open: list = []   # one entry per debug_nans/debug_infs context open in any thread
_lock = threading.Lock()


def _refresh():
    """Swap the checking evaluators in or out after a flag or a context changed."""
    with _lock:
        on = bool(_ThreadLocal.debug_nans or _ThreadLocal.debug_infs or _open)
        if on == bool(active):
            return
        if on:
            active.append(None)
        else:
            active.pop()
        impl = checked_apply if on else dispatch.apply_primitive
        core.set_eager_impl(impl)
        core.eval_trace.process_primitive = impl
        dispatch.set_scalar_fast_path(not on)
        for fn in hooks:
            fn(on)


def _on_update(attr, value):
    if attr in ("debug_nans", "debug_infs"):
        _refresh()


config.add_listener(_on_update)


def this_thread_checks() -> bool:
    """Whether a NaN or inf check is on in the calling thread."""
    return bool(active) and (local.debug_nans or local.debug_infs)


# ----------------------------------------------------------------------------- checks
def first_bad(values):
    """"nan" or "inf" for the first inexact Array among `values` holding one (as the
    flags of this thread ask), else None. Integer and boolean arrays are not checked."""
    nans, infs = local.debug_nans, local.debug_infs
    for x in values:
        if not isinstance(x, ArrayImpl) or not dtypes.is_inexact(x.aval.dtype):
            continue
        a = np.asarray(x)
        if nans and np.isnan(a).any():
            return "nan"
        if infs and np.isinf(a).any():
            return "inf"
    return None


def _error(kind, where):
    return FloatingPointError(f"invalid value ({kind}) encountered in {where}")


def _no_invalid_in_deoptimized(name, kind):
    """JAX's error when the de-optimized run produced no NaN (inf) of its own."""
    return FloatingPointError(
        f"{(name, kind)!r}. Because jax_config.debug_nans.value and/or config.jax_debug_infs is "
        "set, the de-optimized function (i.e., the function as if the `jit` decorator were "
        "removed) was called in an attempt to get a more precise error message. However, the "
        "de-optimized function did not produce invalid values during its execution. This "
        "behavior can result from `jit` optimizations causing the invalid value to be produced. "
        "It may also arise from having nan/inf literals as inputs or outputs, like "
        "`jax.jit(lambda ...: jax.numpy.nan)(...)`. \n\nIt may be possible to avoid the invalid "
        "value by removing the `jit` decorator, at the cost of losing optimizations. \n\nIf you "
        "see this error, consider opening a bug report at https://github.com/jax-ml/jax.")


_DEOPT_MESSAGE = ("Invalid nan value encountered in the output of a jax.jit function. "
                  "Calling the de-optimized version.")

# primitives run eagerly as one compiled program of a callee graph: name -> its param
_CALLS = {"jit": "graph", "remat": "graph", "custom_jvp_call": "call", "custom_vjp_call": "call"}


def _callee(prim, params):
    key = _CALLS.get(prim.name)
    if key is None or core.all_primitives.get(prim.name) is not prim:
        return None
    return params.get(key)


def checked_apply(prim, args, params):
    """The eval trace's evaluator while a check is on: `dispatch.apply_primitive`, then
    the outputs checked (in the threads that asked for it)."""
    outs = dispatch.apply_primitive(prim, args, params)
    if local.debug_nans or local.debug_infs:
        kind = first_bad(outs if prim.multiple_results else (outs,))
        if kind is not None:
            _report(prim, args, params, kind)
    return outs


def _report(prim, args, params, kind):
    """Raise the FloatingPointError of a primitive whose outputs hold a NaN (inf). A call
    is first run again op by op, so that the error names the primitive inside it."""
    g = _callee(prim, params)
    if g is None:
        raise _error(kind, prim.name)
    if prim.name == "jit":
        print(_DEOPT_MESSAGE)
    graph, consts = (g.graph, g.consts) if isinstance(g, core.ClosedGraph) else (g, ())
    core.eval_graph(graph, consts, args)   # raises where an operation makes the NaN
    if prim.name == "jit":
        raise _no_invalid_in_deoptimized(f"jit({params.get('name')})", kind)
    raise _error(kind, prim.name)


def checked_jit_call(jitted, args, kwargs):
    """A call of a `jit` function while a check is on somewhere (api.py sends every call
    here then): the outputs of a top-level call are checked in the threads that asked."""
    outs = jitted._call_slow(args, kwargs)
    if not (local.debug_nans or local.debug_infs) or local.disable_jit \
            or core.ctx.trace is not core.eval_trace:
        return outs   # not checking here, or traced (the enclosing computation is checked)
    from xlafront import tree_util
    kind = first_bad(tree_util.tree_leaves(outs))
    if kind is None:
        return outs
    print(_DEOPT_MESSAGE)
    jitted.fun(*args, **kwargs)   # the de-optimized version: raises where the NaN is made
    raise _no_invalid_in_deoptimized(f"jit({jitted._name})", kind)


# ----------------------------------------------------------------------------- contexts
_UNSET = object()


class _Flag:
    """`xf.debug_nans` / `xf.debug_infs`, as JAX's: `with xf.debug_nans(True): ...` sets
    this thread's value for the extent of the block (also a decorator); `.value` reads the
    value in effect."""

    def __init__(self, attr):
        self._attr = attr
        self.__name__ = attr

    @property
    def value(self):
        return getattr(local, self._attr)

    def __call__(self, new_val: bool = True):
        return _FlagContext(self._attr, bool(new_val))

    def __repr__(self):
        return f"<jax_{self._attr} flag: {self.value}>"


class _FlagContext(contextlib.ContextDecorator):
    def __init__(self, attr, value):
        self._attr, self._value = attr, value
        self._saved = threading.local()

    def __enter__(self):
        stack = self._saved.__dict__.setdefault("stack", [])
        stack.append(local.__dict__.get(self._attr, _UNSET))
        local.__dict__[self._attr] = self._value
        _open.append(None)
        _refresh()
        return None

    def __exit__(self, *exc):
        prev = self._saved.stack.pop()
        if prev is _UNSET:
            local.__dict__.pop(self._attr, None)
        else:
            local.__dict__[self._attr] = prev
        _open.pop()
        _refresh()
        return False


debug_nans = _Flag("debug_nans")
debug_infs = _Flag("debug_infs")

_refresh()   # JAX_DEBUG_NANS / JAX_DEBUG_INFS set in the environment
