"""Parameter initializers (mirrors jax.nn.initializers).

Each factory returns `init(key, shape, dtype=None)`. They draw from xlafront.random with
the same calls, in the same order, as jax.nn.initializers does, so that for the same key
the values are bit-identical to JAX's.
"""
from __future__ import annotations

import math
import operator
from typing import Protocol, runtime_checkable

import numpy as np

from xlafront import core, dtypes
from xlafront import numpy as xnp

__all__ = [
    "Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal",
    "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal", "ones",
    "orthogonal", "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform",
    "zeros",
]


def _random():
    from xlafront import random  # imported on use: xlafront.random sits beside nn in the API layer
    return random


@runtime_checkable
class Initializer(Protocol):
    """The protocol of an initializer: `init(key, shape, dtype=None) -> Array`."""

    def __call__(self, key, shape, dtype=None, out_sharding=None):
        raise NotImplementedError


def _dtype(dtype):
    return dtypes.default_float() if dtype is None else dtypes.canonicalize(dtype)


def _no_sharding(out_sharding, name):
    if out_sharding is not None:
        raise NotImplementedError(f"nn.initializers.{name}: out_sharding is not implemented yet in xlafront")


def _canon_shape(shape, name):
    try:
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"nn.initializers.{name}: shape must be a sequence of integers, got {shape!r} "
                        f"(at {core.user_site()})") from None


def zeros(key, shape, dtype=None, out_sharding=None):
    """An array of zeros (the key is unused)."""
    _no_sharding(out_sharding, "zeros")
    return xnp.zeros(shape, _dtype(dtype))


def ones(key, shape, dtype=None, out_sharding=None):
    """An array of ones (the key is unused)."""
    _no_sharding(out_sharding, "ones")
    return xnp.ones(shape, _dtype(dtype))


def constant(value, dtype=None):
    """An initializer that fills the array with `value`."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "constant")
        return xnp.full(shape, value, dtype=_dtype(dtype))
    return init


def uniform(scale=1e-2, dtype=None):
    """Uniform on [0, scale)."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "uniform")
        dtype = _dtype(dtype)
        return _random().uniform(key, shape, dtype) * xnp.array(scale, dtype)
    return init


def normal(stddev=1e-2, dtype=None):
    """Normal with mean 0 and standard deviation `stddev`."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "normal")
        dtype = _dtype(dtype)
        return _random().normal(key, shape, dtype) * xnp.array(stddev, dtype)
    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """A standard normal truncated to [lower, upper], times `stddev`."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "truncated_normal")
        dtype = _dtype(dtype)
        return _random().truncated_normal(key, lower, upper, shape, dtype) * xnp.array(stddev, dtype)
    return init


def _axes_size(shape, axes):
    if isinstance(axes, int):
        return shape[axes]
    return math.prod([shape[i] for i in axes])


def _compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """(fan_in, fan_out) of a weights shape; the axes not named form the receptive field."""
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"Can't compute input and output sizes of a {len(shape)}-dimensional weights "
                         f"tensor with default in_axis. Must be at least 2D or specify in_axis explicitly.")
    in_size = _axes_size(shape, in_axis)
    out_size = _axes_size(shape, out_axis)
    batch_size = _axes_size(shape, batch_axis)
    receptive_field_size = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive_field_size, out_size * receptive_field_size


def _complex_uniform(key, shape, dtype):
    """Uniform on the unit disk (|z| <= sqrt(2) scaled so that E|z|^2 = 1)."""
    random = _random()
    key_r, key_theta = random.split(key)
    real_dtype = np.array(0, dtype).real.dtype
    dtype = np.result_type(real_dtype, np.complex64)
    r = xnp.sqrt(2 * random.uniform(key_r, shape, real_dtype)).astype(dtype)
    theta = 2 * np.pi * random.uniform(key_theta, shape, real_dtype).astype(dtype)
    return r * xnp.exp(1j * theta)


