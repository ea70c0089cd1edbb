"""shard_map's collectives on 8 CPU devices, against JAX 0.10 on the same 8 host devices:
forward values, shapes and dtypes (pmax, pmin, all_gather, psum_scatter, ppermute,
all_to_all, psum/pmean over several axes and of integers/booleans), their derivatives
(grad through a shard_map equals the single-device gradient and JAX's) and batching (vmap
of a shard_map, vmap inside a body, vmap with an axis_name).

As tests/test_sharding.py: every `case_*` runs in one worker subprocess (`python
tests/test_collectives.py` is the worker) that sets `jax_num_cpu_devices` = 8 for both
libraries; each `test_*` asserts that its case passed there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest

N = 8


# ----------------------------------------------------------------------------- helpers
def _libs():
    import jax
    import xlafront as xf
    return jax, xf


def _meshes(shape=(4, 2), names=("x", "y")):
    jax, xf = _libs()
    from jax.sharding import AxisType as JT
    from xlafront.sharding import AxisType as XT
    return (jax.make_mesh(shape, names, axis_types=(JT.Auto,) * len(shape)),
            xf.make_mesh(shape, names, axis_types=(XT.Auto,) * len(shape)))


def _xspec(js):
    from xlafront.sharding import PartitionSpec as XP
    return XP(*js)


def _both_shard_map(jf, xfn, jm, xm, in_specs, out_specs):
    """(JAX's shard_map, xlafront's) of the same body, specs written with JAX's P."""
    import jax
    import xlafront as xf
    jin = tuple(in_specs)
    xin = tuple(_xspec(s) for s in in_specs)
    jout = out_specs if not isinstance(out_specs, tuple) else tuple(out_specs)
    xout = _xspec(out_specs) if not isinstance(out_specs, tuple) else tuple(_xspec(s) for s in out_specs)
    return (jax.shard_map(jf, mesh=jm, in_specs=jin, out_specs=jout, check_vma=False),
            xf.shard_map(xfn, mesh=xm, in_specs=xin, out_specs=xout))


def _same(xr, jr, what, rtol=0.0, atol=0.0):
    import jax
    jl, xl = jax.tree_util.tree_leaves(jr), jax.tree_util.tree_leaves(xr)
    assert len(jl) == len(xl), what
    for a, b in zip(jl, xl):
        assert b.shape == a.shape and b.dtype == a.dtype, (what, b.shape, a.shape, b.dtype, a.dtype)
        if rtol or atol:
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=atol, err_msg=what)
        else:
            assert np.array_equal(np.asarray(b), np.asarray(a)), (what, np.asarray(b), np.asarray(a))


# ----------------------------------------------------------------------------- forward
def _forward_progs(lax):
    """(name, body, in_spec, out_spec) over the (4, 2) mesh ('x', 'y')."""
    from jax.sharding import PartitionSpec as P
    return [
        ("pmax", lambda a: lax.pmax(a, "x"), P("x"), P()),
        ("pmin_xy", lambda a: lax.pmin(a, ("x", "y")), P("x"), P()),
        ("psum_yx", lambda a: lax.psum(a, ("y", "x")), P("x", "y"), P()),
        ("pmean_xy", lambda a: lax.pmean(a, ("x", "y")), P("x"), P()),
        ("all_gather", lambda a: lax.all_gather(a, "x"), P("x"), P()),
        ("all_gather_tiled_1", lambda a: lax.all_gather(a, "y", axis=1, tiled=True), P("x"), P("x")),
        ("all_gather_yx_neg", lambda a: lax.all_gather(a, ("y", "x"), axis=-1), P("x"), P("x")),
        ("psum_scatter", lambda a: lax.psum_scatter(a, "y", scatter_dimension=2), P("x"), P("x")),
        ("psum_scatter_tiled", lambda a: lax.psum_scatter(a, "x", scatter_dimension=1, tiled=True), P(),
         P(None, "x")),
        ("psum_scatter_xy", lambda a: lax.psum_scatter(a, ("x", "y"), tiled=True), P(), P(("x", "y"))),
        ("ppermute_ring", lambda a: lax.ppermute(a, "x", [(0, 1), (1, 2), (2, 3), (3, 0)]), P("x"), P("x")),
        ("ppermute_xy", lambda a: lax.ppermute(a, ("x", "y"), [(i, (i * 3) % 8) for i in range(8)]),
         P(("x", "y")), P(("x", "y"))),
        ("ppermute_partial", lambda a: lax.ppermute(a, "x", [(0, 2)]), P("x"), P("x")),
        ("all_to_all", lambda a: lax.all_to_all(a, "y", 2, 0), P("x"), P("x")),
        ("all_to_all_2_1", lambda a: lax.all_to_all(a, "y", 2, 1), P("x"), P("x")),
        ("all_to_all_tiled", lambda a: lax.all_to_all(a, "x", 1, 0, tiled=True), P("x"), P("x")),
        ("all_to_all_xy", lambda a: lax.all_to_all(a, ("x", "y"), 0, 1, tiled=True), P(), P(None, ("x", "y"))),
        ("pswapaxes", lambda a: lax.pswapaxes(a, "y", 2), P("x"), P("x")),
        ("axis_index_yx", lambda a: a + lax.axis_index(("y", "x")), P("x"), P("x")),
    ]


