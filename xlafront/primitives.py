"""Every primitive: its name, its shape/dtype rule, and a thin wrapper.

This is xlafront's counterpart of JAX's `lax`: the wrappers take arrays whose
dtypes already agree (the numpy layer promotes first) and bind one primitive.
Binary elementwise primitives accept rank-0 operands against any shape (the
lowering broadcasts them), which keeps scalar constants as graph literals.
"""
from __future__ import annotations

import builtins
import enum
from typing import NamedTuple, Sequence

import numpy as np

from xlafront import dtypes
from xlafront.core import ShapedArray, primitive, shape_rules, Graph, ClosedGraph, get_aval, user_site

# ----------------------------------------------------------------------------- helpers


def _shape_str(avals):
    return ", ".join(str(tuple(a.shape)) for a in avals)


def _elementwise_shape(name, avals):
    shape = ()
    for a in avals:
        if a.shape:
            if shape and a.shape != shape:
                if len(a.shape) != len(shape):   # (JAX's wording)
                    raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                                    f"{{{', '.join(str(len(b.shape)) for b in avals)}}}")
                raise TypeError(f"{name} got incompatible shapes for broadcasting: {_shape_str(avals)}")
            shape = a.shape
    return shape


def _check_same_dtype(name, avals):
    dt = avals[0].dtype
    for a in avals[1:]:
        if a.dtype != dt:
            raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                            f"{', '.join(x.dtype.name for x in avals)}")
    return dt


def _weak(avals):
    return all(a.weak_type for a in avals)


def _kinds_check(name, dt, kinds):
    ok = {
        "float": dtypes.is_float(dt), "complex": dtypes.is_complex(dt),
        "int": dtypes.is_int(dt), "bool": dt == dtypes.bool_,
    }
    if not any(ok[k] for k in kinds):
        raise TypeError(f"{name} does not accept dtype {dt.name}; accepted kinds: {', '.join(kinds)}")


_NUM = ("int", "float", "complex")
_INEXACT = ("float", "complex")
_INT_BOOL = ("int", "bool")
_ANY = ("int", "float", "complex", "bool")

unary_elementwise = {}
binary_elementwise = {}


def _unary(name, kinds=_INEXACT, out_dtype=None):
    p = primitive(name)

    def rule(x, **params):
        _kinds_check(name, x.dtype, kinds)
        dt = out_dtype(x.dtype) if out_dtype else x.dtype
        return ShapedArray(x.shape, dt, x.weak_type)  # as lax: weak in, weak out (even is_finite)

    shape_rules[p] = rule
    unary_elementwise[name] = p
    return p


def _binary(name, kinds=_NUM, out_dtype=None):
    p = primitive(name)

    def rule(x, y, **params):
        dt = _check_same_dtype(name, (x, y))
        _kinds_check(name, dt, kinds)
        shape = _elementwise_shape(name, (x, y))
        out = out_dtype(dt) if out_dtype else dt
        return ShapedArray(shape, out, _weak((x, y)))  # as lax: comparisons of weak values are weak

    shape_rules[p] = rule
    binary_elementwise[name] = p
    return p


def _real_dtype(dt):
    return {dtypes.complex64: dtypes.float32, dtypes.complex128: dtypes.float64}.get(dt, dt)


def _complex_dtype(dt):
    return dtypes.complex128 if dt == dtypes.float64 else dtypes.complex64


def _bool(dt):
    return dtypes.bool_

# ----------------------------------------------------------------------------- elementwise
neg_p = _unary("neg", _NUM)
sign_p = _unary("sign", _NUM)
floor_p = _unary("floor", ("float",))
ceil_p = _unary("ceil", ("float",))
round_p = _unary("round", ("float",))             # params: rounding_method (0 away, 1 to even)
is_finite_p = _unary("is_finite", ("float",), _bool)
exp_p = _unary("exp")
exp2_p = _unary("exp2")
log_p = _unary("log")
log1p_p = _unary("log1p")
expm1_p = _unary("expm1")
tanh_p = _unary("tanh")
logistic_p = _unary("logistic")
sin_p = _unary("sin")
cos_p = _unary("cos")
tan_p = _unary("tan")
asin_p = _unary("asin")
acos_p = _unary("acos")
atan_p = _unary("atan")
sinh_p = _unary("sinh")
cosh_p = _unary("cosh")
asinh_p = _unary("asinh")
acosh_p = _unary("acosh")
atanh_p = _unary("atanh")
sqrt_p = _unary("sqrt")
rsqrt_p = _unary("rsqrt")
cbrt_p = _unary("cbrt", ("float",))
abs_p = _unary("abs", _NUM, _real_dtype)
not_p = _unary("not", _INT_BOOL)
real_p = _unary("real", ("complex",), _real_dtype)
imag_p = _unary("imag", ("complex",), _real_dtype)
conj_p = _unary("conj", ("complex",))
square_p = _unary("square", _NUM)
integer_pow_p = _unary("integer_pow", _NUM)       # params: y (int)


def _integer_pow_rule(x, *, y):
    out = _unary_integer_pow_rule(x, y=y)
    if y < 0 and dtypes.is_int(x.dtype):
        # as lax: 1 / x is not an integer (JAX's TypeError and wording)
        raise TypeError(f"Integers cannot be raised to negative powers, got "
                        f"integer_pow({'~' if x.weak_type else ''}{x.dtype.name}[{','.join(map(str, x.shape))}], {y})")
    return out


