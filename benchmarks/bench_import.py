"""Start-up: `import` through the first small result on the host, xlafront against JAX.

Each run is a fresh interpreter timing, from just before the `import` to just after the
first result is printed:

    import xlafront as xf, xlafront.numpy as xnp; print(xnp.arange(3.) * 2)
    import jax, jax.numpy as jnp;                  print(jnp.arange(3.) * 2)

(so the figure holds the library imports, creating the PJRT client, tracing/compiling the
first programs and the first device-to-host transfer). Bytecode caches are warm for both
(written to a private PYTHONPYCACHEPREFIX by a warm-up run, as an installed package has
them). Runs are interleaved (JAX, xlafront, JAX, ...) so that load on the shared machine
hits both alike; the row reports the medians, the note the spread (min..max) and the
median of the per-pair ratios. The plain `import` alone is reported as a second row.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

import _harness
from _harness import Row, main

# bytecode of both libraries goes here, not into the source tree
_PYCACHE = os.path.join(tempfile.gettempdir(), "xlafront-bench-pycache")

FIRST_RESULT = {
    "jax": "import jax, jax.numpy as jnp; print(jnp.arange(3.) * 2)",
    "xlafront": "import xlafront as xf, xlafront.numpy as xnp; print(xnp.arange(3.) * 2)",
}
IMPORT_ONLY = {"jax": "import jax", "xlafront": "import xlafront"}


def _time(snippet: str) -> float:
    """Seconds (as µs) from before `snippet` to after it, in a fresh interpreter."""
    code = ("import time; t0 = time.perf_counter()\n" + snippet +
            "\nimport sys; print('T', time.perf_counter() - t0, file=sys.stderr)")
    env = dict(os.environ, PYTHONPATH=_harness.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONPYCACHEPREFIX=_PYCACHE, JAX_PLATFORMS="cpu")
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # as a user has it: both libraries from .pyc
    env.pop("XLAFRONT_PLATFORM", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=_harness.ROOT, check=True)
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("T ")][-1]
    return float(line.split()[1]) * 1e6


def _compare(snippets: dict, repeat: int):
    for lib in ("jax", "xlafront"):      # warm-up: writes the bytecode caches of both
        _time(snippets[lib])
    tj, tx = [], []
    for _ in range(repeat):              # interleaved
        tj.append(_time(snippets["jax"]))
        tx.append(_time(snippets["xlafront"]))
    return tj, tx


def _row(name, tj, tx, target):
    ratios = [x / j for j, x in zip(tj, tx)]
    note = (f"median of {len(tj)} interleaved fresh processes; JAX {min(tj) / 1e3:.0f}..{max(tj) / 1e3:.0f} ms, "
            f"xlafront {min(tx) / 1e3:.0f}..{max(tx) / 1e3:.0f} ms; per-pair ratio median "
            f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f})")
    return Row(name, statistics.median(tj), statistics.median(tx), target, note)


def run(repeat=9):
    tj, tx = _compare(FIRST_RESULT, repeat)
    rows = [_row("import + first result", tj, tx, 0.5)]
    tj, tx = _compare(IMPORT_ONLY, repeat)
    rows.append(_row("import", tj, tx, 0.5))
    return rows


if __name__ == "__main__":
    main(run)
