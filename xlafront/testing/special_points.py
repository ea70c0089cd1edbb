"""The special-point table: public functions of xlafront checked against JAX at the points
where implementations go wrong (ties, +-0, +-1, tiny, huge, +-inf, NaN, domain edges,
empty arrays, 0-d).

Each function is ONE line of `TABLE`:

    S("numpy.sin", U, "vdwgjb")

    name      a dotted path resolved both under `xlafront` and under `jax` ("numpy.sin" is
              `xlafront.numpy.sin` vs `jax.numpy.sin`), or `("id", lambda m, *args: ...)` where `m`
              is the root module (`xlafront` or `jax`) and `args` are arrays of that library
    kind      how it is called and on what (see KINDS): U unary elementwise, B binary
              elementwise, R reduction with axis, C cumulative with axis, L linalg square
              matrix, V/W/M custom calls on a small vector / two vectors / a matrix
    checks    letters: v value, d dtype, w weak_type, g grad, j jvp, b vmap
    dtypes    "f" float32 points (default), "i" int32 points, "b" bool points
    dom       which float points: "all" (default), "pos" (>= 0 and NaN/inf), "unit" ([-1, 1]
              edges and just outside), "small" (|x| <= 3.5, +-inf, NaN)

Every check evaluates the function ONCE on the vector of all points (binary: the cross product
of two point vectors, flattened), eagerly, under xlafront and JAX, and compares: values with
NaN positions, inf signs and zero signs exact and the rest to a dtype tolerance (ints exact),
dtypes, weak types, `grad` of the sum of the outputs, `jvp` with a tangent of ones, and
`vmap` over the leading axis against JAX's vmap and against the unbatched call.

JAX's results are stored: `tests/golden/special_points_jax.pkl.gz` (gzip pickle of
{"jax_version", "results": {(entry, check, "jax"): [numpy leaves with dtype and weak type, or
("raised", builtin error class, message)]}}) is what `tests/test_special_points.py` compares
xlafront with, so `make test` runs only xlafront. Regenerate it after changing the table or
JAX's version (the test fails loudly on a missing case or another JAX version):

    python -m xlafront.testing.special_points --regenerate [--report FILE]

`--report FILE` checks every case and writes the failing ones (tab-separated) to FILE.
`JAX_SOURCE` says where JAX's side comes from: "live" (the module's default) runs JAX,
"golden" (set by the test) reads the file.

JAX is imported lazily, inside the functions: xlafront never imports it at module level.
"""
from __future__ import annotations

import builtins
import dataclasses
import gzip
import importlib
import math
import os
import pickle
from typing import Any, Callable

import numpy as np

# ----------------------------------------------------------------------------- points
F32_TINY = float(np.finfo(np.float32).tiny)
F32_MAX = float(np.finfo(np.float32).max)
INF, NAN = math.inf, math.nan

FLOAT_POINTS = {
    "all": [-INF, -F32_MAX, -1e10, -3.5, -2.5, -2.0, -1.5, -1.0, -0.5, -F32_TINY, -0.0, 0.0,
            F32_TINY, 0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 1e10, F32_MAX, INF, NAN],
    "pos": [0.0, -0.0, F32_TINY, 0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 1e10, F32_MAX, INF, NAN],
    # JAX 0.10.2's exp1/expn never return on an array that mixes a tiny x (F32_TINY) with
    # x >= 1 (each alone returns): their entries leave F32_TINY out
    "pos_no_tiny": [0.0, -0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 1e10, F32_MAX, INF, NAN],
    "unit": [-INF, -1.5, -1.0, -0.999, -0.5, -0.0, 0.0, F32_TINY, 0.5, 0.999, 1.0, 1.5, INF, NAN],
    "small": [-INF, -3.5, -2.5, -2.0, -1.5, -1.0, -0.5, -0.0, 0.0, F32_TINY, 0.5, 1.0, 1.5, 2.0,
              2.5, 3.5, INF, NAN],
}
# the (shorter) vector whose cross product with itself feeds binary functions
FLOAT_PAIR_POINTS = {
    "all": [-INF, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, INF, NAN],
    "pos": [0.0, 0.5, 1.0, 2.0, 2.5, 1e10, INF, NAN],
    "unit": [-1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 1.5, NAN],
    "small": [-2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, INF, NAN],
}
INT_POINTS = [-2**31, -7, -2, -1, 0, 1, 2, 3, 7, 2**31 - 1]
INT_PAIR_POINTS = [-7, -2, -1, 0, 1, 2, 3, 7]
BOOL_POINTS = [False, True]


def float_points(dom="all"):
    return np.array(FLOAT_POINTS[dom], np.float32)


def pair_points(dtype, dom="all"):
    if dtype == "i":
        p = np.array(INT_PAIR_POINTS, np.int32)
    elif dtype == "b":
        p = np.array(BOOL_POINTS, np.bool_)
    else:
        p = np.array(FLOAT_PAIR_POINTS[dom], np.float32)
    x, y = np.meshgrid(p, p, indexing="ij")
    return x.ravel(), y.ravel()


# small arrays for reductions, each with the axis to reduce over
def reduction_cases(dtype="f"):
    if dtype == "i":
        return [(np.array([3, 1, 3], np.int32), None), (np.array([], np.int32), None),
                (np.array(7, np.int32), None),
                (np.array([[1, -2, 3], [2**31 - 1, 0, -1]], np.int32), 0),
                (np.array([[1, -2, 3], [4, 0, -1]], np.int32), 1)]
    if dtype == "b":
        return [(np.array([True, False, True]), None), (np.array([], np.bool_), None),
                (np.array([[True, False], [True, True]]), 1)]
    f = np.float32
    return [
        (np.array([INF, 1, INF], f), None),      # ties at inf
        (np.array([NAN, 1], f), None),
        (np.array([-INF, INF], f), None),
        (np.array([1, 2, 2, 1], f), None),        # ties for arg-reductions
        (np.array([0.0, -0.0], f), None),          # signed zeros
        (np.array([], f), None),                   # empty
        (np.array(2.5, f), None),                  # 0-d
        (np.array([[1, -INF, 0.5], [-0.0, 2, 1]], f), 0),
        (np.array([[1, 3, 0.5], [-0.5, 2, 1]], f), 1),
        (np.zeros((2, 0), f), 1),                  # reduce over an empty axis
    ]


def square_matrices():
    f = np.float32
    r = np.random.RandomState(0)
    a = r.randn(2, 3, 3).astype(f)
    spd = (a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3, dtype=f)).astype(f)
    return [np.eye(3, dtype=f), np.array([[4, 2], [1, 3]], f), np.array([[2, 1], [1, 2]], f),
            spd, np.zeros((0, 0), f), np.array([[2.0]], f)]


def singular_matrices():
    f = np.float32
    return [np.array([[1, 2], [2, 4]], f), np.zeros((2, 2), f), np.array([[NAN, 1], [1, 2]], f)]


VEC = np.array([3.0, -1.0, 0.5, -0.0, 2.0, 2.0], np.float32)       # ties, signed zero
VEC2 = np.array([0.5, 2.0, -1.5, 1.0, 0.0, -2.0], np.float32)
MAT = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], np.float32)


# ----------------------------------------------------------------------------- the table
U, B, R, C, L, LS, V, W, M = "U", "B", "R", "C", "L", "LS", "V", "W", "M"
KINDS = {
    U: "unary elementwise on the point vector",
    B: "binary elementwise on the cross product of two point vectors",
    R: "reduction f(x, axis=a) on the small reduction arrays",
    C: "cumulative f(x, axis=a) on the small reduction arrays",
    L: "linalg on square matrices (identity, 2x2, SPD batch, 0x0, 1x1)",
    LS: "linalg on singular / NaN matrices",
    V: "custom f(m, x) on a small vector with ties and -0",
    W: "custom f(m, x, y) on two small vectors",
    M: "custom f(m, x) on a 2x3 matrix",
}


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    fn: Any              # dotted path or callable (m, *args)
    kind: str
    checks: str = "vdwgjb"
    dtypes: str = "f"
    dom: str = "all"
    rtol: float = 1e-5

    def __repr__(self):
        return f"Entry({self.name!r}, {self.kind}, {self.checks!r})"


def S(fn, kind, checks="vdwgjb", dtypes="f", dom="all", rtol=1e-5, name=None):
    if isinstance(fn, tuple):
        name, fn = fn
    return Entry(name or fn, fn, kind, checks, dtypes, dom, rtol)


A = "vdwgjb"    # all checks
ND = "vdwb"     # no derivatives (integer/bool output, or piecewise constant)
SP = 1e-4       # tolerance for special functions (different but correct polynomial paths)

