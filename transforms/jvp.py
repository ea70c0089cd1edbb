"""Forward-mode differentiation: the JVP trace and one jvp rule per primitive.

A `JVPTracer` carries a primal and a tangent. Tangents that are known to be zero
are the symbolic `Zero(aval)`, which costs nothing: a primitive whose tangents are
all `Zero` runs on the primals alone. Integer and boolean values have `float0`
tangents, as in JAX (always symbolic zeros here).

Rules have the signature `(primals, tangents, **params) -> (primal_out, tangent_out)`
(lists for multiple-result primitives). They run under the parent trace and are
written with the primitive wrappers, so every rule is itself differentiable, which
is what makes derivatives of any order work.
"""
from __future__ import annotations

import itertools
import math
import weakref

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.core import ShapedArray, Trace, Tracer, get_aval, set_current_trace

core.register_internal_path(__file__)

jvp_rules: dict = {}


# ----------------------------------------------------------------------------- symbolic zeros
class Zero:
    """A tangent (or cotangent) known to be zero; `aval` is the tangent's aval."""
    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    @staticmethod
    def from_primal_value(x):
        """The zero tangent of primal `x` (jax.interpreters.ad.Zero.from_primal_value)."""
        return Zero(tangent_aval(get_aval(x)))

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    """The aval of a tangent of a value of `aval` (float0 for integers and booleans)."""
    if dtypes.is_inexact(aval.dtype):
        return aval
    return ShapedArray(aval.shape, dtypes.float0, False)


def zeros(aval: ShapedArray):
    """A concrete zero of `aval` under the current trace.

    A partial-evaluation trace stages it into the linear graph instead of computing
    it (a broadcast scalar is cheaper to recompute than to keep as a residual)."""
    if aval.dtype == dtypes.float0:
        return np.zeros(aval.shape, dtypes.float0)
    stage = getattr(core.ctx.trace, "stage_zeros", None)
    if stage is not None:
        return stage(aval)
    z = np.zeros((), aval.dtype)[()]
    return P.broadcast_in_dim_p.bind(z, shape=aval.shape, broadcast_dimensions=())


def instantiate(t):
    return zeros(t.aval) if type(t) is Zero else t


def _shape(x):
    return get_aval(x).shape


def _bcast(t, shape):
    """A rank-0 tangent broadcast to `shape` (scalar operands of elementwise ops)."""
    if type(t) is Zero:
        return Zero(t.aval.update(shape=shape)) if t.aval.shape != shape else t
    if _shape(t) != tuple(shape):
        return P.broadcast_in_dim(t, shape, ())
    return t


def _c(x, v):
    """The constant v in the dtype of x (a weak Python scalar where that is exact)."""
    dt = get_aval(x).dtype
    if dt == dtypes.default_float():
        return float(v)
    if dt == dtypes.default_complex():
        return complex(v)
    return np.asarray(v, dt)[()]


def _full(x, v, shape=None):
    """The constant v in the dtype of x, broadcast to `shape` (x's shape by default).

    Rules build their zeros and ones with this, never as `x * 0` or `x * 0 + 1`: those are
    NaN where x is +-inf or NaN, and the NaN leaks through any select that uses them."""
    a = get_aval(x)
    shape = a.shape if shape is None else tuple(shape)
    return P.broadcast_in_dim_p.bind(np.asarray(v, a.dtype)[()], shape=shape, broadcast_dimensions=())


def add_tangents(a, b):
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    return P.add(a, b)


# ----------------------------------------------------------------------------- the trace
class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return get_aval(self.primal)

    def to_concrete_value(self):
        p = self.primal
        if isinstance(p, Tracer):
            return p.to_concrete_value()
        return p

    def _repr(self, text):
        # as JAX prints them: under jvp both values, under grad/vjp/linearize (whose tangents
        # are staged) the primal and the tangent's type
        if self._trace.linearizing:
            t = self.tangent
            ta = t.aval if type(t) is Zero else get_aval(t)
            return f"GradTracer(primal={self.primal}, typeof(tangent)={ta.str_short()})"
        return f"JVPTracer(primal={self.primal}, tangent={self.tangent})"


