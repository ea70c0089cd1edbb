"""pmap on 8 CPU devices, against JAX 0.10 on the same 8 host devices: values, shapes,
dtypes and shardings (as specs over the pmap mesh) of in_axes/out_axes/static arguments/
devices, collectives over the axis name, grad/vmap/jit of a pmap, and the errors.

As tests/test_collectives.py: every `case_*` runs in one worker subprocess (`python
tests/test_pmap.py` is the worker) that sets `jax_num_cpu_devices` = 8 for both libraries;
each `test_*` asserts that its case passed there.
"""
from __future__ import annotations


import numpy as np
import pytest

import device_worker

N = 8


def _same(xr, jr, what, rtol=0.0):
    import jax
    jl, xl = jax.tree_util.tree_leaves(jr), jax.tree_util.tree_leaves(xr)
    assert len(jl) == len(xl), what
    for a, b in zip(jl, xl):
        assert b.shape == a.shape and b.dtype == a.dtype, (what, b.shape, a.shape, b.dtype, a.dtype)
        if rtol:
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, err_msg=what)
        else:
            assert np.array_equal(np.asarray(b), np.asarray(a)), (what, np.asarray(b), np.asarray(a))
        js, xs = getattr(a, "sharding", None), getattr(b, "sharding", None)
        if js is not None and hasattr(js, "spec"):
            assert tuple(xs.spec) == tuple(js.spec), (what, xs.spec, js.spec)
            assert xs.mesh.axis_names == js.mesh.axis_names, (what, xs.mesh, js.mesh)
            assert [d.id for d in xs.mesh.devices.flat] == [d.id for d in js.mesh.devices.flat], what


def _progs(lib):
    """(name, pmapped function, args) written once for both libraries."""
    jnp, lax = lib.numpy, lib.lax
    x8 = np.arange(8.0, dtype=np.float32)
    x43 = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    return [
        ("double", lib.pmap(lambda x: x * 2), (x8,)),
        ("three_devices", lib.pmap(lambda x: jnp.sin(x)), (x8[:3],)),
        ("in_axes_none", lib.pmap(lambda x, y: lax.psum(x * y, "i"), axis_name="i", in_axes=(0, None)),
         (x8[:4], np.float32(3.0))),
        ("in_axes_1", lib.pmap(lambda x: x.sum(), in_axes=1), (x43,)),
        ("out_axes", lib.pmap(lambda x: (x, lax.axis_index("i")), axis_name="i", out_axes=(1, 0)), (x43,)),
        ("dict_in_axes", lib.pmap(lambda d: d["a"] + d["b"], in_axes=({"a": 0, "b": None},)),
         ({"a": x8[:2], "b": np.float32(1.0)},)),
        ("static", lib.pmap(lambda x, n: x * n, static_broadcasted_argnums=1), (x8[:2], 5)),
        ("out_axes_none", lib.pmap(lambda x: lax.psum(x, "i"), axis_name="i", out_axes=None), (x8[:4],)),
        ("pmean_all_gather", lib.pmap(lambda x: (lax.pmean(x, "i"), lax.all_gather(x, "i")), axis_name="i"),
         (x43,)),
        ("ppermute", lib.pmap(lambda x: lax.ppermute(x, "i", [(j, (j + 1) % 4) for j in range(4)]),
                              axis_name="i"), (x43,)),
        ("int_and_pytree_out", lib.pmap(lambda x: {"n": (x > 2).astype(jnp.int32), "m": x.max()}), (x43,)),
    ]


def case_forward_matches_jax():
    import jax
    import xlafront as xf
    for (name, jf, args), (_, xfn, _) in zip(_progs(jax), _progs(xf)):
        _same(xfn(*args), jf(*args), name)
        _same(xfn(*args), jf(*args), name + " (second call, cached)")


def case_devices_argument():
    import jax
    import xlafront as xf
    x = np.arange(2.0, dtype=np.float32)
    jr = jax.pmap(lambda v: v + 1, devices=jax.devices()[2:4])(x)
    xr = xf.pmap(lambda v: v + 1, devices=xf.devices()[2:4])(x)
    _same(xr, jr, "devices")
    assert [s.device.id for s in xr.addressable_shards] == [s.device.id for s in jr.addressable_shards]


def case_grad_vmap_jit_of_pmap_match_jax():
    import jax
    import xlafront as xf
    x = np.linspace(-1, 2, 4).astype(np.float32)

    def loss(lib):
        f = lib.pmap(lambda v: lib.numpy.sin(v) * lib.lax.psum(v, "i"), axis_name="i")
        return lambda v: (f(v) ** 2).sum()
    _same(xf.grad(loss(xf))(x), jax.grad(loss(jax))(x), "grad", rtol=1e-6)
    g = lambda lib: lib.vmap(lib.pmap(lambda v: v * 2 + 1))
    _same(g(xf)(np.ones((3, 2), np.float32)), g(jax)(np.ones((3, 2), np.float32)), "vmap of pmap")
    j = lambda lib: lib.jit(lib.pmap(lambda v: lib.numpy.cos(v)))
    _same(j(xf)(x), j(jax)(x), "jit of pmap", rtol=1e-6)
    # finite differences of the pmapped loss
    eps = 1e-3
    fd = [(loss(xf)(x + eps * e) - loss(xf)(x - eps * e)) / (2 * eps) for e in np.eye(4, dtype=np.float32)]
    np.testing.assert_allclose(np.asarray(xf.grad(loss(xf))(x)), np.asarray(fd), rtol=2e-2, atol=2e-2)


def case_errors_and_next_call_works():
    import jax
    import xlafront as xf
    ok = np.arange(4.0, dtype=np.float32)
    for name, call in [
        ("more than 8 devices", lambda lib: lib.pmap(lambda v: v)(np.arange(16.0))),
        ("inconsistent sizes", lambda lib: lib.pmap(lambda a, b: a)(np.arange(4.0), np.arange(3.0))),
        ("no mapped axis", lambda lib: lib.pmap(lambda a: a, in_axes=None)(np.arange(4.0))),
        ("in_axes not a prefix", lambda lib: lib.pmap(lambda a: a, in_axes=(0, 0))(np.arange(4.0))),
    ]:
        with pytest.raises(ValueError):
            call(jax)
        with pytest.raises(ValueError) as e:
            call(xf)
        assert "test_pmap.py" in str(e.value) or name == "no mapped axis", (name, str(e.value))
        _same(xf.pmap(lambda v: v - 1)(ok), jax.pmap(lambda v: v - 1)(ok), "after " + name)
    # a rank-0 argument: JAX fails inside its own code (IndexError); xlafront says why
    with pytest.raises(ValueError, match="rank should be at least 1"):
        xf.pmap(lambda v: v)(np.float32(1.0))


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


def _worker(only=None):
    device_worker.run_cases(CASES, N, only)


@pytest.fixture(scope="module")
def results():
    return device_worker.results_of(__file__, "pmap", timeout=900)


_check = device_worker.check


def test_forward_matches_jax(results):
    _check(results, "forward_matches_jax")


def test_devices_argument(results):
    _check(results, "devices_argument")


def test_grad_vmap_jit_of_pmap_match_jax(results):
    _check(results, "grad_vmap_jit_of_pmap_match_jax")


def test_errors_and_next_call_works(results):
    _check(results, "errors_and_next_call_works")


def test_every_case_has_a_test():
    tests = {n[5:] for n in globals() if n.startswith("test_")}
    assert set(CASES) <= tests, set(CASES) - tests


if __name__ == "__main__":
    _worker()
