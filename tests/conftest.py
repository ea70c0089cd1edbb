"""Fixtures shared by the test files."""
import functools
import gc

import jax
import pytest

import xlafront as xf


# Each compiled executable either library keeps alive holds ~6 memory mappings. An xdist worker
# runs ~2,800 tests, and one that kept every executable passes Linux's vm.max_map_count
# (65,530): five test modules with JAX live alone left 22,000. Past it a worker cannot map new
# code, the likely cause of the two crashes seen inside XLA compiles in full runs with JAX
# live. So after a module, a worker holding more than MAX_MAPS empties both libraries' caches.
# (Emptying after every module instead made many modules 10-30% slower: cold eager caches.)
MAX_MAPS = 30000


def _map_count():
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:   # no /proc: nothing to count
        return 0


@pytest.fixture(autouse=True, scope="module")
def _caches_bounded_between_modules():
    yield
    if _map_count() > MAX_MAPS:
        xf.clear_caches()
        jax.clear_caches()
        gc.collect()


@pytest.fixture
def x64():
    old_xf, old_jax = xf.config.x64, jax.config.jax_enable_x64
    xf.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        xf.config.update("jax_enable_x64", old_xf)
        jax.config.update("jax_enable_x64", old_jax)


# The slow tier. `make test` (what a developer runs; goal: under 10 minutes on 2 cores) leaves
# these out; `make test-slow` runs them with the whole special-point table, and `.ci/run`
# runs both tiers, so every test still gates a landing. A test goes here when a faster test
# in `make test` covers the same code path: float64/x64 repeats of float32 tests, long sweeps
# of samplers and transforms over many compiled programs, third derivatives, and dtype /
# weak-type / vmap / grad sweeps whose functions the special-point table checks at the same
# points in `make test`.
SLOW = {
    "test_igamma.py": {
        "test_float64_values_match_scipy_and_jax", "test_float32_values_as_accurate_as_jax",
        "test_scipy_gammainc_promotes_as_jax", "test_derivatives_match_finite_differences",
        "test_hessian_and_third_derivative", "test_gamma_sample_grads_match_jax",
        "test_gamma_sample_grads_match_inverse_cdf_differences", "test_beta_and_dirichlet_grads_match_jax",
        "test_beta_and_dirichlet_grads_float64", "test_other_gamma_based_samplers_differentiate_as_jax",
        "test_gamma_grad_under_vmap_and_jvp_and_key_has_no_tangent", "test_edge_cases_match_jax[float64]",
        "test_vmap_matches_loop", "test_dtypes_and_weak_types_match_jax",
    },
    "test_special_new.py": {
        "test_values_match_jax_float64", "test_dtypes_x64", "test_grads_match_jax_and_finite_differences_x64",
        "test_zeta_grads_x64_finite_differences_and_second_order", "test_zeta_grad_x_matches_jax[float64]",
        "test_closed_form_derivatives_x64", "test_dtypes_and_weak_types", "test_zeta_jvp_and_vmap",
        "test_grad_special_points", "test_special_points_exact", "test_second_derivatives",
        "test_vmap_matches_loop",
    },
    "test_scipy_stats.py": {"test_gamma_and_poisson_cdfs_match_jax", "test_vmap_matches_jax"},
    "test_sorting.py": {"test_unique", "test_vmap_against_jax", "test_lexsort_sort_complex_partition"},
    "test_statistics.py": {"test_cov_corrcoef", "test_vmap_against_jax", "test_histograms_bincount_digitize",
                           "test_interp"},
    "test_shapes.py": {"test_many_run_patterns_use_one_gather"},
    "test_ufuncs.py": {"test_ufuncs_with_x64"},
    "test_scipy_linalg.py": {"test_jvp_vjp_float64", "test_solve_pos_third_derivative_matches_general_solve",
                             "test_values_float64"},
    "test_linalg.py": {"test_jvp_vjp_float64", "test_weak_types_follow_jax"},
    "test_random.py": {"test_vmap_over_keys_matches_jax_and_loop",
                       "test_threefry_partitionable_flip_retraces_user_jit"},
    "test_reductions.py": {"test_x64_dtypes"},
    "test_setops.py": {"test_setops_x64", "test_setops_without_size"},
    "test_edge_indexing.py": {"test_x64_mixed_index_dtypes"},
    "test_math_extras.py": {"test_i0_float64_and_derivatives"},
    # ecosystem programs run twice (JAX, then `python -m xlafront run`), each 20-70 s end to end
    "test_eco_equinox.py": {"test_equinox_mlp_training_matches_jax"},
    "test_eco_diffrax.py": {"test_diffrax_solve_grad_vmap_match_jax"},
    "test_eco_flax.py": {"test_flax_linen_and_nnx_mlp_match_jax"},
    "test_eco_numpyro.py": {"test_numpyro_nuts_posterior_matches_jax"},
    # JAX's experimental L-BFGS and numpyro's Minimize (BFGS stays in the fast tier)
    "test_scipy_optimize.py": {"test_lbfgs_matches_jax_float64", "test_lbfgs_matches_jax_float32",
                               "test_numpyro_minimize_under_xlafront_run"},
}


