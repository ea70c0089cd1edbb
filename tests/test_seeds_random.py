"""The tutorial examples of ../shared/seeds that use random numbers, run on xlafront.

- linear regression by SGD (002): `random.split`/`random.choice` mini-batches and
  `tree_util.tree_map` updates give JAX's exact parameters after 20 steps;
- logistic regression (001): weights drawn with `random.split(key, 3)` and
  `random.normal`, as JAX draws them; with jax_threefry_partitionable=False (the
  scheme of the JAX release the tutorial ran on) the printed numbers come back;
- the PRNG section of 000: keys and normals printed in the text.
"""
import contextlib

import numpy as np

import jax
import jax.numpy as jnp
from jax import random as jr

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import random as xr


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    assert a.tobytes() == b.tobytes(), f"\n{a}\n!=\n{b}"


@contextlib.contextmanager
def _original_threefry():
    """Both libraries on the non-partitionable threefry scheme (JAX's default before 0.5)."""
    jax.config.update("jax_threefry_partitionable", False)
    xf.config.update("jax_threefry_partitionable", False)
    try:
        yield
    finally:
        jax.config.update("jax_threefry_partitionable", True)
        xf.config.update("jax_threefry_partitionable", True)


# ----------------------------------------------------------------------------- 002: SGD
def _linear_regression_sgd(jax_mod, np_mod, random, tree_map):
    batch_size = 10
    samples = batch_size * 10
    key = random.PRNGKey(1)
    x = np_mod.linspace(-2, 2, samples)
    y = 5 * x + 2 + 0.001 * random.normal(key, shape=x.shape)
    f = lambda params, x: params[0] * x + params[1]  # noqa: E731
    loss = lambda params, x, y: np_mod.mean((y - f(params, x)) ** 2)  # noqa: E731
    grad_loss = jax_mod.grad(loss)
    lr = 0.1
    update = lambda params, xs, ys: tree_map(lambda p, g: p - lr * g, params, grad_loss(params, xs, ys))  # noqa: E731
    params = np_mod.array([0., 1.])
    batches = []
    for _ in range(20):
        key, _ = random.split(key)
        batch_indices = random.choice(key, np_mod.arange(samples, dtype=int), (batch_size,))
        batches.append(np.asarray(batch_indices))
        xbatch, ybatch = x[batch_indices], y[batch_indices]
        params = update(params, xbatch, ybatch)
    return params, batches


def test_linear_regression_sgd_matches_jax_exactly():
    p, batches = _linear_regression_sgd(xf, xnp, xr, xf.tree_util.tree_map)
    jp, jbatches = _linear_regression_sgd(jax, jnp, jr, jax.tree_util.tree_map)
    for b, jb in zip(batches, jbatches):
        _same(b, jb)
    _same(p, jp)
    np.testing.assert_allclose(np.asarray(p), [5.0, 2.0], atol=0.05)  # and it did learn y = 5x + 2


# ----------------------------------------------------------------------------- 001: logistic regression
_INPUTS = np.array([[0.52, 1.12, 0.77],
                    [0.88, -1.08, 0.15],
                    [0.52, 0.06, -1.30],
                    [0.74, -2.49, 1.39]], np.float32)


def _logistic_regression(np_mod, random):
    def sigmoid(x):
        return 0.5 * (np_mod.tanh(x / 2) + 1)

    def predict(W, b, inputs):
        return sigmoid(np_mod.dot(inputs, W) + b)

    key = random.PRNGKey(0)
    key, W_key, b_key = random.split(key, 3)
    W = random.normal(W_key, (3,))
    b = random.normal(b_key, ())
    key, subkey = random.split(key)
    u = random.normal(W_key, (4,))
    return dict(key=key, subkey=subkey, W=W, b=b, u=u, y=predict(W, b, np_mod.asarray(_INPUTS)))


def test_logistic_regression_weights_match_jax():
    out, jout = _logistic_regression(xnp, xr), _logistic_regression(jnp, jr)
    for name in ("key", "subkey", "W", "b", "u"):
        _same(out[name], jout[name])
    np.testing.assert_allclose(np.asarray(out["y"]), np.asarray(jout["y"]), rtol=1e-6)


def test_logistic_regression_reproduces_the_tutorial_printout():
    with _original_threefry():
        out, jout = _logistic_regression(xnp, xr), _logistic_regression(jnp, jr)
        for name in ("key", "subkey", "W", "b", "u"):
            _same(out[name], jout[name])
    # the numbers printed in the tutorial (float32 printed to ~8 digits)
    np.testing.assert_allclose(np.asarray(out["u"]), [-0.36838785, 0.35917208, 0.01144757, -0.12499736],
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(out["y"]), [0.13262251, 0.952067, 0.6249393, 0.99809873], rtol=1e-5)


# ----------------------------------------------------------------------------- 000: PRNG section
def test_prng_section_printout():
    with _original_threefry():
        key, *subkeys = xr.split(xr.PRNGKey(42), 3)
        draws = [xr.normal(s, (1,)) for s in subkeys]
        jkey, *jsubkeys = jr.split(jr.PRNGKey(42), 3)
        _same(key, jkey)
        for s, js, d in zip(subkeys, jsubkeys, draws):
            _same(s, js)
            _same(d, jr.normal(js, (1,)))
    _same(key, np.array([3134548294, 3733159049], np.uint32))
    _same(subkeys[0], np.array([3746501087, 894150801], np.uint32))
    np.testing.assert_allclose(np.asarray(draws[0]), [0.10796154], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(draws[1]), [-1.2226542], rtol=1e-6)
    # after the block the default scheme is back
    _same(xr.split(xr.PRNGKey(42)), jr.split(jr.PRNGKey(42)))
