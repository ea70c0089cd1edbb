"""JAX's side of the tests' comparisons, recorded so that `make test` runs JAX less.

Most of the suite's CPU time is XLA compiling small programs, and about half of it is for the
JAX a test compares xlafront with. `jax_side(fn, *args)` returns what `fn(*args)` gives under
JAX, read from `tests/golden/jax_refs/<test module>.pkl.gz` when that file holds it, else
computed live (and, when recording, kept). The key is a fingerprint of everything that decides
the result: the function's code (its bytecode, constants, defaults, closure cells, and the
test-module functions and values it reads, recursively), the arguments' values, dtypes and
weak types, JAX's version, XLA_FLAGS and the JAX config flags that change results. A change in any of
them is a miss, computed live, never a stale answer. Calls that raise are never recorded.

`XLAFRONT_JAX_REFS` chooses: `replay` (default: read the files, compute misses live), `live`
(always run JAX: what the files were made from), `record` (`make jax-refs`: run JAX for every
call and write the files). The files hold JAX's outputs as numpy arrays with their dtype and
weak type; a replayed array is a `RefArray` (a numpy array with `.weak_type`).
`XLAFRONT_JAX_REFS_DEBUG=1` prints each call that cannot be keyed (it runs live) and why.
"""
from __future__ import annotations

import atexit
import fcntl
import functools
import gzip
import hashlib
import os
import pickle
import sys
import types

import numpy as np

MODE = os.environ.get("XLAFRONT_JAX_REFS", "replay")
_DEBUG = bool(os.environ.get("XLAFRONT_JAX_REFS_DEBUG"))   # say which calls cannot be keyed
if MODE not in ("replay", "live", "record"):
    raise ValueError(f"XLAFRONT_JAX_REFS={MODE!r}: expected replay, live or record")
DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "jax_refs")
_TESTS = os.path.dirname(os.path.abspath(__file__))
_CONFIG_FLAGS = ("jax_enable_x64", "jax_default_matmul_precision", "jax_numpy_rank_promotion",
                 "jax_numpy_dtype_promotion", "jax_threefry_partitionable", "jax_default_prng_impl",
                 "jax_debug_nans", "jax_debug_infs", "jax_disable_jit", "jax_enable_checks")
stats = {"replayed": 0, "live": 0, "recorded": 0}
_stores: dict[str, dict] = {}     # module -> {key: encoded}
_recorded: dict[str, dict] = {}   # module -> entries computed in this process (record mode)


class RefArray(np.ndarray):
    """A recorded JAX array: its value, dtype and shape, and `weak_type`."""
    weak_type = False

    def block_until_ready(self):
        return self

    def __array_finalize__(self, obj):
        self.weak_type = getattr(obj, "weak_type", False)


# ----------------------------------------------------------------------------- fingerprints
_NAME_ATTRS = {"__doc__", "__annotations__", "__module__", "__name__", "__qualname__", "__type_params__"}


