"""`python -m xlafront dump`: every stage (jaxpr, StableHLO, HLO, optimized HLO), any
chain of transforms, XLA's cost and memory analysis. JAX-free: a target module that
imports `jax` gets xlafront's modules under that name (see _jax_alias.jax_as_xlafront).

The transform chain reads like the nested call it stands for: `--transform vmap,grad`
is `vmap(grad(f))` (the last name is applied first). `--argnums` and `--in-axes` count
the positions of the function each transform applies to; for f itself these are the
--args entries, static ones included; jvp appends one tangent per differentiated
argument, vjp one cotangent (the output's tree).
"""
from __future__ import annotations

import dataclasses
import functools
import inspect

import numpy as np

from xlafront._cli_specs import SpecError, Static, parse_entries, parse_static, load_target

TRANSFORMS = ("grad", "value_and_grad", "jvp", "vjp", "vmap", "jacfwd", "jacrev", "hessian")
STAGES = ("jaxpr", "stablehlo", "hlo", "optimized")
_NEEDS_SCALAR = ("grad", "value_and_grad", "hessian")


def parse_transforms(text) -> list:
    if not text:
        return []
    names = [t.strip() for t in text.split(",")]
    for t in names:
        if t not in TRANSFORMS:
            raise SpecError(f"unknown transform {t!r} in --transform (use a comma-separated chain of: "
                            f"{', '.join(TRANSFORMS)})")
    return names


def parse_argnums(text):
    if text is None:
        return None
    try:
        v = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise SpecError(f"bad --argnums {text!r}: expected an integer or comma-separated integers") from None
    if not v or any(i < 0 for i in v):
        raise SpecError(f"bad --argnums {text!r}: expected non-negative integers")
    return v[0] if "," not in text else tuple(v)


def parse_in_axes(text):
    """'0' -> 0, 'None' -> None, '0,None,1' -> [0, None, 1]."""
    if text is None:
        return 0
    out = []
    for p in text.split(","):
        p = p.strip()
        if p == "None":
            out.append(None)
        else:
            try:
                out.append(int(p))
            except ValueError:
                raise SpecError(f"bad --in-axes {text!r}: expected integers or None, comma-separated") from None
    return out[0] if len(out) == 1 and "," not in text else out


def _tree():
    from xlafront import tree_util
    return tree_util


def _is_leaf_spec(x):
    from xlafront.api import ShapeDtypeStruct
    return isinstance(x, (ShapeDtypeStruct, np.ndarray))


def _spec_of(x):
    from xlafront.api import ShapeDtypeStruct
    return x if isinstance(x, ShapeDtypeStruct) else ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype)


def _describe(tree) -> str:
    leaves = _tree().tree_leaves(tree)
    return ", ".join(f"{np.dtype(s.dtype).name}{list(s.shape)}" for s in map(_spec_of, leaves)) or "()"


@dataclasses.dataclass
class Step:
    name: str
    argnums: object = None   # int or tuple, positions of the function it applies to
    in_axes: tuple = None    # vmap: one per argument


