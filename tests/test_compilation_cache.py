"""The persistent compilation cache (lowering/runtime.py), with JAX's option names."""
import glob
import hashlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront.config import config
from xlafront.lowering import runtime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = """
import sys, json
import numpy as np
import xlafront as xf, xlafront.numpy as xnp
from xlafront.lowering import runtime
if len(sys.argv) > 1:
    xf.config.update("jax_compilation_cache_dir", sys.argv[1])
xf.config.update("jax_persistent_cache_min_compile_time_secs", 0)
f = xf.jit(lambda x, w: xnp.tanh(x @ w).sum(axis=0) * 3 - xnp.cos(x).mean())
x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
w = np.arange(6, dtype=np.float32).reshape(3, 2) / 7
print(json.dumps({"value": np.asarray(f(x, w)).tolist(), "stats": runtime.cache_stats}))
"""


def _run(*args, env_extra=None, code=PROGRAM):
    """Run `code` (PROGRAM by default) in a fresh process with `args`; its last line's JSON."""
    import json
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.update(env_extra or {})
    r = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=REPO, capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def _assert_expected(value):
    """PROGRAM's value against NumPy in float32. Its second entry (-0.0206) is a difference of
    terms of size ~1 (tanh sums times 3, cos mean 0.86), so it is compared to an absolute
    tolerance of a few float32 ulps of those terms, not relative to itself."""
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    w = np.arange(6, dtype=np.float32).reshape(3, 2) / 7
    expected = np.tanh(x @ w).sum(axis=0) * 3 - np.cos(x).mean()
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def _entries(folder):
    return sorted(glob.glob(os.path.join(folder, "xlafront-*")))


def test_second_process_loads_instead_of_compiling(tmp_path):
    first = _run(tmp_path)
    assert first["stats"]["misses"] >= 1 and first["stats"]["writes"] == first["stats"]["misses"]
    assert first["stats"]["hits"] == 0
    assert len(_entries(tmp_path)) == first["stats"]["writes"]
    second = _run(tmp_path)
    assert second["stats"]["misses"] == 0 and second["stats"]["writes"] == 0
    assert second["stats"]["hits"] == first["stats"]["misses"]
    _assert_expected(second["value"])
    assert second["value"] == first["value"]
    assert not glob.glob(os.path.join(tmp_path, ".tmp-*"))   # no temporary file left behind


def test_env_var_sets_the_directory(tmp_path):
    out = _run(env_extra={"JAX_COMPILATION_CACHE_DIR": str(tmp_path)})
    assert out["stats"]["writes"] >= 1 and _entries(tmp_path)
    again = _run(env_extra={"JAX_COMPILATION_CACHE_DIR": str(tmp_path)})
    assert again["stats"]["hits"] == out["stats"]["writes"] and again["stats"]["misses"] == 0


def test_off_by_default():
    code = ("import os; os.environ.pop('JAX_COMPILATION_CACHE_DIR', None)\n"
            "import xlafront as xf; print(xf.config.jax_compilation_cache_dir, "
            "xf.config.jax_persistent_cache_min_compile_time_secs, "
            "xf.config.jax_persistent_cache_min_entry_size_bytes)")
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["None", "1.0", "0"]   # JAX's defaults


