"""Sharding on 8 CPU devices: jax.sharding's types, sharded arrays, jit over shardings.

Both xlafront and JAX need 8 host devices before their clients start, and the rest of the
suite runs on one: so every `case_*` below runs in one worker subprocess (started once by
the `results` fixture; `python tests/test_sharding.py` is the worker) that sets
`jax_num_cpu_devices` = 8 for both, and each `test_*` asserts that its case passed there
(showing the worker's traceback when it did not). The checks compare with JAX 0.10 on the
same 8 host devices: values, shardings (as specs over the same mesh), reprs and errors.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import device_worker

N = 8


# ----------------------------------------------------------------------------- the cases
def _both():
    import jax
    import xlafront as xf
    return jax, xf


def _meshes(auto=True):
    jax, xf = _both()
    from jax.sharding import AxisType as JT
    from xlafront.sharding import AxisType as XT
    jt = (JT.Auto, JT.Auto) if auto else None
    xt = (XT.Auto, XT.Auto) if auto else None
    return jax.make_mesh((4, 2), ("x", "y"), axis_types=jt), xf.make_mesh((4, 2), ("x", "y"), axis_types=xt)


def _sdy_parts(text):
    """The sharding-relevant parts of a module in the sdy dialect, in order: its meshes, the
    shardings of @main's arguments and results, constraints and manual computations."""
    import re
    return re.findall(r'sdy\.mesh @\w+ = <[^>]*>|#sdy\.sharding<[^>]*>|sdy\.sharding_constraint \S+ <[^>]*>'
                      r'|in_shardings=\[.*?\] out_shardings=\[.*?\] manual_axes=\{[^}]*\}',
                      re.sub(r"%[\w#]+", "%v", text))


class _nothing:
    def __enter__(self):
        pass

    def __exit__(self, *exc):
        pass


class _gspmd:
    """`jax_use_shardy_partitioner` off inside the block (mhlo.sharding and GSPMD)."""

    def __init__(self, xf):
        self.xf = xf

    def __enter__(self):
        self.xf.config.update("jax_use_shardy_partitioner", False)

    def __exit__(self, *exc):
        self.xf.config.update("jax_use_shardy_partitioner", True)


def _spec(s):
    """A sharding's spec as comparable text (JAX's and xlafront's reprs agree)."""
    return repr(s.spec)


def case_devices():
    jax, xf = _both()
    assert len(xf.devices()) == N and xf.device_count() == N and xf.local_device_count() == N
    assert [d.id for d in xf.devices()] == [d.id for d in jax.devices()]
    assert xf.process_index() == jax.process_index() == 0
    assert xf.process_count() == jax.process_count() == 1
    assert xf.local_devices() == xf.devices()
    # too late once the client runs: the same RuntimeError as JAX's
    try:
        xf.config.update("jax_num_cpu_devices", 4)
    except RuntimeError as e:
        assert "before backends are initialized" in str(e)
    else:
        raise AssertionError("no error")
    assert len(xf.devices()) == N


def case_reprs_match_jax():
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    for auto in (True, False):
        jm, xm = _meshes(auto)
        assert repr(xm) == repr(jm) and str(xm) == str(jm)
        assert repr(xm.abstract_mesh) == repr(jm.abstract_mesh)
        assert xm.shape == jm.shape and xm.axis_names == jm.axis_names and xm.size == jm.size
        assert xm.devices.shape == jm.devices.shape
        assert [d.id for d in xm.devices.flat] == [d.id for d in jm.devices.flat]
        for spec in [(), ("x",), ("x", None), (("x", "y"),), (None, "y"), ("y", "x"), (("y", "x"), None)]:
            js, xs = JN(jm, JP(*spec)), XN(xm, XP(*spec))
            assert repr(XP(*spec)) == repr(JP(*spec)), spec
            assert repr(xs) == repr(js), (repr(xs), repr(js))
            assert xs.is_fully_replicated == js.is_fully_replicated
            assert xs.num_devices == js.num_devices
            shape = (8, 4)
            assert xs.shard_shape(shape) == js.shard_shape(shape)
            jmap = {d.id: i for d, i in js.devices_indices_map(shape).items()}
            xmap = {d.id: i for d, i in xs.devices_indices_map(shape).items()}
            assert jmap == xmap, spec
    assert xf.P is XP and xf.sharding.PartitionSpec is XP
    for a, b in [(("x",), ("x", None)), (("x",), (("x",),)), (("x",), ("y",)), ((), ())]:
        assert (XP(*a) == XP(*b)) == (JP(*a) == JP(*b)), (a, b)
        assert (XN(xm, XP(*a)) == XN(xm, XP(*b))) == (JN(jm, JP(*a)) == JN(jm, JP(*b)))
    assert not isinstance(XP("x"), tuple) and len(XP("x", None)) == 2 and XP("x", None)[1] is None
    xm = xf.sharding.Mesh(np.array(xf.devices()).reshape(2, 4), ("a", "b"))
    jm = jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("a", "b"))
    assert repr(xm) == repr(jm)
    assert xm == xf.sharding.Mesh(np.array(xf.devices()).reshape(2, 4), ("a", "b"))
    assert repr(xf.sharding.AxisType.Explicit) == repr(jax.sharding.AxisType.Explicit)