def case_forward_collectives_match_jax():
    jax, xf = _libs()
    jm, xm = _meshes()
    x = np.arange(8 * 4 * 2, dtype=np.float32).reshape(8, 4, 2) - 20.5
    for (name, jf, ji, jo), (_, xfn, _, _) in zip(_forward_progs(jax.lax), _forward_progs(xf.lax)):
        js, xs = _both_shard_map(jf, xfn, jm, xm, (ji,), jo)
        _same(xs(x), js(x), name)
        # inside a jit over sharded arguments too
        from xlafront.sharding import NamedSharding
        _same(xf.jit(lambda a: xs(a) * 2)(xf.device_put(x, NamedSharding(xm, _xspec(ji)))), js(x) * 2, "jit " + name)


def case_forward_on_a_1d_mesh_and_dtypes():
    jax, xf = _libs()
    from jax.sharding import PartitionSpec as P
    jm, xm = _meshes((8,), ("i",))
    ints = np.arange(16, dtype=np.int8).reshape(8, 2) - 5
    bools = (np.arange(16) % 3 == 0).reshape(8, 2)
    floats = np.linspace(-3, 3, 16, dtype=np.float32).reshape(8, 2)

    def progs(lax):
        return [
            ("psum_int8", lambda a: lax.psum(a, "i"), ints),
            ("psum_bool", lambda a: lax.psum(a, "i"), bools),      # counted, int32
            ("pmax_bool", lambda a: lax.pmax(a, "i"), bools),
            ("pmin_bool", lambda a: lax.pmin(a, ("i",)), bools),
            ("pmax_int8", lambda a: lax.pmax(a, "i"), ints),
            ("pmean_int", lambda a: lax.pmean(a, "i"), ints),      # a float mean
            ("all_gather_bool", lambda a: lax.all_gather(a, "i", tiled=True), bools),
            ("psum_scatter_int", lambda a: lax.psum_scatter(lax.all_gather(a, "i", tiled=True), "i", tiled=True), ints),
            ("ppermute_shift", lambda a: lax.ppermute(a, "i", [(k, (k + 3) % 8) for k in range(8)]), floats),
            ("psum_literal", lambda a: a + lax.psum(2, "i"), floats),
            ("psum_pytree", lambda a: lax.psum({"u": a, "v": (a * 2, a)}, "i")["v"][0], floats),
            ("axis_size", lambda a: a * lax.axis_size("i"), floats),
        ]
    for (name, jf, arg), (_, xfn, _) in zip(progs(jax.lax), progs(xf.lax)):
        js, xs = _both_shard_map(jf, xfn, jm, xm, (P("i"),), P("i"))
        _same(xs(arg), js(arg), name)


