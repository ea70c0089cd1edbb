"""jax.lax's convolution and windowed-reduction functions: conv_general_dilated, conv,
conv_with_general_padding, conv_transpose, conv_dimension_numbers, reduce_window.

They resolve JAX's argument forms (string paddings, dimension-number strings, None
defaults) into the canonical params of the conv-family primitives
(xlafront/primitives_conv.py)."""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes, tree_util
from xlafront import primitives as P
from xlafront.core import get_aval
from xlafront.lax._extras import init_is_identity, monoid_prims
from xlafront.primitives_conv import (ConvDimensionNumbers, conv_general_dilated_p, dilate_dim,
                                      padtype_to_pads, reduce_window_sum_p, reduce_window_max_p,
                                      reduce_window_min_p, window_params)

__all__ = ["ConvDimensionNumbers", "conv_dimension_numbers", "conv_general_dilated", "conv",
           "conv_with_general_padding", "conv_transpose", "padtype_to_pads", "reduce_window",
           "conv_general_dilated_p", "reduce_window_sum_p", "reduce_window_max_p", "reduce_window_min_p"]


def _at():
    return f" (at {core.user_site()})"


def _is_spec_tuple(dn):
    return (isinstance(dn, (tuple, list)) and len(dn) == 3 and
            all(isinstance(s, (tuple, list)) and all(isinstance(i, (int, np.integer)) for i in s) for s in dn))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers):
    """A ConvDimensionNumbers from None (NC..., OI..., NC...), a tuple of three layout
    strings such as ('NHWC', 'HWIO', 'NHWC'), or a ConvDimensionNumbers."""
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if len(lhs_shape) != len(rhs_shape):
        raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got {len(lhs_shape)} and "
                        f"{len(rhs_shape)}.{_at()}")
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if not isinstance(dimension_numbers, (tuple, list)):
        raise TypeError(f"convolution dimension_numbers must be tuple/list or None, got "
                        f"{type(dimension_numbers)}.{_at()}")
    if len(dimension_numbers) != 3:
        raise TypeError(f"convolution dimension_numbers list/tuple must be length 3, got "
                        f"{len(dimension_numbers)}.{_at()}")
    if _is_spec_tuple(dimension_numbers):   # e.g. a jax.lax.ConvDimensionNumbers
        return ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dimension_numbers))
    if not all(isinstance(s, str) for s in dimension_numbers):
        raise TypeError(f"convolution dimension_numbers elements must be strings, got "
                        f"{tuple(map(type, dimension_numbers))}.{_at()}")
    lhs_s, rhs_s, out_s = dimension_numbers
    for i, s in enumerate(dimension_numbers):
        if len(s) != len(lhs_shape):
            raise TypeError(f"convolution dimension_numbers[{i}] must have len equal to the ndim of lhs and "
                            f"rhs, got {len(s)} for lhs and rhs shapes {tuple(lhs_shape)} and "
                            f"{tuple(rhs_shape)}.{_at()}")
    for i, (s, a, b) in enumerate(((lhs_s, "N", "C"), (rhs_s, "O", "I"), (out_s, "N", "C"))):
        if s.count(a) != 1 or s.count(b) != 1:
            raise TypeError(f"convolution dimension_numbers[{i}] must contain the characters '{a}' and '{b}' "
                            f"exactly once, got {s}.{_at()}")
    spatial = [s.replace(a, "").replace(b, "") for s, a, b in
               ((lhs_s, "N", "C"), (rhs_s, "O", "I"), (out_s, "N", "C"))]
    if len(set(spatial[1])) != len(spatial[1]) or any(set(sp) != set(spatial[1]) for sp in spatial):
        raise TypeError(f"convolution dimension_numbers elements must each have the same set of spatial "
                        f"characters, got {tuple(dimension_numbers)}.{_at()}")
    order = spatial[1]   # spatial dims are listed in the rhs's order, as JAX does

    def perm(s, a, b):
        return (s.index(a), s.index(b)) + tuple(s.index(c) for c in order)

    return ConvDimensionNumbers(perm(lhs_s, "N", "C"), perm(rhs_s, "O", "I"), perm(out_s, "N", "C"))


