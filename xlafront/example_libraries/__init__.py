"""`jax.example_libraries`: `optimizers` (numpyro builds its `numpyro.optim` on it)."""
from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
