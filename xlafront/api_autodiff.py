"""Public autodiff API with JAX's signatures: jvp, linearize, vjp, grad, value_and_grad,
jacfwd, jacrev, jacobian, hessian, stop_gradient, custom_jvp, custom_vjp, checkpoint.

The machinery lives in transforms/ (jvp.py, partial_eval.py, transpose.py, dce.py);
this module handles pytrees, argument checking and the staging of `grad`: a gradient
is traced once into a graph per (function, signature), dead forward work is removed,
and the graph is compiled (called eagerly) or inlined (called under another trace).
"""
from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import Callable, Sequence

import numpy as np

from xlafront import core, dtypes, tree_util, dispatch, _debug_nans
from xlafront import primitives as P
from xlafront.array import ArrayImpl, make_array
from xlafront.config import config
from xlafront.core import Tracer, get_aval, set_current_trace
from xlafront.transforms import jvp as J
from xlafront.transforms import partial_eval as PE
from xlafront.transforms import transpose as T
from xlafront.transforms.dce import dce_closed
from xlafront.lowering.rules import lowering_rules

__all__ = ["jvp", "linearize", "vjp", "grad", "value_and_grad", "jacfwd", "jacrev", "jacobian",
           "hessian", "stop_gradient", "custom_jvp", "custom_vjp", "checkpoint", "remat",
           "linear_transpose", "closure_convert", "checkpoint_policies"]

_flatten = tree_util.registry.flatten
_float0 = dtypes.float0
_concretization_errors = (core.ConcretizationTypeError, core.TracerIntegerConversionError,
                          core.TracerArrayConversionError)


class ArgnumsError(ValueError, TypeError):
    """argnums out of range (a ValueError; JAX raises a TypeError, so it is both)."""


# ----------------------------------------------------------------------------- helpers
def _fun_name(f):
    return getattr(f, "__name__", type(f).__name__)


def _check_callable(fun, who):
    if not callable(fun):
        raise TypeError(f"{who} requires a callable argument, got {type(fun).__name__} ({fun!r}) "
                        f"(at {core.user_site()})")


def _leaf_aval(x, who):
    try:
        return get_aval(x)
    except TypeError:
        raise TypeError(f"{who}: argument {x!r} of type {type(x).__name__} is not a valid xlafront "
                        f"type (arrays, numpy arrays, Python scalars and pytrees of them are) "
                        f"(at {core.user_site()})") from None


def _materialize(x):
    """An output value as an Array (Python scalars and numpy values are placed on the device)."""
    if type(x) is ArrayImpl or isinstance(x, Tracer):
        return x
    if isinstance(x, np.ndarray) and x.dtype == _float0:
        return x
    buf, aval = dispatch.to_buffer(x)
    return make_array(buf, aval)


def _zeros_value(aval):
    """Concrete (or traced) zeros of a tangent aval; float0 as a numpy array like JAX."""
    if aval.dtype == _float0:
        return np.zeros(aval.shape, _float0)
    return _materialize(_cast(J.zeros(aval), aval))


def _instantiate_out(t, aval):
    return _zeros_value(aval) if type(t) is J.Zero else _materialize(t)


def _cast(x, aval):
    """x with `aval`'s dtype and weak type (gradients come back typed like their input)."""
    if aval.dtype == _float0:
        return x
    xa = get_aval(x)
    if xa.dtype != aval.dtype or xa.weak_type != aval.weak_type:
        return P.convert_element_type_p.bind(x, new_dtype=aval.dtype, weak_type=aval.weak_type)
    return x


def _seed(aval):
    """The cotangent 1 for an output of `aval`."""
    dt = aval.dtype
    if dt == dtypes.default_float():
        one = 1.0
    elif dt == dtypes.default_complex():
        one = 1.0 + 0j
    else:
        one = np.ones((), dt)[()]
    return one if not aval.shape else P.broadcast_in_dim(one, aval.shape, ())


def _aux_pair(out, who):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{who} with has_aux=True expects the function to return a pair "
                        f"(output, auxiliary data), but it returned a value of type "
                        f"{type(out).__name__}: {out!r} (at {core.user_site()})")
    return out


def _tangent_dtype_ok(primal_aval, t_aval):
    if primal_aval.dtype in (dtypes.bool_,) or dtypes.is_int(primal_aval.dtype):
        return t_aval.dtype == _float0
    return t_aval.dtype == primal_aval.dtype


# ----------------------------------------------------------------------------- jvp, linearize
def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """(fun(*primals), d fun(primals) . tangents): forward-mode Jacobian-vector product."""
    _check_callable(fun, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"primal and tangent arguments to jvp must be tuples or lists; found "
                        f"{type(primals).__name__} and {type(tangents).__name__} (at {core.user_site()})")
    p_leaves, p_tree = _flatten(tuple(primals))
    t_leaves, t_tree = _flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TypeError(f"primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {p_tree} whereas tangents have tree structure "
                        f"{t_tree} (at {core.user_site()})")
    tans = []
    for p, t in zip(p_leaves, t_leaves):
        pa, ta = _leaf_aval(p, "jvp"), _leaf_aval(t, "jvp")
        if pa.shape != ta.shape:
            raise ValueError(f"jvp called with different primal and tangent shapes; got primal shape "
                             f"{pa.shape} and tangent shape {ta.shape} (at {core.user_site()})")
        if not _tangent_dtype_ok(pa, ta) and not (ta.weak_type and dtypes.is_inexact(pa.dtype)):
            raise TypeError(f"primal and tangent arguments to jvp do not match; dtypes must be equal, "
                            f"or in case of int/bool primal dtype the tangent dtype must be float0. "
                            f"Got primal dtype {pa.dtype.name} and so expected tangent dtype "
                            f"{J.tangent_aval(pa).dtype.name}, but got tangent dtype {ta.dtype.name} "
                            f"instead (at {core.user_site()})")
        tans.append(J.Zero(J.tangent_aval(pa)) if ta.dtype == _float0 else t)
    box = []

    def flat(*leaves):
        out = fun(*p_tree.unflatten(leaves))
        if has_aux:
            out, aux = _aux_pair(out, "jvp")
            aux_leaves, aux_tree = _flatten(aux)
        else:
            aux_leaves, aux_tree = [], None
        out_leaves, out_tree = _flatten(out)
        box.append((out_tree, aux_tree, len(out_leaves)))
        return out_leaves + aux_leaves

    outs, touts = J.jvp_flat(flat, p_leaves, tans)
    out_tree, aux_tree, n = box[0]
    primal_out = out_tree.unflatten([_materialize(o) for o in outs[:n]])
    tangent_out = out_tree.unflatten([_instantiate_out(t, J.tangent_aval(get_aval(o)))
                                      for t, o in zip(touts[:n], outs[:n])])
    if has_aux:
        return primal_out, tangent_out, aux_tree.unflatten([_materialize(a) for a in outs[n:]])
    return primal_out, tangent_out


def _linearize_tree(fun, primals, has_aux, who):
    p_leaves, p_tree = _flatten(tuple(primals))
    for p in p_leaves:
        _leaf_aval(p, who)
    box = []

    def flat(*leaves):
        out = fun(*p_tree.unflatten(leaves))
        if has_aux:
            out, aux = _aux_pair(out, who)
            aux_leaves, aux_tree = _flatten(aux)
        else:
            aux_leaves, aux_tree = [], None
        out_leaves, out_tree = _flatten(out)
        box.append((out_tree, aux_tree, len(out_leaves)))
        return out_leaves + aux_leaves

    outs, lin = PE.linearize_flat(flat, p_leaves)
    out_tree, aux_tree, n = box[0]
    return p_leaves, p_tree, outs, lin, out_tree, aux_tree, n


def linearize(fun: Callable, *primals, has_aux: bool = False):
    """(fun(*primals), f_jvp) where f_jvp(*tangents) is the linear map, evaluated from a
    staged linear graph (the primal computation is not redone)."""
    _check_callable(fun, "linearize")
    p_leaves, p_tree, outs, lin, out_tree, aux_tree, n = _linearize_tree(fun, primals, has_aux, "linearize")
    in_avals = [get_aval(p) for p in p_leaves]
    out_avals = [J.tangent_aval(get_aval(o)) for o in outs[:n]]

    def f_jvp(*tangents):
        t_leaves, t_tree = _flatten(tuple(tangents))
        if t_tree != p_tree:
            raise TypeError(f"linearized function called with tangents of tree structure {t_tree}, "
                            f"expected {p_tree} (at {core.user_site()})")
        for t, a in zip(t_leaves, in_avals):
            ta = _leaf_aval(t, "linearize")
            if ta.shape != a.shape:
                raise ValueError(f"linearized function called with tangent of shape {ta.shape}, "
                                 f"expected {a.shape} (at {core.user_site()})")
        touts = lin(*[t if J.tangent_aval(a).dtype != _float0 else J.Zero(J.tangent_aval(a))
                      for t, a in zip(t_leaves, in_avals)])
        return out_tree.unflatten([_instantiate_out(t, a) for t, a in zip(touts[:n], out_avals)])

    primal_out = out_tree.unflatten([_materialize(o) for o in outs[:n]])
    if has_aux:
        return primal_out, f_jvp, aux_tree.unflatten([_materialize(a) for a in outs[n:]])
    return primal_out, f_jvp


