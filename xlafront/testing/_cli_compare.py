"""`python -m xlafront compare`: run a function under xlafront and under reference JAX on
the same inputs, compare every output leaf (and each requested transform's), the
StableHLO op histograms (and, with --text, the normalized texts), and with --time the
run times. Exit status 0 when every leaf agrees, 1 on a mismatch (so it can gate CI).

The target's module runs twice: once with `import jax` giving xlafront (as `run` does),
once with the real JAX; references to xlafront in it are then swapped for JAX's as in
`compare_with_jax`, so a module written against either library compares. JAX is
imported lazily, here only.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from xlafront._cli_specs import SpecError, Static, load_target

INSTALL_HINT = "pip install -e '.[test]'"


def _import_jax():
    try:
        import jax
    except ImportError:
        raise SpecError(f"compare needs reference JAX, which is not installed; install the test extra "
                        f"with: {INSTALL_HINT}") from None
    return jax


def _draw(spec, rng, lo_hi):
    """A value for one ShapeDtypeStruct leaf: floats standard normal (or uniform in
    --range), integers in [-5, 5] ([0, 10] unsigned), bools fair coins."""
    dt = np.dtype(spec.dtype)
    shape = tuple(spec.shape)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dt, np.unsignedinteger):
        return rng.integers(0, 11, shape).astype(dt)
    if np.issubdtype(dt, np.integer):
        return rng.integers(-5, 6, shape).astype(dt)

    def real():
        if lo_hi is None:
            return rng.standard_normal(shape)
        return rng.uniform(lo_hi[0], lo_hi[1], shape)
    if np.issubdtype(dt, np.complexfloating):
        return (real() + 1j * real()).astype(dt)
    return np.asarray(real()).astype(dt)


def _materialize(tree, rng, lo_hi):
    from xlafront import tree_util
    from xlafront.api import ShapeDtypeStruct
    return tree_util.tree_map(lambda s: _draw(s, rng, lo_hi) if isinstance(s, ShapeDtypeStruct) else s, tree)


def _parse_range(text):
    if not text:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise SpecError(f"bad --range {text!r}: expected LO,HI") from None
    if not lo < hi:
        raise SpecError(f"bad --range {text!r}: LO must be below HI")
    return lo, hi


def _block(tree, lib):
    for leaf in lib.tree_util.tree_leaves(tree):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return tree


def _leaf_table(title, ours, ref, rtol, atol):
    """(lines, ok) for one run: a row per output leaf."""
    import jax
    from xlafront import tree_util
    from xlafront.testing import _compare_leaf, _HostLeaf
    our_leaves, our_tree = tree_util.tree_flatten(ours)
    ref_paths, ref_tree = jax.tree_util.tree_flatten_with_path(ref)
    lines = [f"{title}:"]
    if str(our_tree) != str(ref_tree):
        lines += [f"  output structures differ: FAIL", f"    xlafront: {our_tree}", f"    jax:      {ref_tree}"]
        return lines, False
    reports = []
    for (path, r), mine in zip(ref_paths, our_leaves):
        host = _HostLeaf(np.asarray(r), bool(getattr(r, "weak_type", False)) or type(r) in (int, float, complex, bool))
        reports.append(_compare_leaf(jax.tree_util.keystr(path) or "<out>", mine, host, rtol, atol, True, True))
    width = max([len(x.path) for x in reports] + [4])
    lines.append(f"  {'path':<{width}}  {'dtype (xlafront | jax)':<28} {'weak':<9} {'max abs':>10} "
                 f"{'max rel':>10}  status")
    for x in reports:
        dtype = f"{x.dtype}{list(x.shape)}"
        if (x.dtype, x.shape) != (x.jax_dtype, x.jax_shape):
            dtype += f" | {x.jax_dtype}{list(x.jax_shape)}"
        weak = ("yes" if x.weak_type else "no") + ("" if x.weak_type == x.jax_weak_type else
                                                  " | " + ("yes" if x.jax_weak_type else "no"))
        lines.append(f"  {x.path:<{width}}  {dtype:<28} {weak:<9} {x.max_abs_diff:>10.3g} {x.max_rel_diff:>10.3g}"
                     f"  {'ok' if x.ok else 'FAIL'}")
        for p in x.problems:
            lines.append(f"    {p}")
        if x.detail:
            lines.append(x.detail)
    return lines, all(x.ok for x in reports)


def _time_pair(f_ours, args_ours, f_ref, args_ref, n, xf, jax):
    """Median run times of both compiled programs, measured interleaved."""
    ours, ref = [], []
    _block(f_ours(*args_ours), xf)
    _block(f_ref(*args_ref), jax)
    for _ in range(n):
        t0 = time.perf_counter()
        _block(f_ours(*args_ours), xf)
        t1 = time.perf_counter()
        _block(f_ref(*args_ref), jax)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        ref.append(t2 - t1)
    return statistics.median(ours), statistics.median(ref)


def _ops_differ(n):
    return f"{n} op differs" if n == 1 else f"{n} ops differ"


def _fmt_time(t):
    return f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def compare(ns, out) -> int:
    """Run `compare` with parsed options `ns`, writing the report with `out(line)`.
    Returns the exit status: 0 all ok, 1 on a mismatch."""
    jax = _import_jax()
    import xlafront as xf
    from xlafront import _cli_inspect as insp
    from xlafront import tree_util
    from xlafront._jax_alias import jax_as_xlafront
    from xlafront.config import config
    from xlafront.testing import to_jax
    from xlafront.testing.stablehlo_compare import compare_texts

    lo_hi = _parse_range(ns.range)
    entries = insp.setup(ns)
    rng = np.random.default_rng(ns.seed)
    entries = [e if isinstance(e, Static) else _materialize(e, rng, lo_hi) for e in entries]
    with jax_as_xlafront():
        fun = load_target(ns.target)
        plan = insp.make_plan(ns, entries, fun)
    partial_args = [_materialize(a, rng, lo_hi) for a in plan.partial_args]
    ref_fun = to_jax(load_target(ns.target))

    perturb = getattr(ns, "_perturb", None)
    runs = [("value", plan.base(fun), plan.base(ref_fun), plan.dyn)]
    # each transform of the chain, innermost first: grad(f), then vmap(grad(f)), ...
    for depth in range(1, len(plan.steps) + 1):
        title = ",".join(plan.transforms[-depth:])
        runs.append((title, plan.build(xf, fun, depth), plan.build(jax, ref_fun, depth), partial_args[depth - 1]))
    if perturb:
        g = runs[-1][1]

        def bumped(*a, g=g):   # the hidden test hook: xlafront's function differs on purpose
            return xf.tree_util.tree_map(
                lambda y: y + perturb if np.issubdtype(np.dtype(y.dtype), np.inexact) else y, g(*a))
        runs[-1] = (runs[-1][0], bumped) + runs[-1][2:]   # the last run only

    platform = xf.lowering.runtime.backend().platform
    out(f"compare {ns.target}: xlafront vs jax {jax.__version__} on {platform}, seed {ns.seed}")
    out("inputs: " + ", ".join(
        (repr(e.value) if isinstance(e, Static) else insp._describe(e)) for e in entries))
    if plan.transforms:
        out(f"transform: {'('.join(list(plan.transforms) + [plan.name])}{')' * len(plan.transforms)} on "
            + ", ".join(insp._describe(a) for a in partial_args[-1]))

    ok = True
    old_x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", bool(config.x64))
    try:
        for title, f_ours, f_ref, args in runs:
            j_ours, j_ref = xf.jit(f_ours), jax.jit(f_ref)
            with jax_as_xlafront():
                ours = j_ours(*args)
            ref = j_ref(*args)
            lines, good = _leaf_table(f"{title} of {plan.name}", ours, ref, ns.rtol, ns.atol)
            ok &= good
            out("")
            for line in lines:
                out(line)
            with jax_as_xlafront():
                text = j_ours.lower(*args).as_text()
            cmp = compare_texts(text, j_ref.lower(*args).as_text(), plan.name)
            out(f"StableHLO op histogram ({title}): "
                + ("same" if cmp.same_histogram else
                   f"{_ops_differ(len(cmp.differing))}, total difference {cmp.total_difference}"))
            out(cmp.table())
            if ns.text:
                out(cmp.diff.rstrip("\n") or "  (normalized texts are identical)")
            if ns.time:
                a_ours = tree_util.tree_map(xf.numpy.asarray, list(args))
                a_ref = jax.tree_util.tree_map(jax.numpy.asarray, list(args))
                t_ours, t_ref = _time_pair(j_ours, a_ours, j_ref, a_ref, ns.repeat, xf, jax)
                out(f"time ({title}): xlafront {_fmt_time(t_ours)} | jax {_fmt_time(t_ref)}  ratio "
                    f"{t_ours / t_ref:.2f} (median of {ns.repeat}, interleaved)")
    finally:
        jax.config.update("jax_enable_x64", old_x64)
    out("")
    out("result: ok" if ok else "result: FAIL (values differ beyond tolerance)")
    return 0 if ok else 1
