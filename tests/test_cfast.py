"""The jit hot path in C (xlafront/_cfast.c) and its Python fallback (XLAFRONT_NO_CEXT=1).

The extension must be built in this install (`make` runs `pip install -e .`). The same set
of jit calls runs in three fresh processes -- xlafront with the extension, xlafront with
the Python path, and JAX -- and their results must agree (values, dtypes, weak types,
errors, trace counts)."""
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))


# ----------------------------------------------------------------------------- the cases
def _cases(lib):
    """Run every case with `lib` ("jax" or "xlafront"); {name: result} of plain data."""
    if lib == "jax":
        import jax as m
        import jax.numpy as np_
        disable_jit, debug_nans = m.disable_jit, m.debug_nans
    else:
        import xlafront as m
        import xlafront.numpy as np_
        disable_jit, debug_nans = m.disable_jit, m.debug_nans
    jit, grad, vmap, config = m.jit, m.grad, m.vmap, m.config
    out = {}

    def rec(name, v):
        def one(a):
            a_np = np.asarray(a)
            vals = ["nan" if v != v else v for v in a_np.ravel().tolist()]   # NaN == NaN here
            return (a_np.dtype.str, a_np.shape, vals, bool(getattr(a, "weak_type", False)),
                    type(a).__name__ in ("ArrayImpl", "Array"))
        out[name] = m.tree_util.tree_map(one, v)

    x3 = np_.arange(3, dtype=np_.float32) + 1.0
    x4 = np_.arange(4, dtype=np_.float32)
    i3 = np_.arange(3, dtype=np_.int32)

    def f(x):
        return x * 2.0 + 1.0

    jf = jit(f)
    rec("hit", [jf(x3) for _ in range(3)])
    # new signatures, and back to the first (the inline cache follows the avals)
    rec("signatures", [jf(x3), jf(x4), jf(i3), jf(x3), jf(x4), jf(x3)])
    rec("weak", jf(np_.asarray(2.0)))
    rec("python_scalar", [jf(2.0), jf(3)])
    rec("numpy_arg", [jf(np.ones(3, np.float32)), jf(np.ones(3, np.float32))])
    # several positional Arrays, several outputs
    g2 = jit(lambda a, b: (a + b, a * b))
    g3 = jit(lambda a, b, c: a * b - c)
    g5 = jit(lambda a, b, c, d, e: {"s": a + b + c + d + e, "p": a * e})
    rec("arity", [g2(x3, x3), g2(x3, x3), g3(x3, x3, x3), g3(x3, x3, x3),
                  g5(x3, x3, x3, x3, x3), g5(x3, x3, x3, x3, x3), g5(x4, x4, x4, x4, x4)])
    g0 = jit(lambda: np_.arange(3.0) * 2)
    rec("no_args", [g0(), g0()])
    # pytrees in and out
    d = {"a": x3, "b": [x4, (i3,)]}
    gt = jit(lambda t: {"x": t["a"] * 2, "y": t["b"][0].sum(), "z": t["b"][1][0] + 1})
    rec("pytree", [gt(d), gt(d)])
    # pytrees of builtin containers (xlafront: matched by their structure, no flatten):
    # the same structure again, insertion order, a key swapped, a leaf changed in place,
    # None, int keys, a namedtuple, a numpy leaf
    import collections
    Pt = collections.namedtuple("Pt", "a b")
    gd2 = jit(lambda t, u: jax_like_sum(t, u))

    def jax_like_sum(t, u):
        return {"t": m.tree_util.tree_map(lambda v: v * 2, t), "u": m.tree_util.tree_leaves(u)}

    p1 = {"w": x3, "b": [x4, None, (x3, i3)]}
    p2 = {"b": [x4, None, (x3, i3)], "w": x3}             # other insertion order
    p3 = {"w": x3, "c": [x4, None, (x3, i3)]}             # a key renamed
    p4 = {"w": x4, "b": [x4, None, (x3, i3)]}             # a leaf of another shape
    p5 = {"w": x3, "b": [x4, None, (x3, i3), x3]}         # a longer list
    p6 = {1: x3, 0: x4}
    p7 = Pt(x3, {"k": x4})
    p8 = {"w": np.ones(3, np.float32), "b": x4}
    r = []
    for t in (p1, p1, p2, p1, p3, p3, p4, p4, p5, p1, p6, p6, p7, p7, p8, p8, p1):
        for _ in range(2):
            res = gd2(t, [x3, t])
            r.append((tuple(res["t"]), res["u"]) if t is p7 else res)   # (picklable)
    mutable = {"w": x3, "b": x4}
    r.append(gd2(mutable, x3))
    mutable["w"] = x4 + 10                                 # same key, new value and aval
    r.append(gd2(mutable, x3))
    mutable["w"] = x3 - 10                                 # back to the first aval, new value
    r.append(gd2(mutable, x3))
    rec("tree_structures", r)
    # keywords and statics
    gk = jit(lambda x, y=1.0, *, z=2.0: x * y + z)
    rec("kwargs", [gk(x3, y=x3), gk(x3, y=x3, z=x3), gk(x3, z=x3), gk(x3), gk(x3)])
    gs = jit(lambda x, n: x ** n, static_argnums=1)
    rec("static", [gs(x3, 2), gs(x3, 2), gs(x3, 3)])
    gn = jit(lambda x, n: x * n, static_argnames="n")
    rec("static_name", [gn(x3, n=2), gn(x3, n=2), gn(x3, n=5)])
    # a closed-over constant (a program with constant buffers)
    c = np.array([1.0, -2.0, 3.0], np.float32)
    gc = jit(lambda x: x * c)
    rec("const", [gc(x3), gc(x3)])
    # x64 on and off with the same function
    gd = jit(lambda x: x + np_.arange(3.0))
    r = [gd(x3), gd(x3)]
    config.update("jax_enable_x64", True)
    try:
        x64 = np_.arange(3.0)
        r += [gd(x3), gd(x3), gd(x64), gd(x64), jf(x3), jf(x64)]
    finally:
        config.update("jax_enable_x64", False)
    r += [gd(x3), jf(x3)]
    rec("x64", r)
    # disable_jit: the function runs as Python (its side effect happens on every call)
    calls = []

    def h(x):
        calls.append(1)
        return x + 1

    jh = jit(h)
    jh(x3)
    jh(x3)
    n_jit = len(calls)
    with disable_jit():
        rec("disable_jit", [jh(x3), jh(x3)])
    n_dj = len(calls) - n_jit
    jh(x3)
    config.update("jax_disable_jit", True)   # the global flag, no context
    try:
        rec("disable_jit_global", [jh(x3), jh(x3)])
    finally:
        config.update("jax_disable_jit", False)
    jh(x3)
    out["disable_jit_calls"] = (n_jit, n_dj, len(calls) - n_jit - n_dj)
    # under a trace: grad, vmap, and an outer jit
    rec("grad", [grad(lambda x: jf(x).sum())(x3), grad(lambda x: jf(x).sum())(x3)])
    rec("vmap", vmap(jf)(np_.stack([x3, x3 * 2])))
    rec("nested", jit(lambda x: jf(x) * jf(x))(x3))
    # a bad argument: the error, then the next good call works
    try:
        jf("a string")
        out["bad_arg"] = None
    except TypeError:
        out["bad_arg"] = "TypeError"
    rec("after_bad_arg", jf(x3))
    # debug_nans: the checked call raises, and the hot path runs again afterwards
    jl = jit(lambda x: np_.log(x))
    jl(x3)
    with debug_nans(True):
        try:
            jl(-x3)
            out["debug_nans"] = None
        except FloatingPointError:
            out["debug_nans"] = "FloatingPointError"
    rec("after_debug_nans", [jl(x3), jl(-x3)])
    # eager one-operand functions (xlafront: the C eager path), cached and not, every
    # operand kind; then under traces, under debug_nans and after the cache is emptied
    xs = [x3, -x3, np_.asarray(0.5), np_.arange(3), np.float32(2.0), np.arange(4.0, dtype=np.float32),
          np_.asarray([1.0, 2.0], np_.bfloat16), x3 * 1j]
    r = []
    for fn in (np_.sin, np_.cos, np_.exp, np_.log, np_.tanh, np_.sqrt):
        for v in xs:
            r += [fn(v), fn(v)]
    rec("eager_unary", r)
    config.update("jax_enable_x64", True)
    try:
        rec("eager_x64", [np_.sin(np_.arange(3.0)), np_.sin(np_.arange(3.0)), np_.sin(x3), np_.sin(x3)])
    finally:
        config.update("jax_enable_x64", False)
    rec("eager_traced", [grad(lambda v: np_.sin(v).sum())(x3), vmap(np_.sin)(x3), jit(np_.sin)(x3),
                         np_.sin(x3)])
    with debug_nans(True):
        try:
            np_.log(-x3)
            out["eager_debug_nans"] = None
        except FloatingPointError:
            out["eager_debug_nans"] = "FloatingPointError"
    rec("eager_after_debug_nans", [np_.log(-x3), np_.log(x3)])
    if lib != "jax":
        from xlafront import dispatch
        dispatch._eager_cache.clear()
    rec("eager_after_clear", [np_.sin(x3), np_.sin(x3)])
    # other threads tracing while this one calls the hot path
    results, errors = [], []
    stop = threading.Event()

    def tracer():
        try:
            i = 0
            while not stop.is_set() and i < 200:
                grad(lambda x: (x * float(i)).sum())(x3)
                i += 1
        except Exception as e:   # noqa: BLE001
            errors.append(repr(e))

    def caller():
        try:
            for _ in range(300):
                results.append(np.asarray(jf(x3)).tolist())
                results.append(np.asarray(np_.exp(np_.log(x3))).round(5).tolist())
        except Exception as e:   # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=tracer), threading.Thread(target=caller), threading.Thread(target=caller)]
    for t in ts:
        t.start()
    ts[1].join()
    ts[2].join()
    stop.set()
    ts[0].join()
    out["threads"] = (errors, sorted({tuple(r) for r in results}), len(results))
    return out


