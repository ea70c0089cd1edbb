"""Quickstart: eager arrays, jit, grad, vmap, the traced graph, StableHLO, and a check
against reference JAX, in a minute.  Run it with `make demo` (or `python examples/quickstart.py`)."""
import xlafront as xf
import xlafront.numpy as xnp


def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * xnp.where(x > 0, x, alpha * xnp.exp(x) - alpha)


def loss(x):
    return xnp.sum(selu(x) ** 2) / 2


x = xnp.linspace(-3, 3, 7)
print("x             =", repr(x))
print("selu(x)       =", selu(x))                         # eager: each op runs on the device
selu_jit = xf.jit(selu)
print("jit(selu)(x)  =", selu_jit(x).block_until_ready())  # traced once, compiled by XLA, cached
if hasattr(xf, "grad"):
    print("grad(loss)(x) =", xf.grad(loss)(x))
if hasattr(xf, "vmap"):
    print("vmap(dot)     =", xf.vmap(lambda a, b: a @ b)(xnp.ones((3, 4)), xnp.ones((3, 4))))

print("\nxlafront's graph, xf.make_jaxpr(selu)(x):")
print(xf.make_jaxpr(selu)(x))
print("StableHLO, xf.jit(selu).lower(x).as_text():")
print(selu_jit.lower(x).as_text())

try:
    import jax  # noqa: F401  (the reference; installed by `make demo` with the [test] extra)
except ImportError:
    print("(jax is not installed: skipping the comparison with JAX)")
else:
    from xlafront.testing import compare_with_jax
    print("The same functions under reference JAX, xlafront.testing.compare_with_jax:")
    print(compare_with_jax(selu, x))
    if hasattr(xf, "grad"):
        print(compare_with_jax(lambda x: xf.grad(loss)(x), x))
