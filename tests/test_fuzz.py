"""Random programs (xlafront/testing/fuzz.py) under xlafront and JAX must agree: values,
shapes, dtypes, weak types and errors, through random stacks of jit/grad/jvp/vmap/
linearize/vjp. Fixed seed (derandomize) and a modest budget here; `make fuzz` runs long."""
import numpy as np
from hypothesis import HealthCheck, given, settings

from xlafront.testing import fuzz

COUNT = {"programs": 0}


def test_program_prints_as_code_that_runs():
    p = fuzz.Program(((2, 3), (3,)), (fuzz.Op("mul", (0, 1)), fuzz.Op("sum", (2,))), ("grad", "vmap"), seed=1)
    code = p.to_code()
    assert "def program(m, v0, v1):" in code and "f = grad(m, f)" in code
    rx, rj = fuzz.run_program(p)
    assert fuzz.compare(rx, rj) == ""
    assert rx[0].shape == (2, 2, 3)
    # the comparison catches a difference
    bad = (rx[0] + 1, rx[1], rx[2])
    assert fuzz.compare(bad, rj)
    assert fuzz.compare(fuzz.Raised(ValueError("x")), rj)


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz.programs())
def test_random_programs_match_jax(p):
    COUNT["programs"] += 1
    fuzz.check_program(p)