_unary_integer_pow_rule = shape_rules[integer_pow_p]
shape_rules[integer_pow_p] = _integer_pow_rule
population_count_p = _unary("population_count", ("int",))
erf_p = _unary("erf", ("float",))
erf_inv_p = _unary("erf_inv", ("float",))
lgamma_p = _unary("lgamma", ("float",))
digamma_p = _unary("digamma", ("float",))

add_p = _binary("add", _ANY)
sub_p = _binary("sub")
mul_p = _binary("mul", _ANY)
div_p = _binary("div")
rem_p = _binary("rem", ("int", "float"))  # lax.rem: no complex (XLA would crash)
pow_p = _binary("pow", _INEXACT)
max_p = _binary("max", _ANY)
min_p = _binary("min", _ANY)
atan2_p = _binary("atan2", _INEXACT)
nextafter_p = _binary("nextafter", ("float",))
and_p = _binary("and", _INT_BOOL)
or_p = _binary("or", _INT_BOOL)
xor_p = _binary("xor", _INT_BOOL)
shift_left_p = _binary("shift_left", ("int",))
shift_right_arithmetic_p = _binary("shift_right_arithmetic", ("int",))
shift_right_logical_p = _binary("shift_right_logical", ("int",))
eq_p = _binary("eq", _ANY, _bool)
ne_p = _binary("ne", _ANY, _bool)
lt_p = _binary("lt", ("int", "float", "bool"), _bool)  # as lax: no complex order
le_p = _binary("le", ("int", "float", "bool"), _bool)  # as lax: no complex order
gt_p = _binary("gt", ("int", "float", "bool"), _bool)  # as lax: no complex order
ge_p = _binary("ge", ("int", "float", "bool"), _bool)  # as lax: no complex order
complex_p = _binary("complex", ("float",), _complex_dtype)

comparisons = (eq_p, ne_p, lt_p, le_p, gt_p, ge_p)


def _pow_rule(x, y):
    # pow(x, y): x inexact; y of x's dtype or an integer dtype (as lax.pow).
    _kinds_check("pow", x.dtype, _INEXACT)
    if y.dtype != x.dtype and not dtypes.is_int(y.dtype):
        raise TypeError(f"pow got incompatible dtypes {x.dtype.name} and {y.dtype.name}")
    return ShapedArray(_elementwise_shape("pow", (x, y)), x.dtype, _weak((x, y)))


shape_rules[pow_p] = _pow_rule

# ----------------------------------------------------------------------------- select, clamp, convert
select_n_p = primitive("select_n")


def _select_n_rule(which, *cases):
    if not cases:
        raise TypeError("select_n requires at least one case")
    _check_same_dtype("select_n", cases)
    if which.dtype != dtypes.bool_ and which.dtype != dtypes.int32:
        raise TypeError(f"select_n predicate must be bool or int32, got {which.dtype.name}")
    shape = cases[0].shape
    for c in cases[1:]:
        if c.shape != shape:
            raise TypeError(f"select_n cases must have the same shapes, got {_shape_str(cases)}")
    if which.shape and which.shape != shape:
        raise TypeError(f"select_n predicate shape {which.shape} must be scalar or equal to the "
                        f"case shape {shape}")
    return ShapedArray(shape, cases[0].dtype, _weak(cases))


shape_rules[select_n_p] = _select_n_rule

clamp_p = primitive("clamp")


def _clamp_rule(lo, x, hi):
    _check_same_dtype("clamp", (lo, x, hi))
    for b in (lo, hi):
        if b.shape and b.shape != x.shape:
            raise TypeError(f"clamp bounds must be scalars or of the operand's shape {x.shape}, "
                            f"got {b.shape}")
    return ShapedArray(x.shape, x.dtype, _weak((lo, x, hi)))   # weak only if all three are (JAX)


shape_rules[clamp_p] = _clamp_rule

convert_element_type_p = primitive("convert_element_type")


def _convert_rule(x, *, new_dtype, weak_type=False, sharding=None):
    return ShapedArray(x.shape, new_dtype, weak_type)


shape_rules[convert_element_type_p] = _convert_rule

bitcast_convert_type_p = primitive("bitcast_convert_type")


