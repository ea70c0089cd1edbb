"""Registers the transformation rules of the primitive families defined outside
primitives.py (control flow, linalg, fft, special functions, host callbacks). Imported by
xlafront/__init__ after the autodiff and batching layers, so every table is complete
once `import xlafront` returns."""
import xlafront.transforms.rules_control  # noqa: F401
import xlafront.transforms.rules_linalg  # noqa: F401
import xlafront.transforms.rules_fft  # noqa: F401
import xlafront.transforms.rules_callback  # noqa: F401
import xlafront.transforms.rules_special  # noqa: F401
import xlafront.transforms.rules_misc  # noqa: F401
import xlafront.transforms.rules_conv  # noqa: F401
