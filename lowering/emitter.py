"""Graph -> StableHLO text: SSA names, tensor types, functions, source locations.

A `ModuleBuilder` holds the functions of one module; `FunctionBuilder` emits one
function body, calling the rule of each equation's primitive (the table in
lowering/registry.py, filled by lowering/rules.py and lowering/rules_*.py)
with a `LoweringContext` that knows the avals in and out and the source location.

The text reads like JAX's: `@jit_<name>` modules with `func.func public @main` first
and nested jits as `func.func private` + `func.call`; every op ends in
`loc("file.py":line:col)` of the user's code; constants are emitted once per function
(splat constants take the shape they are used at, instead of a broadcast) right before
their first use; names are deterministic and numbered in textual order (`%0, %1, ...`,
`%cst, %cst_0, ...`, `%c, ...` for integer constants, `%argN` for arguments and
region arguments). Constants of more than `inline_limit` elements become arguments.
"""
from __future__ import annotations

import operator
import threading
import re

import numpy as np

from xlafront import dtypes
from xlafront.core import Graph, ClosedGraph, Literal, ShapedArray, register_internal_path, remember
from xlafront.lowering.registry import lowering_rules

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


_TENSOR_TYPES: dict = {}   # (shape, dtype) -> "tensor<...>"


def tensor_type(aval: ShapedArray) -> str:
    key = (aval.shape, aval.dtype)
    t = _TENSOR_TYPES.get(key)
    if t is None:
        et = element_type(aval.dtype)
        t = remember(_TENSOR_TYPES, key, f"tensor<{'x'.join(map(str, aval.shape))}x{et}>"
                     if aval.shape else f"tensor<{et}>")
    return t


def _float_text(v, dt) -> str:
    """A float literal MLIR reads back to exactly `v` in dtype `dt` (shortest form, else bits)."""
    dt = np.dtype(dt)
    x = np.asarray(v, dt)
    if np.isfinite(x):
        s = repr(float(x)) if dt == np.float64 else str(x[()])
        try:
            # MLIR parses the decimal as f64 and rounds to dt: check that lands on x exactly
            exact = np.asarray(float(s), np.float64).astype(dt).view(f"u{dt.itemsize}") == \
                x.view(f"u{dt.itemsize}")
        except (ValueError, OverflowError):
            exact = False
        if exact:
            mant, e, exp = s.lower().partition("e")
            if "." not in mant:
                mant += ".0"
            return mant + (f"e{int(exp):+03d}" if e else "")
    # non-finite values (and any decimal that would not round-trip) need the bit pattern
    bits = x.view(f"u{dt.itemsize}")
    return f"0x{int(bits):0{2 * dt.itemsize}X}"


def _scalar_text(v, dt) -> str:
    if dt == dtypes.bool_:
        return "true" if bool(v) else "false"
    if dtypes.is_int(dt):
        return str(int(v))
    if dtypes.is_complex(dt):
        c = complex(v)
        rdt = dtypes.float64 if dt == dtypes.complex128 else dtypes.float32
        return f"({_float_text(c.real, rdt)}, {_float_text(c.imag, rdt)})"
    return _float_text(v, dt)


_LIST_LIMIT = 64   # non-splat constants up to this size print as nested lists, larger ones as hex


def _nested(value: np.ndarray, dt) -> str:
    if value.ndim == 0:
        return _scalar_text(value[()], dt)
    return "[" + ", ".join(_nested(v, dt) for v in value) + "]"


def dense_attr(value: np.ndarray) -> str:
    """`dense<...>` for a constant: splat for uniform arrays, a list or hex blob for the rest."""
    value = np.ascontiguousarray(value)
    dt = value.dtype
    flat = value.reshape(-1)
    if value.size == 0:
        return "dense<>"
    first = flat[0]
    if dtypes.is_float(dt) or dtypes.is_complex(dt):   # compare bits: NaN and -0.0 matter
        u = f"u{dt.itemsize // 2}" if dtypes.is_complex(dt) else f"u{dt.itemsize}"
        bits = flat.view(u)
        step = 2 if dtypes.is_complex(dt) else 1
        same = bool(np.all(bits.reshape(-1, step) == bits[:step]))
    else:
        same = bool(np.all(flat == first))
    if same:
        return f"dense<{_scalar_text(first, dt)}>"
    if value.size <= _LIST_LIMIT or dt == dtypes.bool_:
        return f"dense<{_nested(value, dt)}>"
    raw = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
    return f'dense<"0x{raw.hex().upper()}">'


