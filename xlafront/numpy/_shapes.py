"""Shape manipulation: reshape, transpose, concatenate/stack/split, tile/repeat, flip/roll,
pad, diagonals and triangles, broadcasting, atleast_*d, astype.

Every function here moves or copies elements without arithmetic, so weak types are
kept (`jnp.reshape(2.0, (1,))` is a weak float32), as in JAX.  Data-dependent index
patterns with static values (pad's reflect/wrap modes, repeat with per-element counts)
become runs of slices, reversals and broadcasts joined by one concatenate: no gathers.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.numpy._util import (aval, canonicalize_axis, check_arraylike, convert, promote_args,
                                  broadcast_to_shape)
from xlafront.numpy._util import broadcast_shapes as _broadcast_shapes
from xlafront.numpy._util import host, static_int
from xlafront._explicit_sharding import with_out_sharding as _with_out_sharding

_SCALARS = (bool, int, float, complex)


# ----------------------------------------------------------------------------- helpers


def _arr(name, x):
    """x as an xlafront array or tracer (Python scalars stay weak, as jnp.asarray)."""
    from xlafront.array import ArrayImpl
    if isinstance(x, (ArrayImpl, core.Tracer)):
        return x
    check_arraylike(name, x)  # lists are refused, as in jax.numpy
    from xlafront.numpy._creation import asarray
    return asarray(x)


def _static_ints(name, v, what):
    """A static int or sequence of ints as a tuple; concrete arrays are read on the host."""
    if isinstance(v, (tuple, list)):
        return tuple(static_int(x, name, what) for x in v)
    if isinstance(v, core.Tracer):
        v = host(v, name, f"The {what} argument of jnp.{name} must be static integers.")
    if hasattr(v, "__array__") and not isinstance(v, (int, np.integer)):
        a = np.asarray(v)
        if a.ndim:
            if not np.issubdtype(a.dtype, np.integer):
                raise TypeError(f"{name}: {what} must be integers, got dtype {a.dtype} (at {core.user_site()})")
            return tuple(int(x) for x in a.reshape(-1))
    return (static_int(v, name, what),)


def _axis_slice(x, start, stop, axis, stride=1):
    a = aval(x)
    starts = [0] * a.ndim
    limits = list(a.shape)
    strides = [1] * a.ndim
    starts[axis], limits[axis], strides[axis] = start, stop, stride
    return P.slice(x, starts, limits, None if stride == 1 else strides)


def _fill_like(x, value, shape=None):
    """An array of `shape` (x's by default) filled with value, of x's dtype and weak type."""
    a = aval(x)
    shape = a.shape if shape is None else tuple(shape)
    v = convert(value, a.dtype, a.weak_type)
    if a.weak_type and not isinstance(v, _SCALARS):
        v = P.convert_element_type_p.bind(v, new_dtype=a.dtype, weak_type=True)
    return P.broadcast_in_dim_p.bind(v, shape=shape, broadcast_dimensions=())


_MAX_RUNS = 16  # beyond this many slices, one gather is the smaller program


def _take_static(x, idx, axis):
    """x's entries at the static indices idx along axis.

    idx is split into maximal runs that step by +1 (a slice), by -1 (a reversed slice) or
    repeat one index (a broadcast slice), joined by one concatenate; patterns with many
    runs become a single gather instead."""
    idx = [int(i) for i in idx]
    a = aval(x)
    if not idx:
        return _axis_slice(x, 0, 0, axis)
    runs = []
    i, n = 0, len(idx)
    while i < n:
        j = i + 1
        step = idx[j] - idx[i] if j < n else 0
        if step in (-1, 0, 1):
            while j < n and idx[j] - idx[j - 1] == step:
                j += 1
        runs.append((idx[i:j], step))
        i = j
    if len(runs) > _MAX_RUNS:
        from xlafront.numpy._indexing import take
        return take(x, np.asarray(idx, np.int32), axis=axis, mode="clip")
    pieces = []
    for run, step in runs:
        if len(run) == 1 or step == 1:
            pieces.append(_axis_slice(x, run[0], run[-1] + 1, axis))
        elif step == -1:
            pieces.append(P.rev(_axis_slice(x, run[-1], run[0] + 1, axis), (axis,)))
        else:  # one index repeated
            one = _axis_slice(x, run[0], run[0] + 1, axis)
            shape = list(a.shape)
            shape[axis] = len(run)
            pieces.append(P.broadcast_in_dim(one, shape, range(a.ndim)))
    return P.concatenate(pieces, axis)


# ----------------------------------------------------------------------------- reshape & co


def _shape_arg(name, shape):
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "__index__") and not isinstance(shape, (tuple, list))):
        return [operator.index(shape)]
    try:
        return [operator.index(s) for s in shape]
    except TypeError:
        raise TypeError(f"{name}: shape must be a sequence of integers, got {shape!r} "
                        f"(at {core.user_site()})") from None


@_with_out_sharding
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if shape is None:
        if newshape is None:
            raise TypeError("reshape() missing required argument 'shape'")
        shape = newshape
    a = _arr("reshape", a)
    av = aval(a)
    shape = _shape_arg("reshape", shape)
    if shape.count(-1) > 1:
        raise ValueError(f"can only specify one unknown dimension, got shape {tuple(shape)}")
    if any(s < -1 for s in shape):
        raise ValueError(f"reshape: negative dimension in shape {tuple(shape)}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or av.size % known:
            raise TypeError(f"cannot reshape array of shape {av.shape} (size {av.size}) into shape "
                            f"{tuple(shape)} because the product of specified axis sizes ({known}) does "
                            f"not evenly divide {av.size} (at {core.user_site()})")
        shape[shape.index(-1)] = av.size // known
    size = int(np.prod(shape, dtype=np.int64))
    if size != av.size:
        raise TypeError(f"cannot reshape array of shape {av.shape} (size {av.size}) into shape "
                        f"{tuple(shape)} (size {size}) (at {core.user_site()})")
    if order == "F":
        a = P.transpose(a, tuple(reversed(range(av.ndim))))
        return P.transpose(P.reshape(a, tuple(reversed(shape))), tuple(reversed(range(len(shape)))))
    if order not in ("C", "A", None):
        raise ValueError(f"reshape: unknown order {order!r} (use 'C', 'F' or 'A')")
    return P.reshape(a, shape)


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def _reshape_method(self, *args, order="C"):
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return reshape(self, args[0], order)
    return reshape(self, args, order)


def transpose(a, axes=None):
    a = _arr("transpose", a)
    nd = aval(a).ndim
    if axes is None:
        perm = tuple(range(nd))[::-1]
    else:
        perm = tuple(canonicalize_axis(x, nd, "transpose") for x in axes)
        if sorted(perm) != list(range(nd)):
            raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, got "
                            f"permutation {tuple(axes)} for operand shape {aval(a).shape} "
                            f"(at {core.user_site()})")
    return P.transpose(a, perm)


def permute_dims(a, /, axes):
    return transpose(a, axes)


def matrix_transpose(x, /):
    x = _arr("matrix_transpose", x)
    nd = aval(x).ndim
    if nd < 2:
        raise ValueError(f"matrix_transpose requires at least 2 dimensions, got shape {aval(x).shape}")
    return P.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def swapaxes(a, axis1, axis2):
    a = _arr("swapaxes", a)
    nd = aval(a).ndim
    i, j = canonicalize_axis(axis1, nd, "swapaxes"), canonicalize_axis(axis2, nd, "swapaxes")
    perm = list(range(nd))
    perm[i], perm[j] = perm[j], perm[i]
    return P.transpose(a, perm)


def moveaxis(a, source, destination):
    a = _arr("moveaxis", a)
    nd = aval(a).ndim
    src = _static_ints("moveaxis", source, "source")
    dst = _static_ints("moveaxis", destination, "destination")
    if len(src) != len(dst):
        raise ValueError(f"Inconsistent number of elements: {len(src)} vs {len(dst)}")
    src = [canonicalize_axis(s, nd, "moveaxis") for s in src]
    dst = [canonicalize_axis(d, nd, "moveaxis") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    perm = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return P.transpose(a, perm)


def rollaxis(a, axis, start=0):
    a = _arr("rollaxis", a)
    nd = aval(a).ndim
    axis = canonicalize_axis(axis, nd, "rollaxis")
    if not -nd <= start <= nd:
        raise ValueError(f"rollaxis: start {start} out of range for {nd} dimensions")
    start = start % (nd + 1) if start < 0 else start
    if axis < start:
        start -= 1
    return moveaxis(a, axis, start) if nd else a


def expand_dims(a, axis):
    a = _arr("expand_dims", a)
    axes = _static_ints("expand_dims", axis, "axis")
    nd = aval(a).ndim + len(axes)
    axes = [canonicalize_axis(x, nd, "expand_dims") for x in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in expand_dims: {axis}")
    return P.expand_dims(a, axes)


def squeeze(a, axis=None):
    a = _arr("squeeze", a)
    shape = aval(a).shape
    if axis is None:
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        axes = tuple(canonicalize_axis(x, len(shape), "squeeze")
                     for x in _static_ints("squeeze", axis, "axis"))
        bad = [ax for ax in axes if shape[ax] != 1]
        if bad:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal to one, "
                             f"got shape={shape} and dimensions={axes} (at {core.user_site()})")
    return P.squeeze(a, axes)


# ----------------------------------------------------------------------------- broadcasting


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(int(d) for d in s) for s in shapes]
    if not shapes:
        return ()
    return _broadcast_shapes(*shapes, fun_name="broadcast_shapes")


def broadcast_to(array, shape):
    x = _arr("broadcast_to", array)
    shape = tuple(_shape_arg("broadcast_to", shape))
    a = aval(x)
    lead = len(shape) - a.ndim
    if lead < 0 or any(d != 1 and d != shape[lead + i] for i, d in enumerate(a.shape)):
        raise ValueError(f"Incompatible shapes for broadcasting: {a.shape} and requested shape "
                         f"{shape} (at {core.user_site()})")
    return broadcast_to_shape(x, shape)


def broadcast_arrays(*args):
    xs = [_arr("broadcast_arrays", x) for x in args]
    shape = _broadcast_shapes(*(aval(x).shape for x in xs), fun_name="broadcast_arrays")
    return [broadcast_to_shape(x, shape) for x in xs]


# ----------------------------------------------------------------------------- joining


def _seq(name, arrays):
    from xlafront.array import ArrayImpl
    if isinstance(arrays, (ArrayImpl, core.Tracer, np.ndarray)):
        n = aval(arrays).shape[0] if aval(arrays).ndim else None
        if n is None:
            raise TypeError(f"{name}: expected a sequence of arrays, got a 0-d array")
        from xlafront.numpy._indexing import unstack
        return unstack(_arr(name, arrays), 0)
    return [_arr(name, a) for a in arrays]


def concatenate(arrays, axis=0, dtype=None):
    arrays = _seq("concatenate", arrays)
    if not arrays:
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = aval(arrays[0]).ndim
    if nd == 0:
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    shapes = ", ".join(str(aval(x).shape) for x in arrays)
    if any(aval(a).ndim != nd for a in arrays):
        raise TypeError(f"Cannot concatenate arrays with different numbers of dimensions: got {shapes} "
                        f"(at {core.user_site()})")
    axis = canonicalize_axis(axis, nd, "concatenate")
    s0 = aval(arrays[0]).shape
    for a in arrays:
        if any(x != y for i, (x, y) in enumerate(zip(aval(a).shape, s0)) if i != axis):
            raise TypeError(f"Cannot concatenate arrays with shapes that differ in dimensions other than "
                            f"the one being concatenated: concatenating along dimension {axis} for "
                            f"shapes {shapes} (at {core.user_site()})")
    arrays = list(promote_args("concatenate", *arrays))
    if dtype is not None:
        dt = dtypes.canonicalize(dtypes.dtype(dtype))
        arrays = [convert(a, dt) for a in arrays]
    nonempty = [a for a in arrays if aval(a).shape[axis] != 0]
    if not nonempty:
        return arrays[0]
    return P.concatenate(nonempty, axis)


concat = concatenate


def stack(arrays, axis=0, out=None, dtype=None):
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.stack is not supported.")
    arrays = _seq("stack", arrays)
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shape0 = aval(arrays[0]).shape
    if any(aval(a).shape != shape0 for a in arrays):
        raise ValueError(f"All input arrays must have the same shape. Got "
                         f"{', '.join(str(aval(x).shape) for x in arrays)} (at {core.user_site()})")
    axis = canonicalize_axis(axis, len(shape0) + 1, "stack")
    return concatenate([P.expand_dims(a, (axis,)) for a in arrays], axis, dtype=dtype)


def atleast_1d(*arys):
    out = [_atleast(_arr("atleast_1d", a), 1) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = [_atleast(_arr("atleast_2d", a), 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    out = [_atleast(_arr("atleast_3d", a), 3) for a in arys]
    return out[0] if len(out) == 1 else out


def _atleast(x, n):
    s = aval(x).shape
    if len(s) >= n:
        return x
    if n == 1:
        return P.reshape(x, (1,))
    if n == 2:
        return P.reshape(x, (1,) * (2 - len(s)) + s)
    # 3-d: (N,) -> (1, N, 1); (M, N) -> (M, N, 1); () -> (1, 1, 1)
    if len(s) == 0:
        return P.reshape(x, (1, 1, 1))
    if len(s) == 1:
        return P.reshape(x, (1,) + s + (1,))
    return P.reshape(x, s + (1,))


def vstack(tup, dtype=None):
    return concatenate([_atleast(a, 2) for a in _seq("vstack", tup)], 0, dtype=dtype)


row_stack = vstack


def hstack(tup, dtype=None):
    arrs = [_atleast(a, 1) for a in _seq("hstack", tup)]
    return concatenate(arrs, 0 if arrs and aval(arrs[0]).ndim == 1 else 1, dtype=dtype)


def dstack(tup, dtype=None):
    return concatenate([_atleast(a, 3) for a in _seq("dstack", tup)], 2, dtype=dtype)


def column_stack(tup):
    arrs = []
    for a in _seq("column_stack", tup):
        s = aval(a).shape
        arrs.append(P.reshape(a, s + (1,)) if len(s) < 2 else a)
    return concatenate([_atleast(a, 2) for a in arrs], 1)


def append(arr, values, axis=None):
    arr, values = _arr("append", arr), _arr("append", values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


# ----------------------------------------------------------------------------- splitting


def _split(name, ary, indices_or_sections, axis, equal):
    x = _arr(name, ary)
    a = aval(x)
    axis = canonicalize_axis(axis, a.ndim, name)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: number of sections must be larger than 0, got {sections}")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: rest is {n % sections}")
        q, r = divmod(n, sections)
        sizes = [q + 1] * r + [q] * (sections - r)
        bounds = list(np.cumsum([0] + sizes))
    else:
        idx = _static_ints(name, indices_or_sections, "indices")
        bounds = [0] + [builtins.min(builtins.max(i + n if i < 0 else i, 0), n) for i in idx] + [n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo, hi = int(lo), int(hi)
        out.append(_axis_slice(x, lo, builtins.max(lo, hi), axis))
    return out


def split(ary, indices_or_sections, axis=0):
    return _split("split", ary, indices_or_sections, axis, True)


def array_split(ary, indices_or_sections, axis=0):
    return _split("array_split", ary, indices_or_sections, axis, False)


def hsplit(ary, indices_or_sections):
    x = _arr("hsplit", ary)
    if aval(x).ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split("hsplit", x, indices_or_sections, 1 if aval(x).ndim > 1 else 0, True)


def vsplit(ary, indices_or_sections):
    x = _arr("vsplit", ary)
    if aval(x).ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split("vsplit", x, indices_or_sections, 0, True)


def dsplit(ary, indices_or_sections):
    x = _arr("dsplit", ary)
    if aval(x).ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split("dsplit", x, indices_or_sections, 2, True)


# ----------------------------------------------------------------------------- tile, repeat


def tile(A, reps):
    x = _arr("tile", A)
    reps = _static_ints("tile", reps, "reps")
    a = aval(x)
    nd = builtins.max(len(reps), a.ndim)
    reps = (1,) * (nd - len(reps)) + tuple(reps)
    shape = (1,) * (nd - a.ndim) + a.shape
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: negative repetitions {reps}")
    x = P.reshape(x, shape)
    # (d0, d1, ...) -> (r0, d0, r1, d1, ...) -> (r0*d0, r1*d1, ...)
    big = []
    for r, d in zip(reps, shape):
        big += [r, d]
    y = P.broadcast_in_dim(x, big, range(1, 2 * nd, 2))
    return P.reshape(y, [r * d for r, d in zip(reps, shape)])


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    x = _arr("repeat", a)
    if axis is None:
        x = ravel(x)
        axis = 0
    av = aval(x)
    axis = canonicalize_axis(axis, av.ndim, "repeat")
    if isinstance(repeats, core.Tracer):
        concrete = repeats.to_concrete_value()
        if concrete is None:
            raise core.ConcretizationTypeError(
                f"jnp.repeat with traced `repeats` needs static values: pass concrete repeats "
                f"(e.g. via static_argnums) (at {core.user_site()})")
        repeats = concrete
    r = np.asarray(repeats)
    if not np.issubdtype(r.dtype, np.integer):
        raise TypeError(f"repeat: repeats must be integers, got {r.dtype} (at {core.user_site()})")
    n = av.shape[axis]
    if r.ndim == 0 or r.size == 1:
        k = int(r.reshape(()))
        if k < 0:
            raise ValueError(f"repeat: negative repeats {k}")
        # (.., n, ..) -> (.., n, k, ..) -> (.., n*k, ..)
        shape = list(av.shape)
        shape.insert(axis + 1, k)
        dims = [i if i <= axis else i + 1 for i in range(av.ndim)]
        y = P.broadcast_in_dim(x, shape, dims)
        out_shape = list(av.shape)
        out_shape[axis] = n * k
        out = P.reshape(y, out_shape)
    else:
        if r.ndim != 1 or r.shape[0] != n:
            raise ValueError(f"operands could not be broadcast together with remapped shapes "
                             f"[original->remapped]: {r.shape} and requested shape ({n},)")
        if (r < 0).any():
            raise ValueError("repeat: negative repeats")
        idx = np.repeat(np.arange(n), r)
        out = _take_static(x, idx, axis)
    if total_repeat_length is not None:
        total = int(total_repeat_length)
        m = aval(out).shape[axis]
        if m >= total:
            out = _axis_slice(out, 0, total, axis)
        else:  # as JAX: pad by repeating the last entry
            last = _axis_slice(out, m - 1, m, axis)
            shape = list(aval(out).shape)
            shape[axis] = total - m
            out = P.concatenate([out, P.broadcast_in_dim(last, shape, range(len(shape)))], axis)
    return out


def resize(a, new_shape):
    x = _arr("resize", a)
    shape = tuple(_shape_arg("resize", new_shape))
    size = int(np.prod(shape, dtype=np.int64))
    flat = ravel(x)
    n = aval(flat).shape[0]
    if size == 0 or n == 0:
        return _fill_like(flat, 0, shape)
    reps = -(-size // n)
    flat = tile(flat, reps) if reps > 1 else flat
    return P.reshape(_axis_slice(flat, 0, size, 0), shape)


# ----------------------------------------------------------------------------- flip, roll, rot90


def flip(m, axis=None):
    x = _arr("flip", m)
    nd = aval(x).ndim
    axes = range(nd) if axis is None else [canonicalize_axis(i, nd, "flip")
                                           for i in _static_ints("flip", axis, "axis")]
    axes = tuple(sorted(set(axes)))
    return P.rev(x, axes) if axes else x


def fliplr(m):
    x = _arr("fliplr", m)
    if aval(x).ndim < 2:
        raise ValueError(f"fliplr requires an array of at least 2 dimensions, got shape {aval(x).shape}")
    return P.rev(x, (1,))


def flipud(m):
    x = _arr("flipud", m)
    if aval(x).ndim < 1:
        raise ValueError("flipud requires an array of at least 1 dimension, got a scalar")
    return P.rev(x, (0,))


def _roll_1(x, shift, axis):
    n = aval(x).shape[axis]
    if n == 0:
        return x
    if isinstance(shift, core.Tracer):
        # dynamic shift: slice n entries out of [x, x] starting at (-shift) mod n
        sa = aval(shift)
        if sa.shape or not dtypes.is_int(sa.dtype):
            raise TypeError(f"roll: shift must be an integer scalar, got {sa.str_short()}")
        s = convert(shift, dtypes.default_int())
        nn = np.asarray(n, dtypes.default_int())[()]
        start = P.rem(P.add(P.rem(P.neg(s), nn), nn), nn)
        xx = P.concatenate([x, x], axis)
        zero = np.asarray(0, dtypes.default_int())[()]
        starts = [zero] * aval(x).ndim
        starts[axis] = start
        return P.dynamic_slice(xx, starts, aval(x).shape)
    k = int(shift) % n
    if k == 0:
        return x
    return P.concatenate([_axis_slice(x, n - k, n, axis), _axis_slice(x, 0, n - k, axis)], axis)


def roll(a, shift, axis=None):
    x = _arr("roll", a)
    if axis is None:
        shape = aval(x).shape
        return P.reshape(roll(ravel(x), shift, 0), shape)
    nd = aval(x).ndim
    axes = [canonicalize_axis(i, nd, "roll") for i in _static_ints("roll", axis, "axis")]
    if isinstance(shift, (tuple, list)) or (isinstance(shift, np.ndarray) and shift.ndim):
        shifts = list(shift)
    else:
        shifts = [shift]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift} and axis {axis} must have the same length")
    for s, ax in zip(shifts, axes):
        x = _roll_1(x, s, ax)
    return x


def rot90(m, k=1, axes=(0, 1)):
    x = _arr("rot90", m)
    nd = aval(x).ndim
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = (canonicalize_axis(i, nd, "rot90") for i in axes)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k = int(k) % 4
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 0:
        return x
    if k == 2:
        return P.rev(x, (a0, a1))
    if k == 1:
        return P.transpose(P.rev(x, (a1,)), perm)
    return P.rev(P.transpose(x, perm), (a1,))


# ----------------------------------------------------------------------------- pad


def _pad_pairs(name, pad_width, nd):
    try:
        pw = np.asarray(pad_width)
    except Exception:
        raise TypeError(f"{name}: pad_width must be static integers, got {pad_width!r}") from None
    if pw.dtype == object or not (np.issubdtype(pw.dtype, np.integer) or pw.size == 0):
        raise TypeError(f"{name}: pad_width must be integers, got {pad_width!r} (at {core.user_site()})")
    try:
        pw = np.broadcast_to(pw, (nd, 2))
    except ValueError:
        raise ValueError(f"{name}: pad_width {pad_width!r} cannot be broadcast to ({nd}, 2) for an "
                         f"array of rank {nd}") from None
    if (pw < 0).any():
        raise ValueError(f"{name}: negative pad widths are not allowed, got {pad_width!r}")
    return [(int(lo), int(hi)) for lo, hi in pw]


def pad(array, pad_width, mode="constant", **kwargs):
    x = _arr("pad", array)
    a = aval(x)
    nd = a.ndim
    pairs = _pad_pairs("pad", pad_width, nd)
    if callable(mode):
        raise NotImplementedError("pad with a callable mode is not supported")
    if mode in ("constant", "empty"):
        cv = kwargs.get("constant_values", 0) if mode == "constant" else 0
        if isinstance(cv, core.Tracer) or (hasattr(cv, "shape") and not np.shape(cv)):
            if aval(cv).shape:
                raise ValueError("pad: a traced constant_values must be a scalar")
            return P.pad(x, convert(cv, a.dtype), [(lo, hi, 0) for lo, hi in pairs])
        cvs = np.asarray(cv) if not isinstance(cv, (int, float, complex, bool)) else None
        if cvs is None or cvs.ndim == 0:
            v = convert(cv if cvs is None else cvs[()], a.dtype)
            return P.pad(x, v, [(lo, hi, 0) for lo, hi in pairs])
        vals = np.broadcast_to(cvs, (nd, 2))
        for ax, ((lo, hi), (vlo, vhi)) in enumerate(zip(pairs, vals)):
            cfg = [(0, 0, 0)] * nd
            cfg[ax] = (lo, 0, 0)
            x = P.pad(x, convert(vlo[()], a.dtype), cfg)
            cfg[ax] = (0, hi, 0)
            x = P.pad(x, convert(vhi[()], a.dtype), cfg)
        return x
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        if kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError("pad: reflect_type='odd' is not supported")
        for ax, (lo, hi) in enumerate(pairs):
            if lo == hi == 0:
                continue
            n = aval(x).shape[ax]
            if n == 0:
                raise ValueError(f"pad: can't extend empty axis {ax} using modes other than "
                                 f"'constant' or 'empty'")
            idx = np.pad(np.arange(n), (lo, hi), mode=mode)
            x = _take_static(x, idx, ax)
        return x
    if mode in ("maximum", "minimum", "mean"):
        if kwargs.get("stat_length") is not None:
            raise NotImplementedError(f"pad: mode={mode!r} with stat_length is not supported")
        from xlafront.numpy import _reductions as R
        fn = {"maximum": R.max, "minimum": R.min, "mean": R.mean}[mode]
        for ax, (lo, hi) in enumerate(pairs):
            if lo == hi == 0:
                continue
            stat = fn(x, axis=ax, keepdims=True)
            if mode == "mean" and not dtypes.is_inexact(a.dtype):
                stat = P.round(stat, 1)
            stat = convert(stat, a.dtype, a.weak_type)
            parts = []
            for w in (lo, None, hi):
                if w is None:
                    parts.append(x)
                elif w:
                    shape = list(aval(x).shape)
                    shape[ax] = w
                    parts.append(P.broadcast_in_dim(stat, shape, range(nd)))
            x = P.concatenate(parts, ax)
        return x
    raise NotImplementedError(f"pad: mode {mode!r} is not supported (supported: constant, empty, "
                              f"edge, reflect, symmetric, wrap, maximum, minimum, mean)")


# ----------------------------------------------------------------------------- diagonals, triangles


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal as one strided slice of the flattened trailing matrix: no gather."""
    x = _arr("diagonal", a)
    av = aval(x)
    nd = av.ndim
    if nd < 2:
        raise ValueError(f"diagonal requires an array of at least two dimensions, got shape {av.shape}")
    i, j = canonicalize_axis(axis1, nd, "diagonal"), canonicalize_axis(axis2, nd, "diagonal")
    if i == j:
        raise ValueError("axis1 and axis2 cannot be the same")
    offset = static_int(offset, "diagonal", "offset")
    rest = [d for d in range(nd) if d not in (i, j)]
    x = P.transpose(x, rest + [i, j])
    n, m = av.shape[i], av.shape[j]
    batch = [av.shape[d] for d in rest]
    if offset >= 0:
        d, start = builtins.max(0, builtins.min(n, m - offset)), offset
    else:
        d, start = builtins.max(0, builtins.min(n + offset, m)), -offset * m
    flat = P.reshape(x, batch + [n * m])
    if d == 0:
        return _axis_slice(flat, 0, 0, len(batch))
    return _axis_slice(flat, start, start + (d - 1) * (m + 1) + 1, len(batch), m + 1)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
    from xlafront.numpy._reductions import sum as _sum
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _tri_mask(n, m, k, lower):
    """Boolean (n, m) mask of j - i <= k (lower) or j - i >= k (upper)."""
    it = dtypes.default_int()
    i = P.broadcasted_iota(it, (n, m), 0)
    j = P.broadcasted_iota(it, (n, m), 1)
    diff = P.sub(j, i)
    kk = np.asarray(k, it)[()]
    return P.le(diff, kk) if lower else P.ge(diff, kk)


def _tri(name, m, k, lower):
    x = _arr(name, m)
    av = aval(x)
    if av.ndim < 2:
        raise ValueError(f"{name} requires an array of at least two dimensions, got shape {av.shape}")
    k = static_int(k, name, "k")
    mask = _tri_mask(av.shape[-2], av.shape[-1], k, lower)
    mask = P.broadcast_in_dim(mask, av.shape, (av.ndim - 2, av.ndim - 1))
    return P.select_n(mask, _fill_like(x, 0), x)


def tril(m, k=0):
    return _tri("tril", m, k, True)


def triu(m, k=0):
    return _tri("triu", m, k, False)


def diag(v, k=0):
    x = _arr("diag", v)
    av = aval(x)
    k = static_int(k, "diag", "k")
    if av.ndim == 2:
        return diagonal(x, k)
    if av.ndim != 1:
        raise ValueError("diag input must be 1d or 2d")
    n = av.shape[0]
    size = n + builtins.abs(k)
    # row i of the result holds v[i - max(-k, 0)] on its diagonal entry: pad v to `size`,
    # broadcast it along the other axis, keep the k-th diagonal.
    vp = P.pad(x, _zero_of(x), [(0, builtins.abs(k), 0)])
    if k >= 0:
        b = P.broadcast_in_dim(vp, (size, size), (0,))
    else:
        b = P.broadcast_in_dim(vp, (size, size), (1,))
    it = dtypes.default_int()
    diff = P.sub(P.broadcasted_iota(it, (size, size), 1), P.broadcasted_iota(it, (size, size), 0))
    mask = P.eq(diff, np.asarray(k, it)[()])
    return P.select_n(mask, _fill_like(b, 0), b)


def _zero_of(x):
    a = aval(x)
    v = convert(0, a.dtype, a.weak_type)
    if a.weak_type and not isinstance(v, _SCALARS):
        v = P.convert_element_type_p.bind(v, new_dtype=a.dtype, weak_type=True)
    return v


def diagflat(v, k=0):
    return diag(ravel(_arr("diagflat", v)), k)


# ----------------------------------------------------------------------------- astype


def astype(x, dtype, /, *, copy=False, device=None):
    x = _arr("astype", x)
    dt = dtypes.canonicalize(dtypes.dtype(dtype))
    a = aval(x)
    if dtypes.is_complex(a.dtype) and not dtypes.is_complex(dt):
        x = P.real(x)
    if dt == dtypes.bool_ and a.dtype != dtypes.bool_:
        return P.ne_p.bind(x, np.asarray(0, aval(x).dtype)[()])
    return convert(x, dt, False)


# ----------------------------------------------------------------------------- methods


def _transpose_method(self, *axes):
    if not axes:
        return transpose(self)
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return transpose(self, axes[0])
    return transpose(self, axes)


def _flatten(self, order="C"):
    return ravel(self, order)


array_methods = {
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "T": property(lambda self: transpose(self)),
    "mT": property(matrix_transpose),
    "ravel": ravel, "flatten": _flatten, "squeeze": squeeze, "swapaxes": swapaxes,
    "repeat": repeat, "diagonal": diagonal, "trace": trace, "astype": astype,
    # clip and round are installed by the ufuncs module's table.
}

__all__ = [
    "reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes", "moveaxis",
    "rollaxis", "expand_dims", "squeeze", "broadcast_shapes", "broadcast_to", "broadcast_arrays",
    "concatenate", "concat", "stack", "atleast_1d", "atleast_2d", "atleast_3d", "vstack", "row_stack",
    "hstack", "dstack", "column_stack", "append", "split", "array_split", "hsplit", "vsplit", "dsplit",
    "tile", "repeat", "resize", "flip", "fliplr", "flipud", "roll", "rot90", "pad", "diagonal", "trace",
    "tril", "triu", "diag", "diagflat", "astype",
]
