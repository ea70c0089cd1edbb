"""xlafront.nn: activation functions and parameter initializers (mirrors jax.nn)."""
from xlafront.nn.functions import (  # noqa: F401
    celu, elu, gelu, glu, hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu, log_sigmoid,
    log_softmax, logmeanexp, logsumexp, standardize, one_hot, relu, identity, relu6, selu, sigmoid,
    soft_sign, softmax, softplus, sparse_plus, sparse_sigmoid, silu, swish, squareplus, mish, log1mexp,
    tanh,
)
from xlafront.nn import initializers  # noqa: F401,E402

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