class Plan:
    """The user's function with its static arguments bound, and the chain of transforms
    over its dynamic arguments. `args` are the final function's arguments: pytrees of
    ShapeDtypeStructs (to draw or lower with) and numpy arrays (real values)."""

    def __init__(self, target, fun, entries, kwargs, transforms, argnums=None, in_axes=0, batch=4):
        self.target, self.fun, self.kwargs, self.batch = target, fun, kwargs, batch
        self.name = getattr(getattr(fun, "fun", fun), "__name__", "f")
        self.entries = entries
        self.static_pos = [i for i, e in enumerate(entries) if isinstance(e, Static)]
        self.dyn = [e for e in entries if not isinstance(e, Static)]
        self.transforms = transforms
        self._check_arity()
        self.steps = []
        self.partial_args = []   # the arguments after each step (innermost first)
        args = list(self.dyn)
        import xlafront as xf
        f = self.base(fun)
        for depth, t in enumerate(reversed(transforms)):
            step = self._step(t, args, depth, argnums, in_axes)
            args = self._derive(step, args, f, xf)
            f = apply_step(xf, step, f)
            self.steps.append(step)
            self.partial_args.append(args)
        self.args = args

    # -- argument bookkeeping
    def _check_arity(self):
        f = getattr(self.fun, "fun", self.fun)
        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):
            return
        call = [e.value if isinstance(e, Static) else e for e in self.entries]
        try:
            sig.bind(*call, **self.kwargs)
        except TypeError as e:
            raise SpecError(f"{self.target} cannot take the given arguments ({len(call)} from --args"
                            f"{', ' + ', '.join(self.kwargs) + ' from --static' if self.kwargs else ''}): {e}") from None

    def _dyn_pos(self, i, depth, what):
        """A position counted as the user sees it -> the position among dynamic arguments."""
        if depth == 0 or i < len(self.entries):
            if i in self.static_pos:
                raise SpecError(f"{what} {i} is a static argument ({self.entries[i].value!r}), "
                                f"which cannot be transformed")
            return i - sum(1 for s in self.static_pos if s < i)
        return i - len(self.static_pos)

    def _step(self, t, args, depth, argnums, in_axes):
        n = len(args)
        shown = n + len(self.static_pos)
        if t == "vmap":
            if isinstance(in_axes, list):
                if len(in_axes) == shown and self.static_pos:
                    axes = [a for i, a in enumerate(in_axes) if i not in self.static_pos]
                elif len(in_axes) == n:
                    axes = list(in_axes)
                else:
                    raise SpecError(f"--in-axes has {len(in_axes)} entries, but the function vmap applies "
                                    f"to takes {n} array arguments")
            else:
                axes = [in_axes] * n
            for a, ax in zip(args, axes):
                if ax is None:
                    continue
                for leaf in _tree().tree_leaves(a):
                    nd = len(np.shape(leaf)) if isinstance(leaf, np.ndarray) else len(leaf.shape)
                    if not -(nd + 1) <= ax <= nd:
                        raise SpecError(f"--in-axes {ax} is out of range for an argument of rank {nd}")
            if all(ax is None for ax in axes):
                raise SpecError("vmap needs at least one argument with an --in-axes entry other than None")
            return Step(t, in_axes=tuple(axes))
        if not args:
            raise SpecError(f"--transform {t} needs an argument to differentiate, and --args has none")
        if argnums is None:   # the first dynamic argument
            dyn_nums = 0
        elif isinstance(argnums, int):
            dyn_nums = self._dyn_pos(argnums, depth, "--argnums")
        else:
            dyn_nums = tuple(self._dyn_pos(i, depth, "--argnums") for i in argnums)
        for i in (dyn_nums if isinstance(dyn_nums, tuple) else (dyn_nums,)):
            if i >= n:
                raise SpecError(f"--argnums {argnums} is out of range: the function {t} applies to takes "
                                f"{n} array arguments")
            for leaf in _tree().tree_leaves(args[i]):
                dt = np.dtype(_spec_of(leaf).dtype)
                if not np.issubdtype(dt, np.inexact):
                    raise SpecError(f"--transform {t} differentiates argument {i}, of type {dt.name}; "
                                    f"it needs floating arguments (pick others with --argnums)")
        return Step(t, argnums=dyn_nums)

    def _derive(self, step, args, f, xf):
        """The argument specs of the function after `step`, checking it applies."""
        nums = step.argnums if isinstance(step.argnums, tuple) else (step.argnums,)
        if step.name in _NEEDS_SCALAR or step.name == "vjp":
            out = xf.eval_shape(f, *[_tree().tree_map(_spec_of, a) for a in args])
            if step.name in _NEEDS_SCALAR:
                leaves = _tree().tree_leaves(out)
                if len(leaves) != 1 or leaves[0].shape != () or \
                        not np.issubdtype(np.dtype(leaves[0].dtype), np.floating):
                    raise SpecError(f"--transform {step.name} needs a function with one real scalar output, "
                                    f"and {self._inner_name()} returns {_describe(out)} "
                                    f"(use jacrev, jacfwd or vjp for other outputs)")
            if step.name == "vjp":
                from xlafront.api import ShapeDtypeStruct
                ct = _tree().tree_map(lambda s: ShapeDtypeStruct(s.shape, s.dtype), out)
                return list(args) + [ct]
        if step.name == "jvp":
            return list(args) + [_tree().tree_map(_spec_of, args[i]) for i in nums]
        if step.name == "vmap":
            return [a if ax is None else _tree().tree_map(functools.partial(_batched, axis=ax, size=self.batch), a)
                    for a, ax in zip(args, step.in_axes)]
        return list(args)

    def _inner_name(self):
        chain = [s.name for s in reversed(self.steps)]
        return "(".join(chain + [self.target]) + ")" * len(chain) if chain else self.target

    # -- the functions
    def base(self, fun):
        """`fun` with its static arguments and --static keywords bound."""
        entries, kwargs = self.entries, self.kwargs

        def bound(*dyn):
            it = iter(dyn)
            full = [e.value if isinstance(e, Static) else next(it) for e in entries]
            return fun(*full, **kwargs)
        bound.__name__ = bound.__qualname__ = self.name
        return bound

    def build(self, lib, fun, depth=None):
        """The transformed function under `lib` (xlafront or jax), `fun` being that
        library's version of the target; with `depth`, only its innermost `depth` steps."""
        f = self.base(fun)
        for step in self.steps[:depth]:
            f = apply_step(lib, step, f)
        final = (lambda *a: f(*a))
        final.__name__ = final.__qualname__ = self.name
        return final


