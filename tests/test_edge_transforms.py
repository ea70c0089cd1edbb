"""Transform semantics at the edges, each compared with JAX: how many times loop bodies and
custom-derivative rules are called (Python side effects), weak types of loop outputs and of
gradients, pure_callback with 0-d results, gradients of real functions of complex inputs,
custom_jvp/custom_vjp with concrete values, integer outputs and symbolic zeros."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import lax as xl
from jax_ref import RefArray, jax_side

LIBS = [(jax, jnp, jax.lax), (xf, xnp, xl)]


def same(a, b, rtol=1e-6):
    """Same value, dtype, weak type and Python type class (Array vs scalar) as JAX's."""
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        jax_array = isinstance(x, (jax.Array, RefArray))   # (a RefArray: a recorded jax.Array)
        assert isinstance(y, xf.Array) == jax_array, (type(x), type(y))
        np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=rtol)
        assert np.asarray(y).dtype == np.asarray(x).dtype
        if jax_array:
            assert y.weak_type == x.weak_type, (x, y)


def both(fn):
    """fn(lib, numpy, lax) for JAX and xlafront."""
    return [fn(*m) for m in LIBS]


def both_values(fn):
    """both(fn) where only fn's outputs are compared: JAX's side through jax_side."""
    return [jax_side(lambda: fn(*LIBS[0])), fn(*LIBS[1])]


# ----------------------------------------------------------------------------- 1. trace counts
@pytest.mark.parametrize("init", [0, 0.0, np.float32(0)], ids=["weak_int", "weak_float", "strong"])
def test_scan_body_traced_as_often_as_jax(init):
    def run(lib, N, L):
        calls = []

        def body(c, x):
            calls.append(1)
            return c + x, c
        out = L.scan(body, init, N.arange(3.0))
        return len(calls), out
    (nj, oj), (nx, ox) = both(run)
    assert nx == nj      # 2 only when the weak int carry must become float32, as in JAX
    same(oj, ox)


@pytest.mark.parametrize("init", [0, 0.0, np.float32(0)], ids=["weak_int", "weak_float", "strong"])
def test_fori_body_traced_as_often_as_jax(init):
    def run(lib, N, L):
        calls = []

        def body(i, c):
            calls.append(1)
            return c + i
        out = L.fori_loop(0, 3, body, init)
        return len(calls), out
    (nj, oj), (nx, ox) = both(run)
    assert nx == nj == 1
    same(oj, ox)


def test_scan_body_with_iterator_consumes_it_as_jax():
    def run(lib, N, L):
        it = iter(range(10, 20))
        c, _ = L.scan(lambda c, x: (c + x * next(it), None), 0, N.arange(3.0))
        return c, next(it)
    (cj, nj), (cx, nx) = both(run)
    same(cj, cx)
    assert nx == nj


def test_while_loop_trace_count_as_jax():
    def run(lib, N, L, init):
        calls = []

        def body(c):
            calls.append(1)
            return c + N.float32(1)
        out = L.while_loop(lambda c: c < 3, body, init)
        return len(calls), out
    for init in (0.0, 0):
        (nj, oj), (nx, ox) = [run(*m, init) for m in LIBS]
        assert nx == nj
        same(oj, ox)


def test_scan_carry_weak_type_follows_body_output():
    same(*both_values(lambda lib, N, L: L.scan(lambda c, x: (c + x, None), 0.0, N.arange(2.0))[0]))
    same(*both_values(lambda lib, N, L: L.scan(lambda c, x: (1.0, None), N.float32(0), None, length=2)[0]))
    same(*both_values(lambda lib, N, L: L.while_loop(lambda c: False, lambda c: 1.0, N.float32(0))))


# ----------------------------------------------------------------------------- 4. fori weak types
@pytest.mark.parametrize("lo,hi", [(0, 3), (np.int32(0), 3), (0, np.int32(3)), (np.int16(0), 3)])
def test_fori_loop_index_weak_type_static(lo, hi):
    same(*both_values(lambda lib, N, L: L.fori_loop(lo, hi, lambda i, c: i, 0)))
    same(*both_values(lambda lib, N, L: L.fori_loop(lo, hi, lambda i, c: c + i, 0)))
    same(*both_values(lambda lib, N, L: L.fori_loop(lo, hi, lambda i, c: c + 1.0, 0.0)))


