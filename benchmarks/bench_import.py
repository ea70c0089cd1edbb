"""`import xlafront` against `import jax`, each in a fresh interpreter (best of several)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import _harness
from _harness import Row, main


def _import_time(module: str) -> float:
    code = (f"import time; t0 = time.perf_counter(); import {module}; "
            f"print(time.perf_counter() - t0)")
    env = dict(os.environ, PYTHONPATH=_harness.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=_harness.ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1e6


def run(repeat=7):
    tj, tx = [], []
    for _ in range(repeat):        # interleaved; the first of each warms the OS file cache
        tj.append(_import_time("jax"))
        tx.append(_import_time("xlafront"))
    return [Row("import", min(tj), min(tx), 0.5)]


if __name__ == "__main__":
    main(run)
