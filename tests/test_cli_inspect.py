"""`python -m xlafront dump --stage/--transform/--cost` and `python -m xlafront compare`
(docs/inspect.md), mostly in process (the CLI's main with captured output); a fresh
interpreter only where it matters (dump never imports jax; a platform whose plugin is
missing)."""
import os
import re
import shlex
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import __main__ as cli
from xlafront.testing import compare_stablehlo
from xlafront.testing.stablehlo_compare import _strip_locs, compare_texts, normalize, op_histogram

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# one module in xlafront's style, one in JAX's (run under xlafront by dump/compare)
XF_MODULE = textwrap.dedent("""\
    import xlafront as xf
    import xlafront.numpy as xnp

    def loss(x, w):
        return xnp.sum(xnp.sin(w @ x) ** 2)

    def layer(x, w):
        return xnp.tanh(w @ x)

    def count(x, n):
        return xnp.sum(x > 0) + n

    def broken(x):
        return x.reshape(7)

    def layer1(x, w):
        return xnp.tanh(w @ x) + 1.0
    """)

JAX_MODULE = textwrap.dedent("""\
    import jax
    import jax.numpy as jnp

    # differs on purpose between the two libraries (xlafront's `jax` is a proxy module)
    OFFSET = 0.5 if hasattr(jax, "__xlafront_module__") else 0.0

    def loss(x, w):
        return jnp.sum(jnp.sin(w @ x) ** 2)

    def shifted(x):
        return jnp.cos(x) + OFFSET
    """)

ARGS = "f32[3],f32[3,3]"


@pytest.fixture
def mods(tmp_path, monkeypatch):
    (tmp_path / "insp_xf.py").write_text(XF_MODULE)
    (tmp_path / "insp_jx.py").write_text(JAX_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def cli_run(capsys, *argv):
    """(exit status, stdout, stderr) of `python -m xlafront ARGV`, in process."""
    try:
        code = cli.main(list(argv))
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _specs(text):
    return [xf.ShapeDtypeStruct(s.shape, s.dtype) for s in cli.parse_args_spec(text)]


# ----------------------------------------------------------------------------- stages
def test_dump_each_stage_and_all(mods, capsys):
    code, jaxpr, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--stage", "jaxpr")
    assert code == 0 and jaxpr.startswith("{ lambda ; a:f32[3] b:f32[3,3]. let") and " sin " in jaxpr
    assert jaxpr.strip() == str(xf.make_jaxpr(lambda x, w: xnp.sum(xnp.sin(w @ x) ** 2))(*_specs(ARGS))).strip()
    _, shlo, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS)   # default: stablehlo
    assert shlo.startswith("module @jit_loss") and "stablehlo.sine" in shlo
    _, hlo, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--stage", "hlo")
    assert hlo.startswith("HloModule jit_loss") and " sine(" in hlo and "is_scheduled" not in hlo
    _, opt, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--stage", "optimized")
    assert opt.startswith("HloModule jit_loss, is_scheduled=true") and "fusion" in opt
    lowered = xf.jit(lambda x, w: xnp.sum(xnp.sin(w @ x) ** 2)).lower(*_specs(ARGS))
    assert opt.split("\n", 1)[0].replace("jit_loss", "") == lowered.compile().as_text().split("\n", 1)[0] \
        .replace("jit__lambda", "")
    # all four with headers, in order, to a file
    out = mods / "all.txt"
    code, printed, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--stage", "all", "-o", str(out))
    assert code == 0 and printed == ""
    text = out.read_text()
    heads = [text.index(f"// ===== {s} ") for s in ("jaxpr", "stablehlo", "hlo", "optimized")]
    assert heads == sorted(heads) and text.count("// ===== ") == 4
    assert shlo.strip() in text and jaxpr.strip() in text


