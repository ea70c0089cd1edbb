"""xlafront.testing.compare_with_jax: runs a function under xlafront and under JAX."""
import functools
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront.numpy import tanh as my_tanh
from xlafront.testing import ComparisonReport, compare_with_jax, to_jax

SCALE = 3.0


def _under_jax():
    """True when this code runs as the JAX copy (the module global `xnp` was swapped)."""
    return xnp.__name__.startswith("jax")


def helper(x):
    return my_tanh(x) * 2.0


def recursive(x, n):
    return x if n == 0 else recursive(xnp.sin(x), n - 1)


def model(x, y):
    return {"a": helper(x) + y, "b": (xnp.sum(x), recursive(x, 2)), "c": x > 0}


def make_closure():
    inner = lambda v: xnp.exp(v) * SCALE  # noqa: E731
    return lambda v: inner(v) + 1


X = np.linspace(-1, 1, 5, dtype=np.float32)


def test_agreement_report():
    y = np.arange(5, dtype=np.float32)
    report = compare_with_jax(model, xnp.asarray(X), y)
    assert isinstance(report, ComparisonReport) and report.ok
    assert [leaf.path for leaf in report.leaves] == ["['a']", "['b'][0]", "['b'][1]", "['c']"]
    assert [(leaf.shape, leaf.dtype) for leaf in report.leaves] == [
        ((5,), "float32"), ((), "float32"), ((5,), "float32"), ((5,), "bool")]
    assert all(leaf.max_abs_diff <= 1e-6 for leaf in report.leaves)
    assert report.max_abs_diff == max(leaf.max_abs_diff for leaf in report.leaves)
    text = str(report)
    assert "compare_with_jax(model): 4 output leaves" in text and "max_abs_diff=" in text
    assert len(report) == 4 and report[3].rtol == 0  # bool compares exactly


def test_helpers_closures_partials_jit_are_translated():
    # module helpers (recursively, incl. a recursive one), closures, from-imports, partials, jit
    assert compare_with_jax(make_closure(), X).ok
    assert compare_with_jax(functools.partial(model, y=np.ones(5, np.float32)), X).ok
    assert compare_with_jax(xf.jit(model), X, np.ones(5, np.float32)).ok
    assert compare_with_jax(lambda x, n=2: recursive(x, n), X).ok
    g = to_jax(model)
    assert g.__globals__["xnp"] is jnp and g.__globals__["xf"] is jax
    assert g.__globals__["my_tanh"] is jnp.tanh
    h = g.__globals__["helper"]
    assert h.__globals__ is g.__globals__ and h is not helper
    assert g.__globals__["recursive"].__globals__ is g.__globals__
    jitted = to_jax(xf.jit(model))
    assert isinstance(jitted, type(jax.jit(lambda x: x)))
    # nothing of the user's module or of xlafront was changed
    assert globals()["xnp"] is xnp and xnp.__name__ == "xlafront.numpy"
    assert sys.modules["xlafront.numpy"] is xnp and not _under_jax()


def test_the_jax_run_really_runs_jax():
    seen = []

    def probe(x):
        seen.append(type(xnp.sin(x)).__module__)
        return xnp.sin(x)

    compare_with_jax(probe, X)
    assert seen[0] == "xlafront" and seen[1].startswith("jax")


def test_weak_types_and_x64_follow_xlafront_config():
    r = compare_with_jax(lambda s: xnp.sin(s) * 2, xnp.asarray(0.5))
    assert r.leaves[0].weak_type and r.leaves[0].jax_weak_type
    xf.config.update("jax_enable_x64", True)
    try:
        r = compare_with_jax(lambda v: xnp.cos(v) + 1.0, np.arange(3.0))
        assert r.leaves[0].dtype == "float64" and r.leaves[0].rtol == 1e-12
    finally:
        xf.config.update("jax_enable_x64", False)
    assert not jax.config.jax_enable_x64  # restored


def off_by(x, eps):
    return xnp.sin(x) + (eps if _under_jax() else 0.0)


def test_value_disagreement_raises_a_readable_diff():
    with pytest.raises(AssertionError) as e:
        compare_with_jax(off_by, X, 1e-3)
    msg = str(e.value)
    assert "xlafront and JAX disagree" in msg
    assert "5 of 5 elements differ beyond rtol=1e-05, atol=1e-05" in msg
    assert "max abs diff 0.001" in msg and "worst elements" in msg and "at (" in msg
    # within an explicit tolerance it agrees, and reports the difference
    r = compare_with_jax(off_by, X, 1e-3, atol=2e-3)
    assert r.ok and abs(r.max_abs_diff - 1e-3) < 1e-6
    # a tiny difference is inside the default float32 tolerance
    assert compare_with_jax(off_by, X, 1e-7).ok