TABLE = [
    # --- numpy unary, float
    S("numpy.sin", U, A, "fi"), S("numpy.cos", U, A, "fi"), S("numpy.tan", U, A, "f"),
    S("numpy.arcsin", U, A, dom="unit"), S("numpy.arccos", U, A, dom="unit"),
    S("numpy.arctan", U, A), S("numpy.sinh", U, A), S("numpy.cosh", U, A),
    S("numpy.tanh", U, A), S("numpy.arcsinh", U, A), S("numpy.arccosh", U, A),
    S("numpy.arctanh", U, A, dom="unit"), S("numpy.exp", U, A, "fi"), S("numpy.exp2", U, A),
    S("numpy.expm1", U, A), S("numpy.log", U, A, "fi"), S("numpy.log2", U, A),
    S("numpy.log10", U, A), S("numpy.log1p", U, A), S("numpy.sqrt", U, A, "fi"),
    S("numpy.cbrt", U, A), S("numpy.square", U, A, "fi"), S("numpy.abs", U, A, "fib"),
    S("numpy.absolute", U, A, "fi"), S("numpy.fabs", U, A), S("numpy.negative", U, A, "fi"),
    S("numpy.positive", U, A, "fi"), S("numpy.sign", U, A, "fi"), S("numpy.floor", U, A, "fi"),
    S("numpy.ceil", U, A, "fi"), S("numpy.trunc", U, A, "fi"), S("numpy.rint", U, A),
    S("numpy.round", U, A, "fi"), S("numpy.reciprocal", U, A, "fi"),
    S("numpy.deg2rad", U, A), S("numpy.rad2deg", U, A), S("numpy.sinc", U, A),
    S("numpy.signbit", U, ND, "fi"), S("numpy.isnan", U, ND, "fi"), S("numpy.isinf", U, ND),
    S("numpy.isfinite", U, ND, "fi"), S("numpy.isposinf", U, ND), S("numpy.isneginf", U, ND),
    S("numpy.nan_to_num", U, A), S("numpy.i0", U, A, rtol=SP, dom="small"),
    S("numpy.real", U, A), S("numpy.imag", U, A), S("numpy.conj", U, A), S("numpy.angle", U, A),
    S("numpy.spacing", U, "vdwb"), S("numpy.frexp", U, "vdwb"), S("numpy.modf", U, A),
    S("numpy.logical_not", U, ND, "fib"), S("numpy.invert", U, ND, "ib"),
    S("numpy.bitwise_not", U, ND, "ib"), S("numpy.degrees", U, A), S("numpy.radians", U, A),
    S("numpy.float_power", B, A, dom="small"), S("numpy.heaviside", B, A),
    # --- numpy binary
    S("numpy.add", B, A, "fib"), S("numpy.subtract", B, A, "fi"), S("numpy.multiply", B, A, "fib"),
    S("numpy.divide", B, A, "fi"), S("numpy.true_divide", B, A), S("numpy.floor_divide", B, A, "fi"),
    S("numpy.power", B, A, "fi"), S("numpy.maximum", B, A, "fib"), S("numpy.minimum", B, A, "fib"),
    S("numpy.fmax", B, A), S("numpy.fmin", B, A), S("numpy.arctan2", B, A),
    S("numpy.hypot", B, A), S("numpy.logaddexp", B, A), S("numpy.logaddexp2", B, A),
    S("numpy.copysign", B, A), S("numpy.nextafter", B, ND), S("numpy.fmod", B, A, "fi"),
    S("numpy.remainder", B, A, "fi"), S("numpy.mod", B, A, "fi"), S("numpy.divmod", B, A, "fi"),
    S(("numpy.ldexp", lambda m, x: m.numpy.ldexp(x, np.int32(3))), U, A),
    S("numpy.equal", B, ND, "fib"), S("numpy.not_equal", B, ND, "fib"), S("numpy.less", B, ND, "fi"),
    S("numpy.less_equal", B, ND, "fi"), S("numpy.greater", B, ND, "fi"),
    S("numpy.greater_equal", B, ND, "fi"), S("numpy.logical_and", B, ND, "fb"),
    S("numpy.logical_or", B, ND, "fb"), S("numpy.logical_xor", B, ND, "fb"),
    S("numpy.isclose", B, ND), S("numpy.bitwise_and", B, ND, "ib"), S("numpy.bitwise_or", B, ND, "ib"),
    S("numpy.bitwise_xor", B, ND, "ib"), S("numpy.left_shift", B, ND, "i"),
    S("numpy.right_shift", B, ND, "i"), S("numpy.gcd", B, ND, "i"), S("numpy.lcm", B, ND, "i"),
    S("scipy.special.xlogy", B, A), S("scipy.special.xlog1py", B, A),
    # --- numpy reductions
    S("numpy.sum", R, A, "fib"), S("numpy.prod", R, A, "fi"), S("numpy.max", R, A, "fib"),
    S("numpy.min", R, A, "fi"), S("numpy.amax", R, A), S("numpy.amin", R, A), S("numpy.mean", R, A, "fib"),
    S("numpy.std", R, A, "fi"), S("numpy.var", R, A, "fi"), S("numpy.median", R, A),
    S("numpy.average", R, A), S("numpy.ptp", R, A, "fi"), S("numpy.any", R, ND, "fib"),
    S("numpy.all", R, ND, "fib"), S("numpy.argmax", R, ND, "fi"), S("numpy.argmin", R, ND, "fi"),
    S("numpy.nanmax", R, A), S("numpy.nanmin", R, A), S("numpy.nansum", R, A),
    S("numpy.nanprod", R, A), S("numpy.nanmean", R, A), S("numpy.nanstd", R, A),
    S("numpy.nanvar", R, A), S("numpy.nanmedian", R, A), S("numpy.nanargmax", R, ND),
    S("numpy.nanargmin", R, ND), S("numpy.count_nonzero", R, ND, "fib"),
    S("scipy.special.logsumexp", R, A), S("nn.logsumexp", R, A), S("nn.softmax", R, A),
    S("nn.log_softmax", R, A), S("nn.standardize", R, A),
    S(("numpy.quantile", lambda m, x, axis: m.numpy.quantile(x, 0.5, axis=axis)), R, A),
    S(("numpy.quantile[q=0.25]", lambda m, x, axis: m.numpy.quantile(x, 0.25, axis=axis)), R, A),
    S(("numpy.percentile", lambda m, x, axis: m.numpy.percentile(x, 75.0, axis=axis)), R, A),
    S(("numpy.nanquantile", lambda m, x, axis: m.numpy.nanquantile(x, 0.5, axis=axis)), R, A),
    S(("numpy.nanpercentile", lambda m, x, axis: m.numpy.nanpercentile(x, 30.0, axis=axis)), R, A),
    S(("numpy.linalg.norm[vec]", lambda m, x, axis: m.numpy.linalg.norm(x, axis=axis)), R, A),
    S(("numpy.linalg.norm[ord=1]", lambda m, x, axis: m.numpy.linalg.norm(x, ord=1, axis=axis)), R, A),
    S(("numpy.linalg.norm[ord=inf]", lambda m, x, axis: m.numpy.linalg.norm(x, ord=m.numpy.inf, axis=axis)), R, A),
    S(("numpy.var[ddof=1]", lambda m, x, axis: m.numpy.var(x, axis=axis, ddof=1)), R, A),
    S(("numpy.std[ddof=1]", lambda m, x, axis: m.numpy.std(x, axis=axis, ddof=1)), R, A),
    S(("numpy.sum[keepdims]", lambda m, x, axis: m.numpy.sum(x, axis=axis, keepdims=True)), R, A),
    S(("numpy.max[initial]", lambda m, x, axis: m.numpy.max(x, axis=axis, initial=-5.0)), R, A),
    S(("lax.reduce_max", lambda m, x, axis: m.lax.reduce_max(x, tuple(range(m.numpy.ndim(x))) if axis is None else (axis,))), R, A),
    S(("lax.reduce_sum", lambda m, x, axis: m.lax.reduce_sum(x, tuple(range(m.numpy.ndim(x))) if axis is None else (axis,))), R, A),
    S(("lax.reduce_prod", lambda m, x, axis: m.lax.reduce_prod(x, tuple(range(m.numpy.ndim(x))) if axis is None else (axis,))), R, A),
    S(("lax.reduce_min", lambda m, x, axis: m.lax.reduce_min(x, tuple(range(m.numpy.ndim(x))) if axis is None else (axis,))), R, A),
    # --- cumulative / sorting / along-axis
    S("numpy.cumsum", C, A, "fib"), S("numpy.cumprod", C, A, "fi"), S("numpy.nancumsum", C, A),
    S("numpy.nancumprod", C, A), S("numpy.cumulative_sum", C, A, "fi"),
    S("numpy.cumulative_prod", C, A), S("numpy.sort", C, A, "fi"), S("numpy.argsort", C, ND, "fi"),
    S("numpy.flip", C, A, "fib"), S("numpy.diff", C, A, "fi"),
    S(("lax.cummax", lambda m, x, axis: m.lax.cummax(x, axis=0 if axis is None else axis)), C, A, "fi"),
    S(("lax.cummin", lambda m, x, axis: m.lax.cummin(x, axis=0 if axis is None else axis)), C, A),
    S(("lax.cumsum", lambda m, x, axis: m.lax.cumsum(x, axis=0 if axis is None else axis)), C, A),
    S(("lax.cumprod", lambda m, x, axis: m.lax.cumprod(x, axis=0 if axis is None else axis)), C, A),
    S(("lax.cumlogsumexp", lambda m, x, axis: m.lax.cumlogsumexp(x, axis=0 if axis is None else axis)), C, A),
    S(("lax.cumsum[reverse]", lambda m, x, axis: m.lax.cumsum(x, axis=0 if axis is None else axis, reverse=True)), C, A),
    S(("numpy.roll", lambda m, x, axis: m.numpy.roll(x, 1, axis=axis)), C, A, "fi"),
    S(("numpy.sort[descending]", lambda m, x, axis: m.numpy.sort(x, axis=-1 if axis is None else axis, descending=True)), C, A),
    # --- lax elementwise
    S("lax.abs", U, A, "fi"), S("lax.neg", U, A, "fi"), S("lax.sign", U, A, "fi"),
    S("lax.floor", U, A), S("lax.ceil", U, A), S("lax.round", U, A), S("lax.is_finite", U, ND),
    S("lax.exp", U, A), S("lax.exp2", U, A), S("lax.expm1", U, A), S("lax.log", U, A),
    S("lax.log1p", U, A), S("lax.tanh", U, A), S("lax.logistic", U, A), S("lax.sin", U, A),
    S("lax.cos", U, A), S("lax.tan", U, A), S("lax.asin", U, A, dom="unit"),
    S("lax.acos", U, A, dom="unit"), S("lax.atan", U, A), S("lax.sinh", U, A), S("lax.cosh", U, A),
    S("lax.asinh", U, A), S("lax.acosh", U, A), S("lax.atanh", U, A, dom="unit"),
    S("lax.lgamma", U, A, rtol=SP), S("lax.digamma", U, A, rtol=SP), S("lax.erf", U, A),
    S("lax.erfc", U, A, rtol=SP), S("lax.erf_inv", U, A, dom="unit", rtol=SP),
    S("lax.bessel_i0e", U, A, rtol=SP), S("lax.bessel_i1e", U, A, rtol=SP), S("lax.sqrt", U, A),
    S("lax.rsqrt", U, A), S("lax.cbrt", U, A), S("lax.square", U, A), S("lax.real", U, A),
    S("lax.population_count", U, ND, "i"), S("lax.clz", U, ND, "i"), S("lax.not_", U, ND, "ib"),
    S(("lax.integer_pow[3]", lambda m, x: m.lax.integer_pow(x, 3)), U, A, "fi"),
    S(("lax.integer_pow[-2]", lambda m, x: m.lax.integer_pow(x, -2)), U, A),
    S(("lax.integer_pow[0]", lambda m, x: m.lax.integer_pow(x, 0)), U, A),
    S(("lax.reduce_precision", lambda m, x: m.lax.reduce_precision(x, 5, 10)), U, A),
    S(("lax.round[even]", lambda m, x: m.lax.round(x, m.lax.RoundingMethod.TO_NEAREST_EVEN)), U, A),
    S(("lax.convert_element_type[i32]", lambda m, x: m.lax.convert_element_type(x, np.int32)), U, ND, "fi"),
    S(("lax.convert_element_type[bool]", lambda m, x: m.lax.convert_element_type(x, np.bool_)), U, ND, "fi"),
    S(("numpy.astype[uint8]", lambda m, x: x.astype(np.uint8)), U, ND, "fi"),
    S(("lax.clamp", lambda m, x: m.lax.clamp(np.float32(-1.0), x, np.float32(2.0))), U, A),
    S("lax.pow", B, A), S("lax.atan2", B, A), S("lax.rem", B, A, "fi"), S("lax.nextafter", B, ND),
    S("lax.max", B, A, "fi"), S("lax.min", B, A), S("lax.add", B, A, "fi"), S("lax.sub", B, A),
    S("lax.mul", B, A, "fi"), S("lax.div", B, A, "fi"), S("lax.igamma", B, A, dom="pos", rtol=SP),
    S("lax.igammac", B, A, dom="pos", rtol=SP), S("lax.zeta", B, "vdwb", dom="pos", rtol=SP),
    S("lax.shift_left", B, ND, "i"), S("lax.shift_right_logical", B, ND, "i"),
    S("lax.shift_right_arithmetic", B, ND, "i"),
    S(("lax.polygamma[1]", lambda m, x: m.lax.polygamma(np.float32(1.0), x)), U, "vdwb", rtol=SP),
    # --- nn
    S("nn.relu", U, A), S("nn.relu6", U, A), S("nn.sigmoid", U, A), S("nn.softplus", U, A),
    S("nn.soft_sign", U, A), S("nn.silu", U, A), S("nn.swish", U, A), S("nn.log_sigmoid", U, A),
    S("nn.leaky_relu", U, A), S("nn.hard_tanh", U, A), S("nn.elu", U, A), S("nn.celu", U, A),
    S("nn.selu", U, A), S("nn.gelu", U, A),
    S(("nn.gelu[exact]", lambda m, x: m.nn.gelu(x, approximate=False)), U, A),
    S("nn.hard_sigmoid", U, A), S("nn.hard_silu", U, A), S("nn.mish", U, A),
    S("nn.sparse_plus", U, A), S("nn.squareplus", U, A), S("nn.sparse_sigmoid", U, A),
    S(("nn.one_hot", lambda m, x: m.nn.one_hot(x, 4)), U, "vdwb", "fi"),
    S(("nn.glu", lambda m, x: m.nn.glu(x)), M, A),
    # --- scipy.special
    S("scipy.special.gammaln", U, A, rtol=SP), S("scipy.special.digamma", U, A, rtol=SP),
    S("scipy.special.erf", U, A), S("scipy.special.erfc", U, A, rtol=SP),
    S("scipy.special.erfinv", U, A, dom="unit", rtol=SP), S("scipy.special.expit", U, A),
    S("scipy.special.logit", U, A, dom="unit"), S("scipy.special.ndtr", U, A, rtol=SP),
    S("scipy.special.ndtri", U, A, dom="unit", rtol=SP), S("scipy.special.log_ndtr", U, A, rtol=SP),
    S("scipy.special.i0", U, A, rtol=SP), S("scipy.special.i0e", U, A, rtol=SP),
    S("scipy.special.i1", U, A, rtol=SP), S("scipy.special.i1e", U, A, rtol=SP),
    S("scipy.special.entr", U, A), S("scipy.special.gamma", U, A, rtol=SP, dom="small"),
    S("scipy.special.factorial", U, "vdwb", rtol=SP, dom="small"),
    S("scipy.special.erfcx", U, A, rtol=SP), S("scipy.special.spence", U, A, dom="pos", rtol=SP),
    S("scipy.special.expi", U, A, rtol=SP, dom="small"),
    S("scipy.special.exp1", U, A, dom="pos_no_tiny", rtol=SP),
    S("scipy.special.gammainc", B, A, dom="pos", rtol=SP),
    S("scipy.special.gammaincc", B, A, dom="pos", rtol=SP),
    S("scipy.special.betaln", B, A, dom="pos", rtol=SP),
    S("scipy.special.beta", B, A, dom="pos", rtol=SP),
    S("scipy.special.zeta", B, "vdwb", dom="pos", rtol=SP),
    S("scipy.special.kl_div", B, A, dom="pos"), S("scipy.special.rel_entr", B, A, dom="pos"),
    S("scipy.special.poch", B, A, dom="pos", rtol=SP),
    S(("scipy.special.polygamma[1]", lambda m, x: m.scipy.special.polygamma(1, x)), U, "vdwb", rtol=SP),
    S(("scipy.special.polygamma[2]", lambda m, x: m.scipy.special.polygamma(2, x)), U, "vdwb", rtol=SP, dom="pos"),
    S(("scipy.special.multigammaln", lambda m, x: m.scipy.special.multigammaln(x, 2)), U, A, dom="pos", rtol=SP),
    S(("scipy.special.expn[2]", lambda m, x: m.scipy.special.expn(2, x)), U, A, dom="pos_no_tiny", rtol=SP),
    S(("scipy.special.betainc", lambda m, x: m.scipy.special.betainc(np.float32(2.0), np.float32(3.0), x)), U, "vdwb", dom="unit", rtol=SP),
    S(("scipy.special.betainc[a]", lambda m, x: m.scipy.special.betainc(x, np.float32(3.0), np.float32(0.5))), U, "vdwb", dom="pos", rtol=SP),
    S(("scipy.special.hyp1f1", lambda m, x: m.scipy.special.hyp1f1(np.float32(1.5), np.float32(2.0), x)), U, "vdwgjb", dom="small", rtol=SP),
    S(("scipy.special.softmax", lambda m, x: m.scipy.special.softmax(x)), V, A),
    # --- scipy.stats
    S("scipy.stats.norm.pdf", U, A), S("scipy.stats.norm.cdf", U, A, rtol=SP),
    S("scipy.stats.norm.logpdf", U, A), S("scipy.stats.norm.logcdf", U, A, rtol=SP),
    S("scipy.stats.norm.ppf", U, A, dom="unit", rtol=SP), S("scipy.stats.norm.sf", U, A, rtol=SP),
    S("scipy.stats.norm.isf", U, A, dom="unit", rtol=SP), S("scipy.stats.norm.logsf", U, A, rtol=SP),
    S("scipy.stats.cauchy.pdf", U, A), S("scipy.stats.cauchy.cdf", U, A),
    S("scipy.stats.laplace.pdf", U, A), S("scipy.stats.laplace.cdf", U, A),
    S("scipy.stats.logistic.pdf", U, A), S("scipy.stats.logistic.cdf", U, A),
    S("scipy.stats.logistic.ppf", U, A, dom="unit"), S("scipy.stats.expon.pdf", U, A),
    S("scipy.stats.expon.logpdf", U, A), S("scipy.stats.uniform.pdf", U, A),
    S("scipy.stats.uniform.logpdf", U, A),
    S(("scipy.stats.t.pdf", lambda m, x: m.scipy.stats.t.pdf(x, np.float32(3.0))), U, A, rtol=SP),
    S(("scipy.stats.t.logpdf", lambda m, x: m.scipy.stats.t.logpdf(x, np.float32(3.0))), U, A, rtol=SP),
    S(("scipy.stats.gamma.pdf", lambda m, x: m.scipy.stats.gamma.pdf(x, np.float32(2.0))), U, A, rtol=SP),
    S(("scipy.stats.gamma.logpdf", lambda m, x: m.scipy.stats.gamma.logpdf(x, np.float32(0.5))), U, A, rtol=SP),
    S(("scipy.stats.gamma.cdf", lambda m, x: m.scipy.stats.gamma.cdf(x, np.float32(2.0))), U, A, rtol=SP),
    S(("scipy.stats.beta.pdf", lambda m, x: m.scipy.stats.beta.pdf(x, np.float32(2.0), np.float32(3.0))), U, A, dom="unit", rtol=SP),
    S(("scipy.stats.beta.logpdf", lambda m, x: m.scipy.stats.beta.logpdf(x, np.float32(1.0), np.float32(1.0))), U, A, dom="unit", rtol=SP),
    S(("scipy.stats.chi2.pdf", lambda m, x: m.scipy.stats.chi2.pdf(x, np.float32(3.0))), U, A, rtol=SP),
    S(("scipy.stats.poisson.pmf", lambda m, x: m.scipy.stats.poisson.pmf(x, np.float32(2.0))), U, "vdwb", rtol=SP),
    S(("scipy.stats.poisson.logpmf", lambda m, x: m.scipy.stats.poisson.logpmf(x, np.float32(0.0))), U, "vdwb", rtol=SP),
    S(("scipy.stats.bernoulli.pmf", lambda m, x: m.scipy.stats.bernoulli.pmf(x, np.float32(0.3))), U, "vdwb"),
    S(("scipy.stats.geom.logpmf", lambda m, x: m.scipy.stats.geom.logpmf(x, np.float32(0.3))), U, "vdwb"),
    S(("scipy.stats.norm.pdf[loc,scale]", lambda m, x: m.scipy.stats.norm.pdf(np.float32(1.0), x, np.float32(2.0))), U, A),
    S(("scipy.stats.norm.logpdf[scale]", lambda m, x: m.scipy.stats.norm.logpdf(np.float32(1.0), np.float32(0.0), x)), U, A, dom="pos"),
    # --- linalg
    S("numpy.linalg.det", L, A, rtol=1e-4), S("numpy.linalg.slogdet", L, A, rtol=1e-4),
    S("numpy.linalg.inv", L, A, rtol=1e-4), S("numpy.linalg.cholesky", L, A, rtol=1e-4),
    S("numpy.linalg.eigvalsh", L, A, rtol=1e-4), S("numpy.linalg.pinv", L, A, rtol=1e-4),
    S(("numpy.linalg.svdvals", lambda m, a: m.numpy.linalg.svd(a, compute_uv=False)), L, A, rtol=1e-4),
    S(("numpy.linalg.norm[fro]", lambda m, a: m.numpy.linalg.norm(a, axis=(-2, -1))), L, A, rtol=1e-4),
    S(("numpy.linalg.norm[2]", lambda m, a: m.numpy.linalg.norm(a, ord=2, axis=(-2, -1))), L, A, rtol=1e-4),
    S(("numpy.linalg.norm[nuc]", lambda m, a: m.numpy.linalg.norm(a, ord="nuc", axis=(-2, -1))), L, A, rtol=1e-4),
    S("numpy.linalg.matrix_rank", L, ND), S("numpy.trace", L, A),
    S(("numpy.linalg.matrix_power[3]", lambda m, a: m.numpy.linalg.matrix_power(a, 3)), L, A, rtol=1e-4),
    S(("numpy.linalg.matrix_power[-1]", lambda m, a: m.numpy.linalg.matrix_power(a, -1)), L, A, rtol=1e-4),
    S(("numpy.linalg.solve", lambda m, a: m.numpy.linalg.solve(a, m.numpy.ones(a.shape[:-1], a.dtype))), L, A, rtol=1e-4),
    S(("numpy.linalg.qr[r]", lambda m, a: m.numpy.linalg.qr(a, mode="r")), L, A, rtol=1e-4),
    S(("numpy.linalg.eigh[w]", lambda m, a: m.numpy.linalg.eigh(a)[0]), L, A, rtol=1e-4),
    S(("scipy.linalg.expm", lambda m, a: m.scipy.linalg.expm(a)), L, A, rtol=1e-4),
    S(("scipy.linalg.solve_triangular", lambda m, a: m.scipy.linalg.solve_triangular(a, m.numpy.ones(a.shape[:-1] + (1,), a.dtype), lower=True)), L, A, rtol=1e-4),
    S(("numpy.linalg.det[singular]", lambda m, a: m.numpy.linalg.det(a)), LS, A, rtol=1e-4),
    S(("numpy.linalg.slogdet[singular]", lambda m, a: m.numpy.linalg.slogdet(a)), LS, A, rtol=1e-4),
    S(("numpy.linalg.inv[singular]", lambda m, a: m.numpy.linalg.inv(a)), LS, "vdwb", rtol=1e-4),
    S(("numpy.linalg.matrix_rank[singular]", lambda m, a: m.numpy.linalg.matrix_rank(a)), LS, ND),
    S(("numpy.linalg.pinv[singular]", lambda m, a: m.numpy.linalg.pinv(a)), LS, A, rtol=1e-4),
    S(("numpy.linalg.svdvals[singular]", lambda m, a: m.numpy.linalg.svd(a, compute_uv=False)), LS, A, rtol=1e-4),
    # --- indexing and .at[]
    S(("index[1]", lambda m, x: x[1]), V, A), S(("index[-1]", lambda m, x: x[-1]), V, A),
    S(("index[1:4]", lambda m, x: x[1:4]), V, A), S(("index[::-2]", lambda m, x: x[::-2]), V, A),
    S(("index[None]", lambda m, x: x[None, :, None]), V, A),
    S(("index[...,0]", lambda m, x: x[..., 0]), M, A),
    S(("index[[0,2,2]]", lambda m, x: x[np.array([0, 2, 2])]), V, A),
    S(("index[[-1,0]]", lambda m, x: x[np.array([-1, 0])]), V, A),
    S(("index[oob]", lambda m, x: x[np.array([7, -9])]), V, A),
    S(("index[mask]", lambda m, x: x[np.array([True, False, True, False, False, True])]), V, "vdwgj"),
    S(("index[2:10:3]", lambda m, x: x[2:10:3]), V, A), S(("index[5:1]", lambda m, x: x[5:1]), V, A),
    S(("index[mat,:,[2,0]]", lambda m, x: x[:, np.array([2, 0])]), M, A),
    S(("index[mat,[1,0],[2,2]]", lambda m, x: x[np.array([1, 0]), np.array([2, 2])]), M, A),
    S(("index[mat,1,::-1]", lambda m, x: x[1, ::-1]), M, A),
    S(("at.set", lambda m, x: x.at[1].set(5.0)), V, A), S(("at.add", lambda m, x: x.at[2].add(1.0)), V, A),
    S(("at.add[dup]", lambda m, x: x.at[np.array([0, 0, 3])].add(2.0)), V, A),
    S(("at.set[dup]", lambda m, x: x.at[np.array([1, 1])].set(np.array([4.0, 7.0], np.float32))), V, "vdwb"),
    S(("at.mul", lambda m, x: x.at[np.array([0, 4])].mul(3.0)), V, A),
    S(("at.mul[dup]", lambda m, x: x.at[np.array([0, 0])].mul(x[1])), V, A),
    S(("at.min", lambda m, x: x.at[np.array([0, 1, 1])].min(0.5)), V, A),
    S(("at.max", lambda m, x: x.at[np.array([0, 1, 1])].max(0.5)), V, A),
    S(("at.divide", lambda m, x: x.at[2].divide(4.0)), V, A),
    S(("at.power", lambda m, x: x.at[2].power(2.0)), V, A),
    S(("at.get[fill]", lambda m, x: x.at[np.array([1, 9])].get(mode="fill", fill_value=-1.0)), V, A),
    S(("at.set[drop]", lambda m, x: x.at[np.array([1, 9])].set(7.0, mode="drop")), V, A),
    S(("at.set[slice]", lambda m, x: x.at[1:3].set(0.0)), V, A),
    S(("at.add[oob]", lambda m, x: x.at[9].add(1.0)), V, A),
    S(("at.set[neg]", lambda m, x: x.at[-1].set(-3.0)), V, A),
    S(("at.add[mat]", lambda m, x: x.at[:, 1].add(x[0])), M, A),
    S(("at.set[mat,pairs]", lambda m, x: x.at[np.array([0, 1]), np.array([2, 0])].set(9.0)), M, A),
    S(("numpy.take", lambda m, x: m.numpy.take(x, np.array([0, 5, 2]))), V, A),
    S(("numpy.take[oob]", lambda m, x: m.numpy.take(x, np.array([0, 8]))), V, A),
    S(("numpy.take[clip]", lambda m, x: m.numpy.take(x, np.array([0, 8]), mode="clip")), V, A),
    S(("numpy.take_along_axis", lambda m, x: m.numpy.take_along_axis(x, np.array([[2, 0], [1, 1]]), axis=1)), M, A),
    S(("numpy.where", lambda m, x: m.numpy.where(x > 0.5, x, -x)), V, A),
    S(("numpy.where[safe-log]", lambda m, x: m.numpy.where(x > 0, m.numpy.log(m.numpy.where(x > 0, x, 1.0)), 0.0)), V, A),
    S(("numpy.where[unsafe-log]", lambda m, x: m.numpy.where(x > 0, m.numpy.log(x), 0.0)), V, A),
    S(("numpy.select", lambda m, x: m.numpy.select([x < 0, x > 1], [x, x * 2], default=-1.0)), V, A),
    S(("numpy.clip", lambda m, x: m.numpy.clip(x, -0.5, 2.0)), V, A),
    S(("numpy.clip[points]", lambda m, x: m.numpy.clip(x, -1.0, 1.0)), U, A),
    S(("numpy.piecewise", lambda m, x: m.numpy.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v * v])), V, A),
    # --- shapes, products, misc
    S(("numpy.reshape", lambda m, x: m.numpy.reshape(x, (2, 3))), V, A),
    S(("numpy.transpose", lambda m, x: m.numpy.transpose(x)), M, A),
    S(("numpy.concatenate", lambda m, x: m.numpy.concatenate([x, x[:0], x[::-1]])), V, A),
    S(("numpy.stack", lambda m, x: m.numpy.stack([x, -x], axis=1)), V, A),
    S(("numpy.tile", lambda m, x: m.numpy.tile(x, 2)), V, A),
    S(("numpy.repeat", lambda m, x: m.numpy.repeat(x, 2)), V, A),
    S(("numpy.repeat[counts]", lambda m, x: m.numpy.repeat(x, np.array([0, 1, 2, 0, 1, 3]), total_repeat_length=7)), V, A),
    S(("numpy.pad", lambda m, x: m.numpy.pad(x, (1, 2))), V, A),
    S(("numpy.pad[reflect]", lambda m, x: m.numpy.pad(x, (2, 1), mode="reflect")), V, A),
    S(("numpy.pad[edge]", lambda m, x: m.numpy.pad(x, (2, 1), mode="edge")), V, A),
    S(("numpy.tril", lambda m, x: m.numpy.tril(x)), M, A), S(("numpy.triu", lambda m, x: m.numpy.triu(x, 1)), M, A),
    S(("numpy.diag", lambda m, x: m.numpy.diag(x)), V, A),
    S(("numpy.diagonal", lambda m, x: m.numpy.diagonal(x)), M, A),
    S(("numpy.outer", lambda m, x, y: m.numpy.outer(x, y)), W, A),
    S(("numpy.dot", lambda m, x, y: m.numpy.dot(x, y)), W, A),
    S(("numpy.matmul", lambda m, x, y: m.numpy.matmul(x.reshape(2, 3), y.reshape(3, 2))), W, A),
    S(("numpy.einsum", lambda m, x, y: m.numpy.einsum("ij,kj->ik", x.reshape(2, 3), y.reshape(2, 3))), W, A),
    S(("numpy.tensordot", lambda m, x, y: m.numpy.tensordot(x.reshape(2, 3), y.reshape(3, 2), axes=1)), W, A),
    S(("numpy.inner", lambda m, x, y: m.numpy.inner(x, y)), W, A),
    S(("numpy.vdot", lambda m, x, y: m.numpy.vdot(x, y)), W, A),
    S(("numpy.cross", lambda m, x, y: m.numpy.cross(x.reshape(2, 3), y.reshape(2, 3))), W, A),
    S(("numpy.kron", lambda m, x, y: m.numpy.kron(x[:2], y[:3])), W, A),
    S(("numpy.convolve", lambda m, x, y: m.numpy.convolve(x, y[:3])), W, A, rtol=1e-4),
    S(("numpy.correlate", lambda m, x, y: m.numpy.correlate(x, y[:3], mode="full")), W, A, rtol=1e-4),
    S(("numpy.polyval", lambda m, x, y: m.numpy.polyval(x[:3], y)), W, A),
    S(("numpy.interp", lambda m, x, y: m.numpy.interp(y, np.array([-1.0, 0.0, 2.0], np.float32), x[:3])), W, A),
    S(("numpy.searchsorted", lambda m, x, y: m.numpy.searchsorted(m.numpy.sort(x), y)), W, ND),
    S(("numpy.trapezoid", lambda m, x, y: m.numpy.trapezoid(x, y)), W, A),
    S(("numpy.copysign[vec]", lambda m, x, y: m.numpy.copysign(x, y)), W, A),
    S(("numpy.linalg.vector_norm", lambda m, x: m.numpy.linalg.vector_norm(x)), V, A),
    S(("numpy.cov", lambda m, x: m.numpy.cov(x)), M, A, rtol=1e-4),
    S(("numpy.corrcoef", lambda m, x: m.numpy.corrcoef(x)), M, A, rtol=1e-4),
    S(("numpy.ediff1d", lambda m, x: m.numpy.ediff1d(x)), V, A),
    S(("numpy.gradient", lambda m, x: m.numpy.gradient(x)), V, A),
    S(("numpy.unique", lambda m, x: m.numpy.unique(x, size=5, fill_value=0.0)), V, "vdwgj"),
    S(("numpy.nonzero", lambda m, x: m.numpy.nonzero(x, size=6)[0]), V, "vdw"),
    S(("numpy.argwhere", lambda m, x: m.numpy.argwhere(x, size=3, fill_value=-1)), M, "vdw"),
    S(("numpy.bincount", lambda m, x: m.numpy.bincount(m.numpy.abs(x).astype(np.int32), length=5)), V, "vdwb"),
    S(("numpy.histogram", lambda m, x: m.numpy.histogram(x, bins=3, range=(-1.0, 3.0))[0]), V, "vdw"),
    S(("numpy.argpartition", lambda m, x: m.numpy.sort(m.numpy.partition(x, 2)[:3])), V, A),
    S(("numpy.lexsort", lambda m, x, y: m.numpy.lexsort((x, y))), W, ND),
    S(("numpy.isin", lambda m, x, y: m.numpy.isin(x, y)), W, ND),
    S(("lax.dynamic_slice", lambda m, x: m.lax.dynamic_slice(x, (np.int32(4),), (3,))), V, A),
    S(("lax.dynamic_update_slice", lambda m, x: m.lax.dynamic_update_slice(x, x[:2] * 2, (np.int32(5),))), V, A),
    S(("lax.sort[multi]", lambda m, x, y: m.lax.sort((x, y), num_keys=1)[1]), W, A),
    S(("lax.top_k", lambda m, x: m.lax.top_k(x, 3)[0]), V, A),
    S(("lax.top_k[idx]", lambda m, x: m.lax.top_k(x, 3)[1]), V, ND),
    S(("lax.argmax", lambda m, x: m.lax.argmax(x, 0, np.int32)), V, ND),
    S(("lax.select", lambda m, x, y: m.lax.select(x > y, x, y)), W, A),
    S(("lax.pad[neg]", lambda m, x: m.lax.pad(x, np.float32(0.0), [(1, -2, 1)])), V, A),
    S(("lax.rev", lambda m, x: m.lax.rev(x, (0,))), V, A),
    S(("lax.reduce_window", lambda m, x: m.lax.reduce_window(x, -np.inf, m.lax.max, (2,), (1,), "VALID")), V, A),
    S(("lax.dot_general", lambda m, x, y: m.lax.dot_general(x.reshape(2, 3), y.reshape(2, 3), (((1,), (1,)), ((0,), (0,))))), W, A),
    S(("nn.softmax[vec]", lambda m, x: m.nn.softmax(x)), V, A),
    S(("nn.one_hot[vec]", lambda m, x: m.nn.one_hot(x, 3)), V, "vdwb"),
]