def _bitcast_rule(x, *, new_dtype):
    a, b = x.dtype.itemsize, np.dtype(new_dtype).itemsize
    if a == b:
        shape = x.shape
    elif a > b:
        shape = x.shape + (a // b,)
    else:
        if not x.shape or x.shape[-1] != b // a:
            raise TypeError(f"bitcast_convert_type from {x.dtype.name} to {np.dtype(new_dtype).name} "
                            f"needs a last dimension of {b // a}, got shape {x.shape}")
        shape = x.shape[:-1]
    return ShapedArray(shape, new_dtype, False)


shape_rules[bitcast_convert_type_p] = _bitcast_rule

copy_p = primitive("copy")
shape_rules[copy_p] = lambda x: x

# ----------------------------------------------------------------------------- shapes
broadcast_in_dim_p = primitive("broadcast_in_dim")


def _broadcast_in_dim_rule(x, *, shape, broadcast_dimensions, sharding=None):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(f"broadcast_in_dim broadcast_dimensions {broadcast_dimensions} must have "
                        f"one entry per operand dimension {x.shape}")
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise TypeError(f"broadcast_in_dim cannot broadcast operand shape {x.shape} to {shape} "
                            f"with broadcast_dimensions {broadcast_dimensions}")
    if list(broadcast_dimensions) != sorted(broadcast_dimensions):
        raise TypeError(f"broadcast_in_dim broadcast_dimensions must be increasing, got {broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


shape_rules[broadcast_in_dim_p] = _broadcast_in_dim_rule

reshape_p = primitive("reshape")


def _reshape_rule(x, *, new_sizes, dimensions=None, sharding=None):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size or any(d < 0 for d in new_sizes):
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) into shape "
                        f"{tuple(new_sizes)} (size {int(np.prod(new_sizes, dtype=np.int64))})")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


shape_rules[reshape_p] = _reshape_rule

transpose_p = primitive("transpose")


def _transpose_rule(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose permutation {permutation} is not a permutation of the "
                         f"axes of an array of shape {x.shape}")
    return ShapedArray(tuple(x.shape[i] for i in permutation), x.dtype, x.weak_type)


shape_rules[transpose_p] = _transpose_rule

squeeze_p = primitive("squeeze")


def _squeeze_rule(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ValueError(f"cannot squeeze dimension {d} of an array of shape {x.shape}: "
                             f"only axes of length 1 can be squeezed")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions), x.dtype, x.weak_type)


shape_rules[squeeze_p] = _squeeze_rule

expand_dims_p = None  # expand_dims is a reshape / broadcast_in_dim, as in JAX.

rev_p = primitive("rev")
shape_rules[rev_p] = lambda x, *, dimensions: x

concatenate_p = primitive("concatenate")


def _concatenate_rule(*xs, dimension):
    if not xs:
        raise ValueError("concatenate needs at least one array")
    _check_same_dtype("concatenate", xs)
    nd = xs[0].ndim
    for x in xs:
        if x.ndim != nd or any(a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if i != dimension):
            raise TypeError(f"concatenate requires equal shapes except along dimension {dimension}, "
                            f"got {_shape_str(xs)}")
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(shape, xs[0].dtype, _weak(xs))


shape_rules[concatenate_p] = _concatenate_rule

pad_p = primitive("pad")


def _pad_rule(x, padding_value, *, padding_config):
    _check_same_dtype("pad", (x, padding_value))
    if len(padding_config) != x.ndim:
        raise ValueError(f"pad: padding_config {padding_config} must have one entry per dimension of {x.shape}")
    shape = []
    for s, (lo, hi, interior) in zip(x.shape, padding_config):
        n = lo + hi + s + builtins.max(0, s - 1) * interior
        if n < 0 or interior < 0:
            raise ValueError(f"pad: padding {padding_config} gives a negative size for shape {x.shape}")
        shape.append(n)
    return ShapedArray(shape, x.dtype, x.weak_type)


shape_rules[pad_p] = _pad_rule

slice_p = primitive("slice")


