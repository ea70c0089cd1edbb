"""Registers the rules of every primitive family: the lowering rules (lowering/rules.py
and lowering/rules_*.py, into the table in lowering/registry.py that the emitter reads)
and the transformation rules of the families defined outside primitives.py (control
flow, linalg, fft, special functions, host callbacks, ...). Imported by xlafront/__init__
right after the eager evaluator (dispatch.py), before any module that can run or lower a
primitive, so every table is complete before the first lowering. The lower layers never
import their families back: this module, above them, does it."""
import xlafront.lowering.rules  # noqa: F401
import xlafront.lowering.rules_indexing  # noqa: F401
import xlafront.lowering.rules_control  # noqa: F401
import xlafront.lowering.rules_linalg  # noqa: F401
import xlafront.lowering.rules_fft  # noqa: F401
import xlafront.lowering.rules_callback  # noqa: F401
import xlafront.lowering.rules_special  # noqa: F401
import xlafront.lowering.rules_misc  # noqa: F401
import xlafront.lowering.rules_conv  # noqa: F401
import xlafront.lowering.rules_sharding  # noqa: F401
import xlafront.transforms.rules_control  # noqa: F401
import xlafront.transforms.rules_linalg  # noqa: F401
import xlafront.transforms.rules_fft  # noqa: F401
import xlafront.transforms.rules_callback  # noqa: F401
import xlafront.transforms.rules_special  # noqa: F401
import xlafront.transforms.rules_misc  # noqa: F401
import xlafront.transforms.rules_conv  # noqa: F401
import xlafront.transforms.rules_sharding  # noqa: F401
import xlafront._explicit_rules  # noqa: F401,E402  (sharding in types: registered last, over the rules above)
