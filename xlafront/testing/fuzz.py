"""Random programs run under xlafront and JAX, compared (issue 11's differential fuzzer).

A `Program` is a small data structure: input shapes, a list of ops in SSA form over
`xlafront.numpy`/`jax.numpy` (random shapes incl. 0-d and size-0 dims, broadcasting), a
stack of transforms (jit, grad, jvp, vmap, linearize, vjp, innermost first) and the seed of
its input values. `Program.to_code()` prints it as a pasteable Python script that runs the
program under both libraries, and that exact text is what `run_program` executes, so a
printed repro is what failed. `programs()` is the hypothesis strategy; hypothesis shrinks a
failing program to a small one.

    from xlafront.testing.fuzz import programs, check_program
    @given(programs())
    def test(p): check_program(p)          # raises AssertionError with the repro

JAX and hypothesis are imported lazily, inside functions.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

# name -> (kind, expression on m (root module) and a, b)
#   kinds: u elementwise unary, b broadcasting binary, r reduce last axis (ndim >= 1),
#   a reduce all, c along last axis same shape (ndim >= 1), s shape op (own shape rule)
OPS = {
    "neg": ("u", "m.numpy.negative({a})"), "sin": ("u", "m.numpy.sin({a})"),
    "cos": ("u", "m.numpy.cos({a})"), "tanh": ("u", "m.numpy.tanh({a})"),
    "exp": ("u", "m.numpy.exp({a})"), "log": ("u", "m.numpy.log({a})"),
    "sqrt": ("u", "m.numpy.sqrt({a})"), "abs": ("u", "m.numpy.abs({a})"),
    "square": ("u", "m.numpy.square({a})"), "sigmoid": ("u", "m.nn.sigmoid({a})"),
    "relu": ("u", "m.nn.relu({a})"), "softplus": ("u", "m.nn.softplus({a})"),
    "sign": ("u", "m.numpy.sign({a})"), "reciprocal": ("u", "m.numpy.reciprocal({a})"),
    "expm1": ("u", "m.numpy.expm1({a})"), "log1p": ("u", "m.numpy.log1p({a})"),
    "arctan": ("u", "m.numpy.arctan({a})"), "cube": ("u", "{a} ** 3"),
    "pow2.5": ("u", "m.numpy.abs({a}) ** 2.5"), "floor": ("u", "m.numpy.floor({a})"),
    "clip": ("u", "m.numpy.clip({a}, -1.0, 1.0)"), "erf": ("u", "m.scipy.special.erf({a})"),
    "gammaln": ("u", "m.scipy.special.gammaln({a})"), "mul2": ("u", "2 * {a}"),
    "add1": ("u", "{a} + 1"), "rsub": ("u", "1.0 - {a}"),
    "add": ("b", "{a} + {b}"), "sub": ("b", "{a} - {b}"), "mul": ("b", "{a} * {b}"),
    "div": ("b", "{a} / {b}"), "maximum": ("b", "m.numpy.maximum({a}, {b})"),
    "minimum": ("b", "m.numpy.minimum({a}, {b})"), "pow": ("b", "m.numpy.power({a}, {b})"),
    "arctan2": ("b", "m.numpy.arctan2({a}, {b})"), "where": ("b", "m.numpy.where({a} > 0, {a}, {b})"),
    "logaddexp": ("b", "m.numpy.logaddexp({a}, {b})"), "hypot": ("b", "m.numpy.hypot({a}, {b})"),
    "sum": ("r", "m.numpy.sum({a}, axis=-1)"), "max": ("r", "m.numpy.max({a}, axis=-1)"),
    "prod": ("r", "m.numpy.prod({a}, axis=-1)"), "lse": ("r", "m.nn.logsumexp({a}, axis=-1)"),
    "norm": ("r", "m.numpy.linalg.norm({a}, axis=-1)"), "var": ("r", "m.numpy.var({a}, axis=-1)"),
    "min0": ("r0", "m.numpy.min({a}, axis=0)"), "mean0": ("r0", "m.numpy.mean({a}, axis=0)"),
    "sumall": ("a", "m.numpy.sum({a})"), "meanall": ("a", "m.numpy.mean({a})"),
    "cumsum": ("c", "m.numpy.cumsum({a}, axis=-1)"), "cumprod": ("c", "m.numpy.cumprod({a}, axis=-1)"),
    "sort": ("c", "m.numpy.sort({a}, axis=-1)"), "softmax": ("c", "m.nn.softmax({a}, axis=-1)"),
    "rev": ("c", "{a}[..., ::-1]"), "cummax": ("c", "m.lax.cummax({a}, axis={a}.ndim - 1)"),
    "transpose": ("s", "m.numpy.transpose({a})"), "ravel": ("s", "m.numpy.ravel({a})"),
    "expand0": ("s", "{a}[None]"), "first": ("s", "{a}[0]"), "tail": ("s", "{a}[1:]"),
    "atset": ("s", "{a}.at[0].set(3.0)"), "atadd": ("s", "{a}.at[-1].add({a}[0])"),
    "concat": ("s", "m.numpy.concatenate([{a}, {a}], axis=0)"),
    "tile": ("s", "m.numpy.tile({a}, 2)"), "matmulT": ("s", "{a} @ m.numpy.swapaxes({a}, -1, -2)"),
    "pow2": ("u", "{a} ** 2"), "powm1": ("u", "{a} ** -1"), "sinc": ("u", "m.numpy.sinc({a})"),
    "roundtrip_int": ("u", "m.numpy.round({a}).astype(m.numpy.int32).astype(m.numpy.float32)"),
    "fori": ("u", "m.lax.fori_loop(0, 2, lambda i, c: m.numpy.sin(c) * 1.5, {a})"),
    "cond": ("u", "m.lax.cond(m.numpy.sum({a}) > 0, lambda v: v * 2.0, lambda v: m.numpy.sin(v), {a})"),
    "xlogy": ("b", "m.scipy.special.xlogy({a}, {b})"), "fmax": ("b", "m.numpy.fmax({a}, {b})"),
    "nanmean": ("r", "m.numpy.nanmean({a}, axis=-1)"), "std": ("r", "m.numpy.std({a}, axis=-1)"),
    "median": ("r", "m.numpy.median({a}, axis=-1)"), "amin": ("r", "m.numpy.min({a}, axis=-1)"),
    "cumlse": ("c", "m.lax.cumlogsumexp({a}, axis={a}.ndim - 1)"),
    "scan": ("s", "m.lax.scan(lambda c, x: (c * 0.5 + x, m.numpy.tanh(c) * x), "
                  "m.numpy.zeros({a}.shape[1:], {a}.dtype), {a})[1]"),
    "take": ("s", "m.numpy.take({a}, m.numpy.array([0, -1, 5]), axis=0)"),
    "gather": ("s", "{a}[m.numpy.array([0, 0, -1])]"),
}

TRANSFORMS = ("jit", "grad", "jvp", "vmap", "linearize", "vjp")
BASE_SHAPES = [(), (3,), (2, 3), (0,), (2, 0), (1, 3), (3, 1), (4,), (2, 2, 2)]


def op_shape(name, *shapes):
    """Output shape of op `name` on inputs of `shapes`, or None if it does not apply."""
    kind = OPS[name][0]
    a = shapes[0]
    if kind == "u":
        return a
    if kind == "b":
        try:
            return tuple(np.broadcast_shapes(a, shapes[1]))
        except ValueError:
            return None
    if kind == "r":
        return a[:-1] if a and a[-1] > 0 else None
    if kind == "r0":
        return a[1:] if a and a[0] > 0 else None
    if kind == "a":
        return ()
    if kind == "c":
        return a if a else None
    if name == "transpose":
        return a[::-1]
    if name == "ravel":
        return (int(np.prod(a)),)
    if name == "expand0":
        return (1,) + a
    if name in ("first", "atset", "atadd"):
        if not a or a[0] == 0:
            return None
        return a[1:] if name == "first" else a
    if name == "tail":
        return (max(a[0] - 1, 0),) + a[1:] if a else None
    if name == "scan":
        return a if a else None
    if name in ("take", "gather"):
        return (3,) + a[1:] if a and a[0] > 0 else None
    if name == "concat":
        return (2 * a[0],) + a[1:] if a else None
    if name == "tile":
        return a[:-1] + (2 * a[-1],) if a else (2,)
    if name == "matmulT":
        return a[:-1] + (a[-2],) if len(a) >= 2 else None
    raise KeyError(name)


@dataclasses.dataclass(frozen=True)
class Op:
    name: str
    args: tuple   # indices of earlier values (inputs first)


@dataclasses.dataclass(frozen=True, repr=False)
class Program:
    shapes: tuple          # base shapes of the inputs (before vmap batch axes)
    ops: tuple             # Op, in order; the value of the last op is the output
    transforms: tuple = ()  # innermost first
    seed: int = 0
    specials: bool = False  # put 0, -0, +-1, +-inf, NaN into the inputs
    batch: int = 2          # size of each vmap axis

    def input_values(self):
        r = np.random.RandomState(self.seed)
        nv = sum(t == "vmap" for t in self.transforms)
        out = []
        for s in self.shapes:
            shape = (self.batch,) * nv + tuple(s)
            x = np.asarray(r.randn(*shape) * 1.5, np.float32)
            if self.specials and x.size:
                sp = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 0.5], np.float32)
                mask = np.asarray(r.rand(*shape) < 0.3)
                x[mask] = sp[r.randint(0, len(sp), size=int(mask.sum()))]
            out.append(x)
        return out

    def to_code(self, full=True):
        n = len(self.shapes)
        params = ", ".join(f"v{i}" for i in range(n))
        lines = [f"def program(m, {params}):"]
        for k, op in enumerate(self.ops):
            expr = OPS[op.name][1].format(a=f"v{op.args[0]}", b=f"v{op.args[-1]}")
            lines.append(f"    v{n + k} = {expr}")
        lines.append(f"    return v{n + len(self.ops) - 1}")
        lines.append("")
        lines.append("def transformed(m):")
        lines.append("    f = lambda *a: program(m, *a)")
        for t in self.transforms:
            lines.append(f"    f = {t}(m, f)")
        lines.append("    return f")
        code = "\n".join(lines) + "\n"
        if not full:
            return code
        ins = ",\n    ".join(_array_code(x) for x in self.input_values())
        return (f"import numpy as np\nimport jax, jax.numpy, jax.scipy.special, xlafront\n{HELPERS}\n{code}\n"
                f"inputs = [\n    {ins},\n]\n"
                "for m in (xlafront, jax):\n"
                "    print(m.__name__, transformed(m)(*inputs))\n")

    def __repr__(self):
        return (f"Program({self.shapes!r}, {self.ops!r}, {self.transforms!r}, seed={self.seed}, "
                f"specials={self.specials}, batch={self.batch})  # as code:\n" + self.to_code(full=True))


def _array_code(x):
    return f"np.array({x.tolist()!r}, np.float32).reshape({x.shape})".replace("nan", "np.nan").replace(
        "inf", "np.inf")


HELPERS = '''
def jit(m, f):
    return m.jit(f)

def vmap(m, f):
    return m.vmap(f)

def grad(m, f):            # derivative of the sum of the output wrt the first input
    return lambda *a: m.grad(lambda *b: m.numpy.sum(f(*b)))(*a)

def jvp(m, f):             # tangent output for tangents of ones
    return lambda *a: m.jvp(f, a, tuple(m.numpy.ones_like(x) for x in a))[1]

def linearize(m, f):
    return lambda *a: m.linearize(f, *a)[1](*(m.numpy.ones_like(x) for x in a))

def vjp(m, f):             # cotangent of the first input for a cotangent of ones
    def g(*a):
        out, pull = m.vjp(f, *a)
        return pull(m.numpy.ones_like(out))[0]
    return g
'''


def _namespace():
    import jax
    import jax.numpy  # noqa: F401
    import jax.scipy.special  # noqa: F401
    import xlafront
    import xlafront.scipy.special  # noqa: F401
    ns = {"np": np, "jax": jax, "xlafront": xlafront, "math": math}
    exec(HELPERS, ns)  # noqa: S102 - our own helper text
    return ns


class Raised:
    def __init__(self, exc):
        self.exc = exc

    def __repr__(self):
        return f"raised {type(self.exc).__name__}: {str(self.exc)[:300]}"


class _Proxy:
    """A module seen through a few replaced attributes."""
    def __init__(self, base, **replaced):
        self._base, self.__dict__["_replaced"] = base, replaced

    def __getattr__(self, name):
        r = self.__dict__["_replaced"]
        return r[name] if name in r else getattr(self._base, name)


def _jax_with_documented_differences(jax):
    """`jax` whose logaddexp (and softplus, built on it) has xlafront's documented derivative
    (docs/differences.md): d logaddexp(x, +inf)/dx is 0 for a finite x, where JAX 0.10.2
    gives exp(x). Its value and every other derivative are JAX's own."""
    jnp = jax.numpy

    @jax.custom_jvp
    def logaddexp(x1, x2):
        return jnp.logaddexp(x1, x2)

    def weight(x, out):
        pinf = out == jnp.inf
        return jnp.exp(jnp.where(pinf, jnp.where(x == jnp.inf, 0.0, -jnp.inf), x) - jnp.where(pinf, 0.0, out))

    @logaddexp.defjvp
    def _jvp(primals, tangents):
        x1, x2 = jnp.broadcast_arrays(*primals)
        t1, t2 = jnp.broadcast_arrays(*tangents)
        out = logaddexp(x1, x2)
        return out, t1 * weight(x1, out) + t2 * weight(x2, out)

    def lae(a, b):
        a, b = jnp.broadcast_arrays(jnp.asarray(a), jnp.asarray(b))
        return logaddexp(a, b)
    return _Proxy(jax, numpy=_Proxy(jnp, logaddexp=lae),
                  nn=_Proxy(jax.nn, softplus=lambda x: lae(x, jnp.zeros_like(x))))


