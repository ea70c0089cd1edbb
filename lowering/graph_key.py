"""A persistent-cache key for a traced program, computed before it is lowered.

`graph_key(name, graph, consts, inline_limit)` hashes everything the StableHLO text of
`lower_graph(name, graph, consts, inline_limit)` is made from, so that a second process
can find its executable on disk without lowering the program first:

* the program's name and `inline_limit`;
* the graph, walked in order: every equation's primitive (by name; the primitive must be
  the only registered one of that name) and its lowering rule (which must be one of
  xlafront's functions: by module, qualified name and what its closure holds -- op names,
  primitives, other xlafront functions; a rule registered from elsewhere makes no key),
  its params, its operands and results (variables numbered by first appearance, with their
  avals; literals by type and exact value), and its source location (file, line, column);
* params of the plain types below only: bool/int/float/complex (floats by their bits),
  str, bytes, None, tuples/lists/dicts of them, xlafront's named tuples and enums, numpy
  dtypes, numpy scalars and arrays (dtype, shape and a SHA-256 of every byte), avals,
  nested graphs and closed graphs (their consts by content too; a graph object met twice is
  written as a reference to the first, as the emitter emits it once and calls it twice).
  Any other object (a Python function, say) makes the program unkeyable: `graph_key`
  returns None and the caller lowers first, as before;
* the graph's consts: those lowering inlines (at most `inline_limit` elements) by dtype,
  shape and content; the others only by aval, as lowering passes them as arguments and
  their values never reach the text;
* a SHA-256 of every source file of xlafront (xlafront/, lowering/, transforms/: path, size
  and modification time, as Python checks its .pyc files), its
  version and numpy's (constants are formatted with numpy).

The caller adds the backend's identity (runtime._cache_key's header).
"""
from __future__ import annotations

import enum
import hashlib
import os
import struct

import numpy as np

from xlafront.core import ClosedGraph, Graph, Literal, Primitive, ShapedArray, SourceInfo, Var, remember
from xlafront.lowering.emitter import split_consts
from xlafront.lowering.registry import lowering_rules


class _Unkeyable(Exception):
    pass


_source_hash = None


