"""Command line: `python -m xlafront dump ...` and `python -m xlafront run ...`.

    python -m xlafront dump pkg.module:function --args 'f32[3],f32[3,3]' [-o out.mlir]
        Print (or write) the StableHLO text of jit(function) for arguments of those
        shapes and dtypes. An entry may be a pytree of specs (`{'w': f32[3,3], 'b':
        f32[3]}`); an entry that is a Python literal (`3`, `True`, `'relu'`, `(1, 2)`)
        is passed as a static positional argument; --static NAME=VALUE passes a static
        keyword argument.

    python -m xlafront run script.py [args ...]
        Run an unmodified JAX script on xlafront: `import jax`, `import jax.numpy as
        jnp`, ... resolve to xlafront's modules; a name xlafront lacks is reported
        with the place that used it.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.abc
import importlib.util
import os
import re
import runpy
import sys
import traceback
import types

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
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpecError(f"module {modname!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise SpecError(f"{target!r} is a {type(obj).__name__}, not a function")
    return obj


def dump(target: str, args_spec: str, static=(), output=None, x64=False) -> str:
    """The StableHLO text of jit(target) for the given argument spec."""
    import xlafront as xf
    from xlafront import dtypes
    parsed = parse_args_spec(args_spec)
    kwargs = parse_static(static)
    wide = (dtypes.int64, dtypes.uint64, dtypes.float64, dtypes.complex128)
    wants_x64 = x64 or any(getattr(leaf, "dtype", None) in wide
                           for leaf in xf.tree_util.tree_leaves([p for p in parsed if not isinstance(p, Static)]))
    if wants_x64:
        xf.config.update("jax_enable_x64", True)
    fun = load_function(target)
    static_argnums = tuple(i for i, p in enumerate(parsed) if isinstance(p, Static))
    call_args = [p.value if isinstance(p, Static) else p for p in parsed]
    is_jitted = isinstance(fun, xf.api.Jitted)
    jitted = fun if is_jitted and not static_argnums and not kwargs else \
        xf.jit(fun.fun if is_jitted else fun, static_argnums=static_argnums, static_argnames=tuple(kwargs))
    text = jitted.lower(*call_args, **kwargs).as_text()
    if output:
        with open(output, "w") as f:
            f.write(text)
    return text


# ----------------------------------------------------------------------------- run
# `python -m xlafront run script.py`: every `jax` / `jax.*` module the script (or a module
# it imports) asks for is served by the xlafront module of the same path, wrapped in a
# proxy module named `jax...` so that `jax.__name__`, `jax.numpy is jnp`, submodule
# attributes and error messages read as JAX's. A JAX name xlafront lacks raises
# `NotImplementedYetError` (an AttributeError) or, for imports, a ModuleNotFoundError,
# both naming the JAX name and the script's file:line.
from xlafront import _missing  # noqa: E402

_PROXY_SKIP = frozenset({"__name__", "__spec__", "__loader__", "__file__", "__package__", "__cached__",
                         "__builtins__", "__getattr__", "__dir__", "__path__"})


def _make_proxy(jax_name: str, real: types.ModuleType) -> types.ModuleType:
    """A module named `jax...` holding xlafront's module's names."""
    proxy = types.ModuleType(jax_name, real.__doc__)
    ns = proxy.__dict__
    for k, v in vars(real).items():
        # xlafront submodules are served as proxies too (through __getattr__ -> import)
        if k in _PROXY_SKIP or (isinstance(v, types.ModuleType) and v.__name__.startswith("xlafront")):
            continue
        ns[k] = v
    # Every proxy is a package, so that `from jax.random import missing` asks our finder
    # (which explains) instead of failing with Python's bare "cannot import name".
    ns["__path__"] = []
    # `from jax.numpy import missing` in Python's own messages names xlafront's file
    ns["__file__"] = getattr(real, "__file__", None)
    ns["__xlafront_module__"] = real

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {jax_name!r} has no attribute {name!r}", name=name, obj=proxy)
        try:
            v = getattr(real, name)
        except AttributeError:
            v = None
        else:
            if not isinstance(v, types.ModuleType):
                return v
        # a submodule (imported or not yet): its `jax...` proxy
        try:
            return importlib.import_module(f"{jax_name}.{name}")
        except ModuleNotFoundError as e:
            if getattr(e, "jax_name", None) != f"{jax_name}.{name}":
                raise
        if v is not None:  # a module under another name (e.g. an alias of a private module)
            return v
        raise _missing.missing_attribute(real.__name__, name, proxy, shown_as=jax_name)

    def __dir__():
        return sorted(set(ns) | set(dir(real)))

    ns["__getattr__"] = __getattr__
    ns["__dir__"] = __dir__
    return proxy


class _JaxAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve `jax` and `jax.*` imports to xlafront's modules (wrapped in proxies)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "jax" and not fullname.startswith("jax."):
            return None
        real_name = "xlafront" + fullname[3:]
        try:
            real = importlib.import_module(real_name)
        except ModuleNotFoundError as e:
            if e.name and real_name.startswith(e.name):
                raise _missing.missing_module(real_name) from None
            raise
        spec = importlib.util.spec_from_loader(fullname, self, is_package=True)
        spec._xlafront_real = real
        return spec

    def create_module(self, spec):
        return _make_proxy(spec.name, spec._xlafront_real)

    def exec_module(self, module):
        pass


def install_jax_alias():
    """Make `import jax...` resolve to xlafront (for `run`; for the rest of the process)."""
    for name in [n for n in sys.modules if n == "jax" or n.startswith("jax.")]:
        del sys.modules[name]
    if not any(isinstance(f, _JaxAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _JaxAlias())


def _script_traceback(e: BaseException):
    """The traceback of `e` without the runner's own frames in front; for a JAX name
    xlafront lacks, only the script's frames (where it was used is what matters)."""
    tb = e.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__)
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen")):
        tb = tb.tb_next
    if getattr(e, "jax_name", None) is None:
        return tb
    frames = []
    while tb is not None:
        if not _missing._is_library_frame(os.path.abspath(tb.tb_frame.f_code.co_filename)):
            frames.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(frames):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def run_script(path: str, argv):
    """Run the script at `path` as `__main__` with `sys.argv = [path, *argv]` and `jax`
    mapped to xlafront. A failure prints the script's traceback and exits with 1."""
    if not os.path.exists(path):
        raise SpecError(f"no script {path!r}")
    install_jax_alias()
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:
        sys.stdout.flush()
        traceback.print_exception(type(e), e, _script_traceback(e))
        what = getattr(e, "jax_name", None)
        if what is not None and isinstance(e, (AttributeError, ImportError)):
            sys.stderr.write(f"python -m xlafront run: {path} uses {what}, which xlafront does not "
                             f"implement yet (at {e.site})\n")
        else:
            sys.stderr.write(f"python -m xlafront run: {path} failed with {type(e).__name__}\n")
        sys.stderr.flush()
        raise SystemExit(1) from None


# ----------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m xlafront",
                                     description="xlafront command line: dump StableHLO, run JAX scripts.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="print the StableHLO of jit(function) for given argument shapes")
    d.add_argument("target", help="pkg.module:function (or path/to/file.py:function)")
    d.add_argument("--args", default="", help="comma-separated argument specs, e.g. 'f32[3],f32[3,3],i32[]'; "
                   "a Python literal is a static positional argument")
    d.add_argument("--static", action="append", metavar="NAME=VALUE",
                   help="a static keyword argument (repeatable)")
    d.add_argument("-o", "--output", help="write the text to this file instead of printing it")
    d.add_argument("--x64", action="store_true", help="enable 64-bit types (implied by a 64-bit spec)")
    r = sub.add_parser("run", help="run a JAX script with `jax` mapped to xlafront")
    r.add_argument("script")
    r.add_argument("script_args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    try:
        if ns.command == "dump":
            text = dump(ns.target, ns.args, ns.static, ns.output, ns.x64)
            if not ns.output:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
        else:
            run_script(ns.script, ns.script_args)
    except SpecError as e:
        parser.exit(2, f"python -m xlafront {ns.command}: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
