"""`jax.experimental.layout`: `Format` and `Layout` as values (flax imports `Format` at
import time and tests sharding specs with isinstance). xlafront lays every array out
row-major and takes no layout requests: `jit(in_shardings=Format(...))` and
`with_layout_constraint` raise NotImplementedYetError."""
from __future__ import annotations

from xlafront import _missing


class Layout:
    """A device-local layout: `major_to_minor` dimension order (and tiling, unused here)."""

    def __init__(self, major_to_minor=None, tiling=(), *, sub_byte_element_size_in_bits=0):
        self.major_to_minor = None if major_to_minor is None else tuple(major_to_minor)
        self.tiling = tuple(tiling)
        self.sub_byte_element_size_in_bits = sub_byte_element_size_in_bits

    def __repr__(self):
        return f"Layout(major_to_minor={self.major_to_minor})"

    def __eq__(self, other):
        return (type(other) is Layout and self.major_to_minor == other.major_to_minor
                and self.tiling == other.tiling)

    def __hash__(self):
        return hash((self.major_to_minor, self.tiling))


class Format:
    """A (layout, sharding) pair."""

    def __init__(self, layout=None, sharding=None):
        self.layout, self.sharding = layout, sharding

    def __repr__(self):
        return f"Format({self.layout}, {self.sharding})"

    def __eq__(self, other):
        return type(other) is Format and (self.layout, self.sharding) == (other.layout, other.sharding)

    def __hash__(self):
        return hash((self.layout, self.sharding))


def with_layout_constraint(x, layout):
    raise _missing.NotImplementedYetError(
        f"xlafront does not implement jax.experimental.layout.with_layout_constraint yet; used at "
        f"{_missing.user_site(2)}", name="with_layout_constraint")


__getattr__ = _missing.module_getattr(__name__)
