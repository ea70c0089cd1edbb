"""Quickstart: jit, grad, vmap and StableHLO, in a minute."""
import xlafront as xf
import xlafront.numpy as xnp


def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * xnp.where(x > 0, x, alpha * xnp.exp(x) - alpha)


x = xnp.linspace(-3, 3, 7)
print("x            =", x)
print("selu(x)      =", selu(x))                      # eager: each op runs on the device
selu_jit = xf.jit(selu)
print("jit(selu)(x) =", selu_jit(x).block_until_ready())  # traced once, compiled by XLA, cached

if hasattr(xf, "grad"):
    loss = lambda x: xnp.sum(selu(x) ** 2) / 2
    print("grad(loss)(x) =", xf.grad(loss)(x))
if hasattr(xf, "vmap"):
    print("vmap(dot)     =", xf.vmap(lambda a, b: a @ b)(xnp.ones((3, 4)), xnp.ones((3, 4))))

print("\nxlafront's graph (make_jaxpr):")
print(xf.make_jaxpr(selu)(x))
print("StableHLO (jit(selu).lower(x).as_text()):")
print(selu_jit.lower(x).as_text())
