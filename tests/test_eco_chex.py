"""chex under `python -m xlafront run`: assert_shape / assert_rank inside jit (and their
AssertionErrors), assert_trees_all_close, and chex.dataclass as a pytree through jit, grad
and tree_map (tests/eco_programs/chex_prog.py); everything printed matches JAX's."""
import pytest

pytest.importorskip("chex", reason="chex is not installed (pip install '.[ecosystem]')")

from eco_compare import assert_same_output, run_both  # noqa: E402


def test_chex_asserts_and_dataclass_match_jax():
    jax_out, xf_out, _, _ = run_both("chex")
    assert_same_output(jax_out, xf_out, rtol=1e-6, atol=1e-7)