_LOCS: dict = {}   # (file, line, col) -> ' loc("file":line:col)'


def _loc(src) -> str:
    if src is None:
        return ""
    key = (src.file, src.line, src.col)
    text = _LOCS.get(key)
    if text is None:
        f = str(src.file).replace("\\", "\\\\").replace('"', '\\"')
        text = remember(_LOCS, key, f' loc("{f}":{src.line}:{src.col})')
    return text


_SYMBOL_BAD = re.compile(r"[^A-Za-z0-9_.]")


def symbol(name: str) -> str:
    """A bare MLIR symbol name from a Python name, sanitized as JAX does (`<lambda>` -> `_lambda`)."""
    s = _SYMBOL_BAD.sub("_", name).rstrip("_") or "fn"
    return s if not s[0].isdigit() else "_" + s


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
        """A constant of the given dtype and shape (splat of a scalar, or an array value).

        Emitted once per function (region) scope and reused; it carries the location of
        the first operation that needed it."""
        arr = np.asarray(value, dtype=dtype)
        aval = ShapedArray(shape if arr.ndim == 0 else arr.shape, dtype)
        return self.fn.const(arr, aval, self.loc)

    def broadcast(self, x, aval_in: ShapedArray, shape):
        """Broadcast a rank-0 (or equal-rank) operand to `shape`."""
        shape = tuple(shape)
        if tuple(aval_in.shape) == shape:
            return x
        fn = self.fn
        key = (x, shape)
        hit = fn.bcasts.get(key)
        if hit is not None:
            return hit
        splat = fn.splats.get(x)
        if splat is not None:   # a splat constant: a constant of the wider shape reads better
            r = fn.bcasts[key] = fn.const(splat, aval_in.update(shape=shape), self.loc)
            return r
        out = aval_in.update(shape=shape)
        dims = ", ".join(str(d) for d in range(len(shape) - aval_in.ndim, len(shape)))
        r = fn.bcasts[key] = self.emit(f"stablehlo.broadcast_in_dim {x}, dims = [{dims}] : "
                                       f"({tensor_type(aval_in)}) -> {tensor_type(out)}")
        return r

    def region(self, args_avals, body_fn, result_avals):
        """Text of a one-block region; body_fn(arg_names) returns the names to return."""
        return self.fn.region(args_avals, body_fn, result_avals, self.loc)

    def call_graph(self, graph, name, args):
        return self.fn.module.call_graph(self, graph, name, args)


_DEFINED = re.compile(r"\s*(%\w+)(?::\d+)? = ")
_BLOCK_ARG = re.compile(r"(%r\d+):")
_RENAMED = re.compile(r"(%(?:k\d+k|r\d+|\d+))(?!\w)")   # split() keeps the names
_PLACEHOLDER = re.compile(r"%k\d+k")
_SPLAT_ATTRS: dict = {}   # (value dtype, value bytes, constant dtype) -> "dense<...>" of a splat


def _placeholder_number(ph: str) -> int:
    return int(ph[2:-1])


