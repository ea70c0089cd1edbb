"""jvp, transpose and batching rules of the misc primitives (clz, reduce_precision,
optimization_barrier). clz is declared non-differentiable in primitives_misc.py.

- reduce_precision is linear as JAX treats it: the tangent (and the cotangent) is rounded
  to the same format.
- optimization_barrier fences the primals together and the nonzero tangents together
  (as JAX's rule: one barrier for each); its transpose fences the cotangents.
- Batching keeps every operand's batch axis where it is.
"""
from __future__ import annotations

from xlafront import primitives_misc as M
from xlafront.core import register_internal_path
from xlafront.transforms import jvp as J
from xlafront.transforms import batching as B
from xlafront.transforms.transpose import transpose_rules, is_undefined

register_internal_path(__file__)

# ----------------------------------------------------------------------------- clz
B.batch_rules[M.clz_p] = B._same_dim_rule(M.clz_p)

# ----------------------------------------------------------------------------- reduce_precision
J._linear(M.reduce_precision_p)
B.batch_rules[M.reduce_precision_p] = B._same_dim_rule(M.reduce_precision_p)


def _reduce_precision_transpose(ct, x, **params):   # backward_pass never passes a Zero here
    return [M.reduce_precision_p.bind(ct, **params)]


transpose_rules[M.reduce_precision_p] = _reduce_precision_transpose


# ----------------------------------------------------------------------------- optimization_barrier
def _barrier_nonzero(ts):
    """The barrier over the values of `ts` that are not symbolic zeros (Zeros pass through)."""
    live = [i for i, t in enumerate(ts) if type(t) is not J.Zero]
    out = list(ts)
    if live:
        for i, y in zip(live, M.optimization_barrier_p.bind(*(ts[i] for i in live))):
            out[i] = y
    return out


def _optimization_barrier_jvp(primals, tangents):
    return M.optimization_barrier_p.bind(*primals), _barrier_nonzero(tangents)


def _optimization_barrier_transpose(cts, *args):
    cts = _barrier_nonzero(list(cts))
    return [c if is_undefined(a) else None for c, a in zip(cts, args)]


def _optimization_barrier_batch(args, dims):
    return M.optimization_barrier_p.bind(*args), list(dims)


J.jvp_rules[M.optimization_barrier_p] = _optimization_barrier_jvp
transpose_rules[M.optimization_barrier_p] = _optimization_barrier_transpose
B.batch_rules[M.optimization_barrier_p] = _optimization_barrier_batch