def _batched(leaf, axis, size):
    """A batched version of one argument leaf: a spec with the batch dimension inserted, or
    `size` copies of a real value (floating copies scaled by 1, 1.125, 1.25, ...)."""
    from xlafront.api import ShapeDtypeStruct
    if isinstance(leaf, np.ndarray):
        if np.issubdtype(leaf.dtype, np.inexact):
            copies = [(leaf * (1 + b / 8)).astype(leaf.dtype) for b in range(size)]
        else:
            copies = [leaf] * size
        return np.stack(copies, axis=axis)
    shape = list(leaf.shape)
    shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, size)
    return ShapeDtypeStruct(tuple(shape), leaf.dtype)


def apply_step(lib, step, f):
    """One transform of `f` with `lib` (xlafront or jax: the same code runs both)."""
    t, nums = step.name, step.argnums
    if t == "vmap":
        return lib.vmap(f, in_axes=step.in_axes)
    if t in ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian"):
        return getattr(lib, t)(f, argnums=nums)
    idx = nums if isinstance(nums, tuple) else (nums,)

    def at(primals):
        def h(*d):
            full = list(primals)
            for i, x in zip(idx, d):
                full[i] = x
            return f(*full)
        return h

    if t == "jvp":
        def jvp_f(*a):
            primals, tangents = a[:len(a) - len(idx)], a[len(a) - len(idx):]
            return lib.jvp(at(primals), tuple(primals[i] for i in idx), tuple(tangents))
        return jvp_f

    def vjp_f(*a):   # vjp
        primals, ct = a[:-1], a[-1]
        out, pullback = lib.vjp(at(primals), *[primals[i] for i in idx])
        return out, pullback(ct)
    return vjp_f


# ----------------------------------------------------------------------------- setup
_WIDE = ("int64", "uint64", "float64", "complex128")


def setup(ns):
    """Platform and x64 from the options and the specs; returns the parsed entries."""
    import xlafront as xf
    entries = parse_entries(ns.args)
    if getattr(ns, "platform", None):
        _use_platform(ns.platform)
    leaves = _tree().tree_leaves([e for e in entries if not isinstance(e, Static)])
    if ns.x64 or any(np.dtype(getattr(leaf, "dtype", np.float32)).name in _WIDE for leaf in leaves):
        xf.config.update("jax_enable_x64", True)
    return entries


