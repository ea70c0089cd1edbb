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

import os
import sys

import numpy as np
import pytest

import device_worker

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
            xf.shard_map(xfn, mesh=xm, in_specs=xin, out_specs=xout, check_vma=False))


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
        # ... and over arguments on one device (the program runs on the shard_map's mesh), as JAX's
        _same(xf.jit(lambda a: xs(a) * 2)(x), jax.jit(lambda a: js(a) * 2)(x), "jit host " + name)


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
    def calls(L):
        return [lambda: L.pmax(1.0, "x"), lambda: L.all_gather(1.0, "x"), lambda: L.psum_scatter(x, "x"),
                lambda: L.ppermute(x, "x", [(0, 1)]), lambda: L.all_to_all(x, "x", 0, 0),
                lambda: L.axis_index("x")]
    for lib in (jax, xf):
        for k, call in enumerate(calls(lib.lax)):
            try:
                call()
            except NameError as e:
                assert "unbound axis name: x" in str(e), str(e)
            except NotImplementedError as e:
                # JAX evaluates ppermute/all_to_all before it looks the name up (docs/differences.md)
                assert lib is jax and k in (3, 4) and "Evaluation rule" in str(e), (lib.__name__, k, str(e))
            else:
                raise AssertionError(f"{lib.__name__}: call {k}: no NameError")

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


# ----------------------------------------------------------------------------- autodiff
def _grad_progs(lax, np_):
    """(name, body, in_spec, out_spec) over the (4, 2) mesh; each output is reduced to a loss."""
    from jax.sharding import PartitionSpec as P
    return [
        ("psum", lambda a: lax.psum(np_.sin(a), "x"), P("x"), P()),
        ("psum_xy_partial_in", lambda a: lax.psum(np_.sin(a) * a, ("x", "y")), P("x"), P()),
        ("pmean_y", lambda a: lax.pmean(a ** 2, "y") * a, P("x", "y"), P("x", "y")),
        ("all_gather", lambda a: np_.sin(lax.all_gather(a, "x")) * 2, P("x"), P()),
        ("all_gather_tiled", lambda a: np_.cos(lax.all_gather(a * a, "y", axis=1, tiled=True)), P("x", "y"), P("x")),
        ("psum_scatter", lambda a: np_.sin(lax.psum_scatter(a, "y", scatter_dimension=1)), P("x"), P("x")),
        ("psum_scatter_tiled", lambda a: lax.psum_scatter(np_.sin(a), "x", tiled=True) ** 2, P(None, "y"), P("x", "y")),
        ("ppermute", lambda a: np_.sin(lax.ppermute(a, "x", [(0, 1), (1, 2), (2, 0)])) * a, P("x"), P("x")),
        # (JAX 0.10's transpose of an untiled all_to_all fails on its own shapes ("Expected
        # cotangent type float32[1,2,2] but got float32[2,1,2]"): its side is written tiled)
        ("all_to_all", (lambda a: np_.tanh(lax.all_to_all(a, "y", 1, 0))) if np_.__name__.startswith("xlafront")
         else (lambda a: np_.tanh(lax.all_to_all(a[None], "y", 2, 0, tiled=True)[:, :, 0])), P("x"), P("x")),
        ("all_to_all_tiled", lambda a: lax.all_to_all(np_.sin(a), "x", 0, 1, tiled=True) ** 2, P(), P("x")),
        ("replicated_out", lambda a: np_.sin(a), P(), P()),
    ]