class JVPTrace(Trace):
    """Pushes tangents forward; `tag` names the differentiation (the trace's identity
    is what keeps nested derivatives from confusing their perturbations)."""
    _tags = itertools.count()
    linearizing = False   # True for linearize's (grad's) trace: its tracers print as GradTracer

    def __init__(self, parent, tag=None):
        super().__init__(parent)
        self.tag = next(self._tags) if tag is None else tag

    def to_primal_tangent(self, x):
        if isinstance(x, JVPTracer) and x._trace is self:
            return x.primal, x.tangent
        if isinstance(x, Tracer):
            self.check_alive_tracer(x)
        return x, Zero(tangent_aval(get_aval(x)))

    def new(self, primal, tangent):
        if type(tangent) is Zero:
            return primal
        return JVPTracer(self, primal, tangent)

    def process_primitive(self, prim, args, params):
        primals, tangents = [], []
        nonzero = False
        for x in args:
            if isinstance(x, JVPTracer) and x._trace is self:
                primals.append(x.primal)
                tangents.append(x.tangent)
                nonzero = True
            else:
                if isinstance(x, Tracer):
                    self.check_alive_tracer(x)
                primals.append(x)
                tangents.append(None)
        if not nonzero:
            with set_current_trace(self.parent):
                return prim.bind(*primals, **params)
        tangents = [Zero(tangent_aval(get_aval(p))) if t is None else t for t, p in zip(tangents, primals)]
        rule = jvp_rules.get(prim)
        if rule is None:
            if prim in P.non_differentiable:
                with set_current_trace(self.parent):
                    return prim.bind(*primals, **params)
            raise NotImplementedError(f"Differentiation rule for '{prim.name}' not implemented "
                                      f"(at {core.user_site()})")
        with set_current_trace(self.parent):
            out, tout = rule(primals, tangents, **params)
        if prim.multiple_results:
            return [self.new(p, t) for p, t in zip(out, tout)]
        return self.new(out, tout)


# ----------------------------------------------------------------------------- rule helpers
def _linear(prim):
    """Rule of a primitive linear in all its (differentiable) operands: apply it to tangents."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        return out, prim.bind(*map(instantiate, tangents), **params)
    jvp_rules[prim] = rule


def _linear_first(prim):
    """Linear in the first operand; the others (indices, sizes) are not differentiated."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        t = tangents[0]
        if type(t) is Zero:
            return out, Zero(tangent_aval(get_aval(out)))
        return out, prim.bind(t, *primals[1:], **params)
    jvp_rules[prim] = rule


