"""The core IR and tracing machinery. Depends on nothing of the project but dtypes/config.

- `ShapedArray` is the abstract value (aval) of an array: shape, dtype, weak_type.
- A `Primitive` is an operation; `bind` hands it to the *current trace*.
- Traces are "stackless": each holds its parent and is made current with
  `set_current_trace`; a transform's rule runs under the parent trace. The bottom
  trace is `EvalTrace`, which runs primitives eagerly through a hook the runtime
  layer installs (`set_eager_impl`), so this module never imports lowering.
- `GraphTrace` records equations into a `Graph` (our jaxpr): `Var`s, `Literal`s,
  `Equation`s. `eval_graph` interprets a graph by re-binding its primitives, which
  is how every transform composes with graphs.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
import weakref
from typing import Any, Callable

import numpy as np

from xlafront import dtypes
from xlafront.config import config


# ----------------------------------------------------------------------------- errors
class JAXTypeError(TypeError):
    pass


class ConcretizationTypeError(JAXTypeError):
    """A concrete Python value was needed from a traced (abstract) value."""


class TracerBoolConversionError(ConcretizationTypeError):
    pass


class TracerIntegerConversionError(JAXTypeError):
    pass


class TracerArrayConversionError(JAXTypeError):
    pass


class UnexpectedTracerError(JAXTypeError):  # a TypeError, as in JAX
    """A tracer was used after the trace that made it had ended (it leaked)."""


# ----------------------------------------------------------------------------- avals
class AbstractValue:
    """Base of abstract values (jax.core.AbstractValue); ShapedArray is the one kind here."""
    __slots__ = ()


class ShardingTypeError(Exception):
    """An operation whose operands' sharding types (explicit mesh axes) do not fit together
    or give no clear output sharding (JAX's jax._src.core.ShardingTypeError)."""


class ShapedArray(AbstractValue):
    """Abstract value: what tracing knows of an array.

    `sharding`: None, or for an array split over Explicit mesh axes its type's sharding
    (a NamedSharding over the AbstractMesh whose spec has one entry per dimension and names
    only Explicit axes; xlafront/_explicit_sharding.py). An unsharded aval hashes and
    compares as before (the field is None: no extra work on the jit hot path)."""
    __slots__ = ("shape", "dtype", "weak_type", "_hash", "sharding")

    def __init__(self, shape, dtype, weak_type=False, sharding=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.weak_type = bool(weak_type)
        self.sharding = sharding
        self._hash = (hash((self.shape, dtype, self.weak_type)) if sharding is None
                      else hash((self.shape, dtype, self.weak_type, sharding)))

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (type(other) is ShapedArray and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type
                and (self.sharding is other.sharding or self.sharding == other.sharding))

    def update(self, shape=None, dtype=None, weak_type=None, sharding=False):
        """A copy with the given fields replaced; the sharding is kept while the shape is
        (a new shape drops it unless `sharding=` gives one)."""
        if sharding is False:
            sharding = self.sharding if shape is None or tuple(shape) == self.shape else None
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type, sharding)

    def strip_weak(self):
        return self if not self.weak_type else ShapedArray(self.shape, self.dtype, False, self.sharding)

    def to_tangent_aval(self):
        """The aval of a tangent of this value (JAX's: float0 for integers and booleans,
        weak_type kept)."""
        if dtypes.is_inexact(self.dtype):
            return self
        return ShapedArray(self.shape, dtypes.float0, self.weak_type, self.sharding)

    def _dims(self):
        if self.sharding is None:
            return ",".join(map(str, self.shape))
        out = []
        for d, e in zip(self.shape, self.sharding.spec):
            if e is None:
                out.append(str(d))
            elif isinstance(e, str):
                out.append(f"{d}@{e}")
            else:
                out.append(f"{d}@({','.join(e)})")
        return ",".join(out)

    def str_short(self):
        return f"{dtypes.short_names.get(self.dtype, self.dtype.name)}[{self._dims()}]"

    def __repr__(self):
        w = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.dtype.name}[{self._dims()}]{w})"

    def __str__(self):
        """As JAX prints `jax.typeof(x)`: `float32[3]`, `~float32[]` when weakly typed,
        `float32[8@x,4@y]` when split over Explicit mesh axes (graphs and error messages
        print `str_short`: `f32[3]`)."""
        return f"{'~' if self.weak_type else ''}{self.dtype.name}[{self._dims()}]"


