"""`io_callback`: a host call with results *and* a side effect (jax.experimental.io_callback).

Unlike `pure_callback` it is never dropped as dead code (it is in
`primitives_callback.effectful_primitives`) and never repeated or reordered by the
compiler: it lowers as a side-effecting host call threaded on the effect token
(lowering/rules_callback.py), so calls run in program order. As JAX's:
- it has no derivative: "IO callbacks do not support JVP." (a call whose inputs have
  zero tangents is fine and its results get zero tangents);
- `vmap` of an ordered call is an error ("Cannot `vmap` ordered IO callback."); an
  unordered one is called once per batch element.
"""
from __future__ import annotations

from xlafront import core, dispatch, tree_util
from xlafront import primitives as P
from xlafront import primitives_callback as PC
from xlafront.debug import PureCallback, _EagerCall, callback_result_avals
from xlafront.lowering.rules import lowering_rules
from xlafront.lowering.rules_callback import _emit_host_call
from xlafront.transforms.batching import axis_size_of, batch_rules
from xlafront.transforms.jvp import Zero, jvp_rules, tangent_aval
from xlafront.transforms.rules_callback import _element, _stack

core.register_internal_path(__file__)

io_callback_p = core.primitive("io_callback", multiple_results=True)


def _shape(*avals, callback, result_avals, ordered):
    return tuple(result_avals)


core.shape_rules[io_callback_p] = _shape
PC.effectful_primitives.add(io_callback_p)
dispatch.eager_graph_rules[io_callback_p] = \
    lambda avals, params: _EagerCall(params["callback"], tuple(avals), tuple(params["result_avals"]))


def _lower(ctx, *operands, callback, result_avals, ordered):
    return _emit_host_call(ctx, operands, callback, side_effect=True, with_results=True)


lowering_rules[io_callback_p] = _lower


def _jvp(primals, tangents, *, callback, result_avals, ordered):
    if all(type(t) is Zero for t in tangents):
        outs = io_callback_p.bind(*primals, callback=callback, result_avals=result_avals, ordered=ordered)
        return outs, [Zero(tangent_aval(a)) for a in result_avals]
    raise ValueError(f"IO callbacks do not support JVP. (at {core.user_site()})")


jvp_rules[io_callback_p] = _jvp


def _batch(args, dims, *, callback, result_avals, ordered):
    if ordered:
        raise ValueError(f"Cannot `vmap` ordered IO callback. (at {core.user_site()})")
    n = axis_size_of(args, dims)
    rows = [io_callback_p.bind(*[_element(x, d, i) for x, d in zip(args, dims)], callback=callback,
                               result_avals=result_avals, ordered=ordered) for i in range(n)]
    if not result_avals:
        return [], []
    return [_stack(col) for col in zip(*rows)], [0] * len(result_avals)


batch_rules[io_callback_p] = _batch


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered: bool = False, **kwargs):
    """Call `callback(*args, **kwargs)` on the host for its side effect and its results
    (a pytree of arrays shaped as `result_shape_dtypes`, or None), also from inside jit;
    `ordered=True` keeps the calls in program order (xlafront orders every IO callback)."""
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    result_avals, out_tree = callback_result_avals("io_callback", result_shape_dtypes)
    outs = io_callback_p.bind(*leaves, callback=PureCallback(callback, in_tree),
                              result_avals=result_avals, ordered=bool(ordered))
    return out_tree.unflatten(outs)


del P