def _zero_rule(prim):
    """Piecewise-constant functions: the derivative is zero where it exists."""
    def rule(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        return out, Zero(tangent_aval(get_aval(out)))
    jvp_rules[prim] = rule


def _unary(prim, tangent_fn):
    """tangent_fn(t, x, y) gives the output tangent from the input tangent t, the
    input x and the output y."""
    def rule(primals, tangents, **params):
        x, = primals
        t, = tangents
        y = prim.bind(x, **params)
        return y, tangent_fn(t, x, y)
    jvp_rules[prim] = rule


# ----------------------------------------------------------------------------- elementwise unary
_unary(P.neg_p, lambda t, x, y: P.neg(t))
for _p in (P.sign_p, P.floor_p, P.ceil_p, P.round_p):
    _zero_rule(_p)
_unary(P.exp_p, lambda t, x, y: P.mul(t, y))
_unary(P.exp2_p, lambda t, x, y: P.mul(t, P.mul(_c(x, math.log(2.0)), y)))
_unary(P.log_p, lambda t, x, y: P.div(t, x))
_unary(P.log1p_p, lambda t, x, y: P.div(t, P.add(x, _c(x, 1))))
_unary(P.expm1_p, lambda t, x, y: P.mul(t, P.add(y, _c(y, 1))))
_unary(P.tanh_p, lambda t, x, y: P.mul(P.add(t, P.mul(t, y)), P.sub(_c(y, 1), y)))
_unary(P.logistic_p, lambda t, x, y: P.mul(t, P.mul(y, P.sub(_c(y, 1), y))))
_unary(P.sin_p, lambda t, x, y: P.mul(t, P.cos(x)))
_unary(P.cos_p, lambda t, x, y: P.neg(P.mul(t, P.sin(x))))
_unary(P.tan_p, lambda t, x, y: P.mul(t, P.add(_c(y, 1), P.square(y))))
_unary(P.asin_p, lambda t, x, y: P.mul(t, P.rsqrt(P.sub(_c(x, 1), P.square(x)))))
_unary(P.acos_p, lambda t, x, y: P.neg(P.mul(t, P.rsqrt(P.sub(_c(x, 1), P.square(x))))))
_unary(P.atan_p, lambda t, x, y: P.div(t, P.add(_c(x, 1), P.square(x))))
_unary(P.sinh_p, lambda t, x, y: P.mul(t, P.cosh(x)))
_unary(P.cosh_p, lambda t, x, y: P.mul(t, P.sinh(x)))
_unary(P.asinh_p, lambda t, x, y: P.mul(t, P.rsqrt(P.add(P.square(x), _c(x, 1)))))
# rsqrt(x^2 - 1) as JAX: at x = -1 it is +inf ((x - 1)(x + 1) is -0 there, giving -inf)
_unary(P.acosh_p, lambda t, x, y: P.mul(t, P.rsqrt(P.sub(P.square(x), _c(x, 1)))))
_unary(P.atanh_p, lambda t, x, y: P.div(P.div(t, P.sub(_c(x, 1), x)), P.add(_c(x, 1), x)))
_unary(P.sqrt_p, lambda t, x, y: P.mul(t, P.div(_c(y, 0.5), y)))
_unary(P.rsqrt_p, lambda t, x, y: P.mul(t, P.mul(_c(x, -0.5), P.div(y, x))))
_unary(P.cbrt_p, lambda t, x, y: P.mul(t, P.mul(_c(x, 1 / 3), P.integer_pow(y, -2))))
_unary(P.square_p, lambda t, x, y: P.mul(t, P.mul(_c(x, 2), x)))
_unary(P.erf_p, lambda t, x, y: P.mul(t, P.mul(_c(x, 2 / math.sqrt(math.pi)), P.exp(P.neg(P.square(x))))))
_unary(P.erf_inv_p, lambda t, x, y: P.mul(t, P.mul(_c(x, math.sqrt(math.pi) / 2), P.exp(P.square(y)))))
_unary(P.lgamma_p, lambda t, x, y: P.mul(t, P.digamma(x)))
for _p in (P.real_p, P.imag_p, P.conj_p, P.copy_p):
    _linear(_p)


# digamma's derivative, polygamma(1, x), is registered with the special-function family
# (transforms/rules_special.py), which owns the polygamma primitive.


def _abs_tangent(t, x, y):
    if dtypes.is_complex(get_aval(x).dtype):
        # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0
        safe = P.select(P.eq(y, _c(y, 0)), _full(y, 1), y)
        return P.real(P.mul(t, P.div(P.conj(x), P.convert_element_type(safe, get_aval(x).dtype))))
    # as JAX: the derivative at 0 is +1
    return P.select(P.ge(x, _c(x, 0)), t, P.neg(t))


_unary(P.abs_p, lambda t, x, y: _abs_tangent(_bcast(t, _shape(x)), x, y))


def _integer_pow_tangent(t, x, y, *, n):
    if n == 0:
        return Zero(tangent_aval(get_aval(y)))
    if n == 1:
        return t
    if n == 2:
        return P.mul(t, P.mul(_c(x, 2), x))
    return P.mul(t, P.mul(_c(x, n), P.integer_pow(x, n - 1)))


def _integer_pow_rule(primals, tangents, *, y):
    x, = primals
    out = P.integer_pow(x, y)
    return out, _integer_pow_tangent(tangents[0], x, out, n=y)


jvp_rules[P.integer_pow_p] = _integer_pow_rule


# ----------------------------------------------------------------------------- elementwise binary
def _binary(prim, dx, dy):
    """dx(t, x, y, out) / dy(t, x, y, out): the output tangent from one operand's tangent."""
    def rule(primals, tangents, **params):
        x, y = primals
        tx, ty = tangents
        out = prim.bind(x, y, **params)
        shape = _shape(out)
        t = Zero(tangent_aval(get_aval(out)))
        if type(tx) is not Zero:
            t = add_tangents(t, _bcast(dx(tx, x, y, out), shape))
        if type(ty) is not Zero:
            t = add_tangents(t, _bcast(dy(ty, x, y, out), shape))
        return out, t
    jvp_rules[prim] = rule


_binary(P.add_p, lambda t, x, y, o: t, lambda t, x, y, o: t)
_binary(P.sub_p, lambda t, x, y, o: t, lambda t, x, y, o: P.neg(t))
_binary(P.mul_p, lambda t, x, y, o: P.mul(t, y), lambda t, x, y, o: P.mul(x, t))
_binary(P.div_p, lambda t, x, y, o: P.div(t, y),
        lambda t, x, y, o: P.mul(P.mul(P.neg(t), x), P.integer_pow(y, -2)))


def _rem_dy(t, x, y, o):
    q = P.div(x, y)
    return P.mul(P.neg(t), P.mul(P.sign(q), P.floor(P.abs(q))))


_binary(P.rem_p, lambda t, x, y, o: t, _rem_dy)


def _pow_dx(t, x, y, o):
    ya = get_aval(y)
    if dtypes.is_int(ya.dtype):
        # an integer exponent: x ** 0 is the constant 1, so its derivative is 0 everywhere
        # (also at x = 0, +-inf, NaN), as JAX
        shape = _shape(o)
        yb = _bcast(y, shape)
        yf = P.convert_element_type(yb, get_aval(x).dtype)
        jac = P.select(P.eq(yb, np.zeros((), ya.dtype)[()]), _full(x, 0, shape),
                       P.mul(yf, P.pow(_bcast(x, shape), P.sub(yb, np.ones((), ya.dtype)[()]))))
    else:
        # a float exponent: y * x ** (y - 1) with no guard, as JAX (NaN at (0, 0), 0 at (inf, 0))
        jac = P.mul(y, P.pow(x, P.sub(y, _c(y, 1))))
    return P.mul(t, jac)


def _pow_dy(t, x, y, o):
    safe_x = P.select(P.eq(x, _c(x, 0)), _full(x, 1), x)
    return P.mul(t, P.mul(P.log(safe_x), o))


_binary(P.pow_p, _pow_dx, _pow_dy)


def _balanced_eq(x, z, y):
    """1 where x == z != y, 1/2 where x == z == y, 0 elsewhere (ties split like JAX)."""
    shape = _shape(z)
    one, half, zero = _full(z, 1), _full(z, 0.5), _full(z, 0)
    return P.select(P.eq(_bcast(x, shape), z), P.select(P.eq(_bcast(y, shape), z), half, one), zero)


_binary(P.max_p, lambda t, x, y, o: P.mul(_bcast(t, _shape(o)), _balanced_eq(x, o, y)),
        lambda t, x, y, o: P.mul(_bcast(t, _shape(o)), _balanced_eq(y, o, x)))
_binary(P.min_p, lambda t, x, y, o: P.mul(_bcast(t, _shape(o)), _balanced_eq(x, o, y)),
        lambda t, x, y, o: P.mul(_bcast(t, _shape(o)), _balanced_eq(y, o, x)))
_binary(P.atan2_p,
        lambda t, x, y, o: P.mul(t, P.div(y, P.add(P.square(x), P.square(y)))),
        lambda t, x, y, o: P.mul(t, P.div(P.neg(x), P.add(P.square(x), P.square(y)))))


def _complex_rule(primals, tangents):
    x, y = primals
    out = P.complex(x, y)
    tx, ty = tangents
    shape = _shape(out)
    tx = _bcast(instantiate(tx), shape) if type(tx) is not Zero else zeros(tangent_aval(get_aval(x)).update(shape=shape))
    ty = _bcast(instantiate(ty), shape) if type(ty) is not Zero else zeros(tangent_aval(get_aval(y)).update(shape=shape))
    return out, P.complex(tx, ty)


jvp_rules[P.complex_p] = _complex_rule


# ----------------------------------------------------------------------------- select, clamp, convert
def _select_n_rule(primals, tangents):
    which, *cases = primals
    out = P.select_n(which, *cases)
    if all(type(t) is Zero for t in tangents[1:]):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, P.select_n(which, *map(instantiate, tangents[1:]))


jvp_rules[P.select_n_p] = _select_n_rule


def _clamp_rule(primals, tangents):
    lo, x, hi = primals
    tlo, tx, thi = tangents
    out = P.clamp(lo, x, hi)
    shape = _shape(out)
    zero = _full(x, 0, shape)
    t = Zero(tangent_aval(get_aval(out)))
    if type(tlo) is not Zero:
        t = add_tangents(t, P.select(P.and_p.bind(P.gt(lo, x), P.lt(lo, hi)), _bcast(tlo, shape), zero))
    if type(tx) is not Zero:
        t = add_tangents(t, P.select(P.and_p.bind(P.gt(x, lo), P.lt(x, hi)), tx, zero))
    if type(thi) is not Zero:
        t = add_tangents(t, P.select(P.lt(hi, x), _bcast(thi, shape), zero))
    return out, t


jvp_rules[P.clamp_p] = _clamp_rule


def _convert_rule(primals, tangents, *, new_dtype, weak_type=False, sharding=None):
    x, = primals
    t, = tangents
    out = P.convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if type(t) is Zero or not dtypes.is_inexact(new_dtype):
        return out, Zero(tangent_aval(get_aval(out)))
    return out, P.convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type)