_names = [e.name for e in TABLE]
assert len(_names) == len(set(_names)), sorted({n for n in _names if _names.count(n) > 1})
ENTRIES = {e.name: e for e in TABLE}


# ----------------------------------------------------------------------------- resolution
def _roots():
    import jax
    import jax.numpy  # noqa: F401
    import xlafront
    return xlafront, jax


def _resolve(root, path):
    obj = root
    parts = path.split(".")
    for i, p in enumerate(parts):
        try:
            obj = getattr(obj, p)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join([root.__name__] + parts[:i + 1]))
            except ImportError:
                raise AttributeError(f"{root.__name__}.{path} does not exist") from None
    return obj


def _callable(entry, root):
    if callable(entry.fn):
        return lambda *a, **k: entry.fn(root, *a, **k)
    return _resolve(root, entry.fn)


# ----------------------------------------------------------------------------- arguments
def arg_sets(entry, dtype):
    """List of (args, kwargs) for one dtype letter; [] when the kind has no such dtype."""
    k = entry.kind
    if k == U:
        if dtype == "f":
            return [((float_points(entry.dom),), {})]
        if dtype == "i":
            return [((np.array(INT_POINTS, np.int32),), {})]
        return [((np.array(BOOL_POINTS),), {})]
    if k == B:
        return [(pair_points(dtype, entry.dom), {})]
    if k in (R, C):
        return [((x,), {"axis": ax}) for x, ax in reduction_cases(dtype)]
    if dtype != "f":
        return []
    if k == L:
        return [((a,), {}) for a in square_matrices()]
    if k == LS:
        return [((a,), {}) for a in singular_matrices()]
    if k == V:
        return [((VEC,), {})]
    if k == W:
        return [((VEC, VEC2), {})]
    if k == M:
        return [((MAT,), {})]
    raise ValueError(k)


