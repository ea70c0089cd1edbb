"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map, associative_scan.

Each traces its Python functions once per call into Graphs (values they close over are
hoisted into operands) and binds one control-flow primitive (primitives_control.py).
Sub-graphs are interned by structure, so calling `lax.scan(f, ...)` again with a new
closure of the same structure reuses the compiled program instead of compiling again.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import primitives_control as C
from xlafront import tree_util
from xlafront.core import get_aval

core.register_internal_path(__file__)

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "associative_scan"]


# ----------------------------------------------------------------------------- tracing helpers
def _trace(fn, in_tree, in_avals, what):
    """Trace fn(*tree_unflatten(in_tree, args)) -> (ClosedGraph, out_tree)."""
    box = []

    def flat(*args):
        out = fn(*tree_util.tree_unflatten(in_tree, args))
        leaves, tree = tree_util.tree_flatten(out)
        box.append(tree)
        for leaf in leaves:
            _check_leaf(leaf, what)
        return leaves

    closed = core.trace_to_graph(flat, in_avals)
    return closed, box[0]


def _check_leaf(x, what):
    if isinstance(x, (core.Tracer, np.ndarray, np.generic, bool, int, float, complex)):
        return
    if hasattr(x, "aval"):
        return
    raise TypeError(f"{what} returned a value of type {type(x).__name__}, which is not a valid "
                    f"JAX type (at {core.user_site()})")


def _avals_text(tree, avals):
    try:
        return str(tree_util.tree_unflatten(tree, [a.str_short() for a in avals])).replace("'", "")
    except Exception:  # noqa: BLE001
        return str([a.str_short() for a in avals])


def _flatten_operands(ops):
    leaves, tree = tree_util.tree_flatten(ops)
    for x in leaves:
        if not isinstance(x, (core.Tracer, np.ndarray, np.generic, bool, int, float, complex)) \
                and not hasattr(x, "aval"):
            raise TypeError(f"control-flow operand of type {type(x).__name__} is not a valid JAX "
                            f"type (at {core.user_site()})")
    return leaves, tree


def _promote_carry(leaves, avals, out_avals):
    """Initial carries made to fit the body's output carries, as JAX does: a weakly typed
    carry whose output has another dtype or shape becomes the promoted dtype of the two
    (strongly typed), and the body is traced again. A carry whose output differs from it
    only in weak type is left as it is (the traced body is valid for it; the loop's output
    takes the body output's weak type, as in JAX). Returns (changed, leaves, avals)."""
    changed = False
    new_leaves, new_avals = [], []
    for x, a, o in zip(leaves, avals, out_avals):
        if a.weak_type and (a.dtype != o.dtype or a.shape != o.shape):
            dt, _ = dtypes.promote([(a.dtype, True), (o.dtype, o.weak_type)])
            x = P.convert_element_type(x, dt, weak_type=False)
            a = a.update(dtype=dt, weak_type=False)
            changed = True
        new_leaves.append(x)
        new_avals.append(a)
    return changed, new_leaves, new_avals


def _same_types(avals_a, avals_b):
    return len(avals_a) == len(avals_b) and all(
        a.shape == b.shape and a.dtype == b.dtype for a, b in zip(avals_a, avals_b))


# ----------------------------------------------------------------------------- cond / switch
def _branches(funs, ops, names, first=0):
    """Trace every branch over the same operands; returns (graphs, consts, out_tree).
    Branches are checked against branch `first`."""
    leaves, in_tree = _flatten_operands(ops)
    avals = [get_aval(x) for x in leaves]
    traced = [_trace(f, in_tree, avals, n) for f, n in zip(funs, names)]
    out_tree = traced[first][1]
    out_avals = traced[first][0].graph.out_avals
    for i, ((closed, tree), n) in enumerate(zip(traced, names)):
        if i == first:
            continue
        o = closed.graph.out_avals
        if tree != out_tree or not _same_types(o, out_avals):
            raise TypeError(
                f"{names[first]} and {n} output must have identical types, got\n"
                f"{_avals_text(out_tree, out_avals)}\nand\n{_avals_text(tree, o)}\n"
                f"(at {core.user_site()})")
    graphs, consts = C.join_branches([c for c, _ in traced])
    return graphs, consts, leaves, out_tree