def case_bad_specs():
    jax, xf = _both()
    from xlafront.sharding import NamedSharding, PartitionSpec as P
    _, xm = _meshes()
    try:
        NamedSharding(xm, P("z"))
    except ValueError as e:
        assert "z" in str(e) and "('x', 'y')" in str(e) and "test_sharding.py" in str(e), str(e)
    else:
        raise AssertionError("no error for an axis the mesh lacks")
    try:
        NamedSharding(xm, P("x", "x"))
    except ValueError as e:
        assert "duplicate" in str(e)
    else:
        raise AssertionError("no error for a repeated axis")
    try:
        xf.device_put(np.arange(6.0), NamedSharding(xm, P("x")))
    except ValueError as e:
        msg = str(e)
        assert "partitioned 4 times" in msg and "dimension size 6" in msg and "'x'" in msg, msg
        assert "test_sharding.py" in msg, msg
    else:
        raise AssertionError("no error for an indivisible dimension")
    f = xf.jit(lambda a: a + 1, in_shardings=NamedSharding(xm, P(None, "y")))
    try:
        f(np.ones((4, 3), np.float32))
    except ValueError as e:
        assert "dimension size 3" in str(e)
    else:
        raise AssertionError("no error for an indivisible jit argument")
    # the next good call works
    out = f(np.ones((4, 2), np.float32))
    assert np.array_equal(np.asarray(out), np.full((4, 2), 2.0, np.float32))


def case_device_put_shards_match_jax():
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    host = np.arange(64, dtype=np.float32).reshape(8, 8)
    for spec in [("x",), ("x", "y"), (None, "y"), (("x", "y"),), ("y", "x"), ()]:
        j = jax.device_put(host, JN(jm, JP(*spec)))
        x = xf.device_put(host, XN(xm, XP(*spec)))
        assert type(x).__name__ == "ShardedArray"
        assert x.sharding == XN(xm, XP(*spec))
        assert repr(x.sharding) == repr(j.sharding)
        assert x.is_fully_replicated == j.is_fully_replicated
        assert np.array_equal(np.asarray(x), host)
        assert str(x) == str(j) and repr(x) == repr(j)
        js, xs = j.addressable_shards, x.addressable_shards
        assert len(js) == len(xs) == N
        for a, b in zip(js, xs):
            assert a.device.id == b.device.id and a.index == b.index and a.replica_id == b.replica_id
            assert np.array_equal(np.asarray(a.data), np.asarray(b.data))
            assert b.data.device == b.device and b.data.shape == a.data.shape
        assert np.array_equal(np.asarray(x.addressable_data(5)), np.asarray(j.addressable_data(5)))
        assert {d.id for d in x.devices()} == set(range(N))
    # reshard: device_put to another sharding, and back to one device
    x = xf.device_put(host, XN(xm, XP("x")))
    y = xf.device_put(x, XN(xm, XP(None, ("x", "y"))))
    assert repr(y.sharding.spec) == "P(None, ('x', 'y'))" and np.array_equal(np.asarray(y), host)
    z = xf.device_put(y, xf.devices()[3])
    assert z.device.id == 3 and np.array_equal(np.asarray(z), host)
    # eager operations read the values (the result is on one device)
    assert np.array_equal(np.asarray(x * 2 + 1), host * 2 + 1)
    assert float(x.sum()) == float(host.sum())
    # a Python scalar keeps its weak type
    w = xf.device_put(2.0, XN(xm, XP()))
    assert w.weak_type and w.is_fully_replicated


