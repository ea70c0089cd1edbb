"""Structured control flow (lax.cond/switch/while_loop/fori_loop/scan/map/associative_scan):
values against JAX, derivatives against JAX and float64 finite differences, batching against
a Python loop and jax.vmap, nesting, the StableHLO they lower to, and bad input."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xl
from xlafront import dispatch
from jax_ref import jax_side


def close(a, b, rtol=1e-5, atol=1e-6):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)
        assert np.asarray(x).dtype == np.asarray(y).dtype, (np.asarray(x).dtype, np.asarray(y).dtype)


def fd_grad(f, x, eps=1e-6):
    """Central finite differences of scalar f at float64 x."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


X = np.array([0.3, -0.7, 1.1, 0.5], np.float32)
W = (np.random.RandomState(0).randn(4, 4) * 0.4).astype(np.float32)

# Each program is written once against (lax, numpy) modules and run on both libraries.
PROGRAMS = {
    "cond": lambda L, N, x: L.cond(N.sum(x) > 1.0, lambda v: N.sin(v) * v, lambda v: N.cos(v) + v, x),
    "cond_data_pred": lambda L, N, x: L.cond(x[0] > 0.0, lambda v: v * 2.0, lambda v: N.exp(v), x),
    "switch": lambda L, N, x: L.switch(N.argmax(x), [lambda v: v, lambda v: 2 * v ** 2,
                                                     lambda v: N.tanh(v), lambda v: -v], x),
    "scan": lambda L, N, x: L.scan(lambda c, xi: (c * N.cos(xi) + 0.1, N.sin(c) * xi), x[0], x)[1],
    "scan_rnn": lambda L, N, x: L.scan(lambda h, xi: (N.tanh(W @ h + xi), h.sum()),
                                       x, N.stack([x, -x, 2 * x]))[0],
    "scan_reverse_unroll": lambda L, N, x: L.scan(lambda c, xi: (c * xi + 1.0, N.tanh(c)), x[1], x,
                                                  reverse=True, unroll=3)[1],
    "fori_static": lambda L, N, x: L.fori_loop(0, 4, lambda i, c: N.sin(c) * x + i, x),
    "map": lambda L, N, x: L.map(lambda v: N.sin(v) * v ** 2, x),
    "assoc_scan": lambda L, N, x: L.associative_scan(lambda a, b: a * b + a, x),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_grads_and_vmap_against_jax(name):
    prog = PROGRAMS[name]
    fx = lambda x: prog(xl, xnp, x)
    fj = lambda x: prog(jax.lax, jnp, x)
    sx = lambda x: xnp.sum(fx(x) ** 2)
    sj = lambda x: jnp.sum(fj(x) ** 2)
    t = np.linspace(-1, 1, 4).astype(np.float32)
    xs = np.stack([X, X[::-1], 0.5 * X]).astype(np.float32)
    w_val, w_grad, w_jvp, w_vmap_grad = jax_side(
        lambda x, t, xs: (fj(x), jax.grad(sj)(x), jax.jvp(fj, (x,), (t,)), jax.vmap(jax.grad(sj))(xs)), X, t, xs)
    close(fx(X), w_val)
    close(xf.jit(fx)(X), w_val)
    close(xf.grad(sx)(X), w_grad, rtol=2e-4, atol=2e-5)
    close(xf.jit(xf.grad(sx))(X), w_grad, rtol=2e-4, atol=2e-5)
    close(xf.jvp(fx, (X,), (t,)), w_jvp, rtol=2e-4, atol=2e-5)
    loop = np.stack([np.asarray(fx(x)) for x in xs])
    close(xf.vmap(fx)(xs), loop)
    close(xf.vmap(xf.grad(sx))(xs), w_vmap_grad, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", ["cond", "switch", "scan", "scan_rnn", "fori_static"])
def test_grads_against_finite_differences(name, x64):
    prog = PROGRAMS[name]
    f = lambda x: xnp.sum(prog(xl, xnp, x) ** 2)
    x = X.astype(np.float64) + 0.01
    np.testing.assert_allclose(np.asarray(xf.grad(f)(x)), fd_grad(f, x), rtol=1e-6, atol=1e-7)
    # second order through the loop
    h = xf.hessian(f)(x)
    hj = jax_side(lambda x: jax.hessian(lambda x: jnp.sum(prog(jax.lax, jnp, x) ** 2))(x), x)
    np.testing.assert_allclose(np.asarray(h), np.asarray(hj), rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- cond / switch
def test_cond_pytrees_bool_and_int_predicates_and_weak_types():
    ops = {"a": np.float32(2.0), "b": (np.arange(3, dtype=np.int32), 1.5)}

    def prog(L, N, p):
        return L.cond(p, lambda o: {"s": o["a"] * o["b"][1], "t": o["b"][0] + 1},
                      lambda o: {"s": o["a"] - o["b"][1], "t": o["b"][0] * 2}, ops)
    for p in (True, False, 3, 0):
        want = jax_side(lambda p: prog(jax.lax, jnp, p), p)
        close(prog(xl, xnp, p), want)
        close(xf.jit(lambda p: prog(xl, xnp, p))(p), want)
    r = xl.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 2.0)
    rj = jax_side(lambda: jax.lax.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 2.0))
    assert r.weak_type == rj.weak_type and r.dtype == rj.dtype


def test_switch_clamps_the_index():
    branches = lambda N: [lambda v: v + 1, lambda v: v * 3, lambda v: N.sin(v)]
    for i in (-5, 0, 1, 2, 7):
        close(xl.switch(i, branches(xnp), X), jax_side(lambda i, x: jax.lax.switch(i, branches(jnp), x), i, X))
    f = xf.jit(lambda i, x: xl.switch(i, branches(xnp), x))
    for i in (-1, 1, 9):
        close(f(i, X), jax_side(lambda i, x: jax.lax.switch(i, branches(jnp), x), i, X))
    idx = np.array([-3, 0, 1, 2, 5], np.int32)
    close(xf.vmap(lambda i: xl.switch(i, branches(xnp), X))(idx),
          np.stack([np.asarray(xl.switch(int(i), branches(xnp), X)) for i in idx]))


def test_switch_rejects_a_bool_index_as_jax():
    branches = [lambda: 1.0, lambda: 2.0]
    with pytest.raises(TypeError, match="Index type must be an integer"):
        jax.lax.switch(True, branches)
    with pytest.raises(TypeError, match="Index type must be an integer"):
        xl.switch(True, branches)
    with pytest.raises(TypeError, match="Index type must be an integer"):
        xl.switch(np.bool_(False), branches)
    with pytest.raises(TypeError, match="Index type must be an integer"):
        xf.jit(lambda b: xl.switch(b, branches))(True)
    close(xl.switch(1, branches), jax_side(lambda: jax.lax.switch(1, branches)))


def test_cond_closes_over_batched_and_traced_values():
    ys = np.stack([X, 2 * X])

    def f(y, p):
        return xl.cond(p > 0, lambda v: v * y, lambda v: v - y, X)

    def g(y, p):
        return jax.lax.cond(p > 0, lambda v: v * y, lambda v: v - y, X)
    ps = np.array([1.0, -1.0], np.float32)
    close(xf.vmap(f)(ys, ps), jax_side(lambda ys, ps: jax.vmap(g)(ys, ps), ys, ps))
    close(xf.vmap(f, (0, None))(ys, 1.0), jax_side(lambda ys: jax.vmap(g, (0, None))(ys, 1.0), ys))
    close(xf.jit(f)(X, -2.0), jax_side(lambda x: g(x, -2.0), X))
    close(xf.grad(lambda y: xnp.sum(f(y, 1.0)))(X), jax_side(lambda x: jax.grad(lambda y: jnp.sum(g(y, 1.0)))(x), X))


def test_cond_errors_name_both_sides_and_leave_nothing_broken():
    with pytest.raises(TypeError, match=r"(?s)true_fun and false_fun output.*f32\[3\].*f32\[4\]"):
        xl.cond(True, lambda: xnp.zeros(3), lambda: xnp.zeros(4))
    with pytest.raises(TypeError, match=r"(?s)i32\[3\].*f32\[3\]"):
        xl.cond(True, lambda: xnp.zeros(3, xnp.int32), lambda: xnp.zeros(3))
    with pytest.raises(TypeError, match="identical types"):
        xl.cond(True, lambda: (1.0, 2.0), lambda: [1.0, 2.0])
    with pytest.raises(TypeError, match="Pred must be a scalar"):
        xl.cond(xnp.ones(2) > 0, lambda: 1.0, lambda: 2.0)
    with pytest.raises(TypeError, match="branch 0 and branch 2"):
        xl.switch(1, [lambda: 1.0, lambda: 2.0, lambda: xnp.ones(2)])
    with pytest.raises(TypeError, match="test_control_flow.py"):
        xf.jit(lambda: xl.cond(True, lambda: xnp.zeros(3), lambda: xnp.zeros(4)))()
    assert float(xl.cond(False, lambda: 1.0, lambda: 2.0)) == 2.0


# ----------------------------------------------------------------------------- while / fori
def test_while_loop_values_jvp_and_batched_predicate():
    def prog(L, N, x, n):
        return L.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, N.sin(c[1]) * 1.5 + c[1]), (0, x))

    want = jax_side(lambda x: prog(jax.lax, jnp, x, 5), X)
    close(prog(xl, xnp, X, 5), want)
    close(xf.jit(lambda x, n: prog(xl, xnp, x, n))(X, 5), want)
    close(xf.jvp(lambda x: prog(xl, xnp, x, 4)[1], (X,), (X,)),
          jax_side(lambda x: jax.jvp(lambda x: prog(jax.lax, jnp, x, 4)[1], (x,), (x,)), X), rtol=1e-4)
    ns = np.array([0, 3, 1, 6], np.int32)
    loop = [prog(xl, xnp, X, int(n)) for n in ns]
    got = xf.vmap(lambda n: prog(xl, xnp, X, n))(ns)
    close(got[0], np.array([int(l[0]) for l in loop], np.int32))
    close(got[1], np.stack([np.asarray(l[1]) for l in loop]))
    close(got, jax_side(lambda ns, x: jax.vmap(lambda n: prog(jax.lax, jnp, x, n))(ns), ns, X))


