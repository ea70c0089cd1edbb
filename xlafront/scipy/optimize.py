"""xlafront.scipy.optimize, as jax.scipy.optimize: importable (numpyro imports `minimize` at
import); `minimize` (BFGS) is not implemented yet and raises NotImplementedYetError when
called."""
from typing import NamedTuple

from xlafront._missing import not_yet_callable as _not_yet

__all__ = ["minimize", "OptimizeResults"]


class OptimizeResults(NamedTuple):
    """The fields of JAX's result of `minimize`."""
    x: object
    success: object
    status: object
    fun: object
    jac: object
    hess_inv: object
    nfev: object
    njev: object
    nit: object


minimize = _not_yet("xlafront.scipy.optimize.minimize")