def _jit_pairs():
    jax, xf = _both()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    return [
        ("scale", lambda np_: (lambda a: a * 2.0)),
        ("sum", lambda np_: (lambda a: a.sum())),
        ("sum0", lambda np_: (lambda a: np_.sum(a, axis=0))),
        ("tanh_mm", lambda np_: (lambda a: np_.tanh(a @ a.T))),
        ("two_out", lambda np_: (lambda a: (a + 1.0, np_.exp(a).max(axis=1)))),
    ], jnp, xnp


def case_jit_follows_argument_shardings():
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    host = (np.arange(64, dtype=np.float32).reshape(8, 8) / 10.0)
    pairs, jnp, xnp = _jit_pairs()
    for spec in [("x",), ("x", "y"), (None, "y")]:
        j = jax.device_put(host, JN(jm, JP(*spec)))
        x = xf.device_put(host, XN(xm, XP(*spec)))
        for name, make in pairs:
            jo = jax.tree_util.tree_leaves(jax.jit(make(jnp))(j))
            xo = xf.tree_util.tree_leaves(xf.jit(make(xnp))(x))
            single = xf.tree_util.tree_leaves(xf.jit(make(xnp))(host))
            for a, b, c in zip(jo, xo, single):
                np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-6, atol=1e-6,
                                           err_msg=f"{name} {spec}")
                np.testing.assert_allclose(np.asarray(b), np.asarray(c), rtol=2e-6, atol=1e-6)
                assert b.shape == a.shape and b.dtype == a.dtype
                assert _spec(b.sharding) == _spec(a.sharding), (name, spec, b.sharding, a.sharding)


def case_jit_in_out_shardings():
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    a = np.arange(32, dtype=np.float32).reshape(8, 4) / 7
    b = np.arange(16, dtype=np.float32).reshape(4, 4) / 5

    def f(np_):
        return lambda u, v: np_.tanh(u @ v)
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    jf = jax.jit(f(jnp), in_shardings=(JN(jm, JP("x", None)), JN(jm, JP(None, "y"))),
                 out_shardings=JN(jm, JP("x", "y")))
    xf_ = xf.jit(f(xnp), in_shardings=(XN(xm, XP("x", None)), XN(xm, XP(None, "y"))),
                 out_shardings=XN(xm, XP("x", "y")))
    jr, xr = jf(a, b), xf_(a, b)
    np.testing.assert_allclose(np.asarray(xr), np.asarray(jr), rtol=2e-6)
    assert repr(xr.sharding) == repr(jr.sharding)
    # arguments already sharded another way are resharded to in_shardings
    xr2 = xf_(xf.device_put(a, XN(xm, XP("y"))), xnp.asarray(b))
    np.testing.assert_allclose(np.asarray(xr2), np.asarray(jr), rtol=2e-6)
    text = xf_.lower(a, b).as_text()   # Shardy (the default): the sdy attributes JAX writes
    assert "mhlo.num_partitions = 8" in text
    assert _sdy_parts(text) == _sdy_parts(jf.lower(a, b).as_text()), (text, jf.lower(a, b).as_text())
    assert '-> (tensor<8x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {"y"}]>})' in text
    with _gspmd(xf):   # GSPMD: mhlo.sharding, the same values
        text = xf_.lower(a, b).as_text()
        assert "mhlo.num_partitions = 8" in text and "sdy." not in text
        assert text.count('mhlo.sharding = "{devices=[4,1,2]<=[8] last_tile_dim_replicate}"') == 1
        assert 'mhlo.sharding = "{devices=[1,2,4]<=[4,2]T(1,0) last_tile_dim_replicate}"' in text
        assert '-> (tensor<8x4xf32> {mhlo.sharding = "{devices=[4,2]<=[8]}"})' in text
        xr3 = xf_(a, b)
        np.testing.assert_allclose(np.asarray(xr3), np.asarray(jr), rtol=2e-6)
        assert repr(xr3.sharding) == repr(jr.sharding)


def case_jit_cache_keyed_by_sharding():
    jax, xf = _both()
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    _, xm = _meshes()
    host = np.arange(16, dtype=np.float32).reshape(8, 2)
    f = xf.jit(lambda a: a * 3)
    r1 = f(xf.device_put(host, XN(xm, XP("x"))))
    r2 = f(xf.device_put(host, XN(xm, XP("x"))))
    assert f.trace_count == 1 and f._cache_size() == 1
    r3 = f(xf.device_put(host, XN(xm, XP("y"))))
    assert f.trace_count == 2 and f._cache_size() == 2
    r4 = f(xf.numpy.asarray(host))   # one device: its own entry, a plain array out
    assert f._cache_size() == 3 and not hasattr(r4, "_sbuf")
    for r in (r1, r2, r3, r4):
        assert np.array_equal(np.asarray(r), host * 3)
    assert repr(r1.sharding.spec) == "P('x',)" and repr(r3.sharding.spec) == "P('y',)"
    # a sharded argument never runs a single-device entry of the same shapes (pytree path too)
    g = xf.jit(lambda d: d["a"] + 1)
    g({"a": xf.numpy.asarray(host)})
    out = g({"a": xf.device_put(host, XN(xm, XP("x")))})
    assert hasattr(out, "_sbuf") and np.array_equal(np.asarray(out), host + 1)