class FunctionBuilder:
    """Emits one function body.

    Constants are memoized per scope (the function body, or one region: constants of
    an enclosing scope are not reused inside a region, as XLA wants the regions of
    reduce/sort self-contained). A constant is written out only when an operation
    first uses it, right before that operation and with its location, so constants
    that end up unused (e.g. a scalar that was folded into a wider splat) never appear.
    Until then its name is a placeholder `%kNk`. `finish` renumbers the function in
    textual order, as MLIR's printer does: results `%0, %1, ...`, constants `%cst, %cst_0,
    ...` (`%c, %c_0, ...` for integers), region arguments `%argN` after the function's.
    """

    def __init__(self, module: "ModuleBuilder", indent: int = 4):
        self.module = module
        self.lines: list[str] = []
        self.counter = 0
        self.indent = indent
        self.consts: dict = {}     # (dense text, type) -> placeholder, in the current scope
        self.pending: dict = {}    # placeholder -> (constant text, dtype, loc), not yet written
        self.splats: dict = {}     # placeholder -> scalar value, for uniform constants
        self.bcasts: dict = {}     # (name, shape) -> broadcast result, in the current scope
        self.const_base: dict = {}  # placeholder of a written constant -> "%cst" or "%c"
        self.n_placeholder = 0

    def fresh(self) -> str:
        n = f"%{self.counter}"
        self.counter += 1
        return n

    def const(self, arr: np.ndarray, aval: ShapedArray, loc):
        """A constant of type `aval`: `arr` is its value, or a scalar to splat over it."""
        splat = None
        if arr.ndim == 0:           # a splat: its text comes from the scalar alone
            splat = arr[()]
            skey = (arr.dtype, arr.tobytes(), aval.dtype)   # the bits: -0.0 and NaNs differ
            attr = _SPLAT_ATTRS.get(skey)
            if attr is None:
                attr = remember(_SPLAT_ATTRS, skey, f"dense<{_scalar_text(splat, aval.dtype)}>")
            if 0 in aval.shape:
                attr = "dense<>"
        else:
            attr = dense_attr(arr)
            if arr.size and not attr.startswith('dense<"') and not attr.startswith("dense<["):
                splat = arr.reshape(-1)[0]
        ty = tensor_type(aval)
        key = (attr, ty)
        ph = self.consts.get(key)
        if ph is None:
            ph = self.consts[key] = f"%k{self.n_placeholder}k"
            self.n_placeholder += 1
            self.pending[ph] = (f"stablehlo.constant {attr} : {ty}", aval.dtype, loc)
            if splat is not None and 0 not in aval.shape:
                self.splats[ph] = splat
        return ph

    def _flush(self, text):
        """Write out the pending constants that `text` uses, before it (in the order they
        were made: placeholders are numbered in that order)."""
        if "%k" not in text:
            return
        pending = self.pending
        used = {ph for ph in _PLACEHOLDER.findall(text) if ph in pending}
        if not used:
            return
        for ph in sorted(used, key=_placeholder_number) if len(used) > 1 else used:
            body, dt, loc = self.pending.pop(ph)
            self.const_base[ph] = "%cst" if (dtypes.is_float(dt) or dtypes.is_complex(dt)) else "%c"
            self.lines.append(f"{' ' * self.indent}{ph} = {body}{_loc(loc)}")

    def emit(self, text, n, loc):
        if self.pending:
            self._flush(text)
        pad = " " * self.indent
        if n == 0:
            self.lines.append(f"{pad}{text}{_loc(loc)}")
            return []
        name = self.fresh()
        if n == 1:
            self.lines.append(f"{pad}{name} = {text}{_loc(loc)}")
            return name
        self.lines.append(f"{pad}{name}:{n} = {text}{_loc(loc)}")
        return [f"{name}#{i}" for i in range(n)]

    def emit_return(self, text):
        """A terminator line (`return ...`): flushes the constants it returns."""
        if self.pending:
            self._flush(text)
        self.lines.append(" " * self.indent + text)

    def finish(self, text: str, n_args: int) -> str:
        """Final names, numbered in the order the definitions appear in `text`."""
        names = {}
        n_val = n_reg = 0
        n_const = {"%cst": 0, "%c": 0}
        for line in text.splitlines():
            m = _DEFINED.match(line)
            if m is not None:
                old = m.group(1)
                base = self.const_base.get(old)
                if base is not None:
                    i = n_const[base]
                    n_const[base] = i + 1
                    names[old] = base if i == 0 else f"{base}_{i - 1}"
                elif old[1:].isdigit():
                    names[old] = f"%{n_val}"
                    n_val += 1
            if "^bb" in line or " sdy.manual_computation(" in line:   # block arguments
                for old in _BLOCK_ARG.findall(line):
                    names[old] = f"%arg{n_args + n_reg}"
                    n_reg += 1
        parts = _RENAMED.split(text)   # text, name, text, name, ..., text
        get = names.get
        parts[1::2] = [get(p, p) for p in parts[1::2]]
        return "".join(parts)

    def region(self, args_avals, body_fn, result_avals, loc):
        saved = self.lines, self.indent, self.consts, self.bcasts, self.pending
        self.lines, self.consts, self.bcasts, self.pending = [], {}, {}, {}
        self.indent = saved[1] + 4
        try:
            args = []
            for a in args_avals:
                args.append(f"%r{self.counter}")
                self.counter += 1
            results = body_fn(args)
            types = ", ".join(tensor_type(a) for a in result_avals)
            if results:
                self.emit_return(f"stablehlo.return {', '.join(results)} : {types}{_loc(loc)}")
            else:
                self.emit_return(f"stablehlo.return{_loc(loc)}")
            body = self.lines
        finally:
            self.lines, self.indent, self.consts, self.bcasts, self.pending = saved
        if not args_avals:   # a region without block arguments (the branches of a case)
            return "{\n" + "\n".join(body) + "\n" + " " * self.indent + "}"
        head = " " * (self.indent + 2) + "^bb0(" + ", ".join(
            f"{n}: {tensor_type(a)}" for n, a in zip(args, args_avals)) + "):"
        return "{\n" + head + "\n" + "\n".join(body) + "\n" + " " * self.indent + "}"

    def lower_body(self, graph: Graph, arg_names, const_names=(), const_values=None):
        """Emit the equations of `graph`; returns the names of its outputs.

        `const_names` name the graph's constvars; where `const_values` has an array for a
        constvar instead, it is emitted as a `stablehlo.constant` where first used."""
        env = {}
        lazy = {}
        if const_values is not None:
            for v, val in zip(graph.constvars, const_values):
                lazy[v] = val
        for v, n in zip(graph.constvars, const_names):
            env[v] = n
        for v, n in zip(graph.invars, arg_names):
            env[v] = n
        lit_cache: dict = {}
        loc = None

        def read(v):
            if type(v) is Literal:
                a = v.aval   # the constant depends on the shape and dtype, not weak_type
                key = (a.shape, a.dtype, type(v.val), repr(v.val))
                n = lit_cache.get(key)
                if n is None:
                    n = lit_cache[key] = self.const(np.asarray(v.val, v.aval.dtype), v.aval, loc)
                return n
            n = env.get(v)
            if n is None:
                n = env[v] = self.const(np.asarray(lazy[v], v.aval.dtype), v.aval, loc)
            return n

        typed = getattr(result_shardings, "fn", None)   # set while lowering for several devices
        for eqn in graph.eqns:
            rule = lowering_rules.get(eqn.prim)
            if rule is None:
                raise NotImplementedError(f"no StableHLO lowering rule for primitive '{eqn.prim.name}'")
            loc = eqn.source
            ctx = LoweringContext(self, list(map(_get_aval, eqn.invars)), list(map(_get_aval, eqn.outvars)), loc)
            outs = rule(ctx, *map(read, eqn.invars), **eqn.params)
            if not eqn.prim.multiple_results:
                outs = [outs]
            if typed is not None:
                outs = typed(ctx, eqn, outs)
            for v, n in zip(eqn.outvars, outs):
                env[v] = n
        return [read(v) for v in graph.outvars]