def scalar_arg_sets(entry):
    """Python-scalar arguments for the weak_type check."""
    if entry.kind == U:
        out = [((0.5,), {})]
        if "i" in entry.dtypes:
            out.append(((2,), {}))
        return out
    if entry.kind == B:
        return [((2.5, 0.5), {}), ((float_points("small")[:4], 2.0), {}), ((2.0, float_points("small")[:4]), {})] \
            if "f" in entry.dtypes else [((2, 3), {})]
    if entry.kind in (R, C):
        return [((2.5,), {"axis": None})] if "f" in entry.dtypes else [((2,), {"axis": None})]
    return []


# ----------------------------------------------------------------------------- running
class Raised:
    def __init__(self, exc):
        self.exc = exc

    def __repr__(self):
        return f"raised {type(self.exc).__name__}: {str(self.exc).splitlines()[0][:200] if str(self.exc) else ''}"


def _leaves(tree, root):
    if root.__name__ == "jax":
        import jax
        return jax.tree_util.tree_leaves(tree)
    from xlafront import tree_util
    return tree_util.tree_leaves(tree)


def _host(leaf):
    """(numpy value, dtype name, weak_type) of one output leaf."""
    if isinstance(leaf, (bool, int, float, complex)):
        return np.asarray(leaf), "python-" + type(leaf).__name__, True
    return np.asarray(leaf), np.dtype(leaf.dtype).name, bool(getattr(leaf, "weak_type", False))


