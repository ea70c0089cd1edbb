"""jvp, transpose and batching rules of the callback primitives.

debug_callback (as JAX's): under jvp it sees the primals only, and has no tangent
output; it is not linear, so transposition leaves it alone (it runs in the forward
pass); under vmap it is unrolled over the batch, one call per element in order (an
unbatched operand is passed whole to each call), which prints like JAX does.
pure_callback has no derivative (JAX's ValueError) and is batched by its
`vmap_method` ('sequential' unrolls like debug_callback, 'expand_dims' and
'broadcast_all' call the callback once on the whole batch).
"""
from __future__ import annotations

from xlafront import core
from xlafront import primitives as P
from xlafront import primitives_callback as PC
from xlafront.core import ShapedArray, get_aval

from xlafront.transforms.jvp import jvp_rules, Zero, tangent_aval
from xlafront.transforms.transpose import transpose_rules
from xlafront.transforms.batching import batch_rules, axis_size_of, moveaxis, broadcast_dim

core.register_internal_path(__file__)


# ----------------------------------------------------------------------------- jvp
def _debug_callback_jvp(primals, tangents, **params):
    return PC.debug_callback_p.bind(*primals, **params), []


def _pure_callback_jvp(primals, tangents, *, callback, result_avals, vmap_method=None):
    if all(type(t) is Zero for t in tangents):
        outs = PC.pure_callback_p.bind(*primals, callback=callback, result_avals=result_avals,
                                       vmap_method=vmap_method)
        return outs, [Zero(tangent_aval(a)) for a in result_avals]
    raise ValueError("Pure callbacks do not support JVP. Please use `jax.custom_jvp` to use "
                     f"callbacks while taking gradients (at {core.user_site()}).")


jvp_rules[PC.debug_callback_p] = _debug_callback_jvp
jvp_rules[PC.pure_callback_p] = _pure_callback_jvp


# ----------------------------------------------------------------------------- transpose
def _no_cotangents(cts, *args, **params):
    return [None] * len(args)


transpose_rules[PC.debug_callback_p] = _no_cotangents


# ----------------------------------------------------------------------------- batching
def _element(x, d, i):
    """Element i of x along its batch axis d (x itself when unbatched)."""
    if d is None:
        return x
    a = get_aval(x)
    start = [0] * a.ndim
    limit = list(a.shape)
    start[d], limit[d] = i, i + 1
    return P.squeeze(P.slice(x, start, limit), (d,))


def _debug_callback_batch(args, dims, **params):
    n = axis_size_of(args, dims)
    for i in range(n):
        PC.debug_callback_p.bind(*[_element(x, d, i) for x, d in zip(args, dims)], **params)
    return [], []


def _stack(xs):
    return P.concatenate([P.expand_dims(x, (0,)) for x in xs], 0)


def _pure_callback_batch(args, dims, *, callback, result_avals, vmap_method=None):
    n = axis_size_of(args, dims)
    if vmap_method in ("sequential", "sequential_unrolled"):
        rows = [PC.pure_callback_p.bind(*[_element(x, d, i) for x, d in zip(args, dims)],
                                        callback=callback, result_avals=result_avals,
                                        vmap_method=vmap_method) for i in range(n)]
        return [_stack(col) for col in zip(*rows)], [0] * len(result_avals)
    if vmap_method in ("expand_dims", "broadcast_all", "legacy_vectorized"):
        new_args = []
        for x, d in zip(args, dims):
            if d is not None:
                new_args.append(moveaxis(x, d, 0))
            elif vmap_method == "broadcast_all":
                new_args.append(broadcast_dim(x, n, 0))
            else:
                new_args.append(broadcast_dim(x, 1, 0))
        out_avals = tuple(ShapedArray((n, *a.shape), a.dtype, a.weak_type) for a in result_avals)
        outs = PC.pure_callback_p.bind(*new_args, callback=callback, result_avals=out_avals,
                                       vmap_method=vmap_method)
        return outs, [0] * len(outs)
    raise NotImplementedError(
        "vmap is only supported for the pure_callback primitive when vmap_method is one of "
        "'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', or "
        f"'legacy_vectorized'. Got vmap_method={vmap_method!r} (at {core.user_site()}).")


batch_rules[PC.debug_callback_p] = _debug_callback_batch
batch_rules[PC.pure_callback_p] = _pure_callback_batch
