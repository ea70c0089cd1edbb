"""Graph -> StableHLO text: SSA names, tensor types, functions, source locations.

A `ModuleBuilder` holds the functions of one module; `FunctionBuilder` emits one
function body, calling the rule of each equation's primitive (lowering/rules.py)
with a `LoweringContext` that knows the avals in and out and the source location.
Numbering is deterministic: `%0, %1, ...` in emission order, `%argN` for inputs.
"""
from __future__ import annotations

import re

import numpy as np

from xlafront import dtypes
from xlafront.core import Graph, ClosedGraph, Literal, ShapedArray, register_internal_path

register_internal_path(__file__)

_ELEMENT_TYPES = {
    dtypes.bool_: "i1", dtypes.int8: "i8", dtypes.int16: "i16", dtypes.int32: "i32", dtypes.int64: "i64",
    dtypes.uint8: "ui8", dtypes.uint16: "ui16", dtypes.uint32: "ui32", dtypes.uint64: "ui64",
    dtypes.float16: "f16", dtypes.bfloat16: "bf16", dtypes.float32: "f32", dtypes.float64: "f64",
    dtypes.complex64: "complex<f32>", dtypes.complex128: "complex<f64>",
    dtypes.float8_e4m3fn: "f8E4M3FN", dtypes.float8_e5m2: "f8E5M2", dtypes.float8_e4m3b11fnuz: "f8E4M3B11FNUZ",
    dtypes.float8_e4m3fnuz: "f8E4M3FNUZ", dtypes.float8_e5m2fnuz: "f8E5M2FNUZ",
}


def element_type(dt) -> str:
    try:
        return _ELEMENT_TYPES[dt]
    except KeyError:
        raise TypeError(f"dtype {dt} has no StableHLO element type") from None


def tensor_type(aval: ShapedArray) -> str:
    et = element_type(aval.dtype)
    if not aval.shape:
        return f"tensor<{et}>"
    return f"tensor<{'x'.join(map(str, aval.shape))}x{et}>"


def _float_text(v: float, dt) -> str:
    if np.isfinite(v):
        s = repr(float(v))
        if "e" in s or "E" in s:
            return f"{float(v):e}"
        return s
    # non-finite values need the bit pattern
    bits = np.asarray(v, dt).view(f"u{np.dtype(dt).itemsize}")
    return f"0x{int(bits):0{2 * np.dtype(dt).itemsize}X}"


def _scalar_text(v, dt) -> str:
    if dt == dtypes.bool_:
        return "true" if bool(v) else "false"
    if dtypes.is_int(dt):
        return str(int(v))
    if dtypes.is_complex(dt):
        c = complex(v)
        rdt = dtypes.float64 if dt == dtypes.complex128 else dtypes.float32
        return f"({_float_text(c.real, rdt)}, {_float_text(c.imag, rdt)})"
    return _float_text(float(np.asarray(v, dt).astype(np.float64)), dt)


def dense_attr(value: np.ndarray) -> str:
    """`dense<...>` for a constant: splat for uniform arrays, hex blob for the rest."""
    value = np.asarray(value)
    dt = value.dtype
    flat = value.reshape(-1)
    if value.size == 0:
        return "dense<>"
    first = flat[0]
    same = bool(np.all(flat == first)) if not (dtypes.is_float(dt) or dtypes.is_complex(dt)) else \
        bool(np.all(flat.view(f"u{dt.itemsize}") == flat[:1].view(f"u{dt.itemsize}")))
    if same:
        return f"dense<{_scalar_text(first, dt)}>"
    if dt == dtypes.bool_:
        raw = value.astype(np.uint8).tobytes()
    else:
        raw = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
    return f'dense<"0x{raw.hex().upper()}">'


def _loc(src) -> str:
    if src is None:
        return ""
    f = str(src.file).replace("\\", "\\\\").replace('"', '\\"')
    return f' loc("{f}":{src.line}:{src.col})'


_SYMBOL_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_$.]*$")


def symbol(name: str) -> str:
    return name if _SYMBOL_OK.match(name) else re.sub(r"[^A-Za-z0-9_]", "_", name) or "f"