_get_aval = operator.attrgetter("aval")

# `.fn(ctx, eqn, outs) -> outs`: lowering/rules_sharding.py's, while xlafront/_sharded_jit.py
# lowers a program for several devices: results typed with a sharding (Explicit mesh axes)
# are constrained to it.
result_shardings = threading.local()


class ModuleBuilder:
    def __init__(self, name: str):
        self.name = symbol(name)
        self.funcs: list[str] = []
        self.func_names: dict = {}   # id(graph) -> symbol
        self.used_names: set = {"main"}
        self._keep: list = []

    def function(self, name: str, graph: Graph, public: bool, arg_attrs=None, const_avals=(),
                 inline_consts=None):
        """Emit `graph` as a func.func. const_avals become leading arguments."""
        fb = FunctionBuilder(self)
        in_avals = list(const_avals) + [v.aval for v in graph.invars]
        args = [f"%arg{i}" for i in range(len(in_avals))]
        const_names = list(args[:len(const_avals)])
        const_values = None
        if inline_consts:
            # small consts become constants where first used; the others are arguments
            const_names, const_values = [], []
            ai = iter(args[:len(const_avals)])
            for val in inline_consts:
                const_names.append(next(ai) if val is None else None)
                const_values.append(val)
        outs = fb.lower_body(graph, args[len(const_avals):], const_names, const_values)
        out_avals = graph.out_avals
        sig_in = ", ".join(f"{a}: {tensor_type(t)}" for a, t in zip(args, in_avals))
        res_types = ", ".join(tensor_type(a) for a in out_avals)
        vis = "public" if public else "private"
        fb.emit_return(f"return {', '.join(outs)} : {res_types}" if outs else "return")
        lines = [f"  func.func {vis} @{name}({sig_in}) -> ({res_types}) {{", *fb.lines, "  }"]
        self.funcs.append(fb.finish("\n".join(lines), len(in_avals)))

    def call_graph(self, ctx: LoweringContext, graph, name, args):
        """`func.call` of `graph` (a Graph, or a ClosedGraph whose consts are then embedded
        as constants of the callee), emitted once per module as `func.func private`."""
        g = graph.graph if isinstance(graph, ClosedGraph) else graph
        inline = None
        if g.constvars:
            inline = [c._value_for_inline() if hasattr(c, "_value_for_inline") else np.asarray(c)
                      for c in graph.consts]
            g_key = graph
        else:
            g_key = g
        sym = self.func_names.get(id(g_key))
        if sym is None:
            base = symbol(name)
            sym, i = base, 0
            while sym in self.used_names:
                i += 1
                sym = f"{base}_{i}"
            self.used_names.add(sym)
            self.func_names[id(g_key)] = sym
            self._keep.append(g_key)   # ids stay unique while the module is built
            self.function(sym, g, public=False, inline_consts=inline)
        in_t = ", ".join(tensor_type(a) for a in ctx.avals_in)
        out_t = ", ".join(tensor_type(a) for a in ctx.avals_out)
        n = len(ctx.avals_out)
        res = ctx.emit(f"func.call @{sym}({', '.join(args)}) : ({in_t}) -> ({out_t})", n=n)
        return [res] if n == 1 else res

    def text(self) -> str:
        head = (f"module @{self.name} attributes {{mhlo.num_partitions = 1 : i32, "
                f"mhlo.num_replicas = 1 : i32}} {{")
        return "\n".join([head, *self.funcs, "}"]) + "\n"


