"""StableHLO lowering of the conv family.

- conv_general_dilated: `stablehlo.convolution(%lhs, %rhs) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1],
  window = {stride = [..], pad = [[lo, hi], ..], lhs_dilate = [..], rhs_dilate = [..], reverse = [..]}
  {batch_group_count = .., feature_group_count = .., precision_config = [..]}`, as JAX prints it.
- reduce_window_sum/max/min: `"stablehlo.reduce_window"(%x, %init)` with the monoid's identity
  and an add/maximum/minimum region (or/and for booleans).
- reduce_window_argmax/argmin: a variadic reduce_window over the operand and one iota per
  dim; the region keeps the larger (smaller) value and, on ties, the lexicographically
  smaller position, so each window reports its first extremum in row-major order.
"""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.core import register_internal_path
from xlafront.primitives_conv import (conv_general_dilated_p, reduce_window_sum_p, reduce_window_max_p,
                                      reduce_window_min_p, reduce_window_argmax_p, reduce_window_argmin_p)
from xlafront.lowering.rules import lowering_rules, _compare_type, _PRECISION, _dims, _arr, _t

register_internal_path(__file__)


def _spec_text(spec, batch, feature):
    roles = [""] * len(spec)
    roles[spec[0]], roles[spec[1]] = batch, feature
    for i, d in enumerate(spec[2:]):
        roles[d] = str(i)
    return f"[{', '.join(roles)}]"


def _pairs(pads):
    return ", ".join(f"[{int(lo)}, {int(hi)}]" for lo, hi in pads)


def _conv(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
          feature_group_count, batch_group_count, precision=None, preferred_element_type=None):
    la, ra = ctx.avals_in
    out = ctx.aval_out
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    dn = (f"{_spec_text(lhs_spec, 'b', 'f')}x{_spec_text(rhs_spec, 'o', 'i')}->"
          f"{_spec_text(out_spec, 'b', 'f')}")
    window = (f"{{stride = [{_dims(window_strides)}], pad = [{_pairs(padding)}], "
              f"lhs_dilate = [{_dims(lhs_dilation)}], rhs_dilate = [{_dims(rhs_dilation)}], "
              f"reverse = [{', '.join(['false'] * len(window_strides))}]}}")
    p = precision or (None, None)
    prec = ", ".join(f"#stablehlo<precision {_PRECISION.get(q, 'DEFAULT')}>" for q in p)
    return ctx.emit(f"stablehlo.convolution({lhs}, {rhs}) dim_numbers = {dn}, window = {window} "
                    f"{{batch_group_count = {int(batch_group_count)} : i64, feature_group_count = "
                    f"{int(feature_group_count)} : i64, precision_config = [{prec}]}} : "
                    f"({_t(la)}, {_t(ra)}) -> {_t(out)}")


lowering_rules[conv_general_dilated_p] = _conv


_MONOID = {reduce_window_sum_p: "add", reduce_window_max_p: "max", reduce_window_min_p: "min",
           reduce_window_argmax_p: "max", reduce_window_argmin_p: "min"}


def _identity(prim, dt):
    return P.monoid_identity(_MONOID[prim], dt)


_OP = {reduce_window_sum_p: "add", reduce_window_max_p: "maximum", reduce_window_min_p: "minimum"}