def _fp(obj, h, seen, depth=0):
    """Feed what decides `obj`'s behaviour into the hash `h`."""
    up = h.update
    if depth > 40:
        raise _Unkeyable("too deep")
    t = type(obj)
    if obj is None or t in (bool, int, float, complex, str, bytes):
        up(f"{t.__name__}:{obj!r};".encode())
        return
    if isinstance(obj, np.ndarray):
        up(f"nd:{obj.dtype.str}:{obj.shape}:{bool(getattr(obj, 'weak_type', False))};".encode())
        up(np.ascontiguousarray(obj).tobytes())
        return
    if isinstance(obj, np.generic):
        up(f"np:{obj.dtype.str}:{obj!r};".encode())
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        up(f"{t.__name__}[{len(items)}](".encode())
        for v in items:
            _fp(v, h, seen, depth + 1)
        up(b")")
        return
    if isinstance(obj, dict):
        up(f"dict[{len(obj)}](".encode())
        for k, v in obj.items():
            _fp(k, h, seen, depth + 1)
            _fp(v, h, seen, depth + 1)
        up(b")")
        return
    if t is object:   # a library's sentinel (a default such as jax's `no value given`)
        up(b"sentinel;")
        return
    if isinstance(obj, types.ModuleType):
        up(f"mod:{obj.__name__};".encode())
        return
    if isinstance(obj, types.CodeType):
        up(b"code:")
        up(obj.co_code)
        up(repr((obj.co_names, obj.co_varnames, obj.co_freevars, obj.co_argcount,
                 obj.co_kwonlyargcount, obj.co_flags)).encode())
        for c in obj.co_consts:
            _fp(c, h, seen, depth + 1)
        return
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:
            up(b"fn:again;")
            return
        seen.add(id(obj))
        mod = getattr(obj, "__module__", None) or ""
        f = getattr(obj.__code__, "co_filename", "")
        test_fn = os.path.abspath(f).startswith(_TESTS)
        if test_fn:
            _fp(obj.__code__, h, seen, depth + 1)
        else:   # a library function: where its code is (a library's code is fixed by its
            # version), plus its closure: `jax.grad(f, argnums=1)` closes over f and argnums
            c = obj.__code__
            up(f"libfn:{mod}.{obj.__qualname__}@{c.co_filename}:{c.co_firstlineno};".encode())
        _fp(obj.__defaults__, h, seen, depth + 1)
        _fp(obj.__kwdefaults__, h, seen, depth + 1)
        for cell in obj.__closure__ or ():
            try:
                v = cell.cell_contents
            except ValueError:
                v = None
            _fp(v, h, seen, depth + 1)
        if not test_fn:
            return
        g = obj.__globals__
        for name in sorted(_global_names(obj.__code__)):
            if name in g:
                up(f"g:{name}=".encode())
                _fp(g[name], h, seen, depth + 1)
        return
    if isinstance(obj, (types.BuiltinFunctionType, type)):
        up(f"callable:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj)};".encode())
        return
    if t.__name__ == "partial":
        _fp((obj.func, obj.args, obj.keywords), h, seen, depth + 1)
        return
    if hasattr(obj, "__array__") and hasattr(obj, "dtype") and hasattr(obj, "shape"):
        if t.__module__.startswith("jax") or t.__name__ == "ArrayImpl":   # a JAX array argument
            _fp(np.asarray(obj), h, seen, depth + 1)
            up(f"weak:{bool(getattr(obj, 'weak_type', False))};".encode())
            return
    if isinstance(obj, np.dtype):
        up(f"dtype:{obj.str};".encode())
        return
    if callable(obj):
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict) and d:   # jax.jit(f), custom_jvp/custom_vjp, partials of them:
            # their state (the function they wrap, its rules, jit's options)
            up(f"callable-object:{t.__module__}.{t.__qualname__}(".encode())
            for k in sorted(d):
                if k not in _NAME_ATTRS:
                    up(f"{k}=".encode())
                    _fp(d[k], h, seen, depth + 1)
            up(b")")
            return
        q, m = getattr(obj, "__qualname__", None), getattr(obj, "__module__", None)
        if isinstance(q, str) and isinstance(m, str) and not m.startswith("test"):
            up(f"callable:{m}.{q};".encode())   # a library callable: its name
            return
    if hasattr(obj, "__array__") and hasattr(obj, "shape"):   # any other array (xlafront's): its value
        try:
            v = np.asarray(obj)
        except Exception:
            raise _Unkeyable(f"{t.__qualname__} has no value") from None
        up(f"array:{t.__module__}.{t.__qualname__};".encode())
        _fp(v, h, seen, depth + 1)
        return
    r = repr(obj)
    if " at 0x" in r or "..." in r or len(r) > 2000:
        raise _Unkeyable(f"{t.__qualname__} has no stable key")
    up(f"obj:{t.__module__}.{t.__qualname__}:{r};".encode())


def _global_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


class _Unkeyable(Exception):
    pass


def _key(fn, args, kwargs):
    import jax
    h = hashlib.sha256()
    h.update(f"jax {jax.__version__};".encode())
    h.update(f"XLA_FLAGS {sorted(os.environ.get('XLA_FLAGS', '').split())};".encode())
    for flag in _CONFIG_FLAGS:
        h.update(f"{flag}={getattr(jax.config, flag, None)!r};".encode())
    seen = set()
    _fp(fn, h, seen)
    _fp(tuple(args), h, seen)
    _fp(dict(sorted(kwargs.items())), h, seen)
    return h.hexdigest()[:32]