def case_grad_of_each_collective_matches_jax():
    jax, xf = _libs()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    jm, xm = _meshes()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 2)).astype(np.float32)
    for (name, jf, ji, jo), (_, xfn, _, _) in zip(_grad_progs(jax.lax, jnp), _grad_progs(xf.lax, xnp)):
        js, xs = _both_shard_map(jf, xfn, jm, xm, (ji,), jo)
        out_shape = js(x).shape
        wts = rng.normal(size=out_shape).astype(np.float32)
        jg = jax.grad(lambda a: (js(a) * wts).sum())(x)
        xg = xf.grad(lambda a: (xs(a) * wts).sum())(x)
        _same(xg, jg, "grad " + name, rtol=2e-5, atol=1e-6)
        # under jit, the arguments sharded as the shard_map wants them
        from xlafront.sharding import NamedSharding
        xa = xf.device_put(x, NamedSharding(xm, _xspec(ji)))
        _same(xf.jit(xf.grad(lambda a: (xs(a) * wts).sum()))(xa), jg, "jit grad " + name, rtol=2e-5, atol=1e-6)
        # forward mode
        t = rng.normal(size=x.shape).astype(np.float32)
        jp, jt = jax.jvp(js, (x,), (t,))
        xp, xt = xf.jvp(xs, (x,), (t,))
        _same(xp, jp, "jvp primal " + name, rtol=2e-6, atol=1e-6)
        _same(xt, jt, "jvp tangent " + name, rtol=2e-5, atol=1e-6)


def case_data_parallel_grad_equals_single_device():
    """grad of a data-parallel MLP loss (pmean of per-shard losses) through shard_map equals
    the single-device gradient and JAX's, eager, under jit, and of a jit (grad(jit(f)))."""
    jax, xf = _libs()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    from jax.sharding import PartitionSpec as JP
    from xlafront.sharding import NamedSharding, PartitionSpec as XP
    jm, xm = _meshes((8,), ("batch",))
    rng = np.random.default_rng(2)
    params = {"w1": rng.normal(size=(6, 16)).astype(np.float32) / 3, "b1": np.zeros(16, np.float32),
              "w2": rng.normal(size=(16, 3)).astype(np.float32) / 4}
    xb = rng.normal(size=(64, 6)).astype(np.float32)
    yb = rng.normal(size=(64, 3)).astype(np.float32)

    def local_loss(np_):
        def f(p, x, y):
            h = np_.tanh(x @ p["w1"] + p["b1"])
            return np_.mean((h @ p["w2"] - y) ** 2)
        return f

    def sharded(lib, np_, P, mesh):
        def body(p, x, y):
            return lib.lax.pmean(local_loss(np_)(p, x, y), "batch")
        return lib.shard_map(body, mesh=mesh, in_specs=(P(), P("batch"), P("batch")), out_specs=P())
    jl, xl = sharded(jax, jnp, JP, jm), sharded(xf, xnp, XP, xm)
    jg = jax.grad(jl)(params, xb, yb)
    single = xf.grad(local_loss(xnp))(params, xb, yb)
    xs_b = xf.device_put(xb, NamedSharding(xm, XP("batch")))
    ys_b = xf.device_put(yb, NamedSharding(xm, XP("batch")))
    for what, g in [("eager", xf.grad(xl)(params, xb, yb)),
                    ("jit(grad)", xf.jit(xf.grad(xl))(params, xs_b, ys_b)),
                    ("grad(jit)", xf.grad(xf.jit(xl))(params, xb, yb)),
                    ("value_and_grad", xf.value_and_grad(xl)(params, xb, yb)[1])]:
        _same(g, jg, what, rtol=2e-5, atol=1e-6)
        _same(g, single, what + " vs single device", rtol=2e-5, atol=1e-6)
    # a training step: the pmean of per-shard gradients inside the body, as data parallelism does
    # (JAX with check_vma=False: with its default, a grad inside the body already sums over the
    # devices the replicated params are broadcast to; docs/differences.md)
    def step(lib, np_, P, mesh):
        def body(p, x, y):
            g = lib.grad(local_loss(np_))(p, x, y)
            g = lib.lax.pmean(g, "batch")
            return lib.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)
        extra = {"check_vma": False} if lib is jax else {}
        return lib.shard_map(body, mesh=mesh, in_specs=(P(), P("batch"), P("batch")), out_specs=P(), **extra)
    jn = step(jax, jnp, JP, jm)(params, xb, yb)
    xn = xf.jit(step(xf, xnp, XP, xm))(params, xs_b, ys_b)
    ref = xf.tree_util.tree_map(lambda a, b: a - 0.1 * b, params, single)
    _same(xn, jn, "step", rtol=2e-5, atol=1e-6)
    _same(xn, ref, "step vs single device", rtol=2e-5, atol=1e-6)