# ----------------------------------------------------------------------------- transforms
@pytest.mark.parametrize("transform, extra, signature", [
    ("grad", (), "(%arg0: tensor<3xf32>, %arg1: tensor<3x3xf32>) -> (tensor<3xf32>)"),
    ("grad", ("--argnums", "1"), "-> (tensor<3x3xf32>)"),
    ("grad", ("--argnums", "0,1"), "-> (tensor<3xf32>, tensor<3x3xf32>)"),
    ("value_and_grad", (), "-> (tensor<f32>, tensor<3xf32>)"),
    ("jvp", (), "(%arg0: tensor<3xf32>, %arg1: tensor<3x3xf32>, %arg2: tensor<3xf32>) -> (tensor<f32>, tensor<f32>)"),
    ("vjp", ("--argnums", "1"), "%arg2: tensor<f32>) -> (tensor<f32>, tensor<3x3xf32>)"),
    ("vmap", ("--in-axes", "0,None", "--batch", "5"), "(%arg0: tensor<5x3xf32>, %arg1: tensor<3x3xf32>) -> (tensor<5xf32>)"),
    ("jacfwd", (), "-> (tensor<3xf32>)"),
    ("jacrev", ("--argnums", "1"), "-> (tensor<3x3xf32>)"),
    ("hessian", (), "-> (tensor<3x3xf32>)"),
    ("vmap,grad", ("--in-axes", "0,None"), "(%arg0: tensor<4x3xf32>, %arg1: tensor<3x3xf32>) -> (tensor<4x3xf32>)"),
    ("jacfwd,grad", (), "-> (tensor<3x3xf32>)"),
    ("vmap,jvp", ("--in-axes", "0,None,0"), "-> (tensor<4xf32>, tensor<4xf32>)"),
])
def test_dump_transforms_lower_the_right_program(mods, capsys, transform, extra, signature):
    code, out, err = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--transform", transform, *extra)
    assert code == 0, err
    assert out.startswith("module @jit_loss") and signature in out.split("\n")[1], out.split("\n")[1]


# each transform (and compositions) agrees with JAX's in value: compare runs both
@pytest.mark.parametrize("transform, extra", [
    ("grad", ("--argnums", "0,1")), ("value_and_grad", ()), ("jvp", ("--argnums", "1")), ("vjp", ()),
    ("vmap", ("--in-axes", "None,0")), ("jacfwd", ()), ("jacrev", ()), ("hessian", ("--argnums", "1")),
    ("vmap,grad", ("--in-axes", "0,None")), ("jacrev,jacfwd", ()),
])
def test_compare_each_transform_agrees_with_jax(mods, capsys, transform, extra):
    code, out, err = cli_run(capsys, "compare", "insp_xf:loss", "--args", ARGS, "--transform", transform, *extra)
    assert code == 0, out + err
    chain = transform.split(",")
    for depth in range(len(chain) + 1):   # the value, then each transform of the chain, innermost first
        title = ",".join(chain[len(chain) - depth:]) if depth else "value"
        assert f"\n{title} of loss:\n" in out
    assert out.rstrip().endswith("result: ok")
    assert "FAIL" not in out


def test_dump_jax_style_module_and_statics(mods, capsys):
    # a module that imports jax runs on xlafront: the same program as the xlafront-style one
    _, a, _ = cli_run(capsys, "dump", "insp_jx:loss", "--args", ARGS, "--transform", "grad", "--stage", "jaxpr")
    _, b, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--transform", "grad", "--stage", "jaxpr")
    assert a == b and "cos" in a
    assert sys.modules["jax"] is jax and sys.modules["jax.numpy"] is jnp   # the real JAX is back
    assert not any(m.startswith("jax") and hasattr(mod, "__xlafront_module__") for m, mod in sys.modules.items())
    # a static positional argument under a transform; --argnums counts it as a position
    code, out, err = cli_run(capsys, "dump", "insp_xf:count", "--args", "f32[3], 2", "--transform", "vmap")
    assert code == 0, err
    assert "@main(%arg0: tensor<4x3xf32>) -> (tensor<4xi32>)" in out


# ----------------------------------------------------------------------------- cost
def test_dump_cost_table_and_api_cost_analysis_match_jax(mods, capsys):
    code, out, _ = cli_run(capsys, "dump", "insp_xf:layer", "--args", ARGS, "--stage", "optimized", "--cost")
    assert code == 0
    table = out[out.index("cost (cpu, optimized program):"):]
    rows = dict(re.findall(r"^  ([a-z ]+?)\s{2,}(\d+)", table, re.M))
    assert set(rows) == {"flops", "transcendentals", "bytes accessed", "argument size", "output size",
                         "temp size", "generated code size", "alias size"}
    # the API's numbers, and JAX's for the same function
    lowered = xf.jit(lambda x, w: xnp.tanh(w @ x)).lower(*_specs(ARGS))
    jlowered = jax.jit(lambda x, w: jnp.tanh(w @ x)).lower(jax.ShapeDtypeStruct((3,), jnp.float32),
                                                       jax.ShapeDtypeStruct((3, 3), jnp.float32))
    ours, theirs = lowered.cost_analysis(), jlowered.cost_analysis()
    assert isinstance(ours, dict) and {"flops", "transcendentals", "bytes accessed"} <= set(ours)
    assert (ours["flops"], ours["transcendentals"], ours["bytes accessed"]) == \
        (theirs["flops"], theirs["transcendentals"], theirs["bytes accessed"]) == (18.0, 3.0, 84.0)
    compiled, jcompiled = lowered.compile(), jlowered.compile()
    assert compiled.cost_analysis()["flops"] == jcompiled.cost_analysis()["flops"] == float(rows["flops"])
    assert compiled.cost_analysis()["transcendentals"] == float(rows["transcendentals"]) == 3.0
    mem, jmem = compiled.memory_analysis(), jcompiled.memory_analysis()
    for name in ("argument_size_in_bytes", "output_size_in_bytes", "alias_size_in_bytes"):
        assert getattr(mem, name) == getattr(jmem, name)
    assert mem.argument_size_in_bytes == 48 == int(rows["argument size"])
    assert mem.output_size_in_bytes == 12 == int(rows["output size"])
    assert mem.temp_size_in_bytes == int(rows["temp size"])


