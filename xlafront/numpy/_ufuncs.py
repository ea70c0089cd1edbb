"""Elementwise functions: promotion (JAX's lattice, weak types) + broadcasting + one primitive."""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.numpy._util import (promote_args, promote_args_inexact, broadcast_args, check_arraylike,
                                  aval, convert)


def _binary(name, prim, inexact=False):
    promote = promote_args_inexact if inexact else promote_args

    def fn(x1, x2, /):
        x1, x2 = promote(name, x1, x2)
        x1, x2 = broadcast_args(name, x1, x2)
        return prim.bind(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} with numpy broadcasting and JAX's type promotion."
    return fn


def _unary(name, prim, inexact=True):
    def fn(x, /):
        check_arraylike(name, x)
        if inexact:
            (x,) = promote_args_inexact(name, x)
        elif isinstance(x, (bool, int, float, complex)):
            x = convert(x, *_scalar_dt(x))
        return prim.bind(x)

    fn.__name__ = fn.__qualname__ = name
    return fn


def _scalar_dt(x):
    return dtypes.scalar_type_of(x)


add = _binary("add", P.add_p)
subtract = _binary("subtract", P.sub_p)
multiply = _binary("multiply", P.mul_p)
maximum = _binary("maximum", P.max_p)
minimum = _binary("minimum", P.min_p)
equal = _binary("equal", P.eq_p)
not_equal = _binary("not_equal", P.ne_p)
less = _binary("less", P.lt_p)
less_equal = _binary("less_equal", P.le_p)
greater = _binary("greater", P.gt_p)
greater_equal = _binary("greater_equal", P.ge_p)
arctan2 = _binary("arctan2", P.atan2_p, inexact=True)


def true_divide(x1, x2, /):
    x1, x2 = promote_args_inexact("true_divide", x1, x2)
    x1, x2 = broadcast_args("true_divide", x1, x2)
    return P.div_p.bind(x1, x2)


divide = true_divide

exp = _unary("exp", P.exp_p)
log = _unary("log", P.log_p)
sin = _unary("sin", P.sin_p)
cos = _unary("cos", P.cos_p)
tanh = _unary("tanh", P.tanh_p)
sqrt = _unary("sqrt", P.sqrt_p)


def negative(x, /):
    check_arraylike("negative", x)
    if isinstance(x, (int, float, complex)):
        x = convert(x, *_scalar_dt(x))
    return P.neg_p.bind(x)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    if x is None and y is None:
        raise NotImplementedError("where(condition) with one argument: use nonzero")
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be provided to where.")
    check_arraylike("where", condition, x, y)
    x, y = promote_args("where", x, y)
    c = condition
    if aval(c).dtype != dtypes.bool_:
        c = P.ne_p.bind(*broadcast_args("where", *promote_args("where", c, False)))
    c, x, y = broadcast_args("where", c, x, y)
    shapes = [aval(v).shape for v in (c, x, y)]
    full = max(shapes, key=len)
    from xlafront.numpy._util import broadcast_to_shape
    x = broadcast_to_shape(x, full) if aval(x).shape != full else x
    y = broadcast_to_shape(y, full) if aval(y).shape != full else y
    return P.select_n_p.bind(c, y, x)


def _swap(f):
    return lambda self, other: f(other, self)


def _defer(f):
    """Binary operator that returns NotImplemented for operand types it does not know."""
    from xlafront.numpy._util import is_arraylike

    def op(self, other):
        if not is_arraylike(other):
            return NotImplemented
        return f(self, other)
    return op


array_methods = {
    "__add__": _defer(add), "__radd__": _defer(_swap(add)),
    "__sub__": _defer(subtract), "__rsub__": _defer(_swap(subtract)),
    "__mul__": _defer(multiply), "__rmul__": _defer(_swap(multiply)),
    "__truediv__": _defer(true_divide), "__rtruediv__": _defer(_swap(true_divide)),
    "__lt__": _defer(less), "__le__": _defer(less_equal),
    "__gt__": _defer(greater), "__ge__": _defer(greater_equal),
    "__eq__": _defer(equal), "__ne__": _defer(not_equal),
    "__neg__": negative, "__pos__": lambda self: self,
}
