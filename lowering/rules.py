"""One StableHLO lowering rule per primitive: (ctx, *operands, **params) -> result name(s).

Operands are SSA names; `ctx.avals_in` / `ctx.avals_out` give their types. Rank-0
operands of elementwise ops are broadcast here (the graph keeps them as scalars).
"""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.core import ShapedArray, register_internal_path
from xlafront.lowering.emitter import tensor_type, element_type
from xlafront.lowering.registry import lowering_rules  # the table the emitter reads

register_internal_path(__file__)


def _t(aval):
    return tensor_type(aval)


def _bcast_operands(ctx, xs):
    out = ctx.aval_out
    return [ctx.broadcast(x, a, out.shape) if a.shape != out.shape else x
            for x, a in zip(xs, ctx.avals_in)]


# ----------------------------------------------------------------------------- elementwise
_UNARY = {
    P.neg_p: "negate", P.sign_p: "sign", P.floor_p: "floor", P.ceil_p: "ceil",
    P.is_finite_p: "is_finite", P.exp_p: "exponential", P.log_p: "log", P.log1p_p: "log_plus_one",
    P.expm1_p: "exponential_minus_one", P.tanh_p: "tanh", P.logistic_p: "logistic",
    P.sin_p: "sine", P.cos_p: "cosine", P.tan_p: "tan", P.sqrt_p: "sqrt", P.rsqrt_p: "rsqrt",
    P.cbrt_p: "cbrt", P.abs_p: "abs", P.not_p: "not", P.real_p: "real", P.imag_p: "imag",
    P.population_count_p: "popcnt",
}
_CHLO_UNARY = {
    P.asin_p: "asin", P.acos_p: "acos", P.atan_p: "atan", P.sinh_p: "sinh", P.cosh_p: "cosh",
    P.asinh_p: "asinh", P.acosh_p: "acosh", P.atanh_p: "atanh", P.erf_p: "erf", P.erf_inv_p: "erf_inv",
    P.lgamma_p: "lgamma", P.digamma_p: "digamma",
}


def _unary_rule(opname):
    def rule(ctx, x, **_):
        a_in, a_out = ctx.avals_in[0], ctx.aval_out
        if a_in.dtype == a_out.dtype:
            return ctx.emit(f"stablehlo.{opname} {x} : {_t(a_out)}")
        return ctx.emit(f"stablehlo.{opname} {x} : ({_t(a_in)}) -> {_t(a_out)}")
    return rule


def _chlo_rule(opname):
    def rule(ctx, x, **_):
        return ctx.emit(f"chlo.{opname} {x} : {_t(ctx.avals_in[0])} -> {_t(ctx.aval_out)}")
    return rule


for _p, _n in _UNARY.items():
    lowering_rules[_p] = _unary_rule(_n)
for _p, _n in _CHLO_UNARY.items():
    lowering_rules[_p] = _chlo_rule(_n)


def _round(ctx, x, rounding_method=0):
    op = "round_nearest_even" if rounding_method == 1 else "round_nearest_afz"
    return ctx.emit(f"stablehlo.{op} {x} : {_t(ctx.aval_out)}")


def _exp2(ctx, x):
    a = ctx.aval_out
    ln2 = ctx.const(np.log(2.0), a.dtype, a.shape)
    y = ctx.emit(f"stablehlo.multiply {x}, {ln2} : {_t(a)}")
    return ctx.emit(f"stablehlo.exponential {y} : {_t(a)}")


def _conj(ctx, x):
    a = ctx.aval_out
    r = P._real_dtype(a.dtype)
    ra = a.update(dtype=r)
    re = ctx.emit(f"stablehlo.real {x} : ({_t(a)}) -> {_t(ra)}")
    im = ctx.emit(f"stablehlo.imag {x} : ({_t(a)}) -> {_t(ra)}")
    nim = ctx.emit(f"stablehlo.negate {im} : {_t(ra)}")
    return ctx.emit(f"stablehlo.complex {re}, {nim} : {_t(a)}")


def _square(ctx, x):
    return ctx.emit(f"stablehlo.multiply {x}, {x} : {_t(ctx.aval_out)}")