def _complex_truncated_normal(key, upper, shape, dtype):
    random = _random()
    key_r, key_theta = random.split(key)
    real_dtype = np.array(0, dtype).real.dtype
    dtype = np.result_type(real_dtype, np.complex64)
    t = (1 - xnp.exp(xnp.array(-upper ** 2, dtype))) * random.uniform(key_r, shape, real_dtype).astype(dtype)
    r = xnp.sqrt(-xnp.log(1 - t))
    theta = 2 * np.pi * random.uniform(key_theta, shape, real_dtype).astype(dtype)
    return r * xnp.exp(1j * theta)


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Samples with variance scale / n, n from the fans per `mode` ("fan_in", "fan_out",
    "fan_avg", "fan_geo_avg"); `distribution` is "truncated_normal", "normal" or "uniform"."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "variance_scaling")
        random = _random()
        shape = _canon_shape(shape, "variance_scaling")
        dtype = _dtype(dtype)
        fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
        if mode == "fan_in":
            denominator = fan_in
        elif mode == "fan_out":
            denominator = fan_out
        elif mode == "fan_avg":
            denominator = (fan_in + fan_out) / 2
        elif mode == "fan_geo_avg":
            denominator = (fan_in * fan_out) ** 0.5
        else:
            raise ValueError(f"invalid mode for variance scaling initializer: {mode}")
        variance = xnp.array(scale / denominator, dtype=dtype)
        is_float = dtypes.is_float(np.dtype(dtype))
        if distribution == "truncated_normal":
            if is_float:
                # 0.87962566103423978: the stddev of a standard normal truncated to (-2, 2)
                stddev = xnp.sqrt(variance) / xnp.array(.87962566103423978, dtype)
                return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
            stddev = xnp.sqrt(variance) / xnp.array(.95311164380491208, dtype)
            return _complex_truncated_normal(key, 2, shape, dtype) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dtype) * xnp.sqrt(variance)
        if distribution == "uniform":
            if is_float:
                return random.uniform(key, shape, dtype, -1) * xnp.sqrt(3 * variance)
            return _complex_uniform(key, shape, dtype) * xnp.sqrt(variance)
        raise ValueError(f"invalid distribution for variance scaling initializer: {distribution}")
    return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(1.0, "fan_avg", "uniform")."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(1.0, "fan_avg", "truncated_normal")."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(1.0, "fan_in", "uniform")."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(1.0, "fan_in", "truncated_normal")."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(2.0, "fan_in", "uniform")."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """variance_scaling(2.0, "fan_in", "truncated_normal")."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """A (semi-)orthogonal matrix along `column_axis`, times `scale` (random.orthogonal)."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "orthogonal")
        shape = _canon_shape(shape, "orthogonal")
        dtype = _dtype(dtype)
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape")
        if any(d == 0 for d in shape):
            return xnp.zeros(shape, dtype=dtype)
        n_rows, n_cols = math.prod(shape) // shape[column_axis], shape[column_axis]
        Q = _random().orthogonal(key, n_rows, (), dtype, n_cols)
        Q = xnp.reshape(Q, tuple(np.delete(shape, column_axis)) + (shape[column_axis],))
        Q = xnp.moveaxis(Q, -1, column_axis)
        return xnp.array(scale, dtype) * Q
    return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An orthogonal matrix at the center of a 3-5 D convolution kernel, zeros elsewhere."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _no_sharding(out_sharding, "delta_orthogonal")
        shape = _canon_shape(shape, "delta_orthogonal")
        dtype = _dtype(dtype)
        if len(shape) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if shape[-1] < shape[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
        ortho_matrix = orthogonal(scale=scale, column_axis=column_axis, dtype=dtype)(key, shape[-2:])
        W = xnp.zeros(shape, dtype=dtype)
        center = tuple((k - 1) // 2 for k in shape[:-2])
        return W.at[center + (Ellipsis,)].set(ortho_matrix)
    return init

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
