"""The graph transforms: forward mode (jvp.py), partial evaluation and transposition
(reverse mode), batching (vmap), dead-code elimination, and the per-family rule tables.

These modules import only the core layer and each other, never the API layer above them
(`tests/test_packaging.py::test_layering`, `::test_no_import_cycle`); the rule families
are imported by `xlafront/_rules.py`."""
