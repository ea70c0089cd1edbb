"""xf.debug.visualize_array_sharding / visualize_sharding / inspect_array_sharding vs JAX.

JAX draws the grid with rich; without colour (stdout not a terminal, or no matplotlib) it
is a box-drawn table, which xlafront draws itself: the text must be JAX's, character for
character, for every layout whose table fits `max_width`. The sharded cases run in one
8-device worker subprocess (`python tests/test_visualize_sharding.py`), as
tests/test_sharding.py's do.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys

import numpy as np
import pytest

import device_worker

N = 8

# (shape, spec on a 4 x 2 mesh ('a', 'b')) pairs, and keyword variants
LAYOUTS = [((8, 4), ("a", "b")), ((8, 4), ("a",)), ((8, 4), (None, "b")), ((8, 4), ()),
           ((8, 4), ("b", "a")), ((8, 4), (("a", "b"),)), ((16,), ("a",)), ((16,), (("a", "b"),)),
           ((16,), ()), ((16,), ("b",)), ((3, 4), ()), ((8, 8), (("b", "a"),)), ((64, 2), (("a", "b"), None)),
           ((400, 4), ("a", "b")), ((8, 6), ("a", None)), ((2, 8), ("b", "a")), ((1, 1000), ())]
KWARGS = [{}, {"scale": 2}, {"scale": 0.5}, {"min_width": 3}, {"min_width": 20}, {"max_width": 40},
          {"use_color": False}]
# tables wider than max_width: rich shrinks the columns and wraps the labels away; xlafront
# shrinks them down to their labels (docs/differences.md)
OVERFLOW = [((2, 64), (None, ("a", "b"))), ((4, 400), ("a", "b"))]


def _capture(fn, *args, **kwargs):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(*args, **kwargs)
    return buf.getvalue()


def _arrays(shape, spec):
    import jax
    import xlafront as xf
    from jax.sharding import NamedSharding as JN, PartitionSpec as JP
    from xlafront.sharding import NamedSharding as XN, PartitionSpec as XP
    jm, xm = jax.make_mesh((4, 2), ("a", "b")), xf.make_mesh((4, 2), ("a", "b"))
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return (jax.device_put(x, JN(jm, JP(*spec))), xf.device_put(x, XN(xm, XP(*spec))))


def case_grids_match_jax():
    import jax
    import xlafront as xf
    checked = 0
    for shape, spec in LAYOUTS:
        ja, xa = _arrays(shape, spec)
        for kw in KWARGS:
            j = _capture(jax.debug.visualize_array_sharding, ja, **kw)
            x = _capture(xf.debug.visualize_array_sharding, xa, **kw)
            width = max(len(line) for line in j.splitlines())
            if width >= kw.get("max_width", 80):
                continue   # rich shrank it (see OVERFLOW)
            assert x == j, f"{shape} {spec} {kw}:\nJAX:\n{j}\nxlafront:\n{x}"
            checked += 1
    assert checked > 100, checked
    # visualize_sharding takes a shape and a sharding
    ja, xa = _arrays((8, 4), ("a", "b"))
    assert _capture(xf.debug.visualize_sharding, (8, 4), xa.sharding) == \
        _capture(jax.debug.visualize_sharding, (8, 4), ja.sharding)


def case_wide_tables_keep_their_labels():
    import jax
    import xlafront as xf
    for shape, spec in OVERFLOW:
        ja, xa = _arrays(shape, spec)
        for kw in [{}, {"max_width": 40}]:
            j = _capture(jax.debug.visualize_array_sharding, ja, **kw)
            x = _capture(xf.debug.visualize_array_sharding, xa, **kw)
            jl, xl = j.splitlines(), x.splitlines()
            jw, xw = max(len(line) for line in jl), max(len(line) for line in xl)
            if xw > jw:   # the labels do not fit in max_width: the columns are just the labels
                assert "│CPU 0│CPU 1│" in x or "│CPU 0│CPU 2│" in x, x
            else:
                assert xw == jw <= kw.get("max_width", 80)
            # the same blocks: as many columns and rows of cells
            assert xl[0].count("┬") == jl[0].count("┬") and x.count("├") == j.count("├")
            for i in range(N):   # every device's label is shown (rich's table lost them)
                assert f"CPU {i} " in x or f"CPU {i}│" in x, x


def case_inspect_array_sharding():
    import jax
    import xlafront as xf
    from xlafront._missing import NotImplementedYetError
    ja, xa = _arrays((8, 4), ("a", "b"))
    got_j, got_x = [], []
    jax.debug.inspect_array_sharding(ja, callback=got_j.append)
    xf.debug.inspect_array_sharding({"k": xa}, callback=got_x.append)
    assert [repr(s) for s in got_x] == [repr(s) for s in got_j]
    try:
        xf.jit(lambda v: xf.debug.inspect_array_sharding(v, callback=print))(xa)
    except NotImplementedYetError as e:
        assert "inspect_array_sharding" in str(e)
    else:
        raise AssertionError("no error")


CASES = {name[5:]: fn for name, fn in list(globals().items()) if name.startswith("case_")}


def _worker(only=None):
    device_worker.run_cases(CASES, N, only)


@pytest.fixture(scope="module")
def results():
    return device_worker.results_of(__file__, "visualize", timeout=300)


_check = device_worker.check


def test_grids_match_jax(results):
    _check(results, "grids_match_jax")


def test_wide_tables_keep_their_labels(results):
    _check(results, "wide_tables_keep_their_labels")


def test_inspect_array_sharding(results):
    _check(results, "inspect_array_sharding")


def test_every_case_has_a_test():
    assert set(CASES) <= {n[5:] for n in globals() if n.startswith("test_")}


def test_single_device_and_bad_input():
    """In the suite's own process (one device): a single-device array, and the errors."""
    import jax
    import xlafront as xf
    for shape in [(3, 4), (5,), (300, 4), (3, 400)]:
        assert _capture(xf.debug.visualize_array_sharding, xf.numpy.zeros(shape)) == \
            _capture(jax.debug.visualize_array_sharding, jax.numpy.zeros(shape))
    with pytest.raises(ValueError, match="only works for shapes with 1 and 2 dimensions"):
        xf.debug.visualize_array_sharding(xf.numpy.zeros((2, 2, 2)))
    with pytest.raises(AttributeError, match="takes an array with a sharding"):
        xf.debug.visualize_array_sharding(np.zeros(3))
    with pytest.raises(ValueError, match="needs a concrete array"):
        xf.jit(xf.debug.visualize_array_sharding)(xf.numpy.zeros(3))
    assert _capture(xf.debug.visualize_array_sharding, xf.numpy.zeros(2)).startswith("┌")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _worker()
