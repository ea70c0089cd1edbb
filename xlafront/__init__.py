"""xlafront: a JAX-compatible array library with its own front end.

Traces Python into xlafront's own graph, transforms it (autodiff, batching),
lowers it to StableHLO text and runs it through jaxlib's PJRT client.
"""
from xlafront._version import __version__  # noqa: F401

from xlafront.config import config
from xlafront import dtypes, core
from xlafront.array import Array
from xlafront import array as _array_mod
from xlafront import dispatch as _dispatch  # installs the eager implementation
from xlafront import _rules  # noqa: F401  (fills the lowering and family rule tables)
from xlafront.api import (jit, make_jaxpr, eval_shape, devices, local_devices, device_count,
                          local_device_count, default_backend, device_put, device_get,
                          block_until_ready, ShapeDtypeStruct)
from xlafront.core import (ConcretizationTypeError, UnexpectedTracerError, TracerBoolConversionError,
                           TracerIntegerConversionError, TracerArrayConversionError)
from xlafront import tree_util
from xlafront import numpy
from xlafront import lax
from xlafront import errors

# Optional layers (autodiff, vmap) are imported if present.
try:
    from xlafront.api_autodiff import *  # noqa: F401,F403
except ImportError as _e:  # pragma: no cover
    if "api_autodiff" not in str(_e):
        raise
try:
    from xlafront.api_batching import *  # noqa: F401,F403
except ImportError as _e:  # pragma: no cover
    if "api_batching" not in str(_e):
        raise

from xlafront import tree, debug  # noqa: E402
from xlafront import custom_derivatives  # noqa: E402,F401  (jax.custom_derivatives)
from xlafront.debug import pure_callback, effects_barrier  # noqa: E402
# `xlafront.nn`, `.scipy` and `.random` load on first use (module __getattr__ below, or
# `import xlafront.random`): a first program does not pay for them.
_LAZY_SUBMODULES = ("nn", "scipy", "random")
from xlafront.api import (Device, ensure_compile_time_eval, disable_jit, default_device,  # noqa: E402,F401
                          default_matmul_precision, named_scope, named_call, clear_caches, typeof,
                          live_arrays, print_environment_info)
from xlafront.dtypes import float0  # noqa: E402,F401
from xlafront._debug_nans import debug_nans, debug_infs  # noqa: E402,F401
from xlafront._numpy_promotion import numpy_dtype_promotion  # noqa: E402,F401
# jax.errors.JaxRuntimeError is jaxlib's class, which only the runtime may import: the API
# layer hands it to the (core) errors module
from xlafront.lowering.runtime import JaxRuntimeError as _JaxRuntimeError  # noqa: E402
errors.JaxRuntimeError = _JaxRuntimeError
from xlafront import sharding  # noqa: E402,F401
from xlafront.sharding import PartitionSpec as P, set_mesh  # noqa: E402,F401
from xlafront._sharding import make_mesh  # noqa: E402,F401
from xlafront._shard_map import shard_map  # noqa: E402,F401
from xlafront.api import process_index, process_count, process_indices  # noqa: E402,F401
from xlafront import distributed  # noqa: E402,F401  (jax.distributed: several processes)
from xlafront._make_array import (make_array_from_single_device_arrays,  # noqa: E402,F401
                                  make_array_from_callback, make_array_from_process_local_data)
from xlafront._pmap import pmap  # noqa: E402

Array.__module__ = _array_mod.ArrayImpl.__module__ = "xlafront"

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