def _ints(v, n, what):
    if v is None:
        return (1,) * n
    try:
        return tuple(int(i) for i in v)
    except TypeError:
        raise TypeError(f"conv_general_dilated {what} must be a sequence of integers, got {v!r}.{_at()}") from None


def _explicit_pads(padding, n):
    try:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        raise TypeError(f"padding must be 'VALID', 'SAME', 'SAME_LOWER' or a sequence of (low, high) integer "
                        f"pairs, got {padding!r}.{_at()}") from None
    if len(pads) != n:
        raise TypeError(f"Wrong number of explicit pads for convolution: expected {n}, got {len(pads)}.{_at()}")
    return pads


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
                         preferred_element_type=None):
    """As jax.lax.conv_general_dilated."""
    la, ra = get_aval(lhs), get_aval(rhs)
    dn = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    nsp = max(la.ndim - 2, 0)
    strides = _ints(window_strides, nsp, "window_strides")
    lhs_dilation = _ints(lhs_dilation, nsp, "lhs_dilation")
    rhs_dilation = _ints(rhs_dilation, nsp, "rhs_dilation")
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise ValueError("String padding is not implemented for transposed convolution using this op. "
                             "Please either exactly specify the required padding or use conv_transpose."
                             f"{_at()}")
        in_sp = [la.shape[i] for i in dn.lhs_spec[2:]]
        k_sp = [dilate_dim(ra.shape[i], d) for i, d in zip(dn.rhs_spec[2:], rhs_dilation)]
        pads = padtype_to_pads(in_sp, k_sp, strides, padding)
    else:
        pads = _explicit_pads(padding, nsp)
    pet = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=strides, padding=pads, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
        dimension_numbers=dn, feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), precision=P._canon_precision(precision),
        preferred_element_type=pet)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """As jax.lax.conv: NC... / OI... layouts, no dilation."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, precision=None,
                              preferred_element_type=None):
    """As jax.lax.conv_with_general_padding."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                rhs_dilation=rhs_dilation, precision=precision,
                                preferred_element_type=preferred_element_type)


def _conv_transpose_pads(k, s, padding):
    """(lo, hi) of the lhs-dilated convolution that conv_transpose is: 'SAME' gives s * n
    outputs, 'VALID' s * n + max(k - s, 0) (TensorFlow's conv2d_transpose sizes)."""
    if padding == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        lo = k - 1
    else:
        raise ValueError(f"conv_transpose padding must be 'SAME', 'VALID' or explicit pairs, got "
                         f"{padding!r}.{_at()}")
    return lo, total - lo


_TRANSPOSE_DEFAULT_DN = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None):
    """As jax.lax.conv_transpose: the gradient-of-a-strided-convolution layout, computed as a
    convolution with lhs dilation `strides` (TensorFlow's default layouts when
    dimension_numbers is None)."""
    la, ra = get_aval(lhs), get_aval(rhs)
    if dimension_numbers is None:
        if la.ndim not in _TRANSPOSE_DEFAULT_DN:
            raise ValueError(f"No 4+ dimensional dimension_number defaults for conv_transpose of rank "
                             f"{la.ndim}.{_at()}")
        dimension_numbers = _TRANSPOSE_DEFAULT_DN[la.ndim]
    dn = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    nsp = la.ndim - 2
    strides = _ints(strides, nsp, "strides")
    rhs_dilation = _ints(rhs_dilation, nsp, "rhs_dilation")
    k_sp = [dilate_dim(ra.shape[i], d) for i, d in zip(dn.rhs_spec[2:], rhs_dilation)]
    if isinstance(padding, str):
        pads = tuple(_conv_transpose_pads(k, s, padding.upper()) for k, s in zip(k_sp, strides))
    else:
        pads = _explicit_pads(padding, nsp)
    if transpose_kernel:
        rhs = P.rev(rhs, tuple(dn.rhs_spec[2:]))
        dn = dn._replace(rhs_spec=(dn.rhs_spec[1], dn.rhs_spec[0]) + tuple(dn.rhs_spec[2:]))
    return conv_general_dilated(lhs, rhs, (1,) * nsp, pads, lhs_dilation=strides, rhs_dilation=rhs_dilation,
                                dimension_numbers=dn, precision=precision,
                                preferred_element_type=preferred_element_type)


