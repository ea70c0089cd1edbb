"""Running primitives and graphs on the device: the eager path and the jit executor.

Eager: a primitive bound outside any trace runs as a one-equation program,
compiled once per (primitive, avals, params) and cached here.
"""
from __future__ import annotations

import operator
import os
import threading

import numpy as np

from xlafront import core, dtypes
from xlafront.config import config
from xlafront import array as _array_module
from xlafront.array import ArrayImpl, array_maker, canonical_aval
from xlafront.core import Equation, Graph, ShapedArray, Tracer, Var
from xlafront.lowering import runtime
from xlafront.lowering.emitter import lower_graph, split_consts

# The hot paths in C (xlafront/_cfast.c, built by `pip install -e .`): optional. Without
# it, or with XLAFRONT_NO_CEXT=1, the same paths run in Python (api._PyCall, the numpy
# layer's unary functions).
_cfast = None
if os.environ.get("XLAFRONT_NO_CEXT", "").lower() in ("", "0", "false", "no"):
    try:
        from xlafront import _cfast
    except ImportError:
        pass

_eager_cache: dict = {}
EAGER_CACHE_MAX = 4096   # compiled one-primitive programs kept (oldest dropped first)
# Device buffers of Python scalars used as operands (e.g. the 2.0 in `x * 2.0`), by
# (type, value, dtype): saves a host-to-device copy on every eager op with a constant.
_scalar_bufs: dict = {}
_SCALAR_CACHE_MAX = 4096


def to_buffer(x):
    """(device buffer, aval) of an operand: Array, numpy value or Python scalar."""
    t = type(x)
    if t is ArrayImpl:
        return x._buf, x.aval
    if t in (int, float, bool, complex):
        dt, weak = dtypes.scalar_type_of(x)
        # -0.0 == 0.0 and nan != nan: those (and complex values) are keyed by their text
        key = (t, x, dt) if t is int or t is bool or (t is float and x == x and x != 0) else (t, repr(x), dt)
        hit = _scalar_bufs.get(key)
        if hit is None:
            if t is int:
                _check_int_range(x, dt)
            hit = (runtime.device_put(np.asarray(x, dt), weak), canonical_aval(ShapedArray((), dt, weak)))
            if len(_scalar_bufs) < _SCALAR_CACHE_MAX:
                _scalar_bufs[key] = hit
        return hit
    if isinstance(x, Tracer):
        x._trace.check_alive_tracer(x)
        raise core.UnexpectedTracerError(
            f"a traced value {x!r} reached eager evaluation at {core.user_site()}; it escaped the "
            f"transformation that made it")
    if isinstance(x, np.generic):   # numpy scalars (the numpy layer's converted constants)
        key = (t, x.tobytes(), config.x64)   # bit-exact: -0.0 and NaNs stay apart
        hit = _scalar_bufs.get(key)
        if hit is None:
            aval = canonical_aval(core.get_aval(x))
            arr = np.asarray(x, aval.dtype)
            hit = (runtime.device_put(arr), aval)
            if len(_scalar_bufs) < _SCALAR_CACHE_MAX:
                _scalar_bufs[key] = hit
        return hit
    if isinstance(x, np.ndarray):
        aval = canonical_aval(core.get_aval(x))
        arr = np.asarray(x)
        if arr.dtype != aval.dtype:
            arr = arr.astype(aval.dtype)
        return runtime.device_put(np.asarray(arr, order="C")), aval
    if isinstance(x, ArrayImpl):  # subclass
        return x._buf, x.aval
    aval = core.get_aval(x)  # raises a TypeError naming the type
    raise TypeError(f"cannot place {type(x).__name__} of aval {aval} on the device")


def _check_int_range(x, dt):
    info = np.iinfo(dt)
    if not info.min <= x <= info.max:
        raise OverflowError(f"Python int {x} too large to convert to {dt.name}")


class CompiledProgram:
    """An executable plus what is needed to call it: output avals, consts to pass."""
    __slots__ = ("exe", "out_avals", "const_bufs", "text")

    def __init__(self, exe, out_avals, const_bufs, text):
        self.exe, self.out_avals, self.const_bufs, self.text = exe, out_avals, const_bufs, text

    def run(self, bufs):
        """Dispatch (asynchronously); returns the output Arrays."""
        if self.const_bufs:
            bufs = self.const_bufs + bufs
        return self.exe.call(bufs)


