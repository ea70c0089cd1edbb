"""Every primitive's jvp and vjp: against central finite differences and against JAX, in
float64, and the coverage of the rule tables (a primitive without a rule fails here)."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
from jax import lax as jlax

import xlafront as xf
from xlafront import core
from xlafront import lax as xl
from xlafront import primitives as P
from xlafront.transforms import jvp as J
from xlafront.transforms import transpose as T
from jax_ref import jax_side


rng = np.random.RandomState(0)


def U(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float64)


def _pos(*shape):
    return U(*shape, lo=0.5, hi=2.0)


# (name, xlafront fn, jax fn, inputs)
GD = P.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
JGD = jlax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
SD = P.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                               scatter_dims_to_operand_dims=(0,))
JSD = jlax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                   scatter_dims_to_operand_dims=(0,))
IDX = np.array([[2], [0], [2]], np.int32)
UIDX = np.array([[2], [0], [3]], np.int32)
DN_BATCH = (((2,), (1,)), ((0,), (0,)))

CASES = [
    ("neg", xl.neg, jlax.neg, [U(3, 4)]),
    ("sign", xl.sign, jlax.sign, [U(5)]),
    ("floor", xl.floor, jlax.floor, [U(5) + 0.25]),
    ("exp", xl.exp, jlax.exp, [U(3, 4)]),
    ("exp2", xl.exp2, jlax.exp2, [U(4)]),
    ("log", xl.log, jlax.log, [_pos(3, 4)]),
    ("log1p", xl.log1p, jlax.log1p, [_pos(4)]),
    ("expm1", xl.expm1, jlax.expm1, [U(4)]),
    ("tanh", xl.tanh, jlax.tanh, [U(2, 3)]),
    ("logistic", xl.logistic, jlax.logistic, [U(4)]),
    ("sin", xl.sin, jlax.sin, [U(4)]),
    ("cos", xl.cos, jlax.cos, [U(4)]),
    ("tan", xl.tan, jlax.tan, [U(4, lo=-1, hi=1)]),
    ("asin", xl.asin, jlax.asin, [U(4, lo=-0.9, hi=0.9)]),
    ("acos", xl.acos, jlax.acos, [U(4, lo=-0.9, hi=0.9)]),
    ("atan", xl.atan, jlax.atan, [U(4)]),
    ("sinh", xl.sinh, jlax.sinh, [U(4)]),
    ("cosh", xl.cosh, jlax.cosh, [U(4)]),
    ("asinh", xl.asinh, jlax.asinh, [U(4)]),
    ("acosh", xl.acosh, jlax.acosh, [U(4, lo=1.2, hi=3)]),
    ("atanh", xl.atanh, jlax.atanh, [U(4, lo=-0.9, hi=0.9)]),
    ("sqrt", xl.sqrt, jlax.sqrt, [_pos(4)]),
    ("rsqrt", xl.rsqrt, jlax.rsqrt, [_pos(4)]),
    ("cbrt", xl.cbrt, jlax.cbrt, [_pos(4)]),
    ("abs", xl.abs, jlax.abs, [U(6) + 0.1]),
    ("square", xl.square, jlax.square, [U(4)]),
    ("integer_pow3", lambda x: xl.integer_pow(x, 3), lambda x: jlax.integer_pow(x, 3), [U(4)]),
    ("integer_pow-2", lambda x: xl.integer_pow(x, -2), lambda x: jlax.integer_pow(x, -2), [_pos(4)]),
    ("erf", xl.erf, jlax.erf, [U(4)]),
    ("erf_inv", xl.erf_inv, jlax.erf_inv, [U(4, lo=-0.8, hi=0.8)]),
    ("lgamma", xl.lgamma, jlax.lgamma, [_pos(4)]),
    ("digamma", xl.digamma, jlax.digamma, [np.array([0.3, 1.5, 4.0, 9.0, -0.5, -2.3])]),
    ("copy", xl.copy, lambda x: x, [U(3)]),
    ("sin_0d", xl.sin, jlax.sin, [U()]),
    ("mul_empty", xl.mul, jlax.mul, [U(0, 3), U(0, 3)]),
    ("reduce_sum_empty", lambda x: xl.reduce_sum(x, (0,)), lambda x: jlax.reduce_sum(x, (0,)), [U(0, 2)]),
    ("add", xl.add, jlax.add, [U(3, 2), U(3, 2)]),
    ("add_scalar", xl.add, jlax.add, [U(3, 2), U()]),
    ("sub", xl.sub, jlax.sub, [U(), U(4)]),
    ("mul", xl.mul, jlax.mul, [U(3, 2), U(3, 2)]),
    ("mul_scalar", xl.mul, jlax.mul, [U(), U(5)]),
    ("div", xl.div, jlax.div, [U(4), _pos(4)]),
    ("div_scalar", xl.div, jlax.div, [U(4), _pos()]),
    ("rem", xl.rem, jlax.rem, [np.array([2.5, -3.3, 5.2]), np.array([1.1, 1.4, -2.0])]),
    ("pow", xl.pow, jlax.pow, [_pos(4), U(4)]),
    ("pow_int_exponent", lambda x: xl.pow(x, np.array([2, -1, 0, 3], np.int32)),
     lambda x: jlax.pow(x, np.array([2, -1, 0, 3], np.int32)), [_pos(4)]),
    ("max", xl.max, jlax.max, [U(6), U(6)]),
    ("min", xl.min, jlax.min, [U(6), U(6)]),
    ("max_scalar", xl.max, jlax.max, [U(6), U()]),
    ("atan2", xl.atan2, jlax.atan2, [U(4), U(4)]),
    ("select_n", lambda a, b: xl.select_n(np.array([True, False, True]), a, b),
     lambda a, b: jlax.select_n(np.array([True, False, True]), a, b), [U(3), U(3)]),
    ("clamp", lambda lo, x, hi: xl.clamp(lo, x, hi), jlax.clamp, [U(5, lo=-2, hi=-1), U(5, lo=-3, hi=3), U(5, lo=1, hi=2)]),
    ("convert", lambda x: xl.convert_element_type(x, np.float64, weak_type=True),
     lambda x: jlax.convert_element_type(x, np.float64), [U(3)]),
    ("broadcast_in_dim", lambda x: xl.broadcast_in_dim(x, (2, 3, 4), (0, 2)),
     lambda x: jlax.broadcast_in_dim(x, (2, 3, 4), (0, 2)), [U(2, 4)]),
    ("broadcast_expand", lambda x: xl.broadcast_in_dim(x, (3, 4), (0, 1)),
     lambda x: jlax.broadcast_in_dim(x, (3, 4), (0, 1)), [U(1, 4)]),
    ("reshape", lambda x: xl.reshape(x, (3, 4)), lambda x: jlax.reshape(x, (3, 4)), [U(2, 6)]),
    ("transpose", lambda x: xl.transpose(x, (2, 0, 1)), lambda x: jlax.transpose(x, (2, 0, 1)), [U(2, 3, 4)]),
    ("squeeze", lambda x: xl.squeeze(x, (1,)), lambda x: jlax.squeeze(x, (1,)), [U(3, 1, 2)]),
    ("rev", lambda x: xl.rev(x, (0,)), lambda x: jlax.rev(x, (0,)), [U(4, 2)]),
    ("concatenate", lambda a, b: xl.concatenate([a, b], 1), lambda a, b: jlax.concatenate([a, b], 1),
     [U(2, 3), U(2, 2)]),
    ("pad", lambda x, v: xl.pad(x, v, [(1, -1, 1), (2, 0, 0)]),
     lambda x, v: jlax.pad(x, v, [(1, -1, 1), (2, 0, 0)]), [U(3, 2), U()]),
    ("slice", lambda x: xl.slice(x, (1, 0), (5, 3), (2, 2)), lambda x: jlax.slice(x, (1, 0), (5, 3), (2, 2)),
     [U(6, 3)]),
    ("dynamic_slice", lambda x: xl.dynamic_slice(x, (np.int32(1), np.int32(0)), (2, 2)),
     lambda x: jlax.dynamic_slice(x, (1, 0), (2, 2)), [U(4, 3)]),
    ("dynamic_update_slice", lambda x, u: xl.dynamic_update_slice(x, u, (np.int32(1), np.int32(1))),
     lambda x, u: jlax.dynamic_update_slice(x, u, (1, 1)), [U(4, 3), U(2, 2)]),
    ("gather", lambda x: xl.gather(x, IDX, GD, (1, 3), mode="promise_in_bounds"),
     lambda x: jlax.gather(x, IDX, JGD, (1, 3), mode="promise_in_bounds"), [U(4, 3)]),
    ("scatter_add", lambda x, u: xl.scatter_add(x, IDX, u, SD, mode="promise_in_bounds"),
     lambda x, u: jlax.scatter_add(x, IDX, u, JSD, mode="promise_in_bounds"), [U(4, 3), U(3, 3)]),
    ("scatter", lambda x, u: xl.scatter(x, UIDX, u, SD, mode="promise_in_bounds"),
     lambda x, u: jlax.scatter(x, UIDX, u, JSD, mode="promise_in_bounds"), [U(4, 3), U(3, 3)]),
    ("scatter_mul", lambda x, u: xl.scatter_mul(x, UIDX, u, SD, mode="promise_in_bounds", unique_indices=True),
     lambda x, u: jlax.scatter_mul(x, UIDX, u, JSD, mode="promise_in_bounds", unique_indices=True),
     [U(4, 3), U(3, 3)]),
    ("scatter_max", lambda x, u: xl.scatter_max(x, IDX, u, SD, mode="promise_in_bounds"),
     lambda x, u: jlax.scatter_max(x, IDX, u, JSD, mode="promise_in_bounds"), [U(4, 3), U(3, 3)]),
    ("scatter_min", lambda x, u: xl.scatter_min(x, IDX, u, SD, mode="promise_in_bounds"),
     lambda x, u: jlax.scatter_min(x, IDX, u, JSD, mode="promise_in_bounds"), [U(4, 3), U(3, 3)]),
    ("reduce_sum", lambda x: xl.reduce_sum(x, (0, 2)), lambda x: jlax.reduce_sum(x, (0, 2)), [U(2, 3, 4)]),
    ("reduce_prod", lambda x: xl.reduce_prod(x, (1,)), lambda x: jlax.reduce_prod(x, (1,)), [U(3, 4)]),
    ("reduce_prod_zero", lambda x: xl.reduce_prod(x, (0, 1)), lambda x: jlax.reduce_prod(x, (0, 1)),
     [np.array([[1.5, 0.0], [2.0, -1.0]])]),
    ("reduce_max", lambda x: xl.reduce_max(x, (1,)), lambda x: jlax.reduce_max(x, (1,)), [U(3, 4)]),
    ("reduce_min", lambda x: xl.reduce_min(x, (0,)), lambda x: jlax.reduce_min(x, (0,)), [U(3, 4)]),
    ("cumsum", lambda x: xl.cumsum(x, 1), lambda x: jlax.cumsum(x, 1), [U(2, 5)]),
    ("cumsum_rev", lambda x: xl.cumsum(x, 0, reverse=True), lambda x: jlax.cumsum(x, 0, reverse=True), [U(5)]),
    ("cumprod", lambda x: xl.cumprod(x, 0), lambda x: jlax.cumprod(x, 0), [U(5, 2)]),
    ("cummax", lambda x: xl.cummax(x, 0), lambda x: jlax.cummax(x, 0), [U(6)]),
    ("cummin_rev", lambda x: xl.cummin(x, 0, reverse=True), lambda x: jlax.cummin(x, 0, reverse=True), [U(6)]),
    ("cumlogsumexp", lambda x: xl.cumlogsumexp(x, 0), lambda x: jlax.cumlogsumexp(x, 0), [U(5)]),
    ("dot_general", lambda a, b: xl.dot_general(a, b, (((1,), (0,)), ((), ()))),
     lambda a, b: jlax.dot_general(a, b, (((1,), (0,)), ((), ()))), [U(2, 3), U(3, 4)]),
    ("dot_general_batch", lambda a, b: xl.dot_general(a, b, DN_BATCH),
     lambda a, b: jlax.dot_general(a, b, DN_BATCH), [U(2, 3, 4), U(2, 4, 5)]),
    ("dot_general_odd", lambda a, b: xl.dot_general(a, b, (((0, 2), (2, 1)), ((1,), (0,)))),
     lambda a, b: jlax.dot_general(a, b, (((0, 2), (2, 1)), ((1,), (0,)))), [U(3, 2, 4), U(2, 4, 3, 5)]),
    ("sort", lambda x: xl.sort(x, 1), lambda x: jlax.sort(x, 1), [U(3, 4)]),
    ("sort2", lambda k, v: xl.sort((k, v), 0, num_keys=1)[1], lambda k, v: jlax.sort((k, v), 0, num_keys=1)[1],
     [U(5), U(5)]),
    ("jit", xf.jit(lambda x, y: xl.sin(x) * y), jax.jit(lambda x, y: jnp.sin(x) * y), [U(3), U(3)]),
    ("complex_parts", lambda x, y: xl.real(xl.mul(xl.complex(x, y), xl.conj(xl.complex(y, x)))) +
     xl.imag(xl.complex(x, y)),
     lambda x, y: jlax.real(jlax.complex(x, y) * jlax.conj(jlax.complex(y, x))) + jlax.imag(jlax.complex(x, y)),
     [U(3), U(3)]),
]


def _fd(f, xs, vs, eps=1e-6):
    plus = np.asarray(f(*[x + eps * v for x, v in zip(xs, vs)]))
    minus = np.asarray(f(*[x - eps * v for x, v in zip(xs, vs)]))
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("name,fn,jfn,xs", CASES, ids=[c[0] for c in CASES])
def test_jvp_vjp(x64, name, fn, jfn, xs):
    vs = [rng.normal(size=x.shape) for x in xs]
    y = np.asarray(xf.jit(fn)(*xs))
    u = rng.normal(size=y.shape)
    jt, jcts = jax_side(lambda xs, vs, u: (jax.jvp(jfn, xs, vs)[1], jax.vjp(jfn, *xs)[1](u)), tuple(xs), tuple(vs), u)
    # forward mode, under jit (one compile), against finite differences and JAX
    yo, t = xf.jit(lambda xs, vs: xf.jvp(fn, xs, vs))(xs, vs)
    np.testing.assert_allclose(np.asarray(yo), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(t), _fd(xf.jit(fn), xs, vs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(t), np.asarray(jt), rtol=1e-9, atol=1e-9)
    # reverse mode: the transpose of the same linear map (dot-product test) and JAX's vjp
    cts = xf.jit(lambda xs, u: xf.vjp(fn, *xs)[1](u))(xs, u)
    assert len(cts) == len(xs)
    lhs = float(np.sum(u * np.asarray(t)))
    rhs = sum(float(np.sum(np.asarray(c) * v)) for c, v in zip(cts, vs))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)
    for c, jc, x in zip(cts, jcts, xs):
        assert np.asarray(c).shape == x.shape and np.asarray(c).dtype == np.float64
        np.testing.assert_allclose(np.asarray(c), np.asarray(jc), rtol=1e-9, atol=1e-9)


def test_eager_jvp_vjp_float32_and_second_order():
    # not under jit, float32 (the default): eager evaluation of the rules, and a second derivative
    x = np.array([0.3, -1.2, 2.0], np.float32)
    f = lambda x: xf.numpy.sum(xl.tanh(x) * xl.exp(x))
    jf = lambda x: jnp.sum(jnp.tanh(x) * jnp.exp(x))
    g = xf.grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(np.asarray(g), np.asarray(jax_side(lambda x: jax.grad(jf)(x), x)), rtol=1e-6)
    h = xf.jacfwd(xf.grad(f))(x)
    np.testing.assert_allclose(np.asarray(h), np.asarray(jax_side(lambda x: jax.hessian(jf)(x), x)), rtol=1e-5, atol=1e-6)


# primitives linear in (some of) their operands: each needs a transpose rule
LINEAR = {P.add_p, P.sub_p, P.neg_p, P.mul_p, P.div_p, P.convert_element_type_p, P.reduce_sum_p,
          P.broadcast_in_dim_p, P.reshape_p, P.squeeze_p, P.transpose_p, P.dot_general_p, P.select_n_p,
          P.concatenate_p, P.pad_p, P.slice_p, P.dynamic_slice_p, P.dynamic_update_slice_p, P.gather_p,
          P.scatter_add_p, P.scatter_p, P.rev_p, P.cumsum_p, P.copy_p, P.real_p, P.imag_p, P.complex_p,
          P.conj_p, P.jit_p}
# ... and those of the primitive families defined outside primitives.py
from xlafront import primitives_conv as _PC, primitives_linalg as _PL, primitives_fft as _PF  # noqa: E402
LINEAR |= {_PC.conv_general_dilated_p, _PC.reduce_window_sum_p, _PL.triangular_solve_p, _PF.fft_p}


def test_every_primitive_has_a_jvp_rule():
    missing = [name for name, p in core.all_primitives.items()
               if p not in J.jvp_rules and p not in P.non_differentiable]
    assert not missing, f"primitives without a jvp rule (or a non_differentiable declaration): {missing}"


def test_every_linear_primitive_has_a_transpose_rule():
    missing = [p.name for p in LINEAR if p not in T.transpose_rules]
    assert not missing


def test_integer_inputs_get_float0_tangents():
    y, t = xf.jvp(lambda x, n: x * n, (2.0, 3), (1.0, np.zeros((), jax.dtypes.float0)))
    assert float(t) == 3.0
    y, t = xf.jvp(lambda n: n * 2, (3,), (np.zeros((), jax.dtypes.float0),))
    assert t.dtype == jax.dtypes.float0 and t.shape == ()
    g = xf.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(1.5, 2)
    assert float(g[0]) == 2.0 and g[1].dtype == jax.dtypes.float0
    jg = jax.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(1.5, 2)
    assert g[1].dtype == jg[1].dtype and g[1].shape == jg[1].shape