@pytest.mark.parametrize("damage", ["payload", "truncated", "header", "foreign"])
def test_damaged_entry_is_ignored_and_replaced(tmp_path, damage):
    first = _run(tmp_path)
    for path in _entries(tmp_path):
        data = bytearray(open(path, "rb").read())
        if damage == "payload":
            data[-100] ^= 0xFF
        elif damage == "truncated":
            data = data[:len(data) // 2]
        elif damage == "header":
            data[:5] = b"XXXXX"
        else:   # well-formed entry whose executable jaxlib cannot load (another build's)
            head_len = data.index(b"\n", len(runtime._CACHE_MAGIC)) + 1
            payload = bytes(range(256)) * 8
            data = data[:head_len] + hashlib.sha256(payload).digest() + payload
        open(path, "wb").write(bytes(data))
    second = _run(tmp_path)
    assert second["stats"]["hits"] == 0
    assert second["stats"]["misses"] == first["stats"]["misses"]
    assert second["value"] == first["value"]
    # rewritten: the next process loads them
    third = _run(tmp_path)
    assert third["stats"]["hits"] == first["stats"]["misses"] and third["stats"]["misses"] == 0


def test_entry_under_another_key_is_not_used(tmp_path):
    """A valid entry copied to another program's file name must not run as that program."""
    _run(tmp_path)
    entries = _entries(tmp_path)
    code = PROGRAM.replace("* 3 -", "* 4 -")   # a different program
    other = tmp_path / "other"
    _run(other, code=code)
    others = _entries(other)
    # overwrite each of the other program's entries with one of the first program's
    for dst in others:
        os.replace(dst, dst + ".bak")
        with open(entries[0], "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    out = _run(other, code=code)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    w = np.arange(6, dtype=np.float32).reshape(3, 2) / 7
    np.testing.assert_allclose(out["value"], np.tanh(x @ w).sum(axis=0) * 4 - np.cos(x).mean(), rtol=1e-5)
    assert out["stats"]["hits"] == 0


@pytest.fixture
def cache_config(tmp_path):
    saved = (config.compilation_cache_dir, config.persistent_cache_min_compile_time_secs,
             config.persistent_cache_min_entry_size_bytes)
    before = dict(runtime.cache_stats)
    config.update("jax_compilation_cache_dir", str(tmp_path))
    try:
        yield tmp_path, before
    finally:
        config.compilation_cache_dir, config.persistent_cache_min_compile_time_secs, \
            config.persistent_cache_min_entry_size_bytes = saved


def _delta(before):
    return {k: runtime.cache_stats[k] - before[k] for k in before}


def test_min_compile_time_threshold(cache_config):
    folder, before = cache_config
    # JAX's default of 1 s: a small program compiles faster and is not written
    assert config.jax_persistent_cache_min_compile_time_secs == 1.0
    out = xf.jit(lambda x: x * 5.5 + 1)(np.float32(2))
    assert float(out) == 12.0
    d = _delta(before)
    assert d["misses"] >= 1 and d["writes"] == 0 and _entries(folder) == []
    config.update("jax_persistent_cache_min_compile_time_secs", 0)
    before = dict(runtime.cache_stats)
    assert float(xf.jit(lambda x: x * 6.5 + 1)(np.float32(2))) == 14.0
    d = _delta(before)
    assert d["writes"] == d["misses"] >= 1 and len(_entries(folder)) == d["writes"]


def test_min_entry_size_threshold(cache_config):
    folder, before = cache_config
    config.update("jax_persistent_cache_min_compile_time_secs", 0)
    config.update("jax_persistent_cache_min_entry_size_bytes", 1 << 40)
    assert float(xf.jit(lambda x: x * 7.5 - 1)(np.float32(2))) == 14.0
    d = _delta(before)
    assert d["misses"] >= 1 and d["writes"] == 0 and _entries(folder) == []


def test_host_callback_programs_are_not_cached(cache_config):
    folder, before = cache_config
    config.update("jax_persistent_cache_min_compile_time_secs", 0)
    f = xf.jit(lambda x: xf.pure_callback(lambda v: np.asarray(v) * 2, xf.ShapeDtypeStruct((), np.float32), x) + 1)
    assert float(f(np.float32(3))) == 7.0
    assert _delta(before)["writes"] == 0 and _entries(folder) == []


def test_unwritable_directory_warns_and_still_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    saved = (config.compilation_cache_dir, config.persistent_cache_min_compile_time_secs)
    config.update("jax_compilation_cache_dir", str(blocker / "cache"))
    config.update("jax_persistent_cache_min_compile_time_secs", 0)
    runtime._cache_warned = False
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert float(xf.jit(lambda x: x * 8.5 - 1)(np.float32(2))) == 16.0
        assert any("persistent compilation cache" in str(m.message) for m in w)
        assert float(xf.jit(lambda x: x * 9.5 - 1)(np.float32(2))) == 18.0
    finally:
        config.compilation_cache_dir, config.persistent_cache_min_compile_time_secs = saved


def test_linalg_program_from_cache_registers_lapack(tmp_path):
    """A program with LAPACK calls loaded from the cache still finds its kernels."""
    code = PROGRAM.replace("xnp.tanh(x @ w).sum(axis=0) * 3 - xnp.cos(x).mean()",
                           "xnp.linalg.solve(x.T @ x + xnp.eye(3), w).sum(axis=1)")
    outs = [_run(tmp_path, code=code) for _ in range(2)]
    assert outs[1]["stats"]["hits"] >= 1 and outs[1]["stats"]["misses"] == 0
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    w = np.arange(6, dtype=np.float32).reshape(3, 2) / 7
    np.testing.assert_allclose(outs[1]["value"], np.linalg.solve(x.T @ x + np.eye(3), w).sum(axis=1), rtol=1e-4)


# ----------------------------------------------------------------------------- lookup before lowering
# _PIN: the subprocess tests below pin the hash of xlafront's sources that the graph key
# includes, so that an edit to the checkout between their two processes (other work going
# on in it) cannot turn the second lookup into a miss; test_source_hash_* checks that hash.
def test_second_process_skips_lowering(tmp_path):
    """The second process finds the executable by the traced graph's key: no lowering."""
    code = PROGRAM.replace("from xlafront.lowering import runtime\n", """from xlafront.lowering import runtime
import xlafront.dispatch as D
import xlafront.lowering.graph_key as GK
GK._source_hash = "pinned"   # (see _PIN)
_lower = D.lower_graph
lowerings = []
def counting(*a, **k):
    lowerings.append(1)
    return _lower(*a, **k)
D.lower_graph = counting
""").replace('"stats": runtime.cache_stats', '"stats": runtime.cache_stats, "lowerings": len(lowerings)')
    outs = [_run(tmp_path, code=code) for _ in range(2)]
    assert outs[0]["lowerings"] >= 1 and outs[0]["stats"]["writes"] >= 1
    assert glob.glob(os.path.join(tmp_path, "xlafront_g-*"))
    assert outs[1]["lowerings"] == 0 and outs[1]["stats"]["misses"] == 0
    assert outs[1]["stats"]["hits"] == outs[0]["stats"]["misses"]
    assert outs[1]["value"] == outs[0]["value"]
    _assert_expected(outs[1]["value"])


def _key(f, *args):
    from xlafront.lowering.graph_key import graph_key
    lowered = xf.jit(f).lower(*args)
    return graph_key(lowered.name, lowered.closed.graph, lowered.closed.consts)


def test_graph_key_tells_programs_apart():
    from xlafront.lowering.emitter import lower_graph
    from xlafront.lowering.graph_key import graph_key
    x = np.ones((3,), np.float32)

    def f(x):
        return xnp.sin(x) * 2.0

    def g(x):
        return xnp.sin(x) * 2.0000002   # another float32 literal

    def h(x):
        return xnp.sin(x) * -0.0

    def h0(x):
        return xnp.sin(x) * 0.0   # -0.0 and 0.0 lower to different constants

    def s(x):
        return xnp.sum(x, axis=0)   # a param differs from ...

    def s2(x):
        return xnp.max(x, axis=0)   # ... and a primitive

    c1, c2 = np.arange(3, dtype=np.float32), np.arange(3, dtype=np.float32)
    c2[1] = np.float32(1.0000001)

    def k1(x):
        return x + c1

    def k2(x):   # an inlined const differing in one bit
        return x + c2

    keys = [_key(fn, x) for fn in (f, g, h, h0, s, s2, k1, k2)]
    assert None not in keys and len(set(keys)) == len(keys)
    assert _key(f, x) == keys[0]                        # the same program: the same key
    assert _key(f, np.ones((4,), np.float32)) != keys[0]   # another shape
    lo = xf.jit(f).lower(x)
    assert graph_key("other", lo.closed.graph, lo.closed.consts) != keys[0]   # the module's name
    # where the keys agree, the texts do
    texts = {graph_key(lo.name, lo.closed.graph, lo.closed.consts): lower_graph(lo.name, lo.closed.graph)[0]}
    assert texts == {keys[0]: lo.as_text()}


def test_graph_key_includes_the_source_location():
    x = np.ones((3,), np.float32)
    f1 = lambda x: xnp.cos(x) + 1   # noqa: E731
    f2 = lambda x: xnp.cos(x) + 1   # noqa: E731  (same code, another line: another loc(...))
    assert _key(f1, x) != _key(f2, x)


def test_graph_key_of_a_python_callback_is_none():
    """A param the key cannot vouch for (here a Python function) means no early lookup."""
    f = lambda x: xf.pure_callback(lambda v: np.asarray(v) * 2, xf.ShapeDtypeStruct((), np.float32), x)  # noqa: E731
    assert _key(f, np.float32(3)) is None


def test_graph_key_tells_a_shared_subprogram_from_two_equal_ones():
    """A nested jit called twice is emitted once; two equal nested programs twice."""
    from xlafront.core import Equation, Graph
    from xlafront.lowering.emitter import lower_graph
    from xlafront.lowering.graph_key import graph_key
    x = np.ones((3,), np.float32)
    inner = xf.jit(lambda v: xnp.tanh(v) * 3)
    g = xf.jit(lambda x: inner(inner(x))).lower(x).closed.graph
    e0, e1 = g.eqns
    assert e0.params["graph"] is e1.params["graph"]
    sub = e1.params["graph"]
    copy = Graph(sub.constvars, sub.invars, list(sub.eqns), sub.outvars)   # equal, not the same
    g2 = Graph(g.constvars, g.invars, [e0, Equation(e1.prim, e1.invars, e1.outvars,
                                                    dict(e1.params, graph=copy), e1.source)], g.outvars)
    assert lower_graph("f", g)[0] != lower_graph("f", g2)[0]   # one callee, or two
    assert graph_key("f", g) != graph_key("f", g2)
    assert graph_key("f", g) == graph_key("f", g)


def test_graph_key_of_a_rule_from_outside_xlafront_is_none():
    """A lowering rule replaced by user code is not covered by xlafront's source hash: no key."""
    from xlafront.lowering.registry import lowering_rules
    from xlafront.primitives import sin_p
    x = np.ones((3,), np.float32)
    f = lambda x: xnp.sin(x) + 1   # noqa: E731
    assert _key(f, x) is not None
    saved = lowering_rules[sin_p]

    def my_sin(ctx, x):
        return saved(ctx, x)

    lowering_rules[sin_p] = my_sin
    try:
        assert _key(f, x) is None
    finally:
        lowering_rules[sin_p] = saved
    assert _key(f, x) is not None


def test_second_process_skips_lowering_with_consts(tmp_path):
    """Closed-over arrays: small ones inlined, a large one passed as an argument -- a load by
    graph key must still pass the large one (and a changed small one is another program)."""
    code = """
import sys, json
import numpy as np
import xlafront as xf, xlafront.numpy as xnp
from xlafront.lowering import runtime
import xlafront.dispatch as D
import xlafront.lowering.graph_key as GK
GK._source_hash = "pinned"   # (see _PIN)
xf.config.update("jax_compilation_cache_dir", sys.argv[1])
xf.config.update("jax_persistent_cache_min_compile_time_secs", 0)
_lower = D.lower_graph
lowerings = []
D.lower_graph = lambda *a, **k: (lowerings.append(1), _lower(*a, **k))[1]
big = np.arange(200, dtype=np.float32).reshape(100, 2) / 50
small = np.array([1.5, -2.0], np.float32) * float(sys.argv[2])
f = xf.jit(lambda x: xnp.tanh(x @ big) + small)
print(json.dumps({"value": np.asarray(f(np.ones((3, 100), np.float32))).tolist(),
                  "stats": runtime.cache_stats, "lowerings": len(lowerings)}))
"""

    def run(scale):
        return _run(tmp_path, scale, code=code)

    big = np.arange(200, dtype=np.float32).reshape(100, 2) / 50
    for scale, first in ((1, True), (1, False), (3, True)):
        out = run(scale)
        expected = np.tanh(np.ones((3, 100), np.float32) @ big) + np.array([1.5, -2.0]) * scale
        np.testing.assert_allclose(out["value"], expected, rtol=1e-4)
        if first:
            assert out["lowerings"] == 1 and out["stats"]["hits"] == 0
        else:
            assert out["lowerings"] == 0 and out["stats"]["hits"] == 1 and out["stats"]["misses"] == 0


def test_source_hash_covers_the_lowering_sources(monkeypatch, tmp_path):
    """The graph key hashes xlafront's source files: a changed rule file is another key."""
    import shutil
    import xlafront.lowering
    from xlafront.lowering import graph_key as GK
    fake = tmp_path / "lowering"
    shutil.copytree(xlafront.lowering.__path__[0], fake, ignore=shutil.ignore_patterns("__pycache__"))
    # source_hash reads the packages' folders from their import specs
    monkeypatch.setattr(xlafront.lowering.__spec__, "submodule_search_locations", [str(fake)])
    monkeypatch.setattr(GK, "_source_hash", None)
    h1 = GK.source_hash()
    assert GK.source_hash() == h1
    with open(fake / "rules.py", "a") as f:
        f.write("\n# changed\n")
    monkeypatch.setattr(GK, "_source_hash", None)
    h2 = GK.source_hash()
    assert h2 != h1
    # an edit that keeps the size: the modification time tells (as for Python's .pyc files)
    st = os.stat(fake / "rules.py")
    text = (fake / "rules.py").read_text()
    (fake / "rules.py").write_text(text[:-2] + "X\n")
    os.utime(fake / "rules.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    monkeypatch.setattr(GK, "_source_hash", None)
    assert GK.source_hash() not in (h1, h2)