def _xlafront_only(lib):
    """What only xlafront has: trace counts, and the extension is (or is not) the base."""
    if lib == "jax":
        return {}
    import xlafront as xf
    import xlafront.numpy as xnp
    from xlafront import api
    x3 = xnp.ones(3, xnp.float32)
    f = xf.jit(lambda x: x - 1)
    counts = [f(x3) is not None and f.trace_count for _ in range(3)]
    f.clear_cache()   # the hot path must not keep the dropped program
    counts += [f(x3) is not None and f.trace_count for _ in range(2)]
    return {"cext": api._cfast is not None, "base": api.Jitted.__mro__[1].__name__,
            "trace_counts": counts}


def _run(lib, tmp, cext=True):
    env = dict(os.environ)
    env.pop("XLAFRONT_NO_CEXT", None)
    if not cext:
        env["XLAFRONT_NO_CEXT"] = "1"
    env.pop("JAX_ENABLE_X64", None)
    path = str(tmp / f"{lib}-{cext}.pkl")
    p = subprocess.run([sys.executable, HERE, lib, path], env=env, cwd=REPO, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    with open(path, "rb") as f:
        return pickle.load(f)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cfast")
    return {"c": _run("xlafront", tmp), "py": _run("xlafront", tmp, cext=False), "jax": _run("jax", tmp)}


# ----------------------------------------------------------------------------- the tests
def _in_c_process(name):
    """True when this process runs the C path; else run test `name` in a fresh process
    without XLAFRONT_NO_CEXT (the suite may be run with the fallback forced) and check it."""
    from xlafront import api
    if api._cfast is not None:
        return True
    env = dict(os.environ)
    env.pop("XLAFRONT_NO_CEXT", None)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{HERE}::{name}"],
                       env=env, cwd=REPO, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stdout.decode()[-3000:]
    return False


def test_extension_is_built_in_this_install():
    import xlafront
    from xlafront import _cfast, api
    assert os.path.dirname(_cfast.__file__) == os.path.dirname(xlafront.__file__)
    assert _cfast.__file__.endswith(".so")
    forced_off = os.environ.get("XLAFRONT_NO_CEXT", "").lower() not in ("", "0", "false", "no")
    assert (api._cfast is _cfast) != forced_off
    assert issubclass(api.Jitted, _cfast.JitBase if not forced_off else api._PyCall)


def test_both_paths_ran(runs):
    assert runs["c"][1] == {"cext": True, "base": "JitBase", "trace_counts": [1, 1, 1, 2, 2]}
    assert runs["py"][1] == {"cext": False, "base": "_PyCall", "trace_counts": [1, 1, 1, 2, 2]}


@pytest.mark.parametrize("path", ["c", "py"])
def test_cases_match_jax(runs, path):
    got, want = runs[path][0], runs["jax"][0]
    assert set(got) == set(want)
    for name in want:
        assert got[name] == want[name], name


def test_c_and_python_paths_agree(runs):
    assert runs["c"][0] == runs["py"][0]


def test_threads_case_saw_the_right_value(runs):
    errors, values, n = runs["c"][0]["threads"]
    assert errors == [] and values == [(1.0, 2.0, 3.0), (3.0, 5.0, 7.0)] and n == 1200
    assert runs["py"][0]["threads"] == (errors, values, n)


def test_hit_does_not_take_the_slow_path(monkeypatch):
    """In this process (the extension built): a repeated call is run by the hot path, and
    a call it cannot take (keywords, a new aval, a numpy argument) goes to `_call_slow`."""
    if not _in_c_process("test_hit_does_not_take_the_slow_path"):
        return
    import xlafront as xf
    import xlafront.numpy as xnp
    from xlafront import api
    slow = []
    real = api.Jitted._call_slow

    def counting(self, args, kwargs):
        slow.append((len(args), tuple(kwargs)))
        return real(self, args, kwargs)

    monkeypatch.setattr(api.Jitted, "_call_slow", counting)
    f = xf.jit(lambda x, y=None: x * 3)
    x = xnp.ones(2, xnp.float32)
    f(x)
    assert slow == [(1, ())]
    for _ in range(5):
        np.testing.assert_array_equal(np.asarray(f(x)), [3.0, 3.0])
    assert slow == [(1, ())]
    f(x, y=x)
    f(np.ones(2, np.float32))
    f(xnp.ones(3, xnp.float32))
    assert slow == [(1, ()), (1, ("y",)), (1, ()), (1, ())]
    f(xnp.ones(3, xnp.float32))
    assert len(slow) == 4
    # a pytree of builtin containers: the C path matches its structure
    g = xf.jit(lambda d: {k: v[0] + v[1] for k, v in d.items()})
    d = {"a": [x, x], "b": (x, x)}
    g(d)
    n = len(slow)
    for t in (d, {"b": (x, x), "a": [x, x]}, d):
        np.testing.assert_array_equal(np.asarray(g(t)["a"]), [2.0, 2.0])
    assert len(slow) == n
    g({"a": [x, x], "b": [x, x]})   # a list where the tuple was: another signature
    assert len(slow) == n + 1


def test_eager_hit_does_not_bind():
    """In this process: a repeated `xnp.sin(x)` is run by the C eager path (the eval
    trace's implementation is not called), a new aval and a traced call are not."""
    if not _in_c_process("test_eager_hit_does_not_bind"):
        return
    import xlafront as xf
    import xlafront.numpy as xnp
    from xlafront import core, dispatch
    seen = []

    def counting(prim, args, params):
        seen.append(prim.name)
        return dispatch.apply_primitive(prim, args, params)

    x, y = xnp.full(5, 0.25, xnp.float32), xnp.ones(6, xnp.float32)
    xnp.cos(x)
    core.set_eager_impl(counting)
    try:
        for _ in range(3):
            np.testing.assert_allclose(np.asarray(xnp.cos(x)), np.cos(np.float32(0.25)) * np.ones(5), rtol=1e-6)
        assert seen == []
        xnp.cos(y)
        assert seen == ["cos"]
        xf.grad(lambda v: xnp.cos(v).sum())(x)
    finally:
        core.set_eager_impl(dispatch.apply_primitive)


if __name__ == "__main__":   # one process of the `runs` fixture: python test_cfast.py LIB OUT
    result = (_cases(sys.argv[1]), _xlafront_only(sys.argv[1]))
    with open(sys.argv[2], "wb") as f:
        pickle.dump(result, f)
