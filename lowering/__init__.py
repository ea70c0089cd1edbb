"""StableHLO emission (emitter.py, rules*.py) and the PJRT runtime (runtime.py).

xlafront and lowering.runtime import each other (runtime reads xlafront's config; xlafront
uses runtime's device and sharding types at import time). Importing this package imports
xlafront first, so the cycle always resolves in the one order that works, also for a
program whose first import is `lowering.runtime`."""
import xlafront  # noqa: F401
