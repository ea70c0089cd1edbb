"""Operators and methods of Array and tracers, implemented with xlafront.numpy.

Each numpy submodule exports `array_methods`, a dict name -> function taking the
array first; they are merged here and installed on Array and core.Tracer.
"""
from __future__ import annotations

from xlafront.numpy import _ufuncs, _creation, _reductions, _shapes, _products, _indexing
from xlafront.numpy import _sorting, _index_tricks

_MODULES = (_ufuncs, _creation, _reductions, _shapes, _products, _indexing, _sorting, _index_tricks)


def methods():
    ns = {}
    for m in _MODULES:
        ns.update(getattr(m, "array_methods", {}))
    return ns