# Maps a Python type to a function giving the aval of a value of that type. The
# API layer registers its Array; numpy arrays and Python scalars are handled here.
aval_of_type: dict[type, Callable[[Any], ShapedArray]] = {}


def _scalar_aval(x):
    dt, weak = dtypes.scalar_type_of(x)
    return ShapedArray((), dt, weak)


def _numpy_aval(x):
    return ShapedArray(x.shape, dtypes.canonicalize(x.dtype), False)


for _t in (bool, int, float, complex):
    aval_of_type[_t] = _scalar_aval
aval_of_type[np.ndarray] = _numpy_aval
for _t in set(np.sctypeDict.values()):
    aval_of_type[_t] = _numpy_aval
for _t in (dtypes.bfloat16.type, *(d.type for d in dtypes.float8_dtypes)):
    aval_of_type[_t] = _numpy_aval


def get_aval(x) -> ShapedArray:
    if isinstance(x, Tracer):
        return x.aval
    fn = aval_of_type.get(type(x))
    if fn is None:
        for t, f in aval_of_type.items():
            if isinstance(x, t):
                return f(x)
        raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid xlafront type")
    return fn(x)


def is_concrete_value(x) -> bool:
    return not isinstance(x, Tracer)


# ----------------------------------------------------------------------------- source info
# Files under these folders are the library's own; a frame in them is not the user's.
_internal_dirs: list[str] = [os.path.dirname(os.path.abspath(__file__)) + os.sep]


def register_internal_path(file: str):
    d = os.path.dirname(os.path.abspath(file)) + os.sep
    if d not in _internal_dirs:
        _internal_dirs.append(d)
        _skip_file.clear()


# The trace and compile caches of the transforms and libraries (dicts, sets, weak
# dictionaries), registered where they are made, so `xlafront.clear_caches()` empties all.
_caches: list = []


def cache(obj):
    """Register `obj` (anything with `.clear()`) as a cache `clear_caches` empties; returns it."""
    _caches.append(obj)
    return obj


def clear_caches():
    for c in _caches:
        c.clear()


def evict_oldest(d: dict):
    """Drop the oldest entry of a bounded dict cache; safe while other threads insert into
    or evict from it (then the iterator may see a size change, or the key may be gone)."""
    try:
        d.pop(next(iter(d)), None)
    except (RuntimeError, StopIteration):
        pass


def remember(cache: dict, key, value, limit: int = 4096):
    """Store `value` in a bounded memo dict (the oldest entry goes when it is full: programs
    of ever new shapes, constants and code keep coming); returns `value`."""
    if len(cache) >= limit:
        evict_oldest(cache)
    cache[key] = value
    return value


class SourceInfo:
    """Where an equation came from in the user's code (file, line, column, function)."""
    __slots__ = ("file", "line", "col", "function")

    def __init__(self, file, line, col, function):
        self.file, self.line, self.col, self.function = file, line, col, function

    def __str__(self):
        return f"{self.file}:{self.line}"

    def __repr__(self):
        return f"SourceInfo({self.file}:{self.line}:{self.col} in {self.function})"


_positions_cache: dict = {}


def _column(code, lasti):
    pos = _positions_cache.get(code)
    if pos is None:
        pos = remember(_positions_cache, code, list(code.co_positions()))
    i = lasti // 2
    if 0 <= i < len(pos) and pos[i][2] is not None:
        return pos[i][2] + 1
    return 1


def _is_internal(filename: str) -> bool:
    for d in _internal_dirs:
        if filename.startswith(d):
            return True
    return False


_skip_file: dict = {}  # filename -> whether user_source_info skips its frames (cleared on register)


def user_source_info() -> SourceInfo | None:
    """The innermost frame outside the library: where the user's code called us.
    (Called once per traced equation, so the per-file verdict is cached.)"""
    override = ctx.source
    if override is not None:
        return override
    f = sys._getframe(1)
    skip = _skip_file
    while f is not None:
        code = f.f_code
        fn = code.co_filename
        s = skip.get(fn)
        if s is None:
            s = skip[fn] = _is_internal(fn) or fn.startswith("<frozen")
        if not s:
            return SourceInfo(fn, f.f_lineno, _column(code, f.f_lasti), code.co_name)
        f = f.f_back
    return None