def case_collective_errors():
    jax, xf = _libs()
    from xlafront.sharding import PartitionSpec as XP
    _, xm = _meshes()
    x = np.ones((8, 4), np.float32)
    lax = xf.lax
    # unbound axis names: NameError, as JAX's, for every collective
    for name, call in [("pmax", lambda: lax.pmax(1.0, "x")), ("all_gather", lambda: lax.all_gather(1.0, "x")),
                       ("psum_scatter", lambda: lax.psum_scatter(x, "x")),
                       ("ppermute", lambda: lax.ppermute(x, "x", [(0, 1)])),
                       ("all_to_all", lambda: lax.all_to_all(x, "x", 0, 0)),
                       ("axis_index", lambda: lax.axis_index("x"))]:
        for lib in (jax, xf):
            try:
                getattr(lib.lax, name) if lib is jax else None
                (call if lib is xf else {"pmax": lambda: jax.lax.pmax(1.0, "x")}.get(name, call))()
            except NameError as e:
                assert "unbound axis name: x" in str(e), str(e)
            else:
                raise AssertionError(f"{lib.__name__}.{name}: no NameError")

    def run(body):
        return xf.shard_map(body, mesh=xm, in_specs=(XP("x"),), out_specs=XP("x"))(x)

    def raises(cls, text, body):
        try:
            run(body)
        except cls as e:
            assert text in str(e), str(e)
            assert "test_collectives.py" in str(e) or cls is ValueError, str(e)
        else:
            raise AssertionError(f"no {cls.__name__} ({text})")
    raises(NameError, "unbound axis name: z", lambda a: lax.all_gather(a, "z"))
    raises(ValueError, "sources and destinations must be unique", lambda a: lax.ppermute(a, "x", [(0, 1), (2, 1)]))
    raises(ValueError, "sources and destinations must be unique", lambda a: lax.ppermute(a, "x", [(0, 1), (0, 2)]))
    raises(ValueError, "outside the 4 devices", lambda a: lax.ppermute(a, "x", [(0, 4)]))
    raises(ValueError, "must match shard count 2", lambda a: lax.psum_scatter(a, "y", scatter_dimension=1))
    raises(ValueError, "must be divisible by shard_count 4", lambda a: lax.psum_scatter(a, "x", scatter_dimension=0, tiled=True))
    raises(ValueError, "to equal x.shape[split_axis], but they are 4 and 2", lambda a: lax.all_to_all(a, "x", 0, 1))
    raises(ValueError, "out of bounds", lambda a: lax.all_gather(a, "x", axis=3))
    # JAX's messages for the same mistakes
    jm, _ = _meshes()
    from jax.sharding import PartitionSpec as JP
    for body, text in [(lambda a: jax.lax.ppermute(a, "x", [(0, 1), (2, 1)]), "sources and destinations must be unique"),
                       (lambda a: jax.lax.psum_scatter(a, "y", scatter_dimension=1), "must match shard count 2"),
                       (lambda a: jax.lax.all_to_all(a, "x", 0, 1), "but they are 4 and 2")]:
        try:
            jax.shard_map(body, mesh=jm, in_specs=(JP("x"),), out_specs=JP("x"), check_vma=False)(x)
        except ValueError as e:
            assert text in str(e), str(e)
        else:
            raise AssertionError("JAX raised nothing")
    # the next good call works
    out = run(lambda a: lax.pmax(a, "x"))
    assert np.array_equal(np.asarray(out), x)


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


# ----------------------------------------------------------------------------- the worker
def _worker(only=None):
    import jax
    jax.config.update("jax_num_cpu_devices", N)
    import xlafront as xf
    xf.config.update("jax_num_cpu_devices", N)
    out = {}
    for name, fn in CASES.items():
        if only and name not in only:
            continue
        try:
            fn()
            out[name] = None
        except BaseException:
            out[name] = traceback.format_exc()
    print("RESULTS:" + json.dumps(out))


@pytest.fixture(scope="module")
def results():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULTS:"):
            return json.loads(line[len("RESULTS:"):])
    raise AssertionError(f"the collectives worker failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n"
                         f"{proc.stderr[-3000:]}")


def _check(results, name):
    assert name in results, f"case {name} did not run"
    if results[name] is not None:
        pytest.fail(f"case_{name} failed in the 8-device worker:\n{results[name]}", pytrace=False)


def test_forward_collectives_match_jax(results):
    _check(results, "forward_collectives_match_jax")


def test_forward_on_a_1d_mesh_and_dtypes(results):
    _check(results, "forward_on_a_1d_mesh_and_dtypes")


def test_collective_errors(results):
    _check(results, "collective_errors")


def test_every_case_has_a_test():
    tests = {n[5:] for n in globals() if n.startswith("test_")}
    assert set(CASES) <= tests


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _worker(sys.argv[1:])