# ----------------------------------------------------------------------------- results
def _encode(out):
    """A picklable form of JAX's output (arrays as numpy with dtype and weak type), or raise
    _Unkeyable for what cannot be stored."""
    t = type(out)
    if out is None or t in (bool, int, float, complex, str):
        return ("py", out)
    if isinstance(out, np.ndarray) and not isinstance(out, RefArray):
        return ("np", out)
    if isinstance(out, np.generic):
        return ("np", out)
    if t is tuple or t is list:
        return (t.__name__, [_encode(v) for v in out])
    if isinstance(out, tuple) and hasattr(t, "_fields"):   # a named tuple (SlogdetResult, ...)
        return ("namedtuple", t.__module__, t.__qualname__, [_encode(v) for v in out])
    if t is dict:
        return ("dict", [(k, _encode(v)) for k, v in out.items()])
    if hasattr(out, "__array__") and hasattr(out, "weak_type") and t.__module__.startswith("jax"):
        if getattr(out, "dtype", None) is not None and "key" in str(out.dtype):
            raise _Unkeyable("typed PRNG key")
        return ("jax", np.asarray(out), bool(out.weak_type))
    raise _Unkeyable(f"cannot record a {t.__qualname__}")


def _decode(e):
    tag = e[0]
    if tag in ("py", "np"):
        return e[1]
    if tag == "tuple":
        return tuple(_decode(v) for v in e[1])
    if tag == "list":
        return [_decode(v) for v in e[1]]
    if tag == "dict":
        return {k: _decode(v) for k, v in e[1]}
    if tag == "namedtuple":
        import importlib
        cls = importlib.import_module(e[1])
        for part in e[2].split("."):
            cls = getattr(cls, part)
        return cls(*(_decode(v) for v in e[3]))
    a = np.array(e[1]).view(RefArray)
    a.weak_type = e[2]
    a.flags.writeable = False
    return a


# ----------------------------------------------------------------------------- store
def _module():
    cur = os.environ.get("PYTEST_CURRENT_TEST", "")
    return os.path.basename(cur.split("::")[0]).removesuffix(".py") or "unknown"


def _path(mod):
    return os.path.join(DIR, mod + ".pkl.gz")


def _store(mod):
    s = _stores.get(mod)
    if s is None:
        s = {}
        if MODE == "replay":
            try:
                with gzip.open(_path(mod), "rb") as f:
                    d = pickle.load(f)
                import jax
                if d.get("jax_version") == jax.__version__:
                    s = d["refs"]
            except (OSError, EOFError, pickle.UnpicklingError, KeyError, AttributeError):
                s = {}
        _stores[mod] = s
    return s


def jax_side(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` as JAX computes it: recorded, or run now."""
    if MODE == "live":
        stats["live"] += 1
        return fn(*args, **kwargs)
    try:
        key = _key(fn, args, kwargs)
    except _Unkeyable as e:
        stats["live"] += 1
        if _DEBUG:
            print(f"jax_ref: {os.environ.get('PYTEST_CURRENT_TEST', '')}: not keyed ({e}): runs live",
                  file=sys.stderr)
        return fn(*args, **kwargs)
    mod = _module()
    if MODE == "replay":
        e = _store(mod).get(key)
        if e is not None:
            stats["replayed"] += 1
            return _decode(e)
    out = fn(*args, **kwargs)
    stats["live"] += 1
    if MODE == "record":
        try:
            _recorded.setdefault(mod, {})[key] = _encode(out)
            stats["recorded"] += 1
        except _Unkeyable:
            pass
    return out


class recorded:
    """A module whose functions go through jax_side: `lax = recorded(jax.lax)` makes
    `lax.neg(x)` `jax_side(jax.lax.neg, x)`. Anything else it holds (classes, enums,
    constants) is the module's own."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        v = getattr(self._module, name)
        if isinstance(v, types.FunctionType):
            return functools.partial(jax_side, v)
        return v


def _write_recorded():
    """Merge this process's recordings into the module files (under a lock: xdist workers
    may run tests of one module each), writing a temporary file and renaming it in."""
    if not _recorded:
        return
    import jax
    os.makedirs(DIR, exist_ok=True)
    import tempfile
    with open(os.path.join(tempfile.gettempdir(), "xlafront_jax_refs.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for mod, new in _recorded.items():
            refs = {}
            try:
                with gzip.open(_path(mod), "rb") as f:
                    d = pickle.load(f)
                if d.get("jax_version") == jax.__version__:
                    refs = d["refs"]
            except (OSError, EOFError, pickle.UnpicklingError, KeyError):
                pass
            refs.update(new)
            tmp = _path(mod) + f".{os.getpid()}.tmp"
            with gzip.GzipFile(tmp, "wb", mtime=0) as f:
                pickle.dump({"jax_version": jax.__version__, "refs": refs}, f, protocol=4)
            os.replace(tmp, _path(mod))
    _recorded.clear()


if MODE == "record":
    atexit.register(_write_recorded)


def summary():
    return f"JAX references: {stats['replayed']} replayed, {stats['live']} run live, {stats['recorded']} recorded"