@pytest.mark.parametrize("lo,hi", [(0, 3), (np.int32(0), 3), (0, np.int32(3)), (np.int16(0), 3)])
def test_fori_loop_index_weak_type_dynamic(lo, hi):
    same(*both_values(lambda lib, N, L: lib.jit(lambda l, h: L.fori_loop(l, h, lambda i, c: c + i, 0))(lo, hi)))


# ----------------------------------------------------------------------------- 3. pure_callback 0-d
def _cb_sum(x):
    return np.sum(np.asarray(x)).astype(np.float32)


def test_pure_callback_scalar_result_eager_jit_scan_vmap():
    def run(lib, N, L):
        sds = lib.ShapeDtypeStruct((), N.float32)
        x = N.arange(3.0)
        eager = lib.pure_callback(_cb_sum, sds, x)
        jitted = lib.jit(lambda v: lib.pure_callback(_cb_sum, sds, v))(x)
        scanned = L.scan(lambda c, v: (c + lib.pure_callback(lambda u: np.float32(u * 2), sds, v), None),
                         N.float32(0), x)[0]
        mapped = [lib.vmap(lambda v: lib.pure_callback(lambda u: (np.asarray(u) * 2).astype(np.float32),
                                                       sds, v, vmap_method=m))(x)
                  for m in ("sequential", "expand_dims")]
        return eager, jitted, scanned, mapped
    rj, rx = both(run)
    assert rx[0].shape == ()
    same(rj, rx)


# ----------------------------------------------------------------------------- 5. complex grads
@pytest.mark.parametrize("name", ["abs2", "real_zw", "imag", "abs", "sum_vec", "const"])
def test_grad_of_real_function_of_complex_input(name):
    fns = {
        "abs2": (lambda N: (lambda z: N.abs(z) ** 2), np.complex64(1 + 2j)),
        "real_zw": (lambda N: (lambda z: N.real(z * (3 - 1j))), 1 + 2j),
        "imag": (lambda N: (lambda z: N.imag(z) * 2.0), np.complex64(1 + 2j)),
        "abs": (lambda N: (lambda z: N.abs(z)), np.complex64(3 + 4j)),
        "sum_vec": (lambda N: (lambda z: N.sum(N.abs(z) ** 2)), np.array([1 + 1j, 2 - 1j], np.complex64)),
        "const": (lambda N: (lambda z: 1.0), 1 + 2j),
    }
    mk, z = fns[name]
    same(*both_values(lambda lib, N, L: lib.grad(mk(N))(z)))
    same(*both_values(lambda lib, N, L: lib.value_and_grad(mk(N))(z)))
    same(*both_values(lambda lib, N, L: lib.jit(lib.grad(mk(N)))(z)))
    same(*both_values(lambda lib, N, L: lib.jacrev(mk(N))(z)))


def test_grad_complex_conjugate_convention_two_args():
    # d/dz Re(z w) = w and d/dw = z in JAX's convention (no conjugate for Re(zw))
    z, w = np.complex64(1 + 2j), np.complex64(3 - 1j)
    gx = xf.grad(lambda a, b: xnp.real(a * b), argnums=(0, 1))(z, w)
    np.testing.assert_allclose(np.asarray(gx[0]), w, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gx[1]), z, rtol=1e-6)
    same(jax_side(lambda z, w: jax.grad(lambda a, b: jnp.real(a * b), argnums=(0, 1))(z, w), z, w), gx)


def test_grad_complex_holomorphic_and_errors():
    z = np.complex64(1 + 2j)
    same(*both_values(lambda lib, N, L: lib.grad(lambda v: v ** 2, holomorphic=True)(z)))
    same(*both_values(lambda lib, N, L: lib.jacfwd(lambda v: v ** 2, holomorphic=True)(z)))
    for lib, N, L in LIBS:
        with pytest.raises(TypeError, match="real-valued outputs"):
            lib.grad(lambda v: v * 2)(z)
        with pytest.raises(TypeError, match="jacfwd requires real-valued inputs"):
            lib.jacfwd(lambda v: N.abs(v))(z)
        with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex"):
            lib.grad(lambda v: v * 2, holomorphic=True)(1.0)
    assert float(xf.grad(lambda x: x * x)(3.0)) == 6.0   # the next good call works