def user_site() -> str:
    """'file.py:12' of the user's call, for error messages."""
    si = user_source_info()
    return f"{si.file}:{si.line}" if si is not None else "<unknown>"


# ----------------------------------------------------------------------------- primitives
# Per-primitive shape/dtype rule: (*avals, **params) -> aval | tuple[aval].
shape_rules: dict["Primitive", Callable] = {}


class Primitive:
    __slots__ = ("name", "multiple_results", "__weakref__")

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results

    def bind(self, *args, **params):
        if traced:
            return ctx.trace.process_primitive(self, args, params)
        return _eager_impl(self, args, params)   # no thread is tracing: the eval trace's

    def __repr__(self):
        return self.name


all_primitives: dict[str, Primitive] = {}


def primitive(name: str, multiple_results: bool = False) -> Primitive:
    p = Primitive(name, multiple_results)
    assert name not in all_primitives, name
    all_primitives[name] = p
    return p


def abstract_eval(prim: Primitive, avals, params):
    """Output aval(s) of a primitive; shape errors name the user's line."""
    try:
        out = shape_rules[prim](*avals, **params)
    except (TypeError, ValueError) as e:
        if getattr(e, "_xf_located", False):
            raise
        msg = str(e)
        site = user_site()
        if site not in msg:
            msg = f"{msg} (in {prim.name} at {site})"
        err = type(e)(msg)
        err._xf_located = True
        raise err.with_traceback(e.__traceback__) from None
    for a in avals:   # sharding types (Explicit mesh axes): only when an operand has one
        if getattr(a, "sharding", None) is not None:
            return sharding_hook(prim, avals, params, out)
    return out


# Set by xlafront/_explicit_sharding.py: (prim, in avals, params, out aval(s)) -> out aval(s)
# with their sharding types.
sharding_hook: Callable = lambda prim, avals, params, out: out


# ----------------------------------------------------------------------------- tracers
class Array:
    """The array type of user code (`xf.Array`, `xnp.ndarray`; jax.Array): a base with no state
    of its own, so that `isinstance(x, xf.Array)` holds for the device array
    (`array.ArrayImpl`), every tracer and typed PRNG key arrays, as in JAX. A real base class,
    not an ABC: the check stays in C (an ABC's `__instancecheck__` costs a Python call).
    Code that means the concrete device array tests `type(x) is ArrayImpl`."""
    __slots__ = ()


class Tracer(Array):
    """A value being traced. Operators are installed by the API layer (array.py)."""
    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    def to_concrete_value(self):
        """The concrete value behind the tracer, if the trace knows it (e.g. jvp primals)."""
        return None

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object")
        return self.aval.shape[0]

    def _concrete(self, what, err_cls):
        v = self.to_concrete_value()
        if v is None:
            raise err_cls(
                f"Attempted {what} on a traced value {self._short()} (the value is abstract here: "
                f"only its shape and dtype are known while tracing), at {user_site()}.\n"
                f"If it depends on an argument, mark that argument static with `static_argnums`/"
                f"`static_argnames` in jit, or use structured control flow (`lax.cond`, "
                f"`lax.select`, `xnp.where`, `lax.while_loop`, `lax.fori_loop`) instead of Python "
                f"`if`/`while`.")
        return v

    def _short(self):
        return f"of type {self.aval.str_short()}"

    def __bool__(self):
        return bool(self._concrete("boolean conversion (Python `if`/`while`/`and`/`or`)",
                                   TracerBoolConversionError))

    def __int__(self):
        return int(self._concrete("int() conversion", ConcretizationTypeError))

    def __float__(self):
        return float(self._concrete("float() conversion", ConcretizationTypeError))

    def __complex__(self):
        return complex(self._concrete("complex() conversion", ConcretizationTypeError))

    def __index__(self):
        return int(self._concrete("conversion to a Python index", TracerIntegerConversionError))

    def __array__(self, dtype=None, copy=None):
        v = self.to_concrete_value()
        if v is None:
            raise TracerArrayConversionError(
                f"The numpy.ndarray conversion method __array__() was called on a traced value "
                f"{self._short()} at {user_site()}. numpy functions cannot be applied to traced "
                f"values; use xlafront.numpy instead.")
        return np.asarray(v, dtype=dtype)

    def __hash__(self):
        raise TypeError(f"unhashable type: traced value {self._short()}")

    def __setitem__(self, idx, val):
        raise TypeError("xlafront arrays are immutable; instead of `x[idx] = y` use "
                        "`x = x.at[idx].set(y)`")

    def __repr__(self):
        return self._repr(str)

    def _repr(self, text):
        """The repr as JAX prints its tracers (each class its own), with `text(aval)` printing
        an aval (a typed key array over a tracer passes one that prints `key<fry>[...]`)."""
        return f"Traced<{text(self.aval)}>with<{type(self._trace).__name__}>"

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.aval.shape[0]))


