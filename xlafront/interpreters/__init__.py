"""jax.interpreters: the rule tables of xlafront's transforms and lowering, under JAX's names.

- `ad`: `primitive_jvps` / `primitive_transposes` are `transforms.jvp.jvp_rules` and
  `transforms.transpose.transpose_rules` themselves (the same rule signatures as JAX's);
- `batching`: `primitive_batchers` is `transforms.batching.batch_rules`;
- `mlir`: `register_lowering(prim, mlir.lower_fun(fun, ...))` lowers a primitive by tracing
  `fun` (a Python function of xlafront operations) into the StableHLO module.
Registering into them makes a user primitive (`xlafront.extend.core.Primitive`) work
under jit, grad, vmap and scan like a built-in one."""
from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