# ----------------------------------------------------------------------------- 6. weak-typed grads
@pytest.mark.parametrize("name", ["const_plus_sum", "times2", "const", "strong_coef", "f16_const"])
def test_grads_of_python_scalars_are_arrays_typed_as_jax(name):
    cases = {
        "const_plus_sum": (lambda N: lambda x: 0.0 + N.sum(x), 2.0),
        "times2": (lambda N: lambda x: x * 2, 2.0),
        "const": (lambda N: lambda x: 1.0, 2.0),
        "strong_coef": (lambda N: lambda x: N.float32(2) * x ** 3, 2.0),
        "f16_const": (lambda N: lambda x: 0.0 + N.sum(x), np.float16(2)),
    }
    mk, x = cases[name]
    same(*both_values(lambda lib, N, L: lib.grad(mk(N))(x)))
    same(*both_values(lambda lib, N, L: lib.value_and_grad(mk(N))(x)[1]))
    same(*both_values(lambda lib, N, L: lib.jit(lib.grad(mk(N)))(x)))
    same(*both_values(lambda lib, N, L: lib.jacfwd(mk(N))(x)))
    same(*both_values(lambda lib, N, L: lib.jacrev(mk(N))(x)))
    same(*both_values(lambda lib, N, L: lib.hessian(mk(N))(x)))
    same(*both_values(lambda lib, N, L: lib.grad(lambda a, b: mk(N)(a) + 0 * b, argnums=(0, 1))(x, 3.0)))
    with xf.disable_jit():
        gx = xf.grad(mk(xnp))(x)
    same(jax_side(lambda x: jax.grad(mk(jnp))(x), x), gx)


def test_jacfwd_typed_like_output_jacrev_like_input():
    f32 = lambda N: N.float32
    same(*both_values(lambda lib, N, L: lib.jacfwd(lambda x: f32(N)(2) * x)(2.0)))
    same(*both_values(lambda lib, N, L: lib.jacrev(lambda x: f32(N)(2) * x)(2.0)))
    same(*both_values(lambda lib, N, L: lib.jacfwd(lambda x: x.astype(N.float16))(np.float32(2))))
    same(*both_values(lambda lib, N, L: lib.jacrev(lambda x: x.astype(N.float16))(np.float32(2))))
    same(*both_values(lambda lib, N, L: lib.jacfwd(lambda x: N.stack([x, 2 * x]))(2.0)))


# ----------------------------------------------------------------------------- 2. custom rules
def _counted_custom_fns(lib, N, log, branch=True):
    @lib.custom_jvp
    def f(x):
        log.append("f")
        return N.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        log.append("jvp")
        (x,), (xd,) = p, t
        s = (2.0 if x > 0 else 3.0) if branch else 2.0   # a concrete value outside jit
        return N.sin(x), s * xd

    @lib.custom_vjp
    def g(x):
        log.append("g")
        return N.sin(x)

    def g_fwd(x):
        log.append("fwd")
        s = (2.0 if x > 0 else 3.0) if branch else 2.0
        return N.sin(x), (x, s)

    def g_bwd(res, ct):
        log.append("bwd")
        x, s = res
        k = (5.0 if float(x) > 0 else 7.0) if branch else 5.0
        return (ct * s * k,)
    g.defvjp(g_fwd, g_bwd)
    return f, g


@pytest.mark.parametrize("x", [1.0, -1.0])
def test_custom_rules_see_concrete_values_outside_jit(x):
    def run(lib, N, L):
        log = []
        f, g = _counted_custom_fns(lib, N, log)
        x32 = N.float32(x)
        return (lib.grad(f)(x32), lib.jvp(f, (x32,), (N.float32(1),)), lib.grad(g)(x32),
                lib.value_and_grad(g)(x32), lib.vjp(g, x32)[1](N.float32(1)))
    same(*both_values(run))


@pytest.mark.parametrize("what", ["grad_f", "grad_g", "vg_g", "jvp_f", "vjp_g", "eager_f", "eager_g",
                                  "vmap_g", "jit_grad_g"])
def test_custom_call_counts_match_jax(what):
    def run(lib, N, L):
        log = []
        f, g = _counted_custom_fns(lib, N, log, branch=False)
        x = N.float32(0.5)
        calls = {
            "grad_f": lambda: lib.grad(f)(x),
            "grad_g": lambda: lib.grad(g)(x),
            "vg_g": lambda: lib.value_and_grad(g)(x),
            "jvp_f": lambda: lib.jvp(f, (x,), (N.float32(1),)),
            "vjp_g": lambda: lib.vjp(g, x)[1](N.float32(1)),
            "eager_f": lambda: f(x),
            "eager_g": lambda: g(x),
            "vmap_g": lambda: lib.vmap(g)(N.arange(2.0)),
        }
        if what == "jit_grad_g":
            jf = lib.jit(lib.grad(g))
            outs = [jf(x), jf(x)]
        else:
            outs = [calls[what](), calls[what]()]   # twice: side effects run on every call
        return outs, sorted(log)
    (oj, lj), (ox, lx) = both(run)
    assert lx == lj
    same(oj, ox)


