"""Sharding in types: arrays split over Explicit mesh axes (AxisType.Explicit, the default
of `make_mesh`) carry their sharding in their aval, as JAX's.

An aval's `sharding` is None (not split over any Explicit axis: replicated as far as the
type says) or a NamedSharding over the mesh's AbstractMesh whose spec has one entry per
dimension naming only Explicit axes (`typed`). `core.abstract_eval` calls `_hook` when an
operand has one: the rule of the primitive (below, as JAX's: elementwise operands must
agree, reductions drop dims, dot_general's contracting dims, reshape's split/merge, ...)
gives each output's sharding or raises ShardingTypeError. A primitive without a rule keeps
what its shape rule gave (an aval passed through keeps its sharding; a new shape has none).
`reshard_p` changes a type (`xf.sharding.reshard`, the `out_sharding=` of the creators).
Lowering (_sharded_jit, lowering/emitter.py) constrains each typed result to its sharding.
"""
from __future__ import annotations

import functools
import math
import types

from xlafront import core
from xlafront import primitives as P
from xlafront import primitives_sharding as PS
from xlafront import _sharding as S
from xlafront.core import ShapedArray, ShardingTypeError, shape_rules

# The sharded array type and device_put, filled in by xlafront/_sharded_array.py (which imports
# this module; this one never imports it back)
arrays = types.SimpleNamespace(ShardedArray=None, device_put=None)

__all__ = ["typed", "reshard", "reshard_p", "ShardingTypeError", "entries_of", "get_abstract_mesh"]

core.register_internal_path(__file__)

_types: dict = {}


def _norm(e):
    if e is None or e is S.PartitionSpec.UNCONSTRAINED:
        return None
    if isinstance(e, tuple):
        return None if not e else (e[0] if len(e) == 1 else e)
    return e


def _axes(e):
    return () if e is None else ((e,) if isinstance(e, str) else tuple(e))


def type_sharding(amesh, entries):
    """The (shared) type sharding of `entries` over the AbstractMesh `amesh` (all None: a
    value replicated over the mesh, typed on it as JAX's: `P(None, None)`)."""
    entries = tuple(entries)
    key = (amesh, entries)
    s = _types.get(key)
    if s is None:
        s = _types[key] = S.NamedSharding(amesh, S.PartitionSpec(*entries))
    return s


def _abstract(mesh):
    if isinstance(mesh, S.AbstractMesh):
        return mesh
    a = mesh.__dict__.get("_abstract_cache")
    if a is None:
        a = mesh._abstract_cache = mesh.abstract_mesh
    return a


def typed(aval, named):
    """`aval` with the type sharding of an array laid out by the NamedSharding `named` (its
    Explicit axes only)."""
    mesh = named.mesh
    explicit = mesh.explicit_axes
    if not explicit:
        return aval if aval.sharding is None else aval.update(sharding=None)
    spec = list(named.spec) + [None] * (aval.ndim - len(named.spec))
    ents = []
    for e in spec:
        ax = tuple(a for a in _axes(_norm(e)) if a in explicit)
        ents.append(_norm(ax))
    s = type_sharding(_abstract(mesh), ents)
    return aval if s is aval.sharding else aval.update(sharding=s)


def entries_of(aval):
    s = aval.sharding
    if s is None:
        return (None,) * aval.ndim
    return tuple(s.spec)


def get_abstract_mesh():
    """The AbstractMesh of the current mesh (`set_mesh`/`use_mesh`), or an empty one."""
    m = S.get_mesh()
    return _abstract(m) if m is not None else S.AbstractMesh((), ())


# ----------------------------------------------------------------------------- the hook
_rules: dict = {}
_lenient = [0]   # >0 while a transpose rule of dot_general runs (its results are resharded)


def _attach(aval, ents, amesh):
    if aval is None or not hasattr(aval, "shape"):
        return aval
    if ents is None:
        s = None
    else:
        s = type_sharding(amesh, ents)
    if s is not None:
        for d, e in zip(aval.shape, ents):
            n = math.prod(amesh.shape[a] for a in _axes(e))
            if d % n:
                raise ShardingTypeError(
                    f"One of the dimensions of the output ({aval.shape}) is not divisible by the "
                    f"mesh axes {_axes(e)} of size {n} that shard it (at {core.user_site()})")
    return aval if aval.sharding is s else aval.update(sharding=s)