# ----------------------------------------------------------------------------- traces
class Trace:
    """Base trace. `parent` is the trace rules run under; `alive` is cleared on exit."""

    def __init__(self, parent: "Trace | None"):
        self.parent = parent
        self.alive = True

    def process_primitive(self, prim, args, params):
        raise NotImplementedError

    def check_alive_tracer(self, x):
        if not x._trace.alive:
            raise UnexpectedTracerError(
                f"Encountered an unexpected tracer {x!r} at {user_site()}.\n"
                f"A value computed inside a transformed function (jit, grad, vmap, ...) escaped it, "
                f"for example by being stored in a global or a closure, and was used after that "
                f"transformation had finished. Return the value from the function instead.")


class EvalTrace(Trace):
    """The bottom trace: primitives run on the device now."""

    def process_primitive(self, prim, args, params):
        return _eager_impl(prim, args, params)


def _no_impl(prim, args, params):
    raise RuntimeError("no eager implementation installed: import xlafront, not xlafront.core alone")


_eager_impl: Callable = _no_impl


def set_eager_impl(fn: Callable):
    """The runtime layer installs the eager evaluator here (keeps core free of lowering)."""
    global _eager_impl
    _eager_impl = fn


# The one bottom trace, shared by all threads (it holds no state).
eval_trace = EvalTrace(None)


class _Context(threading.local):
    """The trace state, one per thread (as JAX's): the current trace and the source-info
    override of equations re-bound from a graph. A new thread starts at the eval trace.
    Write `trace` only through `set_trace` (it keeps `traced` right)."""

    def __init__(self):
        self.trace: Trace = eval_trace
        self.source: SourceInfo | None = None


ctx = _Context()

# One entry per thread whose current trace is not the eval trace (list append/pop are
# atomic). Empty means every thread, the caller's included, is at the eval trace: the
# eager and jit hot paths test this (a global, ~20 ns) instead of reading the
# thread-local `ctx.trace` (~110 ns). A thread's own entry is added before its trace
# leaves the eval trace and removed after it is back, so the test never misleads it.
traced: list = []


def set_trace(new: "Trace") -> "Trace":
    """Make `new` this thread's current trace; returns the previous one."""
    prev = ctx.trace
    if prev is eval_trace:
        if new is not eval_trace:
            traced.append(None)
        ctx.trace = new
    else:
        ctx.trace = new
        if new is eval_trace:
            traced.pop()
    return prev


class set_current_trace:
    """Context manager: make `trace` current (rules of a trace run under its parent)."""
    __slots__ = ("new", "prev")

    def __init__(self, trace):
        self.new = trace

    def __enter__(self):
        self.prev = set_trace(self.new)
        return self.new

    def __exit__(self, *exc):
        set_trace(self.prev)


class new_trace:
    """Context manager that makes a fresh trace current and kills it on exit."""
    __slots__ = ("trace", "prev")

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        self.prev = set_trace(self.trace)
        return self.trace

    def __exit__(self, *exc):
        set_trace(self.prev)
        self.trace.alive = False


def current_trace() -> Trace:
    return ctx.trace


