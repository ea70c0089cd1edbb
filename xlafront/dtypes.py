"""Dtypes, JAX's type-promotion lattice, weak types and the x64 policy.

JAX's rules, restated: a Python scalar is *weakly typed* (it adopts the dtype of
the array it meets); dtypes promote along a lattice, and the result of two
dtypes is their least upper bound there; with x64 off (the default) 64-bit
types are canonicalized to their 32-bit counterparts.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from xlafront.config import config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)
bfloat16 = np.dtype(ml_dtypes.bfloat16)
float8_e4m3fn = np.dtype(ml_dtypes.float8_e4m3fn)
float8_e5m2 = np.dtype(ml_dtypes.float8_e5m2)
float8_e4m3b11fnuz = np.dtype(ml_dtypes.float8_e4m3b11fnuz)
float8_e4m3fnuz = np.dtype(ml_dtypes.float8_e4m3fnuz)
float8_e5m2fnuz = np.dtype(ml_dtypes.float8_e5m2fnuz)
float8_dtypes = (float8_e4m3fn, float8_e5m2, float8_e4m3b11fnuz, float8_e4m3fnuz, float8_e5m2fnuz)

# float0 is the dtype of tangents of integer values (as in JAX).
float0 = np.dtype([("float0", np.void, 0)])

signed_ints = (int8, int16, int32, int64)
unsigned_ints = (uint8, uint16, uint32, uint64)
int_dtypes = signed_ints + unsigned_ints
inexact_floats = (bfloat16, float16, float32, float64) + float8_dtypes
complex_dtypes = (complex64, complex128)
supported_dtypes = frozenset((bool_,) + int_dtypes + inexact_floats + complex_dtypes)

# Short names used by the graph printer and by `python -m xlafront dump --args`.
short_names = {
    bool_: "bool", int8: "i8", int16: "i16", int32: "i32", int64: "i64",
    uint8: "u8", uint16: "u16", uint32: "u32", uint64: "u64",
    bfloat16: "bf16", float16: "f16", float32: "f32", float64: "f64",
    complex64: "c64", complex128: "c128", float0: "float0",
    float8_e4m3fn: "f8_e4m3fn", float8_e5m2: "f8_e5m2", float8_e4m3b11fnuz: "f8_e4m3b11fnuz",
    float8_e4m3fnuz: "f8_e4m3fnuz", float8_e5m2fnuz: "f8_e5m2fnuz",
}
from_short_name = {v: k for k, v in short_names.items()}


def is_float(dt) -> bool:
    return dt in inexact_floats


def is_complex(dt) -> bool:
    return dt in complex_dtypes


def is_inexact(dt) -> bool:
    return dt in inexact_floats or dt in complex_dtypes


def is_int(dt) -> bool:
    return dt in int_dtypes


def is_unsigned(dt) -> bool:
    return dt in unsigned_ints


def issubdtype(a, b) -> bool:
    """np.issubdtype that also knows bfloat16 and the float8 types are floating, and the
    extended dtypes (typed PRNG keys: `issubdtype(key.dtype, prng_key)`, as jax.dtypes)."""
    ext = _extended_type(a)
    if ext is not None:
        return (isinstance(b, type) and issubclass(ext, b)) or a == b
    if isinstance(b, type) and issubclass(b, extended):
        return False
    a = np.dtype(a) if not isinstance(a, np.dtype) else a
    if b in (np.floating, np.inexact) and a in inexact_floats:
        return True
    if b is np.inexact and a in complex_dtypes:
        return True
    if a in (bfloat16,) + float8_dtypes:
        return b in (np.floating, np.inexact, np.number, np.generic) or a == b
    return np.issubdtype(a, b)


def finfo(dt):
    return ml_dtypes.finfo(np.dtype(dt))


def iinfo(dt):
    return np.iinfo(np.dtype(dt))


_x64_to_32 = {int64: int32, uint64: uint32, float64: float32, complex128: complex64}


def canonicalize(dt) -> np.dtype:
    """Map a dtype to the one arrays really get: 64-bit types narrow when x64 is off."""
    dt = dtype(dt)
    if not config.x64:
        return _x64_to_32.get(dt, dt)
    return dt


def dtype(x) -> np.dtype:
    """np.dtype of a dtype-like, with a TypeError (JAX's class) for unsupported ones."""
    if isinstance(x, np.dtype):
        dt = x
    elif x is int:
        dt = int64
    elif x is float:
        dt = float64
    elif x is complex:
        dt = complex128
    elif x is bool:
        dt = bool_
    else:
        try:
            dt = np.dtype(x)
        except TypeError as e:
            raise TypeError(f"{x!r} is not a valid dtype") from e
    if dt not in supported_dtypes and dt != float0:
        raise TypeError(f"dtype {dt.name!r} is not supported by xlafront "
                        f"(supported: bool, (u)int8..64, float8 variants, bfloat16, float16..64, complex64/128)")
    return dt


def default_int():
    return int64 if config.x64 else int32


def default_float():
    return float64 if config.x64 else float32


def default_complex():
    return complex128 if config.x64 else complex64


# --- the promotion lattice ------------------------------------------------------------
# Nodes are dtypes plus three weak kinds for Python scalars: "i*", "f*", "c*".
_I, _F, _C = "i*", "f*", "c*"
_lattice_up = {
    bool_: [_I],
    _I: [uint8, int8],
    uint8: [int16, uint16], uint16: [int32, uint32], uint32: [int64, uint64], uint64: [_F],
    int8: [int16], int16: [int32], int32: [int64], int64: [_F],
    _F: [bfloat16, float16, _C, *float8_dtypes],
    bfloat16: [float32], float16: [float32], float32: [float64, complex64], float64: [complex128],
    _C: [complex64], complex64: [complex128], complex128: [],
    **{d: [] for d in float8_dtypes},
}


def _upper_sets():
    ups = {}

    def walk(n):
        if n in ups:
            return ups[n]
        s = {n}
        for m in _lattice_up[n]:
            s |= walk(m)
        ups[n] = frozenset(s)
        return ups[n]

    for n in _lattice_up:
        walk(n)
    return ups


_UP = _upper_sets()
_join_cache: dict = {}


class TypePromotionError(TypeError, ValueError):
    """No implicit promotion path (e.g. between float8 types). JAX raises a ValueError
    subclass here; being both lets callers catch it either way."""


def _join(a, b):
    key = (a, b)
    r = _join_cache.get(key)
    if r is None:
        common = _UP[a] & _UP[b]
        # least upper bound: the common node every other common node is above of.
        r = next((n for n in common if common <= _UP[n]), None)
        if r is None:
            raise TypePromotionError(f"Input dtypes {_name(a)!r} and {_name(b)!r} have no available "
                                     f"implicit dtype promotion path. Convert explicitly with .astype().")
        _join_cache[key] = r
    return r


def _name(n):
    return n if isinstance(n, str) else n.name


def _node(dt, weak):
    if not weak or dt == bool_:
        return dt
    if dt in int_dtypes:
        return _I
    if dt in complex_dtypes:
        return _C
    return _F


_weak_default = {_I: default_int, _F: default_float, _C: default_complex}


def promote(dts_weak) -> tuple[np.dtype, bool]:
    """Result (dtype, weak_type) of combining (dtype, weak) pairs, as JAX does."""
    node = None
    weak_join = None  # join of the actual dtypes, used when every input is weak
    for dt, w in dts_weak:
        n = _node(dt, w)
        node = n if node is None else _join(node, n)
        if w and weak_join is not False:
            weak_join = dt if weak_join is None else _join(weak_join, dt)
        else:
            weak_join = False
    if isinstance(node, str):
        # the join is a weak kind: the result is weak; all-weak inputs keep their dtype.
        dt = weak_join if weak_join not in (None, False) else node
        if isinstance(dt, str):  # e.g. weak int64 + weak uint64 join at the weak float kind
            dt = _weak_default[dt]()
        return canonicalize(dt), True
    return canonicalize(node), False


def promote_types(a, b) -> np.dtype:
    """jnp.promote_types: strong dtypes only; not canonicalized (as JAX: int64 stays int64)."""
    return _join(dtype(a), dtype(b))


def scalar_type_of(x):
    """(dtype, weak_type) of a Python scalar, canonicalized."""
    if isinstance(x, bool):
        return bool_, False
    if isinstance(x, int):
        return canonicalize(int64), True
    if isinstance(x, float):
        return canonicalize(float64), True
    if isinstance(x, complex):
        return canonicalize(complex128), True
    raise TypeError(f"{type(x)} is not a scalar type")


def python_int_value(x: int, dt):
    """The value a Python int operand takes in an operation of dtype `dt`, as JAX: it is a
    weak value of the default int first, so it must fit int32 (int64 under x64), else an
    OverflowError; an integer `dt` then wraps it modulo 2**bits like any integer cast (so
    `int8 array + 300` adds 44, and `uint8 array < -1` compares with 255)."""
    di = iinfo(default_int())
    if not di.min <= x <= di.max:
        raise OverflowError(f"Python int {x} too large to convert to {di.dtype.name} (the default "
                            f"integer type{'' if config.x64 else '; enable x64 for 64-bit integers'})")
    if dt in int_dtypes:
        bits = 8 * dt.itemsize
        x &= (1 << bits) - 1
        if dt in signed_ints and x >> (bits - 1):
            x -= 1 << bits
    return x


def to_inexact(dt, weak=False):
    """Dtype an integer/bool value becomes under a float-only op (sin, mean, ...).

    As JAX: bool and ints up to 32 bits become float32, 64-bit ints float64
    (float32 again when x64 is off), weak or not (`weak` is accepted for callers'
    convenience; a weak Python int is int64 under x64, so it becomes float64).
    """
    if dt in inexact_floats or dt in complex_dtypes:
        return dt
    return canonicalize(float64 if dt in (int64, uint64) else float32)


def to_complex(dt):
    """The complex dtype of a floating dtype's width: float64 -> complex128, the other
    floats -> complex64 (as JAX's FFTs and sort_complex); complex dtypes are unchanged."""
    if dt in complex_dtypes:
        return dt
    return complex128 if dt == float64 else complex64


def to_real(dt):
    """The real dtype of a complex dtype's components (complex128 -> float64, complex64 ->
    float32); real dtypes are unchanged."""
    if dt not in complex_dtypes:
        return dt
    return float64 if dt == complex128 else float32


# --- jax.dtypes' public names ----------------------------------------------------------
class extended(np.generic):
    """Scalar type of the extended dtypes (as jax.dtypes.extended): dtypes that are not
    numpy's, such as the typed PRNG keys' `key<fry>`. Only for `issubdtype` checks."""


class prng_key(extended):
    """Scalar type of typed PRNG keys' dtype (as jax.dtypes.prng_key):
    `issubdtype(jax.random.key(0).dtype, prng_key)` is True."""


def _extended_type(dt):
    """The extended scalar type of `dt` (a key dtype, or extended/prng_key itself), else None."""
    if isinstance(dt, type):
        return dt if issubclass(dt, extended) else None
    if isinstance(dt, np.dtype):
        return None
    t = getattr(dt, "type", None)
    return t if isinstance(t, type) and issubclass(t, extended) else None


def canonicalize_dtype(dt, allow_extended_dtype: bool = False):
    """jax.dtypes.canonicalize_dtype: the dtype arrays of `dt` get (64-bit types narrow
    when x64 is off); an extended dtype only with allow_extended_dtype=True."""
    if _extended_type(dt) is not None and not isinstance(dt, type):
        if allow_extended_dtype:
            return dt
        raise ValueError(f"Internal: canonicalize_dtype called on extended dtype {dt} with "
                         f"allow_extended_dtype=False")
    return canonicalize(dt)


def result_type(*args, return_weak_type_flag: bool = False):
    """jax.dtypes.result_type: the dtype JAX's promotion gives to combining `args` (arrays,
    Python scalars or their types, dtypes), canonicalized, as jnp.result_type."""
    if not args:
        raise ValueError("at least one array or dtype is required")
    dt, weak = promote([_dtype_and_weak(a) for a in args])
    dt = canonicalize(dt)
    return (dt, weak) if return_weak_type_flag else dt


def _dtype_and_weak(x):
    if isinstance(x, (bool, int, float, complex)):
        return scalar_type_of(x)
    if x is bool:
        return bool_, False
    if isinstance(x, type) and x in (int, float, complex):
        return scalar_type_of(x(0))
    if hasattr(x, "dtype") and not isinstance(x, (np.dtype, type)):   # arrays, tracers, numpy values
        return canonicalize(x.dtype), bool(getattr(x, "weak_type", False))
    if not isinstance(x, (np.dtype, type, str)) and isinstance(getattr(x, "dtype", None), np.dtype):
        x = x.dtype   # a dtype-like object (jnp.float32, a ShapeDtypeStruct)
    return canonicalize(dtype(x)), False


def itemsize_bits(dt) -> int:
    """Bits of one element of `dt` (as jax.dtypes.itemsize_bits)."""
    return 8 * np.dtype(dt).itemsize