def _to(root, a):
    if root.__name__ == "jax":
        import jax.numpy as jnp
        return jnp.asarray(a) if isinstance(a, np.ndarray) else a
    import xlafront.numpy as xnp
    return xnp.asarray(a) if isinstance(a, np.ndarray) else a


def _float_leaves_sum(out, m):
    leaves = [l for l in _leaves(out, m) if np.issubdtype(np.dtype(l.dtype), np.inexact)]
    total = 0.0
    for l in leaves:
        total = total + m.numpy.sum(l)
    return total


def _batch_for(entry, args):
    """A batch of 2 for the first argument (elementwise kinds: None, vmap the points)."""
    if entry.kind in (U, B):
        return None
    x = np.asarray(args[0])
    if x.dtype == np.bool_:
        other = ~x
    elif x.ndim == 1:
        other = x[::-1].copy()
    else:
        other = (x * 2 - 1).astype(x.dtype)
    return np.stack([x, other])


def _case(entry, check, f, m, args, kwargs):
    """(fn, inputs): fn(*inputs) computes `check` of f at args with root module m's transforms."""
    inputs = tuple(_to(m, a) for a in args)
    g = (lambda *a: f(*a, **kwargs))
    nfloat = tuple(i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.floating))
    if check == "value":
        return g, inputs
    if check == "grad":
        return m.grad(lambda *b: _float_leaves_sum(g(*b), m), argnums=nfloat), inputs
    if check == "jvp":
        def fn(*a):
            def h(*fl):
                full = list(a)
                for i, v in zip(nfloat, fl):
                    full[i] = v
                return g(*full)
            prim = tuple(a[i] for i in nfloat)
            return m.jvp(h, prim, tuple(m.numpy.ones_like(p) for p in prim))
        return fn, inputs
    batch = _batch_for(entry, args)
    if check == "vmap":
        if batch is None:
            return m.vmap(g), inputs
        return m.vmap(g, in_axes=(0,) + (None,) * (len(args) - 1)), (_to(m, batch),) + inputs[1:]
    if check == "unbatched":      # the reference for vmap: the unbatched call / a loop
        if batch is None:
            return g, inputs

        def loop(bx, *rest):
            outs = [g(bx[i], *rest) for i in range(bx.shape[0])]
            return m.tree_util.tree_map(lambda *ls: m.numpy.stack(ls), *outs)
        return loop, (_to(m, batch),) + inputs[1:]
    raise ValueError(check)