class LoweringContext:
    """What a lowering rule sees: avals of its operands and results, and emit helpers."""
    __slots__ = ("fn", "avals_in", "avals_out", "loc")

    def __init__(self, fn, avals_in, avals_out, loc):
        self.fn, self.avals_in, self.avals_out, self.loc = fn, avals_in, avals_out, loc

    @property
    def aval_out(self):
        return self.avals_out[0]

    def emit(self, text: str, n: int = 1):
        """Emit `%N = text` (or `%N:n = text`) and return the result name(s)."""
        return self.fn.emit(text, n, self.loc)

    def const(self, value, dtype, shape=()):
        """A constant of the given dtype and shape (splat of a scalar, or an array value)."""
        arr = np.asarray(value, dtype=dtype)
        aval = ShapedArray(shape if arr.ndim == 0 else arr.shape, dtype)
        if arr.ndim == 0 and shape:
            arr = np.broadcast_to(arr, shape)
        return self.emit(f"stablehlo.constant {dense_attr(arr)} : {tensor_type(aval)}")

    def broadcast(self, x, aval_in: ShapedArray, shape):
        """Broadcast a rank-0 (or equal-rank) operand to `shape`."""
        if tuple(aval_in.shape) == tuple(shape):
            return x
        out = aval_in.update(shape=shape)
        dims = ", ".join(str(d) for d in range(len(shape) - aval_in.ndim, len(shape)))
        return self.emit(f"stablehlo.broadcast_in_dim {x}, dims = [{dims}] : "
                         f"({tensor_type(aval_in)}) -> {tensor_type(out)}")

    def region(self, args_avals, body_fn, result_avals):
        """Text of a one-block region; body_fn(arg_names) returns the names to return."""
        return self.fn.region(args_avals, body_fn, result_avals, self.loc)

    def call_graph(self, graph, name, args):
        return self.fn.module.call_graph(self, graph, name, args)


class FunctionBuilder:
    def __init__(self, module: "ModuleBuilder", indent: int = 4):
        self.module = module
        self.lines: list[str] = []
        self.counter = 0
        self.indent = indent

    def fresh(self) -> str:
        n = f"%{self.counter}"
        self.counter += 1
        return n

    def emit(self, text, n, loc):
        name = self.fresh()
        pad = " " * self.indent
        if n == 1:
            self.lines.append(f"{pad}{name} = {text}{_loc(loc)}")
            return name
        self.lines.append(f"{pad}{name}:{n} = {text}{_loc(loc)}")
        return [f"{name}#{i}" for i in range(n)]

    def region(self, args_avals, body_fn, result_avals, loc):
        saved_lines, saved_indent = self.lines, self.indent
        self.lines = []
        self.indent = saved_indent + 4
        args = []
        for a in args_avals:
            args.append(f"%r{self.counter}")
            self.counter += 1
        results = body_fn(args)
        types = ", ".join(tensor_type(a) for a in result_avals)
        pad = " " * self.indent
        self.lines.append(f"{pad}stablehlo.return {', '.join(results)} : {types}")
        body = self.lines
        self.lines, self.indent = saved_lines, saved_indent
        head = " " * (saved_indent + 2) + "^bb0(" + ", ".join(
            f"{n}: {tensor_type(a)}" for n, a in zip(args, args_avals)) + "):"
        return "{\n" + head + "\n" + "\n".join(body) + "\n" + " " * saved_indent + "}"

    def lower_body(self, graph: Graph, arg_names, const_names=()):
        """Emit the equations of `graph`; returns the names of its outputs."""
        from lowering.rules import lowering_rules
        env = {}
        for v, n in zip(graph.constvars, const_names):
            env[v] = n
        for v, n in zip(graph.invars, arg_names):
            env[v] = n

        def read(v):
            if type(v) is Literal:
                key = ("lit", v.aval, _lit_key(v.val))
                n = lit_cache.get(key)
                if n is None:
                    ctx = LoweringContext(self, [], [v.aval], None)
                    n = lit_cache[key] = ctx.const(v.val, v.aval.dtype)
                return n
            return env[v]

        lit_cache: dict = {}
        for eqn in graph.eqns:
            rule = lowering_rules.get(eqn.prim)
            if rule is None:
                raise NotImplementedError(f"no StableHLO lowering rule for primitive '{eqn.prim.name}'")
            ctx = LoweringContext(self, [v.aval for v in eqn.invars], [v.aval for v in eqn.outvars],
                                  eqn.source)
            outs = rule(ctx, *map(read, eqn.invars), **eqn.params)
            if not eqn.prim.multiple_results:
                outs = [outs]
            for v, n in zip(eqn.outvars, outs):
                env[v] = n
        return [read(v) for v in graph.outvars]


