"""`jax.example_libraries.stax`: importable names, not implemented.

numpyro refers to stax layers at import time (`nonlinearity=stax.Elu` as a default
argument in numpyro.infer.autoguide, layer lists in numpyro.nn); these names exist so that
numpyro loads. Each is a placeholder: calling or using one raises NotImplementedYetError
naming it and the call site. (Inference with NUTS/HMC does not use them.)
"""
from __future__ import annotations

from xlafront import _missing
from xlafront._compat import placeholder_function

_NAMES = ("AvgPool", "BatchNorm", "Conv", "Conv1DTranspose", "ConvTranspose", "Dense", "Dropout", "Elu", "Exp",
          "FanInConcat", "FanInSum", "FanOut", "Flatten", "Gelu", "GeneralConv", "GeneralConvTranspose",
          "Identity", "LeakyRelu", "LogSoftmax", "MaxPool", "Relu", "Selu", "Sigmoid", "Softmax", "Softplus",
          "SumPool", "Tanh", "elementwise", "parallel", "serial", "shape_dependent")
for _n in _NAMES:
    globals()[_n] = placeholder_function(f"jax.example_libraries.stax.{_n}", "numpyro.nn / numpyro.infer.autoguide")
del _n

__getattr__ = _missing.module_getattr(__name__)