def _slice_rule(x, *, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * x.ndim
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim):
        raise TypeError(f"slice: indices {start_indices}, {limit_indices} must match the rank of {x.shape}")
    shape = []
    for s, lo, hi, st in zip(x.shape, start_indices, limit_indices, strides):
        if not 0 <= lo <= hi <= s or st < 1:
            raise IndexError(f"slice [{lo}:{hi}:{st}] out of bounds for axis of size {s} (shape {x.shape})")
        shape.append((hi - lo + st - 1) // st)
    return ShapedArray(shape, x.dtype, x.weak_type)


shape_rules[slice_p] = _slice_rule

dynamic_slice_p = primitive("dynamic_slice")


def _dynamic_slice_rule(x, *idx, slice_sizes):
    if len(idx) != x.ndim or len(slice_sizes) != x.ndim:
        raise TypeError(f"dynamic_slice needs {x.ndim} start indices and slice sizes for shape {x.shape}")
    for i in idx:
        if not dtypes.is_int(i.dtype) or i.shape:
            raise TypeError(f"dynamic_slice start indices must be integer scalars, got {i.str_short()}")
    if any(not 0 <= s <= d for s, d in zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice slice_sizes {slice_sizes} must fit in shape {x.shape}")
    return ShapedArray(slice_sizes, x.dtype, x.weak_type)


shape_rules[dynamic_slice_p] = _dynamic_slice_rule

dynamic_update_slice_p = primitive("dynamic_update_slice")


def _dynamic_update_slice_rule(x, update, *idx):
    _check_same_dtype("dynamic_update_slice", (x, update))
    if update.ndim != x.ndim or len(idx) != x.ndim or any(u > s for u, s in zip(update.shape, x.shape)):
        raise TypeError(f"dynamic_update_slice update shape {update.shape} must fit operand shape {x.shape}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


shape_rules[dynamic_update_slice_p] = _dynamic_update_slice_rule


class GatherDimensionNumbers(NamedTuple):
    """As lax.GatherDimensionNumbers; the index vector is the last axis of `indices`."""
    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class GatherScatterMode:
    CLIP = "clip"
    FILL_OR_DROP = "fill"
    PROMISE_IN_BOUNDS = "promise_in_bounds"

    @staticmethod
    def from_any(mode):
        """The canonical mode string of None, "clip", "fill", "drop", "promise_in_bounds" or a JAX enum."""
        m = {None: "fill", "drop": "fill"}.get(mode, mode) if mode is None or isinstance(mode, str) else \
            {"CLIP": "clip", "FILL_OR_DROP": "fill", "PROMISE_IN_BOUNDS": "promise_in_bounds"}.get(
                getattr(mode, "name", None))
        if m not in ("clip", "fill", "promise_in_bounds"):
            raise ValueError(f'Unknown gather mode "{mode}"')
        return m


def _canon_index_dn(dn):
    return type(dn)(*(tuple(int(i) for i in f) for f in dn))


gather_p = primitive("gather")


def _gather_rule(operand, indices, *, dimension_numbers, slice_sizes, mode="fill", fill_value=None,
                 indices_are_sorted=False, unique_indices=False):
    dn = dimension_numbers
    if not dtypes.is_int(indices.dtype):
        raise TypeError(f"gather indices must be integers, got {indices.dtype.name}")
    if len(slice_sizes) != operand.ndim:
        raise TypeError(f"gather slice_sizes {slice_sizes} must have one entry per operand dim {operand.shape}")
    if indices.ndim < 1 or indices.shape[-1] != len(dn.start_index_map):
        raise TypeError(f"gather indices shape {indices.shape} must end in len(start_index_map)="
                        f"{len(dn.start_index_map)}")
    batch = indices.shape[:-1]
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    for d, (s, o) in enumerate(zip(slice_sizes, operand.shape)):
        if not 0 <= s <= o or (d in dropped and s != 1):
            raise TypeError(f"gather slice_sizes {tuple(slice_sizes)} out of range for operand shape "
                            f"{operand.shape} (collapsed/batching dims need size 1)")
    if len(dn.operand_batching_dims) != len(dn.start_indices_batching_dims) or any(
            operand.shape[a] != indices.shape[b] for a, b in zip(dn.operand_batching_dims,
                                                                 dn.start_indices_batching_dims)):
        raise TypeError(f"gather batching dims {dn.operand_batching_dims} / {dn.start_indices_batching_dims} "
                        f"do not match for shapes {operand.shape} and {indices.shape}")
    offset_sizes = [s for i, s in enumerate(slice_sizes) if i not in dropped]
    if len(dn.offset_dims) != len(offset_sizes):
        raise TypeError(f"gather offset_dims {dn.offset_dims} must have {len(offset_sizes)} entries")
    rank = len(batch) + len(offset_sizes)
    out, bi, oi = [], iter(batch), iter(offset_sizes)
    for d in range(rank):
        out.append(next(oi) if d in dn.offset_dims else next(bi))
    return ShapedArray(out, operand.dtype, operand.weak_type)


shape_rules[gather_p] = _gather_rule


class ScatterDimensionNumbers(NamedTuple):
    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


def _scatter_rule(operand, indices, updates, *, dimension_numbers, mode="fill",
                  indices_are_sorted=False, unique_indices=False):
    _check_same_dtype("scatter", (operand, updates))
    if not dtypes.is_int(indices.dtype):
        raise TypeError(f"scatter indices must be integers, got {indices.dtype.name}")
    dn = dimension_numbers
    if indices.ndim < 1 or indices.shape[-1] != len(dn.scatter_dims_to_operand_dims):
        raise TypeError(f"scatter indices shape {indices.shape} must end in len(scatter_dims_to_operand_dims)="
                        f"{len(dn.scatter_dims_to_operand_dims)}")
    window = [d for d in range(operand.ndim)
              if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    scatter_batch = [s for i, s in enumerate(updates.shape) if i not in dn.update_window_dims]
    if (len(window) != len(dn.update_window_dims) or tuple(scatter_batch) != indices.shape[:-1]
            or any(updates.shape[u] > operand.shape[d] for d, u in zip(window, dn.update_window_dims))):
        raise TypeError(f"scatter updates shape {updates.shape} does not match operand shape {operand.shape}, "
                        f"indices shape {indices.shape} and dimension numbers {dn}")
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


scatter_p = primitive("scatter")
scatter_add_p = primitive("scatter-add")
scatter_mul_p = primitive("scatter-mul")
scatter_min_p = primitive("scatter-min")
scatter_max_p = primitive("scatter-max")
scatter_prims = (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p)
for _p in scatter_prims:
    shape_rules[_p] = _scatter_rule

iota_p = primitive("iota")


def _iota_rule(*, dtype, shape, dimension, sharding=None):
    if not 0 <= dimension < len(shape):
        raise ValueError(f"iota dimension {dimension} out of range for shape {shape}")
    return ShapedArray(shape, dtype, False)


shape_rules[iota_p] = _iota_rule

# ----------------------------------------------------------------------------- reductions


def _reduce_shape(name, x, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ValueError(f"{name}: axis {a} is out of bounds for array of dimension {x.ndim}")
    return tuple(s for i, s in enumerate(x.shape) if i not in axes)


def _reduction(name, kinds=_ANY):
    p = primitive(name)

    def rule(x, *, axes, out_sharding=None):
        _kinds_check(name, x.dtype, kinds)
        return ShapedArray(_reduce_shape(name, x, axes), x.dtype, x.weak_type)

    shape_rules[p] = rule
    return p


reduce_sum_p = _reduction("reduce_sum")
reduce_prod_p = _reduction("reduce_prod")
reduce_max_p = _reduction("reduce_max")
reduce_min_p = _reduction("reduce_min")
reduce_and_p = _reduction("reduce_and", _INT_BOOL)   # bitwise on integers, as JAX's
reduce_or_p = _reduction("reduce_or", _INT_BOOL)
reduce_xor_p = _reduction("reduce_xor", _INT_BOOL)
reductions = (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p, reduce_xor_p)


def monoid_identity(kind, dt):
    """The identity, as a numpy scalar of dtype dt, of the monoid `kind`: one of "add",
    "mul", "max", "min", "and", "or", "xor" (and/or/xor bitwise on integers, logical on
    bool; max/min of a float type without infinities start from its finite extremes)."""
    dt = np.dtype(dt)
    if kind in ("add", "or", "xor"):
        return np.zeros((), dt)[()]
    if kind == "mul":
        return np.ones((), dt)[()]
    if kind == "and":
        return np.bitwise_not(np.zeros((), dt))[()]   # True, or all bits set
    if kind not in ("max", "min"):
        raise ValueError(f"unknown monoid {kind!r}")
    big = kind == "max"   # max starts from the smallest value
    if dt == np.bool_:
        return np.bool_(not big)
    if dtypes.is_int(dt):
        info = dtypes.iinfo(dt)
        return np.asarray(info.min if big else info.max, dt)[()]
    v = np.asarray(-np.inf if big else np.inf).astype(dt)
    if not np.isinf(v):   # e.g. float8_e4m3fn
        info = dtypes.finfo(dt)
        v = np.asarray(info.min if big else info.max, dt)
    return v[()]


def _argminmax(name):
    p = primitive(name)

    def rule(x, *, axes, index_dtype):
        if len(axes) != 1:
            raise ValueError(f"{name} takes exactly one axis, got {axes}")
        if x.shape[axes[0]] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        return ShapedArray(_reduce_shape(name, x, axes), index_dtype, False)

    shape_rules[p] = rule
    return p


argmax_p = _argminmax("argmax")
argmin_p = _argminmax("argmin")


def _cumulative(name):
    p = primitive(name)

    def rule(x, *, axis, reverse=False):
        if not 0 <= axis < x.ndim:      # a 0-d operand has no axis 0 either (as JAX)
            raise ValueError(f"{name}: axis {axis} is out of bounds for array of shape {x.shape}")
        return x

    shape_rules[p] = rule
    return p


cumsum_p = _cumulative("cumsum")
cumprod_p = _cumulative("cumprod")
cummax_p = _cumulative("cummax")
cummin_p = _cumulative("cummin")
cumlogsumexp_p = _cumulative("cumlogsumexp")
cumulatives = (cumsum_p, cumprod_p, cummax_p, cummin_p, cumlogsumexp_p)

# ----------------------------------------------------------------------------- products, sort
dot_general_p = primitive("dot_general")


def _dot_general_rule(x, y, *, dimension_numbers, precision=None, preferred_element_type=None,
                      out_sharding=None):
    (lc, rc), (lb, rb) = dimension_numbers
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise TypeError(f"dot_general dimension_numbers {dimension_numbers} are inconsistent")
    for a, b in zip(lc, rc):
        if x.shape[a] != y.shape[b]:
            raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                            f"got {x.shape} and {y.shape} (contracting {lc} with {rc})")
    for a, b in zip(lb, rb):
        if x.shape[a] != y.shape[b]:
            raise TypeError(f"dot_general requires batch dimensions to have the same shape, "
                            f"got {x.shape} and {y.shape}")
    if x.dtype != y.dtype and preferred_element_type is None:
        raise TypeError(f"dot_general requires operands of the same dtype, got {x.dtype.name} "
                        f"and {y.dtype.name}")
    batch = tuple(x.shape[i] for i in lb)
    lfree = tuple(s for i, s in enumerate(x.shape) if i not in lc and i not in lb)
    rfree = tuple(s for i, s in enumerate(y.shape) if i not in rc and i not in rb)
    dt = preferred_element_type or x.dtype
    return ShapedArray(batch + lfree + rfree, dt, _weak((x, y)))


shape_rules[dot_general_p] = _dot_general_rule

sort_p = primitive("sort", multiple_results=True)


def _sort_rule(*xs, dimension, is_stable, num_keys):
    shape = xs[0].shape
    if any(x.shape != shape for x in xs):
        raise TypeError(f"sort operands must have the same shape, got {_shape_str(xs)}")
    return tuple(xs)


shape_rules[sort_p] = _sort_rule

# ----------------------------------------------------------------------------- higher-order: jit
jit_p = primitive("jit", multiple_results=True)


def _jit_rule(*avals, graph, name, **_):
    g = graph.graph if isinstance(graph, ClosedGraph) else graph
    if len(avals) != len(g.invars):
        raise TypeError(f"jit call of {name} with {len(avals)} arguments, expected {len(g.invars)}")
    return tuple(g.out_avals)


shape_rules[jit_p] = _jit_rule

# Primitives whose outputs carry no derivative information (declared, so the rule
# coverage test accepts them without jvp/transpose rules of their own).
non_differentiable = {
    is_finite_p, not_p, and_p, or_p, xor_p, shift_left_p, shift_right_arithmetic_p,
    shift_right_logical_p, population_count_p, iota_p, argmax_p, argmin_p,
    reduce_and_p, reduce_or_p, reduce_xor_p, nextafter_p, bitcast_convert_type_p,
    *comparisons,
}

# ----------------------------------------------------------------------------- thin wrappers
# Each binds one primitive; operands must already agree in dtype (lax semantics).


def neg(x): return neg_p.bind(x)
def sign(x): return sign_p.bind(x)
def floor(x): return floor_p.bind(x)
def ceil(x): return ceil_p.bind(x)
def is_finite(x): return is_finite_p.bind(x)
def exp(x): return exp_p.bind(x)
def exp2(x): return exp2_p.bind(x)
def log(x): return log_p.bind(x)
def log1p(x): return log1p_p.bind(x)
def expm1(x): return expm1_p.bind(x)
def tanh(x): return tanh_p.bind(x)
def logistic(x): return logistic_p.bind(x)
def sin(x): return sin_p.bind(x)
def cos(x): return cos_p.bind(x)
def tan(x): return tan_p.bind(x)
def asin(x): return asin_p.bind(x)
def acos(x): return acos_p.bind(x)
def atan(x): return atan_p.bind(x)
def sinh(x): return sinh_p.bind(x)
def cosh(x): return cosh_p.bind(x)
def asinh(x): return asinh_p.bind(x)
def acosh(x): return acosh_p.bind(x)
def atanh(x): return atanh_p.bind(x)
def sqrt(x): return sqrt_p.bind(x)
def rsqrt(x): return rsqrt_p.bind(x)
def cbrt(x): return cbrt_p.bind(x)
def abs(x): return abs_p.bind(x)  # noqa: A001
def bitwise_not(x): return not_p.bind(x)
def real(x): return real_p.bind(x)
def imag(x): return imag_p.bind(x)
def conj(x): return conj_p.bind(x)
def square(x): return square_p.bind(x)
def integer_pow(x, y): return integer_pow_p.bind(x, y=int(y))
def population_count(x): return population_count_p.bind(x)
def erf(x): return erf_p.bind(x)
def erf_inv(x): return erf_inv_p.bind(x)
def lgamma(x): return lgamma_p.bind(x)
def digamma(x): return digamma_p.bind(x)


class RoundingMethod(enum.IntEnum):
    """How `round` breaks ties: away from zero (the default) or to the nearest even."""
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):  # noqa: A001
    try:
        method = RoundingMethod(rounding_method)
    except (ValueError, TypeError):
        raise ValueError(f"{rounding_method!r} is not a valid RoundingMethod (at {user_site()})") from None
    return round_p.bind(x, rounding_method=int(method))


def add(x, y): return add_p.bind(x, y)
def sub(x, y): return sub_p.bind(x, y)
def mul(x, y): return mul_p.bind(x, y)
def div(x, y): return div_p.bind(x, y)
def rem(x, y): return rem_p.bind(x, y)
def pow(x, y): return pow_p.bind(x, y)  # noqa: A001
def max(x, y): return max_p.bind(x, y)  # noqa: A001
def min(x, y): return min_p.bind(x, y)  # noqa: A001
def atan2(x, y): return atan2_p.bind(x, y)
def nextafter(x, y): return nextafter_p.bind(x, y)
def bitwise_and(x, y): return and_p.bind(x, y)
def bitwise_or(x, y): return or_p.bind(x, y)
def bitwise_xor(x, y): return xor_p.bind(x, y)
def shift_left(x, y): return shift_left_p.bind(x, y)
def shift_right_arithmetic(x, y): return shift_right_arithmetic_p.bind(x, y)
def shift_right_logical(x, y): return shift_right_logical_p.bind(x, y)
def eq(x, y): return eq_p.bind(x, y)
def ne(x, y): return ne_p.bind(x, y)
def lt(x, y): return lt_p.bind(x, y)
def le(x, y): return le_p.bind(x, y)
def gt(x, y): return gt_p.bind(x, y)
def ge(x, y): return ge_p.bind(x, y)
def complex(x, y): return complex_p.bind(x, y)  # noqa: A001


def select_n(which, *cases):
    return select_n_p.bind(which, *cases)


def select(pred, on_true, on_false):
    return select_n_p.bind(pred, on_false, on_true)


def clamp(lo, x, hi):
    return clamp_p.bind(lo, x, hi)


def convert_element_type(x, new_dtype, weak_type=False):
    new_dtype = dtypes.canonicalize(new_dtype)
    aval = get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type and not isinstance(x, (int, float, builtins.complex, bool)):
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))


def bitcast_convert_type(x, new_dtype):
    return bitcast_convert_type_p.bind(x, new_dtype=dtypes.dtype(new_dtype))


def broadcast_in_dim(x, shape, broadcast_dimensions):
    shape, bd = tuple(int(s) for s in shape), tuple(int(d) for d in broadcast_dimensions)
    if get_aval(x).shape == shape and bd == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=bd)


