"""checkpoint policies that honour names (xlafront/api_autodiff.py, transforms/partial_eval.py
`partial_eval_graph_saving`): what `print_saved_residuals` prints for a checkpointed
function under each of JAX's policies and under user policies equals JAX's lines (JAX run
live on the same source lines), and the gradients equal JAX's under grad, jit(grad),
grad(jit(...)) and vmap(grad), with finite differences as a second check."""
import contextlib
import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import checkpoint_name as j_name
from jax.ad_checkpoint import print_saved_residuals as j_print

import xlafront as xf
import xlafront.numpy as xnp
from xlafront.ad_checkpoint import checkpoint_name as x_name
from xlafront.ad_checkpoint import print_saved_residuals as x_print

LIBS = {"jax": (jax, jnp, j_name, j_print), "xf": (xf, xnp, x_name, x_print)}


_USE = {}   # the library g runs on: g is defined at module level, so that its source lines
#             (and its qualified name, which JAX prints) are the same for both libraries


def g(W1, W2, x):
    np_, name = _USE["np"], _USE["name"]
    h = np_.sin(np_.dot(W1, x))
    h = name(h, "h1")
    z = np_.dot(W2, h)
    z = name(z, "z")
    return np_.sum(np_.tanh(z))


def _mlp(np_, name):
    _USE.update(np=np_, name=name)
    return g


def _policies(lib):
    cp = lib.checkpoint_policies
    return {
        "default": None,
        "everything_saveable": cp.everything_saveable,
        "nothing_saveable": cp.nothing_saveable,
        "dots_saveable": cp.dots_saveable,
        "checkpoint_dots": cp.checkpoint_dots,
        "dots_with_no_batch_dims_saveable": cp.dots_with_no_batch_dims_saveable,
        "save_only_these_names": cp.save_only_these_names("h1"),
        "save_only_these_names_both": cp.save_only_these_names("h1", "z"),
        "save_any_names_but_these": cp.save_any_names_but_these("h1"),
        "save_from_both_policies": cp.save_from_both_policies(cp.dots_saveable, cp.save_only_these_names("z")),
        "save_and_offload_saved_only": cp.save_and_offload_only_these_names(
            names_which_can_be_saved=["z"], names_which_can_be_offloaded=[],
            offload_src="device", offload_dst="pinned_host"),
        "custom_sin": lambda prim, *avals, **params: prim.name == "sin",
        "custom_by_aval": lambda prim, *avals, **params: prim.name == "dot_general" and avals[0].shape == (3, 5),
        "custom_by_params": lambda prim, *avals, **params: prim.name == "name" and params["name"] == "z",
    }


POLICIES = list(_policies(xf))


def _args(np_):
    r = np.random.RandomState(0)
    return (np_.asarray(r.randn(5, 4).astype(np.float32)), np_.asarray(r.randn(3, 5).astype(np.float32)),
            np_.asarray(r.randn(4).astype(np.float32)))


def _printed(lib_name, policy_name, checkpointed=True):
    lib, np_, name, pr = LIBS[lib_name]
    g = _mlp(np_, name)
    if checkpointed:
        g = lib.checkpoint(g, policy=_policies(lib)[policy_name])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        pr(g, *_args(np_))
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("policy", POLICIES)
def test_print_saved_residuals_matches_jax(policy):
    j, x = _printed("jax", policy), _printed("xf", policy)
    assert x == j
    assert x[:3] == ["f32[5,4] from the argument W1", "f32[3,5] from the argument W2", "f32[4] from the argument x"]


def test_expected_lines_of_some_policies():
    # independent of JAX: what each policy must keep beyond the three arguments
    def extra(policy):
        return [line.split(" from ")[0] for line in _printed("xf", policy)[3:]]
    assert extra("default") == extra("nothing_saveable") == []
    assert extra("dots_saveable") == ["f32[5] output of dot_general", "f32[3] output of dot_general"]
    assert extra("save_only_these_names") == ["f32[5] named 'h1'"]
    assert extra("save_any_names_but_these") == ["f32[3] named 'z'"]
    assert extra("custom_sin") == ["f32[5] output of sin"]
    assert extra("everything_saveable") == [line.split(" from ")[0] for line in _printed("xf", None, False)[3:]]


def test_unchecked_function_names_its_tagged_residual_as_jax():
    assert _printed("xf", None, checkpointed=False) == _printed("jax", None, checkpointed=False)


