"""jvp, transpose and batching rules of the conv family.

Convolution (1-D notation, per spatial dim; lhs x of length L dilated by `ld` to
Ld = (L-1)*ld + 1 and padded by (lo, hi); kernel w of K taps dilated by `rd` to
Kd = (K-1)*rd + 1; stride s; O outputs, Od = (O-1)*s + 1):

    y[o] = sum_k xpad[o*s + k*rd] * w[k]

It is bilinear, so the jvp is conv(tx, w) + conv(x, tw), and each transpose is again a
convolution:
- d/dx: the cotangent dilated by s, correlated with the spatially reversed kernel (in and
  out features swapped) at stride ld, padded by (Kd-1-lo, Ld-Od+lo) so that exactly L
  outputs land on x's positions. Feature groups G become the feature groups of the
  transposed conv (the kernel's G out-feature groups are regrouped onto its in-feature
  axis); batch groups B likewise, the result's B feature groups then moved back into the
  batch axis.
- d/dw: x correlated with the cotangent (batch and feature roles swapped on both), stride
  rd, rhs dilation s, padding (lo, (K-1)*rd + Od - Ld - lo). Feature groups of the
  forward conv become batch groups of this one and vice versa.

Batching folds the vmap axis into an axis the convolution already maps over: the lhs
batch axis (inside each batch group), the rhs out-feature axis (inside each group), or,
both batched, into extra feature groups (or batch groups, when batch_group_count > 1).

Windowed reductions: reduce_window_sum is linear; its transpose spreads each cotangent
back over its window: a reduce_window_sum of the cotangent dilated by the stride and
padded by the window, then the original padding and base dilation undone. The jvp of
reduce_window_max/min gathers the tangent at each window's selected element (the first
maximum/minimum, via reduce_window_argmax/argmin on the padded operand); the gather's
transpose is a scatter-add, which sends the gradient where XLA's select_and_scatter does.
Batching adds a window dimension of size 1 over the batch axis.
"""
from __future__ import annotations

import numpy as np

from xlafront import core
from xlafront import primitives as P
from xlafront.core import get_aval
from xlafront.primitives_conv import (conv_general_dilated, conv_general_dilated_p, dilate_dim, window_params,
                                      reduce_window_sum_p, reduce_window_max_p, reduce_window_min_p,
                                      reduce_window_prims, reduce_window_argmax_p, reduce_window_argmin_p)
from xlafront.transforms.jvp import jvp_rules, Zero, tangent_aval, add_tangents, zeros
from xlafront.transforms.transpose import transpose_rules, is_undefined, unpad, _cast_like
from xlafront.transforms.batching import batch_rules, moveaxis, axis_size_of

core.register_internal_path(__file__)