_DOCUMENTED_OPS = {"logaddexp", "softplus"}


def run_program(p: Program, jax_jit=False, documented=False):
    """(xlafront result, jax result): numpy arrays, or Raised. `jax_jit`: JAX runs the
    transformed program under one `jax.jit`; `documented`: JAX's functions with a derivative
    on the documented differences list take xlafront's (`_jax_with_documented_differences`)."""
    ns = _namespace()
    exec(p.to_code(full=False), ns)  # noqa: S102 - the program's own printed text
    inputs = p.input_values()
    out = []
    for m in (ns["xlafront"], ns["jax"]):
        try:
            f = ns["transformed"](_jax_with_documented_differences(m) if documented and m is ns["jax"] else m)
            if jax_jit and m is ns["jax"]:
                f = m.jit(f)
            r = f(*[m.numpy.asarray(x) for x in inputs])
            out.append((np.asarray(r), np.dtype(r.dtype).name, bool(getattr(r, "weak_type", False))))
        except Exception as e:  # noqa: BLE001 - the error is the result to compare
            out.append(Raised(e))
    return out


def mismatch(p: Program, stats=None) -> str:
    """'' when xlafront agrees with JAX on `p`, else why not. Where eager JAX and jitted JAX
    disagree with each other, xlafront follows jitted JAX (docs/differences.md: a 0/1 mask
    product that XLA turns into a select, e.g. 0 where eager JAX has 0 * inf = NaN in a
    max/min derivative): a program that matches only JAX under jit counts as agreeing
    (`stats["jit_only"]` counts them). So does one that matches JAX once JAX's logaddexp has
    the derivative docs/differences.md lists (`stats["documented"]`)."""
    rx, rj = run_program(p)
    msg = compare(rx, rj)
    if msg and not isinstance(rx, Raised) and not isinstance(rj, Raised):
        for kind, kw in (("jit_only", {"jax_jit": True}), ("documented", {"documented": True}),
                         ("documented", {"documented": True, "jax_jit": True})):
            if kind == "documented" and not _DOCUMENTED_OPS & {o.name for o in p.ops}:
                continue
            rx2, rj2 = run_program(p, **kw)
            if not compare(rx2, rj2):
                if stats is not None:
                    stats[kind] = stats.get(kind, 0) + 1
                return ""
    return msg