def split_consts(graph: Graph, consts, inline_limit: int = 64):
    """(inlined values or None per const, the consts passed as arguments, their avals)."""
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
    return inline, arg_consts, arg_avals


def lower_graph(name: str, graph: Graph, consts=(), inline_limit: int = 64) -> tuple[str, list]:
    """StableHLO module text for `graph`, named `@jit_<name>`.

    Returns (text, consts passed as arguments). Constants with at most `inline_limit`
    elements are inlined as `dense<...>`; larger ones become leading arguments.
    """
    mb = ModuleBuilder(f"jit_{name}")
    inline, arg_consts, arg_avals = split_consts(graph, consts, inline_limit)
    mb.function("main", graph, public=True, const_avals=arg_avals, inline_consts=inline if consts else None)
    # main must come first for readability
    mb.funcs.insert(0, mb.funcs.pop())
    return mb.text(), arg_consts


def annotate_shardings(text: str, arg_shardings, result_shardings, num_partitions: int,
                       sdy_meshes=None) -> str:
    """`text` (lower_graph's module) for XLA's SPMD partitioner: `@main`'s arguments and
    results get `mhlo.sharding` attributes (an HloSharding's text, e.g.
    "{devices=[4,1,2]<=[8] last_tile_dim_replicate}"; None leaves one unannotated, for
    XLA to choose) and the module `mhlo.num_partitions = N`. With `sdy_meshes` (the
    `sdy.mesh` declarations, for Shardy) the shardings are sdy's (`<@mesh, [{"x"}, {}]>`)
    and become `sdy.sharding = #sdy.sharding<...>` attributes."""
    head = "mhlo.num_partitions = 1 : i32"
    text = text.replace(head, f"mhlo.num_partitions = {int(num_partitions)} : i32", 1)
    if sdy_meshes is not None:
        first = text.index("\n") + 1
        text = text[:first] + "".join(d + "\n" for d in sdy_meshes) + text[first:]

    def attr(s):
        return f"{{sdy.sharding = #sdy.sharding{s}}}" if sdy_meshes is not None else f'{{mhlo.sharding = "{s}"}}'
    start = text.index("func.func public @main(")
    end = text.index("\n", start)
    line = text[start:end]
    arrow = line.rindex(") -> (")
    params, results = line[:arrow], line[arrow:]

    def arg(m):
        s = arg_shardings[int(m.group(2))]
        return m.group(1) if s is None else f'{m.group(1)} {attr(s)}'
    params = re.sub(r"(%arg(\d+): tensor<[^>]*>)", arg, params)
    res_open = len(") -> (")
    res_close = results.rindex(") {")
    types = [t for t in results[res_open:res_close].split(", ") if t]
    types = [t if s is None else f'{t} {attr(s)}' for t, s in zip(types, result_shardings)]
    line = f"{params}) -> ({', '.join(types)}) {{"
    return text[:start] + line + text[end:]
