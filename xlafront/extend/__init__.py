"""jax.extend: JAX's extension point, served by xlafront's own core.

- `xlafront.extend.core`: `Primitive` (user primitives that jit, differentiate, batch and
  lower like built-in ones), the graph objects (`Jaxpr`, `ClosedJaxpr`, `Var`, `Literal`),
  `primitives`, `find_top_trace`, `get_opaque_trace_state`;
- `xlafront.extend.linear_util`: `wrap_init` / `WrappedFun`;
- `xlafront.extend.source_info_util`: importable; its context managers are no-ops.
The rules of a user primitive are registered through `xlafront.interpreters`
(jax.interpreters.ad / batching / mlir)."""
from xlafront import _missing
from xlafront.extend import core, linear_util, source_info_util  # noqa: F401

__getattr__ = _missing.module_getattr(__name__)
