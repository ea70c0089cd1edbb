"""StableHLO lowering of the control-flow primitives.

- cond  -> `stablehlo.case` on the int32 index; the branch regions read the operands
  from the enclosing scope.
- while -> `stablehlo.while`; as JAX does, the loop-invariant operands travel in the
  loop state (cond consts, body consts, then the carry).
- scan  -> `stablehlo.while` over the state (i, consts, carry, xs, ys): each step
  slices x_i with `dynamic_slice`, runs the body inline and writes y_i with
  `dynamic_update_slice`. `unroll=k` runs k body steps per iteration (the remainder
  after the loop); a full unroll (k >= length) emits the steps as straight-line code,
  still with `dynamic_slice`/`dynamic_update_slice`, at constant indices.
"""
from __future__ import annotations

from xlafront import dtypes
from xlafront import primitives_control as C
from xlafront.core import ShapedArray, register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules

register_internal_path(__file__)

_I32 = ShapedArray((), dtypes.int32)


def _t(aval):
    return tensor_type(aval)


def _types(avals):
    return ", ".join(_t(a) for a in avals)


def _cond(ctx, index, *ops, branches):
    outs = ctx.avals_out
    regions = []
    for g in branches:
        regions.append(ctx.region([], lambda _, g=g: ctx.fn.lower_body(g, list(ops)), outs))
    text = (f'"stablehlo.case"({index}) ({", ".join(regions)}) : '
            f'({_t(_I32)}) -> ({_types(outs)})')
    n = len(outs)
    if n == 0:
        ctx.emit(text, n=0)
        return []
    r = ctx.emit(text, n=n)
    return [r] if n == 1 else r


lowering_rules[C.cond_p] = _cond


def _while_op(ctx, init, avals, cond_fn, body_fn):
    """Emit a stablehlo.while over state `init` (names) of types `avals`."""
    pred = ShapedArray((), dtypes.bool_)
    cond_region = ctx.region(avals, lambda a: [cond_fn(a)], [pred])
    body_region = ctx.region(avals, body_fn, avals)
    types = _types(avals)
    n = len(avals)
    r = ctx.emit(f'"stablehlo.while"({", ".join(init)}) ({cond_region}, {body_region}) : '
                 f'({types}) -> ({types})', n=n)
    return [r] if n == 1 else r


def _while(ctx, *args, cond_graph, body_graph, cond_nconsts, body_nconsts):
    avals = list(ctx.avals_in)
    nc, nb = cond_nconsts, body_nconsts

    def cond_fn(a):
        return ctx.fn.lower_body(cond_graph, a[:nc] + a[nc + nb:])[0]

    def body_fn(a):
        return a[:nc + nb] + ctx.fn.lower_body(body_graph, a[nc:])

    return _while_op(ctx, list(args), avals, cond_fn, body_fn)[nc + nb:]


lowering_rules[C.while_p] = _while


def _scan(ctx, *args, graph, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    in_avals = list(ctx.avals_in)
    const_avals, carry_avals, xs_avals = in_avals[:nc], in_avals[nc:nc + nk], in_avals[nc + nk:]
    ys_avals = list(ctx.avals_out[nk:])
    consts, carry, xs = list(args[:nc]), list(args[nc:nc + nk]), list(args[nc + nk:])
    x_avals = [a.update(shape=a.shape[1:]) for a in xs_avals]
    y_avals = [a.update(shape=a.shape[1:]) for a in ys_avals]
    k = max(1, int(unroll))   # (lax.scan passes an int)

    def zero_idx():
        return ctx.const(0, dtypes.int32)

    def step(i, consts, carry, xs, ys):
        """One body step at position `i` (an i32 name): returns (carry, ys)."""
        pos = i
        if reverse:
            last = ctx.const(length - 1, dtypes.int32)
            pos = ctx.emit(f"stablehlo.subtract {last}, {i} : {_t(_I32)}")
        x_slices = []
        for x, xa, sa in zip(xs, xs_avals, x_avals):
            one = xa.update(shape=(1, *sa.shape))
            idx = ", ".join([pos] + [zero_idx()] * sa.ndim)
            s = ctx.emit(f'"stablehlo.dynamic_slice"({x}, {idx}) {{slice_sizes = '
                         f'array<i64: {", ".join(str(d) for d in one.shape)}>}} : '
                         f'({_t(xa)}, {", ".join([_t(_I32)] * (sa.ndim + 1))}) -> {_t(one)}')
            x_slices.append(ctx.emit(f"stablehlo.reshape {s} : ({_t(one)}) -> {_t(sa)}"))
        outs = ctx.fn.lower_body(graph, consts + carry + x_slices)
        new_carry, y_slices = outs[:nk], outs[nk:]
        new_ys = []
        for y_acc, y, ya, sa in zip(ys, y_slices, ys_avals, y_avals):
            one = ya.update(shape=(1, *sa.shape))
            y1 = ctx.emit(f"stablehlo.reshape {y} : ({_t(sa)}) -> {_t(one)}")
            idx = ", ".join([pos] + [zero_idx()] * sa.ndim)
            new_ys.append(ctx.emit(f'"stablehlo.dynamic_update_slice"({y_acc}, {y1}, {idx}) : '
                                   f'({_t(ya)}, {_t(one)}, {", ".join([_t(_I32)] * (sa.ndim + 1))}) '
                                   f'-> {_t(ya)}'))
        return new_carry, new_ys

    def add_i(i, n):
        c = ctx.const(n, dtypes.int32)
        return ctx.emit(f"stablehlo.add {i}, {c} : {_t(_I32)}")

    ys_init = [ctx.const(0, a.dtype, a.shape) for a in ys_avals]
    if length == 0:
        return carry + ys_init
    if k >= length:   # fully unrolled
        ys = ys_init
        for j in range(length):
            carry, ys = step(ctx.const(j, dtypes.int32), consts, carry, xs, ys)
        return carry + ys

    n_iter, rem = divmod(length, k)
    state_avals = [_I32, *const_avals, *carry_avals, *xs_avals, *ys_avals]
    n_x = len(xs)

    def cond_fn(a):
        hi = ctx.const(n_iter * k, dtypes.int32)
        return ctx.emit(f"stablehlo.compare LT, {a[0]}, {hi}, SIGNED : ({_t(_I32)}, {_t(_I32)}) -> "
                        f"{_t(ShapedArray((), dtypes.bool_))}")

    def body_fn(a):
        i, cs = a[0], a[1:1 + nc]
        cr, xa = a[1 + nc:1 + nc + nk], a[1 + nc + nk:1 + nc + nk + n_x]
        ys = a[1 + nc + nk + n_x:]
        for j in range(k):
            cr, ys = step(i if j == 0 else add_i(i, j), cs, cr, xa, ys)
        return [add_i(i, k), *cs, *cr, *xa, *ys]

    init = [ctx.const(0, dtypes.int32), *consts, *carry, *xs, *ys_init]
    out = _while_op(ctx, init, state_avals, cond_fn, body_fn)
    carry = out[1 + nc:1 + nc + nk]
    ys = out[1 + nc + nk + n_x:]
    for j in range(rem):
        carry, ys = step(ctx.const(n_iter * k + j, dtypes.int32), consts, carry, xs, ys)
    return carry + ys


lowering_rules[C.scan_p] = _scan