jvp_rules[P.convert_element_type_p] = _convert_rule

# ----------------------------------------------------------------------------- structural (linear)
for _p in (P.broadcast_in_dim_p, P.reshape_p, P.transpose_p, P.squeeze_p, P.rev_p, P.slice_p,
           P.reduce_sum_p, P.cumsum_p, P.dynamic_slice_p):
    _linear_first(_p)


def _gather_rule(primals, tangents, *, mode="fill", fill_value=None, **params):
    """Linear in the operand; out-of-bound places of mode="fill" get a zero tangent (the
    fill value is a constant), as JAX."""
    x, idx = primals
    out = P.gather_p.bind(x, idx, mode=mode, fill_value=fill_value, **params)
    t = tangents[0]
    if type(t) is Zero:
        return out, Zero(tangent_aval(get_aval(out)))
    return out, P.gather_p.bind(t, idx, mode=mode, fill_value=0 if mode == "fill" else fill_value, **params)


jvp_rules[P.gather_p] = _gather_rule
for _p in (P.concatenate_p, P.pad_p):
    _linear(_p)


def _dynamic_update_slice_rule(primals, tangents):
    x, u, *idx = primals   # the starts are already normalized: bind, never re-wrap negatives
    out = P.dynamic_update_slice_p.bind(x, u, *idx)
    tx, tu = tangents[:2]
    if type(tx) is Zero and type(tu) is Zero:
        return out, Zero(tangent_aval(get_aval(out)))
    return out, P.dynamic_update_slice_p.bind(instantiate(tx), instantiate(tu), *idx)


jvp_rules[P.dynamic_update_slice_p] = _dynamic_update_slice_rule