# ----------------------------------------------------------------------------- vjp
class _VJPFunction:
    """The pullback returned by vjp: cotangents of the outputs -> cotangents of the inputs."""

    def __init__(self, lin, in_tree, in_avals, out_tree, out_avals, name):
        self.lin, self.in_tree, self.in_avals = lin, in_tree, in_avals
        self.out_tree, self.out_avals, self.name = out_tree, out_avals, name

    def __call__(self, *cts_args):
        if len(cts_args) != 1:
            raise TypeError(f"The function returned by vjp takes one positional argument (the "
                            f"cotangent of the output), got {len(cts_args)} (at {core.user_site()})")
        ct_leaves, ct_tree = _flatten(cts_args[0])
        if ct_tree != self.out_tree:
            raise ValueError(f"unexpected tree structure of the cotangent passed to the VJP function "
                             f"of {self.name}: expected {self.out_tree} (the structure of its output), "
                             f"got {ct_tree} (at {core.user_site()})")
        cts = []
        for ct, a in zip(ct_leaves, self.out_avals):
            ca = _leaf_aval(ct, "vjp")
            ta = J.tangent_aval(a)
            ok_dtype = ca.dtype == ta.dtype or (ca.weak_type and dtypes.is_inexact(ta.dtype)
                                                and type(ct) in (int, float, complex))
            if ca.shape != a.shape or not ok_dtype:
                raise ValueError(f"unexpected type of the cotangent passed to the VJP function of "
                                 f"{self.name}: got {ca.str_short()}, but expected {ta.str_short()} because "
                                 f"the corresponding output of the differentiated function had type "
                                 f"{a.str_short()} (at {core.user_site()})")
            if ta.dtype == _float0:
                cts.append(J.Zero(ta))
            elif type(ct) in (int, float, complex) or ca.dtype != ta.dtype:
                cts.append(P.convert_element_type(np.asarray(ct, ta.dtype)[()] if type(ct) in (int, float, complex)
                                                  else ct, ta.dtype))
            else:
                cts.append(ct)
        cts_in = T.vjp_of_linear(self.lin, cts)
        res = [_cast(_instantiate_out(c, J.tangent_aval(a)), a) for c, a in zip(cts_in, self.in_avals)]
        return tuple(self.in_tree.unflatten(res))


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """(fun(*primals), vjp_fun) where vjp_fun(cotangent) gives a tuple with one cotangent per
    primal argument: reverse mode, by transposing the linearization."""
    _check_callable(fun, "vjp")
    p_leaves, p_tree, outs, lin, out_tree, aux_tree, n = _linearize_tree(fun, primals, has_aux, "vjp")
    in_avals = [get_aval(p) for p in p_leaves]
    out_avals = [get_aval(o) for o in outs[:n]]
    if has_aux:
        # the linear function's extra outputs (aux) get zero cotangents
        lin = _restrict_outputs(lin, n)
    f = _VJPFunction(lin, p_tree, in_avals, out_tree, out_avals, _fun_name(fun))
    primal_out = out_tree.unflatten([_materialize(o) for o in outs[:n]])
    if has_aux:
        return primal_out, f, aux_tree.unflatten([_materialize(a) for a in outs[n:]])
    return primal_out, f


def _restrict_outputs(lin, n):
    """The linear function with only its first n outputs."""
    g = lin.closed.graph
    nz_before = sum(1 for z in lin.out_zero[:n] if not z)
    keep = [i < nz_before for i in range(len(g.outvars))]
    closed = dce_closed(lin.closed, keep)
    return PE.LinearFunction(closed, lin.out_zero[:n], lin.in_avals, lin.out_avals[:n])


# ----------------------------------------------------------------------------- grad
def _check_grad_input(x, allow_int, holomorphic, who="grad"):
    """grad (and jacrev) take real or complex inputs: a real-valued function of complex
    inputs gets the vjp of the cotangent 1 (as JAX: grad |z|^2 = 2 conj(z)). jacfwd
    (complex_ok=False) takes real inputs unless holomorphic."""
    a = _leaf_aval(x, who)
    dt = a.dtype
    if holomorphic:
        if not dtypes.is_complex(dt):
            raise TypeError(f"{who} with holomorphic=True requires inputs with complex dtype, but got "
                            f"{dt.name} (at {core.user_site()})")
    elif dtypes.is_complex(dt) and who == "jacfwd":
        raise TypeError(f"jacfwd requires real-valued inputs (input dtype that is a sub-dtype of "
                        f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
                        f"holomorphic=True. For differentiation of non-holomorphic functions involving "
                        f"complex inputs or outputs, use jax.jvp directly (at {core.user_site()})")
    elif not dtypes.is_inexact(dt) and not allow_int:
        raise TypeError(f"{who} requires real- or complex-valued inputs (input dtype that is a "
                        f"sub-dtype of np.inexact), but got {dt.name}. If you want to use Boolean- or "
                        f"integer-valued inputs, use vjp or set allow_int to True "
                        f"(at {core.user_site()})")
    return a


def _check_grad_output(out, holomorphic, name):
    leaves, tree = _flatten(out)
    if len(leaves) != 1 or tree != _flatten(leaves[0])[1]:
        raise TypeError(f"Gradient only defined for scalar-output functions. Output of {name} was "
                        f"{out!r} (at {core.user_site()})")
    y = leaves[0]
    a = _leaf_aval(y, "grad")
    if a.shape != ():
        raise TypeError(f"Gradient only defined for scalar-output functions. Output of {name} had "
                        f"shape: {a.shape} (at {core.user_site()})")
    if holomorphic:
        if not dtypes.is_complex(a.dtype):
            raise TypeError(f"grad with holomorphic=True requires outputs with complex dtype, but got "
                            f"{a.dtype.name} (at {core.user_site()})")
    elif not dtypes.is_float(a.dtype):
        raise TypeError(f"grad requires real-valued outputs (output dtype that is a sub-dtype of "
                        f"np.floating), but got {a.dtype.name}. For holomorphic differentiation, pass "
                        f"holomorphic=True. For differentiation of non-holomorphic functions involving "
                        f"complex outputs, use vjp directly (at {core.user_site()})")
    return y


class _GradSpec:
    __slots__ = ("fun", "argnums", "has_aux", "holomorphic", "allow_int", "need_value", "name")

    def __init__(self, fun, argnums, has_aux, holomorphic, allow_int, need_value):
        self.fun, self.argnums, self.has_aux = fun, argnums, has_aux
        self.holomorphic, self.allow_int, self.need_value = holomorphic, allow_int, need_value
        self.name = _fun_name(fun)

    def key(self):
        return (self.argnums, self.has_aux, self.holomorphic, self.allow_int, self.need_value)


def _vg_flat(spec: _GradSpec, diff_leaves, diff_tree, rebuild):
    """value, aux leaves and gradient leaves of `spec.fun` at the current trace (no staging).

    rebuild(diff_values) -> (args, kwargs) for the call."""
    box = []

    def flat(*leaves):
        args, kwargs = rebuild(diff_tree.unflatten(leaves))
        out = spec.fun(*args, **kwargs)
        if spec.has_aux:
            out, aux = _aux_pair(out, "grad")
            aux_leaves, aux_tree = _flatten(aux)
        else:
            aux_leaves, aux_tree = [], None
        y = _check_grad_output(out, spec.holomorphic, spec.name)
        box.append(aux_tree)
        return [y] + aux_leaves

    outs, lin = PE.linearize_flat(flat, diff_leaves)
    y = outs[0]
    ya = get_aval(y)
    cts = [_seed(ya)] + [J.Zero(J.tangent_aval(get_aval(a))) for a in outs[1:]]
    cts_in = T.vjp_of_linear(lin, cts)
    grads = []
    for c, x in zip(cts_in, diff_leaves):
        a = get_aval(x)
        ta = J.tangent_aval(a)
        if ta.dtype == _float0:
            grads.append(np.zeros(a.shape, _float0))
        elif dtypes.is_complex(a.dtype) and not spec.holomorphic and type(c) is not J.Zero:
            # a real function's gradient for a complex input is strongly typed (as JAX's)
            grads.append(_cast(c, a.update(weak_type=False)))
        else:
            grads.append(_cast(J.instantiate(c) if type(c) is J.Zero else c, a))
    return y, outs[1:], box[0], grads


# Eager gradients are traced on every call (Python side effects and globals behave as
# in JAX), but the traced value-and-gradient graph is compiled once per structure:
# programs are keyed by the graph's structural fingerprint, with captured arrays
# passed as arguments, so a new closure over new arrays reuses the executable.
# A structure seen once runs op by op (one-shot gradients do not pay a compile).
_programs: dict = core.cache({})          # graph fingerprint -> CompiledProgram
_seen_once: set = core.cache(set())       # fingerprints seen once, not compiled yet
_CACHE_MAX = 512
_scalar_types = (int, float, bool, complex)


class _Staged:
    __slots__ = ("closed", "aux_tree", "float0_mask", "n_aux", "name")


def _split_args(spec, args, kwargs):
    """Leaves of (args, kwargs): (dyn leaves, static key, rebuild info), or None if some
    non-differentiated leaf can be neither traced nor hashed."""
    leaves, treedef = _flatten((tuple(args), kwargs))
    # which leaves belong to differentiated args
    diff_mask = []
    for i, a in enumerate(args):
        n = len(_flatten(a)[0])
        diff_mask += [i in spec.argnums] * n
    diff_mask += [False] * (len(leaves) - len(diff_mask))
    dyn, statics, kinds = [], [], []
    for x, d in zip(leaves, diff_mask):
        # arrays and floats are traced (a learning rate that changes must not re-trace);
        # ints, bools and other hashables are static (they may drive Python control flow)
        if d or type(x) in (float, complex) or isinstance(x, (ArrayImpl, np.ndarray, Tracer)) or \
                (type(x) is not np.bool_ and isinstance(x, np.generic)):
            dyn.append(x)
            kinds.append(True)
        else:
            try:
                hash(x)
            except TypeError:
                return None
            statics.append((type(x), x))
            kinds.append(False)
    return dyn, tuple(statics), treedef, tuple(kinds), tuple(diff_mask)