def source_hash() -> str:
    """SHA-256 of xlafront's source files (paths, sizes and modification times), once per
    process: an edited source file gives new keys."""
    global _source_hash
    if _source_hash is None:
        import importlib.util
        from xlafront._version import __version__
        # the packages' folders from their specs: this module sits below xlafront/__init__
        # and needs only where the sources are, not the packages' code
        h = hashlib.sha256(f"xlafront {__version__}\0numpy {np.__version__}\0".encode())
        for name in ("xlafront", "xlafront.lowering", "xlafront.transforms"):
            for top in importlib.util.find_spec(name).submodule_search_locations:
                for root, dirs, files in os.walk(top):
                    dirs.sort()
                    for f in sorted(files):
                        if f.endswith(".py"):   # by size and modification time, as Python's
                            p = os.path.join(root, f)   # own .pyc files are checked (~2 ms, not ~15)
                            st = os.stat(p)
                            h.update(f"{name}:{p[len(top):]}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _source_hash = h.hexdigest()
    return _source_hash


_by_name: dict = {}
_by_name_len = -1


def _check_primitive(prim):
    global _by_name, _by_name_len
    if len(lowering_rules) != _by_name_len:
        names: dict = {}
        for p in list(lowering_rules):
            names[p.name] = None if p.name in names else p
        _by_name, _by_name_len = names, len(lowering_rules)
    rule = lowering_rules.get(prim)
    if rule is None or _by_name.get(prim.name) is not prim:
        raise _Unkeyable(prim.name)
    ident = _rule_ids.get(rule)
    if ident is None:
        ident = _rule_ids[rule] = _function_identity(rule, 0)
    return ident


_rule_ids: dict = {}   # rule -> its identity text


def _function_identity(fn, depth):
    """module.qualname of one of xlafront's functions, with what its closure holds (the
    primitive or op name a rule factory made it for); raises _Unkeyable for anything else."""
    module = getattr(fn, "__module__", None) or ""
    if type(fn).__name__ != "function" or not module.startswith("xlafront.") or depth > 3:
        raise _Unkeyable(repr(fn))   # e.g. a rule registered from outside xlafront
    parts = [f"{module}.{fn.__qualname__}"]
    for cell in fn.__closure__ or ():
        c = cell.cell_contents
        t = type(c)
        if c is None or t is bool or t is int or t is str:
            parts.append(f"{t.__name__[0]}{c!r}")
        elif t is Primitive:
            if _by_name.get(c.name, c) is not c:
                raise _Unkeyable(c.name)
            parts.append(f"P{c.name!r}")
        elif t.__name__ == "function":
            parts.append(_function_identity(c, depth + 1))
        else:
            raise _Unkeyable(t.__name__)
    return "[" + ",".join(parts) + "]"


_dtype_texts: dict = {}  # dtype (or scalar type) -> "name/str"
_aval_texts: dict = {}   # aval -> its text (ShapedArray compares shape, dtype, weak_type)


class _Encoder:
    def __init__(self):
        self.parts: list = []
        self.vars: dict = {}     # id(var) -> number
        self.graphs: dict = {}   # id(graph or closed graph) -> number
        self.keep: list = []     # keeps ids unique while encoding

    def var(self, v):
        out = self.parts.append
        if type(v) is Literal:
            out("L")
            self.aval(v.aval)
            self.value(v.val)
            return
        if type(v) is not Var:
            raise _Unkeyable(type(v).__name__)
        n = self.vars.get(id(v))
        if n is None:
            n = self.vars[id(v)] = len(self.vars)
            self.keep.append(v)
            out(f"v{n}")
            self.aval(v.aval)
        else:
            out(f"v{n}")

    def aval(self, a):
        if type(a) is not ShapedArray:
            raise _Unkeyable(type(a).__name__)
        text = _aval_texts.get(a)
        if text is None:
            text = remember(_aval_texts, a, f"A{a.shape!r}{self._dtype(a.dtype)}{int(a.weak_type)}")
        self.parts.append(text)

    @staticmethod
    def _dtype(dt):
        text = _dtype_texts.get(dt)
        if text is None:
            d = np.dtype(dt)
            text = _dtype_texts[dt] = f"{d.name}/{d.str}"
        return text

    def array(self, arr):
        arr = np.ascontiguousarray(arr)
        self.parts.append(f"N{self._dtype(arr.dtype)}{arr.shape!r}"
                          f"{hashlib.sha256(arr.tobytes()).hexdigest()}")

    def graph(self, g):
        out = self.parts.append
        n = self.graphs.get(id(g))
        if n is not None:
            out(f"G@{n}")
            return
        self.graphs[id(g)] = len(self.graphs)
        self.keep.append(g)
        if type(g) is ClosedGraph:
            out("CG(")
            self.graph(g.graph)
            out(f"consts{len(g.consts)}")
            for c in g.consts:   # inlined into the callee as the emitter reads them
                if hasattr(c, "_value_for_inline"):
                    self.array(np.asarray(c._value_for_inline()))
                elif isinstance(c, (np.ndarray, np.generic)):
                    self.array(np.asarray(c))
                else:
                    self.value(c)
            out(")")
            return
        if type(g) is not Graph:
            raise _Unkeyable(type(g).__name__)
        out(f"G(c{len(g.constvars)}")
        for v in g.constvars:
            self.var(v)
        out(f"i{len(g.invars)}")
        for v in g.invars:
            self.var(v)
        out(f"e{len(g.eqns)}")
        for e in g.eqns:
            prim = e.prim
            rule = _check_primitive(prim)
            out(f"E{prim.name}:{rule}:{len(e.invars)}")
            for v in e.invars:
                self.var(v)
            out(f"o{len(e.outvars)}")
            for v in e.outvars:
                self.var(v)
            self.value(e.params)
            src = e.source
            if src is None:
                out("S-")
            elif type(src) is SourceInfo:
                out(f"S{src.file!r}:{src.line!r}:{src.col!r}")
            else:
                raise _Unkeyable(type(src).__name__)
        out(f"o{len(g.outvars)}")
        for v in g.outvars:
            self.var(v)
        out(")")

    def value(self, x):
        out = self.parts.append
        t = type(x)
        if x is None:
            out("None")
        elif t is bool or t is int or t is str:
            out(f"{t.__name__[0]}{x!r}")
        elif t is float:
            out(f"f{struct.pack('<d', x).hex()}")
        elif t is complex:
            out(f"c{struct.pack('<dd', x.real, x.imag).hex()}")
        elif t is bytes:
            out(f"b{x.hex()}")
        elif t is tuple or t is list:
            out(f"{'T' if t is tuple else 'l'}{len(x)}(")
            for y in x:
                self.value(y)
            out(")")
        elif t is dict:
            out(f"D{len(x)}(")
            for k, y in x.items():
                self.value(k)
                self.value(y)
            out(")")
        elif t is np.ndarray:
            self.array(x)
        elif isinstance(x, np.generic):   # a numpy scalar: its dtype and bytes
            out(f"s{t.__module__}.{t.__qualname__}/{self._dtype(x.dtype)}/{x.tobytes().hex()}")
        elif isinstance(x, np.dtype):
            out(f"d{self._dtype(x)}")
        elif t is ShapedArray:
            self.aval(x)
        elif t is Graph or t is ClosedGraph:
            self.graph(x)
        elif isinstance(x, enum.Enum) and t.__module__.startswith("xlafront."):
            out(f"e{t.__module__}.{t.__qualname__}.{x.name}")
        elif isinstance(x, tuple) and hasattr(t, "_fields") and t.__module__.startswith("xlafront."):
            out(f"n{t.__module__}.{t.__qualname__}{len(x)}(")
            for y in x:
                self.value(y)
            out(")")
        elif isinstance(x, type) and issubclass(x, np.generic):   # a scalar type as a dtype
            out(f"t{self._dtype(x)}")
        else:
            raise _Unkeyable(t.__name__)


def graph_key(name: str, graph: Graph, consts=(), inline_limit: int = 64):
    """A hex key that determines `lower_graph(name, graph, consts, inline_limit)`'s text, or
    None where the program holds something this key cannot vouch for."""
    enc = _Encoder()
    try:
        enc.parts.append(f"{source_hash()}\0{name!r}\0{inline_limit}\0")
        enc.graph(graph)
        inline, _, _ = split_consts(graph, consts, inline_limit)   # as lower_graph splits them
        enc.parts.append(f"k{len(inline)}")
        for v, arr in zip(graph.constvars, inline):
            if arr is not None:
                enc.parts.append("inline")
                enc.array(arr)
            else:
                enc.parts.append("arg")
                enc.aval(v.aval)
    except _Unkeyable:
        return None
    except Exception:   # anything odd: no key (lowering, which comes next, reports real errors)
        return None
    return hashlib.sha256("\0".join(enc.parts).encode()).hexdigest()
