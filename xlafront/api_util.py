"""`jax.api_util`: helpers JAX's own transformations are built from. numpyro imports
`debug_info` and `flatten_fun` at import time (numpyro/ops/provenance.py, used by its
provenance tracking, not by inference). They are placeholders here: calling one raises
NotImplementedYetError naming it and the call site. `safe_map` is real.
"""
from __future__ import annotations

from xlafront import _missing
from xlafront._compat import placeholder_function

_NEED = "numpyro.ops.provenance"
debug_info = placeholder_function("jax.api_util.debug_info", _NEED)
flatten_fun = placeholder_function("jax.api_util.flatten_fun", _NEED)
flatten_fun_nokwargs = placeholder_function("jax.api_util.flatten_fun_nokwargs", _NEED)
shaped_abstractify = placeholder_function("jax.api_util.shaped_abstractify", _NEED)


def safe_map(f, *args):
    """map that insists on arguments of equal length."""
    args = list(map(list, args))
    n = len(args[0])
    for a in args[1:]:
        if len(a) != n:
            raise ValueError(f"length mismatch: {list(map(len, args))}")
    return list(map(f, *args))


__getattr__ = _missing.module_getattr(__name__)
