"""The device array `ArrayImpl` and the operator/method mixin shared with tracers.

`Array` (xf.Array, xnp.ndarray) is the base class in core that ArrayImpl, every tracer and
typed key arrays derive from, so `isinstance(x, xf.Array)` holds for all of them, as with
jax.Array; `type(x) is ArrayImpl` is the concrete test (the hot paths use it).
An ArrayImpl wraps one jaxlib device buffer and its aval. It is immutable; values are
computed asynchronously and `np.asarray(x)` / printing wait for them.
Operators and methods are installed on both `ArrayImpl` and `core.Tracer` by
`install_methods` (called by xlafront.numpy once it is defined), so user code
behaves the same eagerly and under any transformation. This module sits below
xlafront.numpy and never imports it: the few numpy functions the Array's own code needs
(unpickling, iterating a large array) are registered here by the same call.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront.core import Array, ShapedArray
from xlafront.lowering import runtime


class ArrayImpl(Array):
    """A device array: the concrete class of xf.Array (JAX's is jaxlib's ArrayImpl)."""
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
            if runtime.is_deleted(self._buf):
                raise RuntimeError(f"Array has been deleted with shape={self.dtype.name}"
                                   f"[{','.join(map(str, self.shape))}].")
            v = runtime.to_numpy(self._buf)
            v.flags.writeable = False
            self._npy = v
        return v

    def _value_for_inline(self):
        return self._value

    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            if copy is False:
                raise ValueError(f"converting an Array of dtype {v.dtype.name} to {np.dtype(dtype).name} "
                                 f"requires a copy, but copy=False was given")
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
        return {self._buf._sharding._device}

    @property
    def device(self):
        return self._buf._sharding._device

    @property
    def sharding(self):
        return self._buf._sharding   # the single-device sharding of its device (sharded: ShardedArray)

    is_fully_addressable = property(lambda self: True)
    is_fully_replicated = property(lambda self: True)

    def copy_to_host_async(self):
        """Start the device-to-host copy that `np.asarray(x)` will wait for."""
        if self._npy is None:
            runtime.copy_to_host_async(self._buf)

    def unsafe_buffer_pointer(self):
        return runtime.buffer_pointer(self._buf)

    def on_device_size_in_bytes(self):
        return runtime.on_device_size_in_bytes(self._buf)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return runtime.to_dlpack(self._buf, stream=stream)

    def __dlpack_device__(self):
        return runtime.dlpack_device(self._buf)

    def delete(self):
        runtime.delete(self._buf)

    def is_deleted(self):
        return runtime.is_deleted(self._buf)

    def __reduce__(self):
        return (_reconstruct, (self._value, self.aval.weak_type))

    # ---- Python scalar conversions (as JAX: float/int/complex need a 0-d array)
    def _scalar(self):
        if self.aval.shape:
            raise TypeError(f"Only scalar arrays can be converted to Python scalars; "
                            f"got arr.ndim={len(self.aval.shape)}")
        return self._value.item()

    def __bool__(self):
        n = self.aval.size
        if n != 1:
            if n == 0:
                raise ValueError("The truth value of an empty array is ambiguous. Use "
                                 "`array.size > 0` to check that an array is not empty.")
            raise ValueError("The truth value of an array with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self._value.reshape(()))

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __index__(self):
        if self.aval.shape or not dtypes.is_int(self.aval.dtype):
            raise TypeError("Only integer scalar arrays can be converted to a scalar index.")
        return int(self._value[()])

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        # items are Arrays (as JAX). Small arrays: one host copy, then a device_put per
        # row (no compile); large ones are sliced on the device.
        if self._npy is not None or self.aval.size <= _HOST_ITER_MAX:
            rows, aval = self._value, self.aval.update(shape=self.aval.shape[1:])
            weak = self.aval.weak_type
            return (make_array(runtime.device_put(np.asarray(r, order="C"), weak), aval) for r in rows)
        return iter(_unstack(self))

    def __hash__(self):
        raise TypeError("unhashable type: 'ArrayImpl'")

    def __setitem__(self, idx, val):
        raise TypeError("xlafront arrays are immutable and do not support in-place item assignment. "
                        "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method "
                        "(set, add, multiply, divide, min, max, power, get).")

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
        # as JAX: when the dtype does not fit on the last line it is padded, not wrapped
        sep = " " if last_line + len(dtype_str) + 1 <= np.get_printoptions()["linewidth"] else \
            " " * len(prefix)
        return f"{prefix}{body},{sep}{dtype_str}"

    def __str__(self):
        return str(self._value)


_HOST_ITER_MAX = 1 << 16


# The numpy-layer functions the Array's own code calls ("asarray", "unstack"), registered
# by xlafront.numpy through install_methods (this module never imports xlafront.numpy).
_numpy_impl: dict = {}


def _reconstruct(value, weak_type):
    x = _numpy_impl["asarray"](value)
    return ArrayImpl(x._buf, x.aval.update(weak_type=weak_type))


def _unstack(x):
    return _numpy_impl["unstack"](x)


_canonical_avals: dict = {}


def canonical_aval(aval: ShapedArray) -> ShapedArray:
    """One shared object per distinct aval, so that the cache keys of the jit and eager hot
    paths compare by identity (no Python __eq__ call on a hit)."""
    c = _canonical_avals.get(aval)
    if c is None:
        if len(_canonical_avals) >= 65536:
            return aval
        c = _canonical_avals[aval] = aval
    return c


def make_array(buf, aval, _new=object.__new__, _cls=ArrayImpl) -> ArrayImpl:
    a = _new(_cls)
    a._buf = buf
    a.aval = canonical_aval(aval)
    a._npy = None
    return a


def array_maker(aval):
    """A one-argument ArrayImpl constructor for outputs of one aval: the runtime's result
    handler calls it on each new buffer (the hot end of every jit and eager call)."""
    def make(buf, _new=object.__new__, _cls=ArrayImpl, _aval=canonical_aval(aval)):
        a = _new(_cls)
        a._buf = buf
        a.aval = _aval
        a._npy = None
        return a
    return make


core.aval_of_type[ArrayImpl] = lambda x: x.aval


def install_methods(namespace: dict, impl: dict = None):
    """Install operators and array methods on ArrayImpl and core.Tracer.

    `namespace` maps names to the implementing functions (from xlafront.numpy); `impl`
    gives the numpy functions this module calls itself (`asarray`, `unstack`).
    """
    for cls in (ArrayImpl, core.Tracer):
        for name, fn in namespace.items():
            setattr(cls, name, fn)
    if impl:
        _numpy_impl.update(impl)
    for hook in after_install:
        hook()


# Called after each install_methods: xlafront.dispatch puts its Python-scalar fast path in
# front of the installed operators (this module sits below dispatch and cannot call it).
after_install: list = []
