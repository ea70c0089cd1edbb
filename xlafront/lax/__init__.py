"""xlafront.lax: the primitives with JAX's lax signatures."""
from xlafront.primitives import *  # noqa: F401,F403
from xlafront.primitives import (GatherDimensionNumbers, ScatterDimensionNumbers, GatherScatterMode,  # noqa: F401
                                 select, select_n, dot_general, broadcast_in_dim, reduce_sum,
                                 convert_element_type)
from xlafront.api_autodiff import stop_gradient  # noqa: E402,F401