def _use_platform(name):
    import xlafront as xf
    from xlafront.lowering import runtime
    want = runtime.platform_name(name)
    if want is None:
        raise SpecError(f"unknown --platform {name!r}; choose one of cpu, cuda, rocm, tpu")
    in_use = runtime.platform_in_use()
    if in_use is not None:
        if in_use != want:
            raise SpecError(f"--platform {name}: the {in_use} backend is already in use")
        return
    xf.config.update("jax_platforms", want)
    try:
        runtime.backend()
    except runtime.PlatformError as e:
        xf.config.update("jax_platforms", None)
        raise SpecError(f"--platform {name}: {e}") from None


def make_plan(ns, entries, fun):
    return Plan(ns.target, fun, entries, parse_static(ns.static), parse_transforms(ns.transform),
                parse_argnums(ns.argnums), parse_in_axes(ns.in_axes), ns.batch)


# ----------------------------------------------------------------------------- dump
def _header(title):
    return f"// ===== {title} " + "=" * max(3, 60 - len(title))


def cost_table(compiled, platform) -> str:
    """XLA's cost and memory analysis of a compiled program, as a small table."""
    cost = compiled.cost_analysis()
    mem = compiled.memory_analysis()
    rows = [("flops", cost.get("flops", 0.0), ""), ("transcendentals", cost.get("transcendentals", 0.0), ""),
            ("bytes accessed", cost.get("bytes accessed", 0.0), "B"),
            ("argument size", mem.argument_size_in_bytes, "B"), ("output size", mem.output_size_in_bytes, "B"),
            ("temp size", mem.temp_size_in_bytes, "B"),
            ("generated code size", mem.generated_code_size_in_bytes, "B"),
            ("alias size", mem.alias_size_in_bytes, "B")]
    lines = [f"cost ({platform}, optimized program):"]
    for name, v, unit in rows:
        v = int(v) if float(v).is_integer() else v
        lines.append(f"  {name:<20} {v:>12} {unit}".rstrip())
    return "\n".join(lines)


def dump_text(ns, fun, entries) -> str:
    """What `dump` prints, for an already loaded target (xlafront's version)."""
    import xlafront as xf
    from xlafront.lowering import runtime
    stages = list(STAGES) if ns.stage == "all" else [ns.stage]
    plan = make_plan(ns, entries, fun)
    kwargs = plan.kwargs
    if not plan.transforms and not any(isinstance(e, np.ndarray) for e in entries):
        # the function itself, jitted as the user would (same module name and text as the API's)
        static_argnums = tuple(plan.static_pos)
        call = [e.value if isinstance(e, Static) else e for e in entries]
        is_jitted = isinstance(fun, xf.api.Jitted)
        jitted = fun if is_jitted and not static_argnums and not kwargs else \
            xf.jit(fun.fun if is_jitted else fun, static_argnums=static_argnums, static_argnames=tuple(kwargs))
        lower = functools.partial(jitted.lower, *call, **kwargs)
    else:
        final = plan.build(xf, fun)
        lower = functools.partial(xf.jit(final).lower, *plan.args)
    parts = []
    lowered = compiled = None
    for stage in stages:
        if stage == "jaxpr":
            text = str(xf.make_jaxpr(plan.build(xf, fun))(*plan.args))
        else:
            lowered = lowered or lower()
            if stage == "stablehlo":
                text = lowered.as_text()
            elif stage == "hlo":
                text = runtime.hlo_text(lowered.as_text())
            else:
                compiled = compiled or lowered.compile()
                text = compiled.as_text()
        text = text.rstrip("\n") + "\n"
        parts.append(_header(stage) + "\n" + text if len(stages) > 1 else text)
    if ns.cost:
        compiled = compiled or (lowered or lower()).compile()
        parts.append(cost_table(compiled, runtime.backend().platform) + "\n")
    return ("\n" if len(parts) > 1 else "").join(parts)


def dump(ns) -> str:
    from xlafront._jax_alias import jax_as_xlafront
    entries = setup(ns)
    with jax_as_xlafront():
        fun = load_target(ns.target)
        text = dump_text(ns, fun, entries)
    if ns.output:
        with open(ns.output, "w") as f:
            f.write(text)
    return text