def compare(rx, rj, rtol=2e-4, atol=2e-5):
    """'' when they agree, else why not."""
    from xlafront.testing.special_points import _builtin_base, compare_values
    if isinstance(rx, Raised) or isinstance(rj, Raised):
        if isinstance(rx, Raised) and isinstance(rj, Raised):
            bx, bj = _builtin_base(rx.exc), _builtin_base(rj.exc)
            return "" if (issubclass(bx, bj) or issubclass(bj, bx)) else f"error classes: xlafront {rx} / jax {rj}"
        return f"xlafront {rx if isinstance(rx, Raised) else 'ok'} / jax {rj if isinstance(rj, Raised) else 'ok'}"
    (vx, dx, wx), (vj, dj, wj) = rx, rj
    if vx.shape != vj.shape:
        return f"shape {vx.shape} vs jax {vj.shape}"
    if dx != dj or wx != wj:
        return f"dtype {dx} weak={wx} vs jax {dj} weak={wj}"
    # compositions amplify ulp differences: compare relative to the output's scale
    scale = np.nanmax(np.abs(np.where(np.isfinite(vj), vj, 0)), initial=1.0) if vj.size else 1.0
    msg = compare_values(vx, vj, rtol, signed_zero=False) if True else ""
    if msg and vx.dtype.kind == "f":
        finite = np.isfinite(vx) & np.isfinite(vj)
        same_special = np.array_equal(np.isnan(vx), np.isnan(vj)) and np.array_equal(
            np.where(np.isinf(vj), vj, 0), np.where(np.isinf(vx), vx, 0))
        if same_special and np.all(np.abs(vx[finite].astype(np.float64) - vj[finite]) <= atol * scale
                                   + rtol * np.abs(vj[finite])):
            return ""
    return msg