def _weak_carry_programs(L, N):
    return {
        "while_f32": lambda: L.while_loop(lambda c: c < 3, lambda c: c + N.float32(1), 0),
        "while_i16": lambda: L.while_loop(lambda c: c < 3, lambda c: c + N.int16(1), 0),
        "while_f16_astype": lambda: L.while_loop(lambda c: c < 3, lambda c: (c + 1).astype(N.float16), 0.),
        "while_weak_float": lambda: L.while_loop(lambda c: c < 3, lambda c: c * 2.5 + 1, 0),
        "while_tuple": lambda: L.while_loop(lambda c: c[0] < 3,
                                            lambda c: (c[0] + 1, c[1] + np.float16(1)), (0, 0.)),
        "fori_static_f16": lambda: L.fori_loop(0, 3, lambda i, c: c + np.float16(1), 0.),
        "fori_dynamic_f16": lambda: xf_or_jax(L).jit(
            lambda n: L.fori_loop(0, n, lambda i, c: c + np.float16(1), 0.))(3),
        "fori_f32": lambda: L.fori_loop(0, 3, lambda i, c: c + N.float32(1), 0),
        "scan_f16": lambda: L.scan(lambda c, x: (c + np.float16(1), c), 0., None, length=3),
        "scan_f32": lambda: L.scan(lambda c, x: (c + N.float32(1), c * 2), 0, None, length=3),
        "scan_int8": lambda: L.scan(lambda c, x: (c + N.int8(1), c), 0, None, length=3),
    }


