"""jax.lax helpers that are compositions of the primitives: the *_in_dim slicing family,
index_take, collapse, batch_matmul, sort_key_val, top_k, reduce, and the misc primitives'
wrappers (clz, reduce_precision, optimization_barrier).

Their derivatives and batching come from the primitives they are written with; only
clz, reduce_precision and optimization_barrier are primitives of their own
(xlafront/primitives_misc.py).
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from xlafront import core, dtypes, tree_util
from xlafront import primitives as P
from xlafront.core import Tracer, get_aval
from xlafront.primitives_misc import (clz, clz_p, reduce_precision, reduce_precision_p,  # noqa: F401
                                      optimization_barrier_p)

__all__ = ["dynamic_slice_in_dim", "dynamic_index_in_dim", "dynamic_update_slice_in_dim",
           "dynamic_update_index_in_dim", "index_in_dim", "slice_in_dim", "index_take", "collapse",
           "batch_matmul", "sort_key_val", "top_k", "reduce", "reduce_precision", "clz",
           "optimization_barrier", "clz_p", "reduce_precision_p", "optimization_barrier_p"]

core.register_internal_path(__file__)


def _site():
    return core.user_site()


def _list_axis(axis, ndim, name):
    """`axis` as a list index into the operand's dimensions (negative counts from the end)."""
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise IndexError(f"{name}: axis {axis} is out of range for an operand of rank {ndim} (at {_site()})")
    return axis % ndim


def _dynamic_starts(index, axis, shape, name, allow_negative_indices):
    """The start indices of a dynamic slice at `index` along `axis` (zero elsewhere), all of
    the index's integer type (StableHLO wants one type for them). A negative index counts
    from the end when `allow_negative_indices`, as in lax."""
    size = shape[axis]
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        i = int(index)
        if i < 0:
            if not allow_negative_indices:
                raise ValueError(f"Index {i} is out of bounds for dimension {size} if "
                                 f"allow_negative_indices=False (in {name} at {_site()})")
            i += size
        index, zero = (np.int32(i), np.int32(0)) if -2**31 <= i < 2**31 else (np.int64(i), np.int64(0))
    else:
        dt = get_aval(index).dtype
        if not dtypes.is_int(dt):   # the primitive's shape rule says what is wrong
            zero = np.int32(0)
        else:
            zero = np.zeros((), dt)[()]
            if allow_negative_indices and not dtypes.is_unsigned(dt):
                index = P.select(P.lt(index, zero), P.add(index, np.asarray(size, dt)[()]), index)
    starts = [zero] * len(shape)
    starts[axis] = index
    return starts


