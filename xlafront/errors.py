"""Error classes, as in jax.errors."""
from xlafront.core import (ConcretizationTypeError, UnexpectedTracerError, TracerBoolConversionError,  # noqa: F401
                           TracerIntegerConversionError, TracerArrayConversionError, JAXTypeError)
from xlafront.dtypes import TypePromotionError  # noqa: F401
from xlafront.lowering.runtime import JaxRuntimeError  # noqa: F401  (a failing computation: jaxlib's class)


class JAXIndexError(IndexError):
    pass


class NonConcreteBooleanIndexError(JAXIndexError):
    """A boolean mask index whose value is unknown while tracing: the result's shape would depend on it."""
