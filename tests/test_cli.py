"""`python -m xlafront dump` and `python -m xlafront run`, run as a user would (subprocess)."""
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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODULE = textwrap.dedent("""\
    import xlafront as xf
    import xlafront.numpy as xnp

    def layer(x, w):
        return xnp.tanh(w @ x) + 1.0

    def repeat(x, n, act="sin"):
        for _ in range(n):
            x = getattr(xnp, act)(x)
        return x

    @xf.jit
    def scaled(x):
        return x * 2

    def wrong(x, w):
        return x + w

    def mlp(params, x):
        return xnp.tanh(params["w"] @ x + params["b"])
    """)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "mymodel.py").write_text(MODULE)
    return tmp_path


def _run(args, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "xlafront", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, **kw)


def test_dump_prints_stablehlo(workdir):
    r = _run(["dump", "mymodel:layer", "--args", "f32[3],f32[3,3]"], workdir)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert text.startswith("module @jit_layer")
    assert "func.func public @main(%arg0: tensor<3xf32>, %arg1: tensor<3x3xf32>) -> (tensor<3xf32>)" in text
    assert "stablehlo.dot_general" in text and "stablehlo.tanh" in text
    assert 'loc("' in text and 'mymodel.py":5' in text  # ops point at the user's source line
    # the same text as the API gives
    sys.path.insert(0, str(workdir))
    try:
        import mymodel
        api_text = xf.jit(mymodel.layer).lower(xf.ShapeDtypeStruct((3,), xnp.float32),
                                               xf.ShapeDtypeStruct((3, 3), xnp.float32)).as_text()
    finally:
        sys.path.remove(str(workdir))
        sys.modules.pop("mymodel", None)
    assert text.rstrip("\n") == api_text.rstrip("\n")


def test_dump_to_file_with_statics_scalars_and_x64(workdir):
    out = workdir / "out.mlir"
    r = _run(["dump", "mymodel:repeat", "--args", "f64[2], 3", "--static", "act=cos", "-o", str(out)], workdir)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    text = out.read_text()
    assert text.count("stablehlo.cosine") == 3 and "tensor<2xf64>" in text  # 64-bit spec enables x64
    # scalars `f32[]`, a jitted target, a file path target
    r = _run(["dump", f"{workdir / 'mymodel.py'}:scaled", "--args", "f32[]"], workdir)
    assert r.returncode == 0, r.stderr
    assert "@main(%arg0: tensor<f32>) -> (tensor<f32>)" in r.stdout and "stablehlo.multiply" in r.stdout
    r = _run(["dump", "mymodel:layer", "--args", "bf16[2],bf16[2,2]"], workdir)
    assert r.returncode == 0 and "tensor<2x2xbf16>" in r.stdout, r.stderr
    # a pytree argument
    r = _run(["dump", "mymodel:mlp", "--args", "{'w': f32[4,3], 'b': f32[4]}, f32[3]"], workdir)
    assert r.returncode == 0, r.stderr
    assert "@main(%arg0: tensor<4xf32>, %arg1: tensor<4x3xf32>, %arg2: tensor<3xf32>)" in r.stdout


@pytest.mark.parametrize("spec, message", [
    ("f33[3]", "unknown dtype 'f33'"),
    ("f32[3", "unbalanced brackets"),
    ("f32[-1]", "cannot read argument spec 'f32[-1]'"),
    ("f32[a]", "cannot read argument spec"),
    ("f32[2],,f32[2]", "empty entry"),
    ("float32[3],int4[2]", "unknown dtype 'int4'"),
])
def test_dump_bad_specs_in_process(workdir, monkeypatch, capsys, spec, message):
    monkeypatch.chdir(workdir)
    with pytest.raises(SystemExit) as e:
        cli.main(["dump", "mymodel:layer", "--args", spec])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "python -m xlafront dump: error:" in err and message in err, err