# ----------------------------------------------------------------------------- *_in_dim
def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *, allow_negative_indices=True):
    """`slice_size` entries of `operand` along `axis` from the (traced) `start_index`
    (clamped so the slice fits, as dynamic_slice)."""
    a = get_aval(operand)
    axis = _list_axis(axis, a.ndim, "dynamic_slice_in_dim")
    starts = _dynamic_starts(start_index, axis, a.shape, "dynamic_slice_in_dim", allow_negative_indices)
    sizes = list(a.shape)
    sizes[axis] = operator.index(slice_size)
    return P.dynamic_slice_p.bind(operand, *starts, slice_sizes=tuple(sizes))


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *, allow_negative_indices=True):
    """Entry `index` (traced) of `operand` along `axis`; the axis is kept as size 1 when
    `keepdims`."""
    axis = _list_axis(axis, get_aval(operand).ndim, "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(operand, index, 1, axis, allow_negative_indices=allow_negative_indices)
    return out if keepdims else P.squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *, allow_negative_indices=True):
    """`operand` with `update` written along `axis` from the (traced) `start_index`."""
    a = get_aval(operand)
    axis = _list_axis(axis, a.ndim, "dynamic_update_slice_in_dim")
    starts = _dynamic_starts(start_index, axis, a.shape, "dynamic_update_slice_in_dim", allow_negative_indices)
    return P.dynamic_update_slice_p.bind(operand, update, *starts)


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    """`operand` with entry `index` along `axis` replaced by `update` (which may lack that axis)."""
    a, u = get_aval(operand), get_aval(update)
    axis = _list_axis(axis, a.ndim, "dynamic_update_index_in_dim")
    if u.ndim != a.ndim:
        if u.ndim + 1 != a.ndim:
            raise TypeError(f"dynamic_update_index_in_dim: update of shape {u.shape} must have the rank of "
                            f"the operand {a.shape} or one less (at {_site()})")
        update = P.expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """operand[start:limit:stride] along `axis` (static bounds; negative ones count from the end)."""
    a = get_aval(operand)
    axis = _list_axis(axis, a.ndim, "slice_in_dim")
    n = a.shape[axis]
    start = 0 if start_index is None else operator.index(start_index)
    limit = n if limit_index is None else operator.index(limit_index)
    stride = operator.index(stride)
    start = start + n if start < 0 else start
    limit = limit + n if limit < 0 else limit
    starts, limits, strides = [0] * a.ndim, list(a.shape), [1] * a.ndim
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    if start < 0:
        raise TypeError(f"slice start_indices must have every element be nonnegative, got {tuple(starts)} "
                        f"(in slice_in_dim at {_site()})")
    if limit > n:
        raise TypeError(f"slice limit_indices must be less than or equal to operand shape, got limit_indices "
                        f"{tuple(limits)} for operand shape {a.shape} (in slice_in_dim at {_site()})")
    if limit < start:
        raise TypeError(f"slice limit_indices must be greater than or equal to start_indices, got "
                        f"start_indices {tuple(starts)} and limit_indices {tuple(limits)} "
                        f"(in slice_in_dim at {_site()})")
    if stride < 1:
        raise TypeError(f"slice strides must be positive, got {tuple(strides)} (in slice_in_dim at {_site()})")
    return P.slice(operand, starts, limits, None if stride == 1 else strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """Entry `index` (a static int; negative counts from the end) of `operand` along `axis`."""
    a = get_aval(operand)
    axis = _list_axis(axis, a.ndim, "index_in_dim")
    index = operator.index(index)
    n = a.shape[axis]
    i = index + n if index < 0 else index
    if not 0 <= i < n:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n} (at {_site()})")
    out = slice_in_dim(operand, i, i + 1, 1, axis)
    return out if keepdims else P.squeeze(out, (axis,))


# ----------------------------------------------------------------------------- gathers, shapes
def index_take(src, idxs, axes):
    """src at the points (idxs[0][j], idxs[1][j], ...) of the dimensions `axes`, for each j:
    the taken axes are replaced by one leading axis of the index length. Indices wrap
    around modulo the dimension's size, as in JAX."""
    a = get_aval(src)
    idxs, axes = list(idxs), tuple(operator.index(ax) for ax in axes)
    if not idxs:
        raise ValueError(f"index_take needs at least one index array (at {_site()})")
    if len(idxs) != len(axes):
        raise TypeError(f"index_take got {len(idxs)} index arrays for {len(axes)} axes {axes} (at {_site()})")
    if any(not 0 <= ax < a.ndim for ax in axes):
        raise ValueError(f"index_take axes {axes} out of range for an operand of rank {a.ndim} (at {_site()})")
    if list(axes) != sorted(axes) or len(set(axes)) != len(axes):
        raise TypeError(f"collapsed_slice_dims in gather op must be sorted; got {axes} (at {_site()})")
    cols = []
    for i, ax in zip(idxs, axes):
        ia = get_aval(i)
        if ia.ndim != 1 or not dtypes.is_int(ia.dtype):
            raise TypeError(f"index_take indices must be 1-D integer arrays, got {ia.str_short()} "
                            f"(at {_site()})")
        n = np.asarray(a.shape[ax], ia.dtype)[()]
        r = P.rem(i, n)
        if not dtypes.is_unsigned(ia.dtype):  # wrap negatives: floor modulo
            r = P.select(P.lt(r, np.zeros((), ia.dtype)[()]), P.add(r, n), r)
        cols.append(P.convert_element_type(P.reshape(r, (ia.shape[0], 1)), dtypes.int32))
    indices = cols[0] if len(cols) == 1 else P.concatenate(cols, 1)
    sizes = [1 if d in axes else s for d, s in enumerate(a.shape)]
    offset = tuple(range(1, a.ndim - len(axes) + 1))
    dn = P.GatherDimensionNumbers(offset_dims=offset, collapsed_slice_dims=axes, start_index_map=axes)
    return P.gather(src, indices, dn, sizes, mode="clip")