def _window_attrs(nd, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    pad = f"dense<[{_pairs(padding)}]> : tensor<{nd}x2xi64>"
    return (f"<{{base_dilations = {_arr(base_dilation)}, padding = {pad}, window_dilations = "
            f"{_arr(window_dilation)}, window_dimensions = {_arr(window_dimensions)}, window_strides = "
            f"{_arr(window_strides)}}}>")


def _reduce_window_rule(prim):
    def rule(ctx, x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        a, out = ctx.avals_in[0], ctx.aval_out
        if a.ndim == 0:
            return x
        op = _OP[prim]
        if a.dtype == dtypes.bool_:
            op = {"maximum": "or", "minimum": "and"}[op]
        s = a.update(shape=(), weak_type=False)
        init = ctx.const(_identity(prim, a.dtype), a.dtype)

        def body(args):
            return [ctx.emit(f"stablehlo.{op} {args[0]}, {args[1]} : {_t(s)}")]

        region = ctx.region([s, s], body, [s])
        attrs = _window_attrs(a.ndim, window_dimensions, window_strides, padding, base_dilation, window_dilation)
        return ctx.emit(f'"stablehlo.reduce_window"({x}, {init}) {attrs} ({region}) : ({_t(a)}, {_t(s)}) -> '
                        f'{_t(out)}')
    return rule


for _p in _OP:
    lowering_rules[_p] = _reduce_window_rule(_p)


def _select_rule(prim):
    is_max = prim is reduce_window_argmax_p

    def rule(ctx, x, *, window_dimensions, window_strides, window_dilation):
        a = ctx.avals_in[0]
        nd = a.ndim
        oa = ctx.avals_out[0]
        # along a dim whose window is 1 wide the position is known: output index * stride
        known = {}
        for d in range(nd):
            if window_dimensions[d] == 1:
                i = ctx.emit(f"stablehlo.iota dim = {d} : {_t(oa)}")
                known[d] = i if window_strides[d] == 1 else ctx.emit(
                    f"stablehlo.multiply {i}, {ctx.const(window_strides[d], dtypes.int32, oa.shape)} : {_t(oa)}")
        active = [d for d in range(nd) if d not in known]
        if not active:
            return [known[d] for d in range(nd)]
        k = len(active)
        ia = a.update(dtype=dtypes.int32, weak_type=False)
        iotas = [ctx.emit(f"stablehlo.iota dim = {d} : {_t(ia)}") for d in active]
        s_x = a.update(shape=(), weak_type=False)
        s_i = ia.update(shape=())
        b = s_x.update(dtype=dtypes.bool_)
        init_x = ctx.const(_identity(prim, a.dtype), a.dtype)
        init_i = ctx.const(np.iinfo(np.int32).max, dtypes.int32)   # loses every tie
        ct, it = _compare_type(a.dtype), _compare_type(dtypes.int32)

        def cmp(kind, u, v, typ, ta):
            return ctx.emit(f"stablehlo.compare {kind}, {u}, {v}, {typ} : ({_t(ta)}, {_t(ta)}) -> {_t(b)}")

        def body(args):
            ax, ai, bx, bi = args[0], args[1:k + 1], args[k + 1], args[k + 2:]
            better = cmp("GT" if is_max else "LT", ax, bx, ct, s_x)
            same = cmp("EQ", ax, bx, ct, s_x)
            first = cmp("LT", ai[-1], bi[-1], it, s_i)   # a's position comes first (row-major)
            for j in reversed(range(k - 1)):
                eq_j = cmp("EQ", ai[j], bi[j], it, s_i)
                lt_j = cmp("LT", ai[j], bi[j], it, s_i)
                later_first = ctx.emit(f"stablehlo.and {eq_j}, {first} : {_t(b)}")
                first = ctx.emit(f"stablehlo.or {lt_j}, {later_first} : {_t(b)}")
            tie = ctx.emit(f"stablehlo.and {same}, {first} : {_t(b)}")
            pick = ctx.emit(f"stablehlo.or {better}, {tie} : {_t(b)}")
            outs = [ctx.emit(f"stablehlo.select {pick}, {ax}, {bx} : {_t(b)}, {_t(s_x)}")]
            outs += [ctx.emit(f"stablehlo.select {pick}, {u}, {v} : {_t(b)}, {_t(s_i)}") for u, v in zip(ai, bi)]
            return outs

        scalars = [s_x] + [s_i] * k
        region = ctx.region(scalars + scalars, body, scalars)
        attrs = _window_attrs(nd, window_dimensions, window_strides, ((0, 0),) * nd, (1,) * nd, window_dilation)
        ins = ", ".join([x] + iotas + [init_x] + [init_i] * k)
        in_types = ", ".join([_t(a)] + [_t(ia)] * k + [_t(s_x)] + [_t(s_i)] * k)
        out_types = ", ".join([_t(oa.update(dtype=a.dtype))] + [_t(oa)] * k)
        outs = ctx.emit(f'"stablehlo.reduce_window"({ins}) {attrs} ({region}) : ({in_types}) -> ({out_types})',
                        n=k + 1)
        found = dict(zip(active, outs[1:]))
        return [known[d] if d in known else found[d] for d in range(nd)]
    return rule


for _p in (reduce_window_argmax_p, reduce_window_argmin_p):
    lowering_rules[_p] = _select_rule(_p)
