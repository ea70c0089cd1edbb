"""xlafront.nn against jax.nn: activation values, dtypes and weak types, custom derivatives
(relu at 0, softmax), grads against JAX and finite differences, vmap, one_hot, and
nn.initializers bit for bit against jax.nn.initializers for the same key."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.nn as xnn
import xlafront.numpy as xnp
import xlafront.random as xr
from jax_ref import jax_side


X = np.array([[-7., -2.5, -1., -0.3, 0.], [0.3, 0.7, 1., 2.5, 7.]], np.float32)
ACTIVATIONS = ["relu", "relu6", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "log_sigmoid", "softplus",
               "soft_sign", "leaky_relu", "hard_tanh", "hard_sigmoid", "hard_silu", "hard_swish", "celu", "mish",
               "squareplus", "sparse_plus", "sparse_sigmoid", "identity", "tanh"]


def test_activation_values_dtypes_weak_types():
    # all activations in one program per side, on an array and on a (weak) Python scalar
    def run(lib, x, s):
        return [(getattr(lib, n)(x), getattr(lib, n)(s)) for n in ACTIVATIONS]
    got = xf.jit(lambda x, s: run(xnn, x, s))(X, 0.5)
    want = jax_side(lambda x, s: jax.jit(lambda x, s: run(jax.nn, x, s))(x, s), X, 0.5)
    for name, g_pair, w_pair in zip(ACTIVATIONS, got, want):
        for g, w in zip(g_pair, w_pair):  # gelu builds strong constants: strong, as JAX
            assert (g.dtype, g.shape, g.weak_type) == (w.dtype, w.shape, w.weak_type), name
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "softplus", "hard_tanh", "elu"])
def test_activations_eager(name):
    # called outside jit (each is a jitted function of its own, as in JAX): bit for bit
    got, want = getattr(xnn, name)(X), jax_side(lambda name, x: getattr(jax.nn, name)(x), name, X)
    assert (got.dtype, got.shape, got.weak_type) == (want.dtype, want.shape, want.weak_type)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    got, want = getattr(xnn, name)(0.5), jax_side(lambda name, x: getattr(jax.nn, name)(x), name, 0.5)
    assert (got.dtype, got.weak_type, float(got)) == (want.dtype, want.weak_type, float(want))


def test_activation_options_and_dtypes():
    xb = X.astype(jnp.bfloat16)
    cases = [("gelu", dict(approximate=False), X), ("gelu", dict(approximate=False), xb), ("gelu", {}, xb),
             ("elu", dict(alpha=0.5), X), ("celu", dict(alpha=2.0), X), ("leaky_relu", dict(negative_slope=0.2), X),
             ("glu", dict(axis=0), X), ("glu", {}, X[:, :4]), ("squareplus", dict(b=2.0), X),
             ("log1mexp", {}, np.abs(X) + 0.1), ("relu", {}, X.astype(np.int32)), ("relu6", {}, xb)]
    for name, kw, x in cases:
        got, want = getattr(xnn, name)(x, **kw), jax_side(lambda name, x, kw: getattr(jax.nn, name)(x, **kw), name, x, kw)
        assert (got.dtype, got.shape) == (want.dtype, want.shape), (name, kw)
        np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32), rtol=1e-6,
                                   err_msg=f"{name} {kw}")


def test_softmax_family_options():
    where = X > -2
    for kw in [dict(), dict(axis=None), dict(axis=0, where=where)]:
        for name in ("softmax", "log_softmax", "logsumexp", "standardize", "logmeanexp"):
            if name in ("logsumexp", "logmeanexp") and "axis" not in kw:
                kw = dict(kw, axis=-1)
            # one program per case on each side (eager op-by-op is covered elsewhere)
            got = xf.jit(lambda v, name=name, kw=kw: getattr(xnn, name)(v, **kw))(X)
            want = jax_side(lambda x, name, kw: jax.jit(lambda v: getattr(jax.nn, name)(v, **kw))(x), X, name, kw)
            assert got.shape == want.shape and got.dtype == want.dtype, (name, kw)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"{name} {kw}")
    # integer input: float output, as JAX
    got, want = xnn.softmax(np.array([1, 2, 3], np.int32)), jax_side(lambda i: jax.nn.softmax(i), np.array([1, 2, 3], np.int32))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)
    got = xnn.standardize(X, algorithm="stable", epsilon=0.1)
    np.testing.assert_allclose(got, jax_side(lambda x: jax.nn.standardize(x, algorithm="stable", epsilon=0.1), X),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Unknown algorithm"):
        xnn.standardize(X, algorithm="bad")
    assert xnn.standardize(X).shape == X.shape


def test_relu_custom_derivative_is_zero_at_zero():
    x = np.array([-1., 0., 1.], np.float32)
    g = xf.vmap(xf.grad(xnn.relu))(x)
    np.testing.assert_array_equal(g, [0., 0., 1.])
    np.testing.assert_array_equal(g, jax_side(lambda x: jax.vmap(jax.grad(jax.nn.relu))(x), x))
    g6 = xf.vmap(xf.grad(xnn.relu6))(np.array([-1., 0., 3., 6., 7.], np.float32))
    np.testing.assert_array_equal(g6, [0., 0., 1., 0., 0.])
    # the derivative JAX's hard_sigmoid gets from relu6's rule
    x = np.array([-3., 0., 3.], np.float32)
    np.testing.assert_allclose(xf.vmap(xf.grad(xnn.hard_sigmoid))(x), jax_side(lambda x: jax.vmap(jax.grad(jax.nn.hard_sigmoid))(x), x))
    # the jvp rule applies under jit too, and relu prints as a custom_jvp call
    assert float(xf.jit(xf.grad(xnn.relu))(0.0)) == 0.0
    assert "custom_jvp_call" in str(xf.make_jaxpr(xnn.relu)(1.0))


GRAD_NAMES = ["elu", "selu", "gelu", "silu", "sigmoid", "log_sigmoid", "softplus", "soft_sign", "celu",
              "mish", "leaky_relu", "squareplus", "log1mexp"]


def test_grads_match_jax_and_finite_differences(x64):
    x = np.array([-2.3, -0.7, 0.4, 1.1, 3.2])
    for name in GRAD_NAMES:
        xa = np.abs(x) + 0.2 if name == "log1mexp" else x
        xfn = getattr(xnn, name)
        got = xf.jit(xf.vmap(xf.grad(xfn)))(xa)
        eps = 1e-6

        def jax_grad_and_fd(name, xa):
            jfn = jax.jit(getattr(jax.nn, name))
            return (jax.jit(jax.vmap(jax.grad(jfn)))(xa),
                    (np.asarray(jfn(xa + eps)) - np.asarray(jfn(xa - eps))) / (2 * eps))
        want, fd = jax_side(jax_grad_and_fd, name, xa)
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8, err_msg=name)
    got = xf.jit(xf.vmap(xf.grad(lambda v: xnn.gelu(v, approximate=False))))(x)
    np.testing.assert_allclose(got, jax_side(lambda x: jax.vmap(jax.grad(lambda v: jax.nn.gelu(v, approximate=False)))(x), x),
                               rtol=1e-10)


def test_softmax_derivatives(x64):
    x = np.array([[0.3, -1.2, 2.0, 0.5], [1.0, 0.0, -0.5, 3.0]])
    w = np.arange(8.0).reshape(2, 4)
    mask = np.array([[True, True, False, True], [True, False, True, True]])
    for name in ("softmax", "log_softmax", "logsumexp"):
        for kw in (dict(axis=-1), dict(axis=0, where=mask)):
            def xloss(v, name=name, kw=kw):
                return xnp.sum(xnp.where(mask, getattr(xnn, name)(v, **kw), 0.0) * w[:, :1] if name != "logsumexp"
                               else getattr(xnn, name)(v, **kw))

            def jloss(v, name=name, kw=kw):
                return jnp.sum(jnp.where(mask, getattr(jax.nn, name)(v, **kw), 0.0) * w[:, :1] if name != "logsumexp"
                               else getattr(jax.nn, name)(v, **kw))
            got = xf.jit(xf.grad(xloss))(x)
            want = jax_side(lambda x: jax.jit(jax.grad(jloss))(x), x)
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name} {kw}")
    # jvp and finite differences of softmax
    t = np.ones_like(x) * 0.1
    _, tout = xf.jvp(xnn.softmax, (x,), (t * w,))
    eps = 1e-6
    fd = jax_side(lambda x, tw: (np.asarray(jax.nn.softmax(x + eps * tw)) - np.asarray(jax.nn.softmax(x - eps * tw))) / (2 * eps),
                  x, t * w)
    np.testing.assert_allclose(tout, fd, rtol=1e-6, atol=1e-9)


def test_vmap_matches_jax():
    xs = np.stack([X, X * 0.5, -X])
    for name, kw in [("softmax", {}), ("log_softmax", dict(axis=0)), ("standardize", {}), ("glu", dict(axis=1)),
                     ("logsumexp", dict(axis=1)), ("elu", {})]:
        v = xs[..., :4] if name == "glu" else xs
        got = xf.jit(xf.vmap(lambda v, name=name, kw=kw: getattr(xnn, name)(v, **kw), in_axes=1))(v)
        want = jax_side(lambda v, name, kw: jax.jit(jax.vmap(lambda v: getattr(jax.nn, name)(v, **kw), in_axes=1))(v),
                        v, name, kw)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)
    idx = np.array([[0, 3, 1], [2, 2, 5]], np.int32)
    got = xf.vmap(lambda i: xnn.one_hot(i, 4, axis=0))(idx)
    np.testing.assert_array_equal(got, jax_side(lambda idx: jax.vmap(lambda i: jax.nn.one_hot(i, 4, axis=0))(idx), idx))


def test_one_hot():
    idx = np.array([[0, 2, 5], [-1, 1, 3]], np.int32)
    for kw in [dict(), dict(dtype=jnp.int32), dict(axis=0), dict(axis=1, dtype=jnp.bfloat16), dict(dtype=bool)]:
        got, want = xnn.one_hot(idx, 4, **kw), jax_side(lambda idx, kw: jax.nn.one_hot(idx, 4, **kw), idx, kw)
        assert (got.dtype, got.shape) == (want.dtype, want.shape), kw
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    # num_classes from a concrete array, inside jit from a closure
    assert xnn.one_hot(np.array(1), np.int32(3)).shape == (3,)
    assert xf.jit(lambda i: xnn.one_hot(i, 3))(np.array([0, 2])).shape == (2, 3)
    with pytest.raises(xf.ConcretizationTypeError, match="num_classes"):
        xf.jit(lambda i, n: xnn.one_hot(i, n))(np.array([0]), 3)
    with pytest.raises(ValueError, match="out of bounds"):
        xnn.one_hot(idx, 4, axis=3)
    np.testing.assert_array_equal(xnn.one_hot(np.array([1]), 2), [[0., 1.]])


def test_bad_input_errors():
    with pytest.raises(TypeError, match="soft_sign requires ndarray or scalar"):
        xnn.soft_sign([1.0, 2.0])
    with pytest.raises(TypeError, match="logistic does not accept dtype int32"):
        xnn.sigmoid(np.ones(2, np.int32))
    with pytest.raises(AssertionError, match="divisible by 2"):
        xnn.glu(np.ones(3, np.float32))
    assert float(xnn.sigmoid(0.0)) == 0.5


# ----------------------------------------------------------------------------- initializers
# Most cases draw a (4, 6) float32 sample: random's kernels are compiled once per shape and
# dtype (on both sides), so the cases share them and stay cheap.
INIT_CASES = [
    ("glorot_normal", (), (4, 6), None), ("glorot_uniform", (), (4, 6), None),
    ("he_normal", (), (4, 6), None), ("he_uniform", (), (4, 6), None),
    ("lecun_normal", (), (4, 6), None), ("lecun_uniform", (), (4, 6), None),
    ("normal", (2.,), (4, 6), None), ("uniform", (3.,), (4, 6), None),
    ("truncated_normal", (), (4, 6), None), ("truncated_normal", (1., None, -1., 3.), (4, 6), None),
    ("variance_scaling", (1.5, "fan_out", "normal"), (4, 6), None),
    ("variance_scaling", (0.5, "fan_geo_avg", "uniform", 0, 1), (4, 6), None),
    ("variance_scaling", (1., "fan_in", "truncated_normal", -2, -1, 0), (2, 2, 6), None),
    ("xavier_normal", (), (2, 2, 6), None),  # a conv kernel: the receptive field enters the fans
    ("he_uniform", (), (4, 6), jnp.bfloat16),
    ("variance_scaling", (1., "fan_in", "truncated_normal"), (4, 6), jnp.complex64),
    ("variance_scaling", (1., "fan_avg", "uniform"), (4, 6), jnp.complex64),
    ("orthogonal", (), (6, 4), None), ("orthogonal", (2., 0), (4, 6), None),
    ("delta_orthogonal", (), (3, 4, 6), None), ("constant", (0.3,), (4, 6), None),
]


@pytest.mark.parametrize("name,args,shape,dtype", INIT_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(INIT_CASES)])
def test_initializers_bit_identical_to_jax(name, args, shape, dtype):
    xkey = xr.PRNGKey(42)
    extra = () if dtype is None else (dtype,)
    want = jax_side(lambda name, args, shape, extra: getattr(jax.nn.initializers, name)(*args)(
        jax.random.PRNGKey(42), shape, *extra), name, args, shape, extra)
    got = getattr(xnn.initializers, name)(*args)(xkey, shape, *extra)
    assert (got.dtype, got.shape, got.weak_type) == (want.dtype, want.shape, want.weak_type)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_initializers_zeros_ones_keys_and_errors():
    key = xr.PRNGKey(0)
    for name in ("zeros", "ones"):
        got, want = getattr(xnn.initializers, name)(key, (2, 3)), jax_side(lambda name: getattr(jax.nn.initializers, name)(
            jax.random.PRNGKey(0), (2, 3)), name)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    # new-style typed keys and split keys give JAX's values too
    k1 = xr.split(xr.key(3))[1]
    j1 = jax.random.split(jax.random.key(3))[1]
    np.testing.assert_array_equal(xnn.initializers.he_normal()(k1, (4, 6)), jax.nn.initializers.he_normal()(j1, (4, 6)))
    # inside jit (as in a model's init function)
    got = xf.jit(lambda k: xnn.initializers.glorot_uniform()(k, (4, 6)))(xr.PRNGKey(5))
    np.testing.assert_array_equal(got, jax_side(lambda: jax.jit(lambda k: jax.nn.initializers.glorot_uniform()(k, (4, 6)))(
        jax.random.PRNGKey(5))))
    with pytest.raises(ValueError, match="Must be at least 2D"):
        xnn.initializers.glorot_normal()(key, (4,))
    with pytest.raises(ValueError, match="invalid mode"):
        xnn.initializers.variance_scaling(1.0, "fan_bad", "normal")(key, (2, 2))
    with pytest.raises(ValueError, match="invalid distribution"):
        xnn.initializers.variance_scaling(1.0, "fan_in", "cauchy")(key, (2, 2))
    with pytest.raises(ValueError, match="at least a 2D shape"):
        xnn.initializers.orthogonal()(key, (3,))
    assert xnn.initializers.orthogonal()(key, (0, 3)).shape == (0, 3)
    assert isinstance(xnn.initializers.glorot_normal(), xnn.initializers.Initializer)
    assert xnn.initializers.xavier_uniform is xnn.initializers.glorot_uniform
    assert xnn.initializers.kaiming_normal is xnn.initializers.he_normal


def test_make_jaxpr_jit_names_match_jax():
    # jitted bodies print their public name (as jax.nn's jits do), not the Python function's
    def outer_name(closed):
        eqns = closed.graph.eqns if hasattr(closed, "graph") else closed.jaxpr.eqns
        return eqns[0].params["name"]
    idx = np.array([0, 2, 1], np.int32)
    for name, f, g in [("glu", xnn.glu, jax.nn.glu), ("log_softmax", xnn.log_softmax, jax.nn.log_softmax),
                       ("_one_hot", lambda i: xnn.one_hot(i, 3), lambda i: jax.nn.one_hot(i, 3))]:
        arg = idx if name == "_one_hot" else X[0, :4]
        assert outer_name(xf.make_jaxpr(f)(arg)) == outer_name(jax.make_jaxpr(g)(arg)) == name
    assert xnn.glu.__name__ == jax.nn.glu.__name__ == "glu"