def _index_operand(index, n):
    """int32 index clamped to [0, n-1] (as lax.switch does)."""
    a = get_aval(index)
    if a.shape != ():
        raise TypeError(f"Branch index must be scalar, got {a.str_short()} (in switch at {core.user_site()})")
    if not dtypes.is_int(a.dtype):
        raise TypeError(f"Index type must be an integer, got {a.str_short()} (in switch at {core.user_site()})")
    i = P.convert_element_type(index, dtypes.int32)
    return P.clamp(np.int32(0), i, np.int32(n - 1))


def cond(pred, true_fun, false_fun, *operands, operand=None):
    """Run `true_fun(*operands)` if pred else `false_fun(*operands)` as one staged conditional.
    The legacy five-argument form `cond(pred, true_operand, true_fun, false_operand,
    false_fun)` is accepted, as in JAX."""
    if (operand is None and len(operands) == 2 and not callable(true_fun) and callable(false_fun)
            and callable(operands[1])):
        true_op, t_fun, false_op, f_fun = true_fun, false_fun, operands[0], operands[1]
        return cond(pred, lambda ops: t_fun(ops[0]), lambda ops: f_fun(ops[1]), (true_op, false_op))
    if operand is not None:
        operands = (*operands, operand)
    if not callable(true_fun) or not callable(false_fun):
        raise TypeError(f"cond: true_fun and false_fun arguments should be callable "
                        f"(at {core.user_site()})")
    a = get_aval(pred)
    if a.shape != ():
        raise TypeError(f"Pred must be a scalar, got {pred!r} of shape {a.shape} "
                        f"(at {core.user_site()})")
    if a.dtype != dtypes.bool_ and not dtypes.is_int(a.dtype) and not dtypes.is_float(a.dtype):
        raise TypeError(f"Pred type must be either boolean or number, got {a.dtype} "
                        f"(at {core.user_site()})")
    if a.dtype != dtypes.bool_:
        pred = P.ne(pred, np.zeros((), a.dtype)[()])
    index = P.convert_element_type(pred, dtypes.int32)
    graphs, consts, leaves, out_tree = _branches((false_fun, true_fun), operands,
                                                 ("false_fun", "true_fun"), first=1)
    outs = C.cond_p.bind(index, *consts, *leaves, branches=graphs)
    return tree_util.tree_unflatten(out_tree, outs)


def switch(index, branches, *operands, operand=None):
    """Apply `branches[clamp(index)]` to the operands."""
    if operand is not None:
        operands = (*operands, operand)
    branches = list(branches)
    if not branches:
        raise ValueError(f"switch: empty branch sequence (at {core.user_site()})")
    for b in branches:
        if not callable(b):
            raise TypeError(f"switch: branches argument should be a sequence of callables "
                            f"(at {core.user_site()})")
    idx = _index_operand(index, len(branches))
    if len(branches) == 1:
        return branches[0](*operands)
    names = tuple(f"branch {i}" for i in range(len(branches)))
    graphs, consts, leaves, out_tree = _branches(branches, operands, names)
    outs = C.cond_p.bind(idx, *consts, *leaves, branches=graphs)
    return tree_util.tree_unflatten(out_tree, outs)


