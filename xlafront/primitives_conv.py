"""Primitives of the conv family: convolutions and windowed reductions (core layer).

- `conv_general_dilated`: StableHLO's `convolution`. `dimension_numbers` is a
  `ConvDimensionNumbers` of three specs, each (batch-or-out-feature dim, feature dim,
  spatial dims...) as axis indices of lhs, rhs and the output; the spatial dims of all
  three are listed in the same order, the rhs's (as jax.lax). `padding` is one (lo, hi)
  pair per spatial dim (string paddings are resolved by the wrappers).
- `reduce_window_sum` / `_max` / `_min`: StableHLO's `reduce_window` with the monoid's
  identity as init value. Padding and base-dilation holes take no part in a window.
- `reduce_window_argmax` / `_argmin` (internal, used by the derivatives of max/min): on an
  operand that is already padded and dilated, per output element and per operand dim the
  position of the window's selected element: the first maximum (minimum) in the window's
  row-major order, which is where XLA's select_and_scatter, hence JAX's gradient, puts it.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.core import ShapedArray, primitive, shape_rules


class ConvDimensionNumbers(NamedTuple):
    """As jax.lax.ConvDimensionNumbers: (batch, feature, spatial...) axes of lhs and out,
    (out feature, in feature, spatial...) axes of rhs."""
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def dilate_dim(n, d):
    """Size of an axis of n elements with d - 1 holes between neighbours."""
    return 0 if n == 0 else 1 + d * (n - 1)


def window_out_dim(n, window, stride):
    """Number of windows of (dilated) size `window` at `stride` in (padded) size n."""
    return (n - window) // stride + 1 if n >= window else 0


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """(lo, hi) per dim of 'VALID', 'SAME' (extra at the end) or 'SAME_LOWER' (extra at the
    start), as jax.lax.padtype_to_pads; the window sizes are the dilated ones."""
    kind = padding.upper() if isinstance(padding, str) else padding
    if kind == "VALID":
        return tuple((0, 0) for _ in in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise RuntimeError(f"Unrecognized padding type: expected 'VALID', 'SAME', or 'SAME_LOWER', "
                           f"got {padding}.")
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        small = total // 2
        pads.append((small, total - small) if kind == "SAME" else (total - small, small))
    return tuple(pads)


# ----------------------------------------------------------------------------- convolution
conv_general_dilated_p = primitive("conv_general_dilated")


def _check_positive(name, what, vals, cls=ValueError):
    if any(v <= 0 for v in vals):
        raise cls(f"{name} {what} must have every element be strictly positive, got {tuple(vals)}.")


def _conv_rule(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
               feature_group_count, batch_group_count, precision=None, preferred_element_type=None):
    if lhs.ndim != rhs.ndim:
        raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got {lhs.ndim} and {rhs.ndim}.")
    if lhs.ndim < 2:
        raise TypeError(f"convolution requires operands of rank at least 2, got shapes {lhs.shape} and "
                        f"{rhs.shape}.")
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"lax.conv_general_dilated requires arguments to have the same dtypes, got "
                        f"{lhs.dtype.name}, {rhs.dtype.name}.")
    if lhs.dtype == dtypes.bool_:
        raise TypeError("lax.conv_general_dilated does not accept dtype bool.")
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nsp = lhs.ndim - 2
    for name, v in (("window_strides", window_strides), ("padding", padding),
                    ("lhs_dilation", lhs_dilation), ("rhs_dilation", rhs_dilation)):
        if len(v) != nsp:
            raise ValueError(f"conv_general_dilated window and {name} must have the same number of "
                             f"dimensions, but got {nsp} and {len(v)}")
    _check_positive("conv_general_dilated", "window_strides", window_strides)
    if any(d <= 0 for d in tuple(lhs_dilation) + tuple(rhs_dilation)):
        bad = lhs_dilation if any(d <= 0 for d in lhs_dilation) else rhs_dilation
        raise TypeError(f"All dilations must be positive, got {tuple(bad)}.")
    for name, g in (("feature_group_count", feature_group_count), ("batch_group_count", batch_group_count)):
        if not isinstance(g, (int, np.integer)) or g <= 0:
            raise ValueError(f"conv_general_dilated {name} must be a positive integer, got {g}.")
    if feature_group_count > 1 and batch_group_count > 1:
        raise ValueError(f"At most one of feature_group_count and batch_group_count may be > 1, got "
                         f"feature_group_count={feature_group_count} and batch_group_count={batch_group_count}.")
    lhs_feat, rhs_in, rhs_out = lhs.shape[lhs_spec[1]], rhs.shape[rhs_spec[1]], rhs.shape[rhs_spec[0]]
    lhs_batch = lhs.shape[lhs_spec[0]]
    G, B = feature_group_count, batch_group_count
    if lhs_feat % G:
        raise ValueError(f"conv_general_dilated feature_group_count must divide lhs feature dimension size, "
                         f"but {G} does not divide {lhs_feat}.")
    if lhs_feat // G != rhs_in:
        raise ValueError(f"conv_general_dilated lhs feature dimension size divided by feature_group_count must "
                         f"equal the rhs input feature dimension size, but {lhs_feat} // {G} != {rhs_in}.")
    if rhs_out % G:
        raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a multiple of "
                         f"feature_group_count, but {rhs_out} is not a multiple of {G}.")
    if lhs_batch % B:
        raise ValueError(f"conv_general_dilated batch_group_count must divide lhs batch dimension size, "
                         f"but {B} does not divide {lhs_batch}.")
    if rhs_out % B:
        raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a multiple of "
                         f"batch_group_count, but {rhs_out} is not a multiple of {B}.")
    spatial = []
    for i in range(nsp):
        n = dilate_dim(lhs.shape[lhs_spec[2 + i]], lhs_dilation[i]) + padding[i][0] + padding[i][1]
        k = dilate_dim(rhs.shape[rhs_spec[2 + i]], rhs_dilation[i])
        spatial.append(window_out_dim(n, k, window_strides[i]))
    out_shape = [0] * lhs.ndim
    for d, s in zip(out_spec, [lhs_batch // B, rhs_out] + spatial):
        out_shape[d] = s
    dt = lhs.dtype
    if preferred_element_type is not None:
        dt = _preferred_type(dt, np.dtype(preferred_element_type))
    return ShapedArray(tuple(out_shape), dt, lhs.weak_type and rhs.weak_type)


shape_rules[conv_general_dilated_p] = _conv_rule


def _preferred_type(dt, pet):
    """The output dtype `pet` asked of a convolution of dt operands, checked as JAX does."""
    kind = lambda d: "int" if dtypes.is_int(d) else "float" if dtypes.is_float(d) else \
        "complex" if dtypes.is_complex(d) else None   # noqa: E731
    if (kind(dt), kind(pet)) not in (("int", "int"), ("int", "float"), ("float", "float"), ("complex", "complex")):
        raise TypeError("Input type is incompatible with `preferred_element_type`. The compatible combinations "
                        "of (input_type, preferred_element_type) are (integral, integral), (integral, floating), "
                        "(floating, floating), (complex, complex.")
    if kind(dt) == kind(pet) == "int" and not dtypes.is_unsigned(dt) and dtypes.is_unsigned(pet):
        raise TypeError("`preferred_element_type` must have the same signedness as the original type.")
    if kind(dt) == kind(pet) and pet.itemsize < dt.itemsize:
        raise TypeError("`preferred_element_type` must not be narrower than the original type.")
    return pet


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                         feature_group_count=1, batch_group_count=1, precision=None,
                         preferred_element_type=None):
    """Binds the primitive with canonical params (explicit pads, ConvDimensionNumbers of
    int tuples); used by the rules. The jax.lax-style wrapper is xlafront/lax/_conv.py."""
    dn = ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dimension_numbers))
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=tuple(int(s) for s in window_strides),
        padding=tuple((int(lo), int(hi)) for lo, hi in padding),
        lhs_dilation=tuple(int(d) for d in lhs_dilation), rhs_dilation=tuple(int(d) for d in rhs_dilation),
        dimension_numbers=dn, feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), precision=precision,
        preferred_element_type=preferred_element_type)


# ----------------------------------------------------------------------------- windowed reductions
def _window_shape(name, x, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    nd = x.ndim
    if len(window_dimensions) != nd:
        raise TypeError(f"{name} got the wrong number of window_dimensions for operand: got operand shape "
                        f"{x.shape} with window_dimensions {tuple(window_dimensions)}.")
    for what, v in (("window_strides", window_strides), ("base_dilation", base_dilation),
                    ("window_dilation", window_dilation)):
        if len(v) != nd:
            raise TypeError(f"{name} got inconsistent {what} and window_dimensions: got {what} {tuple(v)} "
                            f"and window_dimensions {tuple(window_dimensions)}.")
    if len(padding) != nd:
        raise TypeError(f"{name} got inconsistent padding and window_dimensions: got padding "
                        f"{tuple(padding)} and window_dimensions {tuple(window_dimensions)}.")
    _check_positive(name, "window_dimensions", window_dimensions, TypeError)
    _check_positive(name, "window_strides", window_strides, TypeError)
    if any(d <= 0 for d in tuple(base_dilation) + tuple(window_dilation)):
        bad = base_dilation if any(d <= 0 for d in base_dilation) else window_dilation
        raise TypeError(f"All dilations must be positive, got {tuple(bad)}.")
    out = []
    for n, k, s, (lo, hi), bd, wd in zip(x.shape, window_dimensions, window_strides, padding, base_dilation,
                                         window_dilation):
        out.append(window_out_dim(dilate_dim(n, bd) + lo + hi, dilate_dim(k, wd), s))
    return tuple(out)


def _reduce_window(name, kinds):
    p = primitive(name)

    def rule(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        P._kinds_check(name, x.dtype, kinds)
        shape = _window_shape(name, x, window_dimensions, window_strides, padding, base_dilation,
                              window_dilation)
        return ShapedArray(shape, x.dtype, x.weak_type)

    shape_rules[p] = rule
    return p


reduce_window_sum_p = _reduce_window("reduce_window_sum", ("int", "float", "complex"))
reduce_window_max_p = _reduce_window("reduce_window_max", ("int", "float", "bool"))
reduce_window_min_p = _reduce_window("reduce_window_min", ("int", "float", "bool"))
reduce_window_prims = (reduce_window_sum_p, reduce_window_max_p, reduce_window_min_p)


def window_params(window_dimensions, window_strides=None, padding=None, base_dilation=None,
                  window_dilation=None):
    """The canonical params of a reduce_window_* primitive (int tuples); strides and
    dilations default to 1, padding to none."""
    nd = len(window_dimensions)
    return dict(window_dimensions=tuple(int(k) for k in window_dimensions),
                window_strides=(1,) * nd if window_strides is None else tuple(int(s) for s in window_strides),
                padding=((0, 0),) * nd if padding is None else tuple((int(lo), int(hi)) for lo, hi in padding),
                base_dilation=(1,) * nd if base_dilation is None else tuple(int(d) for d in base_dilation),
                window_dilation=(1,) * nd if window_dilation is None else tuple(int(d) for d in window_dilation))


def _window_select(name):
    p = primitive(name, multiple_results=True)

    def rule(x, *, window_dimensions, window_strides, window_dilation):
        nd = x.ndim
        shape = _window_shape(name, x, window_dimensions, window_strides, ((0, 0),) * nd, (1,) * nd,
                              window_dilation)
        return tuple(ShapedArray(shape, dtypes.int32, False) for _ in range(nd))

    shape_rules[p] = rule
    P.non_differentiable.add(p)   # integer positions: no derivative
    return p


reduce_window_argmax_p = _window_select("reduce_window_argmax")
reduce_window_argmin_p = _window_select("reduce_window_argmin")
