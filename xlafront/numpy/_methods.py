"""Operators and methods of Array and tracers, implemented with xlafront.numpy.

Each numpy submodule exports `array_methods`, a dict name -> function taking the
array first; they are merged here and installed on Array and core.Tracer.
"""
from __future__ import annotations

from xlafront.numpy import _ufuncs, _creation, _reductions, _shapes, _products, _indexing

_MODULES = (_ufuncs, _creation, _reductions, _shapes, _products, _indexing)


def methods():
    ns = {}
    for m in _MODULES:
        ns.update(getattr(m, "array_methods", {}))
    return ns
