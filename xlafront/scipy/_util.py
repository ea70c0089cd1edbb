"""Shared helpers of xlafront.scipy (special and stats): promotion to inexact arrays, typed constants."""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import numpy as xnp
from xlafront.core import get_aval
from xlafront.numpy._util import promote_args_inexact


def promote(name, *args):
    """Operands at a common inexact dtype, as arrays (Python scalars stay weak)."""
    return [xnp.asarray(a) for a in promote_args_inexact(name, *args)]


def const(x, v):
    """v in x's dtype, weak when x is weak (as lax._const)."""
    a = get_aval(x)
    if a.weak_type and a.dtype == dtypes.default_float():
        return float(v)
    return np.asarray(v, a.dtype)[()]