compile_count = 0  # XLA compilations made here (tests check that cache hits do not compile)
# Taken on cache misses only (counting, inserting, evicting), never on a hit. Two threads
# missing the same key may both compile; the second insert just replaces the first.
_miss_lock = threading.Lock()


def compile_graph(name: str, graph: Graph, consts=()) -> CompiledProgram:
    global compile_count
    with _miss_lock:
        compile_count += 1
    gkey = None
    if config.compilation_cache_dir and config.enable_compilation_cache:
        # the persistent cache: look the program up by its graph, before lowering it
        from xlafront.lowering.graph_key import graph_key
        gkey = graph_key(name, graph, consts)
        exe = None if gkey is None else runtime.load_cached(gkey, len(graph.outvars), graph.out_avals,
                                                            array_maker)
        if exe is not None:
            arg_consts = split_consts(graph, consts)[1]
            return CompiledProgram(exe, graph.out_avals, [to_buffer(c)[0] for c in arg_consts], None)
    text, arg_consts = lower_graph(name, graph, consts)
    exe = runtime.compile(text, len(graph.outvars), graph.out_avals, array_maker, gkey)
    const_bufs = [to_buffer(c)[0] for c in arg_consts]
    return CompiledProgram(exe, graph.out_avals, const_bufs, text)


def _one_equation_graph(prim, avals, params):
    invars = [Var(a) for a in avals]
    out = core.abstract_eval(prim, avals, params)
    outs = list(out) if prim.multiple_results else [out]
    outvars = [Var(a) for a in outs]
    return Graph([], invars, [Equation(prim, invars, outvars, params, None)], outvars)


_get_buf = operator.attrgetter("_buf")
_get_aval = operator.attrgetter("aval")


def apply_primitive(prim, args, params):
    """The EvalTrace's implementation: run `prim` on concrete operands now.

    Hot path: every operand an Array and the signature seen before -- one dict lookup, then
    the executable's runner (the cache holds runners, not programs, to save a call)."""
    n = len(args)  # arities 1 and 2 spelled out: map/attrgetter cost more than the lookup
    if n == 1:
        x, = args
        if type(x) is not ArrayImpl:
            return _apply_slow(prim, args, params)
        key = (prim, x.aval, *params.items()) if params else (prim, x.aval)
        bufs = [x._buf]
    elif n == 2:
        x, y = args
        if type(x) is not ArrayImpl or type(y) is not ArrayImpl:
            return _apply_slow(prim, args, params)
        key = (prim, x.aval, y.aval, *params.items()) if params else (prim, x.aval, y.aval)
        bufs = [x._buf, y._buf]
    else:
        try:  # AttributeError unless every operand is an Array
            key = (prim, *map(_get_aval, args), *params.items())
            bufs = list(map(_get_buf, args))
        except AttributeError:
            return _apply_slow(prim, args, params)
    hit = _eager_cache.get(key)
    if hit is None:
        return _apply_slow(prim, args, params)
    execute, handlers, aval = hit
    if aval is not None:   # one output: jaxlib's own array, wrapped here (as make_array)
        if not _tick() & 1023:
            _collect_garbage()
        out = _new(ArrayImpl)
        out._buf = execute(bufs).consume_with_handlers(handlers)[0]
        out.aval = aval
        out._npy = None
        return [out] if prim.multiple_results else out
    outs = execute(bufs) if handlers is None else _run(hit, bufs)
    return outs if prim.multiple_results else outs[0]


# Set by xf.distributed.initialize (xlafront/_sharded_array.py's `apply_over_processes`):
# an operation on arrays with shards in other processes runs as a jit over their devices.
over_processes = None