def _lit_key(val):
    return (type(val), repr(val))


class ModuleBuilder:
    def __init__(self, name: str):
        self.name = symbol(name)
        self.funcs: list[str] = []
        self.func_names: dict = {}   # id(graph) -> symbol
        self.used_names: set = {"main"}

    def function(self, name: str, graph: Graph, public: bool, arg_attrs=None, const_avals=(),
                 inline_consts=None):
        """Emit `graph` as a func.func. const_avals become leading arguments."""
        fb = FunctionBuilder(self)
        in_avals = list(const_avals) + [v.aval for v in graph.invars]
        args = [f"%arg{i}" for i in range(len(in_avals))]
        const_names = list(args[:len(const_avals)])
        if inline_consts:
            # consts inlined as dense<> constants (small ones); the others are arguments
            const_names = []
            ai = iter(args[:len(const_avals)])
            ctx = LoweringContext(fb, [], [], None)
            for v, val in zip(graph.constvars, inline_consts):
                const_names.append(next(ai) if val is None else ctx.const(np.asarray(val), v.aval.dtype))
        outs = fb.lower_body(graph, args[len(const_avals):], const_names)
        out_avals = graph.out_avals
        sig_in = ", ".join(f"{a}: {tensor_type(t)}" for a, t in zip(args, in_avals))
        res_types = ", ".join(tensor_type(a) for a in out_avals)
        vis = "public" if public else "private"
        lines = [f"  func.func {vis} @{name}({sig_in}) -> ({res_types}) {{", *fb.lines]
        if outs:
            lines.append(f"    return {', '.join(outs)} : {res_types}")
        else:
            lines.append("    return")
        lines.append("  }")
        self.funcs.append("\n".join(lines))

    def call_graph(self, ctx: LoweringContext, graph, name, args):
        g = graph.graph if isinstance(graph, ClosedGraph) else graph
        sym = self.func_names.get(id(g))
        if sym is None:
            base = symbol(name)
            sym, i = base, 0
            while sym in self.used_names:
                i += 1
                sym = f"{base}_{i}"
            self.used_names.add(sym)
            self.func_names[id(g)] = sym
            self.function(sym, g, public=False)
        in_t = ", ".join(tensor_type(a) for a in ctx.avals_in)
        out_t = ", ".join(tensor_type(a) for a in ctx.avals_out)
        n = len(ctx.avals_out)
        res = ctx.emit(f"func.call @{sym}({', '.join(args)}) : ({in_t}) -> ({out_t})", n=max(n, 1))
        if n == 1:
            return [res]
        return res if n else []

    def text(self) -> str:
        head = (f"module @{self.name} attributes {{mhlo.num_partitions = 1 : i32, "
                f"mhlo.num_replicas = 1 : i32}} {{")
        return "\n".join([head, *self.funcs, "}"]) + "\n"


def lower_graph(name: str, graph: Graph, consts=(), inline_limit: int = 64) -> tuple[str, list]:
    """StableHLO module text for `graph`, named `@jit_<name>`.

    Returns (text, consts passed as arguments). Constants with at most `inline_limit`
    elements are inlined as `dense<...>`; larger ones become leading arguments.
    """
    mb = ModuleBuilder(f"jit_{name}")
    inline = []
    arg_consts = []
    arg_avals = []
    for v, c in zip(graph.constvars, consts):
        arr = None
        if isinstance(c, (np.ndarray, np.generic)) and np.size(c) <= inline_limit:
            arr = np.asarray(c)
        elif hasattr(c, "_value_for_inline") and v.aval.size <= inline_limit:
            arr = c._value_for_inline()
        if arr is not None:
            inline.append(arr.astype(v.aval.dtype))
        else:
            inline.append(None)
            arg_consts.append(c)
            arg_avals.append(v.aval)
    mb.function("main", graph, public=True, const_avals=arg_avals, inline_consts=inline if consts else None)
    # main must come first for readability
    mb.funcs.insert(0, mb.funcs.pop())
    return mb.text(), arg_consts