def _run_jit_together(cases, m):
    """All (fn, inputs) cases as ONE jitted program: their leaf lists, or raises."""
    sizes = [len(inp) for _, inp in cases]
    flat = [x for _, inp in cases for x in inp]

    def together(*flat_args):
        outs, k = [], 0
        for (fn, _), n in zip(cases, sizes):
            outs.append(fn(*flat_args[k:k + n]))
            k += n
        return outs
    outs = m.jit(together)(*flat)
    return [[_host(l) for l in _leaves(o, m)] for o in outs]


def _run_one(fn, inp, m, jit):
    try:
        out = m.jit(fn)(*inp) if jit else fn(*inp)
        return [_host(l) for l in _leaves(out, m)]
    except Exception as e:  # noqa: BLE001 - the exception is the result to compare
        return Raised(e)


def _run_cases(cases, m, jit=True):
    """Leaf lists (or Raised) of each (fn, inputs) case. Under jit, the cases run as one
    program (one compile); when that raises, each case runs alone, so every error belongs
    to its own case."""
    if not jit or len(cases) <= 1:
        return [_run_one(fn, inp, m, jit) for fn, inp in cases]
    try:
        return _run_jit_together(cases, m)
    except Exception:  # noqa: BLE001
        return [_run_one(fn, inp, m, jit) for fn, inp in cases]


# JAX's values are the specification; JAX's eager mode compiles every primitive for every
# shape (minutes for the table), so JAX always runs under `jit`. xlafront runs the
# value/dtype/weak_type checks eagerly (its eager path is what users call) and the
# transforms under its own `jit`. To keep the compile count small, the jitted cases of
# CHUNK consecutive table entries run as one program (split in halves where one raises).
XLAFRONT_EAGER_VALUES = True
CHUNK = 24
_CACHE = {}
# The entries a run uses (None: the whole table). Chunks are drawn from these only, so a run
# over a subset compiles programs of that subset alone (see `select`).
SELECTED = None


