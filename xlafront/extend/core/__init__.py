"""jax.extend.core: user-defined primitives and the objects of a traced graph.

`Primitive(name)` is a subclass of xlafront's own `core.Primitive`: binding it goes through
the same traces as a built-in primitive, and its rules live in the same tables.

- `def_impl(fn)`: what `bind` runs outside any trace (eagerly, on concrete arrays), as JAX.
- `def_abstract_eval(fn)`: output aval(s) from input avals; it becomes the primitive's
  shape rule (`core.shape_rules`), so jit, make_jaxpr, scan bodies and partial evaluation
  can stage it. Anything with `.shape` and `.dtype` may be returned (a ShapedArray, a
  ShapeDtypeStruct); `multiple_results` primitives return a sequence.
- jvp / transpose / batching / lowering rules are registered through
  `xlafront.interpreters.{ad, batching, mlir}` (jax.interpreters.*), which are the rule
  tables of `xlafront.transforms` and `xlafront.lowering` themselves.

The graph classes are xlafront's: `Jaxpr` is `core.Graph`, `ClosedJaxpr` is
`core.ClosedGraph`, `JaxprEqn` is `core.Equation`, and `Var` / `Literal` are core's; they
carry the attributes code that walks a JAX jaxpr reads (`eqns`, `invars`, `outvars`,
`constvars`, `consts`, `literals`, `eqn.primitive`, `eqn.params`, `var.aval`, `lit.val`).
"""
from __future__ import annotations

import numpy as np

from xlafront import _missing, core, dtypes
from xlafront.core import (AbstractValue, ClosedGraph as ClosedJaxpr, Equation as JaxprEqn,  # noqa: F401
                           Graph as Jaxpr, Literal, ShapedArray, Var, find_top_trace,
                           get_opaque_trace_state, jaxpr_as_fun, mapped_aval, set_current_trace,
                           unmapped_aval)
from xlafront.transforms.jvp import tangent_aval as _tangent_aval

__all__ = ["Primitive", "Literal", "Var", "Jaxpr", "ClosedJaxpr", "JaxprEqn", "primitives",
           "find_top_trace", "get_opaque_trace_state", "jaxpr_as_fun", "mapped_aval",
           "unmapped_aval", "set_current_trace", "no_effects", "primal_dtype_to_tangent_dtype",
           "new_jaxpr_eqn", "jaxprs_in_params", "subjaxprs", "valid_jaxtype", "array_types",
           "Effect", "Effects", "JaxprTypeError", "concrete_or_error", "take_current_trace",
           "unsafe_am_i_under_a_jit_DO_NOT_USE", "unsafe_am_i_under_a_vmap_DO_NOT_USE"]

no_effects = frozenset()   # xlafront's graphs record no effects


class Effect:
    """Base class of effects (jax.extend.core.Effect). Libraries subclass it at import;
    xlafront's graphs record no effects, so instances are never attached to equations."""
    __slots__ = ()


Effects = set


class JaxprTypeError(TypeError):
    pass


def concrete_or_error(force, val, context=""):
    """`force(val)` where `val` is concrete; a ConcretizationTypeError (naming `context`) for a
    traced value whose value the trace does not know."""
    if isinstance(val, core.Tracer):
        v = val.to_concrete_value()
        if v is None:
            raise core.ConcretizationTypeError(
                f"Abstract tracer value encountered where concrete value is expected: {context} "
                f"(at {core.user_site()})")
        val = v
    return val if force is None else force(val)


def take_current_trace():
    """The current trace, as a context manager yielding it."""
    return set_current_trace(core.ctx.trace)


def _under(kind) -> bool:
    t = core.ctx.trace
    while t is not None:
        if type(t).__name__ in kind:
            return True
        t = t.parent
    return False


def unsafe_am_i_under_a_jit_DO_NOT_USE() -> bool:
    return _under(("GraphTrace", "PartialEvalTrace"))


def unsafe_am_i_under_a_vmap_DO_NOT_USE() -> bool:
    return _under(("BatchTrace",))
array_types = tuple(t for t in core.aval_of_type)


