"""Operators and methods of Array and tracers, implemented with xlafront.numpy."""
from __future__ import annotations

from xlafront.numpy import _ufuncs as U, _reductions as R, _shapes as S, _products as M, _indexing as I


def _swap(f):
    return lambda self, other: f(other, self)


def _defer(f):
    """Binary operator that returns NotImplemented for types it does not know."""
    from xlafront.numpy._util import is_arraylike

    def op(self, other):
        if not is_arraylike(other):
            return NotImplemented
        return f(self, other)
    return op


def methods():
    ns = {
        "__add__": _defer(U.add), "__radd__": _defer(_swap(U.add)),
        "__sub__": _defer(U.subtract), "__rsub__": _defer(_swap(U.subtract)),
        "__mul__": _defer(U.multiply), "__rmul__": _defer(_swap(U.multiply)),
        "__truediv__": _defer(U.true_divide), "__rtruediv__": _defer(_swap(U.true_divide)),
        "__matmul__": _defer(M.matmul), "__rmatmul__": _defer(_swap(M.matmul)),
        "__lt__": _defer(U.less), "__le__": _defer(U.less_equal),
        "__gt__": _defer(U.greater), "__ge__": _defer(U.greater_equal),
        "__eq__": _defer(U.equal), "__ne__": _defer(U.not_equal),
        "__neg__": U.negative, "__pos__": lambda self: self,
        "__getitem__": I.getitem,
        "sum": R.sum, "max": R.max, "min": R.min, "mean": R.mean, "prod": R.prod,
        "reshape": lambda self, *shape, order="C": S.reshape(self, shape[0] if len(shape) == 1 else shape, order),
        "transpose": lambda self, *axes: S.transpose(self, axes[0] if len(axes) == 1 else (axes or None)),
        "T": property(lambda self: S.transpose(self)),
        "dot": M.dot, "ravel": S.ravel, "flatten": S.ravel, "squeeze": S.squeeze,
    }
    return ns