def _scatter_linear(prim):
    def rule(primals, tangents, **params):
        x, idx, u = primals
        out = prim.bind(x, idx, u, **params)
        tx, _, tu = tangents
        if type(tx) is Zero and type(tu) is Zero:
            return out, Zero(tangent_aval(get_aval(out)))
        return out, prim.bind(instantiate(tx), idx, instantiate(tu), **params)
    jvp_rules[prim] = rule


_scatter_linear(P.scatter_add_p)


def _scatter_rule(primals, tangents, **params):
    """scatter (overwrite) is linear in (operand, updates), but with repeated indices only
    the write that lands carries its tangent (as JAX): every update element gets an id,
    the ids are scattered like the updates, and an element's tangent counts where its id
    is the one read back; operand places that were written keep no tangent."""
    x, idx, u = primals
    out = P.scatter_p.bind(x, idx, u, **params)
    tx, _, tu = tangents
    if type(tx) is Zero and type(tu) is Zero:
        return out, Zero(tangent_aval(get_aval(out)))
    if params.get("unique_indices", False):
        return out, P.scatter_p.bind(instantiate(tx), idx, instantiate(tu), **params)
    xa, ua = get_aval(x), get_aval(u)
    idt = dtypes.int32 if ua.size < 2**31 - 1 else dtypes.int64
    ids = P.reshape(P.add(P.iota(idt, ua.size), np.ones((), idt)[()]), ua.shape)
    written = P.scatter_p.bind(P.broadcast_in_dim_p.bind(np.zeros((), idt)[()], shape=xa.shape,
                                                         broadcast_dimensions=()), idx, ids, **params)
    t = None
    if type(tx) is not Zero:
        t = P.select(P.eq(written, np.zeros((), idt)[()]), tx, zeros(tangent_aval(xa)))
    if type(tu) is not Zero:
        gdn, sizes = scatter_to_gather_dnums(params["dimension_numbers"], xa.shape, ua.shape)
        landed = P.eq(P.gather(written, idx, gdn, sizes, mode=params.get("mode", "fill"), fill_value=0,
                               indices_are_sorted=params.get("indices_are_sorted", False)), ids)
        tu = P.select(landed, tu, zeros(tangent_aval(ua)))
        t = P.scatter_add_p.bind(zeros(tangent_aval(xa)) if t is None else t, idx, tu, **params)
    return out, t


jvp_rules[P.scatter_p] = _scatter_rule


def scatter_to_gather_dnums(dn, operand_shape, updates_shape):
    """The gather that reads back the elements a scatter writes: (dimension_numbers, slice_sizes)."""
    gdn = P.GatherDimensionNumbers(
        offset_dims=tuple(dn.update_window_dims), collapsed_slice_dims=tuple(dn.inserted_window_dims),
        start_index_map=tuple(dn.scatter_dims_to_operand_dims),
        operand_batching_dims=tuple(dn.operand_batching_dims),
        start_indices_batching_dims=tuple(dn.scatter_indices_batching_dims))
    sizes, pos = [], 0
    for d in range(len(operand_shape)):
        if d in dn.inserted_window_dims or d in dn.operand_batching_dims:
            sizes.append(1)
        else:
            sizes.append(updates_shape[dn.update_window_dims[pos]])
            pos += 1
    return gdn, tuple(sizes)


def _gather_like(x, idx, params, updates_shape):
    gdn, sizes = scatter_to_gather_dnums(params["dimension_numbers"], _shape(x), updates_shape)
    return P.gather(x, idx, gdn, sizes, mode=params.get("mode", "fill"),
                    indices_are_sorted=params.get("indices_are_sorted", False),
                    unique_indices=params.get("unique_indices", False))


def _scatter_mul_rule(primals, tangents, **params):
    x, idx, u = primals
    tx, _, tu = tangents
    out = P.scatter_mul_p.bind(x, idx, u, **params)
    t = Zero(tangent_aval(get_aval(out)))
    if type(tx) is not Zero:
        t = P.scatter_mul_p.bind(tx, idx, u, **params)
    if type(tu) is not Zero:
        zero_x = _full(x, 0)
        if params.get("unique_indices", False):
            # out = x * u at the written places: d out = x * du there
            t = add_tangents(t, P.mul(x, P.scatter_add_p.bind(zero_x, idx, tu, **params)))
        else:
            # d out = sum_j du_j * x * prod_{k != j} u_k over the updates written to a place.
            # No out / u_j (NaN where u_j = 0): q = x * the product of the nonzero updates and
            # nz = how many updates there are 0; update j's factor is q / u_j where none is 0,
            # q where u_j is the only 0, and 0 otherwise.
            ua = get_aval(u)
            is0 = P.eq(u, _full(u, 0))
            safe = P.select(is0, _full(u, 1), u)
            q = P.scatter_mul_p.bind(x, idx, safe, **params)
            nz = P.scatter_add_p.bind(zero_x, idx, P.convert_element_type(is0, get_aval(x).dtype), **params)
            qg, nzg = _gather_like(q, idx, params, ua.shape), _gather_like(nz, idx, params, ua.shape)
            zu = _full(u, 0)
            coef = P.select(is0, P.select(P.eq(nzg, _full(u, 1)), qg, zu),
                            P.select(P.eq(nzg, zu), P.div(qg, safe), zu))
            t = add_tangents(t, P.scatter_add_p.bind(zero_x, idx, P.mul(coef, tu), **params))
    return out, t


