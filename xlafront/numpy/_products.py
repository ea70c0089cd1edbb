"""Products: dot, matmul (@), vdot, inner, outer, tensordot, einsum."""
from __future__ import annotations

from xlafront import core
from xlafront import primitives as P
from xlafront.numpy._util import aval, promote_args, check_arraylike


def _shapes_msg(a, b):
    return f"{aval(a).shape} and {aval(b).shape}"


def matmul(a, b, *, precision=None, preferred_element_type=None):
    check_arraylike("matmul", a, b)
    a, b = promote_args("matmul", a, b)
    sa, sb = aval(a).shape, aval(b).shape
    if not sa or not sb:
        raise ValueError(f"matmul: inputs must be at least 1-D, got shapes {_shapes_msg(a, b)} "
                         f"(at {core.user_site()})")
    a_vec, b_vec = len(sa) == 1, len(sb) == 1
    if a_vec:
        a = P.reshape(a, (1,) + sa)
    if b_vec:
        b = P.reshape(b, sb + (1,))
    sa, sb = aval(a).shape, aval(b).shape
    if sa[-1] != sb[-2]:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got "
                        f"{sa[-1]} and {sb[-2]}: matmul of shapes {_shapes_msg(a, b)} "
                        f"(at {core.user_site()})")
    from xlafront.numpy._util import broadcast_shapes, broadcast_to_shape
    batch = broadcast_shapes(sa[:-2], sb[:-2], fun_name="matmul")
    a = broadcast_to_shape(a, batch + sa[-2:]) if sa[:-2] != batch else a
    b = broadcast_to_shape(b, batch + sb[-2:]) if sb[:-2] != batch else b
    nb = len(batch)
    bd = tuple(range(nb))
    out = P.dot_general(a, b, (((nb + 1,), (nb,)), (bd, bd)), precision, preferred_element_type)
    if a_vec and b_vec:
        return P.reshape(out, batch)
    if a_vec:
        return P.reshape(out, batch + (sb[-1],))
    if b_vec:
        return P.reshape(out, batch + (sa[-2],))
    return out


def dot(a, b, *, precision=None, preferred_element_type=None):
    check_arraylike("dot", a, b)
    a, b = promote_args("dot", a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        from xlafront.numpy._ufuncs import multiply
        return multiply(a, b)
    if nb == 1:
        if aval(a).shape[-1] != aval(b).shape[0]:
            raise TypeError(f"dot: shapes {_shapes_msg(a, b)} not aligned (at {core.user_site()})")
        return P.dot_general(a, b, (((na - 1,), (0,)), ((), ())), precision, preferred_element_type)
    if aval(a).shape[-1] != aval(b).shape[-2]:
        raise TypeError(f"dot: shapes {_shapes_msg(a, b)} not aligned (at {core.user_site()})")
    return P.dot_general(a, b, (((na - 1,), (nb - 2,)), ((), ())), precision, preferred_element_type)


def _rmatmul(self, other):
    return matmul(other, self)


array_methods = {"__matmul__": matmul, "__rmatmul__": _rmatmul, "dot": dot}
