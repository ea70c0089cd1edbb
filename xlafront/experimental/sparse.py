"""`jax.experimental.sparse`: importable, not implemented.

Libraries import its classes at import time (numpyro: `from jax.experimental.sparse import
BCOO`) and test for them with `isinstance`; both work. Making a sparse array (or any other
name of the module used) raises NotImplementedYetError naming it and the call site.
"""
from __future__ import annotations

from xlafront import _missing


def _not_yet(name):
    return _missing.NotImplementedYetError(
        f"xlafront does not implement jax.experimental.sparse.{name} yet; used at {_missing.user_site(3)}",
        name=name)


class JAXSparse:
    """Base of the sparse array classes (importable; instances cannot be made yet)."""

    def __init__(self, *args, **kwargs):
        raise _not_yet(type(self).__name__)

    @classmethod
    def fromdense(cls, *args, **kwargs):
        raise _not_yet(f"{cls.__name__}.fromdense")

    @classmethod
    def from_scipy_sparse(cls, *args, **kwargs):
        raise _not_yet(f"{cls.__name__}.from_scipy_sparse")


class BCOO(JAXSparse):
    pass


class BCSR(JAXSparse):
    pass


class COO(JAXSparse):
    pass


class CSR(JAXSparse):
    pass


class CSC(JAXSparse):
    pass


__getattr__ = _missing.module_getattr(__name__)