def test_shape_dtype_weak_and_tree_disagreements():
    def wrong_shape(x):
        return x if not _under_jax() else x[:3]

    def wrong_dtype(x):
        return xnp.asarray(x, xnp.float16) if not _under_jax() else x

    def wrong_weak(x):
        return xnp.asarray(2.0) if not _under_jax() else xnp.asarray(2.0, xnp.float32)

    def wrong_tree(x):
        return (x, x) if not _under_jax() else [x, x]

    def nan_vs_value(x):
        return xnp.log(x) if not _under_jax() else xnp.abs(x)

    for fn, message in [(wrong_shape, "shape (5,) (xlafront) != (3,) (jax)"),
                        (wrong_dtype, "dtype float16 (xlafront) != float32 (jax)"),
                        (wrong_weak, "weak_type True (xlafront) != False (jax)"),
                        (wrong_tree, "output structures differ"),
                        (nan_vs_value, "elements differ")]:
        with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")
                           .replace("[", r"\[")):
            compare_with_jax(fn, X)
    assert compare_with_jax(wrong_dtype, X, check_dtypes=False, atol=1e-3).ok
    assert compare_with_jax(wrong_weak, X, check_weak_type=False).ok
    # NaNs in the same places agree
    assert compare_with_jax(lambda x: xnp.log(x), X).ok


def test_kwargs_and_numpy_and_scalar_outputs():
    def f(x, *, power):
        return {"p": x * power, "n": 3}

    r = compare_with_jax(f, X, kwargs={"power": 2.0})
    assert r.ok and [leaf.path for leaf in r] == ["['n']", "['p']"]


def test_helper_from_another_user_module(tmp_path, monkeypatch):
    (tmp_path / "cwj_helpers.py").write_text(
        "import xlafront.numpy as np_like\n"
        "def softplus(x):\n    return np_like.log1p(np_like.exp(x))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import cwj_helpers
    try:
        def f(x):
            return cwj_helpers.softplus(x) * 2

        def g(x):
            return softplus(x)
        softplus = cwj_helpers.softplus
        assert compare_with_jax(f, X).ok
        assert compare_with_jax(g, X).ok
        assert to_jax(g).__closure__[0].cell_contents.__globals__["np_like"] is jnp
        jf = to_jax(f)
        copied = jf.__closure__[jf.__code__.co_freevars.index("cwj_helpers")].cell_contents
        assert copied is not cwj_helpers and copied.np_like is jnp  # the user module is copied, swapped
        assert cwj_helpers.np_like is xnp
        seen = []

        def probe(x):
            return cwj_helpers.softplus(x) if not seen.append(cwj_helpers.np_like.__name__) else x
        compare_with_jax(probe, X)
        assert seen == ["xlafront.numpy", "jax.numpy"]
        assert isinstance(cwj_helpers.np_like, types.ModuleType) and cwj_helpers.np_like is xnp
    finally:
        sys.modules.pop("cwj_helpers", None)


def test_transformed_functions_and_library_functions():
    def loss(x):
        return xnp.sum(xnp.sin(x) * x)

    if hasattr(xf, "grad"):
        # a transformation inside the compared function is swapped (xf.grad -> jax.grad) ...
        assert compare_with_jax(lambda x: xf.grad(loss)(x), X).ok
        # ... but a function xlafront made has no JAX counterpart: a clear error says what to do
        with pytest.raises(TypeError, match=r"made by xlafront.*lambda x: xf.grad\(loss\)\(x\)"):
            compare_with_jax(xf.grad(loss), X)
    # public xlafront functions map to JAX's by name
    assert compare_with_jax(xnp.sin, X).ok
    assert compare_with_jax(xf.jit(xnp.cumsum), X).ok


def test_lax_names_map_to_jax_lax():
    from xlafront.lax import dot_general
    from xlafront import lax as xlax

    def f(x):
        y = dot_general(x, x, (((0,), (0,)), ((), ())))
        return xlax.add(y, xlax.convert_element_type(y, xnp.float32))

    g = to_jax(f)
    cells = dict(zip(g.__code__.co_freevars, (c.cell_contents for c in g.__closure__)))
    assert cells["dot_general"] is jax.lax.dot_general and cells["xlax"] is jax.lax
    assert compare_with_jax(f, X).ok


# ----------------------------------------------------------------------------- grad and vmap
@xf.jit
def mlp_loss(params, x, y):
    h = xnp.tanh(x @ params["w"] + params["b"])
    return xnp.mean((h.sum(-1) - y) ** 2)


W = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)
XB = np.linspace(-1, 2, 12, dtype=np.float32).reshape(4, 3)
YB = np.array([0.5, -1.0, 0.0, 2.0], np.float32)


