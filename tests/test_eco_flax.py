"""flax under `python -m xlafront run`: an MLP with flax.linen (init, jit(apply), grad) and
with flax.nnx (init, call, nnx.jit + nnx.value_and_grad) (tests/eco_programs/flax_prog.py);
outputs and gradients match JAX's."""
import pytest

pytest.importorskip("flax", reason="flax is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_flax_linen_and_nnx_mlp_match_jax():
    jax_out, xf_out, _, _ = run_both("flax")
    assert_same_output(jax_out, xf_out, rtol=1e-5, atol=1e-6)
