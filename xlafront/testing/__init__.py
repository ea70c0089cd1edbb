"""Compare a function written against xlafront with reference JAX.

    from xlafront.testing import compare_with_jax
    report = compare_with_jax(f, x, y)          # raises AssertionError on disagreement
    print(report)                               # max abs / rel difference per output leaf

`f` is written against `xlafront` (`xf`, `xnp = xlafront.numpy`, `xlafront.lax`, ...).
It runs once as written, and once as a copy of itself whose global and closure
references to xlafront's public modules and names are swapped for JAX's
(`xlafront.numpy` -> `jax.numpy`, `xnp.sin` -> `jax.numpy.sin`, `xf.jit(g)` ->
`jax.jit(g')`, ...). The swap is made on copies of the functions' globals, so
nothing of xlafront or of the user's module is touched; helper functions reached
from `f` (globals, closures, defaults, `functools.partial`) are copied the same way,
recursively, and so are the user's own modules they reach (copies, as module
objects, so `helpers.f(x)` runs the JAX copy of `helpers.f`).

JAX is imported here lazily, inside the functions: xlafront never imports it.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import sys
import types

import numpy as np

from xlafront import _missing

__all__ = ["compare_with_jax", "ComparisonReport", "LeafReport", "to_jax"]


# ----------------------------------------------------------------------------- tolerances
# Default (rtol, atol) by dtype name: loose enough for differences of op fusion and
# evaluation order between two XLA programs, tight enough to catch a wrong formula.
_TOLERANCE = {
    "float8_e4m3fn": 1e-1, "float8_e5m2": 1e-1, "float8_e4m3fnuz": 1e-1, "float8_e5m2fnuz": 1e-1,
    "float8_e4m3b11fnuz": 1e-1,
    "bfloat16": 1e-2, "float16": 1e-3, "float32": 1e-5, "float64": 1e-12,
    "complex64": 1e-5, "complex128": 1e-12,
}


def _default_tol(dtype) -> float:
    return _TOLERANCE.get(np.dtype(dtype).name, 0.0)


# ----------------------------------------------------------------------------- the swap
def _is_public_xlafront_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "xlafront" and not any(p.startswith("_") for p in parts[1:]) \
        and name != "xlafront.testing"


class _MissingInJax:
    """Stands in for an xlafront module/name JAX lacks; fails only when used."""

    def __init__(self, what):
        self._what = what

    def __getattr__(self, name):
        raise AttributeError(f"compare_with_jax: {self._what} has no JAX counterpart (needed for .{name})")

    def __call__(self, *a, **k):
        raise TypeError(f"compare_with_jax: {self._what} has no JAX counterpart")


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
# the standard library's and installed packages' folders; xlafront's own code: the package
# and its sibling layers (lowering/, transforms/)
_LIBRARY_DIRS, _OWN_DIRS = _missing.code_dirs()


def _is_own_code(f) -> bool:
    code = getattr(f, "__code__", None)
    return code is not None and os.path.realpath(code.co_filename).startswith(_OWN_DIRS)


class _Translator:
    """Copies user functions with xlafront references replaced by JAX ones."""

    def __init__(self):
        import jax  # noqa: F401  (the reference; imported only here)
        self._modules: dict[str, object] = {}   # xlafront module name -> jax module
        self._functions: dict[int, object] = {}  # id(original) -> copy
        self._globals: dict[int, types.ModuleType] = {}  # id(original globals) -> copy
        self._keep = []                          # originals, so ids stay unique
        self._index = None                       # id(xlafront object) -> (module, attr)

    # -- modules and names
    def module(self, mod: types.ModuleType):
        name = mod.__name__
        if name not in self._modules:
            import importlib
            jax_name = "jax" + name[len("xlafront"):]
            try:
                self._modules[name] = importlib.import_module(jax_name)
            except ImportError:
                self._modules[name] = _MissingInJax(f"module {name} (looked for {jax_name})")
        return self._modules[name]

    def _public_index(self):
        """id(object) -> every (public xlafront module, name) that exports it."""
        if self._index is None:
            index: dict[int, list] = {}
            for mname in sorted((m for m in list(sys.modules) if _is_public_xlafront_module(m)),
                                key=lambda m: (m.count("."), m)):
                mod = sys.modules[mname]
                for attr, v in list(vars(mod).items()):
                    if attr.startswith("_") or isinstance(v, types.ModuleType):
                        continue
                    index.setdefault(id(v), []).append((mname, attr))
            self._index = index
        return self._index

    def named(self, obj):
        """The JAX counterpart of a public xlafront function/class, found by where it is
        exported: the same name in the corresponding JAX module."""
        candidates = []
        # prefer the public module the object comes from (xnp.sin -> jax.numpy.sin, not lax.sin)
        home = ".".join(p for p in (getattr(obj, "__module__", "") or "").split(".") if not p.startswith("_"))
        name = getattr(obj, "__name__", None)
        while home.startswith("xlafront"):
            mod = sys.modules.get(home)
            if name and mod is not None and _is_public_xlafront_module(home) and vars(mod).get(name) is obj:
                candidates.append((home, name))
            home = home.rpartition(".")[0]
        candidates += self._public_index().get(id(obj), [])
        for mname, attr in candidates:
            jax_mod = self.module(sys.modules[mname])
            if not isinstance(jax_mod, _MissingInJax) and hasattr(jax_mod, attr):
                return getattr(jax_mod, attr)
        if candidates:
            mname, attr = candidates[0]
            return _MissingInJax(f"{mname}.{attr}")
        return obj

    # -- values
    def value(self, v):
        if isinstance(v, types.ModuleType):
            if _is_public_xlafront_module(v.__name__):
                return self.module(v)
            return self.user_module(v) if self._is_user_module(v) else v
        t = type(v)
        if t is types.FunctionType:
            return self.function(v)
        if t is types.MethodType:
            return types.MethodType(self.value(v.__func__), v.__self__)
        if t is functools.partial:
            return functools.partial(self.value(v.func), *[self.value(a) for a in v.args],
                                     **{k: self.value(a) for k, a in v.keywords.items()})
        mod = getattr(t, "__module__", "") or ""
        if mod.startswith("xlafront"):
            from xlafront.api import Jitted
            from xlafront.array import ArrayImpl
            if t is Jitted:
                import jax
                return jax.jit(self.value(v.fun), static_argnums=v.static_argnums or None,
                               static_argnames=v.static_argnames or None)
            if t is ArrayImpl:
                return _array_to_jax(v)
        if callable(v) and (getattr(v, "__module__", "") or "").startswith("xlafront"):
            return self.named(v)
        if isinstance(v, type) and v.__module__.startswith("xlafront"):
            return self.named(v)
        return v

    def _is_user_function(self, f) -> bool:
        code_file = os.path.realpath(f.__code__.co_filename)
        if code_file.startswith(_OWN_DIRS):
            return False
        if (f.__module__ or "").startswith("xlafront"):
            return False
        return not code_file.startswith(_LIBRARY_DIRS)

    def _namespace(self, orig: dict, name: str):
        """The copy of a module namespace (a function's globals) as a module object, and
        whether it still has to be filled. Functions of one module share one copy."""
        mod = self._globals.get(id(orig))
        if mod is not None:
            return mod, False
        mod = types.ModuleType(name)
        self._globals[id(orig)] = mod
        self._keep.append(orig)
        return mod, True

    def _fill(self, mod, orig: dict):
        # all names first (so recursion finds the copies), then translated values
        ns = mod.__dict__
        ns.update(orig)
        for k, v in orig.items():
            if not (k.startswith("__") and k.endswith("__")):
                ns[k] = self.value(v)

    def user_module(self, m: types.ModuleType):
        mod, fill = self._namespace(vars(m), m.__name__)
        if fill:
            self._fill(mod, vars(m))
        return mod

    _is_user_module = staticmethod(_missing.is_user_module)

    def function(self, f: types.FunctionType):
        if not self._is_user_function(f):
            return self.named(f)
        hit = self._functions.get(id(f))
        if hit is not None:
            return hit
        mod, fill = self._namespace(f.__globals__, f.__globals__.get("__name__") or f.__module__ or "?")
        closure = None
        if f.__closure__ is not None:
            closure = tuple(types.CellType() for _ in f.__closure__)
        g = types.FunctionType(f.__code__, mod.__dict__, f.__name__, None, closure)
        self._functions[id(f)] = g
        self._keep.append(f)
        if fill:
            self._fill(mod, f.__globals__)
        if closure is not None:
            for new_cell, old_cell in zip(closure, f.__closure__):
                try:
                    new_cell.cell_contents = self.value(old_cell.cell_contents)
                except ValueError:  # an empty cell (a name assigned later)
                    pass
        g.__defaults__ = tuple(self.value(d) for d in f.__defaults__) if f.__defaults__ else None
        g.__kwdefaults__ = {k: self.value(d) for k, d in f.__kwdefaults__.items()} if f.__kwdefaults__ else None
        g.__dict__.update(f.__dict__)
        g.__qualname__ = f.__qualname__
        g.__module__ = f.__module__
        g.__doc__ = f.__doc__
        return g


def to_jax(f):
    """The copy of `f` that uses JAX wherever `f` (and the helpers it reaches) use xlafront."""
    return _Translator().value(f)


# ----------------------------------------------------------------------------- arguments
def _array_to_jax(x):
    import jax.numpy as jnp
    host = np.asarray(x)
    out = jnp.asarray(host)
    if x.weak_type:
        try:  # JAX has no public way to make a weak-typed array from a value
            from jax._src.lax import lax as _jlax
            out = _jlax._convert_element_type(out, weak_type=True)
        except Exception:  # pragma: no cover - depends on JAX internals
            pass
    return out


def _args_to_jax(args, kwargs):
    import jax
    from xlafront.array import ArrayImpl

    def conv(v):
        return _array_to_jax(v) if isinstance(v, ArrayImpl) else v
    return jax.tree_util.tree_map(conv, (args, kwargs), is_leaf=lambda v: isinstance(v, ArrayImpl))


# ----------------------------------------------------------------------------- report
@dataclasses.dataclass
class LeafReport:
    """How one output leaf of the two runs compares."""
    path: str
    shape: tuple
    dtype: str
    weak_type: bool
    jax_shape: tuple
    jax_dtype: str
    jax_weak_type: bool
    max_abs_diff: float
    max_rel_diff: float
    rtol: float
    atol: float
    mismatches: int      # elements beyond tolerance
    problems: list       # readable lines; empty when the leaf agrees
    detail: str = ""     # a few of the worst elements
    transform: str = "value"  # which run: "value" (f itself), "grad" or "vmap"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        """The leaf's path, prefixed by its transform unless it is the plain value."""
        where = self.path or "<output>"
        return where if self.transform == "value" else f"{self.transform}: {where}"

    def __str__(self):
        status = "ok" if self.ok else "MISMATCH"
        w = ", weak" if self.weak_type else ""
        return (f"{self.label}: {self.dtype}{list(self.shape)}{w}  "
                f"max_abs_diff={self.max_abs_diff:.3g} max_rel_diff={self.max_rel_diff:.3g}  "
                f"(rtol={self.rtol:g}, atol={self.atol:g})  {status}")


@dataclasses.dataclass
class ComparisonReport:
    """The result of `compare_with_jax`: one `LeafReport` per output leaf of each
    transform compared (in the order of `transforms`); `tree` is the first run's
    output tree, `trees` maps each transform to its output tree."""
    name: str
    tree: str
    leaves: list
    transforms: tuple = ("value",)
    trees: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(leaf.ok for leaf in self.leaves)

    @property
    def max_abs_diff(self) -> float:
        return max((leaf.max_abs_diff for leaf in self.leaves), default=0.0)

    @property
    def max_rel_diff(self) -> float:
        return max((leaf.max_rel_diff for leaf in self.leaves), default=0.0)

    def for_transform(self, transform: str) -> "ComparisonReport":
        """The part of the report about one transform ("value", "grad" or "vmap")."""
        if transform not in self.transforms:
            raise KeyError(f"{transform!r} was not compared (transforms={self.transforms})")
        tree = self.trees.get(transform, self.tree)
        return ComparisonReport(self.name, tree, [leaf for leaf in self.leaves if leaf.transform == transform],
                                (transform,), {transform: tree})

    @property
    def failed_transforms(self) -> tuple:
        return tuple(t for t in self.transforms
                     if any(not leaf.ok for leaf in self.leaves if leaf.transform == t))

    def __getitem__(self, i):
        return self.leaves[i]

    def __len__(self):
        return len(self.leaves)

    def __str__(self):
        if self.transforms == ("value",):
            head = f"compare_with_jax({self.name}): {len(self.leaves)} output leaves, output tree {self.tree}"
        else:
            trees = "; ".join(f"{t}: {self.trees.get(t, '?')}" for t in self.transforms)
            head = (f"compare_with_jax({self.name}, transforms={self.transforms}): {len(self.leaves)} "
                    f"output leaves; output trees {trees}")
        lines = [head] + ["  " + str(leaf) for leaf in self.leaves]
        for leaf in self.leaves:
            for p in leaf.problems:
                lines.append(f"  {leaf.label}: {p}")
            if leaf.detail:
                lines.append(leaf.detail)
        return "\n".join(lines)

    __repr__ = __str__


def _host(x):
    """(numpy value, weak_type) of an output leaf of either library."""
    weak = bool(getattr(x, "weak_type", False)) or type(x) in (int, float, complex, bool)
    return np.asarray(x), weak


def _as_float64(a):
    if a.dtype == np.bool_:
        return a.astype(np.float64)
    if np.issubdtype(a.dtype, np.complexfloating):
        return a.astype(np.complex128)
    return a.astype(np.float64)


def _compare_leaf(path, ours, ref, rtol, atol, check_dtypes, check_weak_type):
    a, a_weak = _host(ours)
    b, b_weak = _host(ref)
    problems = []
    if a.shape != b.shape:
        problems.append(f"shape {a.shape} (xlafront) != {b.shape} (jax)")
    if check_dtypes and a.dtype != b.dtype:
        problems.append(f"dtype {a.dtype.name} (xlafront) != {b.dtype.name} (jax)")
    if check_weak_type and a_weak != b_weak:
        problems.append(f"weak_type {a_weak} (xlafront) != {b_weak} (jax)")
    tol_dtype = a.dtype if np.dtype(a.dtype).itemsize <= np.dtype(b.dtype).itemsize else b.dtype
    r = _default_tol(tol_dtype) if rtol is None else rtol
    t = _default_tol(tol_dtype) if atol is None else atol
    max_abs = max_rel = 0.0
    mismatches = 0
    detail = ""
    if a.shape == b.shape and a.size:
        x, y = _as_float64(a), _as_float64(b)
        both_nan = np.isnan(x) & np.isnan(y) if x.dtype.kind in "fc" else np.zeros(x.shape, bool)
        same = (x == y) | both_nan  # equal infinities included
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.where(same, 0.0, np.abs(x - y))
            diff = np.where(np.isnan(diff), np.inf, diff)
            rel = np.where(same, 0.0, diff / np.maximum(np.abs(y), np.finfo(np.float64).tiny))
        bad = diff > t + r * np.abs(y)
        bad |= ~same & ~np.isfinite(diff)
        max_abs, max_rel = float(diff.max()), float(rel.max())
        mismatches = int(bad.sum())
        if mismatches:
            problems.append(f"{mismatches} of {a.size} elements differ beyond rtol={r:g}, atol={t:g} "
                            f"(max abs diff {max_abs:.6g}, max rel diff {max_rel:.6g})")
            idx = np.argwhere(bad)
            order = np.argsort(-diff[bad], kind="stable")[:5]
            rows = []
            for i in order:
                at = tuple(int(j) for j in idx[i])
                rows.append(f"      at {at if at else '()'}: xlafront={str(a[at])} jax={str(b[at])} "
                            f"abs diff={diff[at]:.6g}")
            detail = "    worst elements:\n" + "\n".join(rows)
    return LeafReport(path, a.shape, a.dtype.name, a_weak, b.shape, b.dtype.name, b_weak,
                      max_abs, max_rel, r, t, mismatches, problems, detail)


# ----------------------------------------------------------------------------- entry point
_TRANSFORMS = ("value", "grad", "vmap")
_FLOAT0 = np.dtype([("float0", "V")])  # the cotangent dtype of integer outputs (as jax.dtypes.float0)


def compare_with_jax(f, *args, rtol=None, atol=None, check_dtypes=True, check_weak_type=True,
                     kwargs=None, transforms=("value",), argnums=0, in_axes=0, vmap_args=None,
                     batch_size=3):
    """Run `f(*args)` under xlafront and under JAX and compare the outputs leaf by leaf.

    Returns a `ComparisonReport` (max abs / rel difference, shapes and dtypes of every
    output leaf). Raises AssertionError with a readable diff when the output trees,
    shapes, dtypes (if `check_dtypes`), weak types (if `check_weak_type`) or values
    (beyond `rtol`/`atol`; default by dtype, exact for integers and bools) disagree.
    Arguments may be pytrees of xlafront arrays, numpy arrays and Python scalars;
    keyword arguments for `f` go in `kwargs=`.

    `transforms` picks what is compared, any of:
      - "value": `f(*args)` itself;
      - "grad": `xf.grad(f, argnums)` against `jax.grad(f, argnums)` when `f` returns a
        real floating scalar; otherwise the VJP of `f` with respect to the `argnums`
        arguments, pulled back from the same fixed pseudo-random cotangent in both
        libraries (float0 zeros for integer outputs);
      - "vmap": `xf.vmap(f, in_axes)` against `jax.vmap(f, in_axes)` on batched arguments:
        `vmap_args` if given, else built from `args` by stacking `batch_size` copies
        along each argument's axis, floating copies scaled by 1, 1.125, 1.25, ...
        (`in_axes` is an int or None, or one per positional argument; Python scalars
        stay unbatched). Keyword arguments are never batched.
    """
    import jax
    from xlafront.config import config

    if isinstance(transforms, str):
        transforms = (transforms,)
    transforms = tuple(transforms)
    bad = [t for t in transforms if t not in _TRANSFORMS]
    if bad or not transforms:
        raise ValueError(f"compare_with_jax: transforms must be a non-empty tuple of {_TRANSFORMS}, "
                         f"got {transforms!r}")
    kwargs = dict(kwargs or {})
    name = _name_of(f)

    jax_f = to_jax(f)
    if jax_f is f and _is_own_code(getattr(f, "func", f)):
        raise TypeError(
            f"compare_with_jax: {name} is a function made by xlafront (its code is in "
            f"{os.path.relpath(getattr(f, 'func', f).__code__.co_filename, os.path.dirname(_PACKAGE_DIR))}), "
            f"which has no JAX counterpart to swap in. Pass the transformation inside a function, e.g. "
            f"compare_with_jax(lambda x: xf.grad(loss)(x), x) instead of compare_with_jax(xf.grad(loss), x).")

    # xlafront's runs first (an error in f surfaces as xlafront's own error)
    import xlafront as xf
    value = f(*args, **kwargs) if ("value" in transforms or "grad" in transforms) else None
    ours, cotangents, batched = {}, None, None
    for t in transforms:
        if t == "value":
            ours[t] = value
        elif t == "grad":
            cotangents = _cotangents(value)
            ours[t] = _grad_run(xf, f, args, kwargs, argnums, cotangents)
        else:
            batched, axes = _batched_args(args, in_axes, vmap_args, batch_size)
            ours[t] = xf.vmap(lambda *a: f(*a, **kwargs), in_axes=axes)(*batched)

    jargs, jkwargs = _args_to_jax(args, kwargs)
    old_x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", bool(config.x64))
    try:
        refs = {}
        for t in transforms:
            if t == "value":
                ref = jax_f(*jargs, **jkwargs)
            elif t == "grad":
                ref = _grad_run(jax, jax_f, jargs, jkwargs, argnums, cotangents)
            else:
                jbatched, _ = _args_to_jax(batched, {})
                ref = jax.vmap(lambda *a: jax_f(*a, **jkwargs), in_axes=axes)(*jbatched)
            ref_leaves_paths, ref_tree = jax.tree_util.tree_flatten_with_path(ref)
            refs[t] = ([(p, _HostLeaf(np.asarray(v), bool(getattr(v, "weak_type", False))
                                      or type(v) in (int, float, complex, bool)))
                        for p, v in ref_leaves_paths], ref_tree)
    finally:
        jax.config.update("jax_enable_x64", old_x64)

    leaves, trees = [], {}
    for t in transforms:
        leaves += _compare_run(name, t, ours[t], *refs[t], rtol, atol, check_dtypes, check_weak_type, trees)
    report = ComparisonReport(name, trees[transforms[0]], leaves, transforms, trees)
    if not report.ok:
        which = "" if transforms == ("value",) else \
            " (" + ", ".join(name if t == "value" else f"{t} of {name}" for t in report.failed_transforms) + ")"
        raise AssertionError(f"xlafront and JAX disagree{which}.\n" + str(report))
    return report


def _compare_run(name, transform, ours, ref_leaves, ref_tree, rtol, atol, check_dtypes, check_weak_type, trees):
    import jax
    from xlafront import tree_util
    from xlafront.array import ArrayImpl

    where = "" if transform == "value" else f" [{transform}]"
    our_leaves, our_tree = tree_util.tree_flatten(ours)
    if str(our_tree) != str(ref_tree):
        raise AssertionError(f"compare_with_jax({name}){where}: output structures differ:\n"
                             f"  xlafront: {our_tree}\n  jax:      {ref_tree}")
    trees[transform] = str(our_tree)
    out = []
    for (path, ref_leaf), mine in zip(ref_leaves, our_leaves):
        if not isinstance(mine, ArrayImpl) and not isinstance(mine, (int, float, complex, bool, np.ndarray,
                                                                  np.generic)):
            raise AssertionError(f"compare_with_jax({name}){where}: output leaf {jax.tree_util.keystr(path)} "
                                 f"is a {type(mine).__name__}, not an array")
        leaf = _compare_leaf(jax.tree_util.keystr(path), mine, ref_leaf, rtol, atol, check_dtypes,
                             check_weak_type)
        leaf.transform = transform
        out.append(leaf)
    return out


def _cotangents(value):
    """Fixed pseudo-random cotangents shaped like the leaves of `value` (a pytree of
    outputs), as a list of host arrays: None when `value` is one real floating scalar
    (then "grad" uses grad)."""
    from xlafront import tree_util
    leaves, tree = tree_util.tree_flatten(value)
    hosts = [np.asarray(v) for v in leaves]
    if len(hosts) == 1 and tree_util.treedef_is_leaf(tree) and hosts[0].shape == () \
            and np.issubdtype(hosts[0].dtype, np.floating):
        return None
    cts = []
    for i, h in enumerate(hosts):
        if not np.issubdtype(h.dtype, np.inexact):
            cts.append(np.zeros(h.shape, _FLOAT0))
            continue
        k = np.arange(h.size, dtype=np.float64).reshape(h.shape)
        ct = np.cos(0.7 * k + 1.3 * i + 0.4)  # deterministic, varied, O(1)
        if np.issubdtype(h.dtype, np.complexfloating):
            ct = ct + 1j * np.sin(0.9 * k + i)
        cts.append(ct.astype(h.dtype))
    return cts


def _grad_run(lib, f, args, kwargs, argnums, cotangents):
    """`lib.grad(f, argnums)(*args)`, or the VJP of f at args pulled back from `cotangents`;
    `lib` is xlafront or jax (the same code runs both)."""
    if cotangents is None:
        return lib.grad(lambda *a: f(*a, **kwargs), argnums=argnums)(*args)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def g(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return f(*full, **kwargs)

    out, pullback = lib.vjp(g, *[args[i] for i in nums])
    grads = pullback(lib.tree_util.tree_unflatten(lib.tree_util.tree_structure(out), cotangents))
    return grads[0] if isinstance(argnums, int) else grads


def _batched_args(args, in_axes, vmap_args, batch_size):
    """(batched positional arguments, in_axes for vmap)."""
    from xlafront import tree_util
    if vmap_args is not None:
        return tuple(vmap_args), in_axes
    if isinstance(in_axes, (list, tuple)):
        if len(in_axes) != len(args):
            raise ValueError(f"compare_with_jax: in_axes has {len(in_axes)} entries for {len(args)} arguments")
        axes = list(in_axes)
    else:
        axes = [in_axes] * len(args)
    out = []
    for i, (a, ax) in enumerate(zip(args, axes)):
        if type(a) in (int, float, complex, bool):
            axes[i] = None  # a Python scalar stays unbatched (weak type and all)
            out.append(a)
            continue
        if ax is None:
            out.append(a)
            continue
        if not isinstance(ax, int):
            raise TypeError("compare_with_jax: to vmap over a pytree of axes, pass the batched arguments "
                            "as vmap_args=")

        def stack(leaf, ax=ax):
            h = np.asarray(leaf)
            if np.issubdtype(h.dtype, np.inexact):
                copies = [(h * (1 + b / 8)).astype(h.dtype) for b in range(batch_size)]
            else:
                copies = [h] * batch_size
            return np.stack(copies, axis=ax)
        out.append(tree_util.tree_map(stack, a))   # an Array is a leaf
    return tuple(out), tuple(axes)


def _name_of(f):
    if isinstance(f, functools.partial):
        return f"partial({_name_of(f.func)})"
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or type(f).__name__


class _HostLeaf:
    """A JAX output already copied to the host (keeps its weak type)."""
    __slots__ = ("value", "weak_type")

    def __init__(self, value, weak_type):
        self.value, self.weak_type = value, weak_type

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)
from xlafront.testing.stablehlo_compare import using as _shlo; compare_stablehlo = _shlo(to_jax, _array_to_jax)  # noqa
