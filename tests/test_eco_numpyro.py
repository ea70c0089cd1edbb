"""numpyro under `python -m xlafront run`: NUTS on a small Bayesian linear regression
(tests/eco_programs/numpyro_prog.py). NUTS amplifies 1-ulp differences into different
trajectories, so the posterior summaries are compared with a tolerance: each posterior
mean within 5% (a fraction of its posterior std here) and each std within 25% of JAX's."""
import pytest

pytest.importorskip("numpyro", reason="numpyro is not installed (pip install '.[ecosystem]')")

from eco_compare import run_both, split  # noqa: E402


def test_numpyro_nuts_posterior_matches_jax():
    jax_out, xf_out, _, _ = run_both("numpyro")
    jl, xl = jax_out.strip().splitlines(), xf_out.strip().splitlines()
    assert len(jl) == len(xl) == 3
    for a, b in zip(jl, xl):
        (ta, (mean_j, std_j)), (tb, (mean_x, std_x)) = split(a), split(b)
        assert ta == tb
        assert abs(mean_x - mean_j) <= 0.05 * abs(mean_j) + 0.5 * std_j, (a, b)
        assert abs(std_x - std_j) <= 0.25 * std_j, (a, b)