# Modules whose tests share one costly module-scoped fixture (an 8-device worker subprocess,
# the 2-process run, the built wheel, the C-path processes): their tests stay on one xdist
# worker, in one work unit (group_of), or each worker that ran one of them would pay for the
# fixture again.
ONE_WORKER = {"test_sharding.py", "test_collectives.py", "test_pmap.py", "test_visualize_sharding.py",
              "test_explicit_sharding.py", "test_distributed.py", "test_packaging.py", "test_cfast.py"}


@functools.lru_cache(maxsize=None)
def group_of(nodeid):
    """The xdist work unit of a test: its module for ONE_WORKER modules, the jitted chunk of
    the special-point table its result comes from (compiled once, on one worker), else the
    test alone. (`make test` runs `--dist loadgroup`; pytest-xdist 3.8's own xdist_group marks
    do nothing under pytest 9, whose node ids it can no longer suffix, so the grouping is made
    here, by the scheduler below.)"""
    path, _, rest = nodeid.partition("::")
    fname = path.rsplit("/", 1)[-1]
    if fname in ONE_WORKER:
        return fname
    if fname == "test_special_points.py" and rest.startswith("test_special_points[") and rest.endswith("]"):
        from xlafront.testing import special_points as sp
        name, check = rest[len("test_special_points["):-1].rsplit("-", 1)
        return "special_points:" + sp.chunk_of(name, check)
    return nodeid


@pytest.hookimpl(optionalhook=True)   # an xdist hook: pytest without xdist (-p no:xdist) ignores it
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return group_of(nodeid)
    return Grouped(config, log)


def pytest_collection_modifyitems(config, items):
    seen, matched = set(), set()
    for item in items:
        names = SLOW.get(item.path.name)
        if not names:
            continue
        seen.add(item.path.name)
        for n in (item.originalname, item.name):
            if n in names:
                item.add_marker(pytest.mark.slow)
                matched.add((item.path.name, n))
    stale = sorted((f, n) for f in seen for n in SLOW[f] if (f, n) not in matched and "[" not in n)
    if stale and not config.getoption("keyword"):   # a renamed test must leave SLOW too
        raise pytest.UsageError(f"tests/conftest.py SLOW names tests that do not exist: {stale}")


def pytest_sessionfinish(session):
    """`make jax-refs` (XLAFRONT_JAX_REFS=record): each process writes what it recorded; an
    xdist worker hands its counts to the controller (pytest_testnodedown)."""
    import jax_ref
    jax_ref._write_recorded()
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out["jax_refs"] = dict(jax_ref.stats)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    import jax_ref
    for k, v in getattr(node, "workeroutput", {}).get("jax_refs", {}).items():
        jax_ref.stats[k] += v


def pytest_terminal_summary(terminalreporter):
    import jax_ref
    if any(jax_ref.stats.values()):
        terminalreporter.write_line(jax_ref.summary())
