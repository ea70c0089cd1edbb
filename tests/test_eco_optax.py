"""optax under `python -m xlafront run`: adam, and chain(clip_by_global_norm, adamw) with a
warmup-cosine schedule, fitting a small least-squares problem (tests/eco_programs/optax_prog.py);
the losses, parameters and schedule values match JAX's."""
import pytest

pytest.importorskip("optax", reason="optax is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_optax_adam_and_chain_match_jax():
    jax_out, xf_out, _, _ = run_both("optax")
    assert_same_output(jax_out, xf_out, rtol=1e-5, atol=1e-6)