def check_program(p: Program):
    msg = mismatch(p)
    if msg:
        raise AssertionError(f"xlafront and JAX differ: {msg}\n--- repro ---\n{p.to_code()}")


# ----------------------------------------------------------------------------- generation
def programs(max_ops=5, max_transforms=3):
    """Hypothesis strategy of Programs."""
    from hypothesis import strategies as st

    @st.composite
    def strat(draw):
        base = draw(st.sampled_from(BASE_SHAPES))
        n_in = draw(st.integers(1, 3))
        shapes = []
        for _ in range(n_in):
            s = list(base)
            if s and draw(st.booleans()):
                s = s[draw(st.integers(0, len(s))):]           # a broadcasting suffix
            if s and draw(st.integers(0, 3)) == 0:
                s[draw(st.integers(0, len(s) - 1))] = 1          # a broadcasting 1
            shapes.append(tuple(s))
        vals = list(shapes)
        ops = []
        names = sorted(OPS)
        for _ in range(draw(st.integers(1, max_ops))):
            name = draw(st.sampled_from(names))
            kind = OPS[name][0]
            i = draw(st.integers(0, len(vals) - 1))
            if kind == "b":
                j = draw(st.integers(0, len(vals) - 1))
                shape = op_shape(name, vals[i], vals[j])
                args = (i, j)
            else:
                shape = op_shape(name, vals[i])
                args = (i,)
            if shape is None or int(np.prod(shape)) > 64 or len(shape) > 4:
                continue
            ops.append(Op(name, args))
            vals.append(shape)
        if not ops:
            ops.append(Op("sin", (0,)))
        transforms = tuple(draw(st.lists(st.sampled_from(TRANSFORMS), max_size=max_transforms)))
        return Program(tuple(shapes), tuple(ops), transforms, draw(st.integers(0, 2**16)),
                       draw(st.booleans()), draw(st.sampled_from([2, 1, 3])))
    return strat()


# ----------------------------------------------------------------------------- a small shrinker
def shrink(p: Program, fails) -> Program:
    """Greedy: drop transforms, drop trailing ops, cut the seed/specials, while `fails(p)`."""
    changed = True
    while changed:
        changed = False
        cands = []
        for k in range(len(p.transforms)):
            cands.append(dataclasses.replace(p, transforms=p.transforms[:k] + p.transforms[k + 1:]))
        if len(p.ops) > 1:
            cands.append(dataclasses.replace(p, ops=p.ops[:-1]))
        if p.batch != 1:
            cands.append(dataclasses.replace(p, batch=1))
        for c in cands:
            try:
                if fails(c):
                    p, changed = c, True
                    break
            except Exception:  # noqa: BLE001
                continue
    return p


def signature(p: Program, msg: str) -> str:
    """A coarse grouping key of a failure: the ops and transforms involved and the kind."""
    kind = msg.split(":")[0][:40]
    return f"{'/'.join(sorted({o.name for o in p.ops}))} | {'.'.join(p.transforms)} | {kind}"
