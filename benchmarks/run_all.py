"""Run every benchmark (JAX and xlafront in one process per file) and print one table.

    python benchmarks/run_all.py [--markdown]      (or: make bench)

Not part of `make test`: timings are never asserted.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402
import bench_import  # noqa: E402  (first: it only spawns subprocesses)
import bench_dispatch  # noqa: E402
import bench_trace  # noqa: E402
import bench_compute  # noqa: E402


def main():
    import jax
    import jaxlib
    rows = []
    for mod in (bench_dispatch, bench_trace, bench_compute, bench_import):
        rows += mod.run()
    print(f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, {jax.default_backend()} "
          f"({os.cpu_count()} cpus)\n")
    print(_harness.table(rows, markdown="--markdown" in sys.argv))
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