jvp_rules[P.scatter_mul_p] = _scatter_mul_rule


def _scatter_extremal(prim):
    def rule(primals, tangents, **params):
        x, idx, u = primals
        tx, _, tu = tangents
        out = prim.bind(x, idx, u, **params)
        zx, zu = _full(x, 0), _full(u, 0)
        out_at_u = _gather_like(out, idx, params, _shape(u))
        from_u = P.select(P.eq(u, out_at_u), _full(u, 1), zu)
        # a place no update refers to keeps x's tangent, also where x is NaN (as JAX)
        refs = P.scatter_add_p.bind(zx, idx, _full(u, 1), **params)
        from_x = P.select(P.or_p.bind(P.eq(x, out), P.eq(refs, _c(x, 0))), _full(x, 1), zx)
        count = P.add(from_x, P.scatter_add_p.bind(zx, idx, from_u, **params))
        # a place that neither x nor an update attains (a NaN) gets tangent 0, as JAX
        count = P.select(P.eq(count, _c(x, 0)), _full(x, 1), count)
        num = Zero(tangent_aval(get_aval(out)))
        if type(tx) is not Zero:
            num = P.mul(tx, from_x)
        if type(tu) is not Zero:
            num = add_tangents(num, P.scatter_add_p.bind(zx, idx, P.mul(tu, from_u), **params))
        return out, P.div(num, count)
    jvp_rules[prim] = rule


_scatter_extremal(P.scatter_min_p)
_scatter_extremal(P.scatter_max_p)


# ----------------------------------------------------------------------------- reductions
def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _reduce_chooser(prim):
    def rule(primals, tangents, *, axes, **params):
        x, = primals
        t, = tangents
        out = prim.bind(x, axes=axes, **params)
        xa = get_aval(x)
        back = P.broadcast_in_dim(out, xa.shape, _kept_dims(xa.ndim, axes))
        hit = P.eq(x, back)
        counts = P.reduce_sum(P.select(hit, _full(x, 1), _full(x, 0)), axes)
        # the tangent is picked by a select, not multiplied by a 0/1 mask: its transpose then
        # gives exactly 0 where x is not the extremum even when cotangent/counts is inf (a NaN
        # extremum equals nothing, counts = 0). That is JAX's jitted gradient (0 at [nan, 1],
        # XLA turns its mask product into a select); JAX's eager one is NaN there.
        return out, P.div(P.reduce_sum(P.select(hit, t, _full(t, 0)), axes), counts)
    jvp_rules[prim] = rule


_reduce_chooser(P.reduce_max_p)
_reduce_chooser(P.reduce_min_p)


def _shift(x, k, axis, fill):
    """x shifted by k places along `axis` (toward higher indices), `fill` entering."""
    nd = get_aval(x).ndim
    cfg = [(0, 0, 0)] * nd
    cfg[axis] = (k, -k, 0)
    return P.pad(x, fill, cfg)


def _reduce_prod_rule(primals, tangents, *, axes, **params):
    x, = primals
    t, = tangents
    out = P.reduce_prod(x, axes)
    xa = get_aval(x)
    kept = _kept_dims(xa.ndim, axes)
    perm = kept + tuple(axes)
    n = int(np.prod([xa.shape[a] for a in axes], dtype=np.int64))
    lead = tuple(xa.shape[i] for i in kept)
    xr = P.reshape(P.transpose(x, perm), lead + (n,))
    tr = P.reshape(P.transpose(t, perm), lead + (n,))
    ax = len(lead)
    if n == 0:
        return out, Zero(tangent_aval(get_aval(out)))
    # product of all the others = exclusive cumprod from the left * from the right (no division)
    left = _shift(P.cumprod(xr, ax), 1, ax, _c(x, 1))
    right = P.rev(_shift(P.cumprod(P.rev(xr, (ax,)), ax), 1, ax, _c(x, 1)), (ax,))
    return out, P.reduce_sum(P.mul(tr, P.mul(left, right)), (ax,))


jvp_rules[P.reduce_prod_p] = _reduce_prod_rule


def _scan_step(prim):
    """One Hillis-Steele step (a, ta), (b, tb) -> combined, with b the shifted prefix."""
    if prim is P.cumprod_p:
        def step(a, ta, b, tb):
            return P.mul(a, b), P.add(P.mul(ta, b), P.mul(a, tb))
        return step, 1, 0
    if prim in (P.cummax_p, P.cummin_p):
        op = P.max if prim is P.cummax_p else P.min

        def step(a, ta, b, tb):
            o = op(a, b)
            return o, P.add(P.mul(ta, _balanced_eq(a, o, b)), P.mul(tb, _balanced_eq(b, o, a)))
        return step, (-np.inf if prim is P.cummax_p else np.inf), 0

    def step(a, ta, b, tb):  # logaddexp, with logaddexp's derivative (as jnp.logaddexp's)
        d = P.sub(a, b)
        o = P.select(P.ne(d, d), P.add(a, b), P.add(P.max(a, b), P.log1p(P.exp(P.neg(P.abs(d))))))
        return o, P.add(P.mul(ta, logaddexp_weight(a, o)), P.mul(tb, logaddexp_weight(b, o)))
    return step, -np.inf, 0


