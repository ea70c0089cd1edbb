"""xlafront.lax: the primitives with JAX's lax signatures."""
from xlafront.primitives import *  # noqa: F401,F403
from xlafront.primitives import (GatherDimensionNumbers, ScatterDimensionNumbers, GatherScatterMode,  # noqa: F401
                                 select, select_n, dot_general, broadcast_in_dim, reduce_sum,
                                 convert_element_type)
from xlafront.api_autodiff import stop_gradient  # noqa: E402,F401

# The star import above brings primitives.py's internals along; lax exposes only the
# operations (and primitive objects, `*_p`), as jax.lax does.
for _name in ("ClosedGraph", "Graph", "NamedTuple", "Sequence", "ShapedArray", "annotations",
              "binary_elementwise", "unary_elementwise", "builtins", "comparisons", "cumulatives",
              "dtypes", "expand_dims_p", "get_aval", "non_differentiable", "np", "primitive",
              "reductions", "scatter_prims", "shape_rules", "Tracer"):
    globals().pop(_name, None)
del _name