# ----------------------------------------------------------------------------- inputs
def test_args_from_npz_are_real_values(mods, capsys):
    x = np.array([0.25, -1.5, 2.0], np.float32)
    w = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
    np.savez(mods / "in.npz", x, w)
    code, out, err = cli_run(capsys, "dump", "insp_xf:layer", "--args", "@in.npz")
    assert code == 0 and "@main(%arg0: tensor<3xf32>, %arg1: tensor<3x3xf32>)" in out, err
    entries = cli.parse_entries("@in.npz, 3")
    assert np.array_equal(entries[0], x) and np.array_equal(entries[1], w) and entries[2].value == 3
    # compare runs on those values: the perturbed run shows them as JAX's side of the worst element
    code, out, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", "@in.npz", "--_perturb", "0.01")
    assert code == 1
    ref = np.tanh(w @ x)
    shown = re.findall(r"at \((\d+),\): xlafront=(\S+) jax=(\S+)", out)
    assert len(shown) == 3
    for i, ours, theirs in shown:
        assert float(theirs) == pytest.approx(float(ref[int(i)]), abs=1e-6)
        assert float(ours) == pytest.approx(float(ref[int(i)]) + 0.01, abs=1e-6)


def test_compare_draws_inputs_from_the_seed(mods, capsys):
    _, a, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", ARGS, "--seed", "3", "--_perturb", "1")
    _, b, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", ARGS, "--seed", "3", "--_perturb", "1")
    _, c, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", ARGS, "--seed", "4", "--_perturb", "1")
    vals = lambda s: re.findall(r"jax=(\S+)", s)
    assert vals(a) == vals(b) and vals(a) != vals(c) and vals(a)
    # --range: every drawn float in [LO, HI)
    _, d, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", "f32[3], f32[3,3]", "--range", "2,3",
                      "--_perturb", "1")
    rng = np.random.default_rng(0)
    x, w = rng.uniform(2, 3, (3,)).astype(np.float32), rng.uniform(2, 3, (3, 3)).astype(np.float32)
    assert float(vals(d)[0]) == pytest.approx(float(np.tanh(w @ x)[0]), abs=1e-6)


