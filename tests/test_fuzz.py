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


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz.programs())
def test_random_programs_match_jax(p):
    COUNT["programs"] += 1
    fuzz.check_program(p)


class _FixedInputs(fuzz.Program):
    def input_values(self):
        return [np.array([[np.inf, np.inf, 2.454310417175293]], np.float32)]


def test_eager_and_jitted_jax_differ_xlafront_follows_jit(monkeypatch):
    # found by the fuzzer: the second vjp of tanh(min(x ** x)) at [inf, inf, 2.45]. Eager
    # JAX multiplies min's 0/1 mask into a cotangent whose derivative meets inf (0 * inf =
    # NaN at the finite entry too); under jit XLA makes that product a select and JAX gives
    # a finite value there, as xlafront does (docs/differences.md). `mismatch` accepts
    # jitted JAX's answer. (That value is -0.0002, or 0 where XLA's tanh(9.05) rounds to 1,
    # as with LLVM's default optimization level.)
    p = _FixedInputs(((1, 3),), (fuzz.Op("pow", (0, 0)), fuzz.Op("amin", (1,)), fuzz.Op("tanh", (2,))),
                     ("vjp", "vjp"))
    rx, rj = fuzz.run_program(p)
    assert fuzz.compare(rx, rj)                      # eager JAX: NaN where xlafront has 0
    assert np.isnan(rj[0][0, 2]) and np.isfinite(rx[0][0, 2])
    stats = {}
    assert fuzz.mismatch(p, stats) == "" and stats == {"jit_only": 1}
    # a result that matches neither of JAX's modes is a mismatch
    real = fuzz.run_program
    monkeypatch.setattr(fuzz, "run_program", lambda p, jax_jit=False: (
        lambda rx, rj: ((rx[0] + 1, rx[1], rx[2]), rj))(*real(p, jax_jit)))
    assert "differ" in fuzz.mismatch(p, stats) and stats == {"jit_only": 1}


class _LogaddexpInputs(fuzz.Program):
    def input_values(self):
        return [np.array(0.598025918006897, np.float32),
                np.array([[-2.3894705772399902, -1.0129410028457642, np.inf]], np.float32)]


def test_documented_logaddexp_difference_is_recognized():
    # found by the fuzzer: vjp of logaddexp(x, [.., +inf]) wrt a broadcast x. JAX 0.10.2's
    # derivative at (finite, +inf) is exp(x); xlafront's is 0 (docs/differences.md). The
    # fuzzer re-runs JAX with that one derivative replaced and then they agree.
    p = _LogaddexpInputs(((), (1, 3)), (fuzz.Op("logaddexp", (0, 1)),), ("vjp",))
    rx, rj = fuzz.run_program(p)
    w = 1 / (1 + np.exp(np.float32([-2.3894705772399902, -1.0129410028457642]) - 0.598025918006897))
    np.testing.assert_allclose(rx[0], w.sum(), rtol=1e-6)                   # the 0 at +inf
    np.testing.assert_allclose(rj[0], w.sum() + np.exp(0.598025918006897), rtol=1e-6)
    stats = {}
    assert fuzz.mismatch(p, stats) == "" and stats == {"documented": 1}


def test_documented_jax_equals_jax_away_from_the_difference():
    # the replaced derivative is JAX's own wherever the difference does not apply (finite
    # points, both +inf, second derivatives), so it cannot hide other mismatches there
    import jax
    j, d = jax, fuzz._jax_with_documented_differences(jax)
    x = np.float32([-3.0, -0.0, 0.5, 2.0, np.inf, -np.inf, np.nan])
    y = np.float32([1.0, 0.0, 0.5, -4.0, np.inf, -np.inf, 1.0])
    for m in (j, d):
        assert m.numpy.logaddexp is not None
    gj = jax.vmap(jax.grad(lambda a, b: j.numpy.logaddexp(a, b), argnums=(0, 1)))(x, y)
    gd = jax.vmap(jax.grad(lambda a, b: d.numpy.logaddexp(a, b), argnums=(0, 1)))(x, y)
    np.testing.assert_allclose(np.asarray(gd), np.asarray(gj), rtol=1e-6, equal_nan=True)
    hj = jax.vmap(jax.grad(jax.grad(j.nn.softplus)))(x[:4])
    hd = jax.vmap(jax.grad(jax.grad(d.nn.softplus)))(x[:4])
    np.testing.assert_allclose(np.asarray(hd), np.asarray(hj), rtol=1e-5)
