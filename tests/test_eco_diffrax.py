"""diffrax under `python -m xlafront run`: a damped oscillator solved with Tsit5, the
gradient of the solution with respect to a parameter, and vmap over initial conditions
(tests/eco_programs/diffrax_prog.py); the numbers match JAX's."""
import pytest

pytest.importorskip("diffrax", reason="diffrax is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_diffrax_solve_grad_vmap_match_jax():
    jax_out, xf_out, _, _ = run_both("diffrax")
    assert_same_output(jax_out, xf_out, rtol=1e-5, atol=1e-6)
