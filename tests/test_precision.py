"""lax.Precision and `precision=` arguments: enum behaviour as jax.lax.Precision, and the
StableHLO `precision = [...]` of dot_general as JAX emits it."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xl

jax.config.update("jax_platforms", "cpu")

X = np.arange(6, dtype=np.float32).reshape(2, 3)
Y = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
JP, XP = jax.lax.Precision, xl.Precision


def _prec(text):
    return re.findall(r"precision = \[[A-Z, ]*\]", text)


def test_precision_enum_like_jax():
    assert [p.name for p in XP] == [p.name for p in JP]
    assert [p.value for p in XP] == [p.value for p in JP]
    for p in XP:
        assert str(p) == str(JP[p.name]) and repr(p) == repr(JP[p.name])
    for s in ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32", "fastest",
              "bfloat16_3x"):
        assert XP(s).name == JP(s).name, s
    assert XP(JP.HIGH) is XP.HIGH and XP("highest") is XP.HIGHEST and XP["HIGH"] is XP.HIGH
    with pytest.raises(ValueError):
        XP("foo")
    with pytest.raises(ValueError):
        JP("foo")


CASES = [
    ("dot", lambda m, P: lambda a, b: m.dot(a, b, precision="highest")),
    ("dot_default", lambda m, P: lambda a, b: m.dot(a, b)),
    ("matmul_pair", lambda m, P: lambda a, b: m.matmul(a, b, precision=(P.HIGH, P.DEFAULT))),
    ("einsum", lambda m, P: lambda a, b: m.einsum("ij,jk->ik", a, b, precision=P.HIGHEST)),
    ("tensordot", lambda m, P: lambda a, b: m.tensordot(a, b, 1, precision="float32")),
    ("inner", lambda m, P: lambda a, b: m.inner(a, b.T, precision="high")),
    ("vdot", lambda m, P: lambda a, b: m.vdot(a, a, precision=P.HIGHEST)),
    ("lax_dot", lambda m, P: lambda a, b: (xl if m is xnp else jax.lax).dot(a, b, precision=P.HIGHEST)),
    ("lax_dot_general", lambda m, P: lambda a, b: (xl if m is xnp else jax.lax).dot_general(
        a, b, (((1,), (0,)), ((), ())), precision=(P.HIGHEST, P.HIGH))),
]


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_precision_in_stablehlo_and_values(name, make):
    f, jf = make(xnp, XP), make(jnp, JP)
    got = _prec(xf.jit(f).lower(X, Y).as_text())
    want = _prec(jax.jit(jf).lower(X, Y).as_text())
    assert got == want and got, (got, want)
    np.testing.assert_allclose(f(X, Y), jf(X, Y), rtol=1e-6)


def test_precision_survives_grad_and_vmap():
    f = lambda a, b: xnp.sum(xnp.dot(a, b, precision="highest"))
    text = xf.jit(xf.grad(f)).lower(X, Y).as_text()
    assert _prec(text) and all(p == "precision = [HIGHEST, HIGHEST]" for p in _prec(text))
    g = xf.grad(f)(X, Y)
    np.testing.assert_allclose(g, jax.grad(lambda a, b: jnp.sum(jnp.dot(a, b, precision="highest")))(X, Y),
                               rtol=1e-6)
    v = xf.vmap(lambda a: xnp.dot(a, Y, precision=XP.HIGH))(X)
    np.testing.assert_allclose(v, X @ Y, rtol=1e-6)


def test_bad_precision_and_recovery():
    with pytest.raises(ValueError):
        jnp.dot(X, Y, precision="foo")
    with pytest.raises(ValueError, match="Precision argument must be one of"):
        xnp.dot(X, Y, precision="foo")
    with pytest.raises(ValueError, match="Precision argument must be one of"):
        xnp.matmul(X, Y, precision=(XP.HIGH, None))
    np.testing.assert_allclose(xnp.dot(X, Y, precision="highest"), X @ Y, rtol=1e-6)
