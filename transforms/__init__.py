"""The graph transforms: forward mode (jvp.py), partial evaluation and transposition
(reverse mode), batching (vmap), dead-code elimination, and the per-family rule tables.

Importing this package imports xlafront first: xlafront's libraries import rule modules
here at import time, so the cycle resolves in the one order that works also for a program
whose first import is `transforms.<module>` (see lowering/__init__.py)."""
import xlafront  # noqa: F401