def _stage(spec, dyn, statics, treedef, kinds, diff_mask):
    """Trace the value-and-gradient of spec.fun over the dynamic leaves into a ClosedGraph."""
    in_avals = [get_aval(x) for x in dyn]
    st = _Staged()
    info = {}

    def traced(*dyn_tracers):
        di, si = iter(dyn_tracers), iter(statics)
        leaves = [next(di) if k else next(si)[1] for k in kinds]
        diff_leaves = [x for x, d in zip(leaves, diff_mask) if d]
        diff_pos = [i for i, d in enumerate(diff_mask) if d]
        diff_tree = _flatten(tuple(diff_leaves))[1]

        y, aux, aux_tree, grads = _vg_flat(spec, diff_leaves, diff_tree,
                                           _rebuilder(leaves, diff_pos, treedef))
        info["aux_tree"] = aux_tree
        info["float0"] = [isinstance(g, np.ndarray) and g.dtype == _float0 for g in grads]
        info["float0_shapes"] = [g.shape if isinstance(g, np.ndarray) else None for g in grads]
        info["n_aux"] = len(aux)
        return [y, *aux, *[g for g in grads if not (isinstance(g, np.ndarray) and g.dtype == _float0)]]

    closed = core.trace_to_graph(traced, in_avals)
    used = [spec.need_value] + [True] * (len(closed.graph.outvars) - 1)
    st.closed = dce_closed(closed, used)
    st.aux_tree = info["aux_tree"]
    st.float0_mask = (info["float0"], info["float0_shapes"])
    st.n_aux = info["n_aux"]
    st.name = spec.name
    return st


def _typed_outs(graph, outs):
    """Outputs of an evaluated graph as values of their avals: an output that is a literal
    of the graph (a constant gradient) comes back as an Array (or tracer) of its dtype and
    weak type, not as a Python or numpy scalar."""
    res = []
    for v, o in zip(graph.outvars, outs):
        if not isinstance(o, (ArrayImpl, Tracer)) and v.aval.dtype != _float0:
            o = P.convert_element_type_p.bind(np.asarray(o, v.aval.dtype)[()], new_dtype=v.aval.dtype,
                                              weak_type=v.aval.weak_type)
        res.append(o)
    return res


def _unpack_staged(st, spec, outs):
    n_grads = sum(1 for m in st.float0_mask[0] if not m)
    if n_grads:   # gradients as Arrays of their avals (the value and aux come back as they are)
        g = st.closed.graph
        outs = list(outs[:-n_grads]) + _typed_outs(core.Graph([], [], [], g.outvars[-n_grads:]), outs[-n_grads:])
    it = iter(outs)
    y = next(it) if spec.need_value else None
    aux = [next(it) for _ in range(st.n_aux)]
    mask, shapes = st.float0_mask
    grads = [np.zeros(s, _float0) if m else next(it) for m, s in zip(mask, shapes)]
    return y, aux, st.aux_tree, grads


def _value_and_grad_leaves(spec, args, kwargs):
    """(value, aux leaves, aux tree, gradient leaves) of an eager or traced call."""
    # Under disable_jit, differentiate in place, op by op, like JAX's grad; so too while
    # jax_debug_nans/infs checks this thread's eager operations (the error names the one).
    if not config.disable_jit and not (_debug_nans.active and core.ctx.trace is core.eval_trace
                                       and _debug_nans.this_thread_checks()):
        split = _split_args(spec, args, kwargs)
        if split is not None:
            outs = _run_staged(spec, split)
            if outs is not None:
                return outs
    return _value_and_grad_direct(spec, args, kwargs)


def _run_staged(spec, split):
    """Trace value-and-grad to a graph, then run it with a program cached by structure."""
    dyn, statics, treedef, kinds, diff_mask = split
    eager = core.ctx.trace is core.eval_trace
    _eager_staging.depth = getattr(_eager_staging, "depth", 0) + eager
    try:
        st = _stage(spec, dyn, statics, treedef, kinds, diff_mask)
    except _concretization_errors:
        return None  # needs concrete values (Python control flow on data): op by op
    finally:
        _eager_staging.depth -= eager
    closed = st.closed
    graph = closed.graph
    if core.ctx.trace is not core.eval_trace:
        # under another trace (jit, vmap, an outer grad): bind the trimmed graph there
        return _unpack_staged(st, spec, core.eval_graph(graph, closed.consts, dyn))
    if any(isinstance(c, Tracer) for c in closed.consts):
        return None
    try:
        key = core.graph_fingerprint(graph)
        hash(key)
    except TypeError:
        key = None
    program = _programs.get(key) if key is not None else None
    if program is None and key is not None and key in _seen_once and \
            __import__("xlafront._shard_map", fromlist=["x"])._graph_mesh(graph) is None:
        # (a graph holding a shard_map runs op by op: its shard_map runs as a jit over the mesh)
        hoisted = core.Graph([], graph.constvars + graph.invars, graph.eqns, graph.outvars)
        program = dispatch.compile_graph(f"grad_{st.name}", hoisted)
        if len(_programs) >= _CACHE_MAX:
            _programs.clear()
        _programs[key] = program
        _seen_once.discard(key)
    if program is not None:
        bufs = [dispatch.to_buffer(x)[0] for x in closed.consts]
        bufs += [x._buf if type(x) is ArrayImpl else dispatch.to_buffer(x)[0] for x in dyn]
        outs = program.run(bufs)
    else:
        if key is not None:
            if len(_seen_once) >= _CACHE_MAX:
                _seen_once.clear()
            _seen_once.add(key)
        outs = core.eval_graph(graph, closed.consts, dyn)
    return _unpack_staged(st, spec, outs)


# Depth of eager-gradient staging in this thread: there JAX would run custom rules on
# concrete values. A custom function whose rule once needed them (Python control flow on
# a value) leaves the staging at once on later calls, so its rule runs once per call.
_eager_staging = threading.local()


def _rebuilder(leaves, diff_pos, treedef):
    """(args, kwargs) of the call with the differentiated leaves replaced."""
    def rebuild(diff_values):
        ls = list(leaves)
        for i, v in zip(diff_pos, diff_values):
            ls[i] = v
        args, kwargs = treedef.unflatten(ls)
        return list(args), kwargs
    return rebuild


def _value_and_grad_direct(spec, args, kwargs):
    """Differentiate here and now (values stay concrete where they are)."""
    leaves, treedef = _flatten((tuple(args), kwargs))
    diff_pos, pos = [], 0
    for i, a in enumerate(args):
        n = len(_flatten(a)[0])
        if i in spec.argnums:
            diff_pos += list(range(pos, pos + n))
        pos += n
    diff_leaves = [leaves[i] for i in diff_pos]
    diff_tree = _flatten(tuple(diff_leaves))[1]

    y, aux, aux_tree, grads = _vg_flat(spec, diff_leaves, diff_tree, _rebuilder(leaves, diff_pos, treedef))
    return (_materialize(y) if spec.need_value else None), [_materialize(a) for a in aux], aux_tree, \
        [_materialize(g) for g in grads]


def _normalize_argnums(argnums):
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),), True
    try:
        t = tuple(int(a) for a in argnums)
    except TypeError:
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}") from None
    return t, False


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
                   allow_int: bool = False, reduce_axes: Sequence = ()):
    """(fun(*args), gradient of fun with respect to the arguments at `argnums`)."""
    return _make_grad(fun, argnums, has_aux, holomorphic, allow_int, True, "value_and_grad")


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False, reduce_axes: Sequence = ()):
    """The gradient of a scalar-valued `fun` with respect to the arguments at `argnums`."""
    return _make_grad(fun, argnums, has_aux, holomorphic, allow_int, False, "grad")


def _make_grad(fun, argnums, has_aux, holomorphic, allow_int, need_value, who):
    _check_callable(fun, who)
    argnums_t, single = _normalize_argnums(argnums)

    def grad_fun(*args, **kwargs):
        n = len(args)
        for a in argnums_t:
            if not -n <= a < n:
                raise ArgnumsError(
                    f"differentiating with respect to argnums={argnums} requires at least "
                    f"{max(a if a >= 0 else -a - 1 for a in argnums_t) + 1} positional arguments to be "
                    f"passed by the caller, but got only {n} positional arguments "
                    f"(at {core.user_site()})")
        norm = tuple(a % n for a in argnums_t)
        for a in norm:
            for x in _flatten(args[a])[0]:
                _check_grad_input(x, allow_int, holomorphic)
        spec = _GradSpec(fun, norm, has_aux, holomorphic, allow_int, need_value)
        y, aux, aux_tree, grads = _value_and_grad_leaves(spec, args, kwargs)
        # regroup gradient leaves per argument
        it = iter(grads)
        per_arg = []
        for a in norm:
            ls, tr = _flatten(args[a])
            per_arg.append(tr.unflatten([next(it) for _ in ls]))
        g = per_arg[0] if single else tuple(per_arg)
        if need_value:
            out = (y, aux_tree.unflatten(aux)) if has_aux else y
            return out, g
        return (g, aux_tree.unflatten(aux)) if has_aux else g

    _wraps(grad_fun, fun, who)
    return grad_fun


def _wraps(wrapper, fun, who):
    """Name and docs of `fun` on `wrapper` (not its __dict__: a jitted fun's state stays its own)."""
    try:
        functools.update_wrapper(wrapper, fun, updated=())
    except (AttributeError, TypeError):
        wrapper.__name__ = who


# ----------------------------------------------------------------------------- jacobians
def _vmap():
    try:
        from xlafront.api_batching import vmap
    except ImportError:
        return None
    return vmap


def _map_rows(f, basis, size):
    """f mapped over the leading axis of the pytree `basis` (vmap when available)."""
    vmap = _vmap()
    if vmap is not None:
        return vmap(f)(basis)
    b_leaves, b_tree = _flatten(basis)
    rows = [f(b_tree.unflatten([b[i] for b in b_leaves])) for i in range(size)]
    r_leaves = [_flatten(r)[0] for r in rows]
    r_tree = _flatten(rows[0])[1]
    # stacked with primitives: this layer sits below xlafront.numpy and does not import it
    return r_tree.unflatten([P.concatenate([P.expand_dims(r[j], (0,)) for r in r_leaves], 0)
                             for j in range(len(r_leaves[0]))])


def _std_basis(avals):
    """Per leaf, a numpy array (total, *shape): together the rows of the identity."""
    total = sum(a.size for a in avals)
    out, off = [], 0
    for a in avals:
        dt = a.dtype if dtypes.is_inexact(a.dtype) else dtypes.default_float()
        e = np.zeros((total, a.size), dt)
        e[np.arange(off, off + a.size), np.arange(a.size)] = 1
        out.append(e.reshape((total,) + a.shape))
        off += a.size
    return out, total