def test_grad_and_vmap_transforms_compare_with_jax():
    params = {"w": W, "b": np.array([0.1, -0.2], np.float32)}
    r = compare_with_jax(mlp_loss, params, XB, YB, transforms=("value", "grad", "vmap"), in_axes=(None, 0, 0))
    assert r.ok and r.transforms == ("value", "grad", "vmap")
    assert [leaf.label for leaf in r] == ["<output>", "grad: ['b']", "grad: ['w']", "vmap: <output>"]
    assert [(leaf.transform, leaf.shape) for leaf in r] == [
        ("value", ()), ("grad", (2,)), ("grad", (3, 2)), ("vmap", (3,))]  # batch of 3 copies of (XB, YB)
    assert r.trees["grad"] == "PyTreeDef({'b': *, 'w': *})"
    g = r.for_transform("grad")
    assert len(g) == 2 and g.ok and g.transforms == ("grad",)
    text = str(r)
    assert "transforms=('value', 'grad', 'vmap')" in text and "grad: ['w']: float32[3, 2]" in text
    # several argnums; a single transform name as a string
    r = compare_with_jax(mlp_loss, params, XB, YB, transforms="grad", argnums=(0, 1))
    assert [leaf.label for leaf in r] == ["grad: [0]['b']", "grad: [0]['w']", "grad: [1]"]


def test_grad_of_non_scalar_outputs_is_a_vjp_and_vmap_takes_given_batches():
    @xf.jit
    def f(x, n):
        return {"y": xnp.sin(x) * x, "k": xnp.argmax(x) + n, "s": xnp.sum(x ** 3)}

    x = np.linspace(-1, 1, 5, dtype=np.float32)
    r = compare_with_jax(f, x, 2, transforms=("grad", "vmap"))  # int output: float0 cotangent
    assert r.ok and [leaf.label for leaf in r] == ["grad: <output>", "vmap: ['k']", "vmap: ['s']", "vmap: ['y']"]
    assert r[0].max_abs_diff < 1e-6 and r[1].shape == (3,)  # the Python int n stays unbatched
    batch = np.stack([x, 2 * x, -x, x + 1])
    r = compare_with_jax(f, x, 2, transforms="vmap", vmap_args=(batch, np.arange(4)), in_axes=(0, 0))
    assert r.ok and r[1].path == "['s']" and r[1].shape == (4,)
    with pytest.raises(ValueError, match="transforms must be"):
        compare_with_jax(f, x, 2, transforms=("value", "hessian"))


def grad_differs(x):
    # the same value in both libraries; xlafront's copy stops the gradient of one factor
    return xnp.sum(x * x) if _under_jax() else xnp.sum(x * xf.lax.stop_gradient(x))


def vmap_differs(x):
    # the same unbatched value; under xlafront's vmap (a tracer argument) a different formula
    if not _under_jax() and isinstance(x, xf.core.Tracer):
        return xnp.cos(x)
    return xnp.sin(x)


def test_grad_and_vmap_disagreements_are_reported():
    assert compare_with_jax(grad_differs, X, transforms=("value", "vmap")).ok
    with pytest.raises(AssertionError) as info:
        compare_with_jax(grad_differs, X, transforms=("value", "grad", "vmap"))
    msg = str(info.value)
    assert msg.startswith("xlafront and JAX disagree (grad of grad_differs)."), msg
    assert "grad: <output>: float32[5]" in msg and "MISMATCH" in msg
    assert "  grad: <output>: 4 of 5 elements differ" in msg  # x == 0 at the middle: 0 == 0
    assert "  <output>: float32[]" in msg and "vmap: <output>: float32[3]" in msg

    assert compare_with_jax(vmap_differs, X, transforms=("value",)).ok
    with pytest.raises(AssertionError, match=r"disagree \(vmap of vmap_differs\)\.[\s\S]*vmap: <output>: "
                                             r"\d+ of 15 elements differ"):
        compare_with_jax(vmap_differs, X, transforms=("value", "vmap"))


def test_grad_and_vmap_follow_xlafront_x64():
    old = xf.config.x64
    xf.config.update("jax_enable_x64", True)
    try:
        x = np.linspace(0.5, 1.5, 4)
        r = compare_with_jax(xf.jit(lambda v: xnp.sum(xnp.log(v) * v)), x, transforms=("value", "grad", "vmap"))
        assert r.ok and [leaf.dtype for leaf in r] == ["float64"] * 3
        assert all(leaf.rtol == 1e-12 for leaf in r)
    finally:
        xf.config.update("jax_enable_x64", old)
