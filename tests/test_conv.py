"""The conv family against jax.lax: conv_general_dilated (1-D/2-D/3-D, layouts, strides,
paddings, dilations, feature and batch groups) and its wrappers, reduce_window
(sum/max/min): values, dtypes, jvp/vjp (against JAX and float64 finite differences),
vmap (against a Python loop and jax.vmap), a small CNN under jit, StableHLO, errors."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax as jl

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import core
from xlafront import lax as xl
from jax_ref import jax_side

jax.config.update("jax_platforms", "cpu")

HERE = "test_conv.py"
NHWC = ("NHWC", "HWIO", "NHWC")

# (name, lhs shape, rhs shape, conv_general_dilated keyword arguments)
CONVS = [
    ("1d_valid", (2, 3, 10), (4, 3, 3), dict(window_strides=(1,), padding="VALID")),
    ("1d_same_stride", (2, 3, 11), (5, 3, 4), dict(window_strides=(2,), padding="SAME")),
    ("1d_same_lower_rhs_dil", (1, 2, 9), (3, 2, 3), dict(window_strides=(1,), padding="SAME_LOWER",
                                                         rhs_dilation=(2,))),
    ("2d_nchw_same", (2, 3, 8, 7), (4, 3, 3, 3), dict(window_strides=(1, 1), padding="SAME")),
    ("2d_nhwc_stride", (2, 9, 8, 3), (3, 3, 3, 4), dict(window_strides=(2, 2), padding="SAME",
                                                        dimension_numbers=NHWC)),
    ("2d_pads_dilations", (2, 3, 6, 5), (4, 3, 3, 2), dict(window_strides=(1, 2), padding=((2, 1), (0, -1)),
                                                           lhs_dilation=(2, 1), rhs_dilation=(1, 2))),
    ("2d_mixed_layouts", (2, 7, 6, 3), (4, 2, 3, 3), dict(window_strides=(1, 2), padding="VALID",
                                                         dimension_numbers=("NWHC", "OHWI", "NCHW"))),
    ("2d_feature_groups", (2, 6, 7, 7), (9, 2, 3, 3), dict(window_strides=(2, 1), padding="SAME",
                                                          feature_group_count=3)),
    ("2d_depthwise_nhwc", (2, 8, 8, 4), (3, 3, 1, 8), dict(window_strides=(1, 1), padding="VALID",
                                                          dimension_numbers=NHWC, feature_group_count=4)),
    ("2d_batch_groups", (4, 3, 6, 6), (6, 3, 3, 3), dict(window_strides=(1, 1), padding="VALID",
                                                        batch_group_count=2)),
    ("2d_batch_groups_strided", (6, 2, 7, 5), (3, 2, 2, 3), dict(window_strides=(2, 1), padding=((1, 0), (2, 1)),
                                                                 rhs_dilation=(2, 1), batch_group_count=3)),
    ("3d_ncdhw", (1, 2, 5, 6, 4), (3, 2, 2, 3, 2), dict(window_strides=(1, 2, 1), padding="SAME")),
    ("3d_ndhwc_dil", (2, 6, 5, 4, 2), (2, 2, 2, 2, 3), dict(window_strides=(1, 1, 2), padding="VALID",
                                                           rhs_dilation=(2, 1, 1),
                                                           dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))),
]
IDS = [c[0] for c in CONVS]


def _data(shape, dtype=np.float32, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


def _close(a, b, tol):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _conv_fns(kw):
    return (lambda x, w: xl.conv_general_dilated(x, w, **kw)), (lambda x, w: jl.conv_general_dilated(x, w, **kw))


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("name,ls,rs,kw", CONVS, ids=IDS)
def test_conv_values_against_jax(name, ls, rs, kw):
    x, w = _data(ls), _data(rs, seed=1)
    ours, ref = _conv_fns(kw)
    want = jax_side(ref, x, w)
    _close(ours(x, w), want, 1e-4)          # eager
    _close(xf.jit(ours)(x, w), want, 1e-4)  # under jit


def test_conv_float64_int_and_preferred_element_type(x64):
    x, w = _data((2, 3, 7, 6), np.float64), _data((4, 3, 2, 3), np.float64, seed=1)
    kw = dict(window_strides=(2, 1), padding="SAME", rhs_dilation=(1, 2))
    ours, ref = _conv_fns(kw)
    _close(ours(x, w), jax_side(ref, x, w), 1e-12)
    xi, wi = (x * 3).astype(np.int32), (w * 3).astype(np.int32)
    _close(ours(xi, wi), jax_side(ref, xi, wi), 0)
    # bfloat16 operands accumulated in float32
    xb, wb = jnp.asarray(x, jnp.bfloat16), jnp.asarray(w, jnp.bfloat16)
    o = xl.conv_general_dilated(np.asarray(xb), np.asarray(wb), (1, 1), "VALID", preferred_element_type=np.float32)
    r = jax_side(lambda xb, wb: jl.conv_general_dilated(xb, wb, (1, 1), "VALID", preferred_element_type=jnp.float32),
                 np.asarray(xb), np.asarray(wb))
    _close(o, r, 1e-5)


PETS = [(np.float32, np.int32), (np.float32, np.bool_), (np.float32, np.complex64), (np.complex64, np.float32),
        (np.int8, np.complex64), (np.int8, np.uint8), (np.int8, np.uint32), (np.int32, np.int8),
        (np.float32, np.float16), (np.int8, np.float32), (np.int8, np.int32), (np.uint8, np.int8),
        (np.uint8, np.int32), (np.uint8, np.uint16), (np.float16, np.float32), (np.float16, jnp.bfloat16)]


@pytest.mark.parametrize("dt,pet", PETS, ids=[f"{np.dtype(a).name}-{np.dtype(b).name}" for a, b in PETS])
def test_conv_preferred_element_type_combinations_as_jax(dt, pet):
    x, w = (np.arange(8) % 3).reshape(1, 2, 4).astype(dt), np.ones((3, 2, 2), dt)
    try:
        # (a TypeError is not recorded: those cases run JAX each time)
        ref = jax_side(lambda x, w, pet: jl.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=pet),
                       x, w, pet)
    except TypeError as e:
        with pytest.raises(TypeError, match=re.escape(str(e).split(".")[0])):
            xl.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=pet)
        return
    _close(xl.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=pet), ref, 0)


def test_empty_output_window_larger_than_input():
    x, w = _data((1, 2, 3, 3)), _data((2, 2, 4, 2))
    ours, ref = _conv_fns(dict(window_strides=(1, 1), padding="VALID"))
    _close(ours(x, w), jax_side(ref, x, w), 0)
    assert ours(x, w).shape == (1, 2, 0, 2)


def test_conv_wrappers_against_jax():
    x, w = _data((2, 3, 9, 8)), _data((4, 3, 3, 2), seed=1)
    _close(xl.conv(x, w, (2, 1), "SAME"), jax_side(lambda x, w: jl.conv(x, w, (2, 1), "SAME"), x, w), 1e-4)
    _close(xl.conv(x, w, (1, 1), "VALID", precision=xl.Precision.HIGHEST),
           jax_side(lambda x, w: jl.conv(x, w, (1, 1), "VALID", precision=jl.Precision.HIGHEST), x, w), 1e-4)
    _close(xl.conv_with_general_padding(x, w, (1, 2), ((1, 2), (0, 1)), (2, 1), (1, 2)),
           jax_side(lambda x, w: jl.conv_with_general_padding(x, w, (1, 2), ((1, 2), (0, 1)), (2, 1), (1, 2)), x, w),
           1e-4)
    # conv_transpose: default (TensorFlow) layouts, string and explicit paddings, kernel transposed
    xt, wt = _data((2, 5, 4, 3)), _data((3, 2, 3, 4), seed=1)
    for strides in ((1, 1), (2, 2), (3, 1)):
        for padding in ("SAME", "VALID", ((1, 2), (0, 1))):
            for tk in (False, True):
                rhs = wt if not tk else np.transpose(wt, (0, 1, 3, 2))
                _close(xl.conv_transpose(xt, rhs, strides, padding, transpose_kernel=tk),
                       jax_side(lambda x, r, s, p, tk: jl.conv_transpose(x, r, s, p, transpose_kernel=tk),
                                xt, rhs, strides, padding, tk), 1e-4)
    _close(xl.conv_transpose(xt, wt, (2, 1), "SAME", rhs_dilation=(2, 1)),
           jax_side(lambda x, w: jl.conv_transpose(x, w, (2, 1), "SAME", rhs_dilation=(2, 1)), xt, wt), 1e-4)
    x1, w1 = _data((2, 6, 3)), _data((3, 3, 2), seed=2)
    _close(xl.conv_transpose(x1, w1, (2,), "VALID"),
           jax_side(lambda x, w: jl.conv_transpose(x, w, (2,), "VALID"), x1, w1), 1e-4)


def test_conv_dimension_numbers_against_jax():
    ls, rs = (2, 3, 8, 7), (4, 3, 3, 3)
    for dn in (None, NHWC, ("NCHW", "OIHW", "NCHW"), ("NWHC", "HWIO", "NCWH"), ("CHWN", "IWHO", "NHCW")):
        ours = xl.conv_dimension_numbers(ls, rs, dn)
        ref = jl.conv_dimension_numbers(ls, rs, dn)
        assert isinstance(ours, xl.ConvDimensionNumbers)
        assert tuple(ours) == tuple(ref) and ours._fields == ref._fields
    dn = xl.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert xl.conv_dimension_numbers(ls, rs, dn) is dn
    # a ConvDimensionNumbers (ours or JAX's) as the dimension_numbers argument
    x, w = _data((2, 9, 8, 3)), _data((3, 3, 3, 4), seed=1)
    ref = jax_side(lambda x, w: jl.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC), x, w)
    _close(xl.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn), ref, 1e-4)
    jdn = jl.conv_dimension_numbers(x.shape, w.shape, NHWC)
    _close(xl.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=jdn), ref, 1e-4)


def test_padtype_to_pads_against_jax():
    for shape, window, strides in (((7, 8), (3, 2), (2, 3)), ((5,), (4,), (1,)), ((9, 4, 3), (2, 5, 1), (3, 1, 2))):
        for p in ("SAME", "VALID", "SAME_LOWER"):
            assert tuple(map(tuple, xl.padtype_to_pads(shape, window, strides, p))) == \
                tuple(map(tuple, jl.padtype_to_pads(shape, window, strides, p)))


# ----------------------------------------------------------------------------- derivatives


def _fd(f, xs, vs, eps=1e-6):
    plus = np.asarray(f(*[x + eps * v for x, v in zip(xs, vs)]))
    minus = np.asarray(f(*[x - eps * v for x, v in zip(xs, vs)]))
    return (plus - minus) / (2 * eps)


def _check_jvp_vjp(ours, ref, xs, seed=3, fd_tol=1e-6, jax_vjp=True):
    """float64: jvp against finite differences and JAX (`ref`, unless None); vjp against
    JAX and the dot-product identity <u, J v> = <J^T u, v>."""
    r = np.random.RandomState(seed)
    vs = [r.randn(*x.shape) for x in xs]
    y, t = xf.jit(lambda xs, vs: xf.jvp(ours, xs, vs))(xs, vs)
    np.testing.assert_allclose(np.asarray(t), _fd(xf.jit(ours), xs, vs), rtol=fd_tol, atol=fd_tol)
    u = r.randn(*np.shape(y))
    cts = xf.jit(lambda xs, u: xf.vjp(ours, *xs)[1](u))(xs, u)
    assert len(cts) == len(xs)
    if ref is not None:
        jy, jt = jax_side(lambda xs, vs: jax.jit(lambda xs, vs: jax.jvp(ref, xs, vs))(xs, vs), tuple(xs), tuple(vs))
        _close(y, jy, 1e-10)
        _close(t, jt, 1e-10)
        if jax_vjp:
            jcts = jax_side(lambda xs, u: jax.jit(lambda xs, u: jax.vjp(ref, *xs)[1](u))(xs, u), xs, u)
            for c, jc in zip(cts, jcts):
                _close(c, jc, 1e-10)
    lhs = float(np.sum(u * np.asarray(t)))
    rhs = sum(float(np.sum(np.asarray(c) * v)) for c, v in zip(cts, vs))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@pytest.mark.parametrize("name,ls,rs,kw", CONVS, ids=IDS)
def test_conv_jvp_vjp_both_operands(x64, name, ls, rs, kw):
    x, w = _data(ls, np.float64), _data(rs, np.float64, seed=1)
    _check_jvp_vjp(*_conv_fns(kw), [x, w])


def test_conv_grad_eager_float32_and_second_order():
    x, w = _data((2, 3, 6, 6)), _data((4, 3, 3, 3), seed=1)
    kw = dict(window_strides=(2, 1), padding="SAME", rhs_dilation=(1, 2))

    def loss(m):
        return lambda x, w: m.numpy.sum(m.numpy.tanh(m.lax.conv_general_dilated(x, w, **kw)))

    g = xf.grad(loss(xf), argnums=(0, 1))(x, w)         # eager, op by op
    jg = jax_side(lambda x, w: jax.grad(loss(jax), argnums=(0, 1))(x, w), x, w)
    for a, b in zip(g, jg):
        _close(a, b, 1e-4)
    # the transposes are convolutions too: differentiate the gradient again
    h = xf.jit(xf.grad(lambda w: xnp.sum(xf.grad(loss(xf))(x, w) ** 2)))(w)
    jh = jax_side(lambda x, w: jax.jit(jax.grad(lambda w: jnp.sum(jax.grad(loss(jax))(x, w) ** 2)))(w), x, w)
    _close(h, jh, 1e-3)


# ----------------------------------------------------------------------------- vmap

VMAP_CASES = [c for c in CONVS if c[0] in ("1d_same_stride", "2d_nhwc_stride", "2d_pads_dilations",
                                           "2d_mixed_layouts", "2d_feature_groups", "2d_batch_groups_strided",
                                           "3d_ncdhw")]


@pytest.mark.parametrize("name,ls,rs,kw", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_conv_vmap_against_a_loop(name, ls, rs, kw):
    V = 3
    ours, ref = _conv_fns(kw)
    r = np.random.RandomState(5)
    x = r.randn(*ls[:1], V, *ls[1:]).astype(np.float32)    # batched along axis 1
    w = r.randn(*rs, V).astype(np.float32)                  # batched along the last axis
    x0, w0 = _data(ls), _data(rs, seed=1)
    for in_axes, args in (((1, None), (x, w0)), ((None, -1), (x0, w)), ((1, -1), (x, w))):
        got = xf.vmap(ours, in_axes=in_axes)(*args)
        take = lambda a, ax, i: a if ax is None else np.take(a, i, axis=ax)   # noqa: E731
        loop = np.stack([np.asarray(ours(*[take(a, ax, i) for a, ax in zip(args, in_axes)])) for i in range(V)])
        _close(got, loop, 1e-5)
        _close(got, jax_side(lambda *a: jax.vmap(ref, in_axes=in_axes)(*a), *args), 1e-4)


def test_conv_vmap_of_grad_and_grad_of_vmap():
    x = _data((4, 2, 6, 5))
    w = _data((6, 1, 3, 3), seed=1)
    kw = dict(window_strides=(1, 1), padding="SAME", feature_group_count=2)

    def per_example(m):
        def loss(w, x):
            return m.numpy.sum(m.lax.conv_general_dilated(x[None], w, **kw) ** 2)
        return m.vmap(m.grad(loss), in_axes=(None, 0))

    _close(per_example(xf)(w, x), jax_side(lambda w, x: per_example(jax)(w, x), w, x), 1e-3)
    gv = xf.grad(lambda w: xnp.sum(xf.vmap(lambda xi: xl.conv_general_dilated(xi[None], w, **kw))(x) ** 3))(w)
    jgv = jax_side(lambda x, w: jax.grad(
        lambda w: jnp.sum(jax.vmap(lambda xi: jl.conv_general_dilated(xi[None], w, **kw))(x) ** 3))(w), x, w)
    _close(gv, jgv, 1e-3)


# ----------------------------------------------------------------------------- reduce_window

# (name, lax computation name, init, operand shape, keyword arguments)
WINDOWS = [
    ("sum_valid", "add", 0.0, (5, 7), dict(window_dimensions=(2, 3), window_strides=(1, 2), padding="VALID")),
    ("sum_same_dilated", "add", 0.0, (2, 7, 6), dict(window_dimensions=(1, 3, 2), window_strides=(1, 2, 1),
                                                     padding="SAME", base_dilation=(1, 1, 2),
                                                     window_dilation=(1, 2, 1))),
    ("max_pool", "max", -np.inf, (2, 3, 8, 8), dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 2, 2),
                                                    padding="VALID")),
    ("max_same_lower_overlap", "max", -np.inf, (6, 5), dict(window_dimensions=(3, 3), window_strides=(1, 2),
                                                            padding="SAME_LOWER")),
    ("max_base_dilation", "max", -np.inf, (7, 4), dict(window_dimensions=(3, 2), window_strides=(2, 1),
                                                       padding=((2, 1), (0, 1)), base_dilation=(2, 1))),
    ("max_negative_pad", "max", -np.inf, (8, 6), dict(window_dimensions=(2, 2), window_strides=(2, 1),
                                                      padding=((-1, 1), (1, 0)))),
    ("min_padded", "min", np.inf, (7,), dict(window_dimensions=(3,), window_strides=(2,), padding=((2, 1),),
                                             base_dilation=(2,))),
    ("min_same", "min", np.inf, (3, 4, 5), dict(window_dimensions=(2, 1, 3), window_strides=(1, 1, 1),
                                                padding="SAME")),
]
WIDS = [c[0] for c in WINDOWS]


def _rw_fns(op, init, kw):
    return (lambda x: xl.reduce_window(x, init, getattr(xl, op), **kw),
            lambda x: jl.reduce_window(x, init, getattr(jl, op), **kw))


@pytest.mark.parametrize("name,op,init,shape,kw", WINDOWS, ids=WIDS)
def test_reduce_window_values_and_vmap(name, op, init, shape, kw):
    x = _data(shape)
    ours, ref = _rw_fns(op, init, kw)
    want = jax_side(ref, x)
    _close(ours(x), want, 1e-5)
    _close(xf.jit(ours)(x), want, 1e-5)
    xs = _data((3,) + shape, seed=2)
    for ax in (0, len(shape)):
        xb = np.moveaxis(xs, 0, ax)
        got = xf.vmap(ours, in_axes=ax)(xb)
        _close(got, np.stack([np.asarray(ours(xs[i])) for i in range(3)]), 1e-6)
        _close(got, jax_side(lambda xb: jax.vmap(ref, in_axes=ax)(xb), xb), 1e-5)


@pytest.mark.parametrize("name,op,init,shape,kw", WINDOWS, ids=WIDS)
def test_reduce_window_jvp_vjp(x64, name, op, init, shape, kw):
    ours, ref = _rw_fns(op, init, kw)
    # distinct values: against JAX and finite differences
    negative_pads = not isinstance(kw["padding"], str) and min(map(min, kw["padding"])) < 0
    # (JAX has no VJP of max with negative padding: its transpose builds an invalid slice)
    _check_jvp_vjp(ours, ref, [_data(shape, np.float64)], jax_vjp=not negative_pads)
    # small integers: many ties inside windows. The gradient goes to each window's first
    # extremum (row-major), as XLA's select_and_scatter puts it in JAX's gradient.
    x = np.random.RandomState(4).randint(0, 3, size=shape).astype(np.float64)
    r = np.random.RandomState(6)
    v = r.randn(*shape)
    y, t = xf.jvp(ours, (x,), (v,))
    u = r.randn(*np.shape(y))
    ct = xf.vjp(ours, x)[1](u)[0]
    g = xf.jit(xf.grad(lambda x: xnp.sum(ours(x) * u)))(x)
    _close(g, ct, 1e-12)
    if not negative_pads:
        _close(ct, jax_side(lambda x, u: jax.vjp(ref, x)[1](u)[0], x, u), 1e-12)
    # forward mode picks the same element, so jvp and vjp stay transposes of each other
    np.testing.assert_allclose(np.sum(u * np.asarray(t)), np.sum(np.asarray(ct) * v), rtol=1e-12)
    if "base_dilation" not in kw:
        # (JAX's forward mode breaks ties under base dilation in XLA's reduction order,
        # which is not the first element, and not what its own gradient uses)
        _close(t, jax_side(lambda x, v: jax.jvp(ref, (x,), (v,))[1], x, v), 1e-12)


@pytest.mark.parametrize("op", ["max", "min"])
def test_reduce_window_chooser_with_window_dilation_against_fd(x64, op):
    # JAX has no VJP of max/min with window dilation; check the derivatives directly
    kw = dict(window_dimensions=(2, 3), window_strides=(1, 2), padding="SAME", window_dilation=(2, 1),
              base_dilation=(1, 2))
    init = -np.inf if op == "max" else np.inf
    x = _data((6, 5), np.float64)   # distinct values: the derivative exists
    ours, ref = _rw_fns(op, init, kw)
    _close(ours(x), jax_side(ref, x), 1e-12)
    _check_jvp_vjp(ours, None, [x], fd_tol=1e-6)
    g = xf.vmap(xf.grad(lambda x: xnp.sum(ours(x) ** 2)))(np.stack([x, -x]))
    for i, xi in enumerate((x, -x)):
        v = np.random.RandomState(i).randn(*x.shape)
        fd = _fd(lambda z: np.sum(np.asarray(ours(z)) ** 2), [xi], [v])
        np.testing.assert_allclose(np.sum(np.asarray(g[i]) * v), fd, rtol=1e-6)


def test_reduce_window_sum_with_dilation_derivatives(x64):
    name, op, init, shape, kw = WINDOWS[1]
    _check_jvp_vjp(*_rw_fns(op, init, kw), [_data(shape, np.float64)])


def test_reduce_window_init_values_dtypes_and_computations():
    v = np.arange(6, dtype=np.float32)
    for op, init, strides, padding, bd in (("add", 10.0, (1,), "SAME", None), ("max", 2.5, (1,), "SAME", None),
                                           ("min", 2.5, (2,), ((2, 2),), (2,)), ("max", 0.0, (2,), "VALID", None)):
        a = xl.reduce_window(v, init, getattr(xl, op), (3,), strides, padding, bd)
        b = jax_side(lambda: jl.reduce_window(v, init, getattr(jl, op), (3,), strides, padding, bd))
        _close(a, b, 1e-6)
    # a traced init value, and the derivative through it
    f = lambda m: lambda x, c: m.numpy.sum(m.lax.reduce_window(x, c, m.lax.max, (3,), (1,), "SAME"))  # noqa: E731
    _close(xf.jit(f(xf))(v, np.float32(2.5)), jax_side(lambda v, c: jax.jit(f(jax))(v, c), v, np.float32(2.5)), 1e-6)
    # (JAX cannot differentiate with respect to init_value; the init wins in 2 of the 6 windows)
    assert float(xf.grad(f(xf), argnums=1)(v, np.float32(2.5))) == 2.0
    # computations written as functions of two scalars, integer and bool operands
    m = np.random.RandomState(0).randint(-5, 5, (4, 6)).astype(np.int32)
    for comp, jcomp, init in ((lambda a, b: xnp.maximum(a, b), lambda a, b: jnp.maximum(a, b), -2 ** 31),
                              (lambda a, b: a + b, lambda a, b: a + b, 0),
                              (xl.min, jl.min, 2 ** 31 - 1)):
        _close(xl.reduce_window(m, init, comp, (2, 3), (1, 1), "SAME"),
               jax_side(lambda m, init: jl.reduce_window(m, init, jcomp, (2, 3), (1, 1), "SAME"), m, init), 0)
    bm = m > 0
    _close(xl.reduce_window(bm, False, xl.max, (2, 2), (1, 2), "VALID"),
           jax_side(lambda bm: jl.reduce_window(bm, False, jl.max, (2, 2), (1, 2), "VALID"), bm), 0)
    # other computations are not implemented: a clear error, and the next call works
    with pytest.raises(NotImplementedError, match=r"addition, max and min.*" + HERE):
        xl.reduce_window(v, 1.0, xl.mul, (2,), (1,), "VALID")
    _close(xl.reduce_window(v, 0.0, xl.add, (2,), (1,), "VALID"),
           jax_side(lambda v: jl.reduce_window(v, 0.0, jl.add, (2,), (1,), "VALID"), v), 1e-6)


# (operand dtype, init, computation): as JAX (x64 off), an init that is the identity of its own
# dtype is accepted whatever the operand's dtype; any other init's canonical dtype (python
# int -> int32, float -> float32, bool -> bool) must equal the operand's, else TypeError.
RW_INITS = [
    (np.int32, 0, "add"), (np.int32, 0.0, "add"), (np.int32, np.float32(0), "add"), (np.int32, 1, "add"),
    (np.int32, 0.5, "add"), (np.int32, 2.0, "add"), (np.int32, True, "add"), (np.float32, 1, "add"),
    (np.float32, np.int32(1), "add"), (np.float32, 0, "add"), (np.float32, 0.5, "add"),
    (np.float32, np.float64(1), "add"), (np.int32, np.int64(3), "add"), (np.int32, -np.inf, "max"),
    (np.int32, np.uint8(0), "add"), (np.int32, np.int8(3), "add"), (np.float32, np.float16(1), "add"),
    (np.uint8, -np.inf, "max"), (np.uint8, np.inf, "min"), (np.uint8, 255, "min"), (np.int32, np.inf, "max"),
    (np.int32, np.nan, "max"), (np.float16, 0.5, "add"), (np.int32, True, "max"), (np.int32, False, "add"),
    (np.float32, 0j, "add"), (np.float32, 1 + 0j, "add"), (np.int32, -2 ** 31, "max"),
]


def _rw_outcome(run):
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # no numpy RuntimeWarning (e.g. casting -inf to int)
            return np.asarray(run())
    except TypeError as e:
        return TypeError, str(e)


@pytest.mark.parametrize("dt,init,op", RW_INITS, ids=[f"{np.dtype(d).name}-{i!r}-{o}" for d, i, o in RW_INITS])
def test_reduce_window_init_value_dtypes_as_jax(dt, init, op):
    x = np.arange(5).astype(dt)
    for wrap in (lambda f: f, xf.jit):
        ours = _rw_outcome(lambda: wrap(lambda a: xl.reduce_window(a, init, getattr(xl, op), (2,), (1,),
                                                                   "VALID"))(x))
        # (a TypeError is not recorded: those cases run JAX each time)
        ref = _rw_outcome(lambda: jax_side(lambda x, init, op: jl.reduce_window(x, init, getattr(jl, op), (2,), (1,),
                                                                                "VALID"), x, init, op))
        if isinstance(ref, tuple):
            assert isinstance(ours, tuple), (ours, ref)
        else:
            assert not isinstance(ours, tuple), ours
            _close(ours, ref, 0)
    # a traced init value must have the operand's dtype too
    with pytest.raises(TypeError, match="inconsistent dtypes"):
        xf.jit(lambda a, c: xl.reduce_window(a, c, xl.add, (2,), (1,), "VALID"))(np.arange(5.0, dtype=np.float32),
                                                                                 np.int32(1))


# ----------------------------------------------------------------------------- a small CNN


def _cnn(m):
    lax = m.lax
    np_ = m.numpy

    def loss(params, x, y):
        w1, w2, wd = params
        h = lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=NHWC)
        h = np_.maximum(h, 0.0)
        h = lax.reduce_window(h, -np_.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = lax.conv_general_dilated(h, w2, (2, 2), ((1, 0), (1, 0)), rhs_dilation=(1, 1), dimension_numbers=NHWC,
                                     feature_group_count=2)
        h = np_.tanh(h)
        h = lax.reduce_window(h, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "SAME") / 4.0
        logits = h.reshape(h.shape[0], -1) @ wd
        return np_.mean((logits - y) ** 2)
    return loss


def test_small_cnn_loss_and_grad_under_jit():
    r = np.random.RandomState(7)
    x = r.randn(4, 12, 12, 3).astype(np.float32)
    y = r.randn(4, 5).astype(np.float32)
    params = [(r.randn(3, 3, 3, 8) * 0.3).astype(np.float32), (r.randn(3, 3, 4, 6) * 0.3).astype(np.float32),
              (r.randn(3 * 3 * 6, 5) * 0.1).astype(np.float32)]
    ours = xf.jit(xf.value_and_grad(_cnn(xf)))
    ref = lambda p, x, y: jax.jit(jax.value_and_grad(_cnn(jax)))(p, x, y)  # noqa: E731
    (l, g), (jl_, jg) = ours(params, x, y), jax_side(ref, params, x, y)
    _close(l, jl_, 1e-5)
    for a, b in zip(g, jg):
        _close(a, b, 1e-4)
    # a few SGD steps stay together
    p_ours = params
    for _ in range(3):
        p_ours = [p - 0.1 * np.asarray(d) for p, d in zip(p_ours, ours(p_ours, x, y)[1])]

    def sgd(p_ref, x, y):
        f = jax.jit(jax.value_and_grad(_cnn(jax)))
        for _ in range(3):
            p_ref = [p - 0.1 * np.asarray(d) for p, d in zip(p_ref, f(p_ref, x, y)[1])]
        return p_ref
    p_ref = jax_side(sgd, params, x, y)
    for a, b in zip(p_ours, p_ref):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- StableHLO


def test_stablehlo_text():
    x, w = _data((2, 9, 8, 3)), _data((3, 3, 1, 6), seed=1)
    f = lambda m: lambda x, w: m.lax.conv_general_dilated(  # noqa: E731
        x, w, (1, 2), ((1, 2), (0, 1)), lhs_dilation=(2, 1), rhs_dilation=(1, 2), dimension_numbers=NHWC,
        feature_group_count=3)
    ours = xf.jit(f(xf)).lower(x, w).as_text()
    ref = jax_side(lambda x, w: jax.jit(f(jax)).lower(x, w).as_text(), x, w)
    pattern = r"stablehlo\.convolution\(%arg0, %arg1\) dim_numbers = .*? -> tensor<[0-9x]+xf32>"
    assert re.search(pattern, ours).group() == re.search(pattern, ref).group()
    assert re.search(r'stablehlo\.convolution.* loc\("[^"]*test_conv\.py":\d+:\d+\)', ours)
    pool = lambda x: xl.reduce_window(x, -np.inf, xl.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")  # noqa: E731
    text = xf.jit(pool).lower(x).as_text()
    assert '"stablehlo.reduce_window"(%arg0, ' in text and "stablehlo.maximum" in text
    assert "window_dimensions = array<i64: 1, 2, 2, 1>, window_strides = array<i64: 1, 2, 2, 1>" in text
    text = xf.jit(lambda x: xl.reduce_window(x, 0.0, xl.add, (1, 3, 1, 1), (1, 1, 1, 1), "SAME")).lower(x).as_text()
    assert "padding = dense<[[0, 0], [1, 1], [0, 0], [0, 0]]> : tensor<4x2xi64>" in text and "stablehlo.add" in text
    # the gradient of max pooling selects with a variadic reduce_window and scatters
    text = xf.jit(xf.grad(lambda x: xnp.sum(xl.reduce_window(x, -np.inf, xl.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                                              "VALID")))).lower(x).as_text()
    assert '"stablehlo.scatter"' in text and '"stablehlo.reduce_window"' in text
    graph = str(xf.make_jaxpr(f(xf))(x, w))
    assert "conv_general_dilated[" in graph and "feature_group_count=3" in graph and "lhs_dilation=(2, 1)" in graph


# ----------------------------------------------------------------------------- errors


X4, W4 = _data((2, 3, 8, 8)), _data((4, 3, 3, 3), seed=1)
BAD = [
    # mismatched feature dimensions
    (lambda m: m.conv_general_dilated(X4, np.ones((4, 2, 3, 3), np.float32), (1, 1), "SAME"), ValueError,
     r"3 // 1 != 2"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", feature_group_count=2), ValueError,
     r"2 does not divide 3"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", batch_group_count=3), ValueError,
     r"3 does not divide 2"),
    # bad dimension_numbers
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", dimension_numbers=("NCHX", "OIHW", "NCHW")),
     TypeError, r"same set of spatial characters"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", dimension_numbers=("NNHW", "OIHW", "NCHW")),
     TypeError, r"'N' and 'C' exactly once"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW")), TypeError,
     r"must be length 3"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", dimension_numbers=("NCH", "OIHW", "NCHW")),
     TypeError, r"dimension_numbers\[0\] must have len equal"),
    # wrong rank, strides, pads, dtypes
    (lambda m: m.conv_general_dilated(X4, np.ones((4, 3, 3), np.float32), (1, 1), "SAME"), TypeError,
     r"ndim to be equal, got 4 and 3"),
    (lambda m: m.conv_general_dilated(X4, W4, (1,), "SAME"), ValueError, r"window_strides"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), ((1, 1),)), TypeError, r"expected 2, got 1"),
    (lambda m: m.conv_general_dilated(X4, W4.astype(np.float16), (1, 1), "SAME"), TypeError,
     r"same dtypes, got float32, float16"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "SAME", lhs_dilation=(2, 1)), ValueError,
     r"String padding is not implemented"),
    (lambda m: m.conv_general_dilated(X4, W4, (1, 1), "VALID", rhs_dilation=(0, 1)), TypeError,
     r"dilations must be positive"),
    (lambda m: m.reduce_window(X4, 0.0, m.add, (2, 2), (1, 1), "VALID"), TypeError,
     r"wrong number of window_dimensions"),
    (lambda m: m.reduce_window(X4, 0.0, m.add, (1, 1, 0, 2), (1, 1, 1, 1), "VALID"), TypeError,
     r"strictly positive"),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_input_raises_jax_error_class_naming_the_line(k):
    f, cls, msg = BAD[k]
    with pytest.raises(cls):
        f(jl)
    for run in (lambda: f(xl), lambda: xf.jit(lambda: f(xl))()):
        with pytest.raises(cls, match=msg) as info:
            run()
        assert f"{HERE}:{f.__code__.co_firstlineno}" in str(info.value), str(info.value)
        assert core.current_trace() is core.eval_trace
    # the next good call works
    _close(xl.conv_general_dilated(X4, W4, (1, 1), "SAME"),
           jax_side(lambda x, w: jl.conv_general_dilated(x, w, (1, 1), "SAME"), X4, W4), 1e-4)
