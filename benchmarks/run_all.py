"""Run every benchmark (JAX and xlafront in one process per file) and print one table.

    python benchmarks/run_all.py [--markdown]      (or: make bench)

Every `benchmarks/bench_*.py` with a `run()` returning rows is included (the core ones
first, the import timing last). Not part of `make test`: timings are never asserted.
"""
from __future__ import annotations

import glob
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _harness  # noqa: E402

FIRST = ["bench_dispatch", "bench_trace", "bench_compute"]
LAST = ["bench_import"]


def modules():
    found = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(HERE, "bench_*.py")))
    rest = [m for m in found if m not in FIRST + LAST]
    return [m for m in FIRST if m in found] + rest + [m for m in LAST if m in found]


def main():
    import jax
    import jaxlib
    rows = []
    for name in modules():
        rows += importlib.import_module(name).run()
    print(f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, {jax.default_backend()} "
          f"({os.cpu_count()} cpus)\n")
    print(_harness.table(rows, markdown="--markdown" in sys.argv))
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