def _hook(prim, avals, params, out):
    amesh = None
    for a in avals:
        s = getattr(a, "sharding", None)
        if s is not None:
            if amesh is None:
                amesh = s.mesh
            elif s.mesh != amesh:
                raise ValueError(f"{prim.name}: operands typed over different meshes {amesh} and {s.mesh} "
                                 f"(at {core.user_site()})")
    rule = _rules.get(prim)
    if rule is None:   # what the shape rule gave, where it still fits
        if prim.multiple_results or isinstance(out, (tuple, list)):
            return type(out)(_keep(o) for o in out)
        return _keep(out)
    specs = [entries_of(a) if hasattr(a, "shape") else None for a in avals]
    res = rule(prim, avals, specs, out, **params)
    key = _RECORD.get(prim)
    if key is not None and _lenient[0] and params.get(key) is None:
        # the eqn records the choice (a graph re-bound later is not under the transpose)
        params[key] = S.NamedSharding(amesh, S.PartitionSpec(*res))
    if prim.multiple_results or isinstance(out, (tuple, list)):
        return type(out)(_attach(o, r, amesh) for o, r in zip(out, res))
    return _attach(out, res, amesh)


def _keep(o):
    s = getattr(o, "sharding", None)
    if s is not None and len(s.spec) != o.ndim:
        return o.update(sharding=None)
    return o


def _fmt(ents):
    return str(tuple(ents))


def _merge(prim, specs, ndim, avals=None):
    out = [None] * ndim
    for sp in specs:
        for i, e in enumerate(sp):
            if e is None:
                continue
            if out[i] is None:
                out[i] = e
            elif out[i] != e:
                raise ShardingTypeError(
                    f"{prim.name} got incompatible shardings for broadcasting: "
                    f"{', '.join(_fmt(s) for s in specs)}.")
    used = [a for e in out for a in _axes(e)]
    if len(used) != len(set(used)):
        shape = tuple(max(d) for d in zip(*(a.shape for a in avals))) if avals else (0,) * ndim
        bad = ShapedArray(shape, avals[0].dtype if avals else None, False, _Printed(tuple(out)))
        raise ShardingTypeError(
            f"{prim.name} operation with inputs: {', '.join(a.str_short() for a in avals or ())} "
            f"produces an illegally sharded result: {bad.str_short()}")
    return tuple(out)


def _elementwise(prim, avals, specs, out, **params):
    o = out[0] if isinstance(out, (tuple, list)) else out
    n = o.ndim
    use = [(a, sp) for a, sp in zip(avals, specs) if sp is not None and len(sp) == n and n and a.shape == o.shape]
    r = _merge(prim, [sp for _, sp in use], n, [a for a, _ in use])
    if prim.multiple_results or isinstance(out, (tuple, list)):
        return [r] * len(out)
    return r


_ELEMENTWISE = """abs acos acosh add and asin asinh atan atan2 atanh cbrt ceil clamp clz complex conj copy
cos cosh digamma div eq erf erf_inv erfc exp exp2 expm1 floor ge gt imag integer_pow is_finite le lgamma
log log1p logistic lt max min mul ne neg nextafter not or polygamma population_count pow real reduce_precision
rem round rsqrt select_n shift_left shift_right_arithmetic shift_right_logical sign sin sinh sqrt square
stop_gradient sub tan tanh xor zeta""".split()
for _n in _ELEMENTWISE:
    if _n in core.all_primitives:
        _rules[core.all_primitives[_n]] = _elementwise


def _given(s, ndim):
    """Entries of an `out_sharding`/`sharding` parameter (NamedSharding or PartitionSpec)."""
    spec = s.spec if isinstance(s, S.NamedSharding) else s
    ents = [_norm(e) for e in spec] + [None] * (ndim - len(spec))
    if isinstance(s, S.NamedSharding):
        ex = s.mesh.explicit_axes
        ents = [_norm(tuple(a for a in _axes(e) if a in ex)) for e in ents]
    return tuple(ents)


def _convert(prim, avals, specs, out, *, sharding=None, **params):
    return _given(sharding, out.ndim) if sharding is not None else specs[0]


def _broadcast_in_dim(prim, avals, specs, out, *, shape, broadcast_dimensions, sharding=None):
    if sharding is not None:
        return _given(sharding, len(shape))
    r = [None] * len(shape)
    x = avals[0]
    for i, d in enumerate(broadcast_dimensions):
        if x.shape[i] == shape[d]:
            r[d] = specs[0][i]
    return tuple(r)


