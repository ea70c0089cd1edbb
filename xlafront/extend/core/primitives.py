"""jax.extend.core.primitives: xlafront's primitive objects, as `<name>_p` (`add_p`, `sin_p`,
`scan_p`, `custom_jvp_call_p`, ...). Names follow xlafront's primitive names, which are
JAX's where both have the primitive (`scatter-add` is `scatter_add_p`).

`call_p` and `closed_call_p` are primitives xlafront never puts in a graph (a traced call is
inlined, or is `jit_p`); they exist so that code keying tables on them imports."""
from xlafront import _missing, core
import xlafront.api_autodiff  # noqa: F401  (registers custom_jvp_call, remat, ...)


def _export():
    g = globals()
    for name, prim in core.all_primitives.items():
        g[name.replace("-", "_") + "_p"] = prim


_export()
call_p = core.Primitive("call", multiple_results=True)
closed_call_p = core.Primitive("closed_call", multiple_results=True)
_missing_getattr = _missing.module_getattr(__name__)


def __getattr__(name):
    # a primitive registered after this module was imported (a family imported later)
    if name.endswith("_p"):
        base = name[:-2]
        for n in (base, base.replace("_", "-")):
            prim = core.all_primitives.get(n)
            if prim is not None:
                return prim
    return _missing_getattr(name)