def broadcast(x, sizes):
    aval = get_aval(x)
    shape = tuple(sizes) + aval.shape
    return broadcast_in_dim(x, shape, range(len(sizes), len(shape)))


# How `out_sharding=` of reshape and dot_general is honoured: registered by the sharding layer
# above this one (xlafront/_explicit_sharding.py), which it needs (meshes, types, reshard).
out_sharding_impls = {}


def reshape(x, new_sizes, dimensions=None, *, out_sharding=None):
    if out_sharding is not None:   # the result's sharding type (xlafront/_explicit_sharding.py)
        return out_sharding_impls["reshape"](reshape, x, new_sizes, dimensions, out_sharding)
    new_sizes = tuple(int(s) for s in new_sizes)
    if dimensions is not None and tuple(dimensions) != tuple(range(len(dimensions))):
        x = transpose(x, dimensions)
    if get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes, dimensions=None)


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))) and len(permutation) == get_aval(x).ndim:
        return x
    return transpose_p.bind(x, permutation=permutation)


def squeeze(x, dimensions):
    dimensions = tuple(sorted(int(d) for d in dimensions))
    return squeeze_p.bind(x, dimensions=dimensions) if dimensions else x


def expand_dims(x, dimensions):
    aval = get_aval(x)
    nd = aval.ndim + len(dimensions)
    dims = sorted(d % nd for d in dimensions)
    shape = list(aval.shape)
    for d in dims:
        shape.insert(d, 1)
    return reshape(x, shape)


