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


# shard_map and its collectives: forward only so far (issue 14). Differentiating or batching
# one is declared here, so that it fails with a clear message instead of a missing rule.
def _not_yet(what):
    def rule(*args, **params):
        from xlafront.core import user_site
        raise NotImplementedError(f"{what} is not implemented yet in xlafront (shard_map and its "
                                  f"collectives run forward only); at {user_site()}")
    return rule


J.jvp_rules[PS.shard_map_p] = _not_yet("differentiating shard_map")
J.jvp_rules[PS.psum_p] = _not_yet("differentiating psum")
B.batch_rules[PS.shard_map_p] = _not_yet("vmap of shard_map")
B.batch_rules[PS.psum_p] = _not_yet("vmap of psum")
B.batch_rules[PS.axis_index_p] = _not_yet("vmap of axis_index")
# the device's index along a mesh axis: an integer, no tangent
__import__("xlafront.primitives", fromlist=["x"]).non_differentiable.add(PS.axis_index_p)