def _argnums_partial(fun, args, argnums_t):
    def f_part(*diff):
        full = list(args)
        for i, v in zip(argnums_t, diff):
            full[i] = v
        return fun(*full)
    return f_part, tuple(args[i] for i in argnums_t)


def _check_argnums(argnums_t, args, who):
    n = len(args)
    for a in argnums_t:
        if not -n <= a < n:
            raise ArgnumsError(f"{who}: differentiating with respect to argnums={argnums_t} requires at "
                               f"least {max(argnums_t) + 1} positional arguments, but got {n} "
                               f"(at {core.user_site()})")
    return tuple(a % n for a in argnums_t)


def _dce_when_traced(inner):
    """Under a graph-building trace, run `inner` through a graph of its own with dead code
    removed (so make_jaxpr/jit of a Jacobian shows no unused forward work); eagerly, as is."""
    def wrapper(*args, **kwargs):
        if core.ctx.trace is core.eval_trace:
            return inner(*args, **kwargs)
        leaves, tree = _flatten((args, kwargs))
        if not all(isinstance(x, (ArrayImpl, Tracer, np.ndarray, np.generic, float, complex)) for x in leaves):
            return inner(*args, **kwargs)
        box = []

        def flat(*ls):
            a, k = tree.unflatten(ls)
            out_leaves, out_tree = _flatten(inner(*a, **k))
            box.append(out_tree)
            return out_leaves
        try:
            closed = core.trace_to_graph(flat, [get_aval(x) for x in leaves])
        except _concretization_errors:
            return inner(*args, **kwargs)
        closed = dce_closed(closed)
        return box[0].unflatten(core.eval_graph(closed.graph, closed.consts, leaves))
    return wrapper


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False):
    """The Jacobian of `fun` by reverse mode: one vjp per output element (vmapped)."""
    _check_callable(fun, "jacrev")
    argnums_t, single = _normalize_argnums(argnums)

    def jacfun(*args, **kwargs):
        norm = _check_argnums(argnums_t, args, "jacrev")
        for a in norm:
            for x in _flatten(args[a])[0]:
                a_ = _leaf_aval(x, "jacrev")
                if not dtypes.is_inexact(a_.dtype) and not allow_int:
                    _check_grad_input(x, allow_int, holomorphic, "jacrev")
        f_part, diff = _argnums_partial(functools.partial(fun, **kwargs) if kwargs else fun, args, norm)
        if has_aux:
            y, pullback, aux = vjp(f_part, *diff, has_aux=True)
        else:
            y, pullback = vjp(f_part, *diff)
        y_leaves, y_tree = _flatten(y)
        y_avals = [get_aval(v) for v in y_leaves]
        basis, total = _std_basis(y_avals)
        cts = _map_rows(pullback, y_tree.unflatten(basis), total)   # tuple over diff args
        cts_leaves, in_tree = _flatten(cts)
        in_avals = [get_aval(x) for x in _flatten(diff)[0]]
        # per output leaf, per input leaf: rows of that output -> out_shape + in_shape
        per_out = []
        off = 0
        for ya in y_avals:
            row = []
            for c, xa in zip(cts_leaves, in_avals):
                block = P.slice(c, (off,) + (0,) * xa.ndim, (off + ya.size,) + xa.shape) \
                    if c.shape[0] != ya.size else c
                row.append(P.reshape(block, ya.shape + xa.shape))
            per_out.append(in_tree.unflatten(row))
            off += ya.size
        res = [p[0] if single else p for p in per_out]
        jac = y_tree.unflatten(res)
        return (jac, aux) if has_aux else jac

    jacfun = _dce_when_traced(jacfun)
    _wraps(jacfun, fun, "jacrev")
    return jacfun


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
    """The Jacobian of `fun` by forward mode: one jvp per input element (vmapped)."""
    _check_callable(fun, "jacfwd")
    argnums_t, single = _normalize_argnums(argnums)

    def jacfun(*args, **kwargs):
        norm = _check_argnums(argnums_t, args, "jacfwd")
        for a in norm:
            for x in _flatten(args[a])[0]:
                _check_grad_input(x, False, holomorphic, "jacfwd")
        f_part, diff = _argnums_partial(functools.partial(fun, **kwargs) if kwargs else fun, args, norm)
        d_leaves, d_tree = _flatten(diff)
        in_avals = [get_aval(x) for x in d_leaves]
        basis, total = _std_basis(in_avals)
        aux_box = []

        def pushfwd(tangent_tree):
            if has_aux:
                y, t, aux = jvp(f_part, diff, tangent_tree, has_aux=True)
                aux_box.append(aux)
                return y, t
            return jvp(f_part, diff, tangent_tree)

        vmap = _vmap()
        if has_aux and vmap is not None:
            def push_aux(tt):
                y, t, aux = jvp(f_part, diff, tt, has_aux=True)
                return t, (y, aux)
            ts, (y, aux) = vmap(push_aux, out_axes=(0, None))(d_tree.unflatten(basis))
        elif vmap is not None:
            y, ts = vmap(pushfwd, out_axes=(None, 0))(d_tree.unflatten(basis))
        else:
            y, ts = _map_rows(pushfwd, d_tree.unflatten(basis), total)
            y = _flatten(y)[1].unflatten([v[0] for v in _flatten(y)[0]])
            aux = aux_box[0] if has_aux else None
        t_leaves, y_tree = _flatten(ts)
        y_avals = [get_aval(v) for v in _flatten(y)[0]]
        per_out = []
        for t, ya in zip(t_leaves, y_avals):
            out_shape = t.shape[1:]
            row, off = [], 0
            for xa in in_avals:
                block = P.slice(t, (off,) + (0,) * len(out_shape), (off + xa.size,) + out_shape) \
                    if xa.size != total else t
                block = P.reshape(block, (xa.size,) + out_shape)
                nd = len(out_shape)
                block = P.transpose(block, tuple(range(1, nd + 1)) + (0,))
                # typed like the output (dtype and weak type), as JAX's jacfwd
                row.append(_like_output(P.reshape(block, out_shape + xa.shape), ya))
                off += xa.size
            per_out.append(d_tree.unflatten(row))
        res = [p[0] if single else p for p in per_out]
        jac = y_tree.unflatten(res)
        return (jac, aux) if has_aux else jac

    jacfun = _dce_when_traced(jacfun)
    _wraps(jacfun, fun, "jacfwd")
    return jacfun


def _like_output(x, aval):
    """A Jacobian block with the dtype and weak type of `aval` (its real part when `aval` is real)."""
    xa = get_aval(x)
    if dtypes.is_complex(xa.dtype) and not dtypes.is_complex(aval.dtype):
        x = P.real(x)
        xa = get_aval(x)
    if aval.dtype == _float0 or (xa.dtype == aval.dtype and xa.weak_type == aval.weak_type):
        return x
    return P.convert_element_type_p.bind(x, new_dtype=aval.dtype, weak_type=aval.weak_type)


jacobian = jacrev


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
    """The Hessian of a scalar-valued `fun`: jacfwd(jacrev(fun))."""
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                  has_aux=has_aux, holomorphic=holomorphic)


def linear_transpose(fun: Callable, *primals, reduce_axes=()):
    """The transpose of a linear `fun`, traced at the avals of `primals`."""
    p_leaves, p_tree = _flatten(tuple(primals))
    in_avals = [_leaf_aval(p, "linear_transpose") for p in p_leaves]
    box = []

    def flat(*leaves):
        out_leaves, out_tree = _flatten(fun(*p_tree.unflatten(leaves)))
        box.append(out_tree)
        return out_leaves

    closed = core.trace_to_graph(flat, in_avals)
    out_tree = box[0]
    closed = dce_closed(closed)

    def transposed(*cts):
        ct_arg = cts[0] if len(cts) == 1 else cts
        ct_leaves, ct_tree = _flatten(ct_arg)
        if ct_tree != out_tree:
            raise TypeError(f"linear_transpose: cotangent tree {ct_tree} does not match the output "
                            f"tree {out_tree} (at {core.user_site()})")
        res = T.backward_pass(closed.graph, closed.consts, [None] * len(in_avals), ct_leaves)
        return tuple(p_tree.unflatten([_cast(_instantiate_out(c, a), a) for c, a in zip(res, in_avals)]))

    return transposed


# ----------------------------------------------------------------------------- stop_gradient
stop_gradient_p = core.primitive("stop_gradient")
core.shape_rules[stop_gradient_p] = lambda x: x
lowering_rules[stop_gradient_p] = lambda ctx, x: x
J.jvp_rules[stop_gradient_p] = lambda primals, tangents: (
    stop_gradient_p.bind(primals[0]), J.Zero(J.tangent_aval(get_aval(primals[0]))))


def stop_gradient(x):
    """x, with no derivative flowing through it (applies to every leaf of a pytree)."""
    def stop(v):
        a = _leaf_aval(v, "stop_gradient")
        if not dtypes.is_inexact(a.dtype) or core.ctx.trace is core.eval_trace:
            return v
        return stop_gradient_p.bind(v)
    return tree_util.tree_map(stop, x)


# ----------------------------------------------------------------------------- custom_jvp / custom_vjp
class _Hashable:
    """A Python object in primitive params: hashed and compared by identity."""
    __slots__ = ("val",)

    def __init__(self, val):
        self.val = val

    def __repr__(self):
        return getattr(self.val, "__name__", type(self.val).__name__)


def _trace_call(fn, leaves, name):
    """Trace fn(*leaves) -> flat list into a Graph with consts hoisted to leading invars."""
    closed = core.trace_to_graph(fn, [get_aval(x) for x in leaves])
    g = closed.graph
    return core.Graph([], g.constvars + g.invars, g.eqns, g.outvars), closed.consts


def _resolve_args(fun, args, kwargs):
    if not kwargs:
        return args
    try:
        ba = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{e} (at {core.user_site()})") from None
    ba.apply_defaults()
    return ba.args


