"""jax.interpreters.batching: batching (vmap) rules of primitives.

`primitive_batchers[prim] = rule` with `rule(batched_args, batch_dims, **params) ->
(out, out_dim)` (lists for multiple-result primitives); an unbatched operand or output has
dim `not_mapped` (None). It is xlafront's own table (transforms/batching.py); the rule is
called only when some operand is batched, and runs under the parent trace.
`axis_primitive_batchers[prim] = rule(axis_size, axis_name, trace_type, args, dims,
**params)` and `fancy_primitive_batchers[prim] = rule(axis_data, args, dims, **params)` are
installed into the same table. The axis name is not known to a rule here: it is None
(collectives over a named axis inside such rules are not supported yet)."""
from __future__ import annotations

from xlafront import _missing
from xlafront.transforms import batching as _B
from xlafront.transforms.batching import BatchTrace, BatchTracer  # noqa: F401
from xlafront.transforms.batching import batch_rules as primitive_batchers

__all__ = ["AxisData", "BatchTrace", "BatchTracer", "axis_primitive_batchers", "bdim_at_front",
           "broadcast", "defbroadcasting", "defvectorized", "fancy_primitive_batchers", "matchaxis",
           "moveaxis", "not_mapped", "primitive_batchers"]

not_mapped = None


class AxisData:
    """The batch axis a rule maps over: `size`, `name` (None here), `spmd_name`."""
    __slots__ = ("name", "size", "spmd_name")

    def __init__(self, name, size, spmd_name=None):
        self.name, self.size, self.spmd_name = name, size, spmd_name

    def __repr__(self):
        return f"AxisData(name={self.name!r}, size={self.size})"


class _WrappingTable:
    """Setting `table[prim] = rule` installs `wrap(prim, rule)` into `primitive_batchers`."""

    def __init__(self, wrap):
        self._wrap = wrap
        self._rules: dict = {}

    def __setitem__(self, prim, rule):
        self._rules[prim] = rule
        primitive_batchers[prim] = self._wrap(prim, rule)

    def __getitem__(self, prim):
        return self._rules[prim]

    def __contains__(self, prim):
        return prim in self._rules

    def __delitem__(self, prim):
        del self._rules[prim]
        primitive_batchers.pop(prim, None)

    def get(self, prim, default=None):
        return self._rules.get(prim, default)


def _axis_rule(prim, rule):
    def batch(args, dims, **params):
        return rule(_B.axis_size_of(args, dims), None, None, args, dims, **params)
    return batch


def _fancy_rule(prim, rule):
    def batch(args, dims, **params):
        return rule(AxisData(None, _B.axis_size_of(args, dims)), args, dims, **params)
    return batch


axis_primitive_batchers = _WrappingTable(_axis_rule)
fancy_primitive_batchers = _WrappingTable(_fancy_rule)


def bdim_at_front(x, bdim, size):
    """`x` with its batch axis `bdim` moved to the front (broadcast there if not_mapped)."""
    return _B.bdim_to(x, bdim, size, 0)


def broadcast(x, size, axis, out_sharding=None):
    """`x` broadcast along a new axis `axis` of `size`."""
    return _B.broadcast_dim(x, size, axis)


def moveaxis(x, src, dst):
    return _B.moveaxis(x, src, dst)


def matchaxis(axis_name, size, src, dst, x, sum_match=False):
    return _B.matchaxis(x, src, dst, size)


def defvectorized(prim):
    """An elementwise unary primitive: the output keeps the operand's batch axis."""
    primitive_batchers[prim] = _B._same_dim_rule(prim)


def defbroadcasting(prim):
    """An n-ary elementwise primitive (operands of one shape, or rank 0)."""
    primitive_batchers[prim] = _B._elementwise_rule(prim)


__getattr__ = _missing.module_getattr(__name__)
