"""Golden StableHLO: the lowered text of a few small functions, checked in under tests/golden/.

A change in the emitter or a lowering rule that changes the text shows up here as a diff
to review. To accept new text: `XLAFRONT_REGEN_GOLDEN=1 pytest tests/test_golden_stablehlo.py`.
Paths in `loc(...)` are made relative to the repository, so goldens do not depend on
where the checkout lives. Every golden program is also compiled and run.
"""
import difflib
import os
import re

import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import primitives as P

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGEN = os.environ.get("XLAFRONT_REGEN_GOLDEN", "") not in ("", "0")


def normalize(text: str) -> str:
    """Make `loc("/abs/path/tests/x.py":l:c)` read `loc("tests/x.py":l:c)`."""
    def rel(m):
        path = m.group(1)
        if os.path.isabs(path):
            try:
                r = os.path.relpath(path, ROOT)
                path = r if not r.startswith("..") else os.path.basename(path)
            except ValueError:
                path = os.path.basename(path)
        return f'loc("{path.replace(os.sep, "/")}"'
    return re.sub(r'loc\("((?:[^"\\]|\\.)*)"', rel, text)


# --------------------------------------------------------------------------- the functions
def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * xnp.where(x > 0, x, alpha * xnp.exp(x) - alpha)


def matmul_reduce(a, b):
    return xnp.sum(a @ b, axis=1).max()


@xf.jit
def _inner(x):
    return xnp.tanh(x) * 0.5


def nested(x):
    return _inner(x) + _inner(x * 2.0)


_TABLE = np.array([[1.0, -2.0, 3.5], [np.inf, -0.0, 1e-3]], np.float32)


def constants(x):
    mask = np.array([True, False, True])
    return xnp.where(mask, x * _TABLE + 2.0, -np.inf) + np.float32(np.nan) * 0 + 7


def compare_select(x, y):
    return xnp.where(x < y, x, y * -1), x == y, P.select_n(P.convert_element_type(x > 0, np.int32), x, y)


def sort_cumsum(x):
    return P.sort(x), P.cumsum(x, 0, reverse=True)


CASES = {
    "selu": (selu, lambda: (xnp.linspace(-3, 3, 8),)),
    "matmul_reduce": (matmul_reduce, lambda: (xnp.ones((4, 3)), xnp.ones((3, 5)))),
    "nested_jit": (nested, lambda: (xnp.ones(3),)),
    "constants": (constants, lambda: (xnp.ones((2, 3)),)),
    "compare_select": (compare_select, lambda: (xnp.arange(4.0), xnp.ones(4))),
    "sort_cumsum": (sort_cumsum, lambda: (xnp.asarray([3.0, 1.0, np.nan, -2.0]),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    fn, make_args = CASES[name]
    args = make_args()
    text = normalize(xf.jit(fn).lower(*args).as_text())
    path = os.path.join(GOLDEN_DIR, f"{name}.mlir")
    if REGEN or not os.path.exists(path):
        if not REGEN:
            pytest.fail(f"no golden file {path}; run with XLAFRONT_REGEN_GOLDEN=1 to write it")
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(path) as f:
        expected = f.read()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            f"golden/{name}.mlir", "lowered"))
        pytest.fail(f"StableHLO of {name} changed (XLAFRONT_REGEN_GOLDEN=1 accepts it):\n{diff}")
    # the golden program compiles and agrees with running the function op by op
    jitted = xf.jit(fn)(*args)
    eager = fn(*args)
    for a, b in zip(jitted if isinstance(jitted, tuple) else (jitted,),
                    eager if isinstance(eager, tuple) else (eager,)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, equal_nan=True)


def test_normalize_makes_paths_relative():
    t = 'x loc("' + os.path.join(ROOT, "tests", "a.py") + '":1:2) y loc("/elsewhere/b.py":3:4)'
    assert normalize(t) == 'x loc("tests/a.py":1:2) y loc("b.py":3:4)'
