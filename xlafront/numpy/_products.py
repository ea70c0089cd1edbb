"""Products: dot, matmul (@), vdot, vecdot, inner, outer, tensordot, einsum, kron, cross.

Everything contracts through the one `dot_general` primitive.  einsum has its own small
planner: it parses the subscripts (with `...`), takes repeated-index diagonals with a
strided slice, sums indices that no later term needs, then contracts the operands left to
right with dot_general (shared indices that are still needed become batch dimensions).
"""
from __future__ import annotations

import builtins
import string

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import aval, promote_args, convert, broadcast_to_shape
from xlafront.numpy._util import broadcast_shapes as _broadcast_shapes
from xlafront.numpy._shapes import _arr
from xlafront._explicit_sharding import with_out_sharding as _with_out_sharding


def _shapes_msg(a, b):
    return f"{aval(a).shape} and {aval(b).shape}"


def _dot_general(a, b, dn, precision, preferred_element_type):
    return P.dot_general(a, b, dn, precision, preferred_element_type)


def _mul(a, b):
    from xlafront.numpy._util import broadcast_args
    return P.mul_p.bind(*broadcast_args("multiply", a, b))


def _promote(name, *xs):
    xs = [_arr(name, x) for x in xs]
    return promote_args(name, *xs)


def _check_contract(name, a, b, da, db):
    sa, sb = aval(a).shape, aval(b).shape
    if sa[da] != sb[db]:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got "
                        f"({sa[da]},) and ({sb[db]},): {name} of shapes {sa} and {sb} "
                        f"(at {core.user_site()})")


# ----------------------------------------------------------------------------- matmul, dot


@_with_out_sharding
def matmul(a, b, *, precision=None, preferred_element_type=None,
           out_sharding=None):  # out_sharding: placement only (see lax.dot_general)
    a, b = _promote("matmul", a, b)
    sa, sb = aval(a).shape, aval(b).shape
    for i, s in enumerate((sa, sb)):
        if not s:
            raise ValueError(f"matmul input operand {i} must have ndim at least 1, but it has ndim 0 "
                             f"(at {core.user_site()})")
    na, nb = len(sa), len(sb)
    ka, kb = na - 1, (0 if nb == 1 else nb - 2)  # the contracted dims
    if sa[ka] != sb[kb]:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got "
                        f"({sa[ka]},) and ({sb[kb]},): matmul of shapes {sa} and {sb} "
                        f"(at {core.user_site()})")
    pet = preferred_element_type
    if na == 1 or nb <= 2:
        # a vector, or a matrix `b` without batch dims: one contraction gives numpy's
        # output order directly (a's free dims, then b's)
        return _dot_general(a, b, (((ka,), (kb,)), ((), ())), precision, pet)
    if na == 2:
        # (m, k) @ (..., k, n) gives (m, ..., n): move m next to n
        out = _dot_general(a, b, (((1,), (kb,)), ((), ())), precision, pet)
        return P.transpose(out, tuple(range(1, nb - 1)) + (0, nb - 1))
    # both batched: batch dims of size 1 against a bigger size are broadcast first
    batch = _broadcast_shapes(sa[:-2], sb[:-2], fun_name="matmul")
    a = broadcast_to_shape(a, batch + sa[-2:]) if sa[:-2] != batch else a
    b = broadcast_to_shape(b, batch + sb[-2:]) if sb[:-2] != batch else b
    k = len(batch)
    bd = tuple(range(k))
    return _dot_general(a, b, (((k + 1,), (k,)), (bd, bd)), precision, pet)