def _apply_slow(prim, args, params):
    """Operands that are numpy values or Python scalars, and first calls (compile)."""
    if over_processes is not None:
        out = over_processes(prim, args, params)
        if out is not NotImplemented:
            return out
    bufs = []
    avals = []
    for x in args:
        b, a = to_buffer(x)
        bufs.append(b)
        avals.append(a)
    key = (prim, *avals, *params.items()) if params else (prim, *avals)
    hit = _eager_cache.get(key)
    if hit is None:
        hit = _runner(_compile_eager(prim, avals, params))
        with _miss_lock:   # another thread's insert must not break the oldest-entry lookup
            if len(_eager_cache) >= EAGER_CACHE_MAX:   # bounded: drop the oldest entry
                del _eager_cache[next(iter(_eager_cache))]
            _eager_cache[key] = hit
    outs = _run(hit, bufs)
    return outs if prim.multiple_results else outs[0]


_tick, _collect_garbage = runtime.run_tick, runtime.collect_garbage


_new = object.__new__


def _runner(prog):
    """(execute, handlers, aval): the hot paths run `execute(bufs).consume_with_handlers(
    handlers)` themselves (no Python frame between them and jaxlib). With `aval` (one
    output), the handler is jaxlib's own and the caller makes the Array of that aval;
    without, the handlers make the Arrays. (run, None, None) where the program has consts
    to prepend or no C++ output handlers: `run(bufs)` gives the outputs."""
    if type(prog) is CompiledProgram and not prog.const_bufs and prog.exe._handlers is not None:
        exe = prog.exe
        if len(prog.out_avals) == 1 and exe.raw_handlers is not None:
            return exe._execute, exe.raw_handlers, canonical_aval(prog.out_avals[0])
        return exe._execute, exe._handlers, None
    return prog.run, None, None


def _run(hit, bufs):
    """Run a `_runner` triple: the list of output Arrays."""
    execute, handlers, aval = hit
    if handlers is None:
        return execute(bufs)
    if not _tick() & 1023:
        _collect_garbage()
    outs = execute(bufs).consume_with_handlers(handlers)
    if aval is not None:
        out = _new(ArrayImpl)
        out._buf, out.aval, out._npy = outs[0], aval, None
        return [out]
    return outs


def _compile_eager(prim, avals, params):
    impl = eager_graph_rules.get(prim)
    if impl is not None:
        return impl(avals, params)
    graph = _one_equation_graph(prim, avals, params)
    return compile_graph(prim.name, graph)


def _jit_eager(avals, params):
    """Eager jit_p (e.g. jit of a graph made by a transform): compile the whole graph."""
    g = params["graph"]
    graph = g.graph if isinstance(g, core.ClosedGraph) else g
    return compile_graph(params["name"], graph, g.consts if isinstance(g, core.ClosedGraph) else ())


# primitives whose eager implementation compiles something other than one equation
eager_graph_rules = {}


def _install():
    from xlafront import primitives as P
    eager_graph_rules[P.jit_p] = _jit_eager
    core.set_eager_impl(apply_primitive)
    # `bind` calls `ctx.trace.process_primitive`; on the eval trace that is apply_primitive
    # itself (an instance attribute over EvalTrace's method: one Python frame less per op).
    core.eval_trace.process_primitive = apply_primitive


_install()


def clear_caches():
    _eager_cache.clear()
    _scalar_bufs.clear()
    _scalar_programs.clear()
    _scalar_args.clear()


# ----------------------------------------------------------------------------- Array (op) Python scalar
# `x * 2.0`, `1 + x`, `x > 0` on an Array run as ONE program per (operator, aval): the
# numpy layer's operator traced over the Array's aval and a weak scalar of the Array's own
# dtype, which the scalar is passed as (an argument, not baked in: one program serves
# every value). This applies where the scalar converts to the Array's dtype as it would on
# the general path (a float with an inexact Array, an int with an int or inexact one, its
# value wrapped as `dtypes.python_int_value` does; but `/` of an int Array, whose scalar
# converts to the float result type); anything else, and any call under a
# trace, takes the installed operator itself. `**` is not here: `x ** 2` is integer_pow of
# a static exponent (one primitive, already one cached program).
SCALAR_OPERATORS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                    "__truediv__", "__rtruediv__", "__lt__", "__le__", "__gt__", "__ge__",
                    "__eq__", "__ne__")