# ----------------------------------------------------------------------------- graph IR
class Var:
    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant inlined in the graph (Python scalars, 0-d numpy values)."""
    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval

    def __repr__(self):
        return f"Literal({self.val})"


Atom = Var | Literal   # jax.core.Atom: what an equation reads


class Equation:
    __slots__ = ("prim", "invars", "outvars", "params", "source")

    def __init__(self, prim, invars, outvars, params, source=None):
        self.prim, self.invars, self.outvars, self.params, self.source = prim, invars, outvars, params, source

    # the names code that walks a JAX jaxpr reads (jax.extend.core.JaxprEqn)
    primitive = property(lambda self: self.prim)
    source_info = property(lambda self: self.source)
    effects = property(lambda self: frozenset())

    def __repr__(self):
        return f"Equation({self.prim.name})"


class Graph:
    """A traced function: `constvars` (captured arrays), `invars`, `eqns`, `outvars`."""
    __slots__ = ("constvars", "invars", "eqns", "outvars", "__weakref__")

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars, self.invars, self.eqns, self.outvars = list(constvars), list(invars), eqns, outvars

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])
    effects = property(lambda self: frozenset())   # xlafront's graphs record no effects
    debug_info = property(lambda self: None)

    def __str__(self):
        return pp_graph(self)

    __repr__ = __str__


class ClosedGraph:
    """A Graph with its constvars bound to values (our ClosedJaxpr)."""
    __slots__ = ("graph", "consts", "__weakref__")

    def __init__(self, graph: Graph, consts):
        self.graph, self.consts = graph, list(consts)

    jaxpr = property(lambda self: self.graph)
    eqns = property(lambda self: self.graph.eqns)
    # JAX's ClosedJaxpr names: constvars/invars/outvars of the graph; `literals` are the
    # consts in JAX 0.10 (`jaxpr.consts` of a closed jaxpr are its constvars' values)
    constvars = property(lambda self: self.graph.constvars)
    invars = property(lambda self: self.graph.invars)
    outvars = property(lambda self: self.graph.outvars)
    literals = property(lambda self: self.consts)
    effects = property(lambda self: frozenset())
    debug_info = property(lambda self: None)
    in_avals = property(lambda self: self.graph.in_avals)
    out_avals = property(lambda self: self.graph.out_avals)

    def __str__(self):
        return pp_graph(self.graph)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))


def eval_graph(graph: Graph, consts, args):
    """Interpret `graph` by binding its primitives under the current trace."""
    env: dict = {}
    for v, x in zip(graph.constvars, consts):
        env[v] = x
    for v, x in zip(graph.invars, args):
        env[v] = x

    def read(v):
        return v.val if type(v) is Literal else env[v]

    prev = ctx.source
    try:
        for eqn in graph.eqns:
            ctx.source = eqn.source if eqn.source is not None else prev
            outs = eqn.prim.bind(*map(read, eqn.invars), **eqn.params)
            if eqn.prim.multiple_results:
                for v, x in zip(eqn.outvars, outs):
                    env[v] = x
            else:
                env[eqn.outvars[0]] = outs
    finally:
        ctx.source = prev
    return [read(v) for v in graph.outvars]


def eval_jaxpr(jaxpr: Graph, consts, *args, propagate_source_info=True):
    """jax.core.eval_jaxpr: `eval_graph` with JAX's signature (a list of outputs)."""
    del propagate_source_info
    return eval_graph(jaxpr, consts, args)


def jaxpr_as_fun(closed: ClosedGraph):
    """jax.extend.core.jaxpr_as_fun: a ClosedGraph as a function of its flat inputs."""
    return lambda *args: eval_graph(closed.graph, closed.consts, args)


def find_top_trace(xs=()):
    """jax.extend.core.find_top_trace: the current trace (as JAX's stackless one, whose
    argument is ignored)."""
    del xs
    return ctx.trace


class OpaqueTraceState:
    """What `get_opaque_trace_state` returns: equal to another one exactly when both were
    taken under the same trace (held weakly)."""
    __slots__ = ("_ref",)

    def __init__(self, trace):
        self._ref = weakref.ref(trace)

    def __eq__(self, other):
        return type(other) is OpaqueTraceState and self._ref == other._ref

    def __hash__(self):
        return hash(self._ref)


def get_opaque_trace_state(convention=None):
    """jax.extend.core.get_opaque_trace_state (flax compares two of them)."""
    del convention
    return OpaqueTraceState(ctx.trace)