class SymbolicZero:
    """A tangent or cotangent known to be zero, as custom rules defined with
    `symbolic_zeros=True` receive it (jax.custom_derivatives.SymbolicZero)."""

    def __init__(self, aval):
        self.aval = aval
        self.shape = aval.shape
        self.dtype = aval.dtype

    @staticmethod
    def from_primal_value(val):
        return SymbolicZero(J.tangent_aval(get_aval(val)))

    def __repr__(self):
        return f"SymbolicZero({self.aval.str_short()})"


class CustomVJPPrimal:
    """A primal argument of a custom_vjp fwd rule defined with `symbolic_zeros=True`: its
    `value`, and whether it is `perturbed` (differentiated)."""
    __slots__ = ("value", "perturbed")

    def __init__(self, value, perturbed):
        self.value, self.perturbed = value, perturbed

    def __repr__(self):
        return f"CustomVJPPrimal(value={self.value!r}, perturbed={self.perturbed})"


def _graph_staging():
    """Whether the current trace stack stages into a graph (jit, a loop body, ...): there a
    custom function is traced once per signature; in eager transforms it runs every call."""
    t = core.ctx.trace
    while t is not None:
        if isinstance(t, core.GraphTrace):
            return True
        t = t.parent
    return False


def _no_rule_needed():
    """No differentiation and no graph staging below: the custom function just runs (as
    JAX, which calls it on every call; e.g. under an eager vmap)."""
    t = core.ctx.trace
    while t is not None:
        if isinstance(t, (J.JVPTrace, core.GraphTrace)):
            return False
        t = t.parent
    return True


def _jvp_top(obj, args):
    """(trace, diff leaves, signature) when the current trace is a JVP trace that perturbs
    one of the differentiated arguments: the custom rule is applied right here (as JAX,
    the function itself is not called); else None."""
    t = core.ctx.trace
    if not isinstance(t, J.JVPTrace):
        return None
    n = len(args)
    nd_pos = tuple(sorted(set(i % n for i in obj.nondiff_argnums))) if n else ()
    diff_args = tuple(a for i, a in enumerate(args) if i not in nd_pos)
    leaves, in_tree = _flatten(diff_args)
    if not any(isinstance(x, J.JVPTracer) and x._trace is t for x in leaves):
        return None
    for x in leaves:
        _leaf_aval(x, type(obj).__name__)
    st = _CustomSig()
    st.in_tree, st.nd_pos, st.n_args = in_tree, nd_pos, n
    st.nd_vals = tuple(args[i] for i in nd_pos)
    st.arg_trees = [_flatten(a)[1] for a in diff_args]
    st.name = _Hashable(_fun_name(obj.fun))
    st.out_tree = None
    st.call, st.consts = None, []
    return t, leaves, st


def _apply_rule_here(obj, trace, leaves, rule, **params):
    """JVPTrace.process_primitive for a custom rule called without binding a primitive."""
    staging = getattr(_eager_staging, "depth", 0) > 0
    if staging and obj.__dict__.get("_needs_concrete"):
        raise core.ConcretizationTypeError(f"the rule of {_fun_name(obj.fun)} uses concrete values")
    primals, tangents = [], []
    for x in leaves:
        p, tng = trace.to_primal_tangent(x)
        primals.append(p)
        tangents.append(tng)
    try:
        with set_current_trace(trace.parent):
            outs, touts = rule(primals, tangents, **params)
    except _concretization_errors:
        if staging:
            obj.__dict__["_needs_concrete"] = True
        raise
    return [trace.new(o, tng) for o, tng in zip(outs, touts)]


custom_jvp_call_p = core.primitive("custom_jvp_call", multiple_results=True)
custom_vjp_call_p = core.primitive("custom_vjp_call", multiple_results=True)
custom_lin_p = core.primitive("custom_lin", multiple_results=True)


def _call_shape_rule(*avals, call, **_):
    return tuple(call.out_avals)


core.shape_rules[custom_jvp_call_p] = _call_shape_rule
core.shape_rules[custom_vjp_call_p] = _call_shape_rule
core.shape_rules[custom_lin_p] = lambda *avals, out_avals, **_: tuple(out_avals)


def _call_lowering(ctx, *args, call, name, **_):
    return ctx.call_graph(call, name.val if isinstance(name, _Hashable) else str(name), args)


lowering_rules[custom_jvp_call_p] = _call_lowering
lowering_rules[custom_vjp_call_p] = _call_lowering


def _custom_lin_lowering(ctx, *args, **_):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


lowering_rules[custom_lin_p] = _custom_lin_lowering


def _call_eager(avals, params):
    return dispatch.compile_graph(str(params["name"]), params["call"])