def case_data_parallel_step_matches_single_device():
    jax, xf = _both()
    import xlafront.numpy as xnp
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    mesh = xf.make_mesh((8,), ("batch",))
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 4)).astype(np.float32)
    xb = rng.normal(size=(64, 16)).astype(np.float32)
    yb = rng.normal(size=(64, 4)).astype(np.float32)

    def loss(w, x, y):
        return xnp.mean((xnp.tanh(x @ w) - y) ** 2)

    step = xf.jit(lambda w, x, y: w - 0.1 * xf.grad(loss)(w, x, y))
    single = step(w, xb, yb)
    sharded = step(xf.device_put(w, XN(mesh, XP())), xf.device_put(xb, XN(mesh, XP("batch"))),
                   xf.device_put(yb, XN(mesh, XP("batch"))))
    np.testing.assert_allclose(np.asarray(sharded), np.asarray(single), rtol=1e-5, atol=1e-6)
    assert sharded.sharding.is_fully_replicated


def case_with_sharding_constraint():
    jax, xf = _both()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    host = np.arange(64, dtype=np.float32).reshape(8, 8) / 9

    def f(np_, lax, N, P, mesh):
        def g(a):
            b = lax.with_sharding_constraint(np_.sin(a), N(mesh, P(None, "x")))
            return (b * 2).sum(axis=1)
        return g
    jr = jax.jit(f(jnp, jax.lax, JN, JP, jm))(jax.device_put(host, JN(jm, JP("x"))))
    xj = xf.jit(f(xnp, xf.lax, XN, XP, xm))
    xa = xf.device_put(host, XN(xm, XP("x")))
    xr = xj(xa)
    np.testing.assert_allclose(np.asarray(xr), np.asarray(jr), rtol=2e-6)
    assert _spec(xr.sharding) == _spec(jr.sharding), (xr.sharding, jr.sharding)
    text = xj.lower(xa).as_text()
    assert 'sdy.sharding_constraint' in text and '<@mesh, [{}, {"x"}]>' in text
    jtext = jax.jit(f(jnp, jax.lax, JN, JP, jm)).lower(jax.device_put(host, JN(jm, JP("x")))).as_text()
    assert _sdy_parts(text) == _sdy_parts(jtext), (text, jtext)
    with _gspmd(xf):
        text = xj.lower(xa).as_text()
        assert 'stablehlo.custom_call @Sharding(' in text
        assert 'mhlo.sharding = "{devices=[1,4,2]<=[8] last_tile_dim_replicate}"' in text
        xr3 = xj(xa)
        np.testing.assert_allclose(np.asarray(xr3), np.asarray(jr), rtol=2e-6)
        assert _spec(xr3.sharding) == _spec(jr.sharding), (xr3.sharding, jr.sharding)
    # grad and vmap through the constraint: values as on one device and as JAX's
    loss = lambda np_, lax, N, P, mesh: (lambda a: (f(np_, lax, N, P, mesh)(a) ** 2).sum())
    jg = jax.jit(jax.grad(loss(jnp, jax.lax, JN, JP, jm)))(jax.device_put(host, JN(jm, JP("x"))))
    xg = xf.jit(xf.grad(loss(xnp, xf.lax, XN, XP, xm)))(xa)
    np.testing.assert_allclose(np.asarray(xg), np.asarray(jg), rtol=2e-5, atol=1e-6)
    single = xf.jit(xf.grad(loss(xnp, xf.lax, XN, XP, xm)))(host)   # one device: a no-op
    np.testing.assert_allclose(np.asarray(xg), np.asarray(single), rtol=2e-5, atol=1e-6)
    stacked = np.stack([host, host + 1])
    xv = xf.jit(xf.vmap(f(xnp, xf.lax, XN, XP, xm)))(xf.device_put(stacked, XN(xm, XP(None, "x"))))
    jv = jax.jit(jax.vmap(f(jnp, jax.lax, JN, JP, jm)))(jax.device_put(stacked, JN(jm, JP(None, "x"))))
    np.testing.assert_allclose(np.asarray(xv), np.asarray(jv), rtol=2e-6)
    # a constraint over the same devices in another order: JAX's ValueError, under either
    # partitioner; the next good call still works
    jrev = jax.sharding.Mesh(np.array(jax.devices()[::-1]).reshape(2, 4), ("a", "b"))
    xrev = xf.sharding.Mesh(np.array(xf.devices()[::-1]).reshape(2, 4), ("a", "b"))
    for lib, np_, N, P, m, arg in ((jax, jnp, JN, JP, jrev, jax.device_put(host, JN(jm, JP("x")))),
                                   (xf, xnp, XN, XP, xrev, xa), (xf, xnp, XN, XP, xrev, "gspmd")):
        ctx = _gspmd(xf) if arg == "gspmd" else _nothing()
        with ctx:
            try:
                lib.jit(lambda a: lib.lax.with_sharding_constraint(np_.sin(a), N(m, P("b"))))(
                    xa if arg == "gspmd" else arg)
            except ValueError as e:
                assert "Received incompatible devices for jitted computation" in str(e), e
                assert lib is jax or "test_sharding.py" in str(e), e
            else:
                raise AssertionError(f"{lib.__name__}: no error for a mesh of another device order")
    np.testing.assert_allclose(np.asarray(xj(xa)), np.asarray(jr), rtol=2e-6)
    # outside jit: a device_put
    c = xf.lax.with_sharding_constraint(host, XN(xm, XP("y")))
    assert c.sharding == XN(xm, XP("y")) and np.array_equal(np.asarray(c), host)