def mapped_aval(size: int, axis, aval: ShapedArray) -> ShapedArray:
    """The aval of one slice of `aval` along `axis` (None: not mapped)."""
    if axis is None:
        return aval
    shape = list(aval.shape)
    if shape[axis] != size:
        raise ValueError(f"mapped_aval: axis {axis} of {aval.str_short()} has size {shape[axis]}, "
                         f"not {size}")
    del shape[axis]
    return aval.update(shape=tuple(shape))


def unmapped_aval(size: int, axis, aval: ShapedArray, explicit_mesh_axis=None) -> ShapedArray:
    """The aval of `size` stacked values of `aval` along `axis` (None: not mapped)."""
    del explicit_mesh_axis
    if axis is None:
        return aval
    shape = list(aval.shape)
    shape.insert(axis, size)
    return aval.update(shape=tuple(shape))


# ----------------------------------------------------------------------------- graph tracing
class GraphTracer(Tracer):
    # `_var`, not `var`: a `var` slot would shadow the numpy method x.var().
    __slots__ = ("_var",)

    def __init__(self, trace, var):
        self._trace = trace
        self._var = var

    @property
    def aval(self):
        return self._var.aval

    def _repr(self, text):
        return f"JitTracer({text(self._var.aval)})"


_literal_types = (bool, int, float, complex, np.generic)


class GraphTrace(Trace):
    """Records primitives into a Graph. Values from outside become constvars."""

    def __init__(self, parent):
        super().__init__(parent)
        self.eqns: list[Equation] = []
        self.invars: list[Var] = []
        self.const_ids: dict[int, tuple[Var, Any]] = {}

    def new_arg(self, aval: ShapedArray) -> GraphTracer:
        v = Var(aval)
        self.invars.append(v)
        return GraphTracer(self, v)

    def to_var(self, x):
        if isinstance(x, GraphTracer) and x._trace is self:
            return x._var
        if isinstance(x, _literal_types):
            return Literal(x, get_aval(x)) if not isinstance(x, np.generic) else \
                Literal(x, ShapedArray((), dtypes.canonicalize(x.dtype), False))
        if isinstance(x, Tracer):
            self.check_alive_tracer(x)
        hit = self.const_ids.get(id(x))
        if hit is None:
            aval = get_aval(x)
            if isinstance(x, np.ndarray) and x.ndim == 0:
                return Literal(x.astype(aval.dtype)[()], aval.update(weak_type=False))
            hit = self.const_ids[id(x)] = (Var(aval), x)
        return hit[0]

    def process_primitive(self, prim, args, params):
        invars = [self.to_var(x) for x in args]
        out = abstract_eval(prim, [v.aval for v in invars], params)
        src = user_source_info()
        if prim.multiple_results:
            outvars = [Var(a) for a in out]
            self.eqns.append(Equation(prim, invars, outvars, params, src))
            return [GraphTracer(self, v) for v in outvars]
        v = Var(out)
        self.eqns.append(Equation(prim, invars, [v], params, src))
        return GraphTracer(self, v)

    def finalize(self, outs) -> ClosedGraph:
        outvars = [self.to_var(x) for x in outs]
        constvars = [v for v, _ in self.const_ids.values()]
        consts = [x for _, x in self.const_ids.values()]
        return ClosedGraph(Graph(constvars, self.invars, self.eqns, outvars), consts)


def trace_to_graph(fn: Callable, in_avals, *, parent=None) -> ClosedGraph:
    """Trace `fn(*tracers) -> list of outputs` over flat avals into a ClosedGraph."""
    trace = GraphTrace(parent if parent is not None else ctx.trace)
    with new_trace(trace):
        tracers = [trace.new_arg(a) for a in in_avals]
        outs = fn(*tracers)
        graph = trace.finalize(outs)
    return graph


# ----------------------------------------------------------------------------- printing
def _var_names():
    for n in itertools.count(1):
        for t in itertools.product("abcdefghijklmnopqrstuvwxyz", repeat=n):
            yield "".join(t)


def _pp_literal(lit: Literal):
    v = lit.val
    dt = lit.aval.dtype
    if dt == dtypes.bool_:
        s = str(bool(v))
    elif dtypes.is_int(dt):
        s = str(int(v))
    elif dtypes.is_complex(dt):
        s = str(complex(v))
    else:
        s = repr(float(np.asarray(v, dt)))
    return f"{s}:{lit.aval.str_short()}"