# ----------------------------------------------------------------------------- axis helpers
def _split(x, axis, major):
    """Axis `axis` of x split into (major, rest): one more axis, `major` at `axis`."""
    shape = list(get_aval(x).shape)
    n = shape[axis]
    return P.reshape(x, tuple(shape[:axis] + [major, n // major] + shape[axis + 1:]))


def _fold(x, src, dst):
    """Axis `src` of x merged into axis `dst` as its major part (one axis fewer)."""
    nd = get_aval(x).ndim
    perm = [i for i in range(nd) if i != src]
    perm.insert(perm.index(dst), src)
    x = P.transpose(x, perm) if perm != list(range(nd)) else x
    return _merge(x, perm.index(src))


def _merge(x, at):
    """Axes (at, at + 1) of x merged into one (a reshape)."""
    shape = list(get_aval(x).shape)
    return P.reshape(x, tuple(shape[:at] + [shape[at] * shape[at + 1]] + shape[at + 2:]))


def _regroup(x, src, g, dst):
    """Move the major factor g of axis `src` into axis `dst` as its major part (same rank)."""
    if g == 1:
        return x
    x = _split(x, src, g)                       # the factor is now axis src; dst shifts if after it
    return _fold(x, src, dst + 1 if dst > src else dst)


def _fold_inside_groups(x, src, dst, groups):
    """Fold axis `src` (size V) into axis `dst` (size groups * n) inside each group: the
    result's index along the merged axis is g*(V*n) + v*n + i, so grouping by `groups`
    along it is kept."""
    if groups == 1:
        return _fold(x, src, dst)
    x = _split(x, dst, groups)                  # dst -> (groups, n) at dst, dst + 1
    x = _fold(x, src if src < dst else src + 1, dst + 1)   # V folded into n
    at = dst - 1 if src < dst else dst          # where `groups` is now
    return _merge(x, at)


def _unfold_inside_groups(x, axis, v, groups):
    """Inverse of _fold_inside_groups on an output axis: axis of size groups*v*n with index
    g*(v*n) + j*n + i becomes (v at `axis`, groups*n at axis+1)."""
    shape = list(get_aval(x).shape)
    n = shape[axis] // (groups * v)
    if groups == 1:
        return P.reshape(x, tuple(shape[:axis] + [v, n] + shape[axis + 1:]))
    x = P.reshape(x, tuple(shape[:axis] + [groups, v, n] + shape[axis + 1:]))
    x = moveaxis(x, axis + 1, axis)             # (v, groups, n)
    return P.reshape(x, tuple(shape[:axis] + [v, groups * n] + shape[axis + 1:]))


# ----------------------------------------------------------------------------- convolution: jvp
def _conv_jvp(primals, tangents, **params):
    (x, w), (tx, tw) = primals, tangents
    out = conv_general_dilated_p.bind(x, w, **params)
    t = Zero(tangent_aval(get_aval(out)))
    if type(tx) is not Zero:
        t = conv_general_dilated_p.bind(tx, w, **params)
    if type(tw) is not Zero:
        t = add_tangents(t, conv_general_dilated_p.bind(x, tw, **params))
    return out, t


jvp_rules[conv_general_dilated_p] = _conv_jvp


# ----------------------------------------------------------------------------- convolution: transpose
def _spatial_sizes(x_aval, w_aval, ct_aval, window_strides, padding, lhs_dilation, rhs_dilation,
                   dimension_numbers):
    """Per spatial dim (Kd, Ld, Od, lo) of the module docstring's notation."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    for i in range(len(lhs_spec) - 2):
        yield (dilate_dim(w_aval.shape[rhs_spec[2 + i]], rhs_dilation[i]),
               dilate_dim(x_aval.shape[lhs_spec[2 + i]], lhs_dilation[i]),
               dilate_dim(ct_aval.shape[out_spec[2 + i]], window_strides[i]), padding[i][0])


def _conv_transpose_lhs(ct, w, x_aval, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count, precision):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nsp = len(lhs_spec) - 2
    pads = [(kd - 1 - lo, ld - od + lo) for kd, ld, od, lo in _spatial_sizes(
        x_aval, get_aval(w), get_aval(ct), window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers)]
    g = feature_group_count * batch_group_count   # at most one of them exceeds 1
    w = P.rev(w, tuple(rhs_spec[2:])) if nsp else w
    w = _regroup(w, rhs_spec[0], g, rhs_spec[1])
    dn = (out_spec, (rhs_spec[1], rhs_spec[0]) + tuple(rhs_spec[2:]), lhs_spec)
    r = conv_general_dilated(ct, w, lhs_dilation, pads, window_strides, rhs_dilation, dn, g, 1, precision)
    if batch_group_count > 1:   # feature groups b*C + c of the result are lhs batch rows b*Nb + nb
        r = _regroup(r, lhs_spec[1], batch_group_count, lhs_spec[0])
    return r


def _conv_transpose_rhs(ct, x, w_aval, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count, precision):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    pads = [(lo, kd - 1 + od - ld - lo) for kd, ld, od, lo in _spatial_sizes(
        get_aval(x), w_aval, get_aval(ct), window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers)]
    swap = lambda s: (s[1], s[0]) + tuple(s[2:])   # noqa: E731
    dn = (swap(lhs_spec), swap(out_spec), swap(rhs_spec))
    return conv_general_dilated(x, ct, rhs_dilation, pads, lhs_dilation, window_strides, dn, batch_group_count,
                                feature_group_count, precision)


def _conv_t(ct, x, w, *, preferred_element_type=None, **params):
    if is_undefined(x) and is_undefined(w):
        raise NotImplementedError("conv_general_dilated of two linear values is not linear")
    res = [None, None]
    if is_undefined(x):
        xa = x.aval
        if xa.size == 0 or get_aval(ct).size == 0:
            res[0] = zeros(tangent_aval(xa))
        else:
            wa = get_aval(w)
            r = _conv_transpose_lhs(_cast_like(ct, wa), w, xa, **params)
            res[0] = _cast_like(r, xa)
    else:
        wa = w.aval
        if wa.size == 0 or get_aval(ct).size == 0:
            res[1] = zeros(tangent_aval(wa))
        else:
            xa = get_aval(x)
            r = _conv_transpose_rhs(_cast_like(ct, xa), x, wa, **params)
            res[1] = _cast_like(r, wa)
    return res


transpose_rules[conv_general_dilated_p] = _conv_t


# ----------------------------------------------------------------------------- convolution: batching
def _conv_batch(args, dims, *, dimension_numbers, feature_group_count, batch_group_count, **params):
    (x, w), (dx, dw) = args, dims
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    G, B = feature_group_count, batch_group_count
    V = axis_size_of(args, dims)

    def bind(x, w, fgc, bgc):
        return conv_general_dilated_p.bind(x, w, dimension_numbers=dimension_numbers, feature_group_count=fgc,
                                           batch_group_count=bgc, **params)

    def phys(axis, d):   # position in the batched array of logical axis `axis`
        return axis if axis < d else axis + 1

    if dx is not None and dw is not None:
        if B == 1:   # the vmap axis becomes V more feature groups
            x = _fold(x, dx, phys(lhs_spec[1], dx))
            w = _fold(w, dw, phys(rhs_spec[0], dw))
            out = bind(x, w, G * V, 1)
        else:        # ... or V more batch groups
            x = _fold(x, dx, phys(lhs_spec[0], dx))
            w = _fold(w, dw, phys(rhs_spec[0], dw))
            out = bind(x, w, 1, B * V)
        return _unfold_inside_groups(out, out_spec[1], V, 1), out_spec[1]
    if dx is not None:   # into the lhs batch, inside each batch group
        x = _fold_inside_groups(x, dx, phys(lhs_spec[0], dx), B)
        out = bind(x, w, G, B)
        return _unfold_inside_groups(out, out_spec[0], V, 1), out_spec[0]
    # into the rhs out features, inside each (feature or batch) group
    w = _fold_inside_groups(w, dw, phys(rhs_spec[0], dw), G * B)
    out = bind(x, w, G, B)
    return _unfold_inside_groups(out, out_spec[1], V, G * B), out_spec[1]


batch_rules[conv_general_dilated_p] = _conv_batch


# ----------------------------------------------------------------------------- reduce_window
def _rw_sum_jvp(primals, tangents, **params):
    (x,), (t,) = primals, tangents
    out = reduce_window_sum_p.bind(x, **params)
    if type(t) is Zero:
        return out, Zero(tangent_aval(get_aval(out)))
    return out, reduce_window_sum_p.bind(t, **params)


jvp_rules[reduce_window_sum_p] = _rw_sum_jvp


def _zero_scalar(dt):
    return np.zeros((), dt)[()]


def _rw_sum_t(ct, x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    xa = x.aval
    ca = get_aval(ct)
    nd = xa.ndim
    if nd == 0:
        return [ct]
    if xa.size == 0 or ca.size == 0:
        return [zeros(tangent_aval(xa))]
    zero = _zero_scalar(ca.dtype)
    cfg = []
    for n, k, s, (lo, hi), bd, wd, o in zip(xa.shape, window_dimensions, window_strides, padding,
                                            base_dilation, window_dilation, ca.shape):
        lp = dilate_dim(n, bd) + lo + hi          # the padded, dilated operand's length
        kd = dilate_dim(k, wd)
        cfg.append((kd - 1, lp - dilate_dim(o, s), s - 1))
    spread = reduce_window_sum_p.bind(P.pad(ct, zero, cfg), **window_params(window_dimensions,
                                                                            window_dilation=window_dilation))
    # `spread` is the cotangent of the padded, dilated operand: undo padding and dilation
    fwd = [(lo, hi, bd - 1) for (lo, hi), bd in zip(padding, base_dilation)]
    r = spread if all(c == (0, 0, 0) for c in fwd) else unpad(spread, fwd)
    return [_cast_like(r, xa)]


transpose_rules[reduce_window_sum_p] = _rw_sum_t


def _rw_chooser_jvp(prim, select_prim):
    def rule(primals, tangents, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, window_dimensions=window_dimensions, window_strides=window_strides, padding=padding,
                        base_dilation=base_dilation, window_dilation=window_dilation)
        oa = get_aval(out)
        if type(t) is Zero:
            return out, Zero(tangent_aval(oa))
        xa = get_aval(x)
        nd = xa.ndim
        if nd == 0:
            return out, t
        if oa.size == 0:
            return out, zeros(tangent_aval(oa))
        cfg = [(lo, hi, bd - 1) for (lo, hi), bd in zip(padding, base_dilation)]
        trivial = all(c == (0, 0, 0) for c in cfg)
        xp = x if trivial else P.pad(x, P.monoid_identity("max" if prim is reduce_window_max_p else "min",
                                                          xa.dtype), cfg)
        pos = select_prim.bind(xp, window_dimensions=window_dimensions, window_strides=window_strides,
                               window_dilation=window_dilation)
        idx = P.concatenate([P.broadcast_in_dim(p, oa.shape + (1,), tuple(range(nd))) for p in pos], nd)
        tp = t if trivial else P.pad(t, _zero_scalar(get_aval(t).dtype), cfg)
        dn = P.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=tuple(range(nd)),
                                      start_index_map=tuple(range(nd)))
        return out, P.gather(tp, idx, dn, (1,) * nd, mode="promise_in_bounds")
    jvp_rules[prim] = rule


_rw_chooser_jvp(reduce_window_max_p, reduce_window_argmax_p)
_rw_chooser_jvp(reduce_window_min_p, reduce_window_argmin_p)


def _rw_batch(prim):
    def rule(args, dims, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        (x,), (d,) = args, dims
        ins = lambda v, e: tuple(v[:d]) + (e,) + tuple(v[d:])   # noqa: E731
        out = prim.bind(x, window_dimensions=ins(window_dimensions, 1), window_strides=ins(window_strides, 1),
                        padding=ins(padding, (0, 0)), base_dilation=ins(base_dilation, 1),
                        window_dilation=ins(window_dilation, 1))
        return out, d
    return rule


for _p in reduce_window_prims:
    batch_rules[_p] = _rw_batch(_p)


def _select_batch(prim):
    def rule(args, dims, *, window_dimensions, window_strides, window_dilation):
        (x,), (d,) = args, dims
        ins = lambda v: tuple(v[:d]) + (1,) + tuple(v[d:])   # noqa: E731
        outs = prim.bind(x, window_dimensions=ins(window_dimensions), window_strides=ins(window_strides),
                         window_dilation=ins(window_dilation))
        outs = list(outs[:d]) + list(outs[d + 1:])   # the position along the batch axis is the batch index
        return outs, [d] * len(outs)
    return rule


for _p in (reduce_window_argmax_p, reduce_window_argmin_p):
    batch_rules[_p] = _select_batch(_p)
