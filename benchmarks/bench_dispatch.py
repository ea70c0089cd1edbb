"""Call overhead: steady-state jit calls (one small array, `jit(f)(x)` written inline, a
100-leaf dict), eager `sin` and eager Array (op) Python scalar on a 3-vector.

Each row is `compare_runs`: 5 runs of interleaved best-of-7 timings; the figures are the
medians and the ratio's spread over the runs. The note of each row gives the jaxlib floor:
what `execute_sharded` of the same executable costs alone, and with the C++ result handlers
making the output arrays (no Python wrapper) -- what any Python front end on jaxlib pays.
The jit and eager-sin rows also time xlafront's Python path (the fallback used without the
C extension xlafront/_cfast.c, or with XLAFRONT_NO_CEXT=1) against JAX the same way, in the
same process: `python path` in the note."""
from __future__ import annotations

import operator

import _harness  # noqa: F401  (sets sys.path)
from _harness import Row, best_us, compare_runs, main

import numpy as np
import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import api, core, dispatch
from xlafront.lowering import runtime

RUNS = 5


def _floor(program, bufs, jax_fn):
    """The jaxlib floor of a row, timed against JAX interleaved as the row is (medians)."""
    exe = program.exe
    if program.const_bufs:
        bufs = program.const_bufs + bufs
    raw = runtime.output_handlers(program.out_avals)
    j1, ex, s1 = compare_runs(jax_fn, lambda: exe._execute(bufs), runs=RUNS)
    j2, ex_out, s2 = compare_runs(jax_fn, lambda: exe._execute(bufs).consume_with_handlers(raw), runs=RUNS)
    return (f"jaxlib floor: execute_sharded {ex:.1f} µs ({ex / j1:.2f}x JAX, {s1[0]:.2f}-{s1[1]:.2f}), "
            f"+ output arrays {ex_out:.1f} µs ({ex_out / j2:.2f}x JAX, {s2[0]:.2f}-{s2[1]:.2f})")


def _jit_floor(jitted, args, jax_fn):
    entry = next(iter(jitted._cache.values()))     # the one signature compiled
    return _floor(entry.program, [a._buf for a in xf.tree_util.tree_leaves(args)], jax_fn)


def _row(name, jax_fn, xf_fn, target, floor=None, py_fn=None):
    j, x, spread = compare_runs(jax_fn, xf_fn, runs=RUNS)
    note = floor(jax_fn) if floor else ""
    if py_fn is not None and dispatch._cfast is not None:
        jp, xp, sp = compare_runs(jax_fn, py_fn, runs=RUNS)
        note += f"; python path {xp:.1f} µs ({xp / jp:.2f}x JAX, {sp[0]:.2f}-{sp[1]:.2f})"
    return Row(name, j, x, target, note, spread)


_py_call = api._PyCall.__call__   # the Jitted hot path in Python (without the C extension)


def _py_unary(name):
    """xnp.<name> as the numpy layer makes it without the C extension."""
    from xlafront.numpy import _ufuncs
    saved, _ufuncs._eager1 = _ufuncs._eager1, None
    try:
        return _ufuncs._unary_inexact(name, _prim(name))
    finally:
        _ufuncs._eager1 = saved


def _f(x):
    return x * 2.0 + 1.0


def bench_jit_small():
    jf, xfj = jax.jit(_f), xf.jit(_f)
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jf(ja)), np.asarray(xfj(xa)))
    return _row("jit call, one small array", lambda: jf(ja), lambda: xfj(xa), 1.0,
                lambda j: _jit_floor(xfj, (xa,), j), lambda: _py_call(xfj, xa))


def bench_jit_inline():
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jax.jit(_f)(ja)), np.asarray(xf.jit(_f)(xa)))
    return _row("`jit(f)(x)` written inline, one small array", lambda: jax.jit(_f)(ja),
                lambda: xf.jit(_f)(xa), 1.0, lambda j: _jit_floor(xf.jit(_f), (xa,), j))


def bench_jit_dict100():
    def f(d):
        return {k: v * 2.0 for k, v in d.items()}

    host = {f"p{i:03d}": np.full((4,), i, np.float32) for i in range(100)}
    jd = {k: jnp.asarray(v) for k, v in host.items()}
    xd = {k: xnp.asarray(v) for k, v in host.items()}
    jf, xfj = jax.jit(f), xf.jit(f)
    ro, xo = jf(jd), xfj(xd)
    assert all(np.array_equal(np.asarray(ro[k]), np.asarray(xo[k])) for k in host)
    return _row("jit call, 100-leaf dict in and out", lambda: jf(jd), lambda: xfj(xd), 0.5,
                lambda j: _jit_floor(xfj, (xd,), j), lambda: _py_call(xfj, xd))


def bench_eager_sin():
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    np.testing.assert_allclose(np.asarray(jnp.sin(ja)), np.asarray(xnp.sin(xa)), rtol=1e-6)
    prog = dispatch._compile_eager(_prim("sin"), [xa.aval], {})
    py_sin = _py_unary("sin")
    np.testing.assert_array_equal(np.asarray(py_sin(xa)), np.asarray(xnp.sin(xa)))
    return _row("eager sin, 3-vector", lambda: jnp.sin(ja), lambda: xnp.sin(xa), 1.0,
                lambda j: _floor(prog, [xa._buf], j), lambda: py_sin(xa))


def _prim(name):
    from xlafront import primitives as P
    return getattr(P, name + "_p")


def _scalar_row(label, op, name, swap=False, scalar=2.0):
    ja, xa = jnp.ones(3, jnp.float32), xnp.ones(3, xnp.float32)
    call_j = (lambda: op(scalar, ja)) if swap else (lambda: op(ja, scalar))
    call_x = (lambda: op(scalar, xa)) if swap else (lambda: op(xa, scalar))
    want, got = call_j(), call_x()
    assert want.dtype == got.dtype and want.weak_type == got.weak_type
    np.testing.assert_allclose(np.asarray(want), np.asarray(got), rtol=1e-6)

    def floor(j):
        if name is None:    # `**` of a static int: integer_pow, the eager primitive cache
            prog = dispatch._compile_eager(_prim("integer_pow"), [xa.aval], {"y": scalar})
            return _floor(prog, [xa._buf], j)
        general = type(xa).__dict__[name]._general
        s_aval = core.ShapedArray((), xa.dtype, True)
        closed = core.trace_to_graph(lambda a, s: [general(a, s)], [xa.aval, s_aval])
        prog = dispatch.compile_graph(name.strip("_"), closed.graph, closed.consts)
        return _floor(prog, [xa._buf, dispatch._scalar_arg(scalar, xa.dtype)], j)
    return _row(f"eager `{label}`, f32 3-vector", call_j, call_x, 1.0, floor)


def bench_scalar_ops():
    return [_scalar_row("x * 2.0", operator.mul, "__mul__"),
            _scalar_row("x + 1", operator.add, "__add__", scalar=1),
            _scalar_row("2 * x", operator.mul, "__rmul__", swap=True, scalar=2),
            _scalar_row("x / 3.0", operator.truediv, "__truediv__", scalar=3.0),
            _scalar_row("x ** 2", operator.pow, None, scalar=2),
            _scalar_row("x > 0", operator.gt, "__gt__", scalar=0)]


def run():
    return [bench_jit_small(), bench_jit_inline(), bench_jit_dict100(), bench_eager_sin(),
            *bench_scalar_ops()]


if __name__ == "__main__":
    main(run)