_scalar_programs: dict = {}   # (operator, aval) -> runner, or False: the general path only
_scalar_args: dict = {}       # (value key, dtype) -> device buffer of the value in that dtype
_INEXACT_DTS = frozenset(dtypes.inexact_floats + dtypes.complex_dtypes)
_INT_DTS = frozenset(dtypes.int_dtypes)


def _scalar_arg(x, dt):
    """The device buffer of Python scalar `x` (int or float) as dtype `dt`, or None where
    the general path converts it otherwise (or raises)."""
    # the type is part of the key: 2 == 2.0 (and True == 1) hash alike, but an int and a
    # float scalar convert differently against an integer Array
    key = (type(x), x, dt) if (x == x and x != 0) else (type(x), repr(x), dt)   # -0.0, nan kept apart
    buf = _scalar_args.get(key)
    if buf is None:
        if type(x) is float:
            if dt not in _INEXACT_DTS:
                return None
        elif dt in _INT_DTS or dt in _INEXACT_DTS:
            try:
                x = dtypes.python_int_value(x, dt)
            except OverflowError:
                return None
        else:
            return None
        buf = runtime.device_put(np.asarray(x, dt), True)
        if len(_scalar_args) < _SCALAR_CACHE_MAX:
            _scalar_args[key] = buf
    return buf


def _scalar_program(name, general, aval):
    """The runner of `general(a, s)` traced over (aval, weak scalar of aval's dtype), or
    False when tracing it fails (the general path then raises the user's error)."""
    s_aval = canonical_aval(ShapedArray((), aval.dtype, True))
    try:
        if "truediv" in name and aval.dtype not in _INEXACT_DTS:
            raise TypeError("the scalar converts to the float result type, not the Array's")
        closed = core.trace_to_graph(lambda a, s: [general(a, s)], [aval, s_aval])
        run = _runner(compile_graph(name.strip("_"), closed.graph, closed.consts))
    except Exception:   # noqa: BLE001 -- the general path reports it at the user's call
        run = False
    with _miss_lock:
        if len(_scalar_programs) >= EAGER_CACHE_MAX:
            core.evict_oldest(_scalar_programs)
        _scalar_programs[(name, aval)] = run
    return run


def _scalar_operator(name, general):
    _ctx, _eval, _traced = core.ctx, core.eval_trace, core.traced

    def op(self, other):
        t = type(other)
        if (t is float or t is int) and (not _traced or _ctx.trace is _eval):
            aval = self.aval
            run = _scalar_programs.get((name, aval))
            if run is None:
                run = _scalar_program(name, general, aval)
            if run:
                buf = _scalar_arg(other, aval.dtype)
                if buf is not None:
                    execute, handlers, out_aval = run
                    if out_aval is None:
                        return _run(run, [self._buf, buf])[0]
                    if not _tick() & 1023:
                        _collect_garbage()
                    out = _new(ArrayImpl)
                    out._buf = execute([self._buf, buf]).consume_with_handlers(handlers)[0]
                    out.aval = out_aval
                    out._npy = None
                    return out
        return general(self, other)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = getattr(general, "__doc__", None)
    op._general = general
    return op


_scalar_fast = True   # False while jax_debug_nans/infs is on (set_scalar_fast_path)


def install_scalar_operators(cls=ArrayImpl):
    """Put the Python-scalar fast path in front of `cls`'s installed arithmetic and
    comparison operators (called again after each `install_methods`)."""
    if not _scalar_fast:
        return
    for name in SCALAR_OPERATORS:
        general = cls.__dict__.get(name)
        if general is None:
            continue
        general = getattr(general, "_general", general)
        setattr(cls, name, _scalar_operator(name, general))


_array_module.after_install.append(install_scalar_operators)
install_scalar_operators()


def set_scalar_fast_path(on: bool):
    """Install (on) or remove (off) the Array (op) Python scalar fast path. It runs its
    programs without `bind`, so jax_debug_nans/infs (xlafront/_debug_nans.py) turns it off
    while a check is on: each operator then binds its primitives, which are checked."""
    global _scalar_fast
    _scalar_fast = bool(on)
    if on:
        install_scalar_operators()
        return
    for name in SCALAR_OPERATORS:
        op = ArrayImpl.__dict__.get(name)
        general = getattr(op, "_general", None)
        if general is not None:
            setattr(ArrayImpl, name, general)
