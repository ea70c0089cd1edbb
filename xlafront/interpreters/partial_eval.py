"""jax.interpreters.partial_eval: importable (libraries import it at module level).

xlafront's partial evaluation (transforms/partial_eval.py) works on its own graphs and is not
exposed under JAX's names: `PartialVal` exists (flax annotates with it at import), while
`trace_to_jaxpr_nounits` and the rest raise NotImplementedYetError, naming the name and the
call site, when used. To get a graph, use `xlafront.make_jaxpr`."""
from xlafront import _missing


class PartialVal(tuple):
    """A value that is known (`PartialVal.known(x)`) or only known by its aval
    (`PartialVal.unknown(aval)`): the pair (aval or None, value or None)."""

    def __new__(cls, xs):
        return tuple.__new__(cls, xs)

    @classmethod
    def known(cls, const):
        return PartialVal((None, const))

    @classmethod
    def unknown(cls, aval):
        return PartialVal((aval, None))

    def is_known(self):
        return self[0] is None

    def get_known(self):
        return self[1] if self[0] is None else None

    def get_aval(self):
        from xlafront.core import get_aval
        return get_aval(self[1]) if self[0] is None else self[0]


__getattr__ = _missing.module_getattr(__name__)
