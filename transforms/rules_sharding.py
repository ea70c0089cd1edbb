"""jvp, transpose and batching rules of sharding_constraint (xlafront/primitives_sharding.py):
linear (tangents and cotangents take the same constraint); under vmap the batch axis is
inserted into the spec unsplit."""
from __future__ import annotations

from xlafront import primitives_sharding as PS
from xlafront.core import register_internal_path
from xlafront.transforms import jvp as J
from xlafront.transforms import batching as B
from xlafront.transforms.transpose import transpose_rules

register_internal_path(__file__)

J._linear(PS.sharding_constraint_p)


def _transpose(ct, x, *, sharding):
    return [PS.sharding_constraint_p.bind(ct, sharding=sharding)]


def _batch(args, dims, *, sharding):
    (x,), (d,) = args, dims
    if d is None:
        return PS.sharding_constraint_p.bind(x, sharding=sharding), None
    spec = list(sharding.spec) + [None] * (x.ndim - 1 - len(sharding.spec))
    spec.insert(d, None)
    return PS.sharding_constraint_p.bind(x, sharding=sharding.with_spec(type(sharding.spec)(*spec))), d


transpose_rules[PS.sharding_constraint_p] = _transpose
B.batch_rules[PS.sharding_constraint_p] = _batch
