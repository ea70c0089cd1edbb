"""Primitives of the special-function family: erfc, polygamma, zeta (core layer).

jax.lax has them as primitives of their own (lowered to chlo ops); xlafront keeps
them out of primitives.py's elementwise tables so that this family registers its
rules itself (transforms/rules_special.py, lowering/rules_special.py).
"""
from __future__ import annotations

from xlafront import primitives as P
from xlafront.core import ShapedArray, primitive, shape_rules


def _unary_float(name):
    p = primitive(name)

    def rule(x, **params):
        P._kinds_check(name, x.dtype, ("float",))
        return ShapedArray(x.shape, x.dtype, x.weak_type)

    shape_rules[p] = rule
    return p


def _binary_float(name):
    p = primitive(name)

    def rule(x, y, **params):
        dt = P._check_same_dtype(name, (x, y))
        P._kinds_check(name, dt, ("float",))
        return ShapedArray(P._elementwise_shape(name, (x, y)), dt, P._weak((x, y)))

    shape_rules[p] = rule
    return p


erfc_p = _unary_float("erfc")
polygamma_p = _binary_float("polygamma")   # polygamma(m, x): m a float holding an integer
zeta_p = _binary_float("zeta")             # Hurwitz zeta(s, q)

special_unary = (erfc_p,)
special_binary = (polygamma_p, zeta_p)


def erfc(x):
    return erfc_p.bind(x)


def polygamma(m, x):
    return polygamma_p.bind(m, x)


def zeta(x, q):
    return zeta_p.bind(x, q)