def _integer_pow(ctx, x, y):
    a = ctx.aval_out
    t = _t(a)
    n = abs(y)
    acc = None
    base = x
    while n:
        if n & 1:
            acc = base if acc is None else ctx.emit(f"stablehlo.multiply {acc}, {base} : {t}")
        n >>= 1
        if n:
            base = ctx.emit(f"stablehlo.multiply {base}, {base} : {t}")
    if acc is None:
        acc = ctx.const(1, a.dtype, a.shape)
    if y < 0:
        one = ctx.const(1, a.dtype, a.shape)
        acc = ctx.emit(f"stablehlo.divide {one}, {acc} : {t}")
    return acc


def _sign(ctx, x):
    a = ctx.aval_out
    if dtypes.is_unsigned(a.dtype):   # stablehlo.sign takes signless ints only: x != 0
        zero = ctx.const(0, a.dtype, a.shape)
        nz = ctx.emit(f"stablehlo.compare NE, {x}, {zero}, UNSIGNED : ({_t(a)}, {_t(a)}) -> "
                      f"{_t(a.update(dtype=dtypes.bool_))}")
        return ctx.emit(f"stablehlo.convert {nz} : ({_t(a.update(dtype=dtypes.bool_))}) -> {_t(a)}")
    return ctx.emit(f"stablehlo.sign {x} : {_t(a)}")


lowering_rules[P.sign_p] = _sign
lowering_rules[P.round_p] = _round
lowering_rules[P.exp2_p] = _exp2
lowering_rules[P.conj_p] = _conj
lowering_rules[P.square_p] = _square
lowering_rules[P.integer_pow_p] = _integer_pow

_BINARY = {
    P.add_p: "add", P.sub_p: "subtract", P.mul_p: "multiply", P.div_p: "divide", P.rem_p: "remainder",
    P.pow_p: "power", P.max_p: "maximum", P.min_p: "minimum", P.atan2_p: "atan2", P.and_p: "and",
    P.or_p: "or", P.xor_p: "xor", P.shift_left_p: "shift_left",
    P.shift_right_arithmetic_p: "shift_right_arithmetic", P.shift_right_logical_p: "shift_right_logical",
}


def _binary_rule(opname):
    def rule(ctx, x, y):
        x, y = _bcast_operands(ctx, (x, y))
        return ctx.emit(f"stablehlo.{opname} {x}, {y} : {_t(ctx.aval_out)}")
    return rule


for _p, _n in _BINARY.items():
    lowering_rules[_p] = _binary_rule(_n)


def _pow(ctx, x, y):
    ax, ay = ctx.avals_in
    out = ctx.aval_out
    x, y = _bcast_operands(ctx, (x, y))
    if ay.dtype != ax.dtype:  # integer exponent: convert, as XLA's power wants equal types
        yt = ay.update(shape=out.shape)
        y = ctx.emit(f"stablehlo.convert {y} : ({_t(yt)}) -> {_t(out)}")
    return ctx.emit(f"stablehlo.power {x}, {y} : {_t(out)}")


lowering_rules[P.pow_p] = _pow


def _nextafter(ctx, x, y):
    x, y = _bcast_operands(ctx, (x, y))
    return ctx.emit(f"chlo.next_after {x}, {y} : {_t(ctx.aval_out)}, {_t(ctx.aval_out)} -> {_t(ctx.aval_out)}")


lowering_rules[P.nextafter_p] = _nextafter


def _complex(ctx, x, y):
    out = ctx.aval_out
    x, y = [ctx.broadcast(v, a, out.shape) for v, a in zip((x, y), ctx.avals_in)]
    return ctx.emit(f"stablehlo.complex {x}, {y} : {_t(out)}")


lowering_rules[P.complex_p] = _complex

_CMP = {P.eq_p: "EQ", P.ne_p: "NE", P.lt_p: "LT", P.le_p: "LE", P.gt_p: "GT", P.ge_p: "GE"}


def _compare_type(dt):
    if dtypes.is_float(dt) or dtypes.is_complex(dt):
        return "FLOAT"
    if dtypes.is_unsigned(dt) or dt == dtypes.bool_:
        return "UNSIGNED"
    return "SIGNED"


def _compare_rule(direction):
    def rule(ctx, x, y):
        out = ctx.aval_out
        shape = out.shape
        a0 = ctx.avals_in[0]
        x, y = [ctx.broadcast(v, a, shape) for v, a in zip((x, y), ctx.avals_in)]
        ta = _t(a0.update(shape=shape))
        return ctx.emit(f"stablehlo.compare {direction}, {x}, {y}, {_compare_type(a0.dtype)} : "
                        f"({ta}, {ta}) -> {_t(out)}")
    return rule


