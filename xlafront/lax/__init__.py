"""xlafront.lax: the primitives with JAX's lax signatures."""
from xlafront.primitives import *  # noqa: F401,F403
from xlafront.primitives import (GatherDimensionNumbers, ScatterDimensionNumbers, GatherScatterMode,  # noqa: F401
                                 select, select_n, dot_general, broadcast_in_dim, reduce_sum,
                                 convert_element_type)
from xlafront.api_autodiff import stop_gradient, stop_gradient_p  # noqa: E402,F401

# The star import above brings primitives.py's internals along; lax exposes only the
# operations (and primitive objects, `*_p`), as jax.lax does.
for _name in ("ClosedGraph", "Graph", "NamedTuple", "Sequence", "ShapedArray", "annotations",
              "binary_elementwise", "unary_elementwise", "builtins", "comparisons", "cumulatives",
              "dtypes", "expand_dims_p", "get_aval", "non_differentiable", "np", "primitive",
              "reductions", "scatter_prims", "shape_rules", "Tracer", "enum"):
    globals().pop(_name, None)
del _name

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)

from xlafront.lax._control_flow import (cond, switch, while_loop, fori_loop, scan, map,  # noqa: E402,F401
                                        associative_scan)
from xlafront.primitives_control import cond_p, while_p, scan_p  # noqa: E402,F401
from xlafront.lax import linalg  # noqa: E402,F401  (jax.lax.linalg)


def broadcast_shapes(*shapes):
    """The shape that arrays of `shapes` broadcast to (NumPy's rules), as jax.lax.broadcast_shapes;
    ValueError naming the shapes when they do not broadcast."""
    from xlafront.numpy._util import broadcast_shapes as _bs
    shapes = [tuple(s) for s in shapes]
    try:
        return _bs(*shapes)
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={shapes}") from None

from xlafront.primitives_fft import fft, fft_p, FftType  # noqa: E402,F401
from xlafront.primitives_special import erfc, polygamma, zeta, erfc_p, polygamma_p, zeta_p  # noqa: E402,F401
from xlafront.lax._special import igamma, igammac, igamma_grad_a, random_gamma_grad  # noqa: E402,F401
from xlafront.lax._bessel import bessel_i0e, bessel_i1e  # noqa: E402,F401
from xlafront.lax._conv import *  # noqa: F401,F403,E402
from xlafront.lax._extras import *  # noqa: F401,F403,E402
from xlafront._sharded_jit import with_sharding_constraint  # noqa: E402,F401
from xlafront._shard_map import (psum, pmean, pmax, pmin, all_gather, psum_scatter, ppermute,  # noqa: E402,F401
                                 all_to_all, pswapaxes, axis_index, axis_size)
from xlafront.primitives_sharding import (psum_p, pmax_p, pmin_p, all_gather_p, psum_scatter_p,  # noqa: E402,F401
                                          ppermute_p, all_to_all_p, axis_index_p)