def test_custom_vjp_integer_output_gets_float0_cotangent():
    def run(lib, N, L):
        seen = []

        @lib.custom_vjp
        def h(x):
            return x * 2.0, N.int32(3)

        def fwd(x):
            return h(x), None

        def bwd(_, ct):
            a, b = ct
            seen.append((b.dtype == lib.dtypes.float0, tuple(b.shape)))
            return (a * 2.0,)
        h.defvjp(fwd, bwd)
        x = N.float32(1.5)
        return lib.grad(lambda v: h(v)[0])(x), lib.jit(lib.grad(lambda v: h(v)[0]))(x), seen
    (gj, jj, sj), (gx, jx, sx) = both(run)
    same((gj, jj), (gx, jx))
    assert sx == sj == [(True, ())] * 2


def test_custom_vjp_symbolic_zeros():
    def run(lib, N, L, jit):
        from importlib import import_module
        cd = import_module(lib.__name__ + ".custom_derivatives")
        seen = []

        @lib.custom_vjp
        def f(x, y):
            return x * y, x + y

        def fwd(x, y):
            seen.append(("fwd", type(x).__name__, x.perturbed, y.perturbed))
            return f(x.value, y.value), (x.value, y.value)

        def bwd(res, ct):
            a, b = ct
            seen.append(("bwd", type(a).__name__ == "SymbolicZero", type(b).__name__ == "SymbolicZero"))
            x, y = res
            return a * y, None
        f.defvjp(fwd, bwd, symbolic_zeros=True)
        gf = lib.grad(lambda x, y: f(x, y)[0])
        if jit:
            gf = lib.jit(gf)
        z = cd.SymbolicZero.from_primal_value(N.ones((2,), N.float32))
        return gf(2.0, 3.0), seen, (z.shape, np.dtype(z.dtype))
    for jit in (False, True):
        (gj, sj, zj), (gx, sx, zx) = [run(*m, jit) for m in LIBS]
        same(gj, gx)
        assert sx == sj
        assert zx == zj


def test_custom_jvp_symbolic_zeros():
    def run(lib, N, L):
        from importlib import import_module
        cd = import_module(lib.__name__ + ".custom_derivatives")
        seen = []

        @lib.custom_jvp
        def g(x, y):
            return x * y

        def gj(p, t):
            seen.append(tuple(isinstance(v, cd.SymbolicZero) for v in t))
            out_t = t[0] * p[1] if not isinstance(t[0], cd.SymbolicZero) else N.zeros(())
            if not isinstance(t[1], cd.SymbolicZero):
                out_t = out_t + t[1] * p[0]
            return g(*p), out_t
        g.defjvp(gj, symbolic_zeros=True)
        return (lib.grad(g)(2.0, 3.0), lib.grad(g, argnums=1)(2.0, 3.0),
                [float(v) for v in lib.jvp(g, (2.0, 3.0), (1.0, 0.0))], seen)
    (*rj, sj), (*rx, sx) = both(run)
    same(rj, rx)
    assert sx == sj


def test_custom_rule_needing_values_runs_once_from_second_call():
    # The first eager grad stages the gradient, meets `if x > 0` on an abstract value and
    # redoes it op by op (the rule runs twice); later calls go op by op at once (docs/differences.md).
    def run(lib, N, L):
        log = []
        f, g = _counted_custom_fns(lib, N, log)
        x = N.float32(0.5)
        lib.grad(g)(x)
        lib.grad(f)(x)
        log.clear()
        out = (lib.grad(g)(x), lib.grad(f)(x), lib.grad(g)(-x))
        return out, sorted(log)
    (oj, lj), (ox, lx) = both(run)
    assert lx == lj == sorted(["fwd", "bwd", "jvp", "fwd", "bwd"])
    same(oj, ox)


def test_custom_fun_traced_once_per_signature_while_staging():
    # Deliberate difference (docs/differences.md): under graph staging a custom function is
    # traced once per signature, so a second jit of it does not call it again (JAX: it does).
    log = []
    _, g = _counted_custom_fns(xf, xnp, log, branch=False)
    x = xnp.float32(0.5)
    xf.jit(lambda v: g(v) + 1.0)(x)
    xf.jit(lambda v: g(v) * 2.0)(x)
    assert log == ["g"]
    log.clear()
    g(x)
    g(x)
    assert log == ["g", "g"]   # eagerly it runs on every call, as in JAX