def test_dump_bad_targets_in_process(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    for target, message in [("mymodel:nope", "module 'mymodel' has no attribute 'nope'"),
                            ("nomodule_xyz:f", "cannot import module 'nomodule_xyz'"),
                            ("mymodel", "expected pkg.module:function"),
                            ("missing_file.py:f", "no file 'missing_file.py'")]:
        with pytest.raises(SystemExit) as e:
            cli.main(["dump", target, "--args", "f32[3]"])
        assert e.value.code == 2
        assert message in capsys.readouterr().err
    sys.modules.pop("mymodel", None)


def test_dump_user_error_is_the_library_error(workdir):
    r = _run(["dump", "mymodel:layer", "--args", "f32[3"], workdir)
    assert r.returncode == 2 and "unbalanced brackets" in r.stderr and "Traceback" not in r.stderr
    # an error in the user's function is the library's error, naming the user's line
    r = _run(["dump", "mymodel:wrong", "--args", "f32[3],f32[4]"], workdir)
    assert r.returncode == 1 and "TypeError" in r.stderr and "(3,)" in r.stderr and "(4,)" in r.stderr
    assert "mymodel.py:17" in r.stderr


def test_parse_helpers():
    assert cli.split_top_level("f32[3,4], 2, (1, 2), i32[]") == ["f32[3,4]", "2", "(1, 2)", "i32[]"]
    specs = cli.parse_args_spec("f32[3,4],u8[],bool[2],c64[1], 2, 'relu'")
    assert [(s.shape, s.dtype.name) for s in specs[:4]] == [((3, 4), "float32"), ((), "uint8"),
                                                             ((2,), "bool"), ((1,), "complex64")]
    assert [type(s) for s in specs[4:]] == [cli.Static] * 2 and [s.value for s in specs[4:]] == [2, "relu"]
    tree = cli.parse_args_spec("{'w': f32[3,3], 'b': (f32[3], i32[])}, [bf16[2]], (1, 2), 'a[1]'")
    assert tree[0]["w"].shape == (3, 3) and tree[0]["b"][1].shape == () and tree[0]["b"][1].dtype.name == "int32"
    assert tree[1][0].dtype.name == "bfloat16"
    assert tree[2].value == (1, 2) and tree[3].value == "a[1]"
    with pytest.raises(cli.SpecError, match="dimensions must be non-negative"):
        cli.parse_args_spec("{'w': f32[x]}")
    assert cli.parse_static(["n=3", "act=relu", "shape=(1, 2)"]) == {"n": 3, "act": "relu", "shape": (1, 2)}
    with pytest.raises(cli.SpecError, match="NAME=VALUE"):
        cli.parse_static(["3"])


SCRIPT = textwrap.dedent("""\
    import sys
    import jax
    import jax.numpy as jnp
    from jax import jit, tree_util

    @jit
    def f(x):
        return jnp.sum(jnp.sin(x) * 2.0)

    y = f(jnp.arange(3.0))
    print("module", jax.__name__, type(y).__module__, isinstance(y, jax.Array))
    print("value", float(y))
    print("args", sys.argv[1:])
    print("leaves", tree_util.tree_leaves({"a": 1, "b": (2, 3)}))
    print("hasattr", hasattr(jnp, "definitely_not_in_numpy"))
    from jax import numpy as jnp2
    print("same module", jnp2 is jnp, jax.numpy is jnp)
    """)


def test_run_maps_jax_to_xlafront(tmp_path):
    script = tmp_path / "jax_script.py"
    script.write_text(SCRIPT + "print(jnp.definitely_not_in_numpy(3))\n")
    r = _run(["run", str(script), "--flag", "1"], tmp_path)
    lines = r.stdout.splitlines()
    assert lines[0] == "module jax xlafront True"
    assert abs(float(lines[1].split()[1]) - 2 * (0.8414709848 + 0.9092974268)) < 1e-5
    assert lines[2] == "args ['--flag', '1']"
    assert lines[3] == "leaves [1, 2, 3]"
    assert lines[4] == "hasattr False"
    assert lines[5] == "same module True True"
    # the missing name is reported with the script line that used it
    assert r.returncode == 1
    assert "xlafront does not implement jax.numpy.definitely_not_in_numpy yet" in r.stderr
    assert "NotImplementedYetError: module 'jax.numpy' has no attribute 'definitely_not_in_numpy'" in r.stderr
    assert "used at " + str(script) + ":18" in r.stderr
    assert "xlafront/__main__.py" not in r.stderr.split("Traceback")[1].split("\n")[1]
    assert r.stderr.rstrip().endswith(f"uses jax.numpy.definitely_not_in_numpy, which xlafront does not "
                                      f"implement yet (at {script}:18)")


def test_run_reports_missing_module(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import jax\nimport jax.definitely_missing_module\n")
    r = _run(["run", str(script)], tmp_path)
    assert r.returncode == 1
    assert "ModuleNotFoundError: xlafront does not implement jax.definitely_missing_module yet" in r.stderr
    assert "imported at " + str(script) + ":2" in r.stderr
    r = _run(["run", str(tmp_path / "no_such_script.py")], tmp_path)
    assert r.returncode == 2 and "no script" in r.stderr


def test_run_example_prints_what_jax_prints():
    """examples/jax_script.py (jit, grad, vmap, tree_map) on JAX and on xlafront: same output."""
    script = os.path.join(REPO, "examples", "jax_script.py")
    ref = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    assert ref.returncode == 0, ref.stderr
    ours = _run(["run", script], REPO)
    assert ours.returncode == 0, ours.stderr
    # the same lines, numbers equal to float32 rounding
    number = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
    assert number.sub("#", ours.stdout) == number.sub("#", ref.stdout)
    a = np.array([float(v) for v in number.findall(ours.stdout)])
    b = np.array([float(v) for v in number.findall(ref.stdout)])
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert "w = 2.97" in ours.stdout