def rev(x, dimensions):
    return rev_p.bind(x, dimensions=tuple(int(d) for d in dimensions))


def concatenate(operands, dimension):
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=int(dimension))


def pad(x, padding_value, padding_config):
    return pad_p.bind(x, padding_value, padding_config=tuple(tuple(int(v) for v in c) for c in padding_config))


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001
    return slice_p.bind(x, start_indices=tuple(int(i) for i in start_indices),
                        limit_indices=tuple(int(i) for i in limit_indices),
                        strides=None if strides is None else tuple(int(s) for s in strides))


def _wrap_start_indices(start_indices, shape, name="dynamic_slice"):
    """Negative start indices count from the end (as lax); StableHLO would clamp them to 0.
    As JAX: a Python int takes the default int dtype, a NumPy scalar its own (canonical)
    dtype, and all the starts must then have one dtype."""
    out = []
    for i, size in zip(start_indices, shape):
        if isinstance(i, (int, np.integer)):
            dt = dtypes.canonicalize(np.dtype(np.int64) if isinstance(i, int) else np.asarray(i).dtype)
            i = int(i)
            v = i + size if i < 0 else i
            info = np.iinfo(dt)
            out.append(np.asarray(v, dt)[()] if info.min <= v <= info.max else
                       np.asarray(builtins.min(builtins.max(v, info.min), info.max), dt)[()])
            continue
        a = get_aval(i)
        if dtypes.is_unsigned(a.dtype):
            out.append(i)
            continue
        # the size in the index's own type, wrapping when it does not fit (as JAX; an int8
        # start on a 300-long axis counts from the end modulo 256)
        zero, n = np.asarray(0, a.dtype)[()], np.asarray(size).astype(a.dtype)[()]
        out.append(select_n_p.bind(lt_p.bind(i, zero), i, add_p.bind(i, n)))
    kinds = [get_aval(i).dtype for i in out]
    if len(set(kinds)) > 1:
        sep = ":" if name == "dynamic_slice" else ""
        raise TypeError(f"index arguments to {name} must be integers of the same type, got{sep} "
                        f"{', '.join(k.name for k in kinds)} (at {user_site()})")
    return out


