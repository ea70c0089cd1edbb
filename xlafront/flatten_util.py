"""`jax.flatten_util.ravel_pytree`: a pytree of arrays as one flat vector, and back.

`flat, unravel = ravel_pytree(tree)`: `flat` is every leaf raveled and concatenated (in
`tree_leaves` order), in the dtype JAX's promotion gives to all leaves (float32 for an
empty tree); `unravel(flat)` splits a vector of that size back into the tree, each leaf
in its own shape and dtype. Both are differentiable and work under jit and vmap.
"""
from __future__ import annotations

import numpy as np

from xlafront import _missing, tree_util

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree):
    """(flat 1-d array, unravel function) of `pytree` (as jax.flatten_util.ravel_pytree)."""
    import xlafront.numpy as xnp
    from xlafront import lax
    leaves, treedef = tree_util.tree_flatten(pytree)
    if not leaves:
        return xnp.zeros((0,), xnp.float32), _Unravel(treedef, (), (), (), xnp.float32)
    arrays = [xnp.asarray(x) for x in leaves]
    shapes = tuple(a.shape for a in arrays)
    from_dtypes = tuple(a.dtype for a in arrays)
    sizes = tuple(int(np.prod(s, dtype=np.int64)) for s in shapes)
    # as JAX: the common dtype of the leaves' dtypes (a Python scalar counts as its default
    # dtype, strongly); leaves of one dtype are concatenated as they are (weak stays weak)
    to_dtype = xnp.result_type(*from_dtypes)
    if all(d == to_dtype for d in from_dtypes):
        pieces = [xnp.ravel(a) for a in arrays]
    else:
        pieces = [lax.convert_element_type(xnp.ravel(a), to_dtype) for a in arrays]
    flat = pieces[0] if len(pieces) == 1 else xnp.concatenate(pieces)
    return flat, _Unravel(treedef, shapes, from_dtypes, sizes, to_dtype)


class _Unravel:
    """`unravel(flat)`: the tree back from a flat vector (a hashable callable, as JAX's partial)."""

    def __init__(self, treedef, shapes, dtypes_, sizes, flat_dtype):
        self.treedef, self.shapes, self.dtypes, self.sizes = treedef, shapes, dtypes_, sizes
        self.flat_dtype = flat_dtype

    def __call__(self, flat):
        import xlafront.numpy as xnp
        flat = xnp.asarray(flat)
        total = sum(self.sizes)
        if flat.ndim != 1 or flat.shape[0] != total:
            raise ValueError(f"Sum of sizes {total} must be equal to dimension 0 of the operand shape "
                             f"[{', '.join(str(d) for d in flat.shape)}] (ravel_pytree's unravel expects "
                             f"a vector of {total} elements; at {_missing.user_site(2)})")
        leaves, start = [], 0
        for shape, dt, n in zip(self.shapes, self.dtypes, self.sizes):
            piece = flat[start:start + n] if len(self.sizes) > 1 else flat
            start += n
            piece = xnp.reshape(piece, shape)
            leaves.append(piece.astype(dt) if piece.dtype != dt else piece)
        return self.treedef.unflatten(leaves)

    def __repr__(self):
        return f"<unravel of {self.treedef}>"


__getattr__ = _missing.module_getattr(__name__)