def case_transforms_and_call_forms():
    """scan, vmap and grad inside a sharded jit; statics, keywords and pytrees; use_mesh with
    bare PartitionSpecs; arguments on two different meshes are an error."""
    jax, xf = _both()
    import xlafront.numpy as xnp
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    _, xm = _meshes()
    rng = np.random.default_rng(3)
    host = rng.normal(size=(8, 4)).astype(np.float32)

    def body(a, k):
        def step(c, row):
            c = xnp.tanh(c + row * k)
            return c, c.sum()
        c, ys = xf.lax.scan(step, xnp.zeros(a.shape[1], a.dtype), a)
        return xf.vmap(lambda r: (r * c).sum())(a) + ys, xf.grad(lambda a: (xnp.sin(a) ** 2).sum())(a)

    f = xf.jit(body, static_argnums=1)
    single = f(host, 2)
    sharded = f(xf.device_put(host, XN(xm, XP("x"))), 2)
    for a, b in zip(single, sharded):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
    g = xf.jit(lambda d, scale=1.0: {"s": d["a"] * scale + d["b"]})
    out = g({"a": xf.device_put(host, XN(xm, XP("x", "y"))), "b": host}, scale=3.0)
    np.testing.assert_allclose(np.asarray(out["s"]), host * 3 + host, rtol=1e-6)
    assert repr(out["s"].sharding.spec) == "P('x', 'y')"
    with xf.sharding.use_mesh(xm):
        y = xf.device_put(host, XP("y"))
        assert y.sharding == XN(xm, XP("y"))
        h = xf.jit(lambda a: a + 1, out_shardings=XP(None, "y"))
        assert h(y).sharding == XN(xm, XP(None, "y"))
    other = xf.sharding.Mesh(np.array(xf.devices()[::-1]).reshape(4, 2), ("x", "y"))
    try:
        xf.jit(lambda a, b: a + b)(xf.device_put(host, XN(xm, XP("x"))),
                                   xf.device_put(host, XN(other, XP("x"))))
    except ValueError as e:
        assert "incompatible devices" in str(e)
    else:
        raise AssertionError("no error for two meshes")