def dynamic_slice(x, start_indices, slice_sizes):
    idx = _wrap_start_indices(start_indices, get_aval(x).shape)
    return dynamic_slice_p.bind(x, *idx, slice_sizes=tuple(int(s) for s in slice_sizes))


def dynamic_update_slice(x, update, start_indices):
    return dynamic_update_slice_p.bind(x, update, *_wrap_start_indices(start_indices, get_aval(x).shape,
                                                                      "dynamic_update_slice"))


def gather(operand, indices, dimension_numbers, slice_sizes, *, mode="fill", fill_value=None,
           indices_are_sorted=False, unique_indices=False):
    return gather_p.bind(operand, indices, dimension_numbers=_canon_index_dn(dimension_numbers),
                         slice_sizes=tuple(int(s) for s in slice_sizes), mode=GatherScatterMode.from_any(mode),
                         fill_value=fill_value,
                         indices_are_sorted=bool(indices_are_sorted), unique_indices=bool(unique_indices))


def _scatter_wrapper(p):
    def scatter_fn(operand, indices, updates, dimension_numbers, *, mode="fill",
                   indices_are_sorted=False, unique_indices=False):
        return p.bind(operand, indices, updates, dimension_numbers=_canon_index_dn(dimension_numbers),
                      mode=GatherScatterMode.from_any(mode),
                      indices_are_sorted=bool(indices_are_sorted), unique_indices=bool(unique_indices))
    scatter_fn.__name__ = p.name.replace("-", "_")
    return scatter_fn