def xf_or_jax(L):
    return jax if L is jax.lax else xf


def test_weakly_typed_carries_are_promoted_as_jax():
    ours = _weak_carry_programs(xl, xnp)
    for name in ours:
        got, want = ours[name](), jax_side(lambda name: _weak_carry_programs(jax.lax, jnp)[name](), name)
        close(got, want)
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert (g.dtype, g.weak_type) == (w.dtype, w.weak_type), name
    # a promotion that cannot make the types agree still fails, as in JAX
    for L, N in ((xl, xnp), (jax.lax, jnp)):
        with pytest.raises(TypeError):
            L.while_loop(lambda c: c < 3, lambda c: N.int32(c + 1), 0.)
        with pytest.raises(TypeError):
            L.while_loop(lambda c: c < 3, lambda c: c + N.ones(2, N.float32), 0.)
        with pytest.raises(TypeError):
            L.scan(lambda c, x: (c > 1, x), 0., N.ones(3))


def test_reverse_mode_through_while_raises_jax_error_then_recovers():
    f = lambda x: xl.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax.while_loop"):
        xf.grad(lambda x: xnp.sum(f(x)))(X)
    dyn = xf.jit(lambda x, n: xnp.sum(xl.fori_loop(0, n, lambda i, c: c * x, x)))
    with pytest.raises(ValueError, match="fori_loop with static start/stop"):
        xf.grad(dyn)(X, 3)
    close(f(X), X * 8)


