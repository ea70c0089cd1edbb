"""Error classes, as in jax.errors."""
from xlafront.core import (ConcretizationTypeError, UnexpectedTracerError, TracerBoolConversionError,  # noqa: F401
                           TracerIntegerConversionError, TracerArrayConversionError, JAXTypeError)
from xlafront.dtypes import TypePromotionError  # noqa: F401