def _as_aval(a, prim_name):
    if type(a) is ShapedArray and isinstance(a.dtype, np.dtype) and dtypes.canonicalize(a.dtype) == a.dtype:
        return a
    shape, dt = getattr(a, "shape", None), getattr(a, "dtype", None)
    if shape is None or dt is None:
        raise TypeError(f"the abstract evaluation rule of primitive '{prim_name}' returned "
                        f"{a!r}, not a ShapedArray (or anything with .shape and .dtype)")
    return ShapedArray(tuple(shape), dtypes.canonicalize(np.dtype(dt)), bool(getattr(a, "weak_type", False)))


class Primitive(core.Primitive):
    """A user-defined primitive (jax.extend.core.Primitive): see the module docstring.

    Outside any trace `bind` calls the `def_impl` function in Python (as JAX does), so the
    eager result is exactly the implementation's; under a trace it is processed by that
    trace with the rules registered for it."""
    # no __slots__: instances have a __dict__ (the rules, and whatever users attach)

    def __init__(self, name: str):
        super().__init__(name, False)
        self._impl = None
        self._abstract_eval = None
        self._effectful = False

    def bind(self, *args, **params):
        if core.traced:
            trace = core.ctx.trace
            if trace is not core.eval_trace:
                return trace.process_primitive(self, args, params)
        return self.impl(*args, **params)

    def bind_with_trace(self, trace, args, params):
        if trace is core.eval_trace:
            return self.impl(*args, **params)
        return trace.process_primitive(self, args, params)

    # -- rules
    def def_impl(self, impl):
        self._impl = impl
        return impl

    def impl(self, *args, **params):
        if self._impl is None:
            raise NotImplementedError(f"Evaluation rule for '{self.name}' not implemented "
                                      f"(define it with `{self.name}_p.def_impl`; at {core.user_site()})")
        return self._impl(*args, **params)

    def def_abstract_eval(self, abstract_eval):
        self._abstract_eval = abstract_eval
        self._effectful = False
        core.shape_rules[self] = self._shape_rule
        return abstract_eval

    def def_effectful_abstract_eval(self, effectful_abstract_eval):
        """`fn(*avals, **params) -> (avals, effects)`. xlafront's graphs carry no effects: the
        effects are dropped, so an effectful primitive is ordered only by its data flow."""
        self._abstract_eval = effectful_abstract_eval
        self._effectful = True
        core.shape_rules[self] = self._shape_rule
        return effectful_abstract_eval

    def abstract_eval(self, *avals, **params):
        """(output aval(s), effects), as JAX's `Primitive.abstract_eval`."""
        if self._abstract_eval is None:
            raise NotImplementedError(f"Abstract evaluation for '{self.name}' not implemented")
        out = self._abstract_eval(*avals, **params)
        return out if self._effectful else (out, no_effects)

    def _shape_rule(self, *avals, **params):
        out = self._abstract_eval(*avals, **params)
        if self._effectful:
            out = out[0]
        if self.multiple_results:
            return tuple(_as_aval(a, self.name) for a in out)
        return _as_aval(out, self.name)

    def is_effectful(self, params=None):
        return False

    call_primitive = False
    map_primitive = False
    is_high = False

    def __repr__(self):
        return self.name


def primal_dtype_to_tangent_dtype(dt):
    return _tangent_aval(ShapedArray((), np.dtype(dt))).dtype


def valid_jaxtype(x) -> bool:
    try:
        core.get_aval(x)
    except TypeError:
        return False
    return True


def new_jaxpr_eqn(invars, outvars, primitive, params, effects=None, source_info=None, ctx=None):
    del effects, ctx
    return JaxprEqn(primitive, list(invars), list(outvars), dict(params), source_info)


def subjaxprs(jaxpr: Jaxpr):
    """The graphs held in the params of `jaxpr`'s equations (one level down)."""
    for eqn in jaxpr.eqns:
        yield from jaxprs_in_params(eqn.params)


def jaxprs_in_params(params):
    out = []
    for v in params.values():
        for x in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(x, ClosedJaxpr):
                out.append(x.graph)
            elif isinstance(x, Jaxpr):
                out.append(x)
    return out


__getattr__ = _missing.module_getattr(__name__)