# ----------------------------------------------------------------------------- while / fori
def while_loop(cond_fun, body_fun, init_val):
    """Repeat `val = body_fun(val)` while `cond_fun(val)`; one staged loop."""
    leaves, tree = _flatten_operands(init_val)
    avals = [get_aval(x) for x in leaves]
    args_tree = tree_util.tree_structure((tree_util.tree_unflatten(tree, [0] * len(leaves)),))
    for _ in range(2):  # a second trace when weakly typed carries were promoted
        body, body_tree = _trace(body_fun, args_tree, avals, "body_fun")
        out_avals = body.graph.out_avals
        changed = False
        if body_tree == tree:
            changed, leaves, avals = _promote_carry(leaves, avals, out_avals)
        if not changed:
            break
    if body_tree != tree or not _same_types(out_avals, avals):
        raise TypeError(
            f"body_fun output and input must have identical types, got\n"
            f"{_avals_text(body_tree, out_avals)}\nand\n{_avals_text(tree, avals)}\n"
            f"(at {core.user_site()})")
    cnd, cnd_tree = _trace(cond_fun, args_tree, avals, "cond_fun")
    c_out = cnd.graph.out_avals
    if len(c_out) != 1 or c_out[0].shape != () or c_out[0].dtype != dtypes.bool_:
        raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) "
                        f"{[a.str_short() for a in c_out]} (at {core.user_site()})")
    cg, cc = C.hoist(cnd)
    bg, bc = C.hoist(body)
    outs = C.while_p.bind(*cc, *bc, *leaves, cond_graph=C.intern_graph(cg), body_graph=C.intern_graph(bg),
                          cond_nconsts=len(cc), body_nconsts=len(bc))
    return tree_util.tree_unflatten(tree, outs)


def _static_int(x):
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, core.Tracer):
        v = x.to_concrete_value()
        if v is None:
            return None
        x = v
    if hasattr(x, "aval") and not isinstance(x, core.Tracer):
        try:
            if dtypes.is_int(x.aval.dtype) and x.aval.shape == ():
                return int(np.asarray(x))
        except Exception:  # noqa: BLE001
            return None
    return None


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """`for i in range(lower, upper): val = body_fun(i, val)`.

    With static bounds it is a `scan` (so reverse-mode differentiation works, as in JAX);
    otherwise a `while_loop`."""
    la, ua = get_aval(lower), get_aval(upper)
    for n, a in (("lower", la), ("upper", ua)):
        if a.shape != () or not dtypes.is_int(a.dtype):
            raise TypeError(f"fori_loop {n} bound must be an integer scalar, got {a.str_short()} "
                            f"(at {core.user_site()})")
    dt, _ = dtypes.promote([(la.dtype, la.weak_type), (ua.dtype, ua.weak_type)])
    lo, hi = _static_int(lower), _static_int(upper)
    if lo is not None and hi is not None:
        # as JAX: the index starts as the Python int `lower` (weakly typed, default int)
        n = max(hi - lo, 0)

        def step(carry, _):
            i, x = carry
            return (P.add(i, 1), body_fun(i, x)), None

        (_, out), _ = scan(step, (lo, init_val), None, length=n,
                           unroll=1 if unroll is None else unroll)
        return out
    if unroll not in (None, 1, False):
        raise ValueError(f"fori_loop: unroll requires static lower and upper bounds "
                         f"(at {core.user_site()})")
    # a bound already of the common dtype keeps its weak type (as JAX)
    if la.dtype != dt:
        lower = P.convert_element_type(lower, dt, weak_type=False)
    if ua.dtype != dt:
        upper = P.convert_element_type(upper, dt, weak_type=False)

    def w_cond(c):
        return P.lt(c[0], c[1])

    def w_body(c):
        i, u, x = c
        one = P.convert_element_type(np.ones((), dt)[()], dt, weak_type=get_aval(i).weak_type)
        return P.add(i, one), u, body_fun(i, x)

    _, _, out = while_loop(w_cond, w_body, (lower, upper, init_val))
    return out


