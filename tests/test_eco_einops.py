"""einops under `python -m xlafront run`: rearrange / reduce / repeat inside jit and grad
(tests/eco_programs/einops_prog.py); values, gradients and shapes match JAX's."""
import pytest

pytest.importorskip("einops", reason="einops is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_einops_in_jit_and_grad_match_jax():
    jax_out, xf_out, _, _ = run_both("einops")
    assert_same_output(jax_out, xf_out, rtol=1e-6, atol=1e-7)