def test_offload_policy_saves_what_jax_offloads():
    # xlafront has one memory space: an offloaded value is saved (JAX prints f32<host>[5]
    # output of device_put); everything else as JAX
    def make(lib):
        return lib.checkpoint_policies.save_and_offload_only_these_names(
            names_which_can_be_saved=["z"], names_which_can_be_offloaded=["h1"],
            offload_src="device", offload_dst="pinned_host")
    out = {}
    for k, (lib, np_, name, pr) in LIBS.items():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            pr(lib.checkpoint(_mlp(np_, name), policy=make(lib)), *_args(np_))
        out[k] = buf.getvalue().splitlines()
    assert out["jax"][3].startswith("f32<host>[5] output of device_put")
    assert out["xf"][3].startswith("f32[5] named 'h1' from ")
    assert out["xf"][:3] + out["xf"][4:] == out["jax"][:3] + out["jax"][4:]


def _fd_grad(f, args, i, eps=1e-3):
    """Central finite differences of f (float64 NumPy) in argument i."""
    a = [np.asarray(x, np.float64) for x in args]
    g = np.zeros_like(a[i])
    for idx in np.ndindex(a[i].shape):
        hi = [x.copy() for x in a]
        lo = [x.copy() for x in a]
        hi[i][idx] += eps
        lo[i][idx] -= eps
        g[idx] = (f(*hi) - f(*lo)) / (2 * eps)
    return g


def _np_mlp(W1, W2, x):
    return np.sum(np.tanh(W2 @ np.sin(W1 @ x)))