def _transpose(prim, avals, specs, out, *, permutation):
    return tuple(specs[0][p] for p in permutation)


def _reduce(prim, avals, specs, out, *, axes, **params):
    return tuple(e for i, e in enumerate(specs[0]) if i not in axes)


def _cumulative(prim, avals, specs, out, *, axis, **params):
    if specs[0][axis] is not None:
        raise ShardingTypeError(f"Input should be unsharded over the axis being reduced. Got input "
                                f"type={avals[0]} and axis={axis}")
    return specs[0]


def _sort(prim, avals, specs, out, *, dimension, **params):
    for a, sp in zip(avals, specs):
        if sp[dimension] is not None:
            raise ShardingTypeError(f"Arguments to sort must be unsharded over the sorting dimension. "
                                    f"Got arg sharding={a.sharding!r} and sorting dimension={dimension}")
    return [_merge(prim, specs, avals[0].ndim, avals)] * len(out)


def _squeeze(prim, avals, specs, out, *, dimensions):
    return tuple(e for i, e in enumerate(specs[0]) if i not in dimensions)


def _dot_general(prim, avals, specs, out, *, dimension_numbers, out_sharding=None, **params):
    spec = getattr(out_sharding, "spec", out_sharding)
    if spec is not None and len(spec) <= out.ndim:
        return _given(out_sharding, out.ndim)
    lenient = _lenient[0] or spec is not None   # (a given spec of another rank: under vmap)
    (lc, rc), (lb, rb) = dimension_numbers
    ls, rs = specs
    lcs = tuple(ls[i] for i in lc)
    rcs = tuple(rs[i] for i in rc)
    if any(e is not None for e in lcs) and any(e is not None for e in rcs) and not lenient:
        raise ShardingTypeError(
            "Contracting dimensions are sharded and it is ambiguous how the output should be "
            "sharded. Please specify the output sharding via the `out_sharding` parameter. "
            f"Got lhs_contracting_spec={lcs} and rhs_contracting_spec={rcs}")
    batch = []
    for i, j in zip(lb, rb):
        a, b = ls[i], rs[j]
        if a is not None and b is not None and a != b:
            raise ShardingTypeError(
                f"dot_general requires lhs batch dimensions and rhs batch dimensions to have the "
                f"consistent sharding, got {tuple(ls[i] for i in lb)} and {tuple(rs[j] for j in rb)}.")
        batch.append(a if a is not None else b)
    lfree = [e for i, e in enumerate(ls) if i not in lc and i not in lb]
    rfree = [e for i, e in enumerate(rs) if i not in rc and i not in rb]
    r = tuple(batch + lfree + rfree)
    used = [a for e in r for a in _axes(e)]
    if len(used) != len(set(used)) and lenient:   # each axis on its first dimension only
        seen, rr = set(), []
        for e in r:
            rr.append(None if set(_axes(e)) & seen else e)
            seen |= set(_axes(e))
        r = tuple(rr)
    elif len(used) != len(set(used)):
        bad = out.update(sharding=_Printed(r))
        raise ShardingTypeError(
            f"dot_general operation with inputs: {avals[0].str_short()}, {avals[1].str_short()} "
            f"produces an illegally sharded result: {bad.str_short()}")
    if lenient:
        contracted = {a for e in lcs + rcs for a in _axes(e)}
        r = tuple(None if set(_axes(e)) & contracted else e for e in r)
    return r


class _Printed:
    """A type sharding to print an aval with (in an error message), never a real one."""
    __slots__ = ("spec",)

    def __init__(self, spec):
        self.spec = spec


def _reshape_error(x, new_sizes):
    return ShardingTypeError(
        "This reshape is not supported. Please specify the sharding of the output via the "
        "`out_sharding` argument of jax.lax.reshape. Got operand type: "
        f"{x}, new sizes: {tuple(new_sizes)}")


def _reshape(prim, avals, specs, out, *, new_sizes, dimensions=None, sharding=None):
    if sharding is not None and len(getattr(sharding, "spec", sharding)) == len(new_sizes):
        return _given(sharding, len(new_sizes))
    try:
        return _reshape_inferred(avals, specs, new_sizes)
    except ShardingTypeError:
        if _lenient[0] or sharding is not None:   # (a given spec of another rank: under vmap)
            return (None,) * len(new_sizes)
        raise