# ----------------------------------------------------------------------------- reduce_window
_MONOIDS = {P.add_p: reduce_window_sum_p, P.max_p: reduce_window_max_p, P.min_p: reduce_window_min_p}


def reduce_window(operand, init_value, computation, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """As jax.lax.reduce_window, for a computation that is addition, max or min (lax.add,
    lax.max, lax.min or a function that computes one of them). As XLA on CPU computes it,
    each output is `init_value` combined with the window's operand elements (padding and
    dilation holes take no part), which for the monoid's identity is the plain reduction."""
    leaves = operand if isinstance(operand, (tuple, list)) else None
    if leaves is not None:
        if len(leaves) != 1:
            raise NotImplementedError(f"reduce_window of several operands is not implemented yet{_at()}")
        operand = leaves[0]
        init_value = init_value[0] if isinstance(init_value, (tuple, list)) else init_value
    xa = get_aval(operand)
    nd = xa.ndim
    window_dimensions = tuple(int(k) for k in window_dimensions)
    window_strides = tuple(int(s) for s in window_strides)
    wdil = (1,) * nd if window_dilation is None else tuple(int(d) for d in window_dilation)
    if len(window_dimensions) != nd:
        raise TypeError(f"reduce_window got the wrong number of window_dimensions for operand: got operand "
                        f"shape {xa.shape} with window_dimensions {window_dimensions}.{_at()}")
    if isinstance(padding, str):
        if len(window_strides) != nd or len(wdil) != nd:
            raise TypeError(f"reduce_window got inconsistent window_strides and window_dimensions: got "
                            f"window_strides {window_strides} and window_dimensions {window_dimensions}.{_at()}")
        pads = padtype_to_pads(xa.shape, [dilate_dim(k, d) for k, d in zip(window_dimensions, wdil)],
                               window_strides, padding)
    else:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    ia = get_aval(init_value)
    if ia.shape != ():
        raise TypeError(f"reduce_window init_value must be a scalar, got shape {ia.shape}.{_at()}")
    prims = monoid_prims(computation, [xa], tree_util.tree_structure(0))
    prim = prims[0] if prims else None
    if prim not in _MONOIDS:
        name = getattr(computation, "__name__", repr(computation))
        raise NotImplementedError(f"lax.reduce_window with the computation {name} is not implemented yet: "
                                  f"xlafront supports addition, max and min{_at()}")
    out = _MONOIDS[prim].bind(operand, **window_params(window_dimensions, window_strides, pads, base_dilation,
                                                       wdil))
    # combine with the init value unless it is the identity (known statically)
    if init_is_identity(prim, init_value):
        return out
    if ia.dtype != xa.dtype:   # as JAX: an init value that is not the identity must match
        raise TypeError(f"reduce_window got inconsistent dtypes for operands and init_values: got operand "
                        f"dtypes [{xa.dtype!r}] and init_value dtypes [{ia.dtype!r}].{_at()}")
    init = init_value if isinstance(init_value, core.Tracer) else np.asarray(init_value, xa.dtype)[()]
    init = P.broadcast_in_dim(init, get_aval(out).shape, ())
    return {P.add_p: P.add, P.max_p: P.max, P.min_p: P.min}[prim](init, out)
