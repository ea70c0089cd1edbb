"""Sharding in types (AxisType.Explicit, the default of make_mesh) on 8 CPU devices.

As tests/test_sharding.py: every `case_*` runs in one worker subprocess with 8 host devices
for both libraries (tests/device_worker.py), and each `test_*` checks its case's outcome.
The checks compare with JAX 0.10: `typeof` strings, output shardings (specs), values (also
against numpy on one device), ShardingTypeError cases (class and message), grad and vmap.
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


def _mesh(L, shape=(4, 2), names=("x", "y"), types=None):
    return L.make_mesh(shape, names, axis_types=types)


def _put(L, mesh, value, *spec):
    return L.device_put(value, L.sharding.NamedSharding(mesh, L.sharding.PartitionSpec(*spec)))


def _arrays(L):
    """The operands every comparison uses, the same values and shardings in both libraries."""
    m = _mesh(L)
    v = np.arange(32, dtype=np.float32).reshape(8, 4) / 7.0
    return dict(
        a=_put(L, m, v, "x", "y"),             # float32[8@x,4@y]
        b=_put(L, m, v, ("x", "y")),           # float32[8@(x,y),4]
        c=_put(L, m, v, None, "y"),            # float32[8,4@y]
        r=_put(L, m, v),                       # float32[8,4]
        d=_put(L, m, v.T.copy(), None, "x"),   # float32[4,8@x]
        e=_put(L, m, v, "y", "x"),             # float32[8@y,4@x]
        v=_put(L, _mesh(L, (8,), ("x",)), np.arange(16, dtype=np.float32), "x"),   # float32[16@x]
    ), m, v


def _same_out(jo, xo, what):
    jax, xf = _libs()
    assert str(xf.typeof(xo)) == str(jax.typeof(jo)), (what, str(xf.typeof(xo)), str(jax.typeof(jo)))
    assert repr(xo.sharding.spec) == repr(jo.sharding.spec), (what, xo.sharding.spec, jo.sharding.spec)
    np.testing.assert_allclose(np.asarray(xo), np.asarray(jo), rtol=1e-5, atol=1e-5, err_msg=what)


# (name, operand names, f(L, *operands)): each traced under jit in both libraries
_PROPAGATION = [
    ("add_same", "aa", lambda L, p, q: p + q),
    ("add_replicated", "ar", lambda L, p, q: p + q),
    ("add_partial", "ac", lambda L, p, q: p + q),
    ("add_scalar", "a", lambda L, p: p + 1),
    ("add_row", "a", lambda L, p: p + L.numpy.ones(4)),
    ("mul_broadcast_col", "b", lambda L, p: p * L.numpy.arange(8.0)[:, None]),
    ("transpose", "a", lambda L, p: p.T),
    ("sum0", "a", lambda L, p: p.sum(0)),
    ("sum1", "a", lambda L, p: p.sum(1)),
    ("sum_all", "a", lambda L, p: p.sum()),
    ("max1", "a", lambda L, p: p.max(1)),
    ("argmax1", "a", lambda L, p: L.numpy.argmax(p, 1)),
    ("mean0_b", "b", lambda L, p: p.mean(0)),
    ("matmul_free", "a", lambda L, p: p @ L.numpy.ones((4, 5))),
    ("matmul_b", "b", lambda L, p: p @ L.numpy.ones((4, 3))),
    ("matmul_left_replicated", "c", lambda L, p: L.numpy.ones((5, 8)) @ p),
    ("einsum_batch", "b", lambda L, p: L.numpy.einsum("ij,ij->i", p, p)),
    ("astype", "a", lambda L, p: p.astype(L.numpy.int32)),
    ("where", "a", lambda L, p: L.numpy.where(p > 1, p, 0.0)),
    ("exp_tanh", "a", lambda L, p: L.numpy.tanh(L.numpy.exp(-p))),
    ("slice_rows", "a", lambda L, p: p[:4]),
    ("slice_cols", "a", lambda L, p: p[:, :2]),
    ("concat0", "a", lambda L, p: L.numpy.concatenate([p, p], 0)),
    ("concat1", "a", lambda L, p: L.numpy.concatenate([p, p], 1)),
    ("broadcast_to", "a", lambda L, p: L.numpy.broadcast_to(p[None], (3, 8, 4))),
    ("expand_dims", "a", lambda L, p: p[:, None, :]),
    ("reshape_split", "v", lambda L, p: p.reshape(8, 2)),
    ("reshape_unit_after", "v", lambda L, p: p.reshape(16, 1)),
    ("reshape_unit_before", "v", lambda L, p: p.reshape(1, 16)),
    ("reshape_then_matmul", "v", lambda L, p: p.reshape(8, 2) @ L.numpy.ones((2, 3))),
    ("reshape_flatten", "a", lambda L, p: p.reshape(32)),
    ("reshape_flatten_b", "b", lambda L, p: p.reshape(32)),
    ("reshape_split_minor", "a", lambda L, p: p.reshape(8, 2, 2)),
    ("reshape_split_major", "a", lambda L, p: p.reshape(4, 2, 4)),
    ("reshape_split_tuple", "b", lambda L, p: p.reshape(4, 2, 4)),
    ("reshape_split_tuple_minor", "b", lambda L, p: p.reshape(8, 2, 2)),
    ("reshape_merge_leading", "a", lambda L, p: p.reshape(4, 2, 4).reshape(8, 4)),
    ("reshape_merge_unsharded_tail", "b", lambda L, p: p.reshape(8, 2, 2).reshape(8, 4)),
    ("pad", "a", lambda L, p: L.numpy.pad(p, ((0, 0), (2, 2)))),
    ("dynamic_slice", "a", lambda L, p: L.lax.dynamic_slice_in_dim(p, 2, 4, 0)),
    ("cond", "a", lambda L, p: L.lax.cond(True, lambda q: q * 2, lambda q: q, p)),
    ("fori_loop", "a", lambda L, p: L.lax.fori_loop(0, 3, lambda i, q: q * 2, p)),
    ("iota_add", "a", lambda L, p: p + L.numpy.arange(4.0)),
    ("dot_batch", "a", lambda L, p: L.lax.dot_general(p.reshape(8, 2, 2), L.numpy.ones((8, 2, 3)),
                                                      (((2,), (1,)), ((0,), (0,))))),
    ("cumsum_unsharded_axis", "c", lambda L, p: L.numpy.cumsum(p, 0)),
    ("sort_unsharded_axis", "c", lambda L, p: L.numpy.sort(p, 0)),
    ("reverse", "a", lambda L, p: p[::-1]),
    ("square_sum_keepdims", "a", lambda L, p: (p * p).sum(1, keepdims=True)),
    ("softmax", "a", lambda L, p: L.nn.softmax(p, axis=1)),
]


def case_typeof_matches_jax():
    jax, xf = _libs()
    (ja, jm, v), (xa, xm, _) = _arrays(jax), _arrays(xf)
    for k in ja:
        assert str(xf.typeof(xa[k])) == str(jax.typeof(ja[k])), (k, str(xf.typeof(xa[k])), str(jax.typeof(ja[k])))
        assert repr(xa[k].sharding.spec) == repr(ja[k].sharding.spec), k
        js, xs = jax.typeof(ja[k]).sharding, xf.typeof(xa[k]).sharding
        if any(e is not None for e in js.spec):
            assert repr(xs.spec) == repr(js.spec), (k, xs.spec, js.spec)
            assert repr(xs.mesh) == repr(js.mesh)
    # three axes, one of them over a tuple, and a weak type
    for L in (jax, xf):
        m3 = _mesh(L, (2, 2, 2), ("x", "y", "z"))
        w = _put(L, m3, np.ones((8, 4, 2), np.float32), ("x", "z"), "y")
        L._t = str(L.typeof(w))
    assert xf._t == jax._t == "float32[8@(x,z),4@y,2]", (xf._t, jax._t)
    # Auto axes are not in types
    for L in (jax, xf):
        AT = L.sharding.AxisType
        m = _mesh(L, types=(AT.Auto, AT.Auto))
        L._t = str(L.typeof(_put(L, m, v, "x", "y")))
    assert xf._t == jax._t == "float32[8,4]"


def case_propagation_matches_jax():
    jax, xf = _libs()
    (ja, _, _), (xa, _, _) = _arrays(jax), _arrays(xf)
    for name, ops, f in _PROPAGATION:
        jo = jax.jit(lambda *p, f=f: f(jax, *p))(*[ja[o] for o in ops])
        xo = xf.jit(lambda *p, f=f: f(xf, *p))(*[xa[o] for o in ops])
        _same_out(jo, xo, name)
        # the value is the one-device one too
        single = f(xf, *[xf.numpy.asarray(np.asarray(ja[o])) for o in ops])
        assert single.sharding.num_devices == 1 if hasattr(single.sharding, "num_devices") else True
        np.testing.assert_allclose(np.asarray(xo), np.asarray(single), rtol=1e-5, atol=1e-5, err_msg=name)


def case_typeof_inside_jit():
    jax, xf = _libs()
    (ja, _, _), (xa, _, _) = _arrays(jax), _arrays(xf)
    for L, arrs in ((jax, ja), (xf, xa)):
        seen = []

        def f(p, q, L=L, seen=seen):
            seen.append(str(L.typeof(p)))
            s = (p * q).sum(0)
            seen.append(str(L.typeof(s)))
            seen.append(str(L.typeof(p.T @ L.numpy.ones((8, 2)))))
            return s
        L.jit(f)(arrs["a"], arrs["r"])
        L._seen = seen
    assert xf._seen == jax._seen, (xf._seen, jax._seen)


def case_eager_ops_keep_types():
    jax, xf = _libs()
    (ja, _, _), (xa, _, _) = _arrays(jax), _arrays(xf)
    for name, f in [("add", lambda L, p: p + p), ("scalar_mul", lambda L, p: p * 2.0),
                    ("sin", lambda L, p: L.numpy.sin(p)), ("sum1", lambda L, p: p.sum(1)),
                    ("add_partial", lambda L, p: p + p.sum(0))]:
        _same_out(f(jax, ja["a"]), f(xf, xa["a"]), name)


def _raises(f, *args):
    try:
        f(*args)
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError("no error")


_ERRORS = [
    # (name, operands, f, phrases the messages of both share)
    ("add_incompatible", "ab", lambda L, p, q: p + q,
     ["add got incompatible shardings for broadcasting: ('x', 'y'), (('x', 'y'), None)."]),
    ("matmul_contracting_sharded", "a", lambda L, p: p @ p.T,
     ["Contracting dimensions are sharded and it is ambiguous how the output should be sharded",
      "lhs_contracting_spec=('y',) and rhs_contracting_spec=('y',)"]),
    ("reshape_unsupported", "v", lambda L, p: p.reshape(4, 4),
     ["This reshape is not supported. Please specify the sharding of the output via the "
      "`out_sharding` argument of jax.lax.reshape. Got operand type: float32[16@x], new sizes: (4, 4)"]),
    ("reshape_unsupported_2d", "a", lambda L, p: p.reshape(2, 4, 4),
     ["This reshape is not supported", "Got operand type: float32[8@x,4@y], new sizes: (2, 4, 4)"]),
    ("cumsum_sharded_axis", "a", lambda L, p: L.numpy.cumsum(p, 0),
     ["Input should be unsharded over the axis being reduced. Got input type=float32[8@x,4@y] and axis=0"]),
    ("sort_sharded_axis", "a", lambda L, p: L.numpy.sort(p, 0),
     ["Arguments to sort must be unsharded over the sorting dimension", "sorting dimension=0"]),
    ("concat_mixed", "ar", lambda L, p, q: L.numpy.concatenate([p, q], 0),
     ["All operands should have the same sharding. Got shardings NamedSharding(mesh=AbstractMesh("]),
    ("reshape_merge_sharded_tail", "c", lambda L, p: p.reshape(32),
     ["This reshape is not supported", "Got operand type: float32[8,4@y], new sizes: (32,)"]),
    ("reshape_split_not_divisible", "a", lambda L, p: p.reshape(32).reshape(2, 16),
     ["This reshape is not supported", "new sizes: (2, 16)"]),
    ("einsum_contracting_sharded", "a", lambda L, p: L.numpy.einsum("ij,ij->i", p, p),
     ["Contracting dimensions are sharded and it is ambiguous how the output should be sharded"]),
    ("dot_free_dims_same_axis", "ad", lambda L, p, q: p @ q,
     ["dot_general operation with inputs: f32[8@x,4@y], f32[4,8@x] produces an illegally sharded "
      "result: f32[8@x,8@x]"]),
    ("mul_outer_same_axis", "v", lambda L, p: p[:8, None] * p[None, :8],
     ["mul operation with inputs: f32[8@x,", "produces an illegally sharded result: f32[8@x,8@x]"]),
    ("add_axes_crossed", "ce", lambda L, p, q: p + q,
     ["add got incompatible shardings for broadcasting: (None, 'y'), ('y', 'x')."]),
    ("slice_not_divisible", "a", lambda L, p: p[:, 1:2],
     ["slicing on sharded dims where out dim (1) is not divisible by mesh axes (2) with spec (y) is "
      "not implemented. Got input type=f32[8@x,4@y] and output shape=(8, 1)"]),
]


def case_sharding_type_errors_match_jax():
    jax, xf = _libs()
    (ja, _, _), (xa, _, _) = _arrays(jax), _arrays(xf)
    from jax._src.core import ShardingTypeError as JErr
    for name, ops, f, phrases in _ERRORS:
        je = _raises(jax.jit(lambda *p, f=f: f(jax, *p)), *[ja[o] for o in ops])
        xe = _raises(xf.jit(lambda *p, f=f: f(xf, *p)), *[xa[o] for o in ops])
        assert isinstance(je, JErr), (name, je)
        assert isinstance(xe, xf.sharding.ShardingTypeError), (name, type(xe), xe)
        for ph in phrases:
            assert ph in str(je), (name, "jax", str(je))
            assert ph in str(xe), (name, str(xe))
        # the next good call works
        _same_out(jax.jit(lambda p: p * 2)(ja["a"]), xf.jit(lambda p: p * 2)(xa["a"]), name)
    # scan over an axis split across devices: JAX's ValueError (xlafront adds the call site);
    # over an unsplit leading axis the types flow through the loop
    for xs in "ab":
        je = _raises(jax.jit(lambda c, x: jax.lax.scan(lambda c, x: (c + x, x * 2), c, x)), ja["r"][0], ja[xs])
        xe = _raises(xf.jit(lambda c, x: xf.lax.scan(lambda c, x: (c + x, x * 2), c, x)), xa["r"][0], xa[xs])
        assert type(je) is ValueError and type(xe) is ValueError, (xs, je, xe)
        assert str(je).startswith("0th dimension of all xs should be replicated. Got P("), str(je)
        assert str(xe).startswith(str(je) + " (at "), (str(xe), str(je))
    jo = jax.jit(lambda c, x: jax.lax.scan(lambda c, x: (c + x, x * 2), c, x))(ja["c"][0], ja["c"])
    xo = xf.jit(lambda c, x: xf.lax.scan(lambda c, x: (c + x, x * 2), c, x))(xa["c"][0], xa["c"])
    for j, x, what in zip(jo, xo, ("scan carry", "scan ys")):
        _same_out(j, x, what)


def case_grad_keeps_types():
    jax, xf = _libs()
    (ja, jm, v), (xa, xm, _) = _arrays(jax), _arrays(xf)
    with jax.sharding.set_mesh(jm), xf.sharding.set_mesh(xm):   # (JAX's constants need the mesh)
        _grads(jax, xf, ja, xa, v)


def _grads(jax, xf, ja, xa, v):
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    fs = [("sin_sq", lambda L, p: (L.numpy.sin(p) * p).sum()),
          ("matmul", lambda L, p: L.numpy.tanh(p @ w).sum()),
          ("reshape_sum", lambda L, p: (p.reshape(4, 2, 4) ** 2).sum()),
          ("transpose_mean", lambda L, p: (p.T * L.numpy.arange(8.0)).mean())]
    for name, f in fs:
        for op in "abc":
            jg = jax.jit(jax.grad(lambda p, f=f: f(jax, p)))(ja[op])
            xg = xf.jit(xf.grad(lambda p, f=f: f(xf, p)))(xa[op])
            _same_out(jg, xg, f"{name}/{op}")
            # and against the gradient on one device
            g1 = xf.grad(lambda p, f=f: f(xf, p))(v)
            np.testing.assert_allclose(np.asarray(xg), np.asarray(g1), rtol=1e-5, atol=1e-6)
    # value_and_grad of a two-argument loss: each gradient takes its argument's type
    for L, arrs in ((jax, ja), (xf, xa)):
        loss = lambda p, q, L=L: ((p * q).sum(1) ** 2).mean()  # noqa: E731
        val, (gp, gq) = L.jit(L.value_and_grad(loss, argnums=(0, 1)))(arrs["a"], arrs["r"])
        L._g = (str(L.typeof(gp)), str(L.typeof(gq)), float(val), np.asarray(gp), np.asarray(gq))
    assert xf._g[:2] == jax._g[:2], (xf._g[:2], jax._g[:2])
    np.testing.assert_allclose(xf._g[2], jax._g[2], rtol=1e-5)
    np.testing.assert_allclose(xf._g[3], jax._g[3], rtol=1e-5)
    np.testing.assert_allclose(xf._g[4], jax._g[4], rtol=1e-5)


def case_vmap_keeps_types():
    jax, xf = _libs()
    (ja, _, v), (xa, _, _) = _arrays(jax), _arrays(xf)
    fs = [("scale", lambda L, p: p * 2), ("row_sum", lambda L, p: p.sum()),
          ("outer", lambda L, p: L.numpy.outer(p, L.numpy.ones(3)).sum(1))]
    for name, f in fs:
        for op in "ab":
            jo = jax.jit(jax.vmap(lambda p, f=f: f(jax, p)))(ja[op])
            xo = xf.jit(xf.vmap(lambda p, f=f: f(xf, p)))(xa[op])
            _same_out(jo, xo, f"{name}/{op}")
            loop = np.stack([np.asarray(f(xf, xf.numpy.asarray(v[i]))) for i in range(8)])
            np.testing.assert_allclose(np.asarray(xo), loop, rtol=1e-5)
    # eager vmap too
    _same_out(jax.vmap(lambda p: p * 3)(ja["a"]), xf.vmap(lambda p: p * 3)(xa["a"]), "eager vmap")
    # inside vmap, a value's type is its slice's: the batch dimension's entry dropped
    for L, arrs in ((jax, ja), (xf, xa)):
        seen = []

        def f(p, L=L, seen=seen):
            seen.append(str(L.typeof(p)))
            q = p[:, None] * L.numpy.ones(3)
            seen.append(str(L.typeof(q)))
            return q.sum(0)
        L.jit(L.vmap(f, in_axes=1))(arrs["a"])
        L.vmap(f)(arrs["b"])
        L._seen = seen
    assert xf._seen == jax._seen, (xf._seen, jax._seen)


def case_reshard_matches_jax():
    jax, xf = _libs()
    (ja, jm, _), (xa, xm, _) = _arrays(jax), _arrays(xf)
    for L, arrs, m in ((jax, ja, jm), (xf, xa, xm)):
        NS, P = L.sharding.NamedSharding, L.sharding.PartitionSpec
        outs = [L.sharding.reshard(arrs["a"], NS(m, P(None, "x"))),
                L.jit(lambda p: L.sharding.reshard(p, NS(m, P("y", "x"))))(arrs["a"]),
                L.jit(lambda p: L.sharding.reshard(p * 2, NS(m, P())) + 1)(arrs["a"]),
                L.jit(lambda p: L.sharding.reshard(p, NS(m, P("x", None))).T)(arrs["r"])]
        with L.sharding.set_mesh(m):
            outs.append(L.sharding.reshard(arrs["r"], P("x", "y")))
            outs.append(L.jit(lambda p: L.sharding.reshard(p, P(("y", "x"))).sum(1))(arrs["a"]))
            L._am = repr(L.sharding.get_abstract_mesh())
        L._outs = outs
    for k, (jo, xo) in enumerate(zip(jax._outs, xf._outs)):
        _same_out(jo, xo, f"reshard {k}")
    assert xf._am == jax._am
    assert repr(xf.sharding.get_abstract_mesh()) == repr(jax.sharding.get_abstract_mesh())
    # grad through reshard: the cotangent goes back to the operand's type
    jg = jax.jit(jax.grad(lambda p: (jax.sharding.reshard(p, jax.sharding.NamedSharding(jm, jax.P(None, "x"))) ** 2).sum()))(ja["a"])
    xg = xf.jit(xf.grad(lambda p: (xf.sharding.reshard(p, xf.sharding.NamedSharding(xm, xf.sharding.PartitionSpec(None, "x"))) ** 2).sum()))(xa["a"])
    _same_out(jg, xg, "grad of reshard")


def case_outputs_carry_type_sharding():
    """Outputs come back laid out as their types say (also ones XLA alone would lay out
    otherwise), and x.sharding agrees with typeof."""
    jax, xf = _libs()
    (ja, _, _), (xa, _, _) = _arrays(jax), _arrays(xf)
    for f in [lambda L, p: (p.sum(1), p.T, p.reshape(32), p.sum(), p.sum(1) + L.numpy.zeros(8), L.numpy.zeros(3)),
              lambda L, p: {"m": p.max(), "t": p[:4] * 2}]:
        jo, xo = jax.jit(lambda p: f(jax, p))(ja["a"]), xf.jit(lambda p: f(xf, p))(xa["a"])
        for j, x in zip(jax.tree_util.tree_leaves(jo), xf.tree_util.tree_leaves(xo)):
            _same_out(j, x, "outputs")
            ts = xf.typeof(x).sharding
            if ts is not None:
                assert tuple(x.sharding.spec) == tuple(ts.spec)[:len(x.sharding.spec)]


def case_out_sharding_matches_jax():
    """`out_sharding=` of the creators, reshape and the products (under set_mesh, and with a
    NamedSharding), eager and under jit."""
    jax, xf = _libs()
    (ja, jm, _), (xa, xm, _) = _arrays(jax), _arrays(xf)
    for L, arrs, m in ((jax, ja, jm), (xf, xa, xm)):
        np_, P, NS = L.numpy, L.sharding.PartitionSpec, L.sharding.NamedSharding
        with L.sharding.set_mesh(m):
            outs = [np_.zeros((8, 4), out_sharding=NS(m, P("x"))),
                    np_.zeros((8, 4), out_sharding=P("x")),
                     np_.ones((8, 4), out_sharding=P("x", "y")),
                     np_.full((8, 4), 2.0, out_sharding=P(None, "y")),
                     np_.arange(8.0, out_sharding=P("x")),
                     np_.zeros_like(arrs["r"], out_sharding=P("y", "x")),
                     np_.reshape(arrs["a"], (32,), out_sharding=P("x")),
                     L.lax.reshape(arrs["a"], (4, 8), out_sharding=P("x", "y")),
                     np_.dot(arrs["a"], arrs["a"].T, out_sharding=P("x", None)),
                     np_.matmul(arrs["a"], arrs["a"].T, out_sharding=P(None, "x")),
                     np_.einsum("ij,kj->ik", arrs["a"], arrs["a"], out_sharding=P("x", None)),
                     L.lax.dot_general(arrs["a"], arrs["a"], (((1,), (1,)), ((), ())), out_sharding=P("y", "x")),
                     L.jit(lambda p: np_.reshape(p, (4, 8), out_sharding=P("x")) * 2)(arrs["a"]),
                     L.jit(lambda p: (p @ np_.ones((4, 3)), np_.zeros((8, 2), out_sharding=P("x"))))(arrs["a"])[1],
                     L.jit(lambda p: np_.matmul(p, p.T, out_sharding=P("x", "y")) + 1)(arrs["a"]),
                     L.jit(L.grad(lambda p: np_.tanh(np_.matmul(p, p.T, out_sharding=P("x", None))).sum()))(arrs["a"]),
                     L.jit(L.grad(lambda p: (L.lax.reshape(p, (2, 16), out_sharding=P(None, "x")) ** 2).sum()))(arrs["a"])]
            L._outs = outs
        # without a mesh, a PartitionSpec is an error
        L._err = _raises(lambda: np_.zeros((8, 4), out_sharding=P("x")))
    for k, (jo, xo) in enumerate(zip(jax._outs, xf._outs)):
        _same_out(jo, xo, f"out_sharding {k}")
    assert type(xf._err) is type(jax._err) is ValueError
    assert "Using PartitionSpec when you are not under a mesh context is not allowed" in str(xf._err)


def case_auto_and_explicit_axes_match_jax():
    jax, xf = _libs()
    (ja, jm, _), (xa, xm, _) = _arrays(jax), _arrays(xf)
    for L, arrs, m in ((jax, ja, jm), (xf, xa, xm)):
        P, sh = L.sharding.PartitionSpec, L.sharding
        seen = []

        def inner(q, L=L, seen=seen):   # an unsupported reshape is fine over Auto axes
            seen.append(str(L.typeof(q)))
            seen.append(repr(L.sharding.get_abstract_mesh()))
            return q.reshape(4, 8) * 2

        def back(r, L=L, seen=seen):
            seen.append(str(L.typeof(r)))
            return r * 2
        with sh.set_mesh(m):
            outs = [L.jit(lambda p: sh.auto_axes(inner, out_sharding=P("x", None))(p))(arrs["a"]),
                    sh.auto_axes(inner, out_sharding=P(None, "y"))(arrs["a"]),
                    L.jit(lambda p: sh.auto_axes(lambda q: sh.explicit_axes(back, in_sharding=P("x", None))(q) + 1,
                                                 out_sharding=P("x", None))(p))(arrs["a"])]
            L._err = _raises(lambda: sh.auto_axes(inner)(arrs["a"]))
        L._outs, L._seen = outs, seen
    for k, (jo, xo) in enumerate(zip(jax._outs, xf._outs)):
        _same_out(jo, xo, f"auto_axes {k}")
    assert xf._seen == jax._seen, (xf._seen, jax._seen)
    assert type(xf._err) is type(jax._err) is TypeError and str(xf._err) == str(jax._err)


def case_jit_shardings_and_constraints_match_jax():
    """in_shardings/out_shardings and device_put inside jit over Explicit axes; and
    with_sharding_constraint, which JAX allows over Auto axes only."""
    jax, xf = _libs()
    (ja, jm, v), (xa, xm, _) = _arrays(jax), _arrays(xf)
    for L, arrs, m in ((jax, ja, jm), (xf, xa, xm)):
        NS, P = L.sharding.NamedSharding, L.sharding.PartitionSpec
        seen = []
        outs = [L.jit(lambda p: (seen.append(str(L.typeof(p))), p * 2)[1], in_shardings=NS(m, P("x")))(v),
                L.jit(lambda p: p * 2, out_shardings=NS(m, P(None, "x")))(arrs["a"]),
                L.jit(lambda p: L.device_put(p, NS(m, P(None, "x"))) + 1)(arrs["a"]),
                L.jit(lambda p: (p * 2, L.numpy.zeros(3)))(arrs["a"])[1]]
        L._outs, L._seen = outs, seen
        L._err = _raises(L.jit(lambda p: L.lax.with_sharding_constraint(p, NS(m, P(None, "x")))), arrs["a"])
    for k, (jo, xo) in enumerate(zip(jax._outs, xf._outs)):
        _same_out(jo, xo, f"jit shardings {k}")
    assert xf._seen == jax._seen, (xf._seen, jax._seen)
    assert type(xf._err) is type(jax._err) is ValueError
    for ph in ["The spec of NamedSharding passed to with_sharding_constraint can only refer to Auto axes "
               "of the mesh. Got spec=P(None, 'x') and mesh=AbstractMesh('x': 4, 'y': 2, axis_types="
               "(Explicit, Explicit)", "You probably meant to use `reshard` API?"]:
        assert ph in str(jax._err) and ph in str(xf._err), (str(xf._err), str(jax._err))


def case_differences_from_jax():
    """The places listed in docs/differences.md ("Sharding in types")."""
    jax, xf = _libs()
    (ja, jm, _), (xa, xm, _) = _arrays(jax), _arrays(xf)
    # a jit output computed from no mesh value: on the mesh, replicated (JAX: one device)
    jo = jax.jit(lambda p: jax.numpy.zeros(3))(ja["a"])
    xo = xf.jit(lambda p: xf.numpy.zeros(3))(xa["a"])
    assert type(jo.sharding).__name__ == "SingleDeviceSharding"
    assert repr(xo.sharding.spec) == "P()" and xo.sharding.mesh == xm
    np.testing.assert_array_equal(np.asarray(xo), np.asarray(jo))
    # reshard with a bare PartitionSpec outside any mesh: the array's own mesh (JAX: error)
    assert isinstance(_raises(lambda: jax.sharding.reshard(ja["a"], jax.P(None, "x"))), ValueError)
    xo = xf.sharding.reshard(xa["a"], xf.sharding.PartitionSpec(None, "x"))
    assert str(xf.typeof(xo)) == "float32[8,4@x]" and xo.sharding.mesh == xm
    # a gather from a sharded operand: untyped inside, laid out by the partitioner (JAX:
    # ShardingTypeError asking for out_sharding)
    idx = np.array([0, 2])
    je = _raises(jax.jit(lambda p: p[jax.numpy.asarray(idx)]), ja["a"])
    assert "Use `.at[...].get(out_sharding=)`" in str(je)
    seen = []
    xo = xf.jit(lambda p: (lambda g: (seen.append(str(xf.typeof(g))), g)[1])(p[xf.numpy.asarray(idx)]))(xa["a"])
    assert seen == ["float32[2,4]"]
    xs = xo.sharding.spec
    assert str(xf.typeof(xo)) == str(xf.core.ShapedArray((2, 4), np.dtype("float32"),
                                                          sharding=xf.sharding.NamedSharding(xm, xs).with_spec(
                                                              tuple(xs) + (None,) * (2 - len(xs)))))
    np.testing.assert_array_equal(np.asarray(xo), np.asarray(xa["a"])[idx])


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


def _worker(only=None):
    device_worker.run_cases(CASES, N, only)


@pytest.fixture(scope="module")
def results():
    return device_worker.results_of(__file__, "explicit sharding", timeout=600)


_check = device_worker.check


def test_typeof_matches_jax(results):
    _check(results, "typeof_matches_jax")


def test_propagation_matches_jax(results):
    _check(results, "propagation_matches_jax")


def test_typeof_inside_jit(results):
    _check(results, "typeof_inside_jit")


def test_eager_ops_keep_types(results):
    _check(results, "eager_ops_keep_types")


def test_sharding_type_errors_match_jax(results):
    _check(results, "sharding_type_errors_match_jax")


def test_grad_keeps_types(results):
    _check(results, "grad_keeps_types")


def test_vmap_keeps_types(results):
    _check(results, "vmap_keeps_types")


def test_reshard_matches_jax(results):
    _check(results, "reshard_matches_jax")


def test_outputs_carry_type_sharding(results):
    _check(results, "outputs_carry_type_sharding")


def test_out_sharding_matches_jax(results):
    _check(results, "out_sharding_matches_jax")


def test_auto_and_explicit_axes_match_jax(results):
    _check(results, "auto_and_explicit_axes_match_jax")


def test_jit_shardings_and_constraints_match_jax(results):
    _check(results, "jit_shardings_and_constraints_match_jax")


def test_differences_from_jax(results):
    _check(results, "differences_from_jax")


def test_every_case_has_a_test():
    tests = {n[5:] for n in globals() if n.startswith("test_")}
    assert set(CASES) <= tests


def test_unsharded_avals_unchanged():
    """In the suite's own process (one device): an aval without a sharding type hashes and
    compares as before, and prints without `@`."""
    import xlafront as xf
    from xlafront.core import ShapedArray
    a = ShapedArray((3, 4), np.dtype("float32"))
    assert a.sharding is None and hash(a) == hash(((3, 4), np.dtype("float32"), False))
    assert a == ShapedArray((3, 4), np.dtype("float32")) and str(a) == "float32[3,4]"
    assert str(xf.typeof(xf.numpy.ones((2, 3)))) == "float32[2,3]"


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _worker(sys.argv[1:] or None)