def _reshape_inferred(avals, specs, new_sizes):
    x = avals[0]
    ins = [(d, e) for d, e in zip(x.shape, specs[0])]
    amesh = x.sharding.mesh
    size = lambda e: math.prod(amesh.shape[a] for a in _axes(e))  # noqa: E731
    # drop size-1 dimensions (never sharded), group the rest by equal products
    ii = [i for i, (d, _) in enumerate(ins) if d != 1]
    oo = [k for k, d in enumerate(new_sizes) if d != 1]
    r = [None] * len(new_sizes)
    a = b = 0
    while a < len(ii) or b < len(oo):
        ga, gb = [ii[a]], [oo[b]]
        pa, pb = ins[ii[a]][0], new_sizes[oo[b]]
        a += 1
        b += 1
        while pa != pb:
            if pa < pb:
                ga.append(ii[a])
                pa *= ins[ii[a]][0]
                a += 1
            else:
                gb.append(oo[b])
                pb *= new_sizes[oo[b]]
                b += 1
        es = [ins[i][1] for i in ga]
        if all(e is None for e in es):
            continue
        if len(ga) == 1 and len(gb) == 1:
            r[gb[0]] = es[0]
        elif len(ga) == 1:   # split: the axes go to the major output dimensions, in order
            rest = list(_axes(es[0]))
            for k in gb:
                d = new_sizes[k]
                n = 0
                while n < len(rest) and d % math.prod(amesh.shape[q] for q in rest[:n + 1]) == 0:
                    n += 1
                if n < len(rest) and math.prod(amesh.shape[q] for q in rest[:n]) != d:
                    raise _reshape_error(x, new_sizes)
                r[k] = _norm(tuple(rest[:n]))
                rest = rest[n:]
            if rest:
                raise _reshape_error(x, new_sizes)
        elif len(gb) == 1:   # merge: the sharded dims must lead, their axes in order
            k = next((k for k, e in enumerate(es) if e is None), len(es))
            if any(e is not None for e in es[k:]):
                raise _reshape_error(x, new_sizes)
            r[gb[0]] = _norm(tuple(q for e in es for q in _axes(e)))
        else:
            raise _reshape_error(x, new_sizes)
    return tuple(r)


def _slice_like(prim, avals, specs, out, **params):
    x = avals[0]
    amesh = x.sharding.mesh
    r = []
    for d, e, od in zip(x.shape, specs[0], out.shape):
        if e is not None and od != d:
            n = math.prod(amesh.shape[q] for q in _axes(e))
            if od % n:
                raise ShardingTypeError(
                    f"slicing on sharded dims where out dim ({od}) is not divisible by mesh axes "
                    f"({n}) with spec ({','.join(_axes(e))}) is not implemented. Got input "
                    f"type={x.str_short()} and output shape={out.shape}")
        r.append(e)
    return tuple(r)


def _concatenate(prim, avals, specs, out, *, dimension):
    first = specs[0]
    if any(sp != first for sp in specs[1:]):
        amesh = next(a.sharding.mesh for a in avals if a.sharding is not None)
        shs = [a.sharding or S.NamedSharding(amesh, S.PartitionSpec(*([None] * a.ndim))) for a in avals]
        raise ShardingTypeError(f"All operands should have the same sharding. Got shardings "
                                f"{', '.join(repr(s) for s in shs)}")
    return first


def _rev(prim, avals, specs, out, **params):
    return specs[0]


def _pad(prim, avals, specs, out, *, padding_config):
    # a padded dimension is sharded as the operand's where the new size still divides
    return _slice_like(prim, avals[:1], specs[:1], out)


_RECORD = {P.dot_general_p: "out_sharding", P.reshape_p: "sharding"}
_rules[P.convert_element_type_p] = _convert
_rules[P.broadcast_in_dim_p] = _broadcast_in_dim
_rules[P.transpose_p] = _transpose
for _p in P.reductions:
    _rules[_p] = _reduce
_rules[P.argmax_p] = _reduce
_rules[P.argmin_p] = _reduce
for _p in P.cumulatives:
    _rules[_p] = _cumulative