def case_pmax_pmin_derivative():
    """JAX has no derivative for pmax/pmin; xlafront's is reduce_max's: the tangent of the
    device holding the extremum, ties sharing it equally (checked against max over one device)."""
    jax, xf = _libs()
    import xlafront.numpy as xnp
    from xlafront.sharding import PartitionSpec as XP
    _, xm = _meshes((8,), ("i",))
    x = np.array([[1.0, -2], [3, 0], [3, -2], [2, 5], [0, 1], [3, -1], [1, 4], [-5, 5]], np.float32)
    for name, lax_f, np_f in [("pmax", xf.lax.pmax, xnp.max), ("pmin", xf.lax.pmin, xnp.min)]:
        sm = xf.shard_map(lambda a: lax_f(a, "i"), mesh=xm, in_specs=(XP("i"),), out_specs=XP())
        wts = np.array([[1.5, -0.5]], np.float32)
        g = xf.grad(lambda a: (sm(a) * wts).sum())(x)
        ref = xf.grad(lambda a: (np_f(a, axis=0, keepdims=True) * wts).sum())(x)
        assert np.array_equal(np.asarray(sm(x)), np.asarray(np_f(x, axis=0, keepdims=True))), name
        np.testing.assert_allclose(np.asarray(g), np.asarray(ref), rtol=1e-6, err_msg=name)
    try:
        jm, _ = _meshes((8,), ("i",))
        from jax.sharding import PartitionSpec as JP
        jax.grad(lambda a: jax.shard_map(lambda b: jax.lax.pmax(b, "i"), mesh=jm, in_specs=JP("i"),
                                         out_specs=JP())(a).sum())(x)
    except NotImplementedError:
        pass   # JAX: "Differentiation rule for 'pmax' not implemented" (docs/differences.md)
    else:
        raise AssertionError("JAX differentiates pmax now: compare with it")


def case_ring_all_reduce_with_ppermute():
    """A ring all-reduce written with ppermute in a fori_loop equals psum and JAX's, and its
    gradient (ppermute's transpose: the inverse permutation) equals psum's."""
    jax, xf = _libs()
    jm, xm = _meshes((8,), ("i",))
    x = np.random.default_rng(4).normal(size=(8, 5)).astype(np.float32)

    def ring(lib):
        lax = lib.lax

        def body(a):
            perm = [(k, (k + 1) % 8) for k in range(8)]

            def step(_, carry):
                acc, msg = carry
                msg = lax.ppermute(msg, "i", perm)
                return acc + msg, msg
            acc, _ = lax.fori_loop(0, 7, step, (a, a))
            return acc
        return body
    js, xs = _both_shard_map(ring(jax), ring(xf), jm, xm, (jax.P("i"),), jax.P("i"))
    _, xp = _both_shard_map(lambda a: a, lambda a: xf.lax.psum(a, "i"), jm, xm, (jax.P("i"),), jax.P("i"))
    _same(xf.jit(xs)(x), jax.jit(js)(x), "ring", rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(xs(x)), np.asarray(xp(x)), rtol=1e-5, atol=1e-6)
    w = np.random.default_rng(5).normal(size=(8, 5)).astype(np.float32)
    g = xf.grad(lambda a: (xs(a) * w).sum())(x)
    _same(g, jax.grad(lambda a: (js(a) * w).sum())(x), "ring grad", rtol=1e-5, atol=1e-6)
    _same(g, xf.grad(lambda a: (xp(a) * w).sum())(x), "ring grad vs psum", rtol=1e-5, atol=1e-6)


