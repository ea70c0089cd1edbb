"""`jax._src.state`: see `types`."""
from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