_rules[P.sort_p] = _sort
_rules[P.squeeze_p] = _squeeze
_rules[P.dot_general_p] = _dot_general
_rules[P.reshape_p] = _reshape
_rules[P.slice_p] = _slice_like
_rules[P.dynamic_slice_p] = lambda prim, avals, specs, out, **k: _slice_like(prim, avals[:1], specs[:1], out)
_rules[P.concatenate_p] = _concatenate
_rules[P.rev_p] = _rev
_rules[P.pad_p] = _pad
_rules[P.iota_p] = lambda prim, avals, specs, out, **k: None
# a constraint over Auto axes (Explicit ones raise in with_sharding_constraint) keeps the type
_rules[PS.sharding_constraint_p] = lambda prim, avals, specs, out, **k: specs[0]
for _n in ("gather", "scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max",
           "dynamic_update_slice"):
    # the operand's sharding where the shape stays (scatter into it), else replicated
    _rules[core.all_primitives[_n]] = (
        lambda prim, avals, specs, out, **k: specs[0] if avals[0].shape == out.shape else None)

core.sharding_hook = _hook


# ----------------------------------------------------------------------------- reshard
reshard_p = core.primitive("reshard")


def _reshard_rule(x, *, sharding):
    S.check_divisible(sharding, x.shape)
    return typed(ShapedArray(x.shape, x.dtype, x.weak_type), sharding)


shape_rules[reshard_p] = _reshard_rule


def reshard(x, out_shardings):
    """`jax.sharding.reshard`: each array of `x` laid out (and typed) as its NamedSharding or
    PartitionSpec (over the current mesh, else the array's own); a pytree prefix of `x`."""
    ShardedArray, device_put = arrays.ShardedArray, arrays.device_put
    leaves, tree, per = S.per_leaf(x, out_shardings)
    out = []
    for v, s in zip(leaves, per):
        if s is None:
            out.append(v)
            continue
        if isinstance(s, S.PartitionSpec):
            own = None
            a = core.get_aval(v)
            if a.sharding is not None:
                own = a.sharding.mesh
            if type(v) is ShardedArray:
                own = v._named.mesh
            s = S.on_current_mesh(s, "reshard", own)
        if isinstance(v, core.Tracer):
            out.append(reshard_p.bind(v, sharding=s))
        elif isinstance(s.mesh, S.AbstractMesh):
            raise ValueError(f"reshard of a concrete array needs a NamedSharding over a concrete Mesh, "
                             f"got {s!r} (at {core.user_site()})")
        else:   # as JAX's: the array's sharding has one spec entry per dimension
            nd = core.get_aval(v).ndim
            if s.mesh.explicit_axes and len(s.spec) < nd:
                s = s.with_spec(S.PartitionSpec(*s.spec, *([None] * (nd - len(s.spec)))))
            out.append(device_put(v, s))
    return tree.unflatten(out)


def out_sharding(y, s):
    """`y` resharded to `s` (the `out_sharding=` of a creator or a reshape); `y` when None."""
    if s is None:
        return y
    return reshard(y, s)


def _resolve(s, what):
    if isinstance(s, S.PartitionSpec):
        m = S.get_mesh()
        if m is None:
            raise ValueError(
                f"Using PartitionSpec when you are not under a mesh context is not allowed. Please "
                f"pass a NamedSharding instance or enter into a mesh context via `set_mesh`. Got "
                f"{s!r} (in {what} at {core.user_site()})")
        return S.NamedSharding(m, s)
    if not isinstance(s, S.NamedSharding):
        raise TypeError(f"{what} must be a NamedSharding or a PartitionSpec, got {s!r} "
                        f"(at {core.user_site()})")
    return s


def with_out_sharding(fn):
    """`fn` with JAX's `out_sharding=` keyword (a NamedSharding, or a PartitionSpec over the
    current mesh): its result is resharded to it (typed so under Explicit axes), and a
    dot_general inside whose contraction leaves the output sharding open takes no error."""
    @functools.wraps(fn)
    def wrapper(*args, out_sharding=None, **kwargs):
        if out_sharding is None:
            return fn(*args, **kwargs)
        s = _resolve(out_sharding, f"{fn.__name__}'s out_sharding")
        _lenient[0] += 1
        try:
            y = fn(*args, **kwargs)
        finally:
            _lenient[0] -= 1
        return reshard(y, s)
    return wrapper


def _concrete_to(y, s):
    if isinstance(y, core.Tracer) or isinstance(s.mesh, S.AbstractMesh):
        return y
    if type(y) is arrays.ShardedArray and y._named == s:
        return y
    return reshard(y, s)