def case_second_order_and_vmap_of_grad():
    """jvp of grad, hessian and jit(vmap(grad)) through a shard_map (all_gather then psum on the
    (4, 2) mesh) equal JAX's."""
    jax, xf = _libs()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    jm, xm = _meshes()
    x = np.random.default_rng(6).normal(size=(8, 4)).astype(np.float32)

    def make(lib, np_, mesh):
        def body(a):
            return lib.lax.psum(np_.sin(lib.lax.all_gather(a, "y", axis=1, tiled=True)) ** 2, "x")
        in_spec, out_spec = (jax.P("x", "y"), jax.P()) if lib is jax else (_xspec(("x", "y")), _xspec(()))
        sm = lib.shard_map(body, mesh=mesh, in_specs=(in_spec,), out_specs=out_spec, check_vma=False)
        return lambda a: (sm(a) * np_.arange(4.0)).sum()
    jf, xfn = make(jax, jnp, jm), make(xf, xnp, xm)
    t = np.ones_like(x)
    _same(xf.jvp(xf.grad(xfn), (x,), (t,))[1], jax.jvp(jax.grad(jf), (x,), (t,))[1], "jvp of grad", rtol=1e-5, atol=1e-5)
    _same(xf.hessian(xfn)(x), jax.hessian(jf)(x), "hessian", rtol=1e-5, atol=1e-5)
    xs = np.stack([x, 2 * x])
    _same(xf.jit(xf.vmap(xf.grad(xfn)))(xs), jax.jit(jax.vmap(jax.grad(jf)))(xs), "jit vmap grad", rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- batching
def case_vmap_of_shard_map_and_vmap_in_body_match_jax():
    """vmap of a function that calls shard_map (batch axis unsplit), eager and under jit, and vmap
    inside a shard_map body, for every collective: equal to JAX's and to a Python loop."""
    jax, xf = _libs()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    from xlafront.sharding import NamedSharding
    jm, xm = _meshes()
    rng = np.random.default_rng(3)
    xs = rng.normal(size=(3, 8, 4, 2)).astype(np.float32)
    for (name, jf, ji, jo), (_, xfn, _, _) in zip(_forward_progs(jax.lax), _forward_progs(xf.lax)):
        js, xsm = _both_shard_map(jf, xfn, jm, xm, (ji,), jo)
        for axis in (0, 2):
            arg = np.moveaxis(xs, 0, axis)
            jr = jax.vmap(js, in_axes=axis)(arg)
            _same(xf.vmap(xsm, in_axes=axis)(arg), jr, f"vmap {name} in_axes={axis}", rtol=1e-6, atol=1e-6)
        loop = np.stack([np.asarray(xsm(a)) for a in xs])
        _same(xf.vmap(xsm)(xs), loop, f"vmap {name} vs loop", rtol=1e-6, atol=1e-6)
        xa = xf.device_put(xs, NamedSharding(xm, _xspec((None,) + tuple(ji))))
        _same(xf.jit(xf.vmap(xsm))(xa), jax.vmap(js)(xs), f"jit vmap {name}", rtol=1e-6, atol=1e-6)
        # vmap inside the body: over a leading axis of the block
        inner = (lambda f: (lambda a: xf.vmap(f, in_axes=1, out_axes=1)(a)))
        jinner = (lambda f: (lambda a: jax.vmap(f, in_axes=1, out_axes=1)(a)))
        if len(ji) > 1:
            continue   # a block too small to hold a batch axis at 1
        jb, xb = _both_shard_map(jinner(jf), inner(xfn), jm, xm, (ji,), jo)
        y = rng.normal(size=(8, 3, 4, 2)).astype(np.float32)
        _same(xb(y), jb(y), f"vmap in body {name}", rtol=1e-6, atol=1e-6)
    # batched and unbatched operands together, and grad of a vmapped shard_map
    sm2 = xf.shard_map(lambda a, b: xf.lax.psum(a * b, "x"), mesh=xm, in_specs=(_xspec(("x",)), _xspec(())),
                       out_specs=_xspec(()))
    jsm2 = jax.shard_map(lambda a, b: jax.lax.psum(a * b, "x"), mesh=jm, in_specs=(jax.P("x"), jax.P()),
                         out_specs=jax.P(), check_vma=False)
    b = rng.normal(size=(2, 2)).astype(np.float32)
    a = rng.normal(size=(8, 2)).astype(np.float32)
    bs = rng.normal(size=(5, 2, 2)).astype(np.float32)
    _same(xf.vmap(sm2, in_axes=(None, 0))(a, bs), jax.vmap(jsm2, in_axes=(None, 0))(a, bs), "mixed", rtol=1e-6, atol=1e-6)
    g = xf.grad(lambda a: xf.vmap(sm2, in_axes=(None, 0))(a, bs).sum())(a)
    jg = jax.grad(lambda a: jax.vmap(jsm2, in_axes=(None, 0))(a, bs).sum())(a)
    _same(g, jg, "grad of vmap", rtol=1e-5, atol=1e-6)


def _named_progs(lax, np_):
    """(name, f) for vmap(f, axis_name='i') over a leading axis of size 4."""
    return [
        ("psum", lambda a: lax.psum(a, "i")),
        ("psum_unbatched", lambda a: lax.psum(np_.ones(3), "i") + a),
        ("psum_bool", lambda a: lax.psum(a > 0, "i")),
        ("pmean", lambda a: a - lax.pmean(a, "i")),
        ("pmax", lambda a: lax.pmax(a, "i")),
        ("pmin", lambda a: lax.pmin(a, "i") * a),
        ("axis_index", lambda a: a * lax.axis_index("i")),
        ("axis_size", lambda a: a * lax.axis_size("i")),
        ("all_gather", lambda a: lax.all_gather(a, "i")),
        ("all_gather_1", lambda a: lax.all_gather(a, "i", axis=1)),
        ("all_gather_tiled", lambda a: lax.all_gather(a, "i", tiled=True)),
        ("all_gather_tiled_1", lambda a: lax.all_gather(a, "i", axis=1, tiled=True)),
        ("psum_scatter", lambda a: lax.psum_scatter(a[:, :1].repeat(4, 1), "i", scatter_dimension=1)),
        ("psum_scatter_tiled", lambda a: lax.psum_scatter(a, "i", tiled=True)),
        ("ppermute", lambda a: lax.ppermute(a, "i", [(0, 1), (1, 2), (2, 3), (3, 0)])),
        ("ppermute_reverse", lambda a: lax.ppermute(a, "i", [(0, 3), (1, 2), (2, 1), (3, 0)])),
        ("all_to_all_tiled", lambda a: lax.all_to_all(a, "i", 0, 1, tiled=True)),
        ("all_to_all", lambda a: lax.all_to_all(a[:, :1].repeat(4, 1), "i", 1, 0)),
        ("grad_psum", lambda a: __import__(lax.__name__.split(".")[0]).grad(
            lambda b: (lax.psum(np_.sin(b), "i") * b).sum())(a)),
        ("grad_all_gather", lambda a: __import__(lax.__name__.split(".")[0]).grad(
            lambda b: (np_.sin(lax.all_gather(b, "i")) * np_.arange(4.0)[:, None]).sum())(a)),
        ("grad_ppermute", lambda a: __import__(lax.__name__.split(".")[0]).grad(
            lambda b: (lax.ppermute(b, "i", [(0, 2), (2, 1), (1, 3), (3, 0)]) * np_.cos(b)).sum())(a)),
        ("grad_all_to_all", lambda a: __import__(lax.__name__.split(".")[0]).grad(
            lambda b: (np_.sin(lax.all_to_all(b, "i", 0, 1, tiled=True)) ** 2).sum())(a)),
    ]


def case_vmap_axis_name_collectives_match_jax():
    """vmap(f, axis_name='i'): the collectives over 'i' work over the batch axis as JAX's, also
    nested with another named vmap and under jit."""
    jax, xf = _libs()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    x = (np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3) - 20) / 7
    for (name, jf), (_, xfn) in zip(_named_progs(jax.lax, jnp), _named_progs(xf.lax, xnp)):
        jr = jax.vmap(jf, axis_name="i")(x)
        _same(xf.vmap(xfn, axis_name="i")(x), jr, "vmap " + name, rtol=2e-6, atol=1e-6)
        _same(xf.jit(xf.vmap(xfn, axis_name="i"))(x), jr, "jit vmap " + name, rtol=2e-6, atol=1e-6)
        _same(xf.vmap(xfn, axis_name="i", in_axes=1, out_axes=1)(np.swapaxes(x, 0, 1)),
              jax.vmap(jf, axis_name="i", in_axes=1, out_axes=1)(np.swapaxes(x, 0, 1)), "in_axes=1 " + name,
              rtol=2e-6, atol=1e-6)
    # two named axes: psum over both, over the inner, over the outer
    y = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    for axes in [("a", "b"), "b", "a"]:
        jr = jax.vmap(jax.vmap(lambda v: jax.lax.psum(v, axes) + jax.lax.axis_index("a"), axis_name="b"), axis_name="a")(y)
        xr = xf.vmap(xf.vmap(lambda v: xf.lax.psum(v, axes) + xf.lax.axis_index("a"), axis_name="b"), axis_name="a")(y)
        _same(xr, jr, f"nested {axes}", rtol=1e-6)
    # jit, scan, cond and grad inside the named vmap: the graphs they batch keep the name
    def inner(lib, np_):
        lax = lib.lax
        return [
            ("vmap(jit)", lambda a: lib.jit(lambda b: lax.psum(b, "i") + lax.axis_index("i"))(a)),
            ("scan", lambda a: lax.scan(lambda c, r: (c + lax.psum(r, "i"), c), 0.0, a)[0]),
            ("cond", lambda a: lax.cond(a.sum() > 0, lambda b: lax.pmax(b, "i"), lambda b: b, a)),
            ("grad", lambda a: lib.grad(lambda b: (lax.psum(np_.sin(b), "i") * b).sum())(a)),
            # no batched operand, but the loop/branch uses the axis name
            ("fori_unbatched", lambda a: a + lax.fori_loop(0, 3, lambda i, c: c + lax.psum(1.0, "i"), 0.0)),
            ("cond_unbatched", lambda a: a + lax.cond(True, lambda: lax.psum(2.0, "i"), lambda: 0.0)),
            ("scan_axis_index", lambda a: a + lax.scan(lambda c, _: (c + lax.axis_index("i"), None), 0, None,
                                                       length=2)[0]),
        ]
    z = x[:, 0]
    for (name, jf), (_, xfn) in zip(inner(jax, jnp), inner(xf, xnp)):
        _same(xf.vmap(xfn, axis_name="i")(z), jax.vmap(jf, axis_name="i")(z), name, rtol=2e-6, atol=1e-6)
    # the name is bound only inside the vmap
    try:
        xf.vmap(lambda v: xf.lax.psum(v, "j"), axis_name="i")(x)
    except NameError as e:
        assert "unbound axis name: j" in str(e)
    else:
        raise AssertionError("no NameError")


