"""Timing helpers shared by the benchmarks: JAX and xlafront are timed in ONE process,
interleaved, and each figure is the best of several repeats (the machine is shared, so
the minimum is the most stable estimate of the cost itself)."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

os.environ.setdefault("JAX_PLATFORMS", "cpu")

# BENCH_CLOCK=cpu times with the process's CPU time (all threads) instead of wall time:
# steadier on a loaded machine, since time spent descheduled is not counted.
clock = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter


@dataclass
class Row:
    name: str
    jax_us: float
    xf_us: float
    target: float          # the ratio xlafront/JAX must not exceed
    note: str = ""
    spread: tuple = ()     # (lowest, highest) ratio over repeated runs (see compare_runs)

    @property
    def ratio(self) -> float:
        return self.xf_us / self.jax_us

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


def _calibrate(fn, min_time=0.02):
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt >= min_time or n >= 1 << 20:
            return max(1, int(n * min_time / max(dt, 1e-9)))
        n *= 4


def best_us(fn, repeat=7, min_time=0.02) -> float:
    """Best (minimum over `repeat`) mean time per call of `fn()`, in microseconds."""
    fn()
    n = _calibrate(fn, min_time)
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t0) / n)
    return best * 1e6


def compare(jax_fn, xf_fn, repeat=7, min_time=0.02) -> tuple[float, float]:
    """Interleaved best-of timings (µs) of a JAX callable and an xlafront one."""
    jax_fn()
    xf_fn()
    nj, nx = _calibrate(jax_fn, min_time), _calibrate(xf_fn, min_time)
    bj = bx = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for _ in range(nj):
            jax_fn()
        bj = min(bj, (clock() - t0) / nj)
        t0 = clock()
        for _ in range(nx):
            xf_fn()
        bx = min(bx, (clock() - t0) / nx)
    return bj * 1e6, bx * 1e6


def compare_runs(jax_fn, xf_fn, runs=5, repeat=7, min_time=0.02):
    """`compare` run `runs` times: (median JAX µs, median xlafront µs, (lowest, highest)
    ratio of the runs). Each run is itself interleaved best-of-`repeat`."""
    pairs = [compare(jax_fn, xf_fn, repeat, min_time) for _ in range(runs)]
    js, xs = sorted(p[0] for p in pairs), sorted(p[1] for p in pairs)
    ratios = sorted(x / j for j, x in pairs)
    return js[len(js) // 2], xs[len(xs) // 2], (ratios[0], ratios[-1])


def fmt_us(us: float) -> str:
    if us >= 1e5:
        return f"{us / 1e3:,.0f} ms"
    if us >= 1e3:
        return f"{us / 1e3:,.2f} ms"
    return f"{us:,.1f} µs"


def table(rows: list[Row], markdown: bool = False) -> str:
    head = ["benchmark", "JAX", "xlafront", "ratio", "target", "met?"]
    body = [[r.name, fmt_us(r.jax_us), fmt_us(r.xf_us),
             f"{r.ratio:.2f}x" + (f" ({r.spread[0]:.2f}-{r.spread[1]:.2f})" if r.spread else ""),
             f"≤ {r.target:g}x", "yes" if r.met else "NO"] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*b) for b in body])


def main(run):
    """`python benchmarks/bench_x.py [--markdown]` prints the rows of one benchmark file."""
    rows = run()
    print(table(rows, markdown="--markdown" in sys.argv))
    for r in rows:
        if r.note:
            print(f"  {r.name}: {r.note}")
