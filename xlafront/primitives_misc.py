"""Primitives of the misc family: clz, reduce_precision, optimization_barrier (core layer).

Three small primitives jax.lax has and the other families do not cover:
- `clz` counts the leading zero bits of integers (stablehlo.count_leading_zeros);
  piecewise constant, so declared non-differentiable.
- `reduce_precision` rounds floats to `exponent_bits`/`mantissa_bits` and back
  (stablehlo.reduce_precision); JAX treats it as linear (the tangent is rounded too).
- `optimization_barrier` is the identity on any number of operands, a fence XLA does
  not move computations across (stablehlo.optimization_barrier).
Their rules live in transforms/rules_misc.py and lowering/rules_misc.py.
"""
from __future__ import annotations

import operator

from xlafront import dtypes
from xlafront import primitives as P
from xlafront.core import ShapedArray, primitive, shape_rules, user_site

clz_p = primitive("clz")
reduce_precision_p = primitive("reduce_precision")
optimization_barrier_p = primitive("optimization_barrier", multiple_results=True)


def _clz_rule(x):
    if not dtypes.is_int(x.dtype):
        raise TypeError(f"clz does not accept dtype {x.dtype.name}. Accepted dtypes are subtypes of integer.")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _reduce_precision_rule(x, *, exponent_bits, mantissa_bits):
    if not dtypes.is_float(x.dtype):
        raise TypeError(f"reduce_precision does not accept dtype {x.dtype.name}. Accepted dtypes are "
                        f"subtypes of floating.")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _optimization_barrier_rule(*xs):
    return tuple(xs)


shape_rules[clz_p] = _clz_rule
shape_rules[reduce_precision_p] = _reduce_precision_rule
shape_rules[optimization_barrier_p] = _optimization_barrier_rule

# counting bits has no derivative (and integers have float0 tangents anyway)
P.non_differentiable.add(clz_p)


def clz(x):
    """Number of leading zero bits of each element of the integer array x."""
    return clz_p.bind(x)


def reduce_precision(operand, exponent_bits, mantissa_bits):
    """Round `operand` to a float format with the given exponent and mantissa bits (keeping
    its dtype), as lax.reduce_precision."""
    exponent_bits = operator.index(exponent_bits)
    mantissa_bits = operator.index(mantissa_bits)
    if exponent_bits < 1:
        raise ValueError(f"reduce_precision: exponent_bits must be positive; got {exponent_bits} "
                         f"(at {user_site()})")
    if mantissa_bits < 0:
        raise ValueError(f"reduce_precision: mantissa_bits must be non-negative; got {mantissa_bits} "
                         f"(at {user_site()})")
    return reduce_precision_p.bind(operand, exponent_bits=int(exponent_bits), mantissa_bits=int(mantissa_bits))