def dot_general_out_sharding(x, y, dn, precision, pet, out_sharding):
    """lax.dot_general with `out_sharding`: the result's type (and layout) is that sharding."""
    s = _resolve(out_sharding, "dot_general's out_sharding")
    out = P.dot_general_p.bind(x, y, dimension_numbers=dn, precision=precision,
                               preferred_element_type=pet, out_sharding=s)
    return _concrete_to(out, s)


def reshape_out_sharding(reshape, x, new_sizes, dimensions, out_sharding):
    """lax.reshape with `out_sharding`: the result's type (and layout) is that sharding."""
    s = _resolve(out_sharding, "reshape's out_sharding")
    if dimensions is not None and tuple(dimensions) != tuple(range(len(dimensions))):
        x = P.transpose(x, dimensions)
    out = P.reshape_p.bind(x, new_sizes=tuple(int(d) for d in new_sizes), dimensions=None, sharding=s)
    return _concrete_to(out, s)


# ----------------------------------------------------------------------------- auto_axes, explicit_axes
def _with_types(mesh, axes, t):
    """`mesh` (a Mesh) with the axes `axes` (None: all) of type `t`."""
    axes = mesh.axis_names if axes is None else ((axes,) if isinstance(axes, str) else tuple(axes))
    types = tuple(t if n in axes else k for n, k in zip(mesh.axis_names, mesh.axis_types))
    return S.Mesh(mesh.devices, mesh.axis_names, types)


def _relayout(x, mesh):
    """`x` typed as its own layout over `mesh` (same devices, other axis types): no data
    moves, only the type changes."""
    a = core.get_aval(x)
    if a.sharding is not None:
        spec = a.sharding.spec
    else:
        if type(x) is not arrays.ShardedArray:
            return x
        spec = x._named.spec
    return reshard(x, S.NamedSharding(mesh, spec))


def _mesh_for(what):
    m = S.get_mesh()
    if not isinstance(m, S.Mesh):
        raise ValueError(f"{what} needs a mesh: call it under `set_mesh(mesh)` (at {core.user_site()})")
    return m


def auto_axes(f=None, /, *, axes=None, out_sharding=None):
    """`jax.sharding.auto_axes`: `f` runs with the mesh axes `axes` (all by default) of type
    Auto (its operands untyped over them, the partitioner lays values out); its results are
    resharded to `out_sharding` over the current mesh."""
    if f is None:
        return lambda g: auto_axes(g, axes=axes, out_sharding=out_sharding)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if out_sharding is None:
            raise TypeError("Missing required keyword argument: 'out_sharding'")
        from xlafront import tree_util
        mesh = _mesh_for("auto_axes")
        auto = _with_types(mesh, axes, S.AxisType.Auto)
        args, kwargs = tree_util.tree_map(lambda x: _relayout(x, auto), (args, kwargs))
        with S.set_mesh(auto):
            out = f(*args, **kwargs)
        return reshard(out, tree_util.tree_map(lambda s: _resolve_on(s, mesh), out_sharding,
                                               is_leaf=lambda s: isinstance(s, (S.PartitionSpec, S.NamedSharding))))
    return wrapper


def explicit_axes(f=None, /, *, axes=None, in_sharding=None):
    """`jax.sharding.explicit_axes`: `f` runs with the mesh axes `axes` (all by default) of
    type Explicit, its operands resharded (and typed) as `in_sharding`; its results leave
    untyped over those axes."""
    if f is None:
        return lambda g: explicit_axes(g, axes=axes, in_sharding=in_sharding)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if in_sharding is None:
            raise TypeError("Missing required keyword argument: 'in_sharding'")
        from xlafront import tree_util
        mesh = _mesh_for("explicit_axes")
        expl = _with_types(mesh, axes, S.AxisType.Explicit)
        ins = tree_util.tree_map(lambda s: _resolve_on(s, expl), in_sharding,
                                 is_leaf=lambda s: isinstance(s, (S.PartitionSpec, S.NamedSharding)))
        args = reshard(args, ins)
        with S.set_mesh(expl):
            out = f(*args, **kwargs)
        return tree_util.tree_map(lambda x: _relayout(x, mesh), out)
    return wrapper


def _resolve_on(s, mesh):
    if isinstance(s, S.PartitionSpec):
        return S.NamedSharding(mesh, s)
    return s


P.out_sharding_impls.update(reshape=reshape_out_sharding, dot_general=dot_general_out_sharding)
