"""The special-point table (xlafront/testing/special_points.py) against JAX: one case per
(function, check). A case listed in xlafront/testing/differences.py must still differ;
every other case must match JAX (values incl. NaN/inf/zero signs, dtype, weak type, grad,
jvp, vmap)."""
import pytest

from xlafront.testing import special_points as sp
from xlafront.testing.differences import DIFFERENCES

CASES = sp.cases()


def test_table_is_large_and_names_are_unique():
    assert len(sp.TABLE) >= 250
    assert len({e.name for e in sp.TABLE}) == len(sp.TABLE)
    # every listed difference names a real case of the table
    assert not set(DIFFERENCES) - set(CASES), sorted(set(DIFFERENCES) - set(CASES))


def test_engine_detects_a_difference():
    # the comparison itself: NaN positions, inf signs, zero signs and tolerance
    import numpy as np
    assert sp.compare_values(np.float32([np.nan, 1]), np.float32([np.nan, 1]), 1e-5) == ""
    assert sp.compare_values(np.float32([np.inf]), np.float32([-np.inf]), 1e-5)
    assert sp.compare_values(np.float32([-0.0]), np.float32([0.0]), 1e-5)
    assert sp.compare_values(np.float32([1.0]), np.float32([1.001]), 1e-5)
    assert sp.compare_values(np.float32([np.nan]), np.float32([0.0]), 1e-5)
    assert sp.compare_values(np.int32([3]), np.int32([3]), 1e-5) == ""


@pytest.mark.parametrize("name,check", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_special_points(name, check):
    entry = sp.ENTRIES[name]
    msg = sp.check(entry, check)
    if (name, check) in DIFFERENCES:
        assert msg, f"listed difference no longer differs (remove it): {DIFFERENCES[(name, check)]}"
    else:
        assert not msg, f"{name} {check} differs from JAX:\n{msg}"