def case_shard_map_collectives_match_jax():
    jax, xf = _both()
    import jax.numpy as jnp
    import xlafront.numpy as xnp
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    host = np.arange(32, dtype=np.float32).reshape(8, 4) / 3

    def progs(lib, np_, P):
        lax = lib.lax
        return [
            ("psum_x", lambda a: lax.psum(a.sum(0, keepdims=True), "x"), P("x", "y"), P(None, "y")),
            ("psum_xy", lambda a: lax.psum(a, ("x", "y")), P("x", "y"), P("x", "y")),
            ("pmean_y", lambda a: lax.pmean(np_.sin(a), "y"), P("x", "y"), P("x", "y")),
            ("axis_index", lambda a: a * lax.axis_index("x") + 100 * lax.axis_index("y"), P("x", "y"),
             P("x", "y")),
            ("axis_size", lambda a: a * lax.axis_size("x") + lax.axis_size(("x", "y")), P("x"), P("x")),
            ("replicated_in", lambda a, b: a + b.sum(), (P("x"), P()), P("x")),
        ]
    for (name, jf, jin, jout), (_, xfn, xin, xout) in zip(progs(jax, jnp, JP), progs(xf, xnp, XP)):
        args = (host,) if name != "replicated_in" else (host, host[:2])
        jr = jax.shard_map(jf, mesh=jm, in_specs=jin if isinstance(jin, tuple) else (jin,), out_specs=jout)(*args)
        xr = xf.shard_map(xfn, mesh=xm, in_specs=xin if isinstance(xin, tuple) else (xin,), out_specs=xout)(*args)
        np.testing.assert_allclose(np.asarray(xr), np.asarray(jr), rtol=2e-6, err_msg=name)
        assert xr.shape == jr.shape and repr(xr.sharding) == repr(jr.sharding), (name, xr.sharding, jr.sharding)
    # lowered in a jit: the sdy.manual_computation JAX writes (the body a func.call here);
    # the values as JAX's with GSPMD too
    jsm = jax.jit(jax.shard_map(lambda a: jax.lax.psum(a, "x"), mesh=jm, in_specs=(JP("x", "y"),),
                                out_specs=JP(None, "y")))
    xsm = xf.jit(xf.shard_map(lambda a: xf.lax.psum(a, "x"), mesh=xm, in_specs=(XP("x", "y"),),
                              out_specs=XP(None, "y")))
    ja, xa = jax.device_put(host, JN(jm, JP("x"))), xf.device_put(host, XN(xm, XP("x")))
    jt, xt = jsm.lower(ja).as_text(), xsm.lower(xa).as_text()
    assert _sdy_parts(xt) == _sdy_parts(jt) and "manual_axes" in xt, (xt, jt)
    jr = jsm(ja)
    for ctx in (_nothing(), _gspmd(xf)):
        with ctx:
            xr = xsm(xa)
        np.testing.assert_allclose(np.asarray(xr), np.asarray(jr), rtol=2e-6)
        assert repr(xr.sharding) == repr(jr.sharding), (xr.sharding, jr.sharding)
    # inside a jit over sharded arguments, and the older jax.experimental spelling
    from xlafront.experimental.shard_map import shard_map as old_shard_map
    body = old_shard_map(lambda a: xf.lax.psum(a, "x") * 2, xm, (XP("x"),), XP())
    xr = xf.jit(lambda a: body(a) + 1)(xf.device_put(host, XN(xm, XP("x"))))
    expect = host.reshape(4, 2, 4).sum(0) * 2 + 1
    np.testing.assert_allclose(np.asarray(xr), expect, rtol=2e-6)
    # a collective over an axis nothing binds: NameError, as JAX's
    for lib in (jax, xf):
        try:
            lib.lax.psum(1.0, "x")
        except NameError as e:
            assert "unbound axis name: x" in str(e)
        else:
            raise AssertionError(f"{lib.__name__}: no NameError")
    try:
        xf.shard_map(lambda a: xf.lax.psum(a, "z"), mesh=xm, in_specs=(XP("x"),), out_specs=XP())(host)
    except NameError as e:
        assert "unbound axis name: z" in str(e) and "['x', 'y']" in str(e)
    else:
        raise AssertionError("no NameError for an axis the mesh lacks")
    try:
        xf.shard_map(lambda a: a, mesh=xm, in_specs=(XP("x"),), out_specs=XP())(host[:6])
    except ValueError as e:
        assert "dimension size 6" in str(e)
    else:
        raise AssertionError("no error for an indivisible argument")