def _custom_lin_eager(avals, params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


dispatch.eager_graph_rules[custom_jvp_call_p] = _call_eager
dispatch.eager_graph_rules[custom_vjp_call_p] = _call_eager
dispatch.eager_graph_rules[custom_lin_p] = _custom_lin_eager


def _check_no_const_tangents(tangents, num_consts, kind):
    if any(type(t) is not J.Zero for t in tangents[:num_consts]):
        raise TypeError(f"Detected differentiation of a {kind} function with respect to a closed-over "
                        f"value. That isn't supported because the custom rule only specifies how to "
                        f"differentiate with respect to explicit input parameters; pass the value as "
                        f"an argument instead (at {core.user_site()})")


def _custom_jvp_call_jvp(primals, tangents, *, call, jvp, num_consts, name, symbolic_zeros):
    _check_no_const_tangents(tangents, num_consts, "custom_jvp")
    rule = jvp.val
    outs, touts = rule(primals[num_consts:], tangents[num_consts:])
    return outs, touts


J.jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp


def _custom_vjp_call_jvp(primals, tangents, *, call, fwd, bwd, num_consts, name, symbolic_zeros):
    _check_no_const_tangents(tangents, num_consts, "custom_vjp")
    perturbed = [type(t) is not J.Zero for t in tangents[num_consts:]]
    outs, res = fwd.val(primals[num_consts:], perturbed)
    tin = [J.instantiate(t) if get_aval(p) is not None and J.tangent_aval(get_aval(p)).dtype != _float0
           else None for p, t in zip(primals[num_consts:], tangents[num_consts:])]
    lin_args = [t for t in tin if t is not None]
    out_avals = tuple(J.tangent_aval(get_aval(o)) for o in outs)
    float_outs = [i for i, a in enumerate(out_avals) if a.dtype != _float0]
    mask = tuple(t is not None for t in tin)
    touts = custom_lin_p.bind(*res, *lin_args, num_res=len(res), bwd=bwd, in_mask=mask,
                              out_avals=tuple(out_avals[i] for i in float_outs),
                              in_avals=tuple(J.tangent_aval(get_aval(p)) for p in primals[num_consts:]))
    full = [J.Zero(a) for a in out_avals]
    for i, t in zip(float_outs, touts):
        full[i] = t
    return outs, full


J.jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp


def _custom_lin_transpose(cts, *args, num_res, bwd, in_mask, out_avals, in_avals):
    res = list(args[:num_res])
    cts_in = bwd.val(res, list(cts))   # zero cotangents stay J.Zero: the bwd wrapper decides
    out = [None] * num_res
    it = iter(cts_in)
    for i, (m, a) in enumerate(zip(in_mask, in_avals)):
        c = next(it)
        if c is not None and a.dtype != _float0:
            ca = get_aval(c)
            if ca.shape != a.shape:
                raise ValueError(f"Custom VJP bwd rule must produce an output with the same type as "
                                 f"the args tuple of the primal function, but at output[{i}] the bwd "
                                 f"rule produced an output of shape/dtype {ca.str_short()} corresponding "
                                 f"to an input of shape/dtype {a.str_short()} (at {core.user_site()})")
        if m:
            out.append(J.Zero(a) if c is None else c)
    return out


T.transpose_rules[custom_lin_p] = _custom_lin_transpose


def _custom_lin_jvp(primals, tangents, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


J.jvp_rules[custom_lin_p] = _custom_lin_jvp


def _register_batching():
    try:
        from xlafront.transforms import batching as B
    except ImportError:  # pragma: no cover
        return

    graph_cache = weakref.WeakKeyDictionary()

    def batched_call_graph(call, in_dims, size):
        """call over a batch, every output batched at axis 0 (so custom rules can match it)."""
        per = graph_cache.setdefault(call, {})
        key = (tuple(in_dims), size)
        if key not in per:
            per[key] = _batched_call_graph(call, in_dims, size)
        return per[key]

    def _batched_call_graph(call, in_dims, size):
        in_avals = [a if d is None else a.update(shape=(size,) + a.shape) for a, d in zip(call.in_avals, in_dims)]

        def fn(*xs):
            outs, dims = B.batch_flat(lambda *ys: core.eval_graph(call, [], ys), list(xs), in_dims, size)
            return [B.bdim_to(o, d, size, 0) for o, d in zip(outs, dims)]
        closed = core.trace_to_graph(fn, in_avals, parent=core.eval_trace)
        g = closed.graph
        return core.Graph([], g.constvars + g.invars, g.eqns, g.outvars), list(closed.consts)

    def to0(args, dims):
        return ([a if d is None else B.moveaxis(a, d, 0) for a, d in zip(args, dims)],
                [None if d is None else 0 for d in dims])

    def custom_jvp_rule(args, dims, *, call, jvp, num_consts, name, symbolic_zeros):
        size = B._axis_size(args, dims)
        args, in_dims = to0(args, dims)
        bcall, bconsts = batched_call_graph(call, in_dims, size)
        if core.ctx.trace is core.eval_trace:  # nothing above to differentiate: just run it
            outs = core.eval_graph(bcall, [], [*bconsts, *args])
            return outs, [0] * len(outs)
        nd = in_dims[num_consts:]
        rule = jvp.val

        def brule(primals, tangents):
            n = len(primals)
            lin = [J.tangent_aval(get_aval(p)).dtype != _float0 for p in primals]
            tvals = [J.instantiate(t) for t, m in zip(tangents, lin) if m]
            tdims = [d for d, m in zip(nd, lin) if m]
            box = []

            def f(*xs):
                ps, ts = list(xs[:n]), iter(xs[n:])
                tl = [next(ts) if m else t for t, m in zip(tangents, lin)]
                outs, touts = rule(ps, tl)
                fl = [J.tangent_aval(get_aval(o)).dtype != _float0 for o in outs]
                box.append((len(outs), fl))
                return list(outs) + [J.instantiate(t) for t, m in zip(touts, fl) if m]
            vals, odims = B.batch_flat(f, [*primals, *tvals], [*nd, *tdims], size)
            vals = [B.bdim_to(v, d, size, 0) for v, d in zip(vals, odims)]
            k, fl = box[0]
            it = iter(vals[k:])
            touts = [next(it) if m else J.Zero(J.tangent_aval(get_aval(o))) for o, m in zip(vals[:k], fl)]
            return vals[:k], touts

        outs = custom_jvp_call_p.bind(*bconsts, *args, call=bcall, jvp=_Hashable(brule),
                                      num_consts=num_consts + len(bconsts), name=name, symbolic_zeros=symbolic_zeros)
        return outs, [0] * len(outs)

    def custom_vjp_rule(args, dims, *, call, fwd, bwd, num_consts, name, symbolic_zeros):
        size = B._axis_size(args, dims)
        args, in_dims = to0(args, dims)
        bcall, bconsts = batched_call_graph(call, in_dims, size)
        if core.ctx.trace is core.eval_trace:
            outs = core.eval_graph(bcall, [], [*bconsts, *args])
            return outs, [0] * len(outs)
        nd = in_dims[num_consts:]
        prim_avals = call.in_avals[num_consts:]

        def bfwd(primals, perturbed=None):
            box = []

            def f(*xs):
                outs, res = fwd.val(list(xs), perturbed)
                box.append(len(outs))
                return list(outs) + list(res)
            vals, odims = B.batch_flat(f, list(primals), nd, size)
            vals = [B.bdim_to(v, d, size, 0) for v, d in zip(vals, odims)]
            return vals[:box[0]], vals[box[0]:]

        def bbwd(res, cts):
            nres = len(res)
            cts = [J.instantiate(c) for c in cts]

            def g(*xs):
                out = bwd.val(list(xs[:nres]), list(xs[nres:]))
                return [J.zeros(J.tangent_aval(a)) if c is None else c
                        for c, a in zip(out, prim_avals)]
            vals, odims = B.batch_flat(g, [*res, *cts], [0] * (nres + len(cts)), size)
            out = []
            for v, d, bd in zip(vals, odims, nd):
                if bd is None:  # an unbatched input gets the cotangent summed over the batch
                    out.append(v if d is None else P.reduce_sum(v, (d,)))
                else:
                    out.append(B.bdim_to(v, d, size, 0))
            return out

        outs = custom_vjp_call_p.bind(*bconsts, *args, call=bcall, fwd=_Hashable(bfwd), bwd=_Hashable(bbwd),
                                      num_consts=num_consts + len(bconsts), name=name, symbolic_zeros=symbolic_zeros)
        return outs, [0] * len(outs)

    def lin_rule(args, dims, **_):
        raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")

    B.batch_rules[custom_jvp_call_p] = custom_jvp_rule
    B.batch_rules[custom_vjp_call_p] = custom_vjp_rule
    B.batch_rules[custom_lin_p] = lin_rule
    B.batch_rules[stop_gradient_p] = lambda args, dims: (stop_gradient_p.bind(args[0]), dims[0])


_register_batching()


def _call_custom(fn, args, kwargs, make_rules):
    """A custom_jvp / custom_vjp call: the plain function when nothing differentiates it or
    its rule is not needed, the rule alone when a JVP trace differentiates it right here
    (`fn._here`), else the call primitive that carries function and rule (`fn._bind`)."""
    args = _resolve_args(fn.fun, args, kwargs)
    if core.ctx.trace is core.eval_trace:
        return fn.fun(*args)
    top = _jvp_top(fn, args)
    if top is not None:
        outs = fn._here(*top)   # (makes the rules, which set the signature's out_tree)
        return top[2].out_tree.unflatten(outs)
    if isinstance(core.ctx.trace, J.JVPTrace):   # not perturbed by it: one level down
        with set_current_trace(core.ctx.trace.parent):
            return fn(*args)
    if _no_rule_needed():
        return fn.fun(*args)
    leaves, st = _custom_signature(fn, args, make_rules)
    outs = fn._bind(leaves, st)
    return st.out_tree.unflatten(outs)


class custom_jvp:
    """A function with a custom JVP rule (`defjvp`, `defjvps`), as jax.custom_jvp."""

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        _wraps(self, fun, type(self).__name__)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None
        self.symbolic_zeros = False

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False):
        self.__dict__.pop("_sig_cache", None)
        self.jvp = jvp
        self.symbolic_zeros = symbolic_zeros
        return jvp

    def defjvps(self, *jvps):
        if self.nondiff_argnums:
            raise TypeError("Can't use defjvps with nondiff_argnums.")

        def jvp_rule(primals, tangents):
            out = self(*primals)
            t_out = None
            for f, t in zip(jvps, tangents):
                if f is None:
                    continue
                contrib = f(t, out, *primals)
                t_out = contrib if t_out is None else tree_util.tree_map(lambda a, b: a + b, t_out, contrib)
            if t_out is None:
                t_out = tree_util.tree_map(lambda o: J.zeros(J.tangent_aval(get_aval(o))), out)
            return out, t_out
        self.defjvp(jvp_rule)

    def __call__(self, *args, **kwargs):
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {_fun_name(self.fun)} using defjvp.")
        return _call_custom(self, args, kwargs, self._make_jvp_rule)

    def _here(self, trace, leaves, st):   # differentiated here: only the rule runs (as JAX)
        (rule,) = self._make_jvp_rule(st)
        return _apply_rule_here(self, trace, leaves, rule.val)

    def _bind(self, leaves, st):
        return custom_jvp_call_p.bind(*st.consts, *leaves, call=st.call, jvp=st.rules[0],
                                      num_consts=len(st.consts), name=st.name,
                                      symbolic_zeros=bool(self.symbolic_zeros))

    def _make_jvp_rule(self, sig):
        user_jvp, name, in_tree, nd_vals = self.jvp, sig.name.val, sig.in_tree, sig.nd_vals
        symbolic = bool(self.symbolic_zeros)

        def zero_tangent(t):
            if symbolic:
                return SymbolicZero(t.aval)
            return J.instantiate(t) if t.aval.dtype != _float0 else np.zeros(t.aval.shape, _float0)

        def rule(primals, tangents):
            p_tree = in_tree.unflatten(primals)
            t_tree = in_tree.unflatten([zero_tangent(t) if type(t) is J.Zero else t for t in tangents])
            out, t_out = user_jvp(*nd_vals, tuple(p_tree), tuple(t_tree))
            o_leaves, o_tree = _flatten(out)
            t_leaves, t_tree2 = _flatten(t_out)
            if sig.out_tree is None:
                sig.out_tree = o_tree
            out_tree = sig.out_tree
            if o_tree != out_tree or t_tree2 != out_tree:
                raise TypeError(f"Custom JVP rule of {name} must produce primal and tangent outputs "
                                f"with the structure of the function's output {out_tree}; got {o_tree} "
                                f"and {t_tree2} (at {core.user_site()})")
            res_t = []
            for o, t in zip(o_leaves, t_leaves):
                ta = J.tangent_aval(get_aval(o))
                if ta.dtype == _float0 or isinstance(t, SymbolicZero) or \
                        (isinstance(t, np.ndarray) and t.dtype == _float0):
                    res_t.append(J.Zero(ta))
                else:
                    res_t.append(t)
            return o_leaves, res_t
        return (_Hashable(rule),)


class _CustomSig:
    """A custom_jvp/custom_vjp function traced at one signature: its call graph, consts,
    output tree and rule callables (kept so that params stay identical across calls)."""
    __slots__ = ("call", "consts", "out_tree", "in_tree", "nd_pos", "nd_vals", "n_args", "arg_trees",
                 "name", "rules")


def _custom_signature(obj, args, make_rules):
    """(diff leaves, _CustomSig) for a call of a custom_jvp/custom_vjp object, cached per
    signature (tree, avals, nondiff values) when nothing traced is closed over."""
    n = len(args)
    nd_pos = tuple(sorted(set(i % n for i in obj.nondiff_argnums))) if n else ()
    nd_vals = tuple(args[i] for i in nd_pos)
    diff_args = tuple(a for i, a in enumerate(args) if i not in nd_pos)
    leaves, in_tree = _flatten(diff_args)
    avals = tuple(_leaf_aval(x, type(obj).__name__) for x in leaves)
    key = None
    try:
        key = (in_tree, avals, nd_pos, nd_vals, n, config.x64)
        hash(key)
    except TypeError:
        key = None
    cache = obj.__dict__.setdefault("_sig_cache", {})
    st = cache.get(key) if key is not None and _graph_staging() else None
    if st is not None:
        return leaves, st
    st = _CustomSig()
    st.in_tree, st.nd_pos, st.nd_vals, st.n_args = in_tree, nd_pos, nd_vals, n
    st.arg_trees = [_flatten(a)[1] for a in diff_args]
    st.name = _Hashable(_fun_name(obj.fun))
    out_box = []
    fun = obj.fun

    def flat_call(*ls):
        out = fun(*_full_args(st, in_tree.unflatten(ls)))
        out_leaves, out_tree = _flatten(out)
        out_box.append(out_tree)
        return out_leaves

    st.call, st.consts = _trace_call(flat_call, leaves, st.name.val)
    st.out_tree = out_box[0]
    st.rules = make_rules(st)
    if key is not None and not any(isinstance(c, Tracer) for c in st.consts) and _graph_staging():
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = st
    return leaves, st


def _full_args(st, diff):
    full, it, nd = [], iter(diff), dict(zip(st.nd_pos, st.nd_vals))
    for i in range(st.n_args):
        full.append(nd[i] if i in nd else next(it))
    return full


class custom_vjp:
    """A function with a custom VJP (`defvjp(fwd, bwd)`), as jax.custom_vjp."""

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        _wraps(self, fun, type(self).__name__)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None
        self.symbolic_zeros = False

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False,
               optimize_remat: bool = False):
        self.__dict__.pop("_sig_cache", None)
        self.fwd, self.bwd = fwd, bwd
        self.symbolic_zeros = bool(symbolic_zeros)

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {_fun_name(self.fun)} using defvjp.")
        return _call_custom(self, args, kwargs, self._make_rules)

    def _here(self, trace, leaves, st):   # differentiated here: only fwd runs now, bwd in the backward pass
        fwd, bwd = self._make_rules(st)
        return _apply_rule_here(self, trace, leaves, _custom_vjp_call_jvp, call=None, fwd=fwd, bwd=bwd,
                                num_consts=0, name=st.name, symbolic_zeros=self.symbolic_zeros)

    def _bind(self, leaves, st):
        fwd, bwd = st.rules
        return custom_vjp_call_p.bind(*st.consts, *leaves, call=st.call, fwd=fwd, bwd=bwd,
                                      num_consts=len(st.consts), name=st.name,
                                      symbolic_zeros=self.symbolic_zeros)

    def _make_rules(self, st):
        fwd_fn, bwd_fn, name, in_tree = self.fwd, self.bwd, st.name.val, st.in_tree
        symbolic = self.symbolic_zeros
        res_box = []
        out_box = []   # the output avals (their float0 cotangents are made for bwd)

        def fwd(primals, perturbed=None):
            if symbolic:
                pert = [True] * len(primals) if perturbed is None else perturbed
                primals = [CustomVJPPrimal(p, bool(q)) for p, q in zip(primals, pert)]
            r = fwd_fn(*_full_args(st, in_tree.unflatten(primals)))
            if not isinstance(r, (tuple, list)) or len(r) != 2:
                raise TypeError(f"Custom VJP fwd rule of {name} must produce a pair (output, "
                                f"residuals), got {type(r).__name__} (at {core.user_site()})")
            out, res = r
            o_leaves, o_tree = _flatten(out)
            if st.out_tree is None:
                st.out_tree = o_tree
            out_tree = st.out_tree
            if o_tree != out_tree:
                raise TypeError(f"Custom VJP fwd rule of {name} must produce an output with the "
                                f"structure of the function's output {out_tree}, got {o_tree} "
                                f"(at {core.user_site()})")
            r_leaves, r_tree = _flatten(res)
            res_box[:] = [r_tree]
            out_box[:] = [[J.tangent_aval(get_aval(o)) for o in o_leaves]]
            return o_leaves, r_leaves

        def bwd(res, cts):
            # cts: one per output whose tangent is not float0; integer outputs get float0
            # zeros (as JAX), zero cotangents are SymbolicZero with symbolic_zeros=True
            it = iter(cts)
            full = []
            for a in out_box[0]:
                if a.dtype == _float0:
                    full.append(SymbolicZero(a) if symbolic else np.zeros(a.shape, _float0))
                    continue
                c = next(it)
                if type(c) is J.Zero:
                    c = SymbolicZero(c.aval) if symbolic else J.instantiate(c)
                full.append(c)
            out = bwd_fn(*st.nd_vals, res_box[0].unflatten(res), st.out_tree.unflatten(full))
            if not isinstance(out, (tuple, list)) or len(out) != len(st.arg_trees):
                raise TypeError(f"Custom VJP bwd rule of {name} must produce a tuple with one entry "
                                f"per (differentiable) argument ({len(st.arg_trees)}), got {out!r} "
                                f"(at {core.user_site()})")
            flat = []
            for a_tree, c in zip(st.arg_trees, out):
                if c is None or isinstance(c, SymbolicZero):
                    flat += [None] * a_tree.num_leaves
                    continue
                c_leaves, c_tree = _flatten(c)
                c_leaves = [None if isinstance(v, SymbolicZero) else v for v in c_leaves]
                if c_tree != a_tree:
                    raise TypeError(f"Custom VJP bwd rule of {name} produced a cotangent of structure "
                                    f"{c_tree} for an argument of structure {a_tree}")
                flat += c_leaves
            return flat
        return (_Hashable(fwd), _Hashable(bwd))