def case_out_specs_checked_as_jax():
    """With check_vma (the default) an output that may vary over a mesh axis its out_spec leaves
    out is a ValueError, as JAX's; psum/pmax make a value invariant, the other collectives and
    axis_index do not; check_vma=False (or the older check_rep=False) turns the check off."""
    jax, xf = _libs()
    from jax.sharding import PartitionSpec as P
    jm, xm = _meshes()
    x = np.arange(32, dtype=np.float32).reshape(8, 4)

    def progs(lax):
        return [
            ("varying", lambda a: a * 2, P("x"), P()),
            ("psum_x", lambda a: lax.psum(a, "x"), P("x"), P()),
            ("psum_y_only", lambda a: lax.psum(a, "y"), P("x"), P()),
            ("psum_y_of_xy", lambda a: lax.psum(a, "y"), P("x", "y"), P("x")),
            ("pmax_xy", lambda a: lax.pmax(a, ("x", "y")), P("x", "y"), P()),
            ("axis_index", lambda a: a.sum() * 0 + lax.axis_index("y"), P(), P()),
            ("all_gather", lambda a: lax.all_gather(a, "x"), P("x"), P()),
            ("ppermute", lambda a: lax.ppermute(a, "x", [(0, 1), (1, 0)]), P(), P()),
            ("replicated_in", lambda a: a + 1, P(), P()),
            ("jit_inside", lambda a: jax.jit(lambda b: lax.psum(b, "x"))(a) if lax is jax.lax
             else xf.jit(lambda b: lax.psum(b, "x"))(a), P("x"), P()),
        ]
    for (name, jf, ji, jo), (_, xfn, _, _) in zip(progs(jax.lax), progs(xf.lax)):
        try:
            jr = jax.shard_map(jf, mesh=jm, in_specs=(ji,), out_specs=jo)(x)
        except ValueError as e:
            assert "possibly varying" in str(e), str(e)
            jr = None
        try:
            xr = xf.shard_map(xfn, mesh=xm, in_specs=(_xspec(ji),), out_specs=_xspec(jo))(x)
        except ValueError as e:
            assert jr is None, (name, str(e))
            assert "possibly varying" in str(e) and "test_collectives.py" in str(e), str(e)
            # turned off, it runs (and the next good call works)
            xf.shard_map(xfn, mesh=xm, in_specs=(_xspec(ji),), out_specs=_xspec(jo), check_vma=False)(x)
            continue
        assert jr is not None, f"{name}: JAX refuses it, xlafront did not"
        _same(xr, jr, name)
    from xlafront.experimental.shard_map import shard_map as old_shard_map
    old_shard_map(lambda a: a * 2, xm, (_xspec(("x",)),), _xspec(()), check_rep=False)(x)


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