@pytest.mark.parametrize("policy", POLICIES)
def test_gradients_equal_jax_under_every_policy(policy):
    # (g reads its library from _USE when traced: each library's trace runs right after
    # _mlp sets it, whatever either library has cached from earlier tests)
    jf = jax.checkpoint(_mlp(jnp, j_name), policy=_policies(jax)[policy])
    ja, xa = _args(jnp), _args(xnp)
    want = jax.grad(jf, argnums=(0, 1, 2))(*ja)
    xfn = xf.checkpoint(_mlp(xnp, x_name), policy=_policies(xf)[policy])
    for how in (lambda f: xf.grad(f, argnums=(0, 1, 2)), lambda f: xf.jit(xf.grad(f, argnums=(0, 1, 2))),
                lambda f: xf.grad(xf.jit(f), argnums=(0, 1, 2))):
        got = how(xfn)(*xa)
        for w, g in zip(want, got):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=2e-6)
    for i in range(3):
        np.testing.assert_allclose(np.asarray(want[i]), _fd_grad(_np_mlp, ja, i), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("policy", ["everything_saveable", "dots_saveable", "save_only_these_names"])
def test_vmap_of_grad_equals_a_loop(policy):
    xfn = xf.checkpoint(_mlp(xnp, x_name), policy=_policies(xf)[policy])
    W1, W2, _ = _args(xnp)
    xs = xnp.asarray(np.random.RandomState(1).randn(3, 4).astype(np.float32))
    got = xf.vmap(xf.grad(xfn), in_axes=(None, None, 0))(W1, W2, xs)
    for k in range(3):
        np.testing.assert_allclose(np.asarray(got[k]), np.asarray(xf.grad(xfn)(W1, W2, xs[k])), rtol=1e-5,
                                   atol=1e-6)


def test_user_policy_sees_primitives_avals_and_params():
    for lib_name in ("jax", "xf"):
        lib, np_, name, _ = LIBS[lib_name]
        seen = []

        def policy(prim, *avals, **params):
            seen.append((prim.name, tuple(tuple(a.shape) for a in avals), params.get("name")))
            return False
        lib.grad(lib.checkpoint(_mlp(np_, name), policy=policy))(*_args(np_))
        assert ("dot_general", ((5, 4), (4,)), None) in seen, lib_name
        assert ("name", ((5,),), "h1") in seen and ("name", ((3,),), "z") in seen, lib_name
        assert ("sin", ((5,),), None) in seen, lib_name


def test_checkpoint_with_control_flow_and_nesting():
    cp = xf.checkpoint_policies

    def body(np_, lax, name):
        def f(x):
            y = lax.cond(x[0] > 0, lambda v: np_.sin(v) * 2, lambda v: np_.cos(v), x)
            y = name(y, "y")
            return np_.sum(np_.exp(y) * x)
        return f

    x = np.array([0.3, -0.7, 1.1], np.float32)
    for pol_x, pol_j in ((cp.everything_saveable, jax.checkpoint_policies.everything_saveable),
                         (cp.save_only_these_names("y"), jax.checkpoint_policies.save_only_these_names("y")),
                         (None, None)):
        xf_f = xf.checkpoint(body(xnp, xf.lax, x_name), policy=pol_x)
        j_f = jax.checkpoint(body(jnp, jax.lax, j_name), policy=pol_j)
        want = jax.grad(j_f)(x)
        np.testing.assert_allclose(np.asarray(xf.grad(xf_f)(x)), np.asarray(want), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(xf.jit(xf.grad(xf_f))(x)), np.asarray(want), rtol=1e-5)
        # a checkpoint inside a checkpoint, each with its own policy
        outer_x = xf.checkpoint(lambda v: xnp.sum(xnp.sin(xf_f(v) * v)), policy=cp.dots_saveable)
        outer_j = jax.checkpoint(lambda v: jnp.sum(jnp.sin(j_f(v) * v)),
                                 policy=jax.checkpoint_policies.dots_saveable)
        np.testing.assert_allclose(np.asarray(xf.grad(outer_x)(x)), np.asarray(jax.grad(outer_j)(x)), rtol=1e-5)


def test_checkpoint_name_eager_pytree_and_errors():
    x = xnp.arange(3.0)
    assert x_name(x, "a") is x   # outside a trace: the value itself (as JAX's impl)
    tree = {"a": xnp.ones(2), "b": (xnp.zeros(1),)}
    out = xf.jit(lambda t: x_name(t, "t"))(tree)
    assert set(out) == {"a", "b"} and np.asarray(out["a"]).tolist() == [1.0, 1.0]
    assert str(xf.make_jaxpr(lambda v: x_name(v, "a"))(1.0)) == str(jax.make_jaxpr(lambda v: j_name(v, "a"))(1.0))
    with pytest.raises(TypeError, match="name must be a string"):
        x_name(x, 3)
    # policies are values: equal policies are equal (they key the caches)
    cp = xf.checkpoint_policies
    assert cp.save_only_these_names("a", "b") == cp.save_only_these_names("b", "a")
    assert cp.dots_saveable is cp.checkpoint_dots
    assert cp.save_anything_except_these_names("h1")(xf.lax.dot_general_p) is True


def _inner(W, x):
    np_ = _USE["np"]
    return np_.sin(np_.dot(W, x))


def _outer(W, x):
    lib, np_ = _USE["lib"], _USE["np"]
    return np_.sum(np_.tanh(lib.jit(_inner)(W, x)))


def _printed_nested(lib_name, policy_name):
    lib, np_, name, pr = LIBS[lib_name]
    _USE.update(lib=lib, np=np_, name=name)
    policy = {"everything_saveable": lib.checkpoint_policies.everything_saveable,
              "dots_saveable": lib.checkpoint_policies.dots_saveable, "default": None}[policy_name]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        pr(lib.checkpoint(_outer, policy=policy), np_.ones((3, 4)), np_.ones(4))
    return buf.getvalue().splitlines()


def test_policy_applies_inside_a_nested_jit():
    # a residual made inside a jitted function prints as JAX's ("output of jitted function
    # '_inner'"); under dots_saveable the dot inside the jit is saved, the rest recomputed
    for policy in ("everything_saveable", "dots_saveable", "default"):
        assert _printed_nested("xf", policy) == _printed_nested("jax", policy)
    assert _printed_nested("xf", "dots_saveable")[2].startswith("f32[3] output of jitted function '_inner'")
    W, x = np.ones((3, 4), np.float32) * 0.1, np.linspace(0, 1, 4).astype(np.float32)
    for pol in ("dots_saveable", "save_only_these_names", "everything_saveable"):
        _USE.update(lib=jax, np=jnp)
        want = jax.grad(jax.checkpoint(_outer, policy=_policies(jax)[pol]), argnums=(0, 1))(W, x)
        _USE.update(lib=xf, np=xnp)
        f = xf.checkpoint(_outer, policy=_policies(xf)[pol])
        for got in (xf.grad(f, argnums=(0, 1))(W, x), xf.jit(xf.grad(f, argnums=(0, 1)))(W, x),
                    xf.grad(xf.jit(f), argnums=(0, 1))(W, x)):
            for g_, w_ in zip(got, want):
                np.testing.assert_allclose(np.asarray(g_), np.asarray(w_), rtol=1e-5, atol=1e-7)
