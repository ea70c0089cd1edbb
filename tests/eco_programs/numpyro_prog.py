"""numpyro: NUTS on a small linear regression; prints the posterior means and stds."""
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

rng = np.random.RandomState(0)
X = rng.randn(50).astype(np.float32)
Y = (1.5 * X - 0.7 + 0.3 * rng.randn(50)).astype(np.float32)


def model(x, y=None):
    a = numpyro.sample("a", dist.Normal(0.0, 5.0))
    b = numpyro.sample("b", dist.Normal(0.0, 5.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    numpyro.sample("obs", dist.Normal(a * x + b, sigma), obs=y)


mcmc = MCMC(NUTS(model), num_warmup=200, num_samples=300, progress_bar=False)
mcmc.run(jax.random.PRNGKey(0), jnp.asarray(X), jnp.asarray(Y))
s = mcmc.get_samples()
for k in ("a", "b", "sigma"):
    print(k, "mean", float(jnp.mean(s[k])), "std", float(jnp.std(s[k])))
