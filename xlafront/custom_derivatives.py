"""jax.custom_derivatives: custom differentiation rules and the objects their rules see
with `symbolic_zeros=True` (SymbolicZero tangents/cotangents, CustomVJPPrimal primals).

`custom_jvp_call_p` / `custom_vjp_call_p` are the primitives a custom_jvp / custom_vjp
function is traced to (they show in `make_jaxpr` as `custom_jvp_call` / `custom_vjp_call`)."""
from xlafront import tree_util as _tree_util
from xlafront.api_autodiff import (CustomVJPPrimal, SymbolicZero, closure_convert,  # noqa: F401
                                   custom_gradient, custom_jvp, custom_jvp_call_p, custom_vjp,
                                   custom_vjp_call_p)

__all__ = ["CustomVJPPrimal", "SymbolicZero", "closure_convert", "custom_gradient", "custom_jvp",
           "custom_jvp_call_p", "custom_vjp", "custom_vjp_call_p", "custom_vjp_primal_tree_values",
           "zero_from_primal"]


def zero_from_primal(val, symbolic_zeros=False):
    """The zero tangent of each leaf of `val`: a SymbolicZero if `symbolic_zeros`, else an
    array of zeros (float0 for integer and boolean leaves)."""
    import numpy as np
    from xlafront import numpy as xnp
    from xlafront.dtypes import float0

    def zero(x):
        z = SymbolicZero.from_primal_value(x)
        if symbolic_zeros:
            return z
        return np.zeros(z.shape, float0) if z.dtype == float0 else xnp.zeros(z.shape, z.dtype)
    return _tree_util.tree_map(zero, val)


def custom_vjp_primal_tree_values(tree):
    """The values of a tree whose leaves may be CustomVJPPrimal (what a `symbolic_zeros=True`
    fwd rule receives)."""
    return _tree_util.tree_map(lambda x: x.value if isinstance(x, CustomVJPPrimal) else x, tree,
                               is_leaf=lambda x: isinstance(x, CustomVJPPrimal))
