"""The special-point table (xlafront/testing/special_points.py) against JAX: one case per
(function, check). A case listed in xlafront/testing/differences.py must still differ;
every other case must match JAX (values incl. NaN/inf/zero signs, dtype, weak type, grad,
jvp, vmap).

`make test` runs every case of the table. JAX's side comes from the golden file
tests/golden/special_points_jax.pkl.gz (JAX 0.10.2's results for every case, written by
`python -m xlafront.testing.special_points --regenerate --keep`), so a case costs only
xlafront's run; `test_golden_file_is_what_jax_computes` re-runs JAX live on entries of every
family and must find the file's results. `make test-special` (XLAFRONT_SPECIAL_POINTS=live)
runs the whole table against live JAX instead."""
import os

import pytest

from xlafront.testing import special_points as sp
from xlafront.testing.differences import DIFFERENCES

# table entries whose function xlafront does not implement yet
NOT_YET = set()
LIVE_ALL = os.environ.get("XLAFRONT_SPECIAL_POINTS") == "live"
CASES = sp.cases()
if not LIVE_ALL:
    sp.JAX_SOURCE = "golden"
# re-run live against the golden file: entries of every family and edge group
LIVE = ("numpy.arccosh", "numpy.power", "numpy.nanmax", "numpy.quantile", "lax.cummax",
        "nn.softplus", "scipy.special.zeta", "numpy.linalg.pinv[singular]", "at.set[dup]",
        "numpy.take[clip]", "scipy.special.expi", "scipy.stats.norm.logcdf")


@pytest.mark.parametrize("name", LIVE)
def test_golden_file_is_what_jax_computes(name):
    entry = sp.ENTRIES[name]
    golden = sp.golden()
    checks = [k[1] for k in sp.all_result_keys() if k[0] == name]
    assert checks
    for check in checks:
        live = sp._results(entry, check, "jax-live")
        stored = [sp._decode(r) for r in golden[(name, check, "jax")]]
        assert sp.same_results(live, stored) == "", (name, check)


def test_golden_file_covers_the_table():
    # a new table entry needs `python -m xlafront.testing.special_points --regenerate --keep`
    missing = set(sp.all_result_keys()) - set(sp.golden())
    assert not missing, f"not in the golden file (run {sp.REGENERATE} --keep): {sorted(missing)[:10]}"


def test_table_is_large_and_names_are_unique():
    assert len(sp.TABLE) >= 250 and set(LIVE) <= set(sp.ENTRIES)
    assert len({e.name for e in sp.TABLE}) == len(sp.TABLE)
    # every listed difference names a real case of the table
    assert not set(DIFFERENCES) - set(sp.cases()), sorted(set(DIFFERENCES) - set(sp.cases()))


def test_engine_detects_a_difference():
    # the comparison itself: NaN positions, inf signs, zero signs and tolerance
    import numpy as np
    assert sp.compare_values(np.float32([np.nan, 1]), np.float32([np.nan, 1]), 1e-5) == ""
    assert sp.compare_values(np.float32([np.inf]), np.float32([-np.inf]), 1e-5)
    assert sp.compare_values(np.float32([-0.0]), np.float32([0.0]), 1e-5)
    assert sp.compare_values(np.float32([1.0]), np.float32([1.001]), 1e-5)
    assert sp.compare_values(np.float32([np.nan]), np.float32([0.0]), 1e-5)
    assert sp.compare_values(np.int32([3]), np.int32([3]), 1e-5) == ""


# the cases of one jitted chunk stay on one xdist worker (tests/conftest.py group_of)
@pytest.mark.parametrize("name,check", [pytest.param(n, c, id=f"{n}-{c}") for n, c in CASES])
def test_special_points(name, check):
    entry = sp.ENTRIES[name]
    msg = sp.check(entry, check)
    if name in NOT_YET:
        # a JAX function xlafront lacks (docs/differences.md, "Known and not yet implemented"):
        # it must still say so clearly; implement it and this entry joins the comparison
        assert "NotImplementedYetError" in msg and "xlafront does not implement" in msg, msg
        return
    if (name, check) in DIFFERENCES:
        assert msg, f"listed difference no longer differs (remove it): {DIFFERENCES[(name, check)]}"
    else:
        assert not msg, f"{name} {check} differs from JAX:\n{msg}"
