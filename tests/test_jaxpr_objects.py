"""make_jaxpr's result walked as code that walks a JAX jaxpr does: the same walker reads
xlafront's ClosedJaxpr and JAX's for the same function and must see the same thing
(variables, literals, constants, avals, primitives, params); eval_jaxpr runs either."""
import numpy as np
import pytest

import jax
import jax.extend as jex
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront.extend import core as xcore

C = np.arange(6.0, dtype=np.float32).reshape(2, 3)


def functions(np_):
    return {
        "literals": (lambda x: np_.sin(x) * 2.0 + 1, (np.float32(1.5),)),
        "reduce": (lambda x, y: np_.sum(np_.tanh(x) * y, axis=0),
                   (np.ones((2, 3), np.float32), np.full((2, 3), 0.5, np.float32))),
        "const": (lambda x: x + C[0], (np.array([1.0, 2.0, 3.0], np.float32),)),
        "two_outputs": (lambda x: (np_.cos(x) > 0.5, x.astype(np_.int32)), (np.array([0.1, 2.0, 3.0], np.float32),)),
        "weak_scalar_input": (lambda x: x * x, (2.0,)),
    }


def _aval(a):
    return (tuple(a.shape), np.dtype(a.dtype).name, bool(a.weak_type))


def walk(closed, Literal):
    """What a jaxpr-walking tool reads from a ClosedJaxpr."""
    names = {}

    def ref(v):
        if isinstance(v, Literal):
            return ("lit", np.asarray(v.val).item(), _aval(v.aval))
        assert not isinstance(v, Literal)
        return ("var", names.setdefault(v, len(names)), _aval(v.aval))

    jaxpr = closed.jaxpr
    assert closed.eqns is jaxpr.eqns or list(closed.eqns) == list(jaxpr.eqns)
    out = {
        "constvars": [ref(v) for v in jaxpr.constvars],
        "invars": [ref(v) for v in jaxpr.invars],
        "eqns": [],
        "consts": [np.asarray(c).tolist() for c in closed.consts],
        "literals": [np.asarray(c).tolist() for c in closed.literals],
        "in_avals": [_aval(a) for a in closed.in_avals],
        "out_avals": [_aval(a) for a in closed.out_avals],
    }
    for eqn in closed.eqns:
        params = {k: (np.dtype(v).name if k == "new_dtype" else v) for k, v in eqn.params.items()
                  if k in ("axes", "new_dtype", "weak_type")}
        out["eqns"].append((eqn.primitive.name, [ref(v) for v in eqn.invars],
                            [ref(v) for v in eqn.outvars], params))
    out["outvars"] = [ref(v) for v in jaxpr.outvars]
    return out


XF = functions(xnp)
JX = functions(jnp)


@pytest.mark.parametrize("name", sorted(XF))
def test_walking_the_jaxpr_sees_what_jax_shows(name):
    f, args = XF[name]
    g, _ = JX[name]
    got = xf.make_jaxpr(f)(*args)
    want = jax.make_jaxpr(g)(*args)
    assert walk(got, xcore.Literal) == walk(want, jex.core.Literal)
    if name != "reduce":   # (JAX also prints reduce_sum's out_sharding=None)
        assert str(got) == str(want)   # the printed text matched JAX's before; it still does
    # eval_jaxpr (jax.core's name) runs the walked graph
    flat = [np.asarray(a) for a in args]
    res = xf.core.eval_jaxpr(got.jaxpr, got.consts, *flat)
    ref = jax.core.eval_jaxpr(want.jaxpr, want.consts, *flat)
    assert len(res) == len(ref)
    for r, w in zip(res, ref):
        np.testing.assert_allclose(np.asarray(r), np.asarray(w), rtol=1e-6)
        assert np.asarray(r).dtype == np.asarray(w).dtype


def test_graph_classes_are_the_extend_names():
    closed = xf.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(1.0)
    assert isinstance(closed, xcore.ClosedJaxpr) and isinstance(closed.jaxpr, xcore.Jaxpr)
    eqn = closed.eqns[1]
    assert isinstance(eqn, xcore.JaxprEqn) and isinstance(eqn.invars[0], xcore.Var)
    assert isinstance(eqn.invars[1], xcore.Literal) and eqn.invars[1].val == 2.0
    assert eqn.effects == closed.effects == closed.jaxpr.effects == frozenset()
    assert eqn.source_info is not None and eqn.source_info.file == __file__
    assert closed.jaxpr.in_avals == closed.in_avals and closed.invars == closed.jaxpr.invars
    # jaxpr_as_fun and an equation built by hand
    close_fn = xcore.jaxpr_as_fun(closed)
    np.testing.assert_allclose(close_fn(np.float32(0.5))[0], np.sin(np.float32(0.5)) * 2, rtol=1e-6)
    v = xcore.Var(xf.core.ShapedArray((), np.dtype(np.float32)))
    e = xcore.new_jaxpr_eqn([eqn.outvars[0]], [v], eqn.primitive, {}, frozenset())
    assert e.primitive is eqn.primitive and e.outvars == [v]


def test_nested_graphs_found_through_params():
    closed = xf.make_jaxpr(lambda x: xf.jit(xnp.cos)(x) + 1)(1.0)
    subs = list(xcore.subjaxprs(closed.jaxpr))
    assert len(subs) == 1 and [e.primitive.name for e in subs[0].eqns] == ["cos"]
    jclosed = jax.make_jaxpr(lambda x: jax.jit(jnp.cos)(x) + 1)(1.0)
    jsubs = list(jex.core.subjaxprs(jclosed.jaxpr))
    assert [e.primitive.name for e in jsubs[0].eqns] == ["cos"]
