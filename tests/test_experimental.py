"""jax.experimental (io_callback, checkify, sparse/layout/hijax importable, x64 contexts),
jax.dtypes' key names, jax.flatten_util, jax.test_util, lax.broadcast_shapes, the legacy
5-argument lax.cond, ShapeDtypeStruct.like, errors.JaxRuntimeError and the drop-in runner's
compatibility layer (xlafront/_compat): each against JAX."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify as jcheckify
from jax.experimental import io_callback as j_io_callback
from jax.flatten_util import ravel_pytree as j_ravel

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import _missing
from xlafront.experimental import checkify as xcheckify
from xlafront.experimental import io_callback as x_io_callback
from xlafront.flatten_util import ravel_pytree as x_ravel
from jax_ref import jax_side

BOTH = [pytest.param((jax, jnp, j_io_callback), id="jax"), pytest.param((xf, xnp, x_io_callback), id="xf")]


# ----------------------------------------------------------------------------- io_callback
def _io_program(lib, np_, io_callback):
    """What a program with io_callbacks computes and the order of the host calls it makes."""
    log = []

    def cb(x):
        log.append(float(np.sum(x)))
        return np.asarray(x * 2, dtype=np.float32)

    spec = lib.ShapeDtypeStruct((3,), np_.float32)
    scalar = lib.ShapeDtypeStruct((), np_.float32)
    out = [np.asarray(io_callback(cb, spec, np_.arange(3.0))).tolist()]

    @lib.jit
    def f(x):
        io_callback(lambda v: log.append(("unused result", float(v))), None, x[0], ordered=True)
        y = io_callback(cb, spec, x, ordered=True)
        io_callback(lambda v: log.append(("after", float(v))) or np.float32(v), scalar, x[1] + 5,
                    ordered=True)  # its result is unused: it still runs, after the others
        return y + 1

    out.append(np.asarray(f(np_.ones(3))).tolist())
    out.append(np.asarray(lib.vmap(lambda x: io_callback(cb, scalar, x))(np_.arange(3.0))).tolist())
    # the derivative of a function that calls back on values without a tangent
    out.append(float(lib.grad(lambda x: x * io_callback(cb, scalar, np_.float32(2.0)))(3.0)))
    return out, log


def test_io_callback_values_and_call_order_match_jax():
    assert _io_program(xf, xnp, x_io_callback) == _io_program(jax, jnp, j_io_callback)


@pytest.mark.parametrize("case", ["vmap_ordered", "grad", "jvp"])
def test_io_callback_errors_match_jax(case):
    def run(lib, np_, io_callback):
        scalar = lib.ShapeDtypeStruct((), np_.float32)
        cb = lambda x: np.float32(x)  # noqa: E731
        if case == "vmap_ordered":
            lib.vmap(lambda x: io_callback(cb, scalar, x, ordered=True))(np_.arange(3.0))
        elif case == "grad":
            lib.grad(lambda x: io_callback(cb, scalar, x))(1.0)
        else:
            lib.jvp(lambda x: io_callback(cb, scalar, x), (1.0,), (1.0,))

    with pytest.raises(ValueError) as je:
        run(jax, jnp, j_io_callback)
    with pytest.raises(ValueError) as xe:
        run(xf, xnp, x_io_callback)
    assert str(xe.value).startswith(str(je.value))
    assert __file__ in str(xe.value)          # names the user's line
    assert x_io_callback(lambda: np.float32(1), xf.ShapeDtypeStruct((), xnp.float32)) == 1.0  # still works


# ----------------------------------------------------------------------------- checkify
def _checked(np_, ck):
    def f(x):
        ck.check(x > 0, "x must be positive, got {x}", x=x)
        ck.check(x < 10, "x too big {}", x)
        return np_.log(x)
    return f


@pytest.mark.parametrize("arg", [2.0, -1.0, 11.0])
def test_checkify_messages_match_jax(arg):
    for lib, np_, ck in ((jax, jnp, jcheckify), (xf, xnp, xcheckify)):
        err, out = lib.jit(ck.checkify(_checked(np_, ck)))(np_.float32(arg))
        msg = err.get()
        if lib is jax:
            expected, expected_out = msg, float(out)
        else:
            assert msg == expected
            np.testing.assert_allclose(float(out), expected_out)
            if msg is None:
                err.throw()
            else:
                with pytest.raises(ck.JaxRuntimeError, match="`check` failed"):
                    err.throw()


def test_checkify_under_vmap_and_eager_match_jax():
    xs = np.array([1.0, -2.0, 3.0], np.float32)
    msgs = []
    for lib, np_, ck in ((jax, jnp, jcheckify), (xf, xnp, xcheckify)):
        err, out = lib.vmap(ck.checkify(_checked(np_, ck)))(np_.asarray(xs))
        msgs.append(err.get())
        with pytest.raises(ck.JaxRuntimeError) as e:
            ck.check(np_.bool_(False), "eager {}", np_.int32(3))
        msgs.append(str(e.value))
        with pytest.raises(ValueError) as e:
            lib.jit(_checked(np_, ck))(1.0)
        msgs.append(str(e.value)[:60])
        with pytest.raises(TypeError) as e:
            ck.checkify(lambda x: ck.check(x > 0, "{}", 2.0))(np_.float32(1))
        msgs.append(type(e.value))
    assert msgs[4:] == msgs[:4]
    assert issubclass(xcheckify.JaxRuntimeError, ValueError)


def test_checkify_automatic_checks_are_not_implemented():
    with pytest.raises(_missing.NotImplementedYetError, match="nan_checks"):
        xcheckify.checkify(lambda x: x, errors=xcheckify.float_checks)


# ----------------------------------------------------------------------------- importable modules
def test_sparse_layout_hijax_importable_and_loud_when_used():
    from xlafront.experimental import hijax, layout, sparse
    assert issubclass(sparse.BCOO, sparse.JAXSparse) and not isinstance(xnp.ones(2), sparse.BCOO)
    with pytest.raises(_missing.NotImplementedYetError, match=r"jax\.experimental\.sparse\.BCOO.*test_experimental"):
        sparse.BCOO((xnp.ones(2), xnp.zeros((2, 1), xnp.int32)), shape=(3,))
    with pytest.raises(_missing.NotImplementedYetError, match="BCOO.fromdense"):
        sparse.BCOO.fromdense(xnp.eye(2))
    f = layout.Format(layout.Layout((1, 0)), None)
    assert f == layout.Format(layout.Layout((1, 0)), None) and hash(f) == hash(layout.Format(layout.Layout((1, 0))))

    class MyPrim(hijax.HiPrimitive):   # flax.nnx defines and makes these at import
        pass

    class MyType(hijax.MutableHiType):
        pass
    hijax.register_hitype(MyType, lambda x: x)
    hijax.control_flow_allowed_effects.add_type(MyPrim)
    p = MyPrim("my_prim")
    with pytest.raises(_missing.NotImplementedYetError, match=r"jax\.experimental\.hijax\.HiPrimitive\.bind"):
        p.bind(xnp.ones(2))
    with pytest.raises(_missing.NotImplementedYetError, match=r"jax\.experimental\.hijax\.MutableHiType"):
        MyType()
    with pytest.raises(AttributeError):
        hijax.not_a_name


def test_enable_and_disable_x64_contexts():
    from xlafront.experimental import disable_x64, enable_x64
    before = xf.config.x64
    with enable_x64():
        assert xnp.array(1.0).dtype == np.float64 and xnp.arange(3).dtype == np.int64
        with disable_x64():
            assert xnp.array(1.0).dtype == np.float32
        assert xnp.array(1.0).dtype == np.float64
    assert xf.config.x64 == before


# ----------------------------------------------------------------------------- jax.dtypes
def test_dtypes_key_and_helpers_match_jax():
    for lib in (jax, xf):
        d, k = lib.dtypes, lib.random.key(0)
        got = [d.issubdtype(k.dtype, d.prng_key), d.issubdtype(k.dtype, d.extended),
               d.issubdtype(np.float32, d.prng_key), d.issubdtype(np.float32, np.floating),
               d.issubdtype(k.dtype, np.floating), d.canonicalize_dtype(np.float64), d.canonicalize_dtype(np.int16),
               d.result_type(1, np.float16), d.result_type(1.0), d.result_type(np.int8, 2.0),
               d.result_type(np.int8, return_weak_type_flag=True), d.itemsize_bits(np.bool_),
               d.itemsize_bits(d.bfloat16), lib.numpy.issubdtype(k.dtype, d.prng_key)]
        if lib is jax:
            expected = got
    assert got == expected
    assert issubclass(xf.dtypes.prng_key, xf.dtypes.extended) and issubclass(xf.dtypes.extended, np.generic)


# ----------------------------------------------------------------------------- flatten_util
TREES = [
    {"a": np.ones(2, np.int32), "b": (np.zeros((2, 2), np.float16), 3.0)},
    [1, 2],
    [np.ones(2, np.float32), np.arange(3.0, dtype=np.float32).reshape(3, 1)],
    [],
    (np.ones(2, dtype=np.float16), np.ones(1, dtype=np.float16)),
]


@pytest.mark.parametrize("i", range(len(TREES)))
def test_ravel_pytree_matches_jax(i):
    tree = TREES[i]

    def jax_ravel_unravel(tree):
        jf, ju = j_ravel(jax.tree_util.tree_map(jnp.asarray, tree))
        return jf, ju(jf)
    jf, jback = jax_side(jax_ravel_unravel, tree)
    xf_, xu = x_ravel(xf.tree_util.tree_map(xnp.asarray, tree))
    assert (xf_.dtype, xf_.weak_type, xf_.shape) == (jf.dtype, jf.weak_type, jf.shape)
    np.testing.assert_array_equal(np.asarray(xf_), np.asarray(jf))
    xback = xu(xf_)
    assert jax.tree_util.tree_structure(jback) == jax.tree_util.tree_structure(xback)
    for a, b in zip(jax.tree_util.tree_leaves(jback), xf.tree_util.tree_leaves(xback)):
        assert (b.dtype, b.shape) == (a.dtype, a.shape)
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))


def test_ravel_pytree_under_grad_jit_vmap():
    params = {"w": np.arange(6.0, dtype=np.float32).reshape(2, 3), "b": np.ones(3, np.float32)}

    def loss(lib, np_, rav):
        def f(p):
            flat, unravel = rav(p)
            q = unravel(flat * 2.0)
            return np_.sum(np_.sin(flat)) + np_.sum(q["w"] @ q["b"])
        return f

    jg = jax_side(lambda p: jax.jit(jax.grad(loss(jax, jnp, j_ravel)))(p), params)
    xg = xf.jit(xf.grad(loss(xf, xnp, x_ravel)))(params)
    for k in params:
        np.testing.assert_allclose(np.asarray(xg[k]), np.asarray(jg[k]), rtol=1e-6)
    batched = xf.vmap(lambda w: x_ravel({"w": w, "s": w[0]})[0])(xnp.asarray(params["w"]))
    loop = np.stack([np.asarray(x_ravel({"w": w, "s": w[0]})[0]) for w in params["w"]])
    np.testing.assert_array_equal(np.asarray(batched), loop)
    _, unravel = x_ravel(params)
    with pytest.raises(ValueError, match="Sum of sizes 9 must be equal to dimension 0"):
        unravel(xnp.ones(4))
    assert unravel(xnp.zeros(9))["w"].shape == (2, 3)      # the next good call works


# ----------------------------------------------------------------------------- test_util
def test_check_grads_accepts_right_and_rejects_wrong_derivatives():
    from xlafront.test_util import check_grads
    check_grads(lambda x, y: xnp.sin(x) * y ** 2, (xnp.array([0.3, 1.2]), xnp.array([2.0, -1.0])), order=2)
    check_grads(lambda x: xnp.tanh(x).sum(), (xnp.linspace(-1.0, 1.0, 4),), order=1, modes=["rev"])

    @xf.custom_jvp
    def wrong(x):
        return xnp.sin(x)

    @wrong.defjvp
    def _(primals, tangents):
        return xnp.sin(primals[0]), 1.1 * xnp.cos(primals[0]) * tangents[0]

    for modes in (["fwd"], ["rev"]):
        with pytest.raises(AssertionError):
            check_grads(wrong, (xnp.array([0.5, 1.0]),), order=1, modes=modes)


# ----------------------------------------------------------------------------- smaller names
def test_broadcast_shapes_cond5_like_match_jax():
    for s in [((2, 1), (1, 3), ()), ((5,),), ((4, 1, 3), (2, 1))]:
        assert xf.lax.broadcast_shapes(*s) == jax.lax.broadcast_shapes(*s)
    with pytest.raises(ValueError) as je:
        jax.lax.broadcast_shapes((2, 3), (4,))
    with pytest.raises(ValueError) as xe:
        xf.lax.broadcast_shapes((2, 3), (4,))
    assert str(xe.value) == str(je.value)
    for pred in (True, False):
        args = (pred, 1.0, lambda x: x + 1, 2.0, lambda x: x * 10)
        assert float(xf.lax.cond(*args)) == float(jax.lax.cond(*args))
        assert float(xf.jit(lambda p: xf.lax.cond(p, 1.0, lambda x: x + 1, 2.0, lambda x: x * 10))(pred)) == \
            float(jax.lax.cond(*args))
    assert float(xf.grad(lambda y: xf.lax.cond(False, 1.0, lambda x: x + 1, y, lambda x: x * 10))(3.0)) == 10.0
    for x in (np.ones((2, 3), np.float32), 3.0, np.float32(1), np.ones(2), 1):
        assert repr(xf.ShapeDtypeStruct.like(x)) == repr(jax.ShapeDtypeStruct.like(x))
    assert repr(xf.ShapeDtypeStruct.like(xnp.ones((2, 3), xnp.int8))) == repr(jax.ShapeDtypeStruct.like(jnp.ones((2, 3), jnp.int8)))
    s = xf.ShapeDtypeStruct((2,), xnp.int32)
    assert xf.ShapeDtypeStruct.like(s) == s


def test_errors_jax_runtime_error_and_dtype_promotion_context():
    assert xf.errors.JaxRuntimeError is jax.errors.JaxRuntimeError
    with xf.numpy_dtype_promotion("standard"):
        assert (xnp.ones(2, xnp.int8) + 1.0).dtype == np.float32
    with pytest.raises(ValueError, match="'bogus' is not a valid NumpyDtypePromotion"):
        xf.numpy_dtype_promotion("bogus")
    with pytest.raises(_missing.NotImplementedYetError, match="strict"):
        xf.numpy_dtype_promotion("strict")


# ----------------------------------------------------------------------------- the drop-in runner
def test_runner_version_and_private_module_stand_ins(tmp_path):
    import subprocess
    import sys
    script = tmp_path / "compat_script.py"
    script.write_text(
        "import jax, xlafront\n"
        "print(jax.__version__, jax.__version_info__, xlafront.__version__ != jax.__version__)\n"
        "import jax._src.traceback_util as tu\n"
        "tu.register_exclusion('/somewhere'); print(tu._exclude_paths, tu.api_boundary(len) is len)\n"
        "from jax._src.tree_util import _registry\n"
        "print(dict in _registry, int in _registry)\n"
        "from jax._src.core import trace_state_clean\n"
        "print(trace_state_clean(), jax.jit(lambda x: x + trace_state_clean())(1))\n"
        "try:\n    jax._src.dispatch.wait_for_tokens\n"
        "except AttributeError as e:\n    print(type(e).__name__, 'jax._src.dispatch.wait_for_tokens' in str(e))\n"
        "try:\n    from jax._src.literals import LiteralArray\n"
        "except ImportError as e:\n    print('ImportError', 'jax._src.literals' in str(e))\n"
        "from jax._src.state.types import AbstractRef\n"
        "print(isinstance(jax.numpy.ones(2), AbstractRef))\n"
        "from jax._src.core import physical_aval\n"
        "try:\n    physical_aval(None)\n"
        "except AttributeError as e:\n    print(type(e).__name__, 'compat_script.py:21' in str(e))\n")
    assert script.read_text().splitlines()[20].strip() == "physical_aval(None)"
    p = subprocess.run([sys.executable, "-m", "xlafront", "run", str(script)], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "0.10.2 (0, 10, 2) True", "['/somewhere'] True", "True False", "True 1",
        "NotImplementedYetError True", "ImportError True", "False", "NotImplementedYetError True"]


def test_products_accept_out_sharding_and_stage_classes():
    a, b = np.arange(6.0, dtype=np.float32).reshape(2, 3), np.ones((3, 4), np.float32)
    for name, call in [("matmul", lambda m, l: m.matmul(a, b, out_sharding=None)),
                       ("dot", lambda m, l: m.dot(a, b, out_sharding=None)),
                       ("einsum", lambda m, l: m.einsum("ij,jk->ik", a, b, out_sharding=None)),
                       ("tensordot", lambda m, l: m.tensordot(a, b, 1, out_sharding=None)),
                       ("lax.dot_general", lambda m, l: l.dot_general(a, b, (((1,), (0,)), ((), ())),
                                                                       out_sharding=None)),
                       ("lax.dot", lambda m, l: l.dot(a, b, out_sharding=None))]:
        np.testing.assert_array_equal(np.asarray(call(xnp, xf.lax)), np.asarray(jax_side(lambda: call(jnp, jax.lax))), err_msg=name)
    import xlafront.stages as stages
    lowered = xf.jit(lambda x: x + 1).lower(1.0)
    assert isinstance(lowered, stages.Lowered) and isinstance(lowered.compile(), stages.Compiled)
    assert isinstance(xf.jit(len), stages.Wrapped) and stages.Traced is stages.Lowered
    import xlafront.api_util as api_util
    assert api_util.safe_map(lambda x, y: x + y, [1, 2], [3, 4]) == [4, 6]
    with pytest.raises(_missing.NotImplementedYetError, match=r"jax\.api_util\.flatten_fun.*test_experimental"):
        api_util.flatten_fun(None, None)


def _optimizers_program(lib, np_, o):
    out = []

    def loss(p):
        return np_.sum((p["w"] * np_.arange(1.0, 4.0) - 1.0) ** 2) + p["b"] ** 2

    for name, opt in [("sgd", o.sgd(0.1)), ("momentum", o.momentum(0.1, 0.9)), ("nesterov", o.nesterov(0.1, 0.9)),
                      ("adagrad", o.adagrad(0.1)), ("rmsprop", o.rmsprop(0.01)),
                      ("rmsprop_momentum", o.rmsprop_momentum(0.01)),
                      ("adam", o.adam(o.exponential_decay(0.1, 10, 0.5))),
                      ("adamax", o.adamax(o.polynomial_decay(0.1, 5, 0.01))),
                      ("piecewise", o.sgd(o.piecewise_constant([2, 4], [0.1, 0.05, 0.01]))),
                      ("inverse_time", o.sgd(o.inverse_time_decay(0.1, 2, 0.5, True)))]:
        init, update, get = opt
        s = init({"w": np_.ones(3), "b": np_.float32(0.5)})
        step = lib.jit(lambda i, s: update(i, lib.grad(loss)(get(s)), s))
        for i in range(6):
            s = step(i, s)
        p = get(s)
        out.append((name, np.asarray(p["w"]), np.asarray(p["b"])))
    out.append(("l2_norm", np.asarray(o.l2_norm({"a": np_.ones(4), "b": np_.ones(5)})), None))
    out.append(("clip", np.asarray(o.clip_grads({"a": np_.ones(4) * 3}, 1.0)["a"]), None))
    return out


def test_example_libraries_optimizers_match_jax():
    from jax.example_libraries import optimizers as jo

    from xlafront.example_libraries import optimizers as xo
    for (name, jw, jb), (_, xw, xb) in zip(jax_side(lambda: _optimizers_program(jax, jnp, jo)),
                                                 _optimizers_program(xf, xnp, xo)):
        np.testing.assert_allclose(xw, jw, rtol=1e-6, err_msg=name)
        if jb is not None:
            np.testing.assert_allclose(xb, jb, rtol=1e-6, err_msg=name)
    init, update, get = xo.adam(0.1)
    s = init({"a": xnp.ones(2)})
    with pytest.raises(TypeError, match="did not match the parameter tree"):
        update(0, [xnp.ones(2)], s)
    assert xf.tree_util.tree_structure(xf.jit(lambda s: s)(s)) == xf.tree_util.tree_structure(s)


def test_stax_names_are_importable_placeholders():
    from xlafront.example_libraries import stax
    layer = stax.Elu   # numpyro uses it as a default argument at import
    with pytest.raises(_missing.NotImplementedYetError, match=r"jax\.example_libraries\.stax\.serial"):
        stax.serial(layer)


# ----------------------------------------------------------------------------- ad_checkpoint
def _residual_lines(lib, np_, fn_kind):
    import contextlib
    import io
    import importlib
    adc = importlib.import_module(f"{lib.__name__}.ad_checkpoint")

    def g(W1, W2, x):
        h = np_.sin(W1 @ x)
        h = adc.checkpoint_name(h, "hidden")
        return np_.sum(W2 @ np_.cos(h))

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        if fn_kind == "mlp":
            adc.print_saved_residuals(g, np_.ones((5, 4)), np_.ones((3, 5)), np_.ones(4))
        else:
            adc.print_saved_residuals(lambda p, x: np_.sum(np_.sin(p["w"] * x)), {"w": np_.ones(3)}, 2.0)
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("fn_kind", ["mlp", "pytree"])
def test_print_saved_residuals_format_and_arguments_match_jax(fn_kind):
    import re
    jl, xl = _residual_lines(jax, jnp, fn_kind), _residual_lines(xf, xnp, fn_kind)
    j_args = [line for line in jl if "from the argument" in line]
    x_args = [line for line in xl if "from the argument" in line]
    assert x_args == j_args and xl[:len(x_args)] == x_args      # the arguments first, as JAX
    for line in xl[len(x_args):]:   # the rest: xlafront's residuals, in JAX's format, at the user's line
        assert re.fullmatch(r"f32\[[\d,]*\] output of \w+ from .*test_experimental\.py:\d+:\d+ \((g|<lambda>)\)",
                            line), line
    assert len(xl) > len(x_args)


def test_checkpoint_name_is_transparent_to_grad_and_jit():
    from xlafront.ad_checkpoint import checkpoint, checkpoint_name

    def f(x):
        return xnp.sum(xnp.sin(checkpoint_name(xnp.cos(x), "c")) ** 2)

    x = np.linspace(0.1, 1.0, 4).astype(np.float32)
    jf = lambda x: jnp.sum(jnp.sin(jnp.cos(x)) ** 2)  # noqa: E731
    pol = xf.checkpoint_policies.save_only_these_names("c")
    np.testing.assert_allclose(np.asarray(xf.jit(xf.grad(checkpoint(f, policy=pol)))(x)),
                               np.asarray(jax_side(lambda x: jax.grad(jf)(x), x)), rtol=1e-6)
    with pytest.raises(TypeError, match="name must be a string"):
        checkpoint_name(x, 3)


# ----------------------------------------------------------------------------- jax.random names flax wraps
@pytest.mark.parametrize("seed,mean,shape", [(3, [0.5, 1.0, 2.0, 3.0], None), (0, 2.0, (5,)), (7, [[1.0], [2.0]], (2, 3))])
def test_random_wald_matches_jax_bitwise(seed, mean, shape):
    x = xf.random.wald(xf.random.key(seed), xnp.asarray(mean, xnp.float32), shape)
    j = jax.random.wald(jax.random.key(seed), jnp.asarray(mean, jnp.float32), shape)
    assert x.dtype == j.dtype and x.shape == j.shape
    np.testing.assert_array_equal(np.asarray(x), np.asarray(j))
    keys = xf.random.split(xf.random.key(seed), 3)
    batched = xf.vmap(lambda k: xf.random.wald(k, 1.5, (2,)))(keys)
    np.testing.assert_array_equal(np.asarray(batched), np.stack([np.asarray(xf.random.wald(k, 1.5, (2,))) for k in keys]))


def test_random_binomial_multinomial_exist_and_raise_when_called():
    for name in ("binomial", "multinomial"):
        fn = getattr(xf.random, name)
        with pytest.raises(_missing.NotImplementedYetError, match=rf"jax\.random\.{name}.*test_experimental"):
            fn(xf.random.key(0), 5, 0.5)


def test_checkify_check_in_a_nested_transform_is_a_clear_error():
    def f(x):
        return xf.jit(lambda y: xcheckify.check(y > 0, "neg") or y)(x)

    with pytest.raises(_missing.NotImplementedYetError, match="nested in the checkified function"):
        xcheckify.checkify(f)(xnp.float32(1))
    err, out = xcheckify.checkify(_checked(xnp, xcheckify))(xnp.float32(3))   # the next good call works
    assert err.get() is None and float(out) == pytest.approx(np.log(3))


def test_compat_opt_in_for_import_xlafront_as_jax():
    import subprocess
    import sys
    code = ("import xlafront as jax, xlafront._compat\n"
            "assert not hasattr(jax, '_src')\n"
            "xlafront._compat.enable()\n"
            "import xlafront._src.traceback_util as tu\n"
            "from xlafront._src.core import trace_state_clean\n"
            "print(jax._src is xlafront._compat, callable(tu.register_exclusion), trace_state_clean())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "True", "True"]
