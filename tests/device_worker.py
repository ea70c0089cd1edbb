"""The harness of the 8-device test files (test_sharding, test_collectives, test_pmap,
test_visualize_sharding): both libraries need N host devices before their clients start and
the suite runs on one, so a file's `case_*` functions run in one worker subprocess (the test
file run as a script calls `run_cases`), and each `test_*` checks its case's outcome there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import pytest


def run_cases(cases, n, only=None):
    """The worker: N CPU devices for JAX and xlafront, every case run, outcomes printed."""
    import jax
    jax.config.update("jax_num_cpu_devices", n)
    import xlafront as xf
    xf.config.update("jax_num_cpu_devices", n)
    out = {}
    for name, fn in cases.items():
        if only and name not in only:
            continue
        try:
            fn()
            out[name] = None
        except BaseException:
            out[name] = traceback.format_exc()
    print("RESULTS:" + json.dumps(out))


def results_of(path, what, timeout=900):
    """{case: None or its traceback} from running the test file `path` as the worker."""
    env = dict(os.environ)
    # the suite's XLA flags (make test's faster compile), without a device count: the worker sets its own
    env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    proc = subprocess.run([sys.executable, os.path.abspath(path)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULTS:"):
            return json.loads(line[len("RESULTS:"):])
    raise AssertionError(f"the {what} worker failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n"
                         f"{proc.stderr[-3000:]}")


def check(results, name):
    assert name in results, f"case {name} did not run"
    if results[name] is not None:
        pytest.fail(f"case_{name} failed in the 8-device worker:\n{results[name]}", pytrace=False)
