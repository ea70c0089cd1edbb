"""Long fuzz run: random programs under xlafront and JAX (xlafront/testing/fuzz.py).

    python tools/fuzz.py [--examples N] [--seed S] [--out FILE]

Unlike tests/test_fuzz.py it does not stop at the first mismatch (a program counts as
agreeing when xlafront matches eager JAX, or JAX under jit where JAX's two modes differ:
or JAX with the documented differences' derivatives: fuzz.mismatch): every mismatching
program is shrunk (greedy), grouped by signature, and the first repro of each group is
written to --out (default /tmp/fuzz_findings.md). FUZZ_EXAMPLES env sets the default N.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from xlafront.testing import fuzz  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 2000)))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", default="/tmp/fuzz_findings.md")
    a = ap.parse_args()
    stats = {"programs": 0, "mismatches": 0, "jit_only": 0, "documented": 0}
    groups = {}
    t0 = time.time()

    fails = fuzz.mismatch

    @seed(a.seed)
    @settings(max_examples=a.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(fuzz.programs())
    def run(p):
        stats["programs"] += 1
        msg = fuzz.mismatch(p, stats)
        if msg:
            stats["mismatches"] += 1
            small = fuzz.shrink(p, fails)
            msg2 = fails(small) or msg
            key = fuzz.signature(small, msg2)
            if key not in groups:
                groups[key] = (small, msg2)
                print(f"[{stats['programs']}] NEW {key}\n  {msg2[:300]}", flush=True)
            write()
        if stats["programs"] % 50 == 0:
            print(summary(), flush=True)

    def summary():
        return (f"{stats['programs']} programs, {stats['mismatches']} mismatches, "
                f"{stats['jit_only']} agree with jitted JAX only, {stats['documented']} differ as documented, "
                f"{len(groups)} groups, {time.time() - t0:.0f}s")

    def write():
        with open(a.out, "w") as f:
            f.write(f"# fuzz findings (seed {a.seed}): {stats['programs']} programs, "
                    f"{stats['mismatches']} mismatches, {len(groups)} groups\n\n")
            for key, (p, msg) in groups.items():
                f.write(f"## {key}\n{msg[:500]}\n```python\n{p.to_code()}```\n\n")

    run()
    write()
    print(f"done: {summary()} -> {a.out}")


if __name__ == "__main__":
    main()
