"""Run an ecosystem program (tests/eco_programs/<lib>_prog.py) under JAX and under
`python -m xlafront run`, each in its own process, and compare what they print.

Every line must have the same words; the numbers in it must agree within the test's
tolerance. `run_both` also returns each run's wall time (the README/report numbers).
"""
import os
import re
import subprocess
import sys
import time

import numpy as np

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eco_programs")
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def _run(args, timeout):
    env = dict(os.environ)
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.pop("XLAFRONT_PLATFORM", None)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], cwd=PROGRAMS, env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p, time.perf_counter() - t0


def run_both(lib: str, timeout: float = 600):
    """(jax stdout, xlafront stdout, jax seconds, xlafront seconds) of <lib>_prog.py; an
    AssertionError with the failing run's stderr if either exits non-zero."""
    prog = f"{lib}_prog.py"
    pj, tj = _run([prog], timeout)
    assert pj.returncode == 0, f"{prog} under JAX failed:\n{pj.stderr[-4000:]}"
    px, tx = _run(["-m", "xlafront", "run", prog], timeout)
    assert px.returncode == 0, f"{prog} under `python -m xlafront run` failed:\n{px.stderr[-4000:]}"
    return pj.stdout, px.stdout, tj, tx


def split(line: str):
    """(the line with its numbers replaced by #, the numbers)."""
    return _NUM.sub("#", line), [float(m) for m in _NUM.findall(line)]


def assert_same_output(jax_out: str, xf_out: str, rtol=1e-5, atol=1e-6, tolerances=None):
    """Line by line: same words, numbers close (`tolerances`: {first word: (rtol, atol)})."""
    jl, xl = jax_out.strip().splitlines(), xf_out.strip().splitlines()
    assert len(jl) == len(xl), f"JAX printed {len(jl)} lines, xlafront {len(xl)}:\n{jax_out}\n---\n{xf_out}"
    assert jl, "the program printed nothing"
    for a, b in zip(jl, xl):
        ta, na = split(a)
        tb, nb = split(b)
        assert ta == tb, f"JAX: {a!r}\nxlafront: {b!r}"
        r, t = (tolerances or {}).get(a.split()[0], (rtol, atol))
        np.testing.assert_allclose(nb, na, rtol=r, atol=t, err_msg=f"JAX: {a}\nxlafront: {b}")