def _nested_while(lax_mod):
    def f(x):
        def outer_body(c):
            i, y = c
            y = lax_mod.while_loop(lambda t: t < 2.0 + i, lambda t: t * 1.5, y)
            return i + 1, y
        return lax_mod.while_loop(lambda c: c[0] < 3, outer_body, (0, x))[1]
    return f


def test_nested_while_linearizes_and_refuses_reverse_mode_as_jax():
    # linearize splits the outer loop's body with the inner loop's own known part, so the
    # primal loop runs known (it used to be staged whole, failing with an unclear TypeError)
    f, jf = _nested_while(xl), _nested_while(jax.lax)
    y, f_lin = xf.linearize(f, 1.0)
    jy, jt = jax_side(lambda: jax.jvp(jf, (1.0,), (1.0,)))
    close(y, jy)
    close(f_lin(1.0), jt)
    close(xf.jvp(f, (1.0,), (2.0,))[1], 2 * jt)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax.while_loop"):
        xf.grad(f)(1.0)
    close(f(1.0), jy)


def test_fori_loop_static_is_a_scan_dynamic_is_a_while():
    body = lambda i, c: c + i * c
    assert "scan" in str(xf.make_jaxpr(lambda x: xl.fori_loop(1, 4, body, x))(X))
    assert "while" in str(xf.make_jaxpr(lambda x, n: xl.fori_loop(1, n, body, x))(X, 4))
    close(xf.jit(lambda x, n: xl.fori_loop(1, n, body, x))(X, 4), jax_side(lambda x: jax.lax.fori_loop(1, 4, body, x), X))
    close(xl.fori_loop(5, 2, body, X), X)
    close(xf.grad(lambda x: xl.fori_loop(0, 3, lambda i, c: c * x, x).sum())(X),
          jax_side(lambda x: jax.grad(lambda x: jax.lax.fori_loop(0, 3, lambda i, c: c * x, x).sum())(x), X))


def test_while_errors_and_weak_type_promotion():
    with pytest.raises(TypeError, match=r"(?s)body_fun output and input must have identical types.*"
                                        r"f32\[2\].*f32\[\]"):
        xl.while_loop(lambda c: c < 3, lambda c: xnp.ones(2), 0.0)
    with pytest.raises(TypeError, match="boolean scalar"):
        xl.while_loop(lambda c: c, lambda c: c + 1.0, 0.0)
    # a weak init whose body output is strong becomes strong (as in JAX)
    r = xl.while_loop(lambda c: c < 3, lambda c: c + xnp.float32(1), 0.0)
    rj = jax_side(lambda: jax.lax.while_loop(lambda c: c < 3, lambda c: c + jnp.float32(1), 0.0))
    assert (r.dtype, r.weak_type) == (rj.dtype, rj.weak_type) and float(r) == float(rj)