def logaddexp_weight(x, o, exp_prim=P.exp_p):
    """d logaddexp(x, y) / dx from x and the output o: exp(x - o) (exp2 for logaddexp2).

    Where o is +inf the weight is 1 for an x that is +inf too and 0 for any other x, and no
    inf - inf is ever formed (so no NaN reaches a discarded select branch, whose cotangent
    would turn it into NaN in reverse mode). JAX's rule swaps +inf for 0 before subtracting,
    which agrees except at a finite x against +inf, where it gives exp(x) (docs/differences.md).
    Where o is -inf (both operands -inf) the weight is NaN, as JAX's."""
    x = _bcast(x, _shape(o))  # a rank-0 operand of an elementwise call
    if dtypes.is_complex(get_aval(x).dtype):
        rx = P.select(P.eq(P.real(x), _c(P.real(x), np.inf)), _full(x, 0), x)
        ro = P.select(P.eq(P.real(o), _c(P.real(o), np.inf)), _full(o, 0), o)
        return exp_prim.bind(P.sub(rx, ro))
    inf_o = P.eq(o, _c(o, np.inf))
    ro = P.select(inf_o, _full(o, 0), o)
    rx = P.select(inf_o, P.select(P.eq(x, _c(x, np.inf)), _full(x, 0), _full(x, -np.inf)), x)
    return exp_prim.bind(P.sub(rx, ro))


def _slice_axis(x, start, stop, stride, axis):
    shape = _shape(x)
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, stop, stride
    return P.slice(x, starts, limits, strides)


def _interleave(ev, od, axis):
    """ev[0], od[0], ev[1], od[1], ... along `axis` (ev has as many or one more elements)."""
    shape = _shape(ev)
    ne, no = shape[axis], _shape(od)[axis]
    if ne == no + 1:
        cfg = [(0, 0, 0)] * len(shape)
        cfg[axis] = (0, 1, 0)
        od = P.pad(od, _c(od, 0), cfg)
    sub = tuple(shape[:axis + 1]) + (1,) + tuple(shape[axis + 1:])
    both = P.concatenate([P.reshape(ev, sub), P.reshape(od, sub)], axis + 1)
    merged = P.reshape(both, tuple(shape[:axis]) + (2 * ne,) + tuple(shape[axis + 1:]))
    return _slice_axis(merged, 0, ne + no, 1, axis) if ne == no + 1 else merged


def _odd_even_scan(step, a, ta, axis):
    """Inclusive prefix scan of the pairs (a, ta) along `axis` by the odd-even recursion:
    combine neighbouring pairs, scan the half-length result (the odd places), then fill in
    the even places from it. step(earlier, t_earlier, later, t_later) combines two pairs.
    This is the combination tree JAX's associative scan uses, so ties split the same way."""
    n = _shape(a)[axis]
    if n < 2:
        return a, ta
    r, tr = step(_slice_axis(a, 0, n - 1, 2, axis), _slice_axis(ta, 0, n - 1, 2, axis),
                 _slice_axis(a, 1, n, 2, axis), _slice_axis(ta, 1, n, 2, axis))
    od, tod = _odd_even_scan(step, r, tr, axis)
    m = _shape(od)[axis]
    if n % 2 == 0:
        pe, tpe = _slice_axis(od, 0, m - 1, 1, axis), _slice_axis(tod, 0, m - 1, 1, axis)
    else:
        pe, tpe = od, tod
    ev, tev = step(pe, tpe, _slice_axis(a, 2, n, 2, axis), _slice_axis(ta, 2, n, 2, axis))
    ev = P.concatenate([_slice_axis(a, 0, 1, 1, axis), ev], axis)
    tev = P.concatenate([_slice_axis(ta, 0, 1, 1, axis), tev], axis)
    return _interleave(ev, od, axis), _interleave(tev, tod, axis)


def _cumulative_rule(prim):
    def rule(primals, tangents, *, axis, reverse=False):
        x, = primals
        t, = tangents
        out = prim.bind(x, axis=axis, reverse=reverse)
        xa = get_aval(x)
        if xa.ndim == 0:
            return out, t
        step, _, _ = _scan_step(prim)
        a, ta = (P.rev(x, (axis,)), P.rev(t, (axis,))) if reverse else (x, t)
        _, ta = _odd_even_scan(step, a, instantiate(ta), axis)
        return out, (P.rev(ta, (axis,)) if reverse else ta)
    jvp_rules[prim] = rule


