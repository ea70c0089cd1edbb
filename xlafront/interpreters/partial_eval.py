"""jax.interpreters.partial_eval: importable (libraries import it at module level).

xlafront's partial evaluation (transforms/partial_eval.py) works on its own graphs and is not
exposed under JAX's names: `trace_to_jaxpr_nounits`, `PartialVal`, ... raise
NotImplementedYetError, naming the name and the call site, when used. To get a graph, use
`xlafront.make_jaxpr`."""
from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