def collapse(operand, start_dimension, stop_dimension=None):
    """operand with the dimensions [start_dimension:stop_dimension] (Python slice
    semantics) merged into one."""
    a = get_aval(operand)
    lo, hi, _ = builtins.slice(start_dimension, stop_dimension).indices(a.ndim)
    if hi < lo:
        raise ValueError(f"Invalid dimension range passed to collapse: {a.shape}[{start_dimension}:"
                         f"{stop_dimension}] (at {_site()})")
    shape = a.shape[:lo] + (math.prod(a.shape[lo:hi]),) + a.shape[hi:]
    return P.reshape(operand, shape)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product over the leading dimensions: (..., m, k) @ (..., k, n)."""
    la, ra = get_aval(lhs), get_aval(rhs)
    if builtins.min(la.ndim, ra.ndim) < 2:
        raise ValueError(f"Arguments to batch_matmul must be at least 2D, got {la.ndim}, {ra.ndim} "
                         f"(at {_site()})")
    if la.ndim != ra.ndim:
        raise ValueError(f"Arguments to batch_matmul must have same ndim, got {la.ndim}, {ra.ndim} "
                         f"(at {_site()})")
    nd = la.ndim
    batch = tuple(range(nd - 2))
    return P.dot_general(lhs, rhs, (((nd - 1,), (nd - 2,)), (batch, batch)), precision=precision)


# ----------------------------------------------------------------------------- sorting
def _sort_dimension(dimension, ndim):
    d = operator.index(dimension)
    if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
        raise ValueError(f"axis {d} is out of bounds for array of dimension {ndim} (at {_site()})")
    return d % builtins.max(ndim, 1)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """(keys sorted along `dimension`, values permuted the same way)."""
    dim = _sort_dimension(dimension, get_aval(keys).ndim)
    k, v = P.sort((keys, values), dimension=dim, is_stable=is_stable, num_keys=1)
    return k, v


def _descending_key(x, dt):
    """An integer key whose ascending order is x's descending IEEE total order (+NaN first,
    then +inf ... +0.0, -0.0 ... -inf, -NaN), as XLA's TopK orders floats."""
    if not dtypes.is_float(dt):
        return P.bitwise_not(x)   # ints (~x = -x - 1, no overflow) and bools
    it = {1: dtypes.int8, 2: dtypes.int16, 4: dtypes.int32, 8: dtypes.int64}[dt.itemsize]
    bits = P.bitcast_convert_type(x, it)
    negative = P.lt(bits, np.zeros((), it)[()])
    # negative floats: a larger magnitude is a smaller number, so flip the magnitude bits
    ordered = P.select(negative, P.bitwise_xor(bits, np.asarray(np.iinfo(it).max, it)[()]), bits)
    return P.bitwise_not(ordered)