# ----------------------------------------------------------------------------- scan
def test_scan_pytrees_length_reverse_and_unroll():
    xs = {"a": np.arange(12, dtype=np.float32).reshape(6, 2), "b": np.arange(6, dtype=np.int32)}

    def prog(L, N, reverse, unroll):
        def body(c, x):
            s, k = c
            s = s * 0.5 + x["a"]
            return (s, k + x["b"]), {"y": s.sum(), "z": (k, x["b"] * 2)}
        return L.scan(body, (np.zeros(2, np.float32), np.int32(0)), xs, reverse=reverse, unroll=unroll)

    for reverse in (False, True):
        for unroll in (1, 4, True):
            close(prog(xl, xnp, reverse, unroll), jax_side(lambda r: prog(jax.lax, jnp, r, 1), reverse))
    counter = lambda L: L.scan(lambda c, _: (c + 1, c * 2), 0, None, length=5)
    want = jax_side(lambda: counter(jax.lax))
    close(counter(xl), want)
    close(xf.jit(lambda: counter(xl))(), want)


def test_scan_grad_wrt_consts_carry_and_xs(x64):
    def make(L, N):
        def f(w, h0, xs):
            def cell(h, x):
                h = N.tanh(w * h + x)
                return h, h ** 2
            h, ys = L.scan(cell, h0, xs)
            return N.sum(h) + N.sum(ys)
        return f
    w, h0 = np.float64(0.7), np.array([0.1, -0.2], np.float64)
    xs = np.random.RandomState(1).randn(5, 2)
    gx = xf.grad(make(xl, xnp), argnums=(0, 1, 2))(w, h0, xs)
    gj = jax_side(lambda w, h0, xs: jax.grad(make(jax.lax, jnp), argnums=(0, 1, 2))(w, h0, xs), w, h0, xs)
    close(gx, gj, rtol=1e-10, atol=1e-12)
    f = make(xl, xnp)
    np.testing.assert_allclose(np.asarray(gx[2]), fd_grad(lambda v: f(w, h0, v), xs), rtol=1e-6, atol=1e-8)


def test_scan_errors():
    with pytest.raises(TypeError, match=r"different leading axis sizes: 3, 4") as e:
        xl.scan(lambda c, x: (c, x), 0.0, (np.zeros(3), np.zeros(4)))
    assert isinstance(e.value, ValueError)   # JAX raises a ValueError here
    with pytest.raises(TypeError, match=r"(?s)carry input and carry output must have equal types.*"
                                        r"f32\[\].*f32\[2\]"):
        xl.scan(lambda c, x: (xnp.ones(2), x), 0.0, np.zeros(3, np.float32))
    with pytest.raises(TypeError, match=r"(?s)carry.*i32\[\].*carry.*f32\[\]"):
        xl.scan(lambda c, x: (c * 1.5, x), np.int32(0), np.zeros(3))
    with pytest.raises(ValueError, match="length"):
        xl.scan(lambda c, x: (c, x), 0.0, np.zeros(3), length=4)
    with pytest.raises(ValueError, match="no values to scan over"):
        xl.scan(lambda c, x: (c, x), 0.0, None)
    close(xl.scan(lambda c, x: (c + x, c), 0.0, np.ones(3, np.float32))[0], np.float32(3.0))


def test_eager_scan_reuses_its_compiled_program():
    xs = np.arange(5, dtype=np.float32)
    xl.scan(lambda c, x: (c + x * 2.0, c), 0.0, xs)
    n = dispatch.compile_count
    for k in range(3):
        out = xl.scan(lambda c, x: (c + x * 2.0, c), 0.0, xs)   # a new closure each time
    assert dispatch.compile_count == n
    close(out[0], np.float32(20.0))


