"""jax.extend.core.primitives: xlafront's primitive objects, as `<name>_p` (`add_p`, `sin_p`,
`scan_p`, `custom_jvp_call_p`, ...). Names follow xlafront's primitive names, which are
JAX's where both have the primitive (`scatter-add` is `scatter_add_p`)."""
from xlafront import _missing, core
import xlafront.api_autodiff  # noqa: F401  (registers custom_jvp_call, remat, ...)


def _export():
    g = globals()
    for name, prim in core.all_primitives.items():
        g[name.replace("-", "_") + "_p"] = prim


_export()
__getattr__ = _missing.module_getattr(__name__)
