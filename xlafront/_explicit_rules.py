"""Sharding in types (xlafront/_explicit_sharding.py): reshard's lowering, autodiff and
batching rules, registered into the lowering's and the transforms' tables from the API layer
(they never import the sharding layer: `reshard_p` and the type shardings live above them)."""
from __future__ import annotations

from xlafront import _explicit_sharding as XS
from xlafront import _sharding as _S
from xlafront import dtypes as _dtypes
from xlafront import primitives as _P
from xlafront.lowering import rules_sharding as _RS
from xlafront.lowering.registry import lowering_rules
from xlafront.transforms import batching as B
from xlafront.transforms import jvp as J
from xlafront.transforms import transpose as _transpose_mod
from xlafront.transforms.jvp import Zero as _Zero
from xlafront.transforms.transpose import _aval as _t_aval, is_undefined as _undef, transpose_rules



def _reshard_lowering(ctx, x, *, sharding):
    """reshard lowers as a constraint (on one device: nothing)."""
    if not getattr(_RS.spmd, "on", False):
        return x
    return _RS.constraint(ctx, x, ctx.aval_out, sharding)


lowering_rules[XS.reshard_p] = _reshard_lowering
_RS.untyped_results.add(XS.reshard_p)

# reshard (xlafront/_explicit_sharding.py) is linear: tangents take the same new type,
# cotangents go back to the operand's type; under vmap the batch axis is inserted unsplit.
# dot_general's transpose contracts over the primal's sharded dims where JAX's passes
# `out_sharding`: it runs with that check relaxed and its results take the primal's type.

J._linear(XS.reshard_p)


def _of_aval(aval, mesh):
    s = aval.sharding
    if s is not None:
        return s
    return _S.NamedSharding(mesh, _S.PartitionSpec())


def _reshard_t(ct, x, *, sharding):
    if type(ct) is _Zero:
        return [ct]
    return [XS.reshard_p.bind(ct, sharding=_of_aval(_t_aval(x), sharding.mesh))]


def _reshard_batch(args, dims, *, sharding):
    (x,), (d,) = args, dims
    if d is None:
        return XS.reshard_p.bind(x, sharding=sharding), None
    spec = list(sharding.spec) + [None] * (x.ndim - 1 - len(sharding.spec))
    spec.insert(d, None)
    return XS.reshard_p.bind(x, sharding=sharding.with_spec(_S.PartitionSpec(*spec))), d


transpose_rules[XS.reshard_p] = _reshard_t
B.batch_rules[XS.reshard_p] = _reshard_batch

_dot_t = transpose_rules[_P.dot_general_p]


def _dot_t_typed(ct, x, y, **params):
    xa, ya = _t_aval(x), _t_aval(y)
    if getattr(xa, "sharding", None) is None and getattr(ya, "sharding", None) is None \
            and getattr(getattr(ct, "aval", None), "sharding", None) is None:
        return _dot_t(ct, x, y, **params)
    XS._lenient[0] += 1
    try:
        res = _dot_t(ct, x, y, **params)
    finally:
        XS._lenient[0] -= 1
    out = []
    for r, p, a in zip(res, (x, y), (xa, ya)):
        if r is not None and _undef(p) and type(r) is not _Zero and a.sharding is not None \
                and getattr(getattr(r, "aval", None), "sharding", None) != a.sharding:
            r = XS.reshard_p.bind(r, sharding=a.sharding)
        out.append(r)
    return out


transpose_rules[_P.dot_general_p] = _dot_t_typed


def _ct_sharding(ct, aval):
    a = _t_aval(ct)
    if getattr(a, "sharding", None) == aval.sharding or getattr(a, "shape", None) != aval.shape \
            or a.dtype == _float0:
        return ct
    return XS.reshard_p.bind(ct, sharding=aval.sharding)


_float0 = _dtypes.float0
_transpose_mod.ct_sharding = _ct_sharding


_reshape_t = transpose_rules[_P.reshape_p]


def _reshape_t_typed(ct, x, **params):
    """reshape's transpose where JAX's reshapes the cotangent into the primal's type: an
    unsupported split or merge gives a replicated cotangent (then resharded by accum)."""
    if getattr(_t_aval(ct), "sharding", None) is None:
        return _reshape_t(ct, x, **params)
    XS._lenient[0] += 1
    try:
        return _reshape_t(ct, x, **params)
    finally:
        XS._lenient[0] -= 1


transpose_rules[_P.reshape_p] = _reshape_t_typed


def _unbatched(sharding, d):
    ents = list(sharding.spec)
    del ents[d]
    return XS.type_sharding(sharding.mesh, ents)


B.unbatched_sharding = _unbatched
