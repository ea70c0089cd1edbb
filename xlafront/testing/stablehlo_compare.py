"""Structural comparison of the StableHLO that xlafront and JAX emit for one function.

    from xlafront.testing import compare_stablehlo
    cmp = compare_stablehlo(f, x, y)     # f written against xlafront (as compare_with_jax)
    print(cmp)                           # op histogram side by side
    cmp.rows                             # [(op, count in xlafront, count in jax), ...]
    print(cmp.diff)                      # unified diff of the normalized texts

`op_histogram`, `normalize` and `compare_texts` work on texts alone (JAX-free); only
`compare_stablehlo` imports JAX (lazily), to lower the JAX copy of `f`.
"""
from __future__ import annotations

import collections
import dataclasses
import difflib
import re

__all__ = ["using", "compare_texts", "op_histogram", "normalize", "StableHLOComparison"]

# An operation at the start of a statement: `%0 = stablehlo.add ...`, `%1:2 = "stablehlo.while"(...)`,
# `stablehlo.return ...`, `func.func private @f(...)`, `return ...` (func.return's short form),
# `call @f(...)` (func.call's).
_OP = re.compile(r'^\s*(?:%[\w#.:]+(?:\s*,\s*%[\w#.:]+)*\s*=\s*)?"?([a-z_][a-z0-9_]*\.[a-z0-9_.]+|return|call)\b"?')
_SHORT = {"return": "func.return", "call": "func.call"}
_LOC_DEF = re.compile(r"^#loc\d*\s*=")
_DENSE = re.compile(r"dense<([^<>]*)>")
_FLOAT = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")


def _canonical_dense(m):
    """Float literals in `dense<...>` written one way (`0.0` and `0.000000e+00` alike)."""
    return "dense<" + _FLOAT.sub(lambda f: repr(float(f.group(0))), m.group(1)) + ">"


_SSA = re.compile(r"%[A-Za-z_][\w.$-]*|%\d+(?::\d+)?(?:#\d+)?")


def op_histogram(text: str) -> collections.Counter:
    """How many of each operation (`stablehlo.add`, `func.call`, ...) a StableHLO module
    holds, counted one per statement (ops nested in regions included; `module` and the
    `#loc` definitions not)."""
    counts = collections.Counter()
    for line in text.splitlines():
        if _LOC_DEF.match(line) or line.lstrip().startswith(("module", "}")):
            continue
        m = _OP.match(line)
        if m:
            name = _SHORT.get(m.group(1), m.group(1))
            if name.startswith("loc"):
                continue
            counts[name] += 1
    return counts


def _strip_locs(line: str) -> str:
    """`line` without its `loc(...)` attributes (balanced parentheses)."""
    out, i = [], 0
    while True:
        j = line.find("loc(", i)
        if j < 0 or (j > 0 and (line[j - 1].isalnum() or line[j - 1] in "_.#")):
            if j < 0:
                out.append(line[i:])
                break
            out.append(line[i:j + 4])
            i = j + 4
            continue
        out.append(line[i:j].rstrip())
        depth, k = 0, j + 3
        while k < len(line):
            depth += (line[k] == "(") - (line[k] == ")")
            k += 1
            if depth == 0:
                break
        i = k
    return "".join(out)