for _p in (P.cumprod_p, P.cummax_p, P.cummin_p, P.cumlogsumexp_p):
    _cumulative_rule(_p)


# ----------------------------------------------------------------------------- products, sort
def _dot_general_rule(primals, tangents, **params):
    x, y = primals
    tx, ty = tangents
    out = P.dot_general_p.bind(x, y, **params)
    t = Zero(tangent_aval(get_aval(out)))
    if type(tx) is not Zero:
        t = P.dot_general_p.bind(tx, y, **params)
    if type(ty) is not Zero:
        t = add_tangents(t, P.dot_general_p.bind(x, ty, **params))
    return out, t


jvp_rules[P.dot_general_p] = _dot_general_rule


def take_along(x, perm, axis):
    """x[..., perm, ...] elementwise along `axis` (a gather with full coordinates)."""
    shape = _shape(x)
    nd = len(shape)
    cols = []
    for d in range(nd):
        c = perm if d == axis else P.broadcasted_iota(get_aval(perm).dtype, shape, d)
        cols.append(P.reshape(c, shape + (1,)))
    idx = P.concatenate(cols, nd)
    dn = P.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=tuple(range(nd)),
                                  start_index_map=tuple(range(nd)))
    return P.gather(x, idx, dn, (1,) * nd, mode="promise_in_bounds")


def _sort_rule(primals, tangents, *, dimension, is_stable, num_keys):
    shape = _shape(primals[0])
    if not shape or 0 in shape:   # nothing to permute (a gather from an empty array is invalid)
        return P.sort_p.bind(*primals, dimension=dimension, is_stable=is_stable, num_keys=num_keys), tangents
    iota = P.broadcasted_iota(dtypes.int32, shape, dimension)
    outs = P.sort_p.bind(*primals, iota, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    perm = outs[-1]
    touts = [t if type(t) is Zero else take_along(t, perm, dimension) for t in tangents]
    return list(outs[:-1]), touts


jvp_rules[P.sort_p] = _sort_rule


# ----------------------------------------------------------------------------- jit: differentiate the graph
_jvp_graph_cache: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def jvp_graph(graph: core.Graph, nonzero: tuple):
    """The graph (primals..., nonzero tangents...) -> (primal outs..., nonzero tangent outs...),
    and which output tangents are nonzero. Cached per (graph, nonzero)."""
    per = _jvp_graph_cache.get(graph)
    if per is None:
        per = _jvp_graph_cache[graph] = {}
    hit = per.get(nonzero)
    if hit is not None:
        return hit
    in_avals = list(graph.in_avals) + [tangent_aval(a) for a, nz in zip(graph.in_avals, nonzero) if nz]
    n = len(graph.invars)
    box = []

    def fn(*args):
        primals, tans = args[:n], iter(args[n:])
        jt = JVPTrace(core.ctx.trace)
        with core.new_trace(jt):
            ins = [JVPTracer(jt, p, next(tans)) if nz else p for p, nz in zip(primals, nonzero)]
            outs = core.eval_graph(graph, [], ins)
            pt = [jt.to_primal_tangent(o) for o in outs]
        out_nz = tuple(type(t) is not Zero for _, t in pt)
        box.append(out_nz)
        return [p for p, _ in pt] + [t for _, t in pt if type(t) is not Zero]

    closed = core.trace_to_graph(fn, in_avals)
    from xlafront.transforms.dce import dce_graph
    g = closed.graph
    hoisted = core.Graph([], g.constvars + g.invars, g.eqns, g.outvars)
    hoisted = dce_graph(hoisted, keep_invars=True)
    hit = (hoisted, closed.consts, box[0])
    per[nonzero] = hit
    return hit


def _jit_rule(primals, tangents, *, graph, name, **params):
    nonzero = tuple(type(t) is not Zero for t in tangents)
    g = graph.graph if isinstance(graph, core.ClosedGraph) else graph
    new, consts, out_nz = jvp_graph(g, nonzero)
    args = [*consts, *primals, *[t for t in tangents if type(t) is not Zero]]
    outs = P.jit_p.bind(*args, graph=new, name=f"jvp({name})" if not name.startswith("jvp(") else name)
    n = len(g.outvars)
    primal_outs, tans = outs[:n], iter(outs[n:])
    touts = [next(tans) if nz else Zero(tangent_aval(a)) for nz, a in zip(out_nz, g.out_avals)]
    return primal_outs, touts


jvp_rules[P.jit_p] = _jit_rule


def jvp_flat(fun, primals, tangents):
    """Run fun(*primals) while pushing `tangents` forward; returns (primal outs, tangent outs)
    (tangents may be Zero, and so may the results)."""
    jt = JVPTrace(core.ctx.trace)
    with core.new_trace(jt):
        ins = [jt.new(p, t) for p, t in zip(primals, tangents)]
        outs = fun(*ins)
        pt = [jt.to_primal_tangent(o) for o in outs]
    return [p for p, _ in pt], [t for _, t in pt]