# ----------------------------------------------------------------------------- scan / map
class ScanLengthError(TypeError, ValueError):
    """scan's xs disagree on their leading axis (a TypeError, and a ValueError as in JAX)."""


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    """`carry, y = f(carry, x)` over the leading axis of xs; returns (carry, stacked ys)."""
    if not callable(f):
        raise TypeError(f"scan: f argument should be a callable (at {core.user_site()})")
    x_leaves, x_tree = _flatten_operands(xs)
    lengths = []
    for x in x_leaves:
        a = get_aval(x)
        if a.shape == ():
            raise ValueError(f"scan got value with no leading axis to scan over: {a.str_short()} "
                             f"(at {core.user_site()})")
        lengths.append(a.shape[0])
    if length is not None:
        length = int(length)
        if any(n != length for n in lengths):
            raise ScanLengthError(
                f"scan got `length` argument of {length} which disagrees with leading axis sizes "
                f"{sorted(set(lengths))} (at {core.user_site()})")
    elif lengths:
        if len(set(lengths)) > 1:
            shapes = ", ".join(f"{get_aval(x).str_short()}" for x in x_leaves)
            raise ScanLengthError(f"scan got values with different leading axis sizes: "
                                  f"{', '.join(str(n) for n in lengths)} (xs: {shapes}) "
                                  f"(at {core.user_site()})")
        length = lengths[0]
    else:
        raise ValueError(f"scan got no values to scan over and `length` not provided "
                         f"(at {core.user_site()})")
    if unroll is True:
        unroll = max(length, 1)
    elif unroll is False or unroll is None:
        unroll = 1
    unroll = int(unroll)
    if unroll < 1:
        raise ValueError(f"scan: unroll must be a positive integer or a bool, got {unroll}")
    c_leaves, c_tree = _flatten_operands(init)
    c_avals = [get_aval(x) for x in c_leaves]
    x_avals = [get_aval(x) for x in x_leaves]
    for a in x_avals:   # sharding in types: the scanned axis cannot be split over devices
        if a.sharding is not None and a.sharding.spec and a.sharding.spec[0] is not None:
            raise ValueError(f"0th dimension of all xs should be replicated. Got {a.sharding.spec} "
                             f"(at {core.user_site()})")
    x_avals = [a.update(shape=a.shape[1:]) for a in x_avals]
    nk = len(c_leaves)
    in_tree = tree_util.tree_structure((tree_util.tree_unflatten(c_tree, [0] * nk),
                                        tree_util.tree_unflatten(x_tree, [0] * len(x_leaves))))
    for _ in range(2):  # a second trace when weakly typed carries were promoted
        closed, out_tree = _trace(lambda c, x: _pair(f(c, x)), in_tree, c_avals + x_avals, "scan body")
        out_children = tree_util.treedef_children(out_tree)
        carry_tree = out_children[0]
        out_avals = closed.graph.out_avals
        n_out_c = carry_tree.num_leaves
        changed = False
        if carry_tree == c_tree:
            changed, c_leaves, c_avals = _promote_carry(c_leaves, c_avals, out_avals[:nk])
        if not changed:
            break
    if carry_tree != c_tree or not _same_types(out_avals[:n_out_c], c_avals):
        raise TypeError(
            f"scan body function carry input and carry output must have equal types, got\n"
            f"input carry {_avals_text(c_tree, c_avals)}\nand\noutput carry "
            f"{_avals_text(carry_tree, out_avals[:n_out_c])}\n(at {core.user_site()})")
    y_tree = out_children[1]
    g, consts = C.hoist(closed)
    outs = C.scan_p.bind(*consts, *c_leaves, *x_leaves, graph=C.intern_graph(g), num_consts=len(consts),
                         num_carry=nk, length=length, reverse=bool(reverse), unroll=unroll)
    carry = tree_util.tree_unflatten(c_tree, outs[:nk])
    ys = tree_util.tree_unflatten(y_tree, outs[nk:])
    return carry, ys


def _pair(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"scan body output must be a pair `(carry, y)`, got {type(out).__name__} "
                        f"(at {core.user_site()})")
    return tuple(out)


