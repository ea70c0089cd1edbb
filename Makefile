# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-special test-live jax-refs bench venv clean fuzz

$(STAMP): pyproject.toml xlafront/_cfast.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,ecosystem]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) examples/quickstart.py

# the fast tier (goal: under 10 minutes on 2 cores); test-slow runs the rest (tests/conftest.py
# SLOW); .ci/run runs both.
# Most of the suite's time is XLA compiling small programs (for xlafront and for the JAX it
# is compared with, in the same process). The fast tier compiles them 2-3x faster with
# XLA:CPU's classic fusion emitters and LLVM's -O0 (FAST_XLA_FLAGS: a small jitted program
# 50 -> 23 ms of CPU, a jitted grad 310 -> 94 ms); the slow tier runs XLA's
# defaults, as users do. (At -O0 a few results round their last bits differently, in both
# libraries: the tests that see it say so.)
FAST_XLA_FLAGS := --xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0
test: $(STAMP)
	XLA_FLAGS="$(FAST_XLA_FLAGS) $$XLA_FLAGS" $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" tests

# JAX's side of most comparisons is read from tests/golden/jax_refs/ (tests/jax_ref.py: keyed by
# the function's code, its inputs, JAX's version, XLA_FLAGS and JAX's config; anything not
# recorded runs live). `make jax-refs` records it again (after changing tests, JAX's version or
# FAST_XLA_FLAGS); `make test-live` runs the fast tier with JAX live.
jax-refs: $(STAMP)
	rm -f tests/golden/jax_refs/*.pkl.gz
	XLAFRONT_JAX_REFS=record XLA_FLAGS="$(FAST_XLA_FLAGS) $$XLA_FLAGS" $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" tests

test-live: $(STAMP)
	XLAFRONT_JAX_REFS=live XLA_FLAGS="$(FAST_XLA_FLAGS) $$XLA_FLAGS" $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" tests

test-slow: $(STAMP)
	$(PY) -m pytest -n 2 -m slow tests

# long differential fuzz against JAX (FUZZ_EXAMPLES=N, default 2000); findings -> /tmp/fuzz_findings.md
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) tools/fuzz.py

# the whole special-point table against live JAX (make test reads JAX's side from
# tests/golden/special_points_jax.pkl.gz; regenerate it with
# `python -m xlafront.testing.special_points --regenerate --keep`)
test-special: $(STAMP)
	XLAFRONT_SPECIAL_POINTS=live $(PY) -m pytest -n 2 --dist loadgroup tests/test_special_points.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info xlafront/_cfast*.so
