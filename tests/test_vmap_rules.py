"""Every primitive's batch rule: vmap against a Python loop that stacks results, and
against jax.vmap of the matching jax.lax function, over several in/out axes."""
import numpy as np
import pytest

import jax
import jax.numpy as jnp
from jax import lax

import xlafront as xf
from xlafront import core
from xlafront import primitives as P
from xlafront.transforms.batching import batch_rules

B = 3
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same data whatever ran before it (pytest-xdist splits the file)."""
    global rng
    rng = np.random.default_rng(0)


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def i32(*shape, lo=-5, hi=5):
    return rng.integers(lo, hi, shape).astype(np.int32)


def boolean(*shape):
    return rng.integers(0, 2, shape).astype(bool)


def batched(x, axis):
    """A batch of B variations of example x, stacked along `axis`."""
    xs = []
    for i in range(B):
        if x.dtype == bool:
            xs.append(x ^ (rng.integers(0, 2, x.shape).astype(bool)))
        elif np.issubdtype(x.dtype, np.integer):
            xs.append(x + x.dtype.type(i))
        else:
            xs.append(x * x.dtype.type(1.0 + 0.25 * i))
    return np.stack(xs, axis)


def leaves(t):
    return t if isinstance(t, (tuple, list)) else [t]


class Checker:
    """Collects (function, in_axes, out_axes, data) cases; `run` compiles all of them in one
    xlafront program and one JAX program (compiles dominate the cost of these tests) and
    checks vmap(f) == loop over the batch of f == jax.vmap(jax_f)."""

    def __init__(self):
        self.cases = []

    def __call__(self, xf_fn, jax_fn, example, in_axes, out_axes=0, rtol=2e-5, atol=2e-6, data=None):
        if data is None:
            data = [x if a is None else batched(x, a) for x, a in zip(example, in_axes)]
        self.cases.append((xf_fn, jax_fn, in_axes, out_axes, rtol, atol, data))

    def run(self):
        cases, self.cases = self.cases, []

        def examples(in_axes, data):
            return [[x if a is None else x[(slice(None),) * a + (i,)] for x, a in zip(data, in_axes)] for i in range(B)]

        def ours(all_data):
            outs = []
            for (f, _, in_axes, out_axes, _, _, _), data in zip(cases, all_data):
                got = leaves(xf.vmap(f, in_axes=in_axes, out_axes=out_axes)(*data))
                per = [leaves(f(*ex)) for ex in examples(in_axes, data)]
                loop = [xf.numpy.stack([p[k] for p in per], axis=out_axes) for k in range(len(per[0]))]
                outs.append((got, loop))
            return outs

        def theirs(all_data):
            return [leaves(jax.vmap(jf, in_axes=in_axes, out_axes=out_axes)(*data))
                    for (_, jf, in_axes, out_axes, _, _, _), data in zip(cases, all_data)]

        all_data = [c[-1] for c in cases]
        got_all = xf.jit(ours)(all_data)
        ref_all = jax.jit(theirs)(all_data)
        for c, (got, loop), ref in zip(cases, got_all, ref_all):
            rtol, atol = c[4], c[5]
            assert len(got) == len(loop) == len(ref)
            for g, l, r in zip(got, loop, ref):
                g, l, r = np.asarray(g), np.asarray(l), np.asarray(r)
                where = f"in_axes={c[2]} out_axes={c[3]}"
                assert g.shape == l.shape == r.shape, (where, g.shape, l.shape, r.shape)
                assert g.dtype == l.dtype == r.dtype, (where, g.dtype, l.dtype, r.dtype)
                np.testing.assert_allclose(g, l, rtol=1e-5, atol=1e-6, err_msg=where)  # same math, batched
                np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)


@pytest.fixture
def check():
    c = Checker()
    yield c
    c.run()


def test_every_primitive_has_a_batch_rule():
    missing = [name for name, p in core.all_primitives.items() if p not in batch_rules]
    assert not missing, f"primitives without a batch rule: {missing}"


# ----------------------------------------------------------------------------- elementwise
_UNARY_FLOAT = ["neg", "sign", "floor", "ceil", "is_finite", "exp", "exp2", "log", "log1p", "expm1",
                "tanh", "logistic", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                "asinh", "atanh", "sqrt", "rsqrt", "cbrt", "abs", "square", "erf", "erf_inv",
                "lgamma", "digamma"]


def test_unary_float(check):
    x = f32(2, 4, lo=0.05, hi=0.6)  # in every function's domain, batch variations too
    for k, name in enumerate(_UNARY_FLOAT):
        check(getattr(P, name), getattr(lax, name), [x], (k % 3,), out_axes=k % 2, rtol=1e-4, atol=1e-5)


def test_unary_special(check):
    x = f32(2, 4, lo=1.2, hi=3.0)
    check(P.acosh, lax.acosh, [x], (0,), out_axes=1)
    check(lambda x: P.round(x, 1), lambda x: lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN), [x * 2], (1,))
    check(lambda x: P.integer_pow(x, 3), lambda x: lax.integer_pow(x, 3), [x], (0,))
    i = i32(2, 4, lo=0, hi=100)
    check(P.bitwise_not, lax.bitwise_not, [i], (1,))
    check(P.population_count, lax.population_count, [i], (0,))
    c = (f32(2, 4) + 1j * f32(2, 4)).astype(np.complex64)
    for n in ("real", "imag", "conj", "abs", "neg", "exp"):
        check(getattr(P, n), getattr(lax, n), [c], (0,), rtol=1e-5, atol=1e-6)


_BINARY = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "atan2", "nextafter",
           "eq", "ne", "lt", "le", "gt", "ge", "complex"]
_AXES2 = [(0, 0), (0, None), (None, 1), (1, 0), (2, 2)]


def test_binary_float(check):
    x, y = f32(2, 4, lo=0.5, hi=2.0), f32(2, 4, lo=0.5, hi=2.0)
    for k, name in enumerate(_BINARY):
        # every in_axes pattern for add; a rotating pair of them for the others (one shared rule)
        for axes in (_AXES2 if name == "add" else [_AXES2[k % 5], _AXES2[(k + 2) % 5]]):
            check(getattr(P, name), getattr(lax, name), [x, y], axes, rtol=1e-5)


def test_binary_int(check):
    x, y = i32(2, 4, lo=0, hi=50), i32(2, 4, lo=0, hi=4)
    axes_list = [(0, 0), (None, 1), (1, None)]
    for k, name in enumerate(["bitwise_and", "bitwise_or", "bitwise_xor", "shift_left",
                              "shift_right_arithmetic", "shift_right_logical"]):
        check(getattr(P, name), getattr(lax, name), [x, y], axes_list[k % 3])
    check(P.bitwise_and, lax.bitwise_and, [boolean(2, 4), boolean(2, 4)], (1, 0))


def test_binary_scalar_operands(check):
    """Rank-0 operands against any shape: batched scalars broadcast properly, unbatched
    scalars stay scalar."""
    x, s = f32(2, 4), np.float32(1.5)
    check(P.mul, lax.mul, [x, s], (1, None))            # unbatched scalar
    check(P.sub, lax.sub, [np.float32(0.5), x], (0, None))  # batched scalar vs unbatched array
    check(P.sub, lax.sub, [np.float32(0.5), x], (0, 1))     # batched scalar vs batched array
    check(P.div, lax.div, [x, np.float32(2.0)], (None, 0), out_axes=2)
    check(P.add, lax.add, [np.float32(0.5), np.float32(2.0)], (0, 0))
    check(P.add, lax.add, [np.float32(0.5), np.float32(2.0)], (None, 0))
    jx = xf.make_jaxpr(xf.vmap(lambda x: P.mul(x, np.float32(2.0))))(batched(x, 0))
    assert [e.prim.name for e in jx.eqns] == ["mul"]


def test_select_n_and_clamp(check):
    p, a, b, c = boolean(2, 4), f32(2, 4), f32(2, 4), f32(2, 4)
    for axes in [(0, 0, 0), (0, None, None), (None, 1, None), (1, None, 0), (None, None, 2)]:
        check(P.select, lax.select, [p, a, b], axes)
    check(P.select, lax.select, [np.bool_(True), a, b], (0, None, 1))  # batched scalar predicate
    check(P.select, lax.select, [np.bool_(True), a, b], (None, 0, None))
    s1, s2 = np.float32(1.5), np.float32(-2.0)
    check(P.select, lax.select, [np.bool_(True), s1, s2], (0, None, None))  # scalars all along
    check(P.select, lax.select, [np.bool_(True), s1, s2], (None, 0, None))
    check(P.clamp, lax.clamp, [np.float32(-1.0), s1, np.float32(1.0)], (0, None, None))
    w = i32(2, 4, lo=0, hi=3)
    check(lambda w, a, b, c: P.select_n(w, a, b, c), lambda w, a, b, c: lax.select_n(w, a, b, c),
          [w, a, b, c], (0, None, 1, 0))
    lo, hi = np.float32(-0.3), np.float32(0.4)
    for axes in [(None, 0, None), (0, 1, None), (0, None, 0), (None, 1, 0)]:
        check(P.clamp, lax.clamp, [lo, a, hi], axes)
    check(P.clamp, lax.clamp, [np.full((2, 4), -0.2, np.float32), a, hi], (1, 0, None))


def test_converts(check):
    x = f32(2, 4)
    check(lambda x: P.convert_element_type(x, np.int32), lambda x: lax.convert_element_type(x, np.int32),
          [x * 10], (1,))
    check(lambda x: P.bitcast_convert_type(x, np.int32), lambda x: lax.bitcast_convert_type(x, np.int32),
          [x], (0,))
    check(lambda x: P.bitcast_convert_type(x, np.uint8), lambda x: lax.bitcast_convert_type(x, np.uint8),
          [x], (2,))
    u = rng.integers(0, 255, (2, 4)).astype(np.uint8)
    check(lambda x: P.bitcast_convert_type(x, np.float32), lambda x: lax.bitcast_convert_type(x, np.float32),
          [u], (1,))
    check(lambda x: P.bitcast_convert_type(x, np.float32), lambda x: lax.bitcast_convert_type(x, np.float32),
          [u], (0,))
    check(P.copy, lambda x: x, [x], (1,), out_axes=0)


# ----------------------------------------------------------------------------- shapes
def test_shape_ops(check):
    x = f32(2, 4)
    for a in (0, 1, 2):
        check(lambda x: P.broadcast_in_dim(x, (3, 2, 4), (1, 2)),
              lambda x: lax.broadcast_in_dim(x, (3, 2, 4), (1, 2)), [x], (a,))
        check(lambda x: P.reshape(x, (8,)), lambda x: lax.reshape(x, (8,)), [x], (a,))
        check(lambda x: P.reshape(x, (4, 1, 2)), lambda x: lax.reshape(x, (4, 1, 2)), [x], (a,), out_axes=2)
        check(lambda x: P.transpose(x, (1, 0)), lambda x: lax.transpose(x, (1, 0)), [x], (a,), out_axes=1)
        check(lambda x: P.rev(x, (1,)), lambda x: lax.rev(x, (1,)), [x], (a,))
        check(lambda x: P.slice(x, (0, 1), (2, 4), (1, 2)), lambda x: lax.slice(x, (0, 1), (2, 4), (1, 2)),
              [x], (a,))
    check(lambda x: P.broadcast_in_dim(x, (2, 4), (1,)), lambda x: lax.broadcast_in_dim(x, (2, 4), (1,)),
          [f32(4)], (0,))
    y = f32(2, 1, 4, 1)
    for a in (0, 2, 4):
        check(lambda x: P.squeeze(x, (1, 3)), lambda x: lax.squeeze(x, (1, 3)), [y], (a,))


def test_concatenate(check):
    x, y = f32(2, 4), f32(3, 4)
    for axes in [(0, 0), (0, None), (None, 1), (2, 0)]:
        check(lambda x, y: P.concatenate([x, y], 0), lambda x, y: lax.concatenate([x, y], 0), [x, y], axes)
    check(lambda x, y: P.concatenate([x, y, x], 1), lambda x, y: lax.concatenate([x, y, x], 1),
          [x, x], (1, None), out_axes=2)


def test_pad(check):
    x = f32(2, 4)
    cfg = ((1, 2, 0), (0, -1, 1))
    for axes in [(0, None), (1, None), (None, 0), (2, 0)]:
        check(lambda x, v: P.pad(x, v, cfg), lambda x, v: lax.pad(x, v, cfg), [x, np.float32(7.0)], axes)


def test_dynamic_slice(check):
    x = f32(5, 4)
    fx = lambda x, i, j: P.dynamic_slice(x, (i, j), (2, 3))  # noqa: E731
    fj = lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3))  # noqa: E731
    i, j = np.int32(1), np.int32(0)
    for axes in [(0, None, None), (1, None, None), (None, 0, None), (None, 0, 0), (2, None, 0), (0, 0, 0)]:
        check(fx, fj, [x, i, j], axes)
    # out-of-range starts are clamped, also when batched
    data = [x, np.array([0, 2, 9], np.int32), np.array([7, 1, 0], np.int32)]
    check(fx, fj, [x, i, j], (None, 0, 0), data=data)
    jx = xf.make_jaxpr(xf.vmap(fx, (None, 0, None)))(x, np.arange(3, dtype=np.int32), j)
    assert "gather" in [e.prim.name for e in jx.eqns]


def test_dynamic_update_slice(check):
    x, u = f32(5, 4), f32(2, 3)
    fx = lambda x, u, i, j: P.dynamic_update_slice(x, u, (i, j))  # noqa: E731
    fj = lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j))  # noqa: E731
    i, j = np.int32(1), np.int32(0)
    for axes in [(0, None, None, None), (None, 1, None, None), (1, 0, None, None), (None, None, 0, None),
                 (0, None, 0, 0), (None, 2, None, 0), (1, 1, 0, 0)]:
        check(fx, fj, [x, u, i, j], axes)
    data = [x, u, np.array([0, 2, 9], np.int32), np.array([7, 1, 0], np.int32)]
    check(fx, fj, [x, u, i, j], (None, None, 0, 0), data=data)


# ----------------------------------------------------------------------------- gather / scatter
_GDN = P.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
_JGDN = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))


def test_gather(check):
    x, idx = f32(5, 4), np.array([[1], [4], [0]], np.int32)
    fx = lambda x, i: P.gather(x, i, _GDN, (1, 4), mode="clip")  # noqa: E731
    fj = lambda x, i: lax.gather(x, i, _JGDN, (1, 4), mode=lax.GatherScatterMode.CLIP)  # noqa: E731
    idx_b = np.array([[[1], [4], [0]], [[2], [2], [3]], [[0], [1], [4]]], np.int32)
    for axes in [(0, None), (1, None), (2, None)]:
        check(fx, fj, [x, idx], axes)
    for axes in [(None, 0), (0, 0), (1, 1), (2, 2)]:
        data = [x if axes[0] is None else batched(x, axes[0]), np.moveaxis(idx_b, 0, axes[1])]
        check(fx, fj, [x, idx], axes, data=data)
    # both batched: one gather pairing operand and indices through batching dimensions
    jx = xf.make_jaxpr(xf.vmap(fx))(batched(x, 0), idx_b)
    (g,) = [e for e in jx.eqns if e.prim.name == "gather"]
    assert g.params["dimension_numbers"].operand_batching_dims == (0,)
    assert g.params["dimension_numbers"].start_indices_batching_dims == (0,)
    # a gather that already has batching dimensions (as produced by an inner vmap)
    dn = P.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(1,), start_index_map=(1,),
                                  operand_batching_dims=(0,), start_indices_batching_dims=(0,))
    jdn = lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(1,), start_index_map=(1,),
                                     operand_batching_dims=(0,), start_indices_batching_dims=(0,))
    y, idy = f32(5, 4), np.array([[1], [3], [0], [2], [3]], np.int32)
    fx2 = lambda x, i: P.gather(x, i, dn, (1, 1), mode="clip")  # noqa: E731
    fj2 = lambda x, i: lax.gather(x, i, jdn, (1, 1), mode=lax.GatherScatterMode.CLIP)  # noqa: E731
    for axes in [(0, None), (None, 0), (2, 1)]:
        data = [y if axes[0] is None else batched(y, axes[0]),
                idy if axes[1] is None else np.stack([idy, (idy + 1) % 4, (idy + 2) % 4], axes[1])]
        check(fx2, fj2, [y, idy], axes, data=data)


_SDN = P.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                 scatter_dims_to_operand_dims=(0,))
_JSDN = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                    scatter_dims_to_operand_dims=(0,))


@pytest.mark.parametrize("name", ["scatter", "scatter_add|scatter_mul|scatter_min|scatter_max"])
def test_scatter(name, check):
    x, idx, u = f32(5, 4), np.array([[1], [3]], np.int32), f32(2, 4)
    idx_b = np.array([[[1], [3]], [[0], [4]], [[2], [1]]], np.int32)
    all_axes = [(0, None, None), (None, None, 0), (1, None, 2), (None, 0, None), (0, 0, 0),
                (None, 1, 1), (2, 0, None)]
    for k, n in enumerate(name.split("|")):
        fx = lambda x, i, u, n=n: getattr(P, n)(x, i, u, _SDN, mode="fill", unique_indices=True)  # noqa: E731
        fj = lambda x, i, u, n=n: getattr(lax, n)(x, i, u, _JSDN, unique_indices=True,  # noqa: E731
                                                  mode=lax.GatherScatterMode.FILL_OR_DROP)
        # every pattern for scatter; the others share its rule: two patterns each
        for axes in (all_axes if n == "scatter" else [all_axes[k], all_axes[k + 3]]):
            data = [x if axes[0] is None else batched(x, axes[0]),
                    idx if axes[1] is None else np.moveaxis(idx_b, 0, axes[1]),
                    u if axes[2] is None else batched(u, axes[2])]
            check(fx, fj, [x, idx, u], axes, data=data)
    jx = xf.make_jaxpr(xf.vmap(fx))(batched(x, 0), idx_b, batched(u, 0))
    (sc,) = [e for e in jx.eqns if e.prim.name.startswith("scatter")]
    assert sc.params["dimension_numbers"].operand_batching_dims == (0,)


# ----------------------------------------------------------------------------- reductions, scans, sort
def test_reductions(check):
    x = f32(2, 4, lo=0.5, hi=1.5)
    for k, name in enumerate(["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"]):
        for axes_red in [(0,), (1,), (0, 1)]:
            for a in ((0, 1, 2) if k == 0 else (k % 3,)):
                check(lambda x, r=axes_red, n=name: getattr(P, n)(x, r),
                      lambda x, r=axes_red, n=name: getattr(lax, n)(x, r), [x], (a,), rtol=1e-5)


def test_bool_int_reductions(check):
    b = boolean(2, 4)
    for name in ("reduce_and", "reduce_or", "reduce_xor"):
        for a in (0, 2):
            check(lambda x, n=name: getattr(P, n)(x, (1,)), lambda x, n=name: getattr(lax, n)(x, (1,)), [b], (a,))
    check(lambda x: P.reduce_xor(x, (0,)), lambda x: lax.reduce_xor(x, (0,)), [i32(2, 4)], (1,))


def test_argminmax(check):
    x = f32(3, 4)
    for name in ("argmax", "argmin"):
        for ax in (0, 1):
            for a in (0, 1, 2):
                check(lambda x, n=name, ax=ax: getattr(P, n)(x, ax, np.int32),
                      lambda x, n=name, ax=ax: getattr(lax, n)(x, ax, np.int32),
                      [x], (a,))


def test_cumulative(check):
    x = f32(2, 4, lo=0.5, hi=1.5)
    variants = [(0, False, 0), (1, True, 0), (1, False, 2), (0, True, 1)]
    for k, name in enumerate(["cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"]):
        for ax, rev, a in (variants if k == 0 else [variants[k % 4], variants[(k + 1) % 4]]):
            check(lambda x, ax=ax, rev=rev, n=name: getattr(P, n)(x, ax, rev),
                  lambda x, ax=ax, rev=rev, n=name: getattr(lax, n)(x, ax, rev), [x], (a,), rtol=1e-5)


def test_sort(check):
    x, y = f32(3, 4), i32(3, 4)
    for a in (0, 1, 2):
        check(lambda x: P.sort(x, 1), lambda x: lax.sort(x, 1), [x], (a,))
        check(lambda x: P.sort(x, 0), lambda x: lax.sort(x, 0), [x], (a,))
    for axes in [(0, None), (None, 1), (1, 2)]:
        check(lambda x, y: P.sort((x, y), 1, num_keys=1), lambda x, y: lax.sort((x, y), 1, num_keys=1),
              [x, y], axes)


def test_iota(check):
    x = f32(4)
    check(lambda x: P.add(x, P.convert_element_type(P.iota(np.int32, 4), np.float32)),
          lambda x: x + lax.iota(np.int32, 4).astype(np.float32), [x], (0,))
    jx = xf.make_jaxpr(xf.vmap(lambda x: P.iota(np.int32, 4)))(batched(x, 0))
    assert jx.out_avals[0].shape == (B, 4)


# ----------------------------------------------------------------------------- dot_general
_DOT_CASES = [
    ((2, 3), (3, 4), (((1,), (0,)), ((), ()))),
    ((3,), (3,), (((0,), (0,)), ((), ()))),
    ((2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    ((3, 2), (4, 3), (((0,), (1,)), ((), ()))),
    ((2, 3), (4,), (((), ()), ((), ()))),
]


@pytest.mark.parametrize("case", range(len(_DOT_CASES)))
def test_dot_general(case, check):
    sx, sy, dn = _DOT_CASES[case]
    x, y = f32(*sx), f32(*sy)
    fx = lambda x, y: P.dot_general(x, y, dn)  # noqa: E731
    fj = lambda x, y: lax.dot_general(x, y, dn)  # noqa: E731
    for k, axes in enumerate([(0, 0), (0, None), (None, 0), (len(sx), 1), (1, None), (None, len(sy))]):
        check(fx, fj, [x, y], axes, out_axes=-(k % 2), rtol=1e-5, atol=1e-5)
        # batched through dot_general's batch dimensions: one dot_general, no loop
        data = [x if axes[0] is None else batched(x, axes[0]), y if axes[1] is None else batched(y, axes[1])]
        jx = xf.make_jaxpr(xf.vmap(fx, axes))(*data)
        names = [e.prim.name for e in jx.eqns]
        assert names.count("dot_general") == 1 and "broadcast_in_dim" not in names, names


# ----------------------------------------------------------------------------- jit
def test_jit_primitive(check):
    g = xf.jit(lambda a, b: P.add(P.mul(a, b), P.sin(b)))
    x, y = f32(2, 4), f32(2, 4)
    for axes in [(0, 0), (None, 1), (2, None)]:
        check(g, lambda a, b: a * b + jnp.sin(b), [x, y], axes)
    # the batched call stays a jit call; its graph is batched (cached per graph and dims)
    jx = xf.make_jaxpr(xf.vmap(g, (None, 1)))(x, batched(y, 1))
    assert [e.prim.name for e in jx.eqns] == ["jit"]
    inner = jx.eqns[0].params["graph"]
    inner = getattr(inner, "graph", inner)
    assert inner.out_avals[0].shape in [(B, 2, 4), (2, B, 4)]
    jx2 = xf.make_jaxpr(xf.vmap(g, (None, 1)))(x, batched(y, 1))
    assert jx2.eqns[0].params["graph"] is jx.eqns[0].params["graph"]


def test_batch_graph_forces_outputs_and_caches():
    from xlafront.transforms.batching import batch_graph
    closed = xf.make_jaxpr(lambda a, b: (P.mul(a, b), P.neg(b)))(f32(2), f32(2))
    g1 = batch_graph(closed, (0, None), B)
    assert g1[2] == (0, None)
    assert batch_graph(closed, (0, None), B) is g1
    new, consts, dims = batch_graph(closed, (0, None), B, force_batched=(True, True))
    assert dims == (0, 0) and [a.shape for a in new.out_avals] == [(B, 2), (B, 2)]
    a, b = batched(f32(2), 0), f32(2)
    outs = xf.core.eval_graph(new, [], [*consts, a, b])
    np.testing.assert_allclose(np.asarray(outs[0]), a * b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(outs[1]), np.broadcast_to(-b, (B, 2)))


def test_leading_batch_rule_helper():
    """The rule offered to primitives that take leading batch dims (here: atan2, which does)."""
    from xlafront.transforms.batching import leading_batch_rule
    rule = leading_batch_rule(P.atan2_p)
    x, y = f32(3, 4), f32(3)
    out, d = rule([x, y], [1, None])
    assert d == 0
    ref = jax.vmap(lax.atan2, (1, None))(x, y)
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-6)


def test_elementwise_rule_random_layouts(check):
    """Random ranks (scalars included), batch axes and unbatched operands for n-ary
    elementwise primitives: every branch of the rule (agreeing axes, moved axes,
    broadcast unbatched arrays, broadcast batched scalars, kept unbatched scalars)."""
    r = np.random.default_rng(7)
    for k in range(24):
        rank = int(r.integers(0, 3))
        shape = tuple(int(s) for s in r.integers(1, 4, rank))
        coin = lambda: bool(r.random() < 0.4)  # noqa: E731
        kind = k % 3
        if kind == 0:    # atan2: each operand a scalar or of the shape
            shapes = [() if coin() else shape, () if coin() else shape]
        elif kind == 1:  # select: cases share a shape, the predicate is a scalar or of it
            case = () if coin() else shape
            shapes = [() if coin() else case, case, case]
        else:            # clamp: the operand has the shape, the bounds are scalars or of it
            shapes = [() if coin() else shape, shape, () if coin() else shape]
        example = [f32(*s) for s in shapes]
        if kind == 1:
            example[0] = np.asarray(example[0] > 0)
        if kind == 2:
            example[0] = example[0] * 0 - 0.5
            example[2] = example[2] * 0 + 0.5
        axes = [None if coin() else int(r.integers(0, len(s) + 1)) for s in shapes]
        if all(a is None for a in axes) or (kind == 2 and rank == 0 and axes[2] is not None):
            axes[1] = 0  # (jax.vmap itself fails on a batched `max` against an unbatched scalar operand)
        out_rank = max(len(s) for s in shapes)
        fns = [(P.atan2, lax.atan2), (P.select, lax.select), (P.clamp, lax.clamp)][kind]
        check(*fns, example, tuple(axes), out_axes=int(r.integers(0, out_rank + 1)))
