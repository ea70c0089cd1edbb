"""Command line: `python -m xlafront dump|compare|run ...` (docs/inspect.md).

    python -m xlafront dump pkg.module:function --args 'f32[3],f32[3,3]' [-o out.mlir]
        Print (or write) a stage of jit(function) for arguments of those shapes and
        dtypes: --stage jaxpr|stablehlo (default)|hlo|optimized|all, of the function or
        of a chain of transforms (--transform vmap,grad = vmap(grad(f)), with --argnums,
        --in-axes); --cost adds XLA's cost and memory analysis. An entry of --args may be
        a pytree of specs (`{'w': f32[3,3], 'b': f32[3]}`), `@file.npz` (its arrays), or a
        Python literal (`3`, `True`, `'relu'`, `(1, 2)`): a static positional argument;
        --static NAME=VALUE passes a static keyword argument. JAX-free.

    python -m xlafront compare pkg.module:function --args ... [--transform ...] [--seed N]
        Run it under xlafront and under reference JAX on the same inputs: a table per
        output leaf, the StableHLO op histograms side by side (--text: a normalized diff),
        --time: run times. Exits 1 on a value mismatch.

    python -m xlafront run script.py [args ...]
        Run an unmodified JAX script on xlafront: `import jax`, `import jax.numpy as
        jnp`, ... resolve to xlafront's modules; a name xlafront lacks is reported
        with the place that used it.

Bad input (a target that does not exist, a spec that does not parse, arguments the
function cannot take, a transform that does not apply) exits 2 with one line.
"""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
import types

from xlafront import _missing
from xlafront._cli_specs import (SpecError, Static, load_function, load_target, parse_arg,  # noqa: F401
                                 parse_args_spec, parse_entries, parse_static, split_top_level)
from xlafront._jax_alias import _JaxAlias, _make_proxy, install_jax_alias, jax_as_xlafront  # noqa: F401


def dump(target: str, args_spec: str, static=(), output=None, x64=False, stage="stablehlo",
         transform=None, argnums=None, in_axes=None, batch=4, cost=False, platform=None) -> str:
    """What `python -m xlafront dump` prints (the StableHLO text of jit(target) by default)."""
    from xlafront import _cli_inspect
    ns = argparse.Namespace(target=target, args=args_spec, static=static, output=output, x64=x64, stage=stage,
                            transform=transform, argnums=argnums, in_axes=in_axes, batch=batch, cost=cost,
                            platform=platform)
    return _cli_inspect.dump(ns)


# ----------------------------------------------------------------------------- run
# `python -m xlafront run script.py`: `jax` and `jax.*` are served by xlafront for the rest
# of the process (_jax_alias.py).
def _script_traceback(e: BaseException):
    """The traceback of `e` without the runner's own frames in front; for a JAX name
    xlafront lacks, only the script's frames (where it was used is what matters)."""
    tb = e.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__)
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen")):
        tb = tb.tb_next
    if getattr(e, "jax_name", None) is None:
        return tb
    return _user_frames(tb)


def _user_frames(tb):
    """The traceback `tb` with only the user's frames (none of xlafront's or the runner's)."""
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
def _common(p, what):
    p.add_argument("target", help="pkg.module:function (or path/to/file.py:function)")
    p.add_argument("--args", default="", help="comma-separated argument specs, e.g. 'f32[3],f32[3,3],i32[]'; "
                   "'@file.npz' for the arrays in a file; a Python literal is a static positional argument")
    p.add_argument("--static", action="append", metavar="NAME=VALUE",
                   help="a static keyword argument (repeatable)")
    p.add_argument("--transform", metavar="T1,T2,...",
                   help="a chain of grad, value_and_grad, jvp, vjp, vmap, jacfwd, jacrev, hessian, read as "
                        "the nested call: vmap,grad is vmap(grad(f))")
    p.add_argument("--argnums", help="the argument(s) grad-like transforms differentiate (default: the first)")
    p.add_argument("--in-axes", dest="in_axes", help="vmap's in_axes: an integer, None, or one per argument "
                   "(e.g. 0,None,None); default 0")
    p.add_argument("--batch", type=int, default=4, help="the batch size vmap adds to the specs (default 4)")
    p.add_argument("--x64", action="store_true", help="enable 64-bit types (implied by a 64-bit spec)")
    p.add_argument("--platform", help="the backend to use (cpu, cuda, rocm, tpu) where its plugin is installed")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m xlafront",
                                     description="xlafront command line: inspect and compare programs, "
                                                 "run JAX scripts (docs/inspect.md).")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="print a stage of jit(function) (or of a transform of it) for given "
                                    "argument shapes; JAX-free")
    _common(d, "dump")
    d.add_argument("--stage", default="stablehlo", choices=["jaxpr", "stablehlo", "hlo", "optimized", "all"],
                   help="what to print: the jaxpr, StableHLO (default), HLO before XLA's passes, the "
                        "optimized HLO, or all of them with headers")
    d.add_argument("--cost", action="store_true", help="add XLA's cost analysis and memory stats")
    d.add_argument("-o", "--output", help="write the text to this file instead of printing it")
    c = sub.add_parser("compare", help="run a function under xlafront and under JAX and compare outputs "
                                       "and StableHLO")
    _common(c, "compare")
    c.add_argument("--seed", type=int, default=0, help="seed of the drawn inputs (default 0)")
    c.add_argument("--range", metavar="LO,HI", help="draw floats uniformly in [LO, HI) (default: standard normal)")
    c.add_argument("--rtol", type=float, help="relative tolerance (default by dtype)")
    c.add_argument("--atol", type=float, help="absolute tolerance (default by dtype)")
    c.add_argument("--text", action="store_true", help="also print a diff of both StableHLO texts (normalized)")
    c.add_argument("--time", action="store_true", help="time both compiled programs, interleaved")
    c.add_argument("--repeat", type=int, default=100, help="runs for --time (default 100)")
    c.add_argument("-o", "--output", help="write the report to this file as well")
    c.add_argument("--_perturb", type=float, help=argparse.SUPPRESS)  # test hook: xlafront's outputs + EPS
    r = sub.add_parser("run", help="run a JAX script with `jax` mapped to xlafront")
    r.add_argument("script")
    r.add_argument("script_args", nargs=argparse.REMAINDER)
    return parser


def main(argv=None):
    parser = _parser()
    ns = parser.parse_args(argv)
    try:
        if ns.command == "dump":
            from xlafront import _cli_inspect
            text = _cli_inspect.dump(ns)
            if not ns.output:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
        elif ns.command == "compare":
            from xlafront.testing import _cli_compare
            lines = []

            def out(line):
                lines.append(line)
                sys.stdout.write(line + "\n")
            status = _cli_compare.compare(ns, out)
            sys.stdout.flush()
            if ns.output:
                with open(ns.output, "w") as f:
                    f.write("\n".join(lines) + "\n")
            return status
        else:
            run_script(ns.script, ns.script_args)
    except SpecError as e:
        parser.exit(2, f"python -m xlafront {ns.command}: error: {e}\n")
    except Exception as e:  # noqa: BLE001 - the user's function raised while traced or run
        if ns.command == "run":
            raise
        sys.stdout.flush()
        traceback.print_exception(type(e), e, _user_frames(e.__traceback__))
        parser.exit(1, f"python -m xlafront {ns.command}: {ns.target} raised {type(e).__name__} "
                       f"(its frames above)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