def normalize(text: str) -> str:
    """`text` without locations (`loc(...)`, `#loc` lines), JAX's result_info attributes
    and with SSA names renumbered in order of first appearance (`%arg0` stays), so that
    two lowerings of one function differ only where their programs do."""
    names: dict = {}

    def rename(m):
        tok = m.group(0)
        if tok.startswith("%arg"):
            return tok
        base = tok.split("#")[0]
        if ":" in base and base[1:].split(":")[0].isdigit():   # %0:2 (a multi-result definition)
            head, _, n = base.partition(":")
            return names.setdefault(head, f"%v{len(names)}") + ":" + n
        return names.setdefault(base, f"%v{len(names)}") + ("#" + tok.split("#")[1] if "#" in tok else "")

    lines = []
    for line in text.splitlines():
        if _LOC_DEF.match(line) or not line.strip():
            continue
        line = _strip_locs(line)
        line = re.sub(r"\s*\{jax\.result_info = [^}]*\}", "", line)
        line = _DENSE.sub(_canonical_dense, line)
        lines.append(_SSA.sub(rename, line.rstrip()))
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class StableHLOComparison:
    """Op histograms of two StableHLO programs side by side, and a diff of their texts."""
    name: str
    ours: collections.Counter      # op -> count in xlafront's program
    theirs: collections.Counter    # op -> count in JAX's program
    text: str                      # xlafront's StableHLO
    jax_text: str                  # JAX's StableHLO

    @property
    def rows(self) -> list:
        """[(op, xlafront count, jax count)], ops sorted by name."""
        return [(op, self.ours.get(op, 0), self.theirs.get(op, 0))
                for op in sorted(set(self.ours) | set(self.theirs))]

    @property
    def differing(self) -> list:
        """The rows whose counts differ."""
        return [r for r in self.rows if r[1] != r[2]]

    @property
    def same_histogram(self) -> bool:
        return not self.differing

    @property
    def total_difference(self) -> int:
        """The sum over ops of |xlafront count - jax count|."""
        return sum(abs(a - b) for _, a, b in self.rows)

    @property
    def diff(self) -> str:
        """A unified diff of both texts, normalized (see `normalize`); '' when equal."""
        return "".join(difflib.unified_diff(normalize(self.text).splitlines(True),
                                            normalize(self.jax_text).splitlines(True),
                                            "xlafront", "jax"))

    def table(self) -> str:
        width = max([len(op) for op, _, _ in self.rows] + [len("op")])
        lines = [f"  {'op':<{width}}  xlafront | jax"]
        for op, a, b in self.rows:
            mark = "" if a == b else "   <"
            lines.append(f"  {op:<{width}}  {a:>8} | {b:<3}{mark}".rstrip())
        lines.append(f"  {'total':<{width}}  {sum(self.ours.values()):>8} | {sum(self.theirs.values())}")
        return "\n".join(lines)

    def __str__(self):
        same = "same op histogram" if self.same_histogram else \
            (f"{len(self.differing)} op differs" if len(self.differing) == 1 else f"{len(self.differing)} ops differ") \
            + f" in count (total difference {self.total_difference})"
        return f"StableHLO of {self.name}: {same}\n" + self.table()

    __repr__ = __str__


def compare_texts(text: str, jax_text: str, name: str = "f") -> StableHLOComparison:
    """Compare two StableHLO texts (xlafront's first)."""
    return StableHLOComparison(name, op_histogram(text), op_histogram(jax_text), text, jax_text)


def using(to_jax, array_to_jax):
    """`compare_stablehlo`, given how to turn a function and an Array into JAX's (the
    package's `to_jax` and `_array_to_jax`, passed in by xlafront/testing/__init__.py so
    that this module never imports the package back)."""

    def to_jax_arg(x):
        import jax
        from xlafront.api import ShapeDtypeStruct
        from xlafront.array import ArrayImpl
        if isinstance(x, ShapeDtypeStruct):
            return jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=x.weak_type)
        return array_to_jax(x) if isinstance(x, ArrayImpl) else x

    def compare_stablehlo(f, *args, static_argnums=(), **kwargs) -> StableHLOComparison:
        """Lower `f(*args, **kwargs)` with xlafront's jit and JAX's (`f` written against
        xlafront and swapped to JAX as in `compare_with_jax`; arguments may be arrays or
        ShapeDtypeStructs; keyword arguments are static) and compare the two StableHLO
        programs: op histograms (`.rows`, `.differing`) and the normalized diff (`.diff`)."""
        import jax
        import xlafront as xf
        from xlafront import tree_util
        from xlafront.config import config

        static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        names = tuple(kwargs)
        inner = f.fun if isinstance(f, xf.api.Jitted) else f
        text = xf.jit(inner, static_argnums=static_argnums, static_argnames=names).lower(*args, **kwargs).as_text()
        jf = to_jax(inner)
        jargs = tree_util.tree_map(to_jax_arg, list(args))
        old = jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", bool(config.x64))
        try:
            jtext = jax.jit(jf, static_argnums=static_argnums or None, static_argnames=names or None) \
                .lower(*jargs, **kwargs).as_text()
        finally:
            jax.config.update("jax_enable_x64", old)
        name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or type(f).__name__
        return compare_texts(text, jtext, name)
    return compare_stablehlo