def map(f, xs, *, batch_size=None):  # noqa: A001
    """`stack([f(x) for x in xs])` as a scan (or over batches of `batch_size` with vmap)."""
    if batch_size is not None:
        from xlafront.api_batching import vmap
        leaves, tree = tree_util.tree_flatten(xs)
        n = get_aval(leaves[0]).shape[0]
        b = int(batch_size)
        nb, rem = divmod(n, b)
        main = [P.reshape(P.slice(x, (0,) * get_aval(x).ndim, (nb * b, *get_aval(x).shape[1:])),
                          (nb, b, *get_aval(x).shape[1:])) for x in leaves]
        _, ys = scan(lambda c, x: (c, vmap(f)(x)), (), tree_util.tree_unflatten(tree, main))
        ys = tree_util.tree_map(lambda y: P.reshape(y, (nb * b, *y.shape[2:])), ys)
        if rem:
            tail = [P.slice(x, (nb * b,) + (0,) * (get_aval(x).ndim - 1), get_aval(x).shape)
                    for x in leaves]
            ys_tail = vmap(f)(tree_util.tree_unflatten(tree, tail))
            ys = tree_util.tree_map(lambda a, t: P.concatenate([a, t], 0), ys, ys_tail)
        return ys
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


# ----------------------------------------------------------------------------- associative_scan
def associative_scan(fn, elems, reverse=False, axis=0):
    """All prefix combinations `fn(...fn(fn(e0, e1), e2)..., ei)` along `axis` (parallel prefix)."""
    leaves, tree = tree_util.tree_flatten(elems)
    if not leaves:
        return elems
    ndims = [get_aval(x).ndim for x in leaves]
    ax = axis + ndims[0] if axis < 0 else axis
    n = get_aval(leaves[0]).shape[ax]
    for x in leaves:
        if get_aval(x).shape[ax] != n:
            raise ValueError(f"associative_scan: array inputs to associative_scan must have the "
                             f"same first dimension; got {[get_aval(y).shape for y in leaves]} "
                             f"(at {core.user_site()})")
    if reverse:
        leaves = [P.rev(x, (ax,)) for x in leaves]

    def combine(a, b):
        out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        if out_tree != tree:
            raise TypeError(f"associative_scan: fn output structure {out_tree} differs from its "
                            f"input structure {tree}")
        return out_leaves

    def sl(x, start, stop, step=1):
        a = get_aval(x)
        lo = [0] * a.ndim
        hi = list(a.shape)
        st = [1] * a.ndim
        lo[ax], hi[ax], st[ax] = start, stop, step
        return P.slice(x, lo, hi, st)

    def interleave(a, b):
        # a has ceil(m/2), b has floor(m/2) entries along ax: a0 b0 a1 b1 ...
        out = []
        for x, y in zip(a, b):
            xa, ya = get_aval(x), get_aval(y)
            na, nb_ = xa.shape[ax], ya.shape[ax]
            if na > nb_:
                pad = [(0, 0, 0)] * ya.ndim
                pad[ax] = (0, 1, 0)
                y = P.pad(y, np.zeros((), ya.dtype)[()], pad)
            both = P.concatenate([P.expand_dims(x, (ax + 1,)), P.expand_dims(y, (ax + 1,))], ax + 1)
            shape = list(xa.shape)
            shape[ax] = 2 * na
            flat = P.reshape(both, tuple(shape))
            out.append(sl(flat, 0, na + nb_) if na > nb_ else flat)
        return out

    def rec(xs):
        m = get_aval(xs[0]).shape[ax]
        if m < 2:
            return xs
        reduced = combine([sl(x, 0, m - 1, 2) for x in xs], [sl(x, 1, m, 2) for x in xs])
        odd = rec(reduced)
        if m % 2 == 0:
            even = combine([sl(x, 0, get_aval(x).shape[ax] - 1) for x in odd], [sl(x, 2, m, 2) for x in xs])
        else:
            even = combine(odd, [sl(x, 2, m, 2) for x in xs])
        even = [P.concatenate([sl(x, 0, 1), e], ax) for x, e in zip(xs, even)]
        return interleave(even, odd)

    out = rec(leaves)
    if reverse:
        out = [P.rev(x, (ax,)) for x in out]
    return tree_util.tree_unflatten(tree, out)