# ----------------------------------------------------------------------------- compare
def test_compare_seeds_examples_ok_and_histograms(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(REPO)
    code, out, err = cli_run(capsys, "compare", "examples.inspect_targets:mlp", "--transform", "vmap",
                             "--in-axes", "0,None,None", "--args", "f32[3], (f32[32,3], f32[5,32]), (f32[32], f32[5])")
    assert code == 0, out + err
    assert "vmap of mlp:" in out and out.rstrip().endswith("result: ok")
    assert re.search(r"stablehlo.dot_general\s+2 \| 2\n", out) and re.search(r"stablehlo.tanh\s+1 \| 1\n", out)
    code, out, _ = cli_run(capsys, "compare", "examples.inspect_targets:newton_step", "--args", "f32[2]")
    assert code == 0 and out.rstrip().endswith("result: ok")
    assert re.search(r"stablehlo.dot_general\s+9 \| 9\n", out)
    code, out, _ = cli_run(capsys, "compare", "examples.inspect_targets:logistic_map", "--args", "f32[], 30, 20",
                           "--transform", "vmap", "--range", "2.8,3.4")
    assert code == 0 and out.rstrip().endswith("result: ok")
    assert len(re.findall(r"stablehlo.multiply\s+149 \| 149\n", out)) == 2


def test_compare_fail_exits_nonzero(mods, capsys):
    # a target whose function differs between the libraries
    code, out, _ = cli_run(capsys, "compare", "insp_jx:shifted", "--args", "f32[4]")
    assert code == 1
    assert re.search(r"<out>\s+float32\[4\]\s+no\s+0\.5\s+\S+\s+FAIL", out), out
    assert "4 of 4 elements differ" in out and out.rstrip().endswith("result: FAIL (values differ beyond tolerance)")
    # the hidden hook, on a transform only: the plain value still agrees
    code, out, _ = cli_run(capsys, "compare", "insp_xf:loss", "--args", ARGS, "--transform", "grad",
                           "--_perturb", "1e-3", "-o", "report.txt")
    assert code == 1
    value_part, grad_part = out.split("grad of loss:")
    assert "FAIL" not in value_part and "FAIL" in grad_part
    assert (mods / "report.txt").read_text() == out
    # a tolerance wide enough lets it pass
    code, out, _ = cli_run(capsys, "compare", "insp_xf:loss", "--args", ARGS, "--transform", "grad",
                           "--_perturb", "1e-3", "--atol", "1e-2")
    assert code == 0


def test_compare_text_diff_and_time(mods, capsys):
    # the same program: locations, SSA names, result_info and constant spellings do not count
    code, out, _ = cli_run(capsys, "compare", "insp_xf:layer", "--args", ARGS, "--text")
    assert code == 0 and "StableHLO op histogram (value): same" in out
    assert "  (normalized texts are identical)" in out and "time (" not in out
    # xlafront splats the constant 1.0 where JAX broadcasts a scalar: one op more in JAX's
    code, out, _ = cli_run(capsys, "compare", "insp_xf:layer1", "--args", ARGS, "--text", "--time", "--repeat", "3")
    assert code == 0
    assert "StableHLO op histogram (value): 1 op differs, total difference 1" in out
    assert re.search(r"stablehlo.broadcast_in_dim\s+0 \| 1\s+<\n", out)
    assert "--- xlafront\n+++ jax\n" in out and "+    %v3 = stablehlo.broadcast_in_dim %v2, dims = [] " in out
    assert "loc(" not in out and "#loc" not in out
    m = re.search(r"time \(value\): xlafront ([\d.]+) (µs|ms) \| jax ([\d.]+) (µs|ms)  ratio ([\d.]+) "
                  r"\(median of 3, interleaved\)", out)
    assert m and float(m.group(5)) > 0


def test_compare_without_jax_says_how_to_install(mods, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)   # `import jax` raises ImportError
    code, out, err = cli_run(capsys, "compare", "insp_xf:layer", "--args", ARGS)
    assert code == 2 and out == ""
    assert err.strip() == ("python -m xlafront compare: error: compare needs reference JAX, which is not "
                           "installed; install the test extra with: pip install -e '.[test]'")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("argv, message", [
    (["insp_xf:nope", "--args", ARGS], "module 'insp_xf' has no attribute 'nope'"),
    (["no_such_mod_q:f", "--args", ARGS], "cannot import module 'no_such_mod_q'"),
    (["insp_xf:loss", "--args", "f33[3],f32[3,3]"], "unknown dtype 'f33'"),
    (["insp_xf:loss", "--args", "f32[3]"], "insp_xf:loss cannot take the given arguments (1 from --args): "
                                           "missing a required argument: 'w'"),
    (["insp_xf:loss", "--args", "f32[3],f32[3,3],f32[2]"], "cannot take the given arguments (3 from --args)"),
    (["insp_xf:layer", "--args", ARGS, "--transform", "grad"],
     "--transform grad needs a function with one real scalar output, and insp_xf:layer returns float32[3]"),
    (["insp_xf:layer", "--args", ARGS, "--transform", "vmap,hessian"],
     "--transform hessian needs a function with one real scalar output"),
    (["insp_xf:loss", "--args", ARGS, "--transform", "grad,vmap"],
     "and vmap(insp_xf:loss) returns float32[4]"),
    (["insp_xf:loss", "--args", ARGS, "--transform", "curl"], "unknown transform 'curl'"),
    (["insp_xf:count", "--args", "f32[3], 2", "--transform", "grad", "--argnums", "1"],
     "--argnums 1 is a static argument (2)"),
    (["insp_xf:count", "--args", "i32[3], 2", "--transform", "grad"], "it needs floating arguments"),
    (["insp_xf:loss", "--args", ARGS, "--transform", "vmap", "--in-axes", "0,0,0"],
     "--in-axes has 3 entries, but the function vmap applies to takes 2 array arguments"),
    (["insp_xf:loss", "--args", ARGS, "--transform", "vmap", "--in-axes", "2"], "--in-axes 2 is out of range"),
    (["insp_xf:loss", "--args", ARGS, "--transform", "grad", "--argnums", "x"], "bad --argnums 'x'"),
    (["insp_xf:loss", "--args", "@missing.npz"], "no file 'missing.npz'"),
    (["insp_xf:loss", "--args", ARGS, "--platform", "abacus"], "unknown --platform 'abacus'"),
])
@pytest.mark.parametrize("command", ["dump", "compare"])
def test_bad_input_is_one_line_and_exit_2(mods, capsys, command, argv, message):
    code, out, err = cli_run(capsys, command, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"python -m xlafront {command}: error: ") and message in err, err


def test_bad_range_and_platform_in_use(mods, capsys):
    code, _, err = cli_run(capsys, "compare", "insp_xf:loss", "--args", ARGS, "--range", "3,1")
    assert code == 2 and "bad --range '3,1': LO must be below HI" in err
    xf.numpy.zeros(1)   # the cpu backend is up in this process
    code, _, err = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--platform", "tpu")
    assert code == 2 and "--platform tpu: the cpu backend is already in use" in err
    code, out, _ = cli_run(capsys, "dump", "insp_xf:loss", "--args", ARGS, "--platform", "cpu")
    assert code == 0 and out.startswith("module @jit_loss")


def test_error_while_tracing_names_the_users_line(mods, capsys):
    for command in ("dump", "compare"):
        with pytest.raises(SystemExit) as e:
            cli.main([command, "insp_xf:broken", "--args", "f32[3]"])
        assert e.value.code == 1
        err = capsys.readouterr().err
        # the user's frame and the error, without xlafront's own frames
        assert "insp_xf.py\", line 14" in err and "(3,)" in err and "TypeError" in err
        assert "xlafront/api.py" not in err and "_cli_inspect.py" not in err
        assert f"python -m xlafront {command}: insp_xf:broken raised TypeError" in err
    # the next good call works
    code, _, _ = cli_run(capsys, "dump", "insp_xf:layer", "--args", ARGS)
    assert code == 0


# ----------------------------------------------------------------------------- fresh interpreter
_NO_JAX = textwrap.dedent("""\
    import sys
    from xlafront.__main__ import main
    for stage in ("all",):
        main(["dump", "insp_jx:loss", "--args", "f32[3],f32[3,3]", "--stage", stage, "--cost",
              "--transform", "vmap,grad", "--in-axes", "0,None", "-o", "out.txt"])
    jax_mods = sorted(m for m in sys.modules if m == "jax" or m.startswith("jax."))
    real = sorted(m for m, mod in sys.modules.items()
                  if "site-packages/jax/" in (getattr(mod, "__file__", None) or ""))
    print("jax modules:", jax_mods, real)
    """)


def test_dump_never_imports_jax(mods):
    (mods / "no_jax.py").write_text(_NO_JAX)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + str(mods))
    r = subprocess.run([sys.executable, "no_jax.py"], cwd=mods, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "jax modules: [] []"
    text = (mods / "out.txt").read_text()
    assert "// ===== optimized" in text and "cost (cpu, optimized program):" in text and "tensor<4x3xf32>" in text


def test_platform_without_plugin_exits_2():
    r = subprocess.run([sys.executable, "-m", "xlafront", "dump", "examples.inspect_targets:quad_fun",
                        "--args", "f32[2]", "--platform", "rocm"], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=REPO), timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("python -m xlafront dump: error: --platform rocm: ") and r.stderr.count("\n") == 1


# ----------------------------------------------------------------------------- compare_stablehlo
def test_compare_stablehlo_from_python():
    def f(x, w):
        return xnp.tanh(w @ x) + 1.0
    cmp = compare_stablehlo(f, *_specs(ARGS))
    assert cmp.differing == [("stablehlo.broadcast_in_dim", 0, 1)] and cmp.total_difference == 1
    assert ("stablehlo.dot_general", 1, 1) in cmp.rows and ("stablehlo.tanh", 1, 1) in cmp.rows
    assert "1 op differs in count" in str(cmp) and "+    %v3 = stablehlo.broadcast_in_dim" in cmp.diff
    cmp = compare_stablehlo(lambda x, w: xnp.tanh(w @ x), *_specs(ARGS))
    assert cmp.same_histogram and cmp.diff == "" and "same op histogram" in str(cmp)
    # arrays and static keywords; a function whose program differs from JAX's
    x = xnp.ones(3)
    cmp = compare_stablehlo(lambda x, n: xnp.sum(x ** n), x, n=3)
    assert ("stablehlo.reduce", 1, 1) in cmp.rows
    cmp = compare_stablehlo(lambda x: xnp.sum(xnp.exp(x)) if isinstance(x, xf.Array) else x, x)
    assert cmp.ours == op_histogram(cmp.text) and cmp.theirs == op_histogram(cmp.jax_text)


def test_histogram_and_normalized_diff_of_texts():
    a = textwrap.dedent("""\
        module @jit_f attributes {mhlo.num_partitions = 1 : i32} {
          func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3xf32>) {
            %cst = stablehlo.constant dense<1.0> : tensor<f32> loc("f.py":3:4)
            %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<3xf32> loc("f.py":3:4)
            %1 = stablehlo.add %arg0, %0 : tensor<3xf32> loc("f.py":3:4)
            %2:2 = "stablehlo.while"(%1, %1) ({
              stablehlo.return %1 : tensor<3xf32>
            }) : (tensor<3xf32>) -> tensor<3xf32>
            %3 = call @g(%2#0) : (tensor<3xf32>) -> tensor<3xf32>
            return %3 : tensor<3xf32>
          }
        }
        """)
    b = textwrap.dedent("""\
        #loc1 = loc("x")
        module @jit_f attributes {mhlo.num_partitions = 1 : i32} {
          func.func public @main(%arg0: tensor<3xf32> loc("x")) -> (tensor<3xf32> {jax.result_info = "result"}) {
            %cst_7 = stablehlo.constant dense<1.000000e+00> : tensor<f32> loc(#loc3)
            %9 = stablehlo.broadcast_in_dim %cst_7, dims = [] : (tensor<f32>) -> tensor<3xf32> loc(#loc3)
            %10 = stablehlo.add %arg0, %9 : tensor<3xf32> loc(callsite(#loc1 at #loc2))
            %11:2 = "stablehlo.while"(%10, %10) ({
              stablehlo.return %10 : tensor<3xf32>
            }) : (tensor<3xf32>) -> tensor<3xf32>
            %12 = call @g(%11#0) : (tensor<3xf32>) -> tensor<3xf32>
            return %12 : tensor<3xf32>
          } loc(#loc)
        } loc(#loc)
        #loc = loc(unknown)
        """)
    assert op_histogram(a) == op_histogram(b) == {
        "func.func": 1, "stablehlo.constant": 1, "stablehlo.broadcast_in_dim": 1, "stablehlo.add": 1,
        "stablehlo.while": 1, "stablehlo.return": 1, "func.call": 1, "func.return": 1}
    assert normalize(a) == normalize(b)
    assert "%v0 = stablehlo.constant dense<1.0>" in normalize(b) and "%v3:2 = \"stablehlo.while\"" in normalize(b)
    cmp = compare_texts(a, b.replace("stablehlo.add", "stablehlo.subtract"))
    assert cmp.differing == [("stablehlo.add", 1, 0), ("stablehlo.subtract", 0, 1)] and cmp.total_difference == 2
    assert "-    %v2 = stablehlo.add" in cmp.diff and "+    %v2 = stablehlo.subtract" in cmp.diff


# ----------------------------------------------------------------------------- docs
def _doc_examples():
    """(command, expected lines) for each `$ python -m xlafront ...` block of docs/inspect.md."""
    text = open(os.path.join(REPO, "docs", "inspect.md")).read()
    out = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.splitlines()
        cmd = lines[0]
        assert cmd.startswith("$ python -m xlafront "), cmd
        out.append((shlex.split(cmd[len("$ python -m xlafront "):]),
                    [ln for ln in lines[1:] if ln.strip() and ln.strip() != "..."]))
    return out


def test_docs_inspect_examples_run_and_show_their_key_lines(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(REPO)
    examples = _doc_examples()
    assert len(examples) >= 5
    for argv, expected in examples:
        code, out, err = cli_run(capsys, *argv)
        assert code == 0, (argv, err)
        # the page shows texts without source locations (they name this checkout's paths)
        got = [re.sub(r", metadata=\{[^}]*\}", "", _strip_locs(ln)).rstrip() for ln in out.splitlines()]
        for line in expected:
            assert line.rstrip() in got, (argv, line)