scatter = _scatter_wrapper(scatter_p)
scatter_add = _scatter_wrapper(scatter_add_p)
scatter_mul = _scatter_wrapper(scatter_mul_p)
scatter_min = _scatter_wrapper(scatter_min_p)
scatter_max = _scatter_wrapper(scatter_max_p)


def iota(dtype, size):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=tuple(int(s) for s in shape),
                       dimension=int(dimension))


def _axes(axes):
    return tuple(sorted(int(a) for a in axes))


def reduce_sum(x, axes): return reduce_sum_p.bind(x, axes=_axes(axes))
def reduce_prod(x, axes): return reduce_prod_p.bind(x, axes=_axes(axes))
def reduce_max(x, axes): return reduce_max_p.bind(x, axes=_axes(axes))
def reduce_min(x, axes): return reduce_min_p.bind(x, axes=_axes(axes))
def reduce_and(x, axes): return reduce_and_p.bind(x, axes=_axes(axes))
def reduce_or(x, axes): return reduce_or_p.bind(x, axes=_axes(axes))
def reduce_xor(x, axes): return reduce_xor_p.bind(x, axes=_axes(axes))


def argmax(x, axis, index_dtype):
    return argmax_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def argmin(x, axis, index_dtype):
    return argmin_p.bind(x, axes=(int(axis),), index_dtype=dtypes.canonicalize(index_dtype))


def cumsum(x, axis=0, reverse=False): return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cumprod(x, axis=0, reverse=False): return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummax(x, axis=0, reverse=False): return cummax_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cummin(x, axis=0, reverse=False): return cummin_p.bind(x, axis=int(axis), reverse=bool(reverse))
def cumlogsumexp(x, axis=0, reverse=False): return cumlogsumexp_p.bind(x, axis=int(axis), reverse=bool(reverse))


def _canon_dn(dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    return ((tuple(int(i) for i in lc), tuple(int(i) for i in rc)),
            (tuple(int(i) for i in lb), tuple(int(i) for i in rb)))


def dot_general(x, y, dimension_numbers, precision=None, preferred_element_type=None, *, out_sharding=None):
    # out_sharding: where the result lives; its value does not depend on it, and on one
    # device there is one place (accepted as JAX's; the sharding layer places results)
    pet = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    if out_sharding is not None:   # the result's sharding type (xlafront/_explicit_sharding.py)
        return out_sharding_impls["dot_general"](x, y, _canon_dn(dimension_numbers), _canon_precision(precision),
                                        pet, out_sharding)
    return dot_general_p.bind(x, y, dimension_numbers=_canon_dn(dimension_numbers),
                              precision=_canon_precision(precision), preferred_element_type=pet)


class Precision(enum.Enum):
    """As jax.lax.Precision: the precision of dot/conv operands on accelerators. Also made
    from strings: "default"/"high"/"highest" or "bfloat16"/"tensorfloat32"/"float32"."""
    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            return cls.__members__.get({"default": "DEFAULT", "high": "HIGH", "highest": "HIGHEST",
                                        "bfloat16": "DEFAULT", "fastest": "DEFAULT", "tensorfloat32": "HIGH",
                                        "bfloat16_3x": "HIGH", "float32": "HIGHEST"}.get(value))
        return cls.__members__.get(getattr(value, "name", None))  # e.g. jax.lax.Precision.HIGH

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"Precision.{self.name}"


def _precision_name(p):
    """"HIGHEST" etc. of a Precision, one of its string forms, or a name already canonical."""
    return p if isinstance(p, str) and p in Precision.__members__ else Precision(p).name


def _canon_precision(precision):
    """None, or a pair of Precision names (params stay plain strings: "HIGHEST")."""
    if precision is None:
        return None
    try:
        if isinstance(precision, (tuple, list)):
            if len(precision) != 2 or any(p is None for p in precision):
                raise ValueError
            return tuple(_precision_name(p) for p in precision)
        name = _precision_name(precision)
    except ValueError:
        raise ValueError(f"Precision argument must be one of: None, a string in ['highest', 'float32', "
                         f"'high', 'bfloat16_3x', 'tensorfloat32', 'default', 'bfloat16', 'fastest'], a "
                         f"lax.Precision value, or a tuple of two lax.Precision values or strings; but got "
                         f"{precision!r}.") from None
    return (name, name)


def dot(x, y, precision=None, preferred_element_type=None, *, out_sharding=None):
    xa, ya = get_aval(x), get_aval(y)
    if xa.ndim in (1, 2) and ya.ndim in (1, 2):
        return dot_general(x, y, (((xa.ndim - 1,), (0,)), ((), ())), precision, preferred_element_type,
                           out_sharding=out_sharding)
    raise TypeError(f"dot requires 1-D or 2-D operands, got shapes {xa.shape} and {ya.shape}")


def sort(operands, dimension=-1, is_stable=True, num_keys=1):
    single = not isinstance(operands, (tuple, list))
    ops = [operands] if single else list(operands)
    nd = get_aval(ops[0]).ndim
    outs = sort_p.bind(*ops, dimension=int(dimension) % builtins.max(nd, 1), is_stable=bool(is_stable),
                       num_keys=int(num_keys))
    return outs[0] if single else tuple(outs)


def copy(x):
    return copy_p.bind(x)