def case_one_device_mesh():
    """A jit over a mesh of one device (the 1-device row of the scaling benchmark): XLA
    reports no output shardings for such a program; the values are JAX's, an explicit
    out_sharding is kept, and an output left to XLA is whole (P(), equivalent on one device,
    where JAX's propagation may name the axis: listed difference)."""
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("b",))
    xm = xf.sharding.Mesh(np.array(xf.devices()[:1], dtype=object), ("b",))
    v = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    jx, xx = jax.device_put(v, JN(jm, JP("b"))), xf.device_put(v, XN(xm, XP("b")))
    jy = jax.jit(lambda a: (a * 2, a.sum(0)))(jx)
    xy = xf.jit(lambda a: (a * 2, a.sum(0)))(xx)
    for a, b in zip(jy, xy):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
        assert b.sharding.mesh.axis_names == ("b",) and tuple(b.sharding.spec) == ()
        assert [s.device.id for s in b.addressable_shards] == [s.device.id for s in a.addressable_shards]
    jz = jax.jit(lambda a: a * 2, out_shardings=JN(jm, JP(None, "b")))(jx)
    xz = xf.jit(lambda a: a * 2, out_shardings=XN(xm, XP(None, "b")))(xx)
    np.testing.assert_array_equal(np.asarray(xz), np.asarray(jz))
    assert tuple(xz.sharding.spec) == tuple(jz.sharding.spec) == (None, "b")


def case_lower_compile_of_a_sharded_jit():
    """`jit(f).lower(sharded args).compile()`: the partitioned program (one device's part,
    with its all-reduce) as JAX's shows it, its cost analysis, calls equal to JAX's, and a
    call with other types refused with both signatures named."""
    import re
    jax, xf = _both()
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = _meshes()
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(16, 8)).astype(np.float32), rng.normal(size=(8, 4)).astype(np.float32)
    jargs = (jax.device_put(x, JN(jm, JP("x", "y"))), jax.device_put(w, JN(jm, JP("y"))))
    xargs = (xf.device_put(x, XN(xm, XP("x", "y"))), xf.device_put(w, XN(xm, XP("y"))))
    f = lambda np_: (lambda a, b: np_.tanh(a @ b))   # noqa: E731
    jc = jax.jit(f(jax.numpy)).lower(*jargs).compile()
    xc = xf.jit(f(xf.numpy)).lower(*xargs).compile()
    shapes = lambda t: re.findall(r"ENTRY \S+ \((.*?)\) ->", t)   # noqa: E731
    jt, xt = jc.as_text(), xc.as_text()
    assert "all-reduce" in jt and "all-reduce" in xt
    assert [re.sub(r"param[.\d]*: ", "", p) for p in shapes(xt)] == \
        [re.sub(r"param[.\d]*: ", "", p) for p in shapes(jt)], (shapes(xt), shapes(jt))   # per-device shapes
    assert xc.cost_analysis()["flops"] > 0
    jo, xo = jc(*jargs), xc(*xargs)
    np.testing.assert_allclose(np.asarray(xo), np.asarray(jo), rtol=1e-5, atol=1e-6)
    assert _spec(xo.sharding) == _spec(jo.sharding)
    try:
        xc(xargs[0], xargs[0])
    except TypeError as e:
        assert "f32[16,8]" in str(e) and "f32[8,4]" in str(e) and "test_sharding.py" in str(e), e
    else:
        raise AssertionError("a call with other types ran")
    np.testing.assert_allclose(np.asarray(xc(*xargs)), np.asarray(jo), rtol=1e-5, atol=1e-6)   # still works


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


# ----------------------------------------------------------------------------- the worker
def _worker(only=None):
    device_worker.run_cases(CASES, N, only)


@pytest.fixture(scope="module")
def results():
    return device_worker.results_of(__file__, "sharding", timeout=600)


_check = device_worker.check


def test_devices(results):
    _check(results, "devices")


def test_reprs_match_jax(results):
    _check(results, "reprs_match_jax")


def test_bad_specs(results):
    _check(results, "bad_specs")


def test_device_put_shards_match_jax(results):
    _check(results, "device_put_shards_match_jax")


def test_jit_follows_argument_shardings(results):
    _check(results, "jit_follows_argument_shardings")


def test_jit_in_out_shardings(results):
    _check(results, "jit_in_out_shardings")


def test_jit_cache_keyed_by_sharding(results):
    _check(results, "jit_cache_keyed_by_sharding")


def test_data_parallel_step_matches_single_device(results):
    _check(results, "data_parallel_step_matches_single_device")


def test_with_sharding_constraint(results):
    _check(results, "with_sharding_constraint")


def test_transforms_and_call_forms(results):
    _check(results, "transforms_and_call_forms")


def test_shard_map_collectives_match_jax(results):
    _check(results, "shard_map_collectives_match_jax")


def test_lower_compile_of_a_sharded_jit(results):
    _check(results, "lower_compile_of_a_sharded_jit")


def test_one_device_mesh(results):
    _check(results, "one_device_mesh")