def top_k(operand, k, *, axis=-1):
    """[the k largest entries along `axis` in descending order, their int32 indices]; ties
    go to the lower index."""
    a = get_aval(operand)
    try:
        k = operator.index(k)
    except TypeError:
        if isinstance(k, Tracer):
            raise
        raise TypeError(f"Shapes must be 1D sequences of concrete values of integer type, got [{k!r}] "
                        f"(k of top_k at {_site()}).") from None
    if k < 0:
        raise ValueError(f"k argument to top_k must be nonnegative, got {k} (at {_site()})")
    axis = operator.index(axis)
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {a.ndim} (in top_k at {_site()})")
    axis %= a.ndim
    if dtypes.is_complex(a.dtype):
        raise ValueError(f"top_k is not compatible with complex inputs (at {_site()}).")
    if k > a.shape[axis]:
        raise ValueError(f"k argument to top_k must be no larger than size along axis; got k={k} with "
                         f"shape={list(a.shape)} and axis={axis} (at {_site()})")
    key = _descending_key(operand, a.dtype)
    iota = P.broadcasted_iota(dtypes.int32, a.shape, axis)
    _, values, indices = P.sort((key, operand, iota), dimension=axis, is_stable=True, num_keys=1)
    starts, limits = [0] * a.ndim, list(a.shape)
    limits[axis] = k
    return [P.slice(values, starts, limits), P.slice(indices, starts, limits)]


# ----------------------------------------------------------------------------- reduce
# The monoids lax.reduce (and lax.reduce_window, xlafront/lax/_conv.py) recognize: the
# binary primitive, the name of its identity (primitives.monoid_identity) and the public
# function that is it.
MONOID_KINDS = {P.add_p: "add", P.mul_p: "mul", P.max_p: "max", P.min_p: "min",
                P.and_p: "and", P.or_p: "or", P.xor_p: "xor"}
_MONOID_FUNCTIONS = ((P.add, P.add_p), (P.mul, P.mul_p), (P.max, P.max_p), (P.min, P.min_p),
                     (P.bitwise_and, P.and_p), (P.bitwise_or, P.or_p), (P.bitwise_xor, P.xor_p))


def monoid_prims(computation, avals, tree):
    """For each operand (avals, in pytree structure `tree`), the binary primitive of
    MONOID_KINDS that `computation` applies to it, or None when it computes something else.
    One of the known functions (lax.add, ...) on a single operand is recognized directly;
    any other computation from its trace on scalars: output i must be `prim(a_i, b_i)`
    (either order)."""
    if len(avals) == 1 and tree_util.treedef_is_leaf(tree):
        for f, prim in _MONOID_FUNCTIONS:
            if computation is f:
                return [prim]
    scalars = [a.update(shape=(), weak_type=False) for a in avals]
    n = len(scalars)
    out_trees = []

    def flat(*xs):
        out = computation(tree.unflatten(xs[:n]), tree.unflatten(xs[n:]))
        leaves, out_tree = tree_util.tree_flatten(out)
        out_trees.append(out_tree)
        return leaves

    graph = core.trace_to_graph(flat, scalars + scalars).graph
    if out_trees[0] != tree or len(graph.outvars) != n:
        return None
    made_by = {v: e for e in graph.eqns for v in e.outvars}
    prims = []
    for i, v in enumerate(graph.outvars):
        e = made_by.get(v) if type(v) is core.Var else None
        pair = [graph.invars[i], graph.invars[n + i]]
        if (e is None or e.prim not in MONOID_KINDS or len(e.invars) != 2
                or list(e.invars) not in (pair, pair[::-1]) or v.aval.dtype != scalars[i].dtype):
            return None
        prims.append(e.prim)
    return prims


def _concrete_scalar(x):
    """x as a numpy value when it is known now, else None."""
    if isinstance(x, Tracer):
        return None
    try:
        return np.asarray(x)
    except Exception:  # pragma: no cover - an exotic array-like
        return None


def init_is_identity(prim, init):
    """Whether the initial value `init` is known now to be the identity of the monoid
    `prim`. As JAX, the identity is that of init's own (canonical) dtype, whatever the
    operand's: -inf starts an integer max, 0.0 an integer sum. An init that is not the
    identity must have the operand's dtype (the callers raise)."""
    value = _concrete_scalar(init)
    if value is None:
        return False
    return bool(value == P.monoid_identity(MONOID_KINDS[prim], get_aval(init).dtype))


