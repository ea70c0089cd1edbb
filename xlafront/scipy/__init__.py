"""xlafront.scipy: the SciPy API on xlafront arrays (mirrors jax.scipy)."""
from xlafront.scipy import fft, linalg, special, stats  # noqa: F401

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