def test_scan_body_is_traced_on_every_call():
    # Deliberate difference (docs/differences.md): JAX caches the trace of a scan body by
    # function identity and avals, so a second scan of the same body does not call it.
    def run(lib, N, L):
        calls = []

        def body(c, x):
            calls.append(1)
            return c + x, None
        xs = N.arange(3.0)
        a = L.scan(body, N.float32(0), xs)[0]
        b = L.scan(body, N.float32(0), xs)[0]
        return (a, b), len(calls)
    (oj, nj), (ox, nx) = both(run)
    same(oj, ox)
    assert (nj, nx) == (1, 2)


def test_custom_vjp_bwd_cotangent_of_wrong_shape_is_an_error():
    for lib, N, L in LIBS:
        @lib.custom_vjp
        def g(x, y):
            return N.sin(x) * y
        g.defvjp(lambda x, y: (g(x, y), (x, y)),
                 lambda r, ct: (N.cos(r[0]) * r[1] * ct, N.sin(r[0]) * ct))
        v = N.array([0.5, 1.0, -2.0], N.float32)
        with pytest.raises(ValueError, match=r"bwd rule must produce an output with the same type.*output\[1\]"):
            lib.jacrev(g)(v, 2.0)
    # the next good call works
    same(jax_side(lambda x: jax.jacrev(lambda x: jnp.sum(jnp.sin(x)))(x), np.float32(0.5)),
         xf.jacrev(lambda x: xnp.sum(xnp.sin(x)))(np.float32(0.5)))


def test_custom_rules_under_nested_transforms_match_jax():
    def run(lib, N, L):
        @lib.custom_jvp
        def f(x):
            return N.sin(x)
        f.defjvp(lambda p, t: (N.sin(p[0]), N.cos(p[0]) * 2 * t[0]))

        @lib.custom_vjp
        def g(x, y):
            return N.sin(x) * y
        g.defvjp(lambda x, y: (g(x, y), (x, y)),
                 lambda r, ct: (N.cos(r[0]) * r[1] * ct * 3, N.sin(r[0]) * ct))
        v = N.array([0.5, 1.0, -2.0], N.float32)
        return [lib.jacfwd(f)(v), lib.vmap(lib.grad(g))(v, v), lib.vmap(lib.grad(g), (0, None))(v, 2.0),
                lib.jit(lib.vmap(lib.grad(g, argnums=(0, 1))))(v, v),
                lib.hessian(lambda x: N.sum(f(x)))(v), lib.grad(lib.grad(f))(0.5),
                lib.grad(lib.jit(g), argnums=(0, 1))(0.5, 2.0), lib.jit(lib.grad(lib.jit(g), argnums=1))(0.5, 2.0),
                lib.grad(lambda x: L.scan(lambda c, a: (c + g(a, c), None), 1.0, x)[0])(v),
                lib.vjp(g, v, v)[1](N.ones(3)), lib.linearize(f, 0.5)[1](1.0)]
    same(*both_values(run), rtol=1e-5)


def test_unperturbed_custom_call_under_eager_jvp_runs_the_function():
    # a custom function that the jvp does not perturb runs as itself (JAX calls it), with no
    # compiled program of its own per call
    from xlafront import dispatch
    import xlafront.nn as xnn
    c = xnp.array([-1.0, 2.0], xnp.float32)
    x = xnp.array([0.5, 3.0], xnp.float32)

    def run(lib, N, L):
        nn = xnn if lib is xf else jax.nn
        return lib.jvp(lambda v: v * nn.relu(c if lib is xf else jnp.asarray(c)), (x if lib is xf else jnp.asarray(x),),
                       (N.ones(2, N.float32),))
    run(xf, xnp, xl)
    before = dispatch.compile_count
    out = run(xf, xnp, xl)
    assert dispatch.compile_count == before
    same(run(jax, jnp, jax.lax), out)


def test_defjvps_with_no_rule_for_an_argument_matches_jax_at_inf():
    def run(lib, N, L):
        @lib.custom_jvp
        def g(x, y):
            return N.sin(x) * y
        g.defjvps(None, lambda t, ans, x, y: N.sin(x) * t)
        return lib.grad(g)(np.float32(np.inf), 2.0), lib.grad(g, 1)(0.5, 2.0)
    same(*both_values(run))