for _p, _d in _CMP.items():
    lowering_rules[_p] = _compare_rule(_d)


def _select_n(ctx, which, *cases):
    out = ctx.aval_out
    wa = ctx.avals_in[0]
    t = _t(out)
    if wa.dtype == dtypes.bool_:
        if len(cases) == 1:
            return cases[0]
        f, tr = cases
        return ctx.emit(f'stablehlo.select {which}, {tr}, {f} : {_t(wa)}, {t}' if wa.shape == out.shape else
                        f'stablehlo.select {which}, {tr}, {f} : ({_t(wa)}, {t}, {t}) -> {t}')
    # integer selector: a chain of compares, as a balanced choice
    result = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        k = ctx.const(i, wa.dtype, wa.shape)
        pa = wa.update(dtype=dtypes.bool_)
        p = ctx.emit(f"stablehlo.compare LE, {which}, {k}, SIGNED : ({_t(wa)}, {_t(wa)}) -> {_t(pa)}")
        result = ctx.emit(f'stablehlo.select {p}, {cases[i]}, {result} : {_t(pa)}, {t}' if wa.shape == out.shape
                          else f'stablehlo.select {p}, {cases[i]}, {result} : ({_t(pa)}, {t}, {t}) -> {t}')
    return result


lowering_rules[P.select_n_p] = _select_n


def _clamp(ctx, lo, x, hi):
    la, xa, ha = ctx.avals_in
    return ctx.emit(f"stablehlo.clamp {lo}, {x}, {hi} : ({_t(la)}, {_t(xa)}, {_t(ha)}) -> {_t(xa)}")


lowering_rules[P.clamp_p] = _clamp


def _convert(ctx, x, new_dtype, weak_type=False, sharding=None):
    a_in, out = ctx.avals_in[0], ctx.aval_out
    if a_in.dtype == out.dtype:
        return x
    if dtypes.is_complex(a_in.dtype) and not dtypes.is_complex(out.dtype):
        ra = a_in.update(dtype=P._real_dtype(a_in.dtype))
        x = ctx.emit(f"stablehlo.real {x} : ({_t(a_in)}) -> {_t(ra)}")
        a_in = ra
        if a_in.dtype == out.dtype:
            return x
    if out.dtype == dtypes.bool_ and a_in.dtype != dtypes.bool_:
        zero = ctx.const(0, a_in.dtype, a_in.shape)
        return ctx.emit(f"stablehlo.compare NE, {x}, {zero}, {_compare_type(a_in.dtype)} : "
                        f"({_t(a_in)}, {_t(a_in)}) -> {_t(out)}")
    return ctx.emit(f"stablehlo.convert {x} : ({_t(a_in)}) -> {_t(out)}")


lowering_rules[P.convert_element_type_p] = _convert


def _bitcast(ctx, x, new_dtype):
    return ctx.emit(f"stablehlo.bitcast_convert {x} : ({_t(ctx.avals_in[0])}) -> {_t(ctx.aval_out)}")


lowering_rules[P.bitcast_convert_type_p] = _bitcast
lowering_rules[P.copy_p] = lambda ctx, x: x

# ----------------------------------------------------------------------------- shapes


def _dims(ds):
    return ", ".join(str(int(d)) for d in ds)


def _arr(ds):
    return f"array<i64{': ' if len(ds) else ''}{_dims(ds)}>"


def _broadcast_in_dim(ctx, x, shape, broadcast_dimensions, sharding=None):
    splat = ctx.fn.splats.get(x)
    if splat is not None:   # a broadcast splat constant is a constant of the wider shape
        return ctx.const(splat, ctx.aval_out.dtype, ctx.aval_out.shape)
    return ctx.emit(f"stablehlo.broadcast_in_dim {x}, dims = [{_dims(broadcast_dimensions)}] : "
                    f"({_t(ctx.avals_in[0])}) -> {_t(ctx.aval_out)}")


def _reshape_like(ctx, x, **_):
    if ctx.avals_in[0].shape == ctx.aval_out.shape:
        return x
    return ctx.emit(f"stablehlo.reshape {x} : ({_t(ctx.avals_in[0])}) -> {_t(ctx.aval_out)}")


