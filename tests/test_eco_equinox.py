"""equinox under `python -m xlafront run`: eqx.nn.MLP trained with filter_jit and
filter_value_and_grad (tests/eco_programs/equinox_prog.py); outputs and losses match JAX's."""
import pytest

pytest.importorskip("equinox", reason="equinox is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_equinox_mlp_training_matches_jax():
    jax_out, xf_out, _, _ = run_both("equinox")
    assert_same_output(jax_out, xf_out, rtol=1e-5, atol=1e-6)