# ----------------------------------------------------------------------------- map / associative_scan
def test_map_batch_size_and_associative_scan_variants():
    xs = np.arange(10, dtype=np.float32).reshape(5, 2)
    close(xl.map(lambda r: r.sum() * r, xs, batch_size=2),
          jax_side(lambda xs: jax.lax.map(lambda r: r.sum() * r, xs, batch_size=2), xs))
    m = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    for axis in (0, 1):
        for reverse in (False, True):
            close(xl.associative_scan(xnp.add, m, axis=axis, reverse=reverse),
                  jax_side(lambda m, axis, reverse: jax.lax.associative_scan(jnp.add, m, axis=axis, reverse=reverse),
                           m, axis, reverse))
    # pytree elements: composing affine maps (a, b): x -> a x + b
    a, b = np.linspace(0.5, 1.5, 7).astype(np.float32), np.linspace(-1, 1, 7).astype(np.float32)
    comp = lambda p, q: (q[0] * p[0], q[0] * p[1] + q[1])
    close(xl.associative_scan(comp, (a, b)), jax_side(lambda ab: jax.lax.associative_scan(comp, ab), (a, b)))


# ----------------------------------------------------------------------------- nesting
def test_nesting_scan_in_grad_in_vmap_cond_in_scan_while_in_jit():
    def prog(L, N, x):
        def body(c, xi):
            c = L.cond(xi > 0, lambda v: v * xi, lambda v: N.sin(v), c)
            return c, c.sum()
        return L.scan(body, x, x)[1].sum()
    gx = xf.vmap(xf.grad(lambda x: prog(xl, xnp, x)))
    xs = np.stack([X, -X, X * 0.3])
    want = jax_side(lambda xs: jax.vmap(jax.grad(lambda x: prog(jax.lax, jnp, x)))(xs), xs)
    close(gx(xs), want, rtol=1e-4, atol=1e-5)
    close(xf.jit(gx)(xs), want, rtol=1e-4, atol=1e-5)

    def inner(L, N, x):   # scan of a fori_loop of a while_loop
        def step(c, xi):
            d = L.fori_loop(0, 2, lambda i, v: v + xi * i, c)
            n = L.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * 0.9), (0, d))[1]
            return n, n
        return L.scan(step, x[0], x)[1]
    close(xf.jit(lambda x: inner(xl, xnp, x))(X), jax_side(lambda x: inner(jax.lax, jnp, x), X))
    close(xf.vmap(lambda x: inner(xl, xnp, x))(xs), jax_side(lambda xs: jax.vmap(lambda x: inner(jax.lax, jnp, x))(xs), xs))


def test_python_control_flow_on_traced_values_points_to_lax():
    def f(x):
        if x.sum() > 0:
            return x
        return -x
    with pytest.raises(xf.ConcretizationTypeError, match="lax.cond"):
        xf.jit(f)(X)
    close(xf.jit(lambda x: xl.cond(x.sum() > 0, lambda v: v, lambda v: -v, x))(X), X)


# ----------------------------------------------------------------------------- StableHLO
def test_lowered_text_uses_case_and_while():
    t = xf.jit(lambda p, x: xl.cond(p, lambda v: v + 1.0, lambda v: v * 2.0, x)).lower(True, X).as_text()
    assert '"stablehlo.case"' in t and t.count("stablehlo.return") == 2
    t = xf.jit(lambda x: xl.scan(lambda c, v: (c + v, c), 0.0, x)).lower(X).as_text()
    assert '"stablehlo.while"' in t and "stablehlo.dynamic_slice" in t and "stablehlo.dynamic_update_slice" in t
    t = xf.jit(lambda x: xl.scan(lambda c, v: (c + v, c), 0.0, x, unroll=True)).lower(X).as_text()
    assert "stablehlo.while" not in t
    jaxpr = str(xf.make_jaxpr(lambda p, x: xl.cond(p, lambda v: v + 1.0, lambda v: v * 2.0, x))(True, X))
    assert "cond[" in jaxpr and "branches=(" in jaxpr