def chunk_of(name, check_name):
    """A label shared by the cases whose results come from the same jitted program (the same
    CHUNK of entries), so that a parallel test run can keep them on one worker (compiled
    once) instead of compiling the chunk on every worker."""
    entry = ENTRIES[name]
    src = {"grad": "grad", "jvp": "jvp", "vmap": "vmap"}.get(check_name, "scalars")
    if src == "scalars" and "w" not in entry.checks:
        return name   # eager values only: one entry
    users = [e for e in (SELECTED or TABLE) if any(c in e.checks for c in _NEEDS[src])]
    return f"{src}-{users.index(entry) // CHUNK}"


def select(names):
    """Run only the named entries (chunks are formed among them); returns their cases."""
    global SELECTED
    missing = set(names) - set(ENTRIES)
    if missing:
        raise KeyError(f"not in the table: {sorted(missing)}")
    SELECTED = [e for e in TABLE if e.name in set(names)]
    _CACHE.clear()
    return [c for c in cases() if c[0] in set(names)]


def _sets(entry, check):
    if check in ("grad", "jvp"):
        return [("f", s) for s in arg_sets(entry, "f")] if ("g" in entry.checks or "j" in entry.checks) else []
    if check == "scalars":
        return [("py", s) for s in scalar_arg_sets(entry)]
    return [(d, s) for d in entry.dtypes for s in arg_sets(entry, d)]


_NEEDS = {"value": "vdw", "scalars": "w", "grad": "g", "jvp": "j", "vmap": "b", "unbatched": "b"}


def _entry_cases(entry, check, m):
    f = _callable(entry, m)
    if check == "scalars":
        return [_case(entry, "value", f, m, a, k) for _, (a, k) in _sets(entry, "scalars")]
    src = "vmap" if check == "unbatched" else check
    return [_case(entry, check, f, m, a, k) for _, (a, k) in _sets(entry, src)]


# ----------------------------------------------------------------------------- golden file
# JAX's results for every case are stored in GOLDEN_PATH (regenerate with
# `python -m xlafront.testing.special_points --regenerate`). JAX_SOURCE "golden" (what
# tests/test_special_points.py sets): the "jax" side reads the file; "live": it runs JAX. The side "jax-live" always runs JAX, one entry per
# program (the tests' live subset that proves the file still agrees with JAX).
GOLDEN_PATH = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden", "special_points_jax.pkl.gz"))
JAX_SOURCE = "live"
_GOLDEN = None
REGENERATE = "python -m xlafront.testing.special_points --regenerate"


class StaleGolden(AssertionError):
    pass


def _encode(res):
    if isinstance(res, Raised):
        text = str(res.exc)
        return ("raised", _builtin_base(res.exc).__name__, text.splitlines()[0][:200] if text else "")
    return [(np.asarray(v), d, w) for v, d, w in res]


def _decode(res):
    if isinstance(res, tuple) and res and res[0] == "raised":
        cls = getattr(builtins, res[1], Exception)
        try:
            exc = cls(res[2])
        except Exception:  # noqa: BLE001 - a builtin that takes other arguments
            exc = Exception(res[2])
        return Raised(exc)
    return res


def golden():
    """{(entry name, check, "jax"): encoded results} of the golden file, checked for JAX's version."""
    global _GOLDEN
    if _GOLDEN is None:
        import jax
        if not os.path.exists(GOLDEN_PATH):
            raise StaleGolden(f"{GOLDEN_PATH} is missing: run `{REGENERATE}`")
        with gzip.open(GOLDEN_PATH, "rb") as fh:
            data = pickle.load(fh)
        if data["jax_version"] != jax.__version__:
            raise StaleGolden(f"{GOLDEN_PATH} holds JAX {data['jax_version']}'s results but JAX "
                              f"{jax.__version__} is installed: run `{REGENERATE}`")
        _GOLDEN = data["results"]
    return _GOLDEN


def all_result_keys():
    """Every (entry name, check, "jax") result the checks read."""
    keys = []
    for e in TABLE:
        for check, letters in _NEEDS.items():
            if check != "unbatched" and any(c in e.checks for c in letters):
                keys.append((e.name, check, "jax"))
    return keys


def regenerate(path=GOLDEN_PATH, keep=False):
    """Run JAX on every case of the table and store its results in `path`. With `keep`, the
    results already in `path` (same JAX version) stay and only the missing ones run; the file
    is rewritten every 50 keys, so an interrupted run resumes where it stopped."""
    global JAX_SOURCE
    import jax
    results = {}
    if keep and os.path.exists(path):
        with gzip.open(path, "rb") as fh:
            data = pickle.load(fh)
        if data["jax_version"] == jax.__version__:
            results = data["results"]
    wanted = all_result_keys()

    def write():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with gzip.open(tmp, "wb", compresslevel=9) as fh:
            pickle.dump({"jax_version": jax.__version__,
                         "results": {k: results[k] for k in wanted if k in results}}, fh, protocol=4)
        os.replace(tmp, path)

    old, JAX_SOURCE = JAX_SOURCE, "live"
    try:
        todo = [k for k in wanted if k not in results]
        for i, k in enumerate(todo, 1):
            results[k] = [_encode(r) for r in _results(ENTRIES[k[0]], k[1], "jax")]
            _CACHE.pop(k, None)
            if i % 50 == 0:
                write()
    finally:
        JAX_SOURCE = old
    write()
    return {k: results[k] for k in wanted}


def same_results(a, b):
    """'' when two result lists are the same (error classes; dtypes, weak types and values,
    NaN positions, inf and zero signs exact, else within 1e-6), else the first difference."""
    if len(a) != len(b):
        return f"{len(a)} results vs {len(b)}"
    for i, (ra, rb) in enumerate(zip(a, b)):
        if isinstance(ra, Raised) or isinstance(rb, Raised):
            if not (isinstance(ra, Raised) and isinstance(rb, Raised)
                    and _builtin_base(ra.exc) is _builtin_base(rb.exc)):
                return f"result {i}: {ra!r} vs {rb!r}"
            continue
        if len(ra) != len(rb):
            return f"result {i}: {len(ra)} leaves vs {len(rb)}"
        for (va, da, wa), (vb, db, wb) in zip(ra, rb):
            if da != db or wa != wb or va.shape != vb.shape:
                return f"result {i}: {da} weak={wa} {va.shape} vs {db} weak={wb} {vb.shape}"
            msg = compare_values(va, vb, 1e-6)
            if msg:
                return f"result {i}: {msg}"
    return ""


def _results(entry, check, side):
    key = (entry.name, check, side)
    if key in _CACHE:
        return _CACHE[key]
    if side == "jax" and JAX_SOURCE == "golden":
        g = golden()
        if key not in g:
            raise StaleGolden(f"{key} is not in {GOLDEN_PATH} (the table changed): run `{REGENERATE}`")
        _CACHE[key] = [_decode(r) for r in g[key]]
        return _CACHE[key]
    xf, jax = _roots()
    m = xf if side == "xlafront" else jax
    if side == "jax-live":
        # one entry per program, JAX's cases that raise alone
        flags = _raises_in_jax(entry, check, "jax-live")
        cs = _entry_cases(entry, check, m)
        flags = flags if len(flags) == len(cs) else [False] * len(cs)
        normal = [c for c, f in zip(cs, flags) if not f]
        it = iter(_run_cases(normal, m))
        _CACHE[key] = [_run_one(*c, m, True) if f else next(it) for c, f in zip(cs, flags)]
        return _CACHE[key]
    # Python-scalar arguments (weak_type) run under jit on both sides, so both see traced
    # weakly typed scalars (JAX's jit would otherwise give tracers where xlafront got floats)
    eager = side == "xlafront" and XLAFRONT_EAGER_VALUES and check == "value"
    if eager:
        try:
            _CACHE[key] = _run_cases(_entry_cases(entry, check, m), m, jit=False)
        except Exception as exc:  # noqa: BLE001 - resolving failed: the entry's result
            _CACHE[key] = [Raised(exc)] * max(1, len(_sets(entry, check)))
        return _CACHE[key]
    users = [e for e in (SELECTED or TABLE) if any(c in e.checks for c in _NEEDS[check])]
    i = users.index(entry)
    chunk = [e for e in users[i - i % CHUNK:i - i % CHUNK + CHUNK] if (e.name, check, side) not in _CACHE]
    per_entry = []
    for e in chunk:
        try:
            per_entry.append(_entry_cases(e, check, m))
        except Exception as exc:  # noqa: BLE001 - resolving failed: the entry's result
            _CACHE[(e.name, check, side)] = [Raised(exc)] * max(1, len(_sets(e, "vmap" if check == "unbatched" else check)))
            per_entry.append(None)
    # cases whose plain call raises under JAX (max of an empty array, ...) run alone; the
    # others of the chunk run as one program, or entry by entry when that raises
    alone = []
    for e, cs in zip(chunk, per_entry):
        if cs is None:
            continue
        flags = _raises_in_jax(e, check)
        alone.append([bool(f) for f in flags] if len(flags) == len(cs) else [False] * len(cs))
    flat = [c for cs, al in zip([c for c in per_entry if c is not None], alone)
            for c, a in zip(cs, al) if not a]
    try:
        together = _run_jit_together(flat, m) if len(flat) > 1 else None
    except Exception:  # noqa: BLE001
        together = None
    k = 0
    for e, cs in zip([e for e, c in zip(chunk, per_entry) if c is not None], [c for c in per_entry if c is not None]):
        al = alone.pop(0)
        normal = [c for c, a in zip(cs, al) if not a]
        if together is not None:
            res_normal = together[k:k + len(normal)]
            k += len(normal)
        else:
            res_normal = _run_cases(normal, m)
        it = iter(res_normal)
        _CACHE[(e.name, check, side)] = [_run_one(*c, m, True) if a else next(it) for c, a in zip(cs, al)]
    return _CACHE[key]


