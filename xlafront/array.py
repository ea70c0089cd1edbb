"""The device `Array` and the operator/method mixin shared with tracers.

An Array wraps one jaxlib device buffer and its aval. It is immutable; values are
computed asynchronously and `np.asarray(x)` / printing wait for them.
Operators and methods are installed on both `Array` and `core.Tracer` by
`install_methods` (called by xlafront.numpy once it is defined), so user code
behaves the same eagerly and under any transformation.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront.core import ShapedArray
from lowering import runtime


class Array:
    """A device array (our counterpart of jax.Array)."""
    __slots__ = ("_buf", "aval", "_npy", "__weakref__")
    __array_priority__ = 100

    def __init__(self, buf, aval: ShapedArray):
        self._buf = buf
        self.aval = aval
        self._npy = None

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: len(self.aval.shape))
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)
    itemsize = property(lambda self: self.aval.dtype.itemsize)
    nbytes = property(lambda self: self.aval.size * self.aval.dtype.itemsize)

    # ---- host access
    @property
    def _value(self) -> np.ndarray:
        v = self._npy
        if v is None:
            v = runtime.to_numpy(self._buf)
            v.flags.writeable = False
            self._npy = v
        return v

    def _value_for_inline(self):
        return self._value

    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        if copy:
            return v.copy()
        return v

    def block_until_ready(self):
        runtime.block_until_ready(self._buf)
        return self

    def is_ready(self):
        return self._buf.is_ready()

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def copy(self):
        return self  # immutable: a copy is the same value (device copies are not observable)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def devices(self):
        return {runtime.default_device()}

    @property
    def device(self):
        return runtime.default_device()

    def delete(self):
        runtime.delete(self._buf)

    def is_deleted(self):
        return runtime.is_deleted(self._buf)

    def __reduce__(self):
        return (_reconstruct, (self._value, self.aval.weak_type))

    # ---- Python scalar conversions
    def _scalar(self, what):
        if self.aval.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars ({what}); "
                            f"got shape {self.shape}")
        return self._value.reshape(()).item() if self.ndim else self._value.item()

    def __bool__(self):
        if self.aval.size != 1:
            raise ValueError(f"The truth value of an array with more than one element is ambiguous "
                             f"(shape {self.shape}). Use a.any() or a.all()")
        return bool(self._value.reshape(()))

    def __float__(self):
        return float(self._value.reshape(()) if self.size == 1 else self._scalar("float"))

    def __int__(self):
        return int(self._value.reshape(()) if self.size == 1 else self._scalar("int"))

    def __complex__(self):
        return complex(self._value.reshape(()) if self.size == 1 else self._scalar("complex"))

    def __index__(self):
        if not dtypes.is_int(self.dtype) and self.dtype != dtypes.bool_:
            raise TypeError(f"only integer scalar arrays can be converted to a scalar index, "
                            f"got dtype {self.dtype.name}")
        return int(self._scalar("index"))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        # one host transfer, then per-row device arrays (as JAX: items are Arrays)
        return iter(_unstack(self))

    def __hash__(self):
        raise TypeError("unhashable type: 'Array'")

    def __setitem__(self, idx, val):
        raise TypeError("'Array' object does not support item assignment. xlafront arrays are "
                        "immutable; instead of `x[idx] = y`, use `x = x.at[idx].set(y)`.")

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self._value.item(), spec)
        return format(self._value, spec)

    # ---- printing, as JAX prints
    def __repr__(self):
        prefix = "Array("
        dtype_str = f"dtype={self.dtype.name}" + (", weak_type=True)" if self.weak_type else ")")
        if self.size == 0:
            body = f"[], shape={self.shape}"
        else:
            body = np.array2string(self._value, prefix=prefix, suffix=",", separator=", ",
                                   max_line_width=np.get_printoptions()["linewidth"])
        last_line = len(body) - body.rfind("\n") + 1
        sep = " " if last_line + len(dtype_str) + 1 <= np.get_printoptions()["linewidth"] else \
            "\n" + " " * len(prefix)
        return f"{prefix}{body},{sep}{dtype_str}"

    def __str__(self):
        return str(self._value)


def _reconstruct(value, weak_type):
    from xlafront.numpy import asarray
    x = asarray(value)
    return Array(x._buf, x.aval.update(weak_type=weak_type))


def _unstack(x):
    from xlafront.numpy import _indexing
    return _indexing.unstack(x)


def make_array(buf, aval) -> Array:
    a = Array.__new__(Array)
    a._buf = buf
    a.aval = aval
    a._npy = None
    return a


core.aval_of_type[Array] = lambda x: x.aval


def install_methods(namespace: dict):
    """Install operators and array methods on Array and core.Tracer.

    `namespace` maps names to the implementing functions (from xlafront.numpy).
    """
    for cls in (Array, core.Tracer):
        for name, fn in namespace.items():
            setattr(cls, name, fn)