_REDUCERS = {P.add_p: P.reduce_sum, P.mul_p: P.reduce_prod, P.max_p: P.reduce_max, P.min_p: P.reduce_min,
             P.and_p: P.reduce_and, P.or_p: P.reduce_or, P.xor_p: P.reduce_xor}


def reduce(operands, init_values, computation, dimensions, out_sharding=None):  # noqa: A001
    """Reduce `dimensions` of the operands (a pytree of arrays of one shape) with the
    `computation` monoid, starting from `init_values` (a pytree of scalars alike).

    Supported computations are the monoids lax.add, mul, max, min, bitwise_and/or/xor
    (or any function that traces to one of them, e.g. `lambda a, b: a + b`), as the
    reduce_* primitives; other computations raise NotImplementedError."""
    flat_ops, tree = tree_util.tree_flatten(operands)
    flat_init, init_tree = tree_util.tree_flatten(init_values)
    if init_tree != tree:
        raise ValueError(f"Operands must have the same tree structure as init_values: {tree} vs. "
                         f"{init_tree} (at {_site()})")
    if not flat_ops:
        return operands
    avals = [get_aval(x) for x in flat_ops]
    init_avals = [get_aval(x) for x in flat_init]
    if any(ia.shape for ia in init_avals):
        raise ValueError(f"reduce found non-scalar initial value: {[ia.shape for ia in init_avals]} "
                         f"(at {_site()})")
    if any(av.shape != avals[0].shape for av in avals):
        raise TypeError(f"reduce operands must have equal shapes, got {[av.shape for av in avals]} "
                        f"(at {_site()})")
    dims = tuple(operator.index(d) for d in dimensions)
    if len(set(dims)) != len(dims):
        raise ValueError(f"duplicate value in 'axes' of reduction: {dims} (at {_site()})")
    if any(not 0 <= d < avals[0].ndim for d in dims):
        raise ValueError(f"reduction axes {dims} contains out-of-bounds indices for "
                         f"{avals[0].dtype.name}[{','.join(map(str, avals[0].shape))}] (at {_site()})")
    prims = monoid_prims(computation, avals, tree)
    if prims is None:
        raise NotImplementedError(
            f"lax.reduce with the computation {getattr(computation, '__name__', computation)!r} is not "
            f"implemented in xlafront: supported are lax.add, lax.mul, lax.max, lax.min, "
            f"lax.bitwise_and, lax.bitwise_or and lax.bitwise_xor (or functions that compute "
            f"exactly one of them), each on its own operand (at {_site()})")
    outs = []
    for x, av, init, ia, prim in zip(flat_ops, avals, flat_init, init_avals, prims):
        if av.dtype == dtypes.bool_ and prim in (P.add_p, P.mul_p):   # as JAX's reduce_sum/prod
            name = "reduce_sum" if prim is P.add_p else "reduce_prod"
            raise TypeError(f"{name} does not accept dtype bool. Accepted dtypes are subtypes of number "
                            f"(at {_site()})")
        red = _REDUCERS[prim](x, dims)
        if init_is_identity(prim, init):
            outs.append(red)
            continue
        if ia.dtype != av.dtype:   # as JAX: an initial value that is not the identity must match
            raise TypeError(f"reduce operand dtypes should match corresponding initial value dtypes, "
                            f"got operands={avals} and initial_values={init_avals} (at {_site()})")
        value = _concrete_scalar(init)
        if value is not None:
            init = np.asarray(value, av.dtype)[()]
        outs.append(prim.bind(red, init))
    return tree.unflatten(outs)


# ----------------------------------------------------------------------------- optimization_barrier
def optimization_barrier(operand, /):
    """The pytree `operand` unchanged, as a barrier XLA does not move computations across."""
    leaves, tree = tree_util.tree_flatten(operand)
    if not leaves:
        return operand
    return tree.unflatten(optimization_barrier_p.bind(*leaves))
