"""xlafront.numpy: the NumPy API on xlafront arrays (mirrors jax.numpy)."""
from xlafront import dtypes as _dtypes
from xlafront.array import Array as ndarray  # noqa: F401

from xlafront.numpy._ufuncs import *  # noqa: F401,F403
from xlafront.numpy._creation import *  # noqa: F401,F403
from xlafront.numpy._shapes import *  # noqa: F401,F403
from xlafront.numpy._reductions import *  # noqa: F401,F403
from xlafront.numpy._products import *  # noqa: F401,F403
from xlafront.numpy._indexing import *  # noqa: F401,F403
from xlafront.numpy._sorting import *  # noqa: F401,F403
from xlafront.numpy._statistics import *  # noqa: F401,F403
from xlafront.numpy._vectorize import *  # noqa: F401,F403
from xlafront.numpy._index_tricks import *  # noqa: F401,F403
from xlafront.numpy._setops import *  # noqa: F401,F403
from xlafront.numpy._math_extras import *  # noqa: F401,F403
from xlafront.numpy import linalg  # noqa: F401,E402
from xlafront.numpy import fft  # noqa: F401,E402

import numpy as _np
from xlafront.numpy._creation import _scalar_type  # noqa: E402

pi, e, inf, nan, newaxis, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, None, _np.euler_gamma
NINF, PINF, NAN, NZERO, PZERO = -_np.inf, _np.inf, _np.nan, -0.0, 0.0

# Scalar type objects: `xnp.float32(2)` makes a float32 Array (strong), as jnp.float32(2);
# `xnp.float32` also works wherever a dtype is expected (np.dtype(xnp.float32) == float32).
bool_ = bool = _scalar_type("bool", _np.bool_)  # noqa: A001
int8, int16, int32, int64 = (_scalar_type(n, getattr(_np, n)) for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_scalar_type(n, getattr(_np, n)) for n in ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = (_scalar_type(n, getattr(_np, n)) for n in ("float16", "float32", "float64"))
complex64, complex128 = _scalar_type("complex64", _np.complex64), _scalar_type("complex128", _np.complex128)
bfloat16 = _scalar_type("bfloat16", _dtypes.bfloat16)
float8_e4m3fn = _scalar_type("float8_e4m3fn", _dtypes.float8_e4m3fn)
float8_e5m2 = _scalar_type("float8_e5m2", _dtypes.float8_e5m2)
float8_e4m3b11fnuz = _scalar_type("float8_e4m3b11fnuz", _dtypes.float8_e4m3b11fnuz)
float8_e4m3fnuz = _scalar_type("float8_e4m3fnuz", _dtypes.float8_e4m3fnuz)
float8_e5m2fnuz = _scalar_type("float8_e5m2fnuz", _dtypes.float8_e5m2fnuz)
float_, int_, uint, complex_ = float64, int64, uint64, complex128
single, double, csingle, cdouble = float32, float64, complex64, complex128
dtype = _np.dtype
integer, floating, inexact, number, signedinteger, unsignedinteger, complexfloating, generic = (
    _np.integer, _np.floating, _np.inexact, _np.number, _np.signedinteger, _np.unsignedinteger,
    _np.complexfloating, _np.generic)
flexible, character, object_ = _np.flexible, _np.character, _np.object_

from xlafront.array import install_methods as _install  # noqa: E402
from xlafront.numpy._methods import methods as _methods  # noqa: E402

_install(_methods(), {"asarray": asarray, "unstack": unstack})  # noqa: F405

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