def _raises_in_jax(entry, check, side="jax"):
    """Per case of `check`: whether JAX's plain call on the same arguments raises."""
    if check in ("value", "scalars"):
        return []
    src = "vmap" if check == "unbatched" else check
    labels = [_label(d, a, k) for d, (a, k) in _sets(entry, "value")]
    vals = dict(zip(labels, _results(entry, "value", side)))
    return [isinstance(vals.get(_label(d, a, k)), Raised) for d, (a, k) in _sets(entry, src)]


def _label(d, a, k):
    return f"{d} args={_short(a)} {k or ''}"


def evaluate(entry, check):
    """[(label, xlafront result, jax result)] for one check; results are leaf lists or Raised."""
    src = {"dtype": "value", "weak_type": "value"}.get(check, check)
    labels = [f"{d} args={_short(a)} {k or ''}" for d, (a, k) in _sets(entry, src)]
    rx, rj = _results(entry, src, "xlafront"), _results(entry, src, "jax")
    out = list(zip(labels, rx, rj))
    if check == "weak_type":
        labels = [f"py args={a!r}" for _, (a, _k) in _sets(entry, "scalars")]
        out += list(zip(labels, _results(entry, "scalars", "xlafront"), _results(entry, "scalars", "jax")))
    if check == "vmap":
        out = [(l + " vmap vs jax.vmap", x, j) for l, x, j in out]
        out += [(l + " vmap vs unbatched", x, u) for l, x, u in
                zip(labels, rx, _results(entry, "unbatched", "xlafront"))]
    return out


def _short(args):
    parts = []
    for a in args:
        a = np.asarray(a)
        parts.append(f"{a.dtype}{list(a.shape)}" if a.size > 4 or a.ndim > 1 else repr(a.tolist()))
    return "(" + ", ".join(parts) + ")"


# ----------------------------------------------------------------------------- comparing
def _builtin_base(exc):
    for c in type(exc).__mro__:
        if c.__module__ == "builtins":
            return c
    return Exception


def compare_leaves(rx, rj, check, rtol, label=""):
    """'' when they agree, else a readable description of the first disagreement."""
    if isinstance(rx, Raised) or isinstance(rj, Raised):
        if isinstance(rx, Raised) and isinstance(rj, Raised):
            bx, bj = _builtin_base(rx.exc), _builtin_base(rj.exc)
            if issubclass(bx, bj) or issubclass(bj, bx):
                return ""
            return f"{label}: error classes differ: xlafront {rx!r} / jax {rj!r}"
        return f"{label}: xlafront {rx if isinstance(rx, Raised) else 'ok'} / jax {rj if isinstance(rj, Raised) else 'ok'}"
    if len(rx) != len(rj):
        return f"{label}: {len(rx)} output leaves vs jax {len(rj)}"
    for i, ((vx, dx, wx), (vj, dj, wj)) in enumerate(zip(rx, rj)):
        where = f"{label} leaf {i}"
        if check == "dtype":
            if dx != dj:
                return f"{where}: dtype {dx} vs jax {dj}"
            continue
        if check == "weak_type":
            if wx != wj or dx != dj:
                return f"{where}: weak_type {wx} ({dx}) vs jax {wj} ({dj})"
            continue
        if vx.shape != vj.shape:
            return f"{where}: shape {vx.shape} vs jax {vj.shape}"
        msg = compare_values(vx, vj, rtol, signed_zero=(check == "value"))
        if msg:
            return f"{where}: {msg}"
    return ""


def compare_values(x, y, rtol, signed_zero=True):
    x, y = np.asarray(x), np.asarray(y)
    if not np.issubdtype(y.dtype, np.inexact) or not np.issubdtype(x.dtype, np.inexact):
        if x.dtype == np.bool_ or y.dtype == np.bool_ or not np.issubdtype(x.dtype, np.inexact):
            bad = x != y
            if np.any(bad):
                return _diff_text(x, y, bad)
            return ""
    x64, y64 = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64), \
        y.astype(np.complex128 if np.iscomplexobj(y) else np.float64)
    nx, ny = np.isnan(x64), np.isnan(y64)
    bad = nx != ny
    both = ~(nx | ny)
    ix, iy = np.isinf(x64), np.isinf(y64)
    bad |= both & ((ix != iy) | (ix & iy & (x64 != y64)))
    fin = both & ~ix & ~iy
    atol = 1e-6 if rtol <= 1e-5 else 1e-5
    with np.errstate(invalid="ignore"):
        diff = np.abs(x64 - y64)
    bad |= fin & (diff > atol + rtol * np.abs(y64))
    if signed_zero and not np.iscomplexobj(x64):
        z = fin & (x64 == 0) & (y64 == 0)
        bad |= z & (np.signbit(x64) != np.signbit(y64))
    if np.any(bad):
        return _diff_text(x, y, bad)
    return ""


def _diff_text(x, y, bad):
    idx = np.argwhere(np.atleast_1d(bad))
    n = len(idx)
    xs, ys = np.atleast_1d(x), np.atleast_1d(y)
    shown = [f"[{','.join(map(str, i))}] {xs[tuple(i)]!r} vs jax {ys[tuple(i)]!r}" for i in idx[:4]]
    return f"{n} of {bad.size} differ: " + "; ".join(shown)


def check(entry, check_name):
    """'' when xlafront agrees with JAX on this check, else the reason (for the assertion)."""
    msgs = []
    for label, rx, rj in evaluate(entry, check_name):
        m = compare_leaves(rx, rj, check_name, entry.rtol, label)
        if m:
            msgs.append(m)
    return "\n".join(msgs)


CHECK_NAMES = {"v": "value", "d": "dtype", "w": "weak_type", "g": "grad", "j": "jvp", "b": "vmap"}


def cases():
    """(entry name, check name) for every case of the table."""
    return [(e.name, CHECK_NAMES[c]) for e in TABLE for c in e.checks]


def point_context(entry, check_name):
    """The input of the first argument set per dtype, for a readable failure message."""
    return {d: [_short(a) for a, _ in arg_sets(entry, d)] for d in entry.dtypes}


def _main(argv=None):
    import argparse
    import time
    p = argparse.ArgumentParser(prog="python -m xlafront.testing.special_points",
                                description="Regenerate JAX's golden results and/or report every mismatch.")
    p.add_argument("--regenerate", action="store_true", help=f"run JAX on every case, write {GOLDEN_PATH}")
    p.add_argument("--keep", action="store_true", help="with --regenerate: keep the results already in the file, run only the missing ones")
    p.add_argument("--golden", action="store_true", help="with --report: JAX's side from the golden file (not live)")
    p.add_argument("--report", metavar="FILE", help="check every case against JAX, write the failing ones to FILE")
    args = p.parse_args(argv)
    if args.regenerate:
        t0, c0 = time.time(), time.process_time()
        res = regenerate(keep=args.keep)
        print(f"wrote {len(res)} results to {os.path.normpath(GOLDEN_PATH)} "
              f"({time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU)", flush=True)
    if args.report:
        global JAX_SOURCE
        from xlafront.testing.differences import DIFFERENCES
        if args.golden:
            JAX_SOURCE = "golden"
        t0, c0 = time.time(), time.process_time()
        lines, n = [], 0
        for name, chk in cases():
            try:
                msg = check(ENTRIES[name], chk)
            except Exception as exc:  # noqa: BLE001 - the engine itself failed on this case
                msg = f"engine error {type(exc).__name__}: {exc}"
            listed = (name, chk) in DIFFERENCES
            if bool(msg) != listed:
                n += 1
                lines.append(f"{name}\t{chk}\t" + (msg.replace("\n", " || ") if msg else "LISTED DIFFERENCE NO LONGER DIFFERS"))
                with open(args.report, "w") as fh:
                    fh.write("\n".join(lines) + "\n")
        with open(args.report, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        print(f"{n} failing of {len(cases())} cases ({time.time() - t0:.0f} s wall, "
              f"{time.process_time() - c0:.0f} s CPU)", flush=True)


if __name__ == "__main__":
    _main()