# ----------------------------------------------------------------------------- the worker
def _worker(only=None):
    device_worker.run_cases(CASES, N, only)


@pytest.fixture(scope="module")
def results():
    return device_worker.results_of(__file__, "collectives", timeout=900)


_check = device_worker.check


def test_forward_collectives_match_jax(results):
    _check(results, "forward_collectives_match_jax")


def test_forward_on_a_1d_mesh_and_dtypes(results):
    _check(results, "forward_on_a_1d_mesh_and_dtypes")


def test_collective_errors(results):
    _check(results, "collective_errors")


def test_grad_of_each_collective_matches_jax(results):
    _check(results, "grad_of_each_collective_matches_jax")


def test_data_parallel_grad_equals_single_device(results):
    _check(results, "data_parallel_grad_equals_single_device")


def test_pmax_pmin_derivative(results):
    _check(results, "pmax_pmin_derivative")


def test_vmap_of_shard_map_and_vmap_in_body_match_jax(results):
    _check(results, "vmap_of_shard_map_and_vmap_in_body_match_jax")


def test_vmap_axis_name_collectives_match_jax(results):
    _check(results, "vmap_axis_name_collectives_match_jax")


def test_ring_all_reduce_with_ppermute(results):
    _check(results, "ring_all_reduce_with_ppermute")


def test_out_specs_checked_as_jax(results):
    _check(results, "out_specs_checked_as_jax")


def test_second_order_and_vmap_of_grad(results):
    _check(results, "second_order_and_vmap_of_grad")


def test_every_case_has_a_test():
    tests = {n[5:] for n in globals() if n.startswith("test_")}
    assert set(CASES) <= tests


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _worker(sys.argv[1:])