def closure_convert(fun, *example_args):
    """(fun, consts) as jax.closure_convert: here fun already closes over its values."""
    return fun, []


# ----------------------------------------------------------------------------- checkpoint
# remat: a call whose intermediates are saved for the backward pass only where its policy
# allows. Under linearize its known part computes the outputs and the saveable residuals
# (PE.partial_eval_graph_saving), and the linear part takes the call's inputs and those
# residuals and recomputes the other forward values it needs inside the transposed graph
# (the backward pass evaluates non-linear equations forward).
remat_p = core.primitive("remat", multiple_results=True)
core.shape_rules[remat_p] = lambda *avals, graph, **_: tuple(graph.out_avals)
lowering_rules[remat_p] = lambda ctx, *args, graph, name, **_: ctx.call_graph(graph, name, args)
dispatch.eager_graph_rules[remat_p] = lambda avals, params: dispatch.compile_graph(params["name"], params["graph"])

from xlafront.transforms import dce as _dce  # noqa: E402
_dce.call_primitives.add(remat_p)


def _remat_jvp(primals, tangents, *, graph, name, prevent_cse=True, policy=None):
    nonzero = tuple(type(t) is not J.Zero for t in tangents)
    new, consts, out_nz = J.jvp_graph(graph, nonzero)
    outs = remat_p.bind(*consts, *primals, *[t for t in tangents if type(t) is not J.Zero], graph=new,
                        name=name, prevent_cse=prevent_cse, policy=policy)
    n = len(graph.outvars)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else J.Zero(J.tangent_aval(a)) for nz, a in zip(out_nz, graph.out_avals)]


J.jvp_rules[remat_p] = _remat_jvp


def _remat_partial_eval(trace, args, params):
    g = params["graph"]
    known = tuple(not trace.is_unknown(x) for x in args)
    kg, ug, out_known, nres = PE.partial_eval_graph_saving(g, known, params.get("policy"))
    kargs = [x for x, k in zip(args, known) if k]
    # the known part's outputs that are its inputs (saved arguments) are taken as they are;
    # the others come from one remat call of the rest
    computed, passed = _known_part(kg)
    kouts = [kargs[j] if j is not None else None for j in passed]
    if computed is not None:
        with set_current_trace(trace.parent):
            made = iter(remat_p.bind(*kargs, **dict(params, graph=computed)))
        kouts = [next(made) if o is None else o for o in kouts]
    nk = len(kouts) - nres
    known_outs, res = kouts[:nk], kouts[nk:]
    uouts = []
    if ug.outvars:
        uouts = trace.stage(remat_p, [*res, *[x for x, k in zip(args, known) if not k]], dict(params, graph=ug))
    ki, ui = iter(known_outs), iter(uouts)
    return [next(ki) if k else next(ui) for k in out_known]


_known_parts: "weakref.WeakKeyDictionary" = core.cache(weakref.WeakKeyDictionary())


def _known_part(kg):
    """(graph of kg's outputs that are not its inputs or None, per output: the index of the
    input it is, or None). Cached per graph (the graph keys the eager compile cache)."""
    hit = _known_parts.get(kg)
    if hit is None:
        pos = {id(v): j for j, v in enumerate(kg.invars)}
        passed = [pos.get(id(v)) if isinstance(v, core.Var) else None for v in kg.outvars]
        rest = [v for v, j in zip(kg.outvars, passed) if j is None]
        computed = _dce.dce_graph(core.Graph([], kg.invars, kg.eqns, rest)) if rest else None
        hit = _known_parts[kg] = (computed, passed)
    return hit


def _remat_partial_eval_graph(eqn, ks):
    """A remat equation of a graph being split (e.g. a jit differentiated by grad)."""
    kg, ug, out_k, nres = PE.partial_eval_graph_saving(eqn.params["graph"], ks, eqn.params.get("policy"))
    res = [core.Var(a) for a in kg.out_avals[len(kg.outvars) - nres:]]
    keqn = core.Equation(remat_p, [v for v, k in zip(eqn.invars, ks) if k],
                         [v for v, k in zip(eqn.outvars, out_k) if k] + res, dict(eqn.params, graph=kg),
                         eqn.source)
    ueqn = core.Equation(remat_p, res + [v for v, k in zip(eqn.invars, ks) if not k],
                         [v for v, k in zip(eqn.outvars, out_k) if not k], dict(eqn.params, graph=ug),
                         eqn.source)
    return keqn, ueqn, out_k, res


PE.partial_eval_rules[remat_p] = _remat_partial_eval
PE.partial_eval_graph_rules[remat_p] = _remat_partial_eval_graph
T.transpose_rules[remat_p] = lambda cts, *args, graph, name, **_: T.transpose_rules[P.jit_p](
    cts, *args, graph=graph, name=name)


def _register_remat_batching():
    try:
        from xlafront.transforms import batching as B
    except ImportError:  # pragma: no cover
        return
    jit_rule = B.batch_rules.get(P.jit_p)
    if jit_rule is not None:
        B.batch_rules[remat_p] = lambda args, dims, *, graph, name, **_: jit_rule(args, dims, graph=graph, name=name)


_register_remat_batching()


