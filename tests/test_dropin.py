"""The drop-in runner: scripts written for JAX (tests/scripts/) run unchanged under
`python -m xlafront run` and print what they print under JAX; names xlafront lacks are
reported with the script line that used them."""
import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import __main__ as cli
from xlafront import _missing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "tests", "scripts")

# A number printed by a script, not part of a name such as `float64` or `x0`.
NUMBER = re.compile(r"(?<![A-Za-z_\d.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _env():
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


# `python -m xlafront run` (the same main()), reporting at exit how many modules of the real
# JAX were loaded: none may be (the runner's `jax...` modules carry __xlafront_module__).
RUNNER = """if True:
    import atexit, sys
    def report():
        real = [m for m, mod in list(sys.modules.items())
                if (m == "jax" or m.startswith("jax.")) and not hasattr(mod, "__xlafront_module__")]
        sys.stderr.write(f"real JAX modules loaded: {len(real)} {real[:3]}\\n")
    atexit.register(report)
    from xlafront.__main__ import main
    sys.exit(main(sys.argv[1:]))
"""


def _run_both(script, args=()):
    """(JAX's run, xlafront's run) of a script, side by side."""
    jax_run = subprocess.Popen([sys.executable, script, *args], cwd=SCRIPTS, env=_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ours = subprocess.Popen([sys.executable, "-c", RUNNER, "run", script, *args],
                            cwd=SCRIPTS, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    for p in (jax_run, ours):
        stdout, stderr = p.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    assert "real JAX modules loaded: 0 []\n" in out[1].stderr, out[1].stderr
    return out


def _assert_same_output(ref, ours, rtol, atol):
    assert ref.returncode == 0, f"the script fails under JAX:\n{ref.stderr}"
    assert ours.returncode == 0, f"the script fails under xlafront:\n{ours.stderr}"
    # the same lines, with the numbers equal to the script's float precision
    assert NUMBER.sub("#", ours.stdout) == NUMBER.sub("#", ref.stdout), (ours.stdout, ref.stdout)
    a = np.array([float(v) for v in NUMBER.findall(ours.stdout)])
    b = np.array([float(v) for v in NUMBER.findall(ref.stdout)])
    assert a.size > 10
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"xlafront:\n{ours.stdout}\njax:\n{ref.stdout}")


@pytest.mark.parametrize("script, args, rtol, atol", [
    ("kernel_least_squares.py", ("120",), 2e-4, 2e-5),  # float32, momentum descent
    ("gp_regression.py", ("30",), 1e-7, 1e-9),           # float64, Cholesky solve
    ("mlp_classifier.py", ("50",), 2e-4, 2e-5),          # float32, jax.random init, jax.nn
    ("lqr_ilqr.py", ("6",), 2e-4, 2e-5),                 # float32, fori_loop + scan
])
def test_script_prints_what_jax_prints(script, args, rtol, atol):
    ref, ours = _run_both(script, args)
    _assert_same_output(ref, ours, rtol, atol)


def test_jax_names_a_small_program_touches():
    """jax.random/lax/nn/nn.initializers/scipy/tree_util/tree/debug/numpy.linalg/
    numpy.fft/config/Array/typing/devices/block_until_ready, all served by xlafront."""
    ref, ours = _run_both("jax_names.py")
    _assert_same_output(ref, ours, 1e-9, 1e-12)
    assert "debug.print 0.4000" in ours.stdout


# ----------------------------------------------------------------------------- in process
@pytest.fixture
def run_in_process(tmp_path, monkeypatch):
    """Run `python -m xlafront run` in this process: returns (exit code, stdout, stderr).
    Restores the real `jax` modules, sys.argv/sys.path and xlafront's x64 flag after."""
    saved_jax = {k: v for k, v in sys.modules.items() if k == "jax" or k.startswith("jax.")}
    saved_meta = list(sys.meta_path)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    x64 = xf.config.x64

    def run(source, *args, name="script.py"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(["run", str(path), *args])
            except SystemExit as e:
                code = e.code
        return code, out.getvalue(), err.getvalue(), str(path)

    yield run
    for k, m in list(sys.modules.items()):  # the scripts' own helper modules
        if str(getattr(m, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[k]
    sys.meta_path[:] = saved_meta
    for k in [k for k in sys.modules if k == "jax" or k.startswith("jax.")]:
        del sys.modules[k]
    sys.modules.update(saved_jax)
    xf.config.update("jax_enable_x64", x64)


def test_argv_main_and_exit_code(run_in_process):
    code, out, err, path = run_in_process("""\
        import sys
        import jax.numpy as jnp

        def main(argv):
            print("argv", argv)
            print("sum", float(jnp.sum(jnp.arange(int(argv[1])))))
            return int(argv[2])

        if __name__ == "__main__":
            sys.exit(main(sys.argv))
        print("not reached when run as __main__")
        """, "4", "3")
    assert code == 3, err
    assert out.splitlines() == [f"argv [{path!r}, '4', '3']", "sum 6.0"]
    assert err == ""


def test_missing_names_are_reported_with_the_script_line(run_in_process):
    code, out, err, path = run_in_process("""\
        import jax
        import jax.numpy as jnp
        print("has", hasattr(jnp, "not_a_jax_name"), hasattr(jax.lax, "not_a_jax_name"))
        try:
            from jax.numpy import not_a_jax_name
        except ImportError as e:
            print("import error:", e)
        print(jnp.sinn(1.0))
        """)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "has False False"
    assert lines[1] == (f"import error: xlafront does not implement jax.numpy.not_a_jax_name yet (xlafront.numpy "
                        f"has no module or name 'not_a_jax_name'); imported at {path}:5")
    assert "NotImplementedYetError: module 'jax.numpy' has no attribute 'sinn': xlafront does not implement " \
           f"jax.numpy.sinn yet (`jax.numpy` is served by `xlafront.numpy`); used at {path}:8; " \
           "did you mean jax.numpy.sin" in err
    assert f'File "{path}", line 8, in <module>' in err
    assert "xlafront/" not in err.split("NotImplementedYetError")[0]  # only the script's frames
    assert err.rstrip().endswith(f"uses jax.numpy.sinn, which xlafront does not implement yet (at {path}:8)")


def test_missing_module_and_submodule_name(run_in_process, tmp_path):
    # a helper module of the script's own, imported from the script's directory
    (tmp_path / "helper.py").write_text("import jax.lax as lax\n\ndef f():\n    return lax.not_in_lax\n")
    code, out, err, path = run_in_process("""\
        import helper
        try:
            helper.f()
        except AttributeError as e:
            print(type(e).__name__, isinstance(e, AttributeError), e.jax_name)
        import jax.not_a_module
        """)
    assert code == 1
    helper_path = str(tmp_path / "helper.py")
    assert out.splitlines() == ["NotImplementedYetError True jax.lax.not_in_lax"]
    assert (f"ModuleNotFoundError: xlafront does not implement jax.not_a_module yet (xlafront has no module or "
            f"name 'not_a_module'); imported at {path}:6") in err
    # and the helper's line for the attribute
    code, out, err, path = run_in_process("import helper\nhelper.f()\n", name="s2.py")
    assert code == 1 and f"used at {helper_path}:4" in err


def test_a_script_error_is_the_scripts_traceback(run_in_process):
    code, out, err, path = run_in_process("""\
        import jax.numpy as jnp
        print("before")
        jnp.ones(3) + jnp.ones(4)
        """)
    assert code == 1 and out == "before\n"
    assert err.startswith("Traceback (most recent call last):\n" f'  File "{path}", line 3, in <module>')
    assert "TypeError" in err and "(3,)" in err and "(4,)" in err
    assert err.rstrip().endswith(f"{path} failed with TypeError")


def test_script_namespace_serves_jax_from_xlafront(run_in_process):
    code, out, err, path = run_in_process("""\
        import jax, jax.numpy as jnp, jax.numpy.linalg, jax.tree_util
        from jax import grad, jit, vmap, lax, tree_util
        print(jax.__name__, jnp.__name__, jnp.linalg.__name__, lax.__name__)
        print(jax.numpy is jnp, jax.numpy.linalg is jnp.linalg, jax.tree_util is tree_util)
        print(type(jnp.ones(2)).__module__, jax.Array.__module__, jax.jit.__module__.split(".")[0])
        print(sorted(n for n in ("sin", "linalg", "not_there") if n in dir(jnp)))
        """)
    assert code == 0, err
    assert out.splitlines() == ["jax jax.numpy jax.numpy.linalg jax.lax", "True True True",
                                "xlafront xlafront xlafront", "['linalg', 'sin']"]


# ----------------------------------------------------------------------------- xlafront's own modules
@pytest.mark.parametrize("name", [
    "xlafront", "xlafront.numpy", "xlafront.numpy.linalg", "xlafront.numpy.fft", "xlafront.lax",
    "xlafront.lax.linalg", "xlafront.tree_util", "xlafront.tree", "xlafront.random", "xlafront.nn",
    "xlafront.nn.initializers", "xlafront.scipy", "xlafront.scipy.special", "xlafront.scipy.linalg",
    "xlafront.scipy.stats", "xlafront.scipy.stats.norm", "xlafront.debug", "xlafront.typing",
])
def test_missing_names_on_xlafront_modules(name):
    module = importlib.import_module(name)
    jax_module = "jax" + name[len("xlafront"):]
    assert not hasattr(module, "surely_not_a_name")
    assert getattr(module, "surely_not_a_name", 7) == 7
    with pytest.raises(AttributeError) as info:
        module.surely_not_a_name  # noqa: B018
    e = info.value
    assert isinstance(e, _missing.NotImplementedYetError)
    assert e.jax_name == f"{jax_module}.surely_not_a_name"
    assert str(e).startswith(f"module {module.__name__!r} has no attribute 'surely_not_a_name': xlafront "
                             f"does not implement {jax_module}.surely_not_a_name yet; used at {__file__}:")
    assert e.name == "surely_not_a_name" and e.obj is module
    # private and dunder names: Python's plain AttributeError
    with pytest.raises(AttributeError) as info:
        module._private_thing  # noqa: B018
    assert type(info.value) is AttributeError and "_private_thing" in str(info.value)
    assert not hasattr(module, "__wrapped__")


def test_missing_name_suggests_close_names_and_submodules_load_lazily():
    with pytest.raises(AttributeError, match=r"did you mean xlafront\.numpy\.sin or"):
        xnp.sinn  # noqa: B018
    # a submodule is reachable as an attribute, as in JAX (`jax.scipy` after `import jax`)
    assert xf.typing.ArrayLike is not None and sys.modules["xlafront.typing"] is xf.typing
