"""`jax.experimental.checkify`: user checks (`check`) made into values (`checkify`).

`check(pred, msg, *fmt_args, **fmt_kwargs)`:
- inside a function transformed by `checkify(f)` it records the check; `checkify(f)(...)`
  returns `(err, out)` where `err` is an `Error` pytree (it can leave `jit`, `vmap`, ...)
  whose `get()` is the message of the first failed check (None when all passed) and
  `throw()` raises it as `JaxRuntimeError`;
- outside `checkify`, on concrete values, a failed check raises `JaxRuntimeError` at once;
  on traced values it is JAX's ValueError (the check must be functionalized).

Only the user checks are implemented (`errors=user_checks`, the default). The automatic
checks (`nan_checks`, `div_checks`, `index_checks` and the sets holding them) raise
NotImplementedYetError. A `check` must be called at the level `checkify` traces: a check
inside a `jit`, `vmap`, `cond` or loop nested in the checkified function raises
NotImplementedYetError (JAX functionalizes those too). `vmap`/`jit` of a checkified
function are fine.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

from xlafront import core, tree_util
from xlafront import _missing

__all__ = ["Error", "ErrorCategory", "JaxRuntimeError", "FailedCheckError", "NaNError", "DivisionByZeroError",
           "OOBError", "check", "checkify", "check_error", "debug_check", "init_error", "user_checks",
           "nan_checks", "index_checks", "div_checks", "float_checks", "automatic_checks", "all_checks"]


class JaxRuntimeError(ValueError):
    """A failed check (as jax.experimental.checkify.JaxRuntimeError, a ValueError)."""


class ErrorCategory:
    """Base of the error kinds `checkify(errors=...)` selects."""


class FailedCheckError(ErrorCategory):
    pass


class NaNError(ErrorCategory):
    pass


class DivisionByZeroError(ErrorCategory):
    pass


class OOBError(ErrorCategory):
    pass


user_checks = frozenset({FailedCheckError})
nan_checks = frozenset({NaNError})
index_checks = frozenset({OOBError})
div_checks = frozenset({DivisionByZeroError})
float_checks = nan_checks | div_checks
automatic_checks = float_checks | index_checks
all_checks = automatic_checks | user_checks


class _Collector(threading.local):
    def __init__(self):
        self.stack = []


_collectors = _Collector()


def _is_array_leaf(x):
    from xlafront.array import Array
    return isinstance(x, (Array, core.Tracer, np.ndarray, np.generic))


def _format(msg, args, kwargs):
    def show(v):
        v = np.asarray(v)
        return str(v.item()) if v.ndim == 0 else str(v)
    return msg.format(*[tree_util.tree_map(show, a) for a in args],
                      **{k: tree_util.tree_map(show, v) for k, v in kwargs.items()})


@tree_util.register_pytree_node_class
class Error:
    """The outcome of a checkified function: one failure flag and the formatting
    arguments per recorded check (a pytree: it can be returned from jit or vmap; under
    vmap each element has its own outcome)."""

    def __init__(self, failed=(), payloads=(), messages=()):
        self._failed = tuple(failed)        # per check: a bool array (True = the check failed)
        self._payloads = tuple(payloads)    # per check: (args, kwargs) of arrays
        self._messages = tuple(messages)    # per check: (msg, site)

    def tree_flatten(self):
        return (self._failed, self._payloads), self._messages

    @classmethod
    def tree_unflatten(cls, messages, children):
        failed, payloads = children
        return cls(failed, payloads, messages)

    def _first(self):
        """(batch index or None, check number) of the first failure, or None."""
        if not self._failed:
            return None
        flags = [np.asarray(f) for f in self._failed]
        batch_shape = flags[0].shape
        if not batch_shape:
            for i, f in enumerate(flags):
                if bool(f):
                    return None, i
            return None
        stacked = np.stack([np.broadcast_to(f, batch_shape) for f in flags])  # (checks, *batch)
        any_fail = stacked.any(axis=0)
        if not any_fail.any():
            return None
        idx = np.unravel_index(int(np.argmax(any_fail.reshape(-1))), batch_shape)
        return idx, int(np.argmax(stacked[(slice(None),) + idx]))

    def get(self):
        """The message of the first failed check, or None."""
        first = self._first()
        if first is None:
            return None
        idx, i = first
        msg, _site = self._messages[i]
        args, kwargs = self._payloads[i]
        if idx is not None:
            args, kwargs = tree_util.tree_map(lambda v: np.asarray(v)[idx], (args, kwargs))
        text = _format(msg, args, kwargs) + " (`check` failed)"
        if idx is not None:
            text = f"at mapped index {', '.join(str(int(j)) for j in idx)}: " + text
        return text

    def get_exception(self):
        m = self.get()
        return None if m is None else JaxRuntimeError(m)

    def throw(self):
        e = self.get_exception()
        if e is not None:
            raise e

    def __repr__(self):
        return f"Error({self.get()})"


def init_error():
    """An Error without failures."""
    return Error()


def _check_fmt_args(args, kwargs):
    for leaf in tree_util.tree_leaves((args, kwargs)):
        if not _is_array_leaf(leaf):
            raise TypeError(f"Formatting arguments to checkify.check need to be PyTrees of arrays, but got "
                            f"{leaf!r} of type {type(leaf)}.")


def check(pred, msg: str, *fmt_args, **fmt_kwargs):
    """Check that `pred` holds; `msg.format(*fmt_args, **fmt_kwargs)` if it does not."""
    from xlafront import numpy as xnp
    if not isinstance(msg, str):
        raise TypeError(f"check message must be a string, got {type(msg)}")
    _check_fmt_args(fmt_args, fmt_kwargs)
    ok = xnp.all(pred)
    if _collectors.stack:
        trace, recorded = _collectors.stack[-1]
        if core.current_trace() is not trace:
            raise _missing.NotImplementedYetError(
                f"xlafront's checkify records a check only at the level checkify traces: this check is "
                f"inside a jit, vmap, cond or loop nested in the checkified function (JAX functionalizes "
                f"those too; xlafront does not yet); at {core.user_site()}", name="check")
        recorded.append((xnp.logical_not(ok), (fmt_args, fmt_kwargs), (msg, core.user_site())))
        return None
    if isinstance(ok, core.Tracer):
        raise ValueError("Cannot abstractly evaluate a checkify.check which was not functionalized. This "
                         "probably means you tried to stage (jit/scan/pmap/...) a `check` without "
                         "functionalizing it through `checkify.checkify`.")
    if not bool(ok):
        raise JaxRuntimeError(_format(msg, fmt_args, fmt_kwargs) + " (`check` failed)")
    return None


def debug_check(pred, msg: str, *fmt_args, **fmt_kwargs):
    """As `check` inside `checkify`; elsewhere it checks only concrete values (a traced
    predicate outside checkify is ignored, as JAX's debug_check)."""
    if not _collectors.stack:
        from xlafront import numpy as xnp
        if isinstance(xnp.all(pred), core.Tracer):
            return None
    return check(pred, msg, *fmt_args, **fmt_kwargs)


def check_error(error: Error) -> None:
    """Raise `error` (concrete), or inside `checkify` merge it into the function's error."""
    if not isinstance(error, Error):
        raise TypeError(f"check_error takes an Error, got {type(error)}")
    if _collectors.stack:
        _collectors.stack[-1][1].extend(zip(error._failed, error._payloads, error._messages))
        return None
    if any(isinstance(f, core.Tracer) for f in error._failed):
        raise ValueError("check_error of a traced Error must be functionalized through checkify.checkify")
    error.throw()


def checkify(f, errors=user_checks):
    """`checkify(f)(*args)` is `(err, f(*args))`, `err` the outcome of `f`'s checks."""
    errors = frozenset(errors)
    unsupported = errors - user_checks
    if unsupported:
        names = sorted(c.__name__ for c in unsupported)
        raise _missing.NotImplementedYetError(
            f"xlafront's checkify implements the user checks only; the automatic checks {names} "
            f"(jax.experimental.checkify.{'/'.join(n for n in ('nan_checks', 'div_checks', 'index_checks'))}) are "
            f"not implemented yet; used at {_missing.user_site(2)}", name="checkify")

    @functools.wraps(f)
    def checked(*args, **kwargs):
        _collectors.stack.append((core.current_trace(), []))
        try:
            out = f(*args, **kwargs)
        finally:
            _, recorded = _collectors.stack.pop()
        failed = tuple(r[0] for r in recorded)
        payloads = tuple(r[1] for r in recorded)
        messages = tuple(r[2] for r in recorded)
        return Error(failed, payloads, messages), out

    return checked


__getattr__ = _missing.module_getattr(__name__)