def test_every_case_has_a_test():
    tests = {n[5:] for n in globals() if n.startswith("test_")}
    assert set(CASES) <= tests


_SHARDY_SCRIPT = r"""
import sys
import numpy as np
import jax, jax.numpy as jnp
jax.config.update("jax_num_cpu_devices", 8)
import xlafront as xf, xlafront.numpy as xnp
xf.config.update("jax_num_cpu_devices", 8)
xf.config.update("jax_use_shardy_partitioner", sys.argv[1] == "on")
from jax.sharding import NamedSharding as JN, PartitionSpec as JP, AxisType as JT
from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP, AxisType as XT
jm = jax.make_mesh((4, 2), ("x", "y"), axis_types=(JT.Auto, JT.Auto))
xm = xf.make_mesh((4, 2), ("x", "y"), axis_types=(XT.Auto, XT.Auto))
host = np.arange(64, dtype=np.float32).reshape(8, 8) / 7

def f(np_, lax, N, P, mesh):
    def g(a):
        b = lax.with_sharding_constraint(np_.sin(a), N(mesh, P(None, "x")))
        return b * 2, (b * b).sum(axis=0)
    return g

def m(lib, P, mesh):
    return lib.shard_map(lambda a: lib.lax.psum(a, "x") + lib.lax.axis_index("y"), mesh=mesh,
                         in_specs=(P("x", "y"),), out_specs=P(None, "y"))

xa = xf.device_put(host, XN(xm, XP("x")))
ja = jax.device_put(host, JN(jm, JP("x")))
xj = xf.jit(f(xnp, xf.lax, XN, XP, xm))
outs = [(xj(xa), jax.jit(f(jnp, jax.lax, JN, JP, jm))(ja)),
        (xf.jit(m(xf, XP, xm))(xa), jax.jit(m(jax, JP, jm))(ja)),
        (xf.jit(lambda a: xnp.cos(a) + 1, out_shardings=XN(xm, XP("y", "x")))(xa),
         jax.jit(lambda a: jnp.cos(a) + 1, out_shardings=JN(jm, JP("y", "x")))(ja))]
for xr, jr in outs:
    for x1, j1 in zip(xf.tree_util.tree_leaves(xr), jax.tree_util.tree_leaves(jr)):
        np.testing.assert_allclose(np.asarray(x1), np.asarray(j1), rtol=2e-6, atol=1e-6)
        assert repr(x1.sharding.spec) == repr(j1.sharding.spec), (x1.sharding, j1.sharding)
texts = [xj.lower(xa).as_text(), xf.jit(m(xf, XP, xm)).lower(xa).as_text()]
print("TEXT:" + repr(texts))
print("OK")
"""


@pytest.mark.parametrize("flag", ["on", "off"])
def test_shardy_flag_no_gspmd_warning(flag):
    """`jax_use_shardy_partitioner` on (the default): a sharded jit with a constraint, a
    shard_map and out_shardings lower to the sdy dialect, compile with Shardy (XLA prints no
    GSPMD deprecation warning) and give JAX's values and shardings; off: mhlo.sharding and
    GSPMD (whose warning shows), the same values and shardings."""
    import subprocess
    env = dict(os.environ)
    env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f)
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"   # XLA's warnings shown
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", _SHARDY_SCRIPT, flag], capture_output=True, text=True,
                          env=env, cwd=root, timeout=600)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]
    warned = "GSPMD sharding propagation is going to be deprecated" in proc.stderr
    text = next(line for line in proc.stdout.splitlines() if line.startswith("TEXT:"))
    if flag == "on":
        assert not warned, proc.stderr[-3000:]
        assert 'sdy.mesh @mesh = <["x"=4, "y"=2]>' in text
        assert 'sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>' in text
        assert 'sdy.sharding_constraint' in text and '[{}, {"x"}]' in text
        assert 'sdy.manual_computation(' in text and 'manual_axes={"x", "y"}' in text
        assert "mhlo.sharding" not in text and "@Sharding" not in text
    else:
        assert warned, proc.stderr[-3000:]
        assert "sdy." not in text and 'custom_call @Sharding(' in text and "@SPMDFullToShardShape" in text


def test_single_device_default_unchanged():
    """In the suite's own process (one device): arrays keep their single-device sharding."""
    import xlafront as xf
    x = xf.numpy.arange(4.0)
    assert x.sharding == xf.sharding.SingleDeviceSharding(xf.devices()[0])
    assert x.device == xf.devices()[0] and x.devices() == {xf.devices()[0]}


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _worker()