def _pp_param(v, indent):
    if isinstance(v, ClosedGraph):
        v = v.graph
    if isinstance(v, Graph):
        return pp_graph(v, indent + 2)
    if isinstance(v, tuple) and v and all(isinstance(g, (Graph, ClosedGraph)) for g in v):
        pad = " " * (indent + 2)
        return "(\n" + "\n".join(pad + _pp_param(g, indent) for g in v) + "\n" + pad + ")"
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    return str(v)


def pp_graph(graph: Graph, indent: int = 0) -> str:
    names: dict = {}
    gen = _var_names()

    def name(v):
        if type(v) is Literal:
            return _pp_literal(v)
        n = names.get(v)
        if n is None:
            n = names[v] = next(gen)
        return n

    def decl(v):
        return f"{name(v)}:{v.aval.str_short()}"

    head = (f"{{ lambda {' '.join(map(decl, graph.constvars))}; "
            f"{' '.join(map(decl, graph.invars))}. let")
    pad = " " * (indent + 4)
    lines = []
    for eqn in graph.eqns:
        ins = " ".join(name(v) for v in eqn.invars)
        outs = " ".join(decl(v) for v in eqn.outvars)
        lhs = f"{outs} = " if outs else ""   # an equation without results (a debug print)
        params = [(k, _pp_param(p, indent + 4)) for k, p in sorted(eqn.params.items())]
        if not params:
            lines.append(f"{pad}{lhs}{eqn.prim.name} {ins}")
            continue
        inline = " ".join(f"{k}={p}" for k, p in params)
        if "\n" not in inline and len(inline) + len(outs) + len(ins) < 70:
            lines.append(f"{pad}{lhs}{eqn.prim.name}[{inline}] {ins}")
        else:
            body = "\n".join(f"{pad}  {k}={p}" for k, p in params)
            lines.append(f"{pad}{lhs}{eqn.prim.name}[\n{body}\n{pad}] {ins}")
    outs = ", ".join(name(v) for v in graph.outvars)
    tail = f"in ({outs}{',' if len(graph.outvars) == 1 else ''}) }}"
    if len(lines) <= 1 and (not lines or len(lines[0]) < 60) and "\n" not in "".join(lines):
        body = (" " + lines[0].strip()) if lines else ""
        return f"{head}{body} {tail}"
    return "\n".join([head, *lines, " " * (indent + 2) + tail])


# ----------------------------------------------------------------------------- structural keys
class _ById:
    """Holds an object in a cache key by identity (keeps it alive, so ids are not reused)."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return type(other) is _ById and other.obj is self.obj


def _literal_key(val):
    if isinstance(val, np.generic):
        return (type(val), val.tobytes())
    return (type(val), repr(val))


def _param_key(v):
    if isinstance(v, ClosedGraph):
        return ("closed", graph_fingerprint(v.graph), tuple(_ById(c) for c in v.consts))
    if isinstance(v, Graph):
        return ("graph", graph_fingerprint(v))
    if isinstance(v, (tuple, list)):
        return (type(v), tuple(_param_key(x) for x in v))
    hash(v)  # a TypeError here means: this graph cannot be keyed
    return v


def graph_fingerprint(graph: Graph) -> tuple:
    """A hashable structural key: graphs with equal keys compute the same function.

    Variables are numbered by position, literals keyed by value, sub-graphs
    recursively; other params must be hashable (TypeError otherwise)."""
    ids: dict = {}
    for v in graph.constvars:
        ids[v] = len(ids)
    for v in graph.invars:
        ids[v] = len(ids)

    def ref(v):
        return ("lit", v.aval, _literal_key(v.val)) if type(v) is Literal else ids[v]

    parts = [tuple(v.aval for v in graph.constvars), tuple(v.aval for v in graph.invars)]
    for e in graph.eqns:
        ins = tuple(ref(v) for v in e.invars)
        for v in e.outvars:
            ids[v] = len(ids)
        params = tuple((k, _param_key(p)) for k, p in e.params.items())
        parts.append((e.prim, ins, params, tuple(v.aval for v in e.outvars)))
    parts.append(tuple(ref(v) for v in graph.outvars))
    return tuple(parts)