def checkpoint(fun: Callable | None = None, *, prevent_cse: bool = True, policy=None,
               static_argnums=()):
    """jax.checkpoint: `fun`'s intermediate values are recomputed in the backward pass
    instead of being saved (a `remat` call in the graph). Same values, less memory.
    `policy(prim, *avals, **params) -> bool` (see `checkpoint_policies`) names the equations
    of `fun` whose outputs may be saved all the same; None saves nothing (the inputs)."""
    if fun is None:
        return lambda f: checkpoint(f, prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums)
    _check_callable(fun, "checkpoint")
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static = tuple(static_argnums)
    name = _fun_name(fun)
    cache = {}  # signature -> (graph, consts, out tree)

    def remat_fun(*args, **kwargs):
        if core.ctx.trace is core.eval_trace:
            return fun(*args, **kwargs)
        n = len(args)
        st = {i % n for i in static} if n else set()
        dyn = (tuple(a for i, a in enumerate(args) if i not in st), kwargs)
        leaves, tree = _flatten(dyn)
        box = []

        def flat(*ls):
            dargs, dkw = tree.unflatten(ls)
            it = iter(dargs)
            full = [args[i] if i in st else next(it) for i in range(n)]
            out_leaves, out_tree = _flatten(fun(*full, **dkw))
            box.append(out_tree)
            return out_leaves

        avals = tuple(_leaf_aval(x, "checkpoint") for x in leaves)
        try:
            key = (tree, avals, tuple(sorted(st)), tuple(args[i] for i in sorted(st)), n, config.x64)
            hit = cache.get(key)
        except TypeError:
            key, hit = None, None
        if hit is None:
            graph, consts = _trace_call(flat, leaves, name)
            hit = (graph, consts, box[0])
            if key is not None and not any(isinstance(c, Tracer) for c in consts):
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[key] = hit
        graph, consts, out_tree = hit
        outs = remat_p.bind(*consts, *leaves, graph=graph, name=f"checkpoint({name})",
                            prevent_cse=bool(prevent_cse), policy=policy)
        return out_tree.unflatten(outs)

    _wraps(remat_fun, fun, "checkpoint")
    return remat_fun


remat = checkpoint


# ----------------------------------------------------------------------------- checkpoint names, policies
# name: the identity, tagging a value for the name-based checkpoint policies
# (jax.ad_checkpoint.checkpoint_name). Its tangent passes through untagged.
name_p = core.primitive("name")
core.shape_rules[name_p] = lambda x, *, name: x
lowering_rules[name_p] = lambda ctx, x, *, name: x
J.jvp_rules[name_p] = lambda primals, tangents, *, name: (name_p.bind(primals[0], name=name), tangents[0])
T.transpose_rules[name_p] = lambda ct, x, *, name: [ct]


def _register_name_batching():
    from xlafront.transforms import batching as B
    B.batch_rules[name_p] = lambda args, dims, *, name: (name_p.bind(args[0], name=name), dims[0])


_register_name_batching()


def checkpoint_name(x, name: str):
    """`x` (each leaf of a pytree) tagged with `name`: the same values, which the name-based
    policies of `checkpoint` (`save_only_these_names`, ...) see as the output of a `name`
    equation. Outside any trace it returns `x` itself."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a string, got {type(name).__name__} "
                        f"(at {core.user_site()})")

    def tag(v):
        if not core.traced or core.ctx.trace is core.eval_trace or not isinstance(v, Tracer):
            return v
        return name_p.bind(v, name=name)
    return tree_util.tree_map(tag, x)


class Offloadable(tuple):
    """A policy's answer "save, in memory `dst`" (jax's offloading policies). xlafront has
    one memory space: the value is saved."""
    __slots__ = ()

    def __new__(cls, src, dst):
        return tuple.__new__(cls, (src, dst))

    src = property(lambda self: self[0])
    dst = property(lambda self: self[1])


class _RecomputeType:
    """A policy's answer "do not save" (false, as False)."""
    __slots__ = ()

    def __bool__(self):
        return False

    def __repr__(self):
        return "Recompute"


class _SaveableType:
    """A policy's answer "save" (true, as True)."""
    __slots__ = ()

    def __repr__(self):
        return "Saveable"


Recompute, Saveable = _RecomputeType(), _SaveableType()


def _dot_batch_free(params):
    (_, _), (lb, rb) = params["dimension_numbers"]
    return not lb and not rb


class _Policy:
    """A checkpoint policy: `policy(prim, *avals, **params) -> bool` says whether the outputs
    of one equation of the checkpointed function may be saved for the backward pass (else
    they are recomputed there). Equal and hashable by value (it keys caches)."""
    __slots__ = ("_kind", "_args")

    def __init__(self, kind, *args):
        self._kind, self._args = kind, args

    def __eq__(self, other):
        return type(other) is _Policy and (self._kind, self._args) == (other._kind, other._args)

    def __hash__(self):
        return hash((self._kind, self._args))

    def __repr__(self):
        args = ", ".join(", ".join(map(repr, sorted(a))) if isinstance(a, frozenset) else repr(a)
                         for a in self._args)
        return f"{self._kind}({args})" if self._args else self._kind

    def __call__(self, prim, *avals, **params):
        kind, a = self._kind, self._args
        if kind == "everything_saveable":
            return True
        if kind == "nothing_saveable":
            return False
        if kind == "dots_saveable":
            return prim is P.dot_general_p or prim.name == "conv_general_dilated"
        if kind == "dots_with_no_batch_dims_saveable":
            return prim is P.dot_general_p and _dot_batch_free(params)
        if kind == "offload_dot_with_no_batch_dims":
            return Offloadable(*a) if prim is P.dot_general_p and _dot_batch_free(params) else Recompute
        if kind == "save_only_these_names":
            return prim is name_p and params["name"] in a[0]
        if kind == "save_any_names_but_these":
            return prim is name_p and params["name"] not in a[0]
        if kind == "save_anything_except_these_names":
            return not (prim is name_p and params["name"] in a[0])
        if kind == "save_from_both_policies":
            return _saves(a[0](prim, *avals, **params)) or _saves(a[1](prim, *avals, **params))
        if kind == "save_and_offload_only_these_names":
            saved, offloaded, src, dst = a
            if prim is name_p and params["name"] in saved:
                return True
            if prim is name_p and params["name"] in offloaded:
                return Offloadable(src, dst)
            return Recompute
        raise AssertionError(kind)


def _saves(verdict):
    return bool(verdict)   # True, Saveable, Offloadable: save; False, None, Recompute: recompute


class checkpoint_policies:
    """jax.checkpoint_policies: what `checkpoint(f, policy=...)` may save for the backward
    pass. A policy is called per equation of the checkpointed function as
    `policy(prim, *avals, **params)`; a user function of that signature works too.
    The offloading policies save the values they would offload (xlafront has one memory
    space)."""
    everything_saveable = _Policy("everything_saveable")
    nothing_saveable = _Policy("nothing_saveable")
    dots_saveable = checkpoint_dots = _Policy("dots_saveable")
    dots_with_no_batch_dims_saveable = checkpoint_dots_with_no_batch_dims = \
        _Policy("dots_with_no_batch_dims_saveable")

    @staticmethod
    def save_only_these_names(*names_which_can_be_saved):
        """Save only the values named (checkpoint_name) with one of these names."""
        return _Policy("save_only_these_names", frozenset(names_which_can_be_saved))

    @staticmethod
    def save_any_names_but_these(*names_not_to_save):
        """Save only named values, except those with one of these names."""
        return _Policy("save_any_names_but_these", frozenset(names_not_to_save))

    @staticmethod
    def save_anything_except_these_names(*names_not_to_save):
        """Save every value except those named with one of these names."""
        return _Policy("save_anything_except_these_names", frozenset(names_not_to_save))

    @staticmethod
    def save_from_both_policies(policy_1, policy_2):
        """Save what either policy saves."""
        return _Policy("save_from_both_policies", policy_1, policy_2)

    @staticmethod
    def save_and_offload_only_these_names(*, names_which_can_be_saved, names_which_can_be_offloaded,
                                          offload_src, offload_dst):
        """Save the values with the first names; offload (here: save) those with the second."""
        return _Policy("save_and_offload_only_these_names", frozenset(names_which_can_be_saved),
                       frozenset(names_which_can_be_offloaded), offload_src, offload_dst)

    @staticmethod
    def offload_dot_with_no_batch_dims(offload_src, offload_dst):
        """dots_with_no_batch_dims_saveable, offloading (here: saving) them."""
        return _Policy("offload_dot_with_no_batch_dims", offload_src, offload_dst)


# ----------------------------------------------------------------------------- custom_gradient
class _GradientResiduals:
    """What a custom_gradient forward pass keeps for the backward pass: the user's vjp
    function traced into a graph (static: the pytree's aux data) and the values that graph
    captured (the leaves, so transforms see them as ordinary residuals)."""
    __slots__ = ("graph", "rule_tree", "consts")

    def __init__(self, graph, rule_tree, consts):
        self.graph, self.rule_tree, self.consts = graph, rule_tree, list(consts)


tree_util.register_pytree_node(_GradientResiduals, lambda r: (r.consts, (r.graph, r.rule_tree)),
                               lambda aux, consts: _GradientResiduals(aux[0], aux[1], consts))


def custom_gradient(fun: Callable):
    """As jax.custom_gradient: `fun(*args)` returns `(value, vjp)`, where `vjp(cotangent)`
    gives the cotangents of the arguments (a tuple with one entry per argument; a single
    value for a function of one argument). A custom_vjp whose forward pass traces `vjp`
    into a graph: the values it closes over are the residuals."""
    name = _fun_name(fun)

    def split(args, kwargs):
        r = fun(*args, **kwargs)
        if not isinstance(r, (tuple, list)) or len(r) != 2 or not callable(r[1]):
            raise TypeError(f"custom_gradient function {name} must return a pair (value, vjp function), "
                            f"got {type(r).__name__} (at {core.user_site()})")
        return r

    def primal(*args, **kwargs):
        return split(args, kwargs)[0]

    functools.update_wrapper(primal, fun)   # custom_vjp resolves keywords with fun's signature

    def fwd(*args):
        ans, rule = split(args, {})
        ans_leaves, ans_tree = _flatten(ans)
        ct_avals = [J.tangent_aval(_leaf_aval(x, "custom_gradient")) for x in ans_leaves]
        box = []

        def flat_rule(*cts):
            leaves, tree = _flatten(rule(ans_tree.unflatten(list(cts))))
            box.append(tree)
            return leaves

        closed = core.trace_to_graph(flat_rule, ct_avals)
        return ans, _GradientResiduals(closed.graph, box[0], closed.consts)

    def bwd(res, ct):
        ct_leaves, _ = _flatten(ct)
        out = res.rule_tree.unflatten(core.eval_graph(res.graph, res.consts, ct_leaves))
        return (out,) if res.rule_tree.num_nodes == 1 and res.rule_tree.num_leaves == 1 else out

    wrapped = custom_vjp(primal)
    wrapped.defvjp(fwd, bwd)
    return wrapped


__all__.append("custom_gradient")
