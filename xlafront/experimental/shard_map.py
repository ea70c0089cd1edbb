"""jax.experimental.shard_map: `shard_map(f, mesh, in_specs, out_specs, check_rep=True, auto=...)`
(the older spelling of `xf.shard_map`, xlafront/_shard_map.py)."""
from xlafront._shard_map import shard_map as _shard_map

__all__ = ["shard_map"]


def shard_map(f, mesh, in_specs, out_specs, check_rep=True, auto=frozenset()):
    return _shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_rep=check_rep, auto=auto)