@_with_out_sharding
def dot(a, b, *, precision=None, preferred_element_type=None,
        out_sharding=None):  # out_sharding: placement only (see lax.dot_general)
    a, b = _promote("dot", a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        out = _mul(a, b)
        return out if preferred_element_type is None else convert(out, dtypes.canonicalize(preferred_element_type))
    db = 0 if nb == 1 else nb - 2
    _check_contract("dot", a, b, na - 1, db)
    return _dot_general(a, b, (((na - 1,), (db,)), ((), ())), precision, preferred_element_type)


def vdot(a, b, *, precision=None, preferred_element_type=None):
    a, b = _promote("vdot", a, b)
    if dtypes.is_complex(aval(a).dtype):
        a = P.conj(a)
    a, b = P.reshape(a, (aval(a).size,)), P.reshape(b, (aval(b).size,))
    _check_contract("vdot", a, b, 0, 0)
    return _dot_general(a, b, (((0,), (0,)), ((), ())), precision, preferred_element_type)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    x1, x2 = _promote("vecdot", x1, x2)
    s1, s2 = aval(x1).shape, aval(x2).shape
    from xlafront.numpy._util import canonicalize_axis
    a1, a2 = canonicalize_axis(axis, len(s1), "vecdot"), canonicalize_axis(axis, len(s2), "vecdot")
    if s1[a1] != s2[a2]:
        raise ValueError(f"axes must match; got shapes {s1} and {s2} with axis={axis}")
    from xlafront.numpy._shapes import moveaxis
    x1, x2 = moveaxis(x1, a1, -1), moveaxis(x2, a2, -1)
    if dtypes.is_complex(aval(x1).dtype):
        x1 = P.conj(x1)
    r = matmul(P.expand_dims(x1, (aval(x1).ndim - 1,)), P.expand_dims(x2, (aval(x2).ndim,)),
               precision=precision, preferred_element_type=preferred_element_type)
    return P.reshape(r, aval(r).shape[:-2])


def inner(a, b, *, precision=None, preferred_element_type=None):
    a, b = _promote("inner", a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        out = _mul(a, b)
        return out if preferred_element_type is None else convert(out, dtypes.canonicalize(preferred_element_type))
    _check_contract("inner", a, b, na - 1, nb - 1)
    return _dot_general(a, b, (((na - 1,), (nb - 1,)), ((), ())), precision, preferred_element_type)


def outer(a, b, out=None):
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.outer is not supported.")
    a, b = _promote("outer", a, b)
    a, b = P.reshape(a, (aval(a).size, 1)), P.reshape(b, (1, aval(b).size))
    return _mul(a, b)


@_with_out_sharding
def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None,
              out_sharding=None):  # out_sharding: placement only (see lax.dot_general)
    a, b = _promote("tensordot", a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > builtins.min(na, nb):
            raise TypeError(f"Number of tensordot axes (axes {n}) exceeds input ranks ({na} and {nb})")
        ca, cb = tuple(range(na - n, na)), tuple(range(n))
    elif isinstance(axes, (tuple, list)) and len(axes) == 2:
        ax_a, ax_b = axes
        ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
        if len(ax_a) != len(ax_b):
            raise TypeError(f"tensordot requires axes lists to have equal length, got {ax_a} and {ax_b}.")
        from xlafront.numpy._util import canonicalize_axis
        ca = tuple(canonicalize_axis(i, na, "tensordot") for i in ax_a)
        cb = tuple(canonicalize_axis(i, nb, "tensordot") for i in ax_b)
    else:
        raise TypeError(f"tensordot axes argument must be an int or a pair of sequences, got {axes!r}")
    sa, sb = aval(a).shape, aval(b).shape
    if any(sa[i] != sb[j] for i, j in zip(ca, cb)):
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got "
                        f"{tuple(sa[i] for i in ca)} and {tuple(sb[j] for j in cb)}: tensordot of shapes "
                        f"{sa} and {sb} (at {core.user_site()})")
    return _dot_general(a, b, ((ca, cb), ((), ())), precision, preferred_element_type)


def kron(a, b):
    a, b = _promote("kron", a, b)
    sa, sb = aval(a).shape, aval(b).shape
    nd = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    # a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...): their product flattens pairwise
    a = P.reshape(a, [d for s in sa for d in (s, 1)])
    b = P.reshape(b, [d for s in sb for d in (1, s)])
    return P.reshape(_mul(a, b), [x * y for x, y in zip(sa, sb)])


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    a, b = _promote("cross", a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    from xlafront.numpy._shapes import moveaxis
    from xlafront.numpy._util import canonicalize_axis
    a = moveaxis(a, canonicalize_axis(axisa, aval(a).ndim, "cross"), -1)
    b = moveaxis(b, canonicalize_axis(axisb, aval(b).ndim, "cross"), -1)
    na, nb = aval(a).shape[-1], aval(b).shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"Dimension must be either 2 or 3 for cross product, got shapes "
                         f"{aval(a).shape} and {aval(b).shape}")
    def comp(x, i):
        s = aval(x).shape
        return P.reshape(P.slice(x, (0,) * len(s), s[:-1] + (i + 1,)) if i == 0 else
                         P.slice(x, (0,) * (len(s) - 1) + (i,), s[:-1] + (i + 1,)), s[:-1])

    if na == 2 and nb == 2:
        return convert(_sub(_mul(comp(a, 0), comp(b, 1)), _mul(comp(a, 1), comp(b, 0))), aval(a).dtype)
    a0, a1 = comp(a, 0), comp(a, 1)
    a2 = comp(a, 2) if na == 3 else None
    b0, b1 = comp(b, 0), comp(b, 1)
    b2 = comp(b, 2) if nb == 3 else None

    def term(x, y, u, v):  # x*y - u*v, where a missing 3rd component is 0
        left = _mul(x, y) if x is not None and y is not None else None
        right = _mul(u, v) if u is not None and v is not None else None
        if left is None:
            return P.neg(right)
        return left if right is None else _sub(left, right)

    c0 = term(a1, b2, a2, b1)
    c1 = term(a2, b0, a0, b2)
    c2 = _sub(_mul(a0, b1), _mul(a1, b0))
    from xlafront.numpy._shapes import stack
    shape = _broadcast_shapes(aval(c0).shape, aval(c1).shape, aval(c2).shape)
    c = stack([broadcast_to_shape(c, shape) for c in (c0, c1, c2)], axis=-1)
    c = convert(c, aval(c).dtype, False)
    return moveaxis(c, -1, canonicalize_axis(axisc, aval(c).ndim, "cross"))


def _sub(a, b):
    from xlafront.numpy._util import broadcast_args
    return P.sub_p.bind(*broadcast_args("subtract", a, b))


# ----------------------------------------------------------------------------- einsum

_ELLIPSIS = "."


def _parse_term(term, ndim, operand_index):
    """Labels of one input term, '...' expanded into ('.', k) labels counted from the right."""
    if term.count("...") > 1 or (term.replace("...", "").count(".")):
        raise ValueError(f"einsum: invalid subscript {term!r} (at most one '...')")
    if "..." in term:
        pre, post = term.split("...")
        nell = ndim - len(pre) - len(post)
        if nell < 0:
            raise ValueError(f"einsum: operand {operand_index} has {ndim} dimensions, fewer than its "
                             f"subscripts {term!r} need")
        return list(pre) + [(_ELLIPSIS, nell - 1 - k) for k in range(nell)] + list(post)
    if len(term) != ndim:
        raise ValueError(f"einsum: operand {operand_index} has {ndim} dimensions but its subscripts "
                         f"{term!r} name {len(term)}")
    return list(term)


def _check_letters(term):
    for c in term.replace("...", ""):
        if c not in string.ascii_letters:
            raise ValueError(f"einsum: invalid subscript character {c!r} in {term!r}")


def _sublist_to_str(sub):
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        else:
            i = int(s)
            if not 0 <= i < 52:
                raise ValueError(f"einsum: subscript index {i} must be in [0, 52)")
            out.append(string.ascii_letters[i])
    return "".join(out)


def _diagonal_of(x, labels, lab):
    """Take the diagonal over every repeated occurrence of `lab` (it ends up last)."""
    from xlafront.numpy._shapes import diagonal
    while labels.count(lab) > 1:
        i = labels.index(lab)
        j = labels.index(lab, i + 1)
        x = diagonal(x, 0, i, j)
        labels = [l for k, l in enumerate(labels) if k not in (i, j)] + [lab]
    return x, labels


@_with_out_sharding
def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, _dot_general=None, out_sharding=None):
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.einsum is not supported.")
    if not isinstance(subscripts, str):
        # interleaved form: einsum(op0, sublist0, op1, sublist1, ..., [sublistout])
        args = (subscripts,) + operands
        ops, terms = list(args[0::2]), list(args[1::2])
        out_sub = None
        if len(ops) > len(terms):
            out_sub = ops.pop()
        subscripts = ",".join(_sublist_to_str(t) for t in terms)
        if out_sub is not None:
            subscripts += "->" + _sublist_to_str(out_sub)
        operands = tuple(ops)
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, rhs = subscripts.split("->")
        explicit = True
    else:
        lhs, rhs, explicit = subscripts, None, False
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands, got "
                         f"{len(operands)} (at {core.user_site()})")
    for t in terms + ([rhs] if rhs is not None else []):
        _check_letters(t)
    ops = [_arr("einsum", x) for x in operands]
    if ops:
        ops = list(promote_args("einsum", *ops)) if len(ops) > 1 else ops
    labels = [_parse_term(t, aval(x).ndim, i) for i, (t, x) in enumerate(zip(terms, ops))]

    # sizes of every label; size-1 entries broadcast (dropped from their operand)
    sizes: dict = {}
    for i, (labs, x) in enumerate(zip(labels, ops)):
        for lab, d in zip(labs, aval(x).shape):
            prev = sizes.get(lab)
            if prev is None or prev == 1:
                sizes[lab] = d
            elif d != 1 and d != prev:
                name = "..." if isinstance(lab, tuple) else lab
                raise ValueError(f"Size of label '{name}' for operand {i} ({d}) does not match previous "
                                 f"terms ({prev}) (at {core.user_site()})")
    ell = sorted({l for labs in labels for l in labs if isinstance(l, tuple)}, key=lambda l: -l[1])
    if explicit:
        if rhs.count("...") > 1 or rhs.replace("...", "").count("."):
            raise ValueError(f"einsum: invalid output subscripts {rhs!r}")
        if "..." in rhs:
            pre, post = rhs.split("...")
            out_labels = list(pre) + ell + list(post)
        else:
            if ell and any(sizes[l] != 1 for l in ell):
                raise ValueError("einsum: output subscripts must contain '...' when the inputs have "
                                 "broadcast dimensions")
            out_labels = list(rhs)
        for lab in out_labels:
            if not isinstance(lab, tuple) and lab not in sizes:
                raise ValueError(f"einsum: output subscript {lab!r} does not appear in the inputs")
        if len(set(out_labels)) != len(out_labels):
            raise ValueError(f"einsum: output subscripts {rhs!r} repeat a label")
    else:
        counts: dict = {}
        for labs in labels:
            for l in labs:
                if not isinstance(l, tuple):
                    counts[l] = counts.get(l, 0) + 1
        out_labels = ell + sorted(l for l, c in counts.items() if c == 1)
    out_set = set(out_labels)

    # per operand: drop broadcast size-1 dims, diagonals of repeated labels
    for i in range(len(ops)):
        x, labs = ops[i], labels[i]
        drop = [k for k, l in enumerate(labs) if aval(x).shape[k] == 1 and sizes[l] != 1]
        if drop:
            x = P.squeeze(x, drop)
            labs = [l for k, l in enumerate(labs) if k not in drop]
        for lab in list(dict.fromkeys(labs)):
            if labs.count(lab) > 1:
                x, labs = _diagonal_of(x, labs, lab)
        ops[i], labels[i] = x, labs

    def needed_elsewhere(k_skip, others):
        need = set(out_set)
        for k, labs in enumerate(others):
            if k not in k_skip:
                need.update(labs)
        return need

    def sum_unneeded(x, labs, need):
        axes = [k for k, l in enumerate(labs) if l not in need]
        if axes:
            x = P.reduce_sum(x, axes)
            labs = [l for k, l in enumerate(labs) if k not in axes]
        return x, labs

    if not ops:
        raise ValueError("einsum needs at least one operand")
    # reduce indices private to one operand before any contraction
    for i in range(len(ops)):
        need = needed_elsewhere({i}, labels)
        ops[i], labels[i] = sum_unneeded(ops[i], labels[i], need)

    x, labs = ops[0], labels[0]
    rest = list(zip(ops[1:], labels[1:]))
    for j, (y, ylabs) in enumerate(rest):
        later = [l for _, l in rest[j + 1:]]
        need_later = set(out_set).union(*later) if later else set(out_set)
        x, labs = sum_unneeded(x, labs, need_later | set(ylabs))
        y, ylabs = sum_unneeded(y, ylabs, need_later | set(labs))
        shared = [l for l in labs if l in ylabs]
        batch = [l for l in shared if l in need_later]
        contract = [l for l in shared if l not in need_later]
        dn = ((tuple(labs.index(l) for l in contract), tuple(ylabs.index(l) for l in contract)),
              (tuple(labs.index(l) for l in batch), tuple(ylabs.index(l) for l in batch)))
        x = P.dot_general(x, y, dn, precision, preferred_element_type)
        labs = batch + [l for l in labs if l not in shared] + [l for l in ylabs if l not in shared]
    if not rest and preferred_element_type is not None:
        x = convert(x, dtypes.canonicalize(preferred_element_type))
    x, labs = sum_unneeded(x, labs, out_set)
    # labels of the output that no operand still has (broadcast size-1): add them back
    missing = [l for l in out_labels if l not in labs]
    if missing:
        x = P.reshape(x, aval(x).shape + (1,) * len(missing))
        labs = labs + missing
    perm = [labs.index(l) for l in out_labels]
    return P.transpose(x, perm)


# ----------------------------------------------------------------------------- methods


def _rmatmul(self, other):
    from xlafront.numpy._util import is_arraylike
    if not is_arraylike(other):
        return NotImplemented
    return matmul(other, self)


def _matmul_op(self, other):
    from xlafront.numpy._util import is_arraylike
    if not is_arraylike(other):
        return NotImplemented
    return matmul(self, other)


def _dot_method(self, b, *, precision=None, preferred_element_type=None):
    return dot(self, b, precision=precision, preferred_element_type=preferred_element_type)


array_methods = {"__matmul__": _matmul_op, "__rmatmul__": _rmatmul, "dot": _dot_method}

__all__ = ["matmul", "dot", "vdot", "vecdot", "inner", "outer", "tensordot", "kron", "cross",
           "einsum"]
