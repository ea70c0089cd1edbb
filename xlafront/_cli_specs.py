"""Argument specs and targets of `python -m xlafront dump|compare`.

A spec list (`--args`) is comma-separated entries: `f32[3,4]` (a ShapeDtypeStruct), a
tuple/list/dict of specs (a pytree of them), `@file.npz` (the arrays in the file, in
order, as real values) or any other Python literal (a static positional argument).
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import sys

_SPEC = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*\[\s*([0-9,\s]*)\]\s*$")


class SpecError(ValueError):
    """A malformed --args/--static entry."""


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets, parentheses or braces."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced brackets in {text!r}")
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise SpecError(f"unbalanced brackets in {text!r}")
    last = "".join(cur).strip()
    if last or parts:
        parts.append(last)
    return parts


def _dtype_of(name: str):
    from xlafront import dtypes
    import numpy as np
    dt = dtypes.from_short_name.get(name)
    if dt is None:
        try:
            dt = np.dtype(getattr(dtypes, name)) if hasattr(dtypes, name) else np.dtype(name)
        except TypeError:
            dt = None
    if dt is None or dt not in dtypes.supported_dtypes:
        known = ", ".join(n for n in dtypes.from_short_name if n != "float0")
        raise SpecError(f"unknown dtype {name!r} (use one of: {known}; or a numpy name like float32)")
    return dt


class Static:
    """A static argument of `dump` (a Python literal in --args)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Static({self.value!r})"


_SPEC_IN_TEXT = re.compile(r"(?<![\w'\"])([A-Za-z][A-Za-z0-9_]*)\s*\[([^\[\]]*)\]")


def _shape_spec(entry: str, m):
    from xlafront.api import ShapeDtypeStruct
    dims = [d.strip() for d in m.group(2).split(",")] if m.group(2).strip() else []
    if any(not d.isdigit() for d in dims):
        raise SpecError(f"cannot read argument spec {entry!r}: dimensions must be non-negative integers")
    return ShapeDtypeStruct(tuple(int(d) for d in dims), _dtype_of(m.group(1)))


def parse_arg(entry: str):
    """One --args entry: a shape spec `f32[3,4]` -> ShapeDtypeStruct; a tuple, list or dict
    of specs (`{'w': f32[3,3], 'b': f32[3]}`) -> that pytree of ShapeDtypeStructs; any
    other Python literal -> Static(value)."""
    if not entry:
        raise SpecError("empty entry in --args (two commas in a row, or a trailing comma?)")
    m = _SPEC.match(entry)
    if m:
        return _shape_spec(entry, m)
    if entry[0] in "([{":
        found = []

        def placeholder(m):
            found.append(m)
            return repr(f"\0spec{len(found) - 1}")

        text = _SPEC_IN_TEXT.sub(placeholder, entry)
        if found:
            try:
                tree = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise SpecError(f"cannot read argument spec {entry!r}: expected a tuple, list or dict "
                                f"of DTYPE[DIMS] specs") from None

            def fill(v):
                if isinstance(v, str) and v.startswith("\0spec"):
                    return _shape_spec(entry, found[int(v[5:])])
                if isinstance(v, (tuple, list)):
                    return type(v)(fill(x) for x in v)
                if isinstance(v, dict):
                    return {k: fill(x) for k, x in v.items()}
                return v
            return fill(tree)
    try:
        return Static(ast.literal_eval(entry))
    except (ValueError, SyntaxError):
        raise SpecError(f"cannot read argument spec {entry!r}: expected DTYPE[DIMS] such as f32[3,4] "
                        f"or f32[] for a scalar, or a Python literal for a static argument") from None


def parse_args_spec(text: str):
    return [parse_arg(e) for e in split_top_level(text)] if text.strip() else []


def parse_static(items):
    out = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        if not eq or not name.strip().isidentifier():
            raise SpecError(f"bad --static {item!r}: expected NAME=VALUE with a Python literal VALUE")
        try:
            out[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            # a bare word is taken as a string (`--static activation=relu`)
            out[name.strip()] = value.strip()
    return out


def load_function(target: str):
    """`pkg.module:function` (or `path/to/file.py:function`; dots after the colon walk
    attributes) -> the function."""
    modname, colon, attr = target.partition(":")
    if not colon or not modname or not attr:
        raise SpecError(f"bad target {target!r}: expected pkg.module:function")
    if modname.endswith(".py") or os.sep in modname:
        path = os.path.abspath(modname)
        if not os.path.exists(path):
            raise SpecError(f"no file {modname!r}")
        sys.path.insert(0, os.path.dirname(path))
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name and modname.startswith(e.name):
                raise SpecError(f"cannot import module {modname!r}: {e}") from None
            raise
    return _attribute(module, modname, attr, target)


def load_npz(entry: str) -> list:
    """`@file.npz` -> the file's arrays (numpy), in the order they were saved."""
    import numpy as np
    path = entry[1:].strip()
    if not path:
        raise SpecError("empty file name after '@' in --args")
    if not os.path.exists(path):
        raise SpecError(f"no file {path!r} (from --args {entry!r})")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[k] for k in data.files]
    except Exception as e:  # a corrupt file, a pickle, not a zip
        raise SpecError(f"cannot read {path!r} as .npz: {e}") from None
    for a in arrays:
        _dtype_of(a.dtype.name)
    return arrays


def parse_entries(text: str) -> list:
    """--args -> entries: ShapeDtypeStruct pytrees, Static literals and numpy arrays
    (from `@file.npz`)."""
    out = []
    for e in (split_top_level(text) if text.strip() else []):
        if e.startswith("@"):
            out.extend(load_npz(e))
        else:
            out.append(parse_arg(e))
    return out


def load_target(target: str, fresh: bool = True):
    """`pkg.module:function` -> the function, its module executed afresh (not the one in
    sys.modules: the module binds `jax` when it runs, and dump/compare run it once per
    library). A file path target is always executed afresh."""
    modname, colon, attr = target.partition(":")
    if not fresh or not colon or not modname or not attr or modname.endswith(".py") or os.sep in modname:
        return load_function(target)
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(modname)
    except ModuleNotFoundError as e:
        raise SpecError(f"cannot import module {modname!r}: {e}") from None
    if spec is None or spec.loader is None:
        raise SpecError(f"cannot import module {modname!r}: No module named {modname!r}")
    module = importlib.util.module_from_spec(spec)
    old = sys.modules.get(modname)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if old is not None:
            sys.modules[modname] = old
        else:
            sys.modules.pop(modname, None)
    return _attribute(module, modname, attr, target)


def _attribute(module, modname, attr, target):
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpecError(f"module {modname!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise SpecError(f"{target!r} is a {type(obj).__name__}, not a function")
    return obj