def _transpose(ctx, x, permutation):
    return ctx.emit(f"stablehlo.transpose {x}, dims = [{_dims(permutation)}] : "
                    f"({_t(ctx.avals_in[0])}) -> {_t(ctx.aval_out)}")


def _rev(ctx, x, dimensions):
    if not dimensions:
        return x
    return ctx.emit(f"stablehlo.reverse {x}, dims = [{_dims(dimensions)}] : {_t(ctx.aval_out)}")


def _concatenate(ctx, *xs, dimension):
    ins = ", ".join(_t(a) for a in ctx.avals_in)
    return ctx.emit(f"stablehlo.concatenate {', '.join(xs)}, dim = {dimension} : ({ins}) -> {_t(ctx.aval_out)}")


def _pad(ctx, x, v, padding_config):
    lo, hi, interior = zip(*padding_config) if padding_config else ((), (), ())
    return ctx.emit(f"stablehlo.pad {x}, {v}, low = [{_dims(lo)}], high = [{_dims(hi)}], "
                    f"interior = [{_dims(interior)}] : ({_t(ctx.avals_in[0])}, {_t(ctx.avals_in[1])}) "
                    f"-> {_t(ctx.aval_out)}")


def _slice(ctx, x, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * len(start_indices)
    return ctx.emit(f'"stablehlo.slice"({x}) {{start_indices = {_arr(start_indices)}, '
                    f'limit_indices = {_arr(limit_indices)}, strides = {_arr(strides)}}} : '
                    f'({_t(ctx.avals_in[0])}) -> {_t(ctx.aval_out)}')


def _dynamic_slice(ctx, x, *idx, slice_sizes):
    ins = ", ".join(_t(a) for a in ctx.avals_in)
    return ctx.emit(f'"stablehlo.dynamic_slice"({", ".join((x,) + idx)}) {{slice_sizes = {_arr(slice_sizes)}}} : '
                    f'({ins}) -> {_t(ctx.aval_out)}')


def _dynamic_update_slice(ctx, x, update, *idx):
    ins = ", ".join(_t(a) for a in ctx.avals_in)
    return ctx.emit(f'"stablehlo.dynamic_update_slice"({", ".join((x, update) + idx)}) : '
                    f'({ins}) -> {_t(ctx.aval_out)}')


def _iota(ctx, dtype, shape, dimension, sharding=None):
    return ctx.emit(f"stablehlo.iota dim = {dimension} : {_t(ctx.aval_out)}")


lowering_rules[P.broadcast_in_dim_p] = _broadcast_in_dim
lowering_rules[P.reshape_p] = _reshape_like
lowering_rules[P.squeeze_p] = _reshape_like
lowering_rules[P.transpose_p] = _transpose
lowering_rules[P.rev_p] = _rev
lowering_rules[P.concatenate_p] = _concatenate
lowering_rules[P.pad_p] = _pad
lowering_rules[P.slice_p] = _slice
lowering_rules[P.dynamic_slice_p] = _dynamic_slice
lowering_rules[P.dynamic_update_slice_p] = _dynamic_update_slice
lowering_rules[P.iota_p] = _iota

# ----------------------------------------------------------------------------- reductions


_MONOID = {P.reduce_sum_p: "add", P.reduce_prod_p: "mul", P.reduce_max_p: "max", P.reduce_min_p: "min",
           P.reduce_and_p: "and", P.reduce_or_p: "or", P.reduce_xor_p: "xor"}


def _identity(prim, dt):
    return P.monoid_identity(_MONOID[prim], dt)


_REDUCER = {P.reduce_sum_p: "add", P.reduce_prod_p: "multiply", P.reduce_max_p: "maximum",
            P.reduce_min_p: "minimum", P.reduce_and_p: "and", P.reduce_or_p: "or", P.reduce_xor_p: "xor"}


def _reduce_rule(prim):
    op = _REDUCER[prim]

    def rule(ctx, x, axes, out_sharding=None):
        a = ctx.avals_in[0]
        if not axes:
            return x
        init = ctx.const(_identity(prim, a.dtype), a.dtype)
        return ctx.emit(f"stablehlo.reduce({x} init: {init}) applies stablehlo.{op} across dimensions = "
                        f"[{_dims(axes)}] : ({_t(a)}, {_t(a.update(shape=()))}) -> {_t(ctx.aval_out)}")
    return rule


for _p in _REDUCER:
    lowering_rules[_p] = _reduce_rule(_p)


def _argminmax_rule(is_max):
    def rule(ctx, x, axes, index_dtype):
        a = ctx.avals_in[0]
        out = ctx.aval_out
        axis = axes[0]
        ia = a.update(dtype=index_dtype)
        idx = ctx.emit(f"stablehlo.iota dim = {axis} : {_t(ia)}")
        s_x, s_i = a.update(shape=()), ia.update(shape=())
        init_x = ctx.const(-np.inf if is_max else np.inf, a.dtype) if dtypes.is_float(a.dtype) else \
            ctx.const(_identity(P.reduce_max_p if is_max else P.reduce_min_p, a.dtype), a.dtype)
        init_i = ctx.const(0, index_dtype)
        bool_s = s_x.update(dtype=dtypes.bool_)
        cmp = "GT" if is_max else "LT"
        ct = _compare_type(a.dtype)

        def body(args):
            ax, ai, bx, bi = args
            # pick a's if a is strictly better, or a is NaN, or equal with a smaller index
            better = ctx.emit(f"stablehlo.compare {cmp}, {ax}, {bx}, {ct} : ({_t(s_x)}, {_t(s_x)}) -> {_t(bool_s)}")
            if dtypes.is_float(a.dtype):
                a_nan = ctx.emit(f"stablehlo.compare NE, {ax}, {ax}, FLOAT : ({_t(s_x)}, {_t(s_x)}) -> {_t(bool_s)}")
                better = ctx.emit(f"stablehlo.or {better}, {a_nan} : {_t(bool_s)}")
            eq = ctx.emit(f"stablehlo.compare EQ, {ax}, {bx}, {ct} : ({_t(s_x)}, {_t(s_x)}) -> {_t(bool_s)}")
            lt_i = ctx.emit(f"stablehlo.compare LT, {ai}, {bi}, {_compare_type(index_dtype)} : "
                            f"({_t(s_i)}, {_t(s_i)}) -> {_t(bool_s)}")
            tie = ctx.emit(f"stablehlo.and {eq}, {lt_i} : {_t(bool_s)}")
            pick_a = ctx.emit(f"stablehlo.or {better}, {tie} : {_t(bool_s)}")
            rx = ctx.emit(f"stablehlo.select {pick_a}, {ax}, {bx} : {_t(bool_s)}, {_t(s_x)}")
            ri = ctx.emit(f"stablehlo.select {pick_a}, {ai}, {bi} : {_t(bool_s)}, {_t(s_i)}")
            return [rx, ri]

        region = ctx.region([s_x, s_i, s_x, s_i], body, [s_x, s_i])
        outs = ctx.emit(f'"stablehlo.reduce"({x}, {idx}, {init_x}, {init_i}) ({region}) '
                        f'{{dimensions = {_arr(axes)}}} : ({_t(a)}, {_t(ia)}, {_t(s_x)}, {_t(s_i)}) -> '
                        f'({_t(out.update(dtype=a.dtype))}, {_t(out)})', n=2)
        return outs[1]
    return rule


lowering_rules[P.argmax_p] = _argminmax_rule(True)
lowering_rules[P.argmin_p] = _argminmax_rule(False)

# ----------------------------------------------------------------------------- cumulative
# As JAX on CPU/GPU: a reduce_window whose window spans the whole axis, padded so that
# output i sees inputs 0..i (or i..n-1 when reversed).


def _cum_identity(prim, dt):
    if prim is P.cumsum_p:
        return 0
    if prim is P.cumprod_p:
        return 1
    if prim is P.cumlogsumexp_p:
        return -np.inf
    return _identity(P.reduce_max_p if prim is P.cummax_p else P.reduce_min_p, dt)


def _logaddexp_body(ctx, s):
    """Region body of a numerically stable log(exp(a) + exp(b)) on scalars of aval s."""
    t = _t(s)
    b_t = _t(s.update(dtype=dtypes.bool_))

    def body(args):
        a, b = args
        mx = ctx.emit(f"stablehlo.maximum {a}, {b} : {t}")
        d = ctx.emit(f"stablehlo.subtract {a}, {b} : {t}")
        # a - b is NaN when both are the same infinity (or a NaN is involved): then a + b is right
        isnan = ctx.emit(f"stablehlo.compare NE, {d}, {d}, FLOAT : ({t}, {t}) -> {b_t}")
        both = ctx.emit(f"stablehlo.add {a}, {b} : {t}")
        ad = ctx.emit(f"stablehlo.abs {d} : {t}")
        nd = ctx.emit(f"stablehlo.negate {ad} : {t}")
        e = ctx.emit(f"stablehlo.exponential {nd} : {t}")
        lp = ctx.emit(f"stablehlo.log_plus_one {e} : {t}")
        r = ctx.emit(f"stablehlo.add {mx}, {lp} : {t}")
        return [ctx.emit(f"stablehlo.select {isnan}, {both}, {r} : {b_t}, {t}")]
    return body


_CUM_OP = {P.cumsum_p: "add", P.cumprod_p: "multiply", P.cummax_p: "maximum", P.cummin_p: "minimum"}


def _cumulative_rule(prim):
    def rule(ctx, x, axis, reverse=False):
        a = ctx.avals_in[0]
        if a.ndim == 0 or a.size == 0 or a.shape[axis] <= 1:
            return x
        n = a.shape[axis]
        s = a.update(shape=())
        op = _CUM_OP.get(prim)
        if op is not None and a.dtype == dtypes.bool_:
            op = {"add": "or", "multiply": "and", "maximum": "or", "minimum": "and"}[op]
        if prim is P.cumlogsumexp_p:
            body = _logaddexp_body(ctx, s)
        else:
            def body(args):
                return [ctx.emit(f"stablehlo.{op} {args[0]}, {args[1]} : {_t(s)}")]
        init = ctx.const(_cum_identity(prim, a.dtype), a.dtype)
        region = ctx.region([s, s], body, [s])
        pad = [[0, 0] for _ in a.shape]
        pad[axis] = [0, n - 1] if reverse else [n - 1, 0]
        window = [1] * a.ndim
        window[axis] = n
        pad_text = ", ".join(f"[{lo}, {hi}]" for lo, hi in pad)
        return ctx.emit(
            f'"stablehlo.reduce_window"({x}, {init}) <{{padding = dense<[{pad_text}]> : '
            f'tensor<{a.ndim}x2xi64>, window_dimensions = {_arr(window)}, '
            f'window_strides = {_arr([1] * a.ndim)}}}> ({region}) : ({_t(a)}, {_t(s)}) -> {_t(a)}')
    return rule


for _p in P.cumulatives:
    lowering_rules[_p] = _cumulative_rule(_p)

# ----------------------------------------------------------------------------- sort


def _sort_key(ctx, v, s):
    """A float key made totally ordered as JAX orders it: -0.0 == 0.0, every NaN last."""
    t = _t(s)
    b_t = _t(s.update(dtype=dtypes.bool_))
    zero = ctx.const(0, s.dtype)
    is_zero = ctx.emit(f"stablehlo.compare EQ, {v}, {zero}, FLOAT : ({t}, {t}) -> {b_t}")
    v = ctx.emit(f"stablehlo.select {is_zero}, {zero}, {v} : {b_t}, {t}")
    is_nan = ctx.emit(f"stablehlo.compare NE, {v}, {v}, FLOAT : ({t}, {t}) -> {b_t}")
    nan = ctx.const(np.nan, s.dtype)
    return ctx.emit(f"stablehlo.select {is_nan}, {nan}, {v} : {b_t}, {t}")


def _sort_less(ctx, a, b, s, need_eq=True):
    """(a < b, a == b) on scalars in JAX's sort order; complex is (real, imag) lexicographic.
    The equality is None when not `need_eq` (the last key needs only `<`)."""
    b_t = _t(s.update(dtype=dtypes.bool_))
    if dtypes.is_complex(s.dtype):
        r = s.update(dtype=P._real_dtype(s.dtype))
        parts = []
        for op in ("real", "imag"):
            pa = ctx.emit(f"stablehlo.{op} {a} : ({_t(s)}) -> {_t(r)}")
            pb = ctx.emit(f"stablehlo.{op} {b} : ({_t(s)}) -> {_t(r)}")
            parts.append(_sort_less(ctx, pa, pb, r, need_eq=need_eq or op == "real"))
        (lt_r, eq_r), (lt_i, eq_i) = parts
        both = ctx.emit(f"stablehlo.and {eq_r}, {lt_i} : {b_t}")
        lt = ctx.emit(f"stablehlo.or {lt_r}, {both} : {b_t}")
        eq = ctx.emit(f"stablehlo.and {eq_r}, {eq_i} : {b_t}") if need_eq else None
        return lt, eq
    if dtypes.is_float(s.dtype):
        a, b = _sort_key(ctx, a, s), _sort_key(ctx, b, s)
        ct = "TOTALORDER"
    else:
        ct = _compare_type(s.dtype)
    t = _t(s)
    lt = ctx.emit(f"stablehlo.compare LT, {a}, {b}, {ct} : ({t}, {t}) -> {b_t}")
    eq = ctx.emit(f"stablehlo.compare EQ, {a}, {b}, {ct} : ({t}, {t}) -> {b_t}") if need_eq else None
    return lt, eq


def _sort(ctx, *xs, dimension, is_stable, num_keys):
    avals = ctx.avals_in
    if avals[0].ndim == 0:
        return list(xs)
    scalars = [a.update(shape=()) for a in avals]
    bool_t = _t(ShapedArray((), dtypes.bool_))

    def body(args):
        # lexicographic over the keys: lt_0 or (eq_0 and (lt_1 or (eq_1 and ...)))
        result = None
        for k in reversed(range(num_keys)):
            lt, eq = _sort_less(ctx, args[2 * k], args[2 * k + 1], scalars[k], need_eq=result is not None)
            if result is None:
                result = lt
            else:
                both = ctx.emit(f"stablehlo.and {eq}, {result} : {bool_t}")
                result = ctx.emit(f"stablehlo.or {lt}, {both} : {bool_t}")
        return [result]

    region_args = [s for s in scalars for _ in (0, 1)]
    region = ctx.region(region_args, body, [ShapedArray((), dtypes.bool_)])
    types = ", ".join(_t(a) for a in avals)
    out = ctx.emit(f'"stablehlo.sort"({", ".join(xs)}) <{{dimension = {dimension} : i64, '
                   f'is_stable = {"true" if is_stable else "false"}}}> ({region}) : ({types}) -> ({types})',
                   n=len(xs))
    return [out] if len(xs) == 1 else out


lowering_rules[P.sort_p] = _sort

# ----------------------------------------------------------------------------- products


_PRECISION = {None: "DEFAULT", "DEFAULT": "DEFAULT", "HIGH": "HIGH", "HIGHEST": "HIGHEST",
              "Precision.DEFAULT": "DEFAULT", "Precision.HIGH": "HIGH", "Precision.HIGHEST": "HIGHEST",
              "bfloat16": "DEFAULT", "tensorfloat32": "HIGH", "float32": "HIGHEST", "fastest": "DEFAULT"}


def _dot_general(ctx, x, y, dimension_numbers, precision=None, preferred_element_type=None, out_sharding=None):
    (lc, rc), (lb, rb) = dimension_numbers
    ax, ay = ctx.avals_in
    out = ctx.aval_out
    parts = []
    if lb:
        parts.append(f"batching_dims = [{_dims(lb)}] x [{_dims(rb)}]")
    parts.append(f"contracting_dims = [{_dims(lc)}] x [{_dims(rc)}]")
    p = precision or (None, None)
    parts.append(f"precision = [{_PRECISION.get(p[0], 'DEFAULT')}, {_PRECISION.get(p[1], 'DEFAULT')}]")
    if ax.dtype != ay.dtype:  # mixed inputs with preferred_element_type: convert to the output type
        x = ctx.emit(f"stablehlo.convert {x} : ({_t(ax)}) -> {_t(ax.update(dtype=out.dtype))}")
        y = ctx.emit(f"stablehlo.convert {y} : ({_t(ay)}) -> {_t(ay.update(dtype=out.dtype))}")
        ax, ay = ax.update(dtype=out.dtype), ay.update(dtype=out.dtype)
    return ctx.emit(f"stablehlo.dot_general {x}, {y}, {', '.join(parts)} : ({_t(ax)}, {_t(ay)}) -> {_t(out)}")


lowering_rules[P.dot_general_p] = _dot_general

# ----------------------------------------------------------------------------- higher-order


def _jit(ctx, *args, graph, name, **_):
    return ctx.call_graph(graph, name, args)


lowering_rules[P.jit_p] = _jit
