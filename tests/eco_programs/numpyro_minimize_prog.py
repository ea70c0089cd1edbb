"""numpyro's Minimize optimizer (jax.scipy.optimize.minimize, BFGS) fitting a Laplace
approximation by SVI: one svi.update runs the whole minimization. Prints the fitted
medians, the loss and the guide's flat parameters."""
import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoLaplaceApproximation


def model(x, y):
    a = numpyro.sample("a", dist.Normal(0, 1))
    b = numpyro.sample("b", dist.Normal(0, 1))
    with numpyro.plate("N", y.shape[0]):
        numpyro.sample("obs", dist.Normal(a + b * x, 0.1), obs=y)


x = jnp.linspace(0, 10, 100)
y = 3 * x + 2
guide = AutoLaplaceApproximation(model)
svi = SVI(model, guide, numpyro.optim.Minimize(), loss=Trace_ELBO())
state = svi.init(jax.random.key(0), x, y)
state, loss = svi.update(state, x, y)
params = svi.get_params(state)
q = guide.quantiles(params, 0.5)
print("a", float(q["a"]), "b", float(q["b"]))
print("loss", float(loss))
print("loc", " ".join(f"{v:.6f}" for v in params["auto_loc"].tolist()))
