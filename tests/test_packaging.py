"""Packaging and layering: what the product imports, what pyproject/Makefile/CI promise."""
import ast
import functools
import os
import stat
import subprocess
import sys
import tomllib

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRODUCT = ("xlafront", "lowering", "transforms")
# The core layer: depends on nothing of the project above it.
CORE = {"xlafront.core", "xlafront.primitives", "xlafront.dtypes", "xlafront.config", "xlafront.errors",
        # the primitive families defined outside primitives.py (docs/architecture.md)
        "xlafront.primitives_control", "xlafront.primitives_linalg", "xlafront.primitives_fft",
        "xlafront.primitives_callback", "xlafront.primitives_special", "xlafront.primitives_conv",
        "xlafront.primitives_misc", "xlafront.primitives_sharding",
        "xlafront._version"}  # the version string alone (leaf)
# The only files that may import jaxlib (PJRT runtime, C++ pytree registry).
JAXLIB_FILES = {"lowering/runtime.py", "xlafront/tree_util.py"}


def _product_files(repo=REPO):
    for top in PRODUCT:
        for root, dirs, files in os.walk(os.path.join(repo, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(root, f)
                    yield os.path.relpath(path, repo).replace(os.sep, "/"), path


def _module_name(rel):
    # lowering/ and transforms/ install as xlafront.lowering and xlafront.transforms
    if rel.startswith(("lowering/", "transforms/")):
        rel = "xlafront/" + rel
    name = rel[:-3].replace("/", ".")
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


@functools.lru_cache(maxsize=None)
def _imports(path, rel):
    """(module imported, line, at module level?) for each import in the file; relative
    imports resolved, `from pkg import sub` reported as pkg.sub as well."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    pkg = _module_name(rel) if rel.endswith("__init__.py") else _module_name(rel).rpartition(".")[0]
    out = []

    def visit(node, top_level):
        for child in ast.iter_child_nodes(node):
            nested = top_level and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, top_level) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = pkg.split(".")
                    parts = parts[:len(parts) - (child.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                out.append((base, child.lineno, top_level))
                out.extend((f"{base}.{a.name}", child.lineno, top_level) for a in child.names)
            visit(child, nested)

    visit(tree, True)
    return tuple(out)



def _is_type_checking(node):
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or \
        (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


@functools.lru_cache(maxsize=None)
def _import_graph(repo=REPO):
    """{module: {product module it imports: line}} over every product module.

    Imports at module level and inside functions both count (a function-level import back
    up is still an arrow up); those under `if TYPE_CHECKING:` do not (they never run).
    `import a.b` is an edge to a.b (not to the parent packages it also runs); `from p import n`
    is an edge to p.n when that is a module, else to p, so a submodule's
    `from xlafront import jit` or `import xlafront` is an edge to xlafront/__init__.py."""
    files = dict(_product_files(repo))
    modules = {_module_name(rel) for rel in files}
    # C extension modules (xlafront/_cfast.c): leaves, they import nothing of the product
    for top in PRODUCT:
        for root, dirs, fs in os.walk(os.path.join(repo, top)):
            for f in fs:
                if f.endswith(".c"):
                    rel = os.path.relpath(os.path.join(root, f[:-2] + ".py"), repo)
                    modules.add(_module_name(rel))
    graph = {}
    for rel, path in files.items():
        me = _module_name(rel)
        pkg = me if rel.endswith("__init__.py") else me.rpartition(".")[0]
        edges = graph[me] = {}

        def add(target, line):
            if target in modules and target != me:
                edges.setdefault(target, line)

        def visit(node):
            if isinstance(node, ast.If) and _is_type_checking(node):
                for n in node.orelse:
                    visit(n)
                return
            if isinstance(node, ast.Import):
                for a in node.names:
                    add(a.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")
                    parts = parts[:len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    add(sub if sub in modules else base, node.lineno)
            for child in ast.iter_child_nodes(node):
                visit(child)

        visit(ast.parse(open(path, encoding="utf-8").read(), path))
    return graph


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(out)

def test_product_never_imports_jax():
    offenders = []
    for rel, path in _product_files():
        for mod, line, top in _imports(path, rel):
            if mod == "jax" or mod.startswith("jax."):
                # xlafront.testing is the comparison tool: JAX lazily, inside functions only
                if rel.startswith("xlafront/testing/") and not top:
                    continue
                offenders.append(f"{rel}:{line} imports {mod}")
    assert not offenders, offenders


def test_jaxlib_only_in_the_two_runtime_files():
    offenders = [f"{rel}:{line} imports {mod}" for rel, path in _product_files()
                 for mod, line, _ in _imports(path, rel)
                 if (mod == "jaxlib" or mod.startswith("jaxlib.")) and rel not in JAXLIB_FILES]
    assert not offenders, offenders


def _layer(module):
    if module in CORE:
        return "core"
    for lower in ("lowering", "transforms"):
        if module == f"xlafront.{lower}" or module.startswith(f"xlafront.{lower}."):
            return lower
    return "api"   # the rest of xlafront/, its __init__ included


_MAY_IMPORT = {"core": {"core"}, "lowering": {"core", "lowering"}, "transforms": {"core", "transforms"},
               "api": {"core", "lowering", "transforms", "api"}}


def test_layering():
    """core <- transforms / lowering <- API: no import runs back up, neither at module level
    nor inside a function (`import xlafront` or `from xlafront import jit` in a lower module
    is an import of xlafront/__init__.py, which is the API layer)."""
    graph = _import_graph()
    offenders = [f"{me} ({_layer(me)}) imports {target} ({_layer(target)}) at line {line}"
                 for me, edges in sorted(graph.items()) for target, line in sorted(edges.items())
                 if _layer(target) not in _MAY_IMPORT[_layer(me)]]
    assert not offenders, offenders


def test_no_import_cycle():
    """No import cycle among product modules: the module import graph (module-level and
    function-level imports, not those under `if TYPE_CHECKING:`) has no strongly connected
    component of more than one module. A package __init__ may import its submodules to
    re-export them, as long as none of them imports the __init__ back."""
    graph = _import_graph()
    assert len(graph) > 80 and "xlafront.lowering.emitter" in graph and "xlafront.numpy._ufuncs" in graph
    found = []
    for comp in _cycles(graph):
        edges = [f"{m} -> {t} (line {graph[m][t]})" for m in comp for t in sorted(graph[m]) if t in comp]
        found.append(f"{len(comp)} modules: " + "; ".join(edges))
    assert not found, "\n".join(found)


def test_import_graph_sees_function_level_imports_and_cycles(tmp_path):
    """The graph the two tests above read: a function-level import is an edge, an import under
    `if TYPE_CHECKING:` is not, `from xlafront import jit` is an edge to xlafront/__init__,
    `from pkg import module` to that module, relative imports are resolved; a cycle through a
    function-level import is found."""
    files = {
        "xlafront/__init__.py": "from xlafront import a\n",
        "xlafront/a.py": "def f():\n    from xlafront import b\n    return b\n",
        "xlafront/b.py": "import xlafront.a\n",
        "xlafront/c.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import xlafront.d\n"
                          "else:\n    from . import b\n"),
        "xlafront/d.py": "from xlafront.lowering import x\nfrom .c import nothing\n",
        "lowering/__init__.py": "",
        "lowering/x.py": "import numpy\n\ndef g():\n    from xlafront import jit\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = _import_graph(str(tmp_path))
    assert graph == {"xlafront": {"xlafront.a": 1}, "xlafront.a": {"xlafront.b": 2}, "xlafront.b": {"xlafront.a": 1},
                     "xlafront.c": {"xlafront.b": 5}, "xlafront.d": {"xlafront.lowering.x": 1, "xlafront.c": 2},
                     "xlafront.lowering": {}, "xlafront.lowering.x": {"xlafront": 4}}
    assert _cycles(graph) == [["xlafront.a", "xlafront.b"]]
    # xlafront/__init__ importing d closes xlafront -> d -> lowering.x -> xlafront
    assert _cycles({**graph, "xlafront": {"xlafront.a": 1, "xlafront.d": 2}}) == [
        ["xlafront", "xlafront.d", "xlafront.lowering.x"], ["xlafront.a", "xlafront.b"]]
    # and lowering.x's function-level `from xlafront import jit` runs back up the layers
    assert _layer("xlafront.lowering.x") == "lowering" and _layer("xlafront") == "api"
    assert "api" not in _MAY_IMPORT["lowering"]


def test_import_xlafront_does_not_load_jax():
    code = ("import sys, xlafront, xlafront.numpy, xlafront.lax, xlafront.testing, xlafront.__main__\n"
            "bad = sorted(m for m in sys.modules if m == 'jax' or m.startswith('jax.'))\n"
            "print(bad)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=REPO), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("first", ["xlafront.lowering.runtime", "xlafront.lowering.emitter", "xlafront.transforms.jvp",
                                   "xlafront.transforms.rules_linalg", "xlafront.core", "xlafront.numpy.linalg",
                                   "xlafront.lowering.registry", "xlafront.lowering.rules_control", "xlafront.array",
                                   "xlafront.numpy._ufuncs", "xlafront.lax.linalg"])
def test_any_module_can_be_imported_first(first):
    # a program (or a test) whose first import is any one module gets working modules, not a
    # half-initialized one: the parent package's __init__ runs first and, the import graph
    # having no cycle (test_no_import_cycle), imports everything in one order; every rule
    # table is filled before the first lowering (xlafront/_rules.py).
    code = (f"import {first}\nimport xlafront as xf\n"
            "print(float(xf.jit(lambda x: x * 2)(xf.numpy.float32(1.5))), "
            "isinstance(xf.devices()[0], xf.Device))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=REPO), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3.0", "True"]


def test_every_package_dir_has_init():
    # setuptools' package discovery only sees directories with an __init__.py
    missing = []
    for top in PRODUCT:
        for root, dirs, files in os.walk(os.path.join(REPO, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if any(f.endswith(".py") for f in files) and "__init__.py" not in files:
                missing.append(os.path.relpath(root, REPO))
    assert not missing, missing


def test_pyproject_pins_and_extras():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        meta = tomllib.load(f)
    project = meta["project"]
    assert project["requires-python"] == ">=3.11"
    deps = project["dependencies"]
    import jaxlib
    assert f"jaxlib=={jaxlib.__version__}" in deps  # pinned to the release the runtime is tested with
    assert any(d.startswith("numpy") for d in deps) and any(d.startswith("ml_dtypes") for d in deps)
    assert not any(d.split("=")[0].split(">")[0].strip() == "jax" for d in deps)  # JAX is not a runtime dep
    test_extra = project["optional-dependencies"]["test"]
    assert f"jax=={jaxlib.__version__}" in test_extra
    for name in ("pytest", "hypothesis", "pytest-xdist"):
        assert any(d.startswith(name) for d in test_extra), name
    # one importable name: every package folder installs under xlafront
    setup = meta["tool"]["setuptools"]
    assert setup["package-dir"] == {"xlafront.lowering": "lowering", "xlafront.transforms": "transforms"}
    folders = {_module_name(os.path.relpath(os.path.join(root, "__init__.py"), REPO))
               for top in PRODUCT for root, dirs, files in os.walk(os.path.join(REPO, top))
               if "__init__.py" in files}
    assert set(setup["packages"]) == folders
    assert all(p == "xlafront" or p.startswith("xlafront.") for p in setup["packages"])
    assert os.path.exists(os.path.join(REPO, project["readme"]))


def test_make_and_ci_entry_points():
    makefile = open(os.path.join(REPO, "Makefile")).read()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "-e '.[test,ecosystem]'" in makefile and "examples/quickstart.py" in makefile and "pytest -n 2" in makefile
    ci = os.path.join(REPO, ".ci", "run")
    assert os.stat(ci).st_mode & stat.S_IXUSR
    assert "make test" in open(ci).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    assert "make demo" in readme and "make test" in readme
    assert "python -m xlafront dump" in readme and "compare_with_jax" in readme


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_docs_name_files_that_exist(doc):
    """Every repository path a doc mentions in backticks exists (docs stay true)."""
    import re
    text = open(os.path.join(REPO, doc)).read()
    paths = set(re.findall(r"`((?:xlafront|lowering|transforms|tests|benchmarks|docs|examples)/[\w/.]+\.(?:py|md))`", text))
    assert paths, "the doc names no files"
    missing = sorted(p for p in paths if not os.path.exists(os.path.join(REPO, p)))
    assert not missing, missing


def test_api_reference_names_exist():
    """Every name docs/api.md lists under a module exists in that module."""
    import importlib
    import re
    text = open(os.path.join(REPO, "docs", "api.md")).read()
    sections = re.split(r"^## `([\w.]+)`\n", text, flags=re.M)
    checked, missing = 0, []
    for title, body in zip(sections[1::2], sections[2::2]):
        if title == "xlafront.testing":
            continue
        module = importlib.import_module(title)
        # the name lists: paragraphs that are only backticked names (after an optional "Label: ")
        lists = [re.sub(r"^[A-Z][\w ]*: ", "", p.strip()) for p in body.strip().split("\n\n")]
        lists = [p for p in lists if re.fullmatch(r"`\w+`(,\s+`\w+`)*(\s+\(.*\))?", p, flags=re.S)]
        listed = [n for p in lists for n in re.findall(r"`(\w+)`", p.split(" (")[0])]
        assert listed, title
        for n in listed:
            checked += 1
            if not hasattr(module, n):
                missing.append(f"{title}.{n}")
    assert checked > 300 and not missing, missing


# ----------------------------------------------------------------------------- the wheel
@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory):
    """The wheel `pip wheel` builds from a clean copy of the sources (no network, no build
    isolation: setuptools and wheel from the test environment), and its unpacked contents."""
    import shutil
    import zipfile
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), src / name)
    for top in PRODUCT:
        shutil.copytree(os.path.join(REPO, top), src / top,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = root / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--no-index", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("xlafront-*.whl"))
    assert len(wheels) == 1, wheels
    site = root / "site"
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        z.extractall(site)   # a pure-Python wheel installs by unpacking
    return names, site


def test_wheel_has_one_top_level_package(built_wheel):
    names, _ = built_wheel
    tops = {n.split("/")[0] for n in names}
    assert tops == {"xlafront", "xlafront-0.1.0.dist-info"}, tops
    for must in ("xlafront/__init__.py", "xlafront/lowering/runtime.py", "xlafront/lowering/emitter.py",
                 "xlafront/transforms/jvp.py", "xlafront/numpy/linalg.py", "xlafront/random.py"):
        assert must in names, must
    assert not any("__pycache__" in n or n.startswith(("lowering/", "transforms/", "tests/")) for n in names)


USER_PROGRAM = """
import sys, json
import numpy as np
import xlafront as xf, xlafront.numpy as xnp
x = xnp.arange(4.0)
eager = (x * 2 + 1).tolist()
jitted = np.asarray(xf.jit(lambda v: xnp.sin(v) @ v)(x)).tolist()
grad = xf.grad(lambda v: (v ** 3).sum())(x).tolist()
key = xf.random.PRNGKey(0)
normal = xf.random.normal(key, (2,)).tolist()
from xlafront import random as xr
assert xr is xf.random and "random" in dir(xf)
loaded = sorted(m for m in sys.modules if m in ("transforms", "lowering", "core", "random"))
print(json.dumps({"file": xf.__file__, "eager": eager, "jit": jitted, "grad": grad,
                  "normal": normal, "user_modules_loaded": loaded,
                  "imported_log": open("imported.log").read() if __import__("os").path.exists("imported.log") else ""}))
"""


@pytest.mark.parametrize("where", ["wheel", "checkout"])
def test_user_modules_named_like_ours_are_not_imported(built_wheel, tmp_path, where):
    """A user's transforms.py, lowering.py and core.py next to their script never shadow
    xlafront's own modules; a user's random.py is not imported by xlafront's import nor by
    a first program (jit, eager, grad, xlafront.random)."""
    import json

    import numpy as np
    _, site = built_wheel
    for name in ("transforms", "lowering", "core"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('user module {name}.py was imported')\n")
    # random.py: harmless (stdlib modules importing `random` is not xlafront's to prevent),
    # but it records being imported
    (tmp_path / "random.py").write_text(
        "open('imported.log', 'a').write('random\\n')\n"
        "import importlib.util, sys, sysconfig, os\n"
        "_spec = importlib.util.spec_from_file_location('random', os.path.join(sysconfig.get_paths()['stdlib'], 'random.py'))\n"
        "_m = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_m)\n"
        "globals().update({k: v for k, v in vars(_m).items() if not k.startswith('__')})\n")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if where == "wheel":
        env["PYTHONPATH"] = str(site)
    r = subprocess.run([sys.executable, "-c", USER_PROGRAM], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if where == "wheel":
        assert out["file"].startswith(str(site)), out["file"]
    else:
        assert out["file"].startswith(REPO), out["file"]
    assert out["eager"] == [1.0, 3.0, 5.0, 7.0]
    x = np.arange(4.0, dtype=np.float32)
    assert out["jit"] == pytest.approx(float(np.sin(x) @ x), rel=1e-6)
    assert out["grad"] == [0.0, 3.0, 12.0, 27.0]
    assert len(out["normal"]) == 2 and all(np.isfinite(out["normal"]))
    assert out["user_modules_loaded"] == [] and out["imported_log"] == ""
