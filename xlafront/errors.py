"""Error classes, as in jax.errors."""
from xlafront.core import (ConcretizationTypeError, UnexpectedTracerError, TracerBoolConversionError,  # noqa: F401
                           TracerIntegerConversionError, TracerArrayConversionError, JAXTypeError)
from xlafront.dtypes import TypePromotionError  # noqa: F401
# JaxRuntimeError (what a failing computation raises) is jaxlib's class, set here by
# xlafront/__init__.py from the runtime (this core module may not import the runtime).


class JAXIndexError(IndexError):
    pass


class NonConcreteBooleanIndexError(JAXIndexError):
    """A boolean mask index whose value is unknown while tracing: the result's shape would depend on it."""
