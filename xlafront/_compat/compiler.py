"""`jax._src.compiler`: chex imports the module at import time (restrict_backends patches
`backend_compile` when used). Nothing of it is implemented: using a name raises
NotImplementedYetError."""
from __future__ import annotations

from xlafront import _missing

__getattr__ = _missing.module_getattr(__name__)
