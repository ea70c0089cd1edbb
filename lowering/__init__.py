"""StableHLO emission (emitter.py, rules*.py into the table in registry.py) and the PJRT
runtime (runtime.py).

These modules import only the core layer and each other, never the API layer above them
(`tests/test_packaging.py::test_layering`, `::test_no_import_cycle`); the rule families
are imported by `xlafront/_rules.py`."""
