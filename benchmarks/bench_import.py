"""`import xlafront` against `import jax`, each in a fresh interpreter (best of several)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import _harness
from _harness import Row, main

# bytecode of both libraries goes here, not into the source tree
_PYCACHE = os.path.join(tempfile.gettempdir(), "xlafront-bench-pycache")


def _import_time(module: str) -> float:
    code = (f"import time; t0 = time.perf_counter(); import {module}; "
            f"print(time.perf_counter() - t0)")
    env = dict(os.environ, PYTHONPATH=_harness.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONPYCACHEPREFIX=_PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # as a user has it: both libraries from .pyc
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=_harness.ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1e6


def run(repeat=7):
    _import_time("jax")             # warm-up: writes the bytecode caches of both
    _import_time("xlafront")
    tj, tx = [], []
    for _ in range(repeat):        # interleaved, best of each
        tj.append(_import_time("jax"))
        tx.append(_import_time("xlafront"))
    return [Row("import", min(tj), min(tx), 0.5)]


if __name__ == "__main__":
    main(run)
