"""xlafront.numpy: the NumPy API on xlafront arrays (mirrors jax.numpy)."""
from xlafront import dtypes as _dtypes
from xlafront.array import Array as ndarray  # noqa: F401

from xlafront.numpy._ufuncs import *  # noqa: F401,F403
from xlafront.numpy._creation import *  # noqa: F401,F403
from xlafront.numpy._shapes import *  # noqa: F401,F403
from xlafront.numpy._reductions import *  # noqa: F401,F403
from xlafront.numpy._products import *  # noqa: F401,F403
from xlafront.numpy._indexing import *  # noqa: F401,F403
from xlafront.numpy import linalg  # noqa: F401,E402

import numpy as _np

pi, e, inf, nan, newaxis, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, None, _np.euler_gamma

bool_ = _np.bool_
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
bfloat16 = _dtypes.bfloat16.type
float8_e4m3fn, float8_e5m2 = _dtypes.float8_e4m3fn.type, _dtypes.float8_e5m2.type
float_, int_, complex_ = _np.float64, _np.int64, _np.complex128
dtype = _np.dtype
integer, floating, inexact, number, signedinteger, unsignedinteger, complexfloating, generic = (
    _np.integer, _np.floating, _np.inexact, _np.number, _np.signedinteger, _np.unsignedinteger,
    _np.complexfloating, _np.generic)
promote_types = _dtypes.promote_types
finfo, iinfo = _dtypes.finfo, _dtypes.iinfo
issubdtype = _dtypes.issubdtype

from xlafront.array import install_methods as _install  # noqa: E402
from xlafront.numpy._methods import methods as _methods  # noqa: E402

_install(_methods())
