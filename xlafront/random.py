"""xlafront.random: JAX's counter-based PRNG API, bit-identical to `jax.random`.

Keys are threefry-2x32 keys (see `_random_prng`): raw `uint32[..., 2]` arrays from
`PRNGKey`, or typed `PRNGKeyArray`s from `key`. Each sampler checks its arguments
here (so errors name the caller's line) and runs a jitted implementation whose
static arguments are the shape and dtype: eager calls compile once per signature,
and under jit/vmap/grad the implementation is traced into the caller's graph.
The samplers transform raw bits the way JAX does, in the same order of float
operations, so the same key gives the same numbers.
"""
from __future__ import annotations

import operator

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront import _random_prng as _prng
from xlafront.api import jit
from xlafront.api_autodiff import custom_jvp
from xlafront.array import ArrayImpl
from xlafront.config import config
from xlafront.core import Tracer, get_aval
from xlafront.lax._control_flow import map as _lax_map, while_loop
from xlafront.lax._special import _random_gamma_grad
import xlafront.numpy as _xnp
from xlafront.numpy._util import broadcast_to_shape as _bcast_to

PRNGKeyArray = _prng.PRNGKeyArray
KeyArray = PRNGKeyArray
core.register_internal_path(__file__)

__all__ = ["PRNGKey", "key", "key_data", "wrap_key_data", "key_impl", "clone", "split", "fold_in",
           "bits", "uniform", "normal", "randint", "bernoulli", "choice", "permutation", "shuffle",
           "categorical", "gumbel", "exponential", "truncated_normal", "laplace", "logistic",
           "multivariate_normal", "rademacher", "maxwell", "cauchy", "double_sided_maxwell",
           "weibull_min", "pareto", "rayleigh", "lognormal", "triangular", "geometric",
           "gamma", "loggamma", "beta", "dirichlet", "poisson", "chisquare", "t", "f", "ball", "generalized_normal",
           "orthogonal", "PRNGKeyArray"]


# ----------------------------------------------------------------------------- argument checks
def _site():
    return core.user_site()


def _shape(name, shape):
    """A shape argument as a tuple of non-negative Python ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(_static_dim(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a sequence of integers, got {shape!r} "
                        f"(at {_site()})") from None
    if any(d < 0 for d in out):
        raise ValueError(f"{name}: shape {out} has a negative dimension (at {_site()})")
    return out


def _static_dim(d):
    if isinstance(d, Tracer):
        raise TypeError("shape entries must be static")
    return int(operator.index(d))


def _float_dtype(name, dtype, allow_complex=False):
    dt = dtypes.default_float() if dtype is None else dtypes.dtype(dtype)
    ok = dtypes.is_float(dt) or (allow_complex and dtypes.is_complex(dt))
    if not ok:
        kind = "a float or complex dtype" if allow_complex else "a float dtype"
        raise ValueError(f"dtype argument to `{name}` must be {kind}, got {dt.name} (at {_site()})")
    return dtypes.canonicalize(dt)


def _int_dtype(name, dtype):
    dt = dtypes.default_int() if dtype is None else dtypes.dtype(dtype)
    if not dtypes.is_int(dt):
        raise TypeError(f"{name} only accepts integer dtypes, got {dt.name} (at {_site()})")
    return dtypes.canonicalize(dt)


def _check_param_shape(name, shape, *param_shapes):
    """As JAX: parameter shapes must broadcast to exactly `shape`."""
    if param_shapes:
        try:
            b = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            b = None
        if b != tuple(shape):
            raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape argument, "
                             f"and the result of broadcasting the shapes must equal the shape argument. "
                             f"Got result {b} from broadcasting shapes {(tuple(shape), *param_shapes)} "
                             f"(at {_site()}).")


def _as_array(x, dtype=None):
    if isinstance(x, (ArrayImpl, Tracer, np.ndarray)) and (dtype is None or get_aval(x).dtype == dtype):
        return x  # (numpy arrays go to the jitted samplers as they are: no eager transfer)
    return _xnp.asarray(x, dtype=dtype)


def _float_param(x):
    """x as an array of its float dtype (of the default float if it has none), strongly typed."""
    x = _as_array(x)
    a = get_aval(x)
    if not dtypes.is_float(a.dtype):
        return _xnp.asarray(x, dtype=dtypes.default_float())
    if a.weak_type:
        return P.convert_element_type(x, a.dtype)
    return x


def _key(name, key):
    return _prng.check_key(name, key, single=True)


def _rjit(static_argnums=()):
    """jit for the samplers, made on first use (creating jit objects at import costs import
    time). One compile cache serves both PRNG schemes: a flip of jax_threefry_partitionable
    clears every cache (_on_config_update)."""
    def deco(fn):
        box = []

        def call(*args):
            if not box:
                box.append(jit(fn, static_argnums=static_argnums))
            return box[0](*args)
        call.__name__ = fn.__name__
        call.__wrapped__ = fn
        return call
    return deco


_scheme = [_prng.partitionable()]


def _on_config_update(attr, value):
    """jax_threefry_partitionable changes the bits every traced program draws: as JAX, a
    change drops every cache (jitted functions, eager ops), so they trace again."""
    if attr == "threefry_partitionable" and bool(value) != _scheme[0]:
        _scheme[0] = bool(value)
        from xlafront import api
        api.clear_caches()


config.add_listener(_on_config_update)


# ----------------------------------------------------------------------------- keys
def _seed_data(name, seed):
    if isinstance(seed, PRNGKeyArray):
        raise TypeError(f"{name}: seed must be an integer, got a key array (at {_site()})")
    if isinstance(seed, (bool, np.bool_)) or (isinstance(seed, int) and not isinstance(seed, bool)):
        return _xnp.asarray(_prng.seed_words_of_int(int(seed)))
    if isinstance(seed, float):
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r} of type float (in {name} at {_site()})")
    if isinstance(seed, np.integer):  # a numpy integer scalar: its words on the host
        if seed.dtype.itemsize == 8:
            return _xnp.asarray(_prng.seed_words_of_int(int(seed)))
        return _xnp.asarray(np.array([0, np.asarray(seed).astype(np.uint32)], np.uint32))
    if not isinstance(seed, (ArrayImpl, Tracer)):
        seed = _xnp.asarray(seed)
    a = get_aval(seed)
    if a.shape != ():
        raise TypeError(f"{name} accepts a scalar seed, but was given an array of shape {a.shape} != () "
                        f"(at {_site()}). Use jax.vmap for batching")
    if not dtypes.is_int(a.dtype):
        raise TypeError(f"PRNG key seed must be an integer; got {a.str_short()} (in {name} at {_site()})")
    return _seed_impl(seed)


@_rjit()
def _seed_impl(seed):
    return _prng.seed_words(seed)


def PRNGKey(seed, *, impl=None):
    """A raw PRNG key (uint32[2]) from an integer seed."""
    _check_impl(impl)
    return _seed_data("PRNGKey", seed)


def key(seed, *, impl=None, dtype=None):
    """A typed PRNG key (dtype key<fry>, shape ()) from an integer seed."""
    _check_impl(impl)
    return PRNGKeyArray(_seed_data("key", seed))


def _check_impl(impl):
    if impl is not None and impl not in ("threefry2x32", "threefry"):
        raise ValueError(f"unsupported PRNG implementation {impl!r}: xlafront has threefry2x32 only "
                         f"(at {_site()})")


def key_data(keys):
    """The uint32 data of typed keys (raw keys are returned as they are)."""
    data, _ = _prng.check_key("key_data", keys, single=False)
    return data


def wrap_key_data(key_bits_array, *, impl=None):
    """Typed keys over uint32 key data of shape (..., 2)."""
    _check_impl(impl)
    if isinstance(key_bits_array, PRNGKeyArray):
        raise TypeError(f"wrap_key_data: expected uint32 key data, got a typed key array (at {_site()})")
    data, _ = _prng.check_key("wrap_key_data", key_bits_array, single=False)
    return PRNGKeyArray(data if isinstance(data, (ArrayImpl, Tracer)) else _xnp.asarray(data))


def key_impl(keys):
    _prng.check_key("key_impl", keys, single=False)
    return "threefry2x32"


def clone(key):
    return key


@_rjit(static_argnums=(1,))
def _split_impl(key, shape):
    return _prng.split(key, shape)


def split(key, num=2):
    """`num` new keys (an int or a shape) from one key."""
    data, typed = _key("split", key)
    shape = _shape("split", num)
    return _prng.wrap(_split_impl(data, shape), typed)


@_rjit()
def _fold_in_impl(key, data):
    return _prng.fold_in(key, P.convert_element_type(data, dtypes.uint32))


def fold_in(key, data):
    """A new key from `key` and an integer."""
    kd, typed = _key("fold_in", key)
    if isinstance(data, int) and not isinstance(data, bool):
        if not 0 <= data < 2 ** 32:
            raise OverflowError(f"Python integer {data} out of bounds for uint32 (in fold_in at {_site()})")
        data = np.uint32(data)
    elif isinstance(data, (ArrayImpl, Tracer, np.ndarray, np.generic)):
        if get_aval(data).shape != ():
            raise TypeError(f"fold_in: data must be a scalar, got shape {get_aval(data).shape} (at {_site()})")
    return _prng.wrap(_fold_in_impl(kd, data), typed)


# ----------------------------------------------------------------------------- bits, uniform
@_rjit(static_argnums=(1, 2))
def _bits_impl(key, bit_width, shape):
    return _prng.random_bits(key, bit_width, shape)


def bits(key, shape=(), dtype=None):
    """Uniform random bits of an unsigned integer dtype."""
    data, _ = _key("bits", key)
    dt = dtypes.uint32 if dtype is None else dtypes.dtype(dtype)
    if not dtypes.is_unsigned(dt):
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dt.name} (at {_site()})")
    dt = dtypes.canonicalize(dt)
    return _bits_impl(data, dt.itemsize * 8, _shape("bits", shape))


def _bcast_param(x, shape):
    """A parameter broadcast to `shape` (rank-0 ones stay scalars: elementwise ops take them)."""
    a = get_aval(x)
    if a.shape == () or a.shape == tuple(shape):
        return x
    return _xnp.broadcast_to(x, shape)


def _uniform01_bits(key, shape, dtype):
    """Floats in [0, 1) made from random mantissa bits, as JAX."""
    fi = dtypes.finfo(dtype)
    nbits, nmant = fi.bits, fi.nmant
    rng_bits = nbits if nmant >= 8 else 8
    b = _prng.random_bits(key, rng_bits, shape)
    ut = _prng.UINT[nbits]
    if rng_bits != nbits:
        b = P.convert_element_type(b, ut)
    one = np.array(1.0, dtype).view(ut)[()]
    fb = P.bitwise_or(P.shift_right_logical(b, ut.type(rng_bits - nmant)), one)
    return P.sub(P.bitcast_convert_type(fb, dtype), np.array(1.0, dtype)[()])


def _uniform(key, shape, dtype, minval, maxval):
    """Traced body of uniform: minval/maxval are already of `dtype`."""
    floats = _uniform01_bits(key, shape, dtype)
    minval, maxval = _bcast_param(minval, shape), _bcast_param(maxval, shape)
    span = P.sub(maxval, minval)
    return P.max(minval, P.add(P.mul(floats, span), minval))


def _to(x, dtype):
    """x (traced or concrete) converted to dtype, without weak type."""
    if isinstance(x, (int, float, bool, complex)):
        return np.array(x, dtype)[()]
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x, dtype)
        return a[()] if a.ndim == 0 else a
    return P.convert_element_type(x, dtype)


@_rjit(static_argnums=(3, 4))
def _uniform_impl(key, minval, maxval, shape, dtype):
    return _uniform(key, shape, dtype, _to(minval, dtype), _to(maxval, dtype))


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform floats in [minval, maxval)."""
    data, _ = _key("uniform", key)
    dt = _float_dtype("uniform", dtype)
    shape = _shape("uniform", shape)
    for v in (minval, maxval):
        s = _param_shape(v)
        try:
            if np.broadcast_shapes(shape, s) != shape:
                raise ValueError
        except ValueError:
            raise TypeError(f"uniform: minval/maxval of shape {s} do not broadcast to shape {shape} "
                            f"(at {_site()})") from None
    return _uniform_impl(data, minval, maxval, shape, dt)


# ----------------------------------------------------------------------------- normal and friends
def _nextafter_toward_zero(v, dtype):
    return np.nextafter(np.array(v, dtype), np.array(0.0, dtype))[()]


def _normal_real(key, shape, dtype):
    lo = _nextafter_toward_zero(-1.0, dtype)
    u = _uniform(key, shape, dtype, lo, np.array(1.0, dtype)[()])
    return P.mul(np.array(np.sqrt(2), dtype)[()], P.erf_inv(u))


@_rjit(static_argnums=(1, 2))
def _normal_impl(key, shape, dtype):
    if dtypes.is_complex(dtype):
        rdt = P._real_dtype(dtype)
        k_re, k_im = _split2(key)
        re = P.convert_element_type(_normal_real(k_re, shape, rdt), dtype)
        im = P.convert_element_type(_normal_real(k_im, shape, rdt), dtype)
        z = P.add(re, P.mul(np.array(1j, dtype)[()], im))
        return P.div(z, np.array(np.sqrt(2), dtype)[()])
    return _normal_real(key, shape, dtype)


def normal(key, shape=(), dtype=None):
    """Standard normal samples (complex dtypes: independent real and imaginary parts of variance 1/2)."""
    data, _ = _key("normal", key)
    dt = _float_dtype("normal", dtype, allow_complex=True)
    return _normal_impl(data, _shape("normal", shape), dt)


def _split2(key):
    keys = _prng.split(key, (2,))
    return P.reshape(P.slice(keys, (0, 0), (1, 2)), (2,)), P.reshape(P.slice(keys, (1, 0), (2, 2)), (2,))


def _tiny(dtype):
    return np.array(dtypes.finfo(dtype).tiny, dtype)[()]


def _one(dtype):
    return np.array(1.0, dtype)[()]


def _gumbel(key, shape, dtype):
    return P.neg(P.log(P.neg(P.log(_uniform(key, shape, dtype, _tiny(dtype), _one(dtype))))))


def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel samples."""
    data, _ = _key("gumbel", key)
    dt = _float_dtype("gumbel", dtype)
    if mode not in (None, "low"):
        raise ValueError(f"gumbel: mode {mode!r} is not supported: xlafront has mode='low' (at {_site()})")
    return _gumbel_impl(data, _shape("gumbel", shape), dt)


@_rjit(static_argnums=(1, 2))
def _gumbel_impl(key, shape, dtype):
    return _gumbel(key, shape, dtype)


@_rjit(static_argnums=(1, 2))
def _exponential_impl(key, shape, dtype):
    u = _uniform(key, shape, dtype, np.array(0.0, dtype)[()], _one(dtype))
    return P.neg(P.log1p(P.neg(u)))


def exponential(key, shape=(), dtype=None):
    """Standard exponential samples."""
    data, _ = _key("exponential", key)
    return _exponential_impl(data, _shape("exponential", shape), _float_dtype("exponential", dtype))


@_rjit(static_argnums=(1, 2))
def _laplace_impl(key, shape, dtype):
    u = _uniform(key, shape, dtype, _nextafter_toward_zero(-1.0, dtype), _one(dtype))
    return P.mul(P.sign(u), P.log1p(P.neg(P.abs(u))))


def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples."""
    data, _ = _key("laplace", key)
    return _laplace_impl(data, _shape("laplace", shape), _float_dtype("laplace", dtype))


@_rjit(static_argnums=(1, 2))
def _logistic_impl(key, shape, dtype):
    u = _uniform(key, shape, dtype, _tiny(dtype), _one(dtype))
    return P.sub(P.log(u), P.log1p(P.neg(u)))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples."""
    data, _ = _key("logistic", key)
    return _logistic_impl(data, _shape("logistic", shape), _float_dtype("logistic", dtype))


@_rjit(static_argnums=(1, 2))
def _cauchy_impl(key, shape, dtype):
    u = _uniform(key, shape, dtype, np.array(dtypes.finfo(dtype).eps, dtype)[()], _one(dtype))
    return P.tan(P.mul(np.array(np.pi, dtype)[()], P.sub(u, np.array(0.5, dtype)[()])))


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples."""
    data, _ = _key("cauchy", key)
    return _cauchy_impl(data, _shape("cauchy", shape), _float_dtype("cauchy", dtype))


@_rjit(static_argnums=(3, 4))
def _truncated_normal_impl(key, lower, upper, shape, dtype):
    sqrt2 = np.array(np.sqrt(2), dtype)[()]
    lower, upper = _to(lower, dtype), _to(upper, dtype)
    a = P.erf(P.div(lower, sqrt2))
    b = P.erf(P.div(upper, sqrt2))
    u = _uniform(key, shape, dtype, a, b)
    out = P.mul(sqrt2, P.erf_inv(u))
    lo = P.nextafter(lower, np.array(np.inf, dtype)[()])
    hi = P.nextafter(upper, np.array(-np.inf, dtype)[()])
    lo, hi = _bcast_param(lo, shape), _bcast_param(hi, shape)
    return P.min(hi, P.max(lo, out))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples truncated to (lower, upper)."""
    data, _ = _key("truncated_normal", key)
    dt = _float_dtype("truncated_normal", dtype)
    shape = _shape_or_params("truncated_normal", shape, lower, upper)
    return _truncated_normal_impl(data, lower, upper, shape, dt)


# ----------------------------------------------------------------------------- bernoulli, randint
@_rjit(static_argnums=(2,))
def _bernoulli_impl(key, p, shape):
    dt = get_aval(p).dtype
    u = _uniform(key, shape, dt, np.array(0.0, dt)[()], _one(dt))
    return P.lt(u, _bcast_param(p, shape))


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability p."""
    data, _ = _key("bernoulli", key)
    if mode not in ("low", None):
        raise ValueError(f"bernoulli: mode {mode!r} is not supported: xlafront has mode='low' (at {_site()})")
    p = _float_param(p)
    pa = get_aval(p)
    if shape is None:
        shape = pa.shape
    else:
        shape = _shape("bernoulli", shape)
        _check_param_shape("bernoulli", shape, pa.shape)
    return _bernoulli_impl(data, p, tuple(shape))


def _select(pred, on_true, on_false, shape):
    """select with operands broadcast to `shape` (select_n wants equal case shapes)."""
    full = [x if get_aval(x).shape == tuple(shape) else
            P.broadcast_in_dim(x, shape, ()) for x in (pred, on_true, on_false)]
    return P.select(*full)


def _convert_and_clip(x, dtype):
    """x (integer, traced) clipped to the range both its dtype and `dtype` can hold, then converted."""
    xdt = get_aval(x).dtype
    a, b = np.iinfo(xdt), np.iinfo(dtype)
    lo, hi = max(a.min, b.min), min(a.max, b.max)
    x = P.min(np.array(hi, xdt)[()], P.max(np.array(lo, xdt)[()], x))
    return P.convert_element_type(x, dtype)


def _randint_body(key, minval, maxval, shape, dtype):
    """minval/maxval: integer tracers (any integer dtype); dtype 32 or 64 bits wide."""
    nbits = np.iinfo(dtype).bits
    maxdt = get_aval(maxval).dtype
    top = np.iinfo(dtype).max
    a = np.iinfo(maxdt)
    top_in_max = np.array(min(max(top, a.min), a.max), maxdt)[()]
    out_of_range = P.gt(maxval, top_in_max)
    minval = _convert_and_clip(minval, dtype)
    maxval = _convert_and_clip(maxval, dtype)
    if get_aval(minval).shape or get_aval(maxval).shape:
        minval, maxval = _bcast_param(minval, shape), _bcast_param(maxval, shape)
        out_of_range = _bcast_param(out_of_range, shape)
    k1, k2 = _split2(key)
    higher = _prng.random_bits(k1, nbits, shape)
    lower = _prng.random_bits(k2, nbits, shape)
    ut = _prng.UINT[nbits]
    one = ut.type(1)
    span = P.convert_element_type(P.sub(maxval, minval), ut)
    ps = get_aval(span).shape
    span = _select(P.le(maxval, minval), one, span, ps)
    span = _select(P.bitwise_and(out_of_range, P.gt(maxval, minval)), P.add(span, one), span, ps)
    mult = P.rem(ut.type(2 ** (nbits // 2)), span)
    mult = P.rem(P.mul(mult, mult), span)
    off = P.add(P.mul(P.rem(higher, span), mult), P.rem(lower, span))
    off = P.rem(off, span)
    return P.add(minval, P.convert_element_type(off, dtype))


@_rjit(static_argnums=(3, 4))
def _randint_impl(key, minval, maxval, shape, dtype):
    idt = dtypes.default_int()
    minval = _int_bound(minval, idt)
    maxval = _int_bound(maxval, idt)
    if np.iinfo(dtype).bits < 32:
        info = np.iinfo(dtype)
        minval = _clip_int(minval, info.min, info.max)
        maxval = _clip_int(maxval, info.min, info.max + 1)
        out = _randint_body(key, minval, maxval, shape, dtypes.int32)
        return P.convert_element_type(out, dtype)
    return _randint_body(key, minval, maxval, shape, dtype)


def _int_bound(x, idt):
    a = get_aval(x)
    if not dtypes.is_int(a.dtype):
        return P.convert_element_type(x, idt)
    if a.weak_type:
        return P.convert_element_type(x, a.dtype)
    return x


def _clip_int(x, lo, hi):
    dt = get_aval(x).dtype
    info = np.iinfo(dt)
    lo, hi = max(lo, info.min), min(hi, info.max)
    return P.min(np.array(hi, dt)[()], P.max(np.array(lo, dt)[()], x))


def randint(key, shape, minval, maxval, dtype=None):
    """Integers in [minval, maxval)."""
    data, _ = _key("randint", key)
    dt = _int_dtype("randint", dtype)
    shape = _shape("randint", shape)
    _check_param_shape("randint", shape, _param_shape(minval), _param_shape(maxval))
    if isinstance(minval, int) and not isinstance(minval, bool):
        minval = _py_int_bound(minval)
    if isinstance(maxval, int) and not isinstance(maxval, bool):
        maxval = _py_int_bound(maxval)
    return _randint_impl(data, minval, maxval, shape, dt)


def _py_int_bound(v):
    """A Python int bound as the default int (OverflowError out of its range, as JAX)."""
    info = np.iinfo(dtypes.default_int())
    if not info.min <= v <= info.max:
        raise OverflowError(f"randint: Python int bound {v} does not fit in {info.dtype.name} "
                            f"(at {_site()})")
    return np.array(v, dtypes.default_int())[()]


def rademacher(key, shape=(), dtype=None):
    """Random -1/+1 values."""
    data, _ = _key("rademacher", key)
    dt = _int_dtype("rademacher", dtype)
    return _rademacher_impl(data, _shape("rademacher", shape), dt)


def _rademacher(key, shape, dtype):
    """-1/+1 of `dtype`, as JAX: bernoulli(key, 0.5, shape), whose uniforms are of the
    default float dtype whatever `dtype` is."""
    f = dtypes.default_float()
    b = P.lt(_uniform(key, shape, f, np.array(0.0, f)[()], _one(f)), np.array(0.5, f)[()])
    b = P.convert_element_type(b, dtype)
    return P.sub(P.mul(np.array(2, dtype)[()], b), np.array(1, dtype)[()])


@_rjit(static_argnums=(1, 2))
def _rademacher_impl(key, shape, dtype):
    return _rademacher(key, shape, dtype)


# ----------------------------------------------------------------------------- permutations, choice
def _shuffle(key, x, axis):
    """Shuffle x along axis by sorting on random keys, ceil(3 log n / log 2^32) rounds (as JAX)."""
    size = get_aval(x).size
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        key, sub = _split2(key)
        sort_keys = _prng.random_bits(sub, 32, get_aval(x).shape)
        _, x = P.sort((sort_keys, x), dimension=axis, is_stable=True, num_keys=1)
    return x


@_rjit(static_argnums=(2,))
def _shuffle_impl(key, x, axis):
    return _shuffle(key, x, axis)


@_rjit(static_argnums=(1, 2))
def _permutation_n_impl(key, n, dtype):
    return _shuffle(key, P.iota(dtype, n), 0)


@_rjit(static_argnums=(2,))
def _permutation_take_impl(key, x, axis):
    n = get_aval(x).shape[axis]
    ind = _shuffle(key, P.iota(dtypes.default_int(), n), 0)
    return _xnp.take(x, ind, axis=axis)


def _static_int(name, what, x):
    if isinstance(x, Tracer):
        raise core.ConcretizationTypeError(
            f"{name}: {what} must be a concrete integer, got a traced value {x.aval.str_short()} "
            f"(at {_site()})")
    return int(x)


def permutation(key, x, axis=0, independent=False):
    """A random permutation of range(x) (x an int) or of x's entries along `axis`."""
    data, _ = _key("permutation", key)
    if isinstance(x, (int, np.integer)) or (hasattr(x, "shape") and not isinstance(x, PRNGKeyArray)
                                            and get_aval(x).shape == ()):
        if not isinstance(x, (int, np.integer)) and not dtypes.is_int(get_aval(x).dtype):
            raise TypeError(f"x must be an integer or at least 1-dimensional (in permutation at {_site()})")
        n = _static_int("permutation", "x", x)
        if n < 0:
            raise ValueError(f"permutation: x must be non-negative, got {n} (at {_site()})")
        return _permutation_n_impl(data, n, dtypes.default_int())
    if isinstance(x, float):
        raise TypeError(f"x must be an integer or at least 1-dimensional (in permutation at {_site()})")
    x = _as_array(x)
    nd = get_aval(x).ndim
    if not -nd <= axis < nd:
        raise ValueError(f"permutation: axis {axis} is out of bounds for an array of rank {nd} (at {_site()})")
    axis = axis % nd
    if independent or nd == 1:
        return _shuffle_impl(data, x, axis)
    return _permutation_take_impl(data, x, axis)


def shuffle(key, x, axis=0):
    """Deprecated in JAX: `permutation(key, x, axis, independent=True)`."""
    data, _ = _key("shuffle", key)
    x = _as_array(x)
    return _shuffle_impl(data, x, axis % max(1, get_aval(x).ndim))


def _choice_p(key, p, shape, n_inputs):
    cdf = _xnp.cumsum(p)
    total = P.reshape(P.slice(cdf, (n_inputs - 1,), (n_inputs,)), ())
    dt = get_aval(cdf).dtype
    u = _uniform(key, shape, dt, np.array(0.0, dt)[()], _one(dt))
    r = P.mul(total, P.sub(_one(dt), u))
    return P.convert_element_type(_xnp.searchsorted(cdf, r), dtypes.default_int())


def _choice_p_noreplace(key, p, n_draws, n_inputs):
    dt = get_aval(p).dtype
    g = P.add(_gumbel(key, (n_inputs,), dt), P.log(p))
    # top_k(g, n_draws) indices: a stable ascending sort on -g puts ties in index order, as top_k does
    idx = P.iota(dtypes.int32, n_inputs)
    _, order = P.sort((P.neg(g), idx), dimension=0, is_stable=True, num_keys=1)
    return P.slice(order, (0,), (n_draws,))


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Random samples of `a` (an int n means range(n)) along `axis`, optionally weighted by p."""
    data, _ = _key("choice", key)
    shape = _shape("choice", shape)
    if mode is not None and mode != "low":
        raise ValueError(f"choice: mode {mode!r} is not supported (at {_site()})")
    if isinstance(a, (int, np.integer)) or (isinstance(a, (ArrayImpl, Tracer, np.ndarray)) and get_aval(a).ndim == 0):
        if not isinstance(a, (int, np.integer)) and not dtypes.is_int(get_aval(a).dtype):
            raise TypeError(f"a must be an integer or at least one-dimensional (in choice at {_site()})")
        n_inputs = _static_int("choice", "a", a)
        arr = None
    else:
        arr = _as_array(a)
        if get_aval(arr).ndim == 0:
            raise TypeError(f"a must be an integer or at least one-dimensional (in choice at {_site()})")
        nd = get_aval(arr).ndim
        if not -nd <= axis < nd:
            raise ValueError(f"choice: axis {axis} is out of bounds for an array of rank {nd} (at {_site()})")
        axis = axis % nd
        n_inputs = get_aval(arr).shape[axis]
    n_draws = int(np.prod(shape, dtype=np.int64))
    if n_draws == 0:
        dt = dtypes.default_int() if arr is None else get_aval(arr).dtype
        return _xnp.zeros(shape, dtype=dt)  # (as JAX: just `shape`, whatever a's other axes)
    if n_inputs <= 0:
        raise ValueError(f"a must be greater than 0 unless no samples are taken (in choice at {_site()})")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population (size {n_inputs}) "
                         f"when 'replace=False' (in choice at {_site()})")
    if p is not None:
        p = _as_array(p)
        pa = get_aval(p)
        if pa.shape != (n_inputs,):
            raise ValueError(f"p must be None or match the shape of a: expected shape {(n_inputs,)}, got "
                             f"{pa.shape} (in choice at {_site()})")
        p = _float_param(p)
    return _choice_impl(data, arr, p, shape, bool(replace), axis, n_inputs)


@_rjit(static_argnums=(3, 4, 5, 6))
def _choice_impl(key, arr, p, shape, replace, axis, n_inputs):
    n_draws = int(np.prod(shape, dtype=np.int64))
    idt = dtypes.default_int()
    if p is None:
        if replace:
            lo, hi = np.array(0, idt)[()], np.array(n_inputs, idt)[()]
            ind = _randint_body(key, lo, hi, shape, idt)
        else:
            perm = _shuffle(key, P.iota(idt, n_inputs), 0)
            ind = P.reshape(P.slice(perm, (0,), (n_draws,)), shape)
    elif replace:
        ind = _choice_p(key, p, shape, n_inputs)
    else:
        ind = P.reshape(_choice_p_noreplace(key, p, n_draws, n_inputs), shape)
    if arr is None:
        return ind
    ashape = get_aval(arr).shape
    out = _xnp.take(arr, P.reshape(ind, (n_draws,)), axis=axis)
    return P.reshape(out, ashape[:axis] + shape + ashape[axis + 1:])


# ----------------------------------------------------------------------------- categorical
@_rjit(static_argnums=(2, 3))
def _categorical_impl(key, logits, axis, shape):
    la = get_aval(logits)
    batch_shape = la.shape[:axis] + la.shape[axis + 1:]
    prefix = shape[:len(shape) - len(batch_shape)]
    lshape = list(shape[len(shape) - len(batch_shape):])
    lshape.insert(axis, la.shape[axis])
    full = prefix + tuple(lshape)
    g = _gumbel(key, full, la.dtype)
    lb = P.broadcast_in_dim(logits, full, tuple(range(len(prefix), len(full)))) if full != la.shape else logits
    return P.argmax(P.add(g, lb), axis + len(prefix), dtypes.default_int())


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Samples of categorical distributions given by unnormalized log-probabilities along `axis`."""
    data, _ = _key("categorical", key)
    logits = _float_param(logits)
    la = get_aval(logits)
    if la.ndim == 0:
        raise ValueError(f"categorical: logits must have at least one dimension (at {_site()})")
    if not -la.ndim <= axis < la.ndim:
        raise ValueError(f"categorical: axis {axis} is out of bounds for logits of shape {la.shape} "
                         f"(at {_site()})")
    axis = axis % la.ndim
    batch_shape = la.shape[:axis] + la.shape[axis + 1:]
    if shape is None:
        shape = batch_shape
    else:
        shape = _shape("categorical", shape)
        _check_param_shape("categorical", shape, batch_shape)
    if not replace:
        return _categorical_noreplace(data, logits, axis, tuple(shape))
    return _categorical_impl(data, logits, axis, tuple(shape))


def _categorical_noreplace(data, logits, axis, shape):
    la = get_aval(logits)
    batch = la.shape[:axis] + la.shape[axis + 1:]
    k = int(np.prod(shape[:len(shape) - len(batch)], dtype=np.int64))
    if k > la.shape[axis]:
        raise ValueError(f"categorical: number of samples without replacement ({k}) cannot exceed the "
                         f"number of categories ({la.shape[axis]}) (at {_site()})")
    return _categorical_noreplace_impl(data, logits, axis, shape, k)


@_rjit(static_argnums=(2, 3, 4))
def _categorical_noreplace_impl(key, logits, axis, shape, k):
    la = get_aval(logits)
    x = P.add(logits, _gumbel(key, la.shape, la.dtype))
    # top_k along `axis` (ties to the lower index, as top_k): a stable sort of -x with indices
    idx = P.broadcasted_iota(dtypes.int32, la.shape, axis)
    _, order = P.sort((P.neg(x), idx), dimension=axis, is_stable=True, num_keys=1)
    limit = list(la.shape)
    limit[axis] = k
    top = P.slice(order, (0,) * la.ndim, tuple(limit))
    # the k draws become the leading axes of `shape`
    perm = (axis,) + tuple(i for i in range(la.ndim) if i != axis)
    top = P.transpose(top, perm)
    return P.convert_element_type(P.reshape(top, shape), dtypes.default_int())


# ----------------------------------------------------------------------------- more distributions
@_rjit(static_argnums=(1, 2))
def _maxwell_impl(key, shape, dtype):
    x = _normal_real(key, shape + (3,), dtype)
    return P.sqrt(P.reduce_sum(P.mul(x, x), (len(shape),)))


def maxwell(key, shape=(), dtype=None):
    """Maxwell samples (the norm of a 3-d standard normal)."""
    data, _ = _key("maxwell", key)
    return _maxwell_impl(data, _shape("maxwell", shape), _float_dtype("maxwell", dtype))


@_rjit(static_argnums=(3, 4))
def _double_sided_maxwell_impl(key, loc, scale, shape, dtype):
    k1, k2 = _split2(key)
    x = _normal_real(k1, shape + (3,), dtype)
    m = P.sqrt(P.reduce_sum(P.mul(x, x), (len(shape),)))
    r = _rademacher(k2, shape, dtype)
    return P.add(P.mul(P.mul(r, m), _to(scale, dtype)), _to(loc, dtype))


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    data, _ = _key("double_sided_maxwell", key)
    return _double_sided_maxwell_impl(data, loc, scale, _shape("double_sided_maxwell", shape),
                                      _float_dtype("double_sided_maxwell", dtype))


@_rjit(static_argnums=(3, 4))
def _weibull_min_impl(key, scale, concentration, shape, dtype):
    u = _uniform(key, shape, dtype, np.array(0.0, dtype)[()], _one(dtype))
    scale, concentration = _to(scale, dtype), _to(concentration, dtype)
    return P.mul(P.pow(P.neg(P.log1p(P.neg(u))), P.div(_one(dtype), concentration)), scale)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    data, _ = _key("weibull_min", key)
    return _weibull_min_impl(data, scale, concentration, _shape("weibull_min", shape),
                             _float_dtype("weibull_min", dtype))


def _param_shape(x):
    return get_aval(x).shape if isinstance(x, (ArrayImpl, Tracer)) else np.shape(x)


def _shape_or_params(name, shape, *params):
    ps = [_param_shape(p) for p in params]
    if shape is None:
        return tuple(np.broadcast_shapes(*ps)) if ps else ()
    shape = _shape(name, shape)
    _check_param_shape(name, shape, *ps)
    return shape


@_rjit(static_argnums=(2, 3))
def _pareto_impl(key, b, shape, dtype):
    b = _bcast_param(_to(b, dtype), shape)
    e = P.neg(P.log1p(P.neg(_uniform(key, shape, dtype, np.array(0.0, dtype)[()], _one(dtype)))))
    return P.exp(P.div(e, b))


def pareto(key, b, shape=None, dtype=None):
    data, _ = _key("pareto", key)
    return _pareto_impl(data, b, _shape_or_params("pareto", shape, b), _float_dtype("pareto", dtype))


@_rjit(static_argnums=(2, 3))
def _rayleigh_impl(key, scale, shape, dtype):
    scale = _bcast_param(_to(scale, dtype), shape)
    u = _uniform(key, shape, dtype, np.array(0.0, dtype)[()], _one(dtype))
    log_u = P.log(u)
    n_two = np.array(-2, dtype)[()]
    sqrt_u = P.sqrt(P.mul(log_u, n_two))
    return P.mul(scale, sqrt_u)


def rayleigh(key, scale, shape=None, dtype=None):
    data, _ = _key("rayleigh", key)
    return _rayleigh_impl(data, scale, _shape_or_params("rayleigh", shape, scale), _float_dtype("rayleigh", dtype))


@_rjit(static_argnums=(2, 3))
def _lognormal_impl(key, sigma, shape, dtype):
    return P.exp(P.mul(_normal_real(key, shape, dtype), _bcast_param(_to(sigma, dtype), shape)))


def lognormal(key, sigma=np.float32(1), shape=None, dtype=None):
    data, _ = _key("lognormal", key)
    return _lognormal_impl(data, sigma, _shape_or_params("lognormal", shape, sigma), _float_dtype("lognormal", dtype))


@_rjit(static_argnums=(4, 5))
def _triangular_impl(key, left, mode, right, shape, dtype):
    left, mode, right = (_bcast_param(_to(v, dtype), shape) for v in (left, mode, right))
    fc = P.div(P.sub(mode, left), P.sub(right, left))
    u = _uniform(key, shape, dtype, np.array(0.0, dtype)[()], _one(dtype))
    out1 = P.add(left, P.sqrt(P.mul(P.mul(u, P.sub(right, left)), P.sub(mode, left))))
    out2 = P.sub(right, P.sqrt(P.mul(P.mul(P.sub(_one(dtype), u), P.sub(right, left)), P.sub(right, mode))))
    fcb = _bcast_param(fc, shape)
    return P.select(P.lt(u, fcb), out1, out2)


def triangular(key, left, mode, right, shape=None, dtype=None):
    data, _ = _key("triangular", key)
    return _triangular_impl(data, left, mode, right, _shape_or_params("triangular", shape, left, mode, right),
                            _float_dtype("triangular", dtype))


@_rjit(static_argnums=(2, 3))
def _geometric_impl(key, p, shape, dtype):
    fdt = get_aval(p).dtype
    u = _uniform(key, shape, fdt, np.array(0.0, fdt)[()], _one(fdt))
    u = P.select(P.eq(u, np.array(0.0, fdt)[()]), P.broadcast_in_dim(_one(fdt), shape, ()), u)
    lp = _bcast_param(P.log1p(P.neg(p)), shape)
    g = P.add(P.floor(P.div(P.log(u), lp)), _one(fdt))
    return P.convert_element_type(g, dtype)


def geometric(key, p, shape=None, dtype=None):
    data, _ = _key("geometric", key)
    p = _float_param(p)
    return _geometric_impl(data, p, _shape_or_params("geometric", shape, p), _int_dtype("geometric", dtype))


# ----------------------------------------------------------------------------- multivariate normal
def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples: mean + factor @ z with cov = factor @ factor.T."""
    data, _ = _key("multivariate_normal", key)
    if method not in ("svd", "eigh", "cholesky"):
        raise ValueError(f"method must be one of {{'svd', 'eigh', 'cholesky'}}, got {method!r} (at {_site()})")
    dt = _float_dtype("multivariate_normal", dtype)
    mean = _xnp.asarray(mean, dtype=dt)
    cov = _xnp.asarray(cov, dtype=dt)
    ma, ca = get_aval(mean), get_aval(cov)
    if ma.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == {ma.ndim} (at {_site()})")
    if ca.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {ca.ndim} (at {_site()})")
    n = ma.shape[-1]
    if ca.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, but got "
                         f"cov.shape == {ca.shape} (at {_site()})")
    if shape is None:
        shape = tuple(np.broadcast_shapes(ma.shape[:-1], ca.shape[:-2]))
    else:
        shape = _shape("multivariate_normal", shape)
        _check_param_shape("multivariate_normal", shape, ma.shape[:-1], ca.shape[:-2])
    return _mvn_impl(data, mean, cov, shape, dt, method)


@_rjit(static_argnums=(3, 4, 5))
def _mvn_impl(key, mean, cov, shape, dtype, method):
    from xlafront.numpy import linalg as la
    if method == "svd":
        u, s, _ = la.svd(cov)
        factor = u * _xnp.sqrt(s[..., None, :])
    elif method == "eigh":
        w, v = la.eigh(cov)
        factor = v * _xnp.sqrt(w[..., None, :])
    else:
        factor = la.cholesky(cov)
    z = _normal_real(key, shape + get_aval(mean).shape[-1:], dtype)
    return mean + _xnp.einsum("...ij,...j->...i", factor, z, precision="highest")


# ----------------------------------------------------------------------------- orthogonal, ball
def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Haar-random orthogonal (n, m) matrices (QR of a normal matrix, signs fixed by R's diagonal)."""
    data, _ = _key("orthogonal", key)
    shape = _shape("orthogonal", shape)
    dt = _float_dtype("orthogonal", dtype, allow_complex=True)
    n = _static_int("orthogonal", "n", n)
    m = n if m is None else _static_int("orthogonal", "m", m)
    return _orthogonal_impl(data, n, m, shape, dt)


@_rjit(static_argnums=(1, 2, 3, 4))
def _orthogonal_impl(key, n, m, shape, dtype):
    from xlafront.numpy import linalg as la
    z = _normal_impl(key, shape + (max(n, m), min(n, m)), dtype)
    q, r = la.qr(z)
    d = _xnp.diagonal(r, 0, -2, -1)
    q = q * _xnp.expand_dims(_xnp.sign(d), -2)
    if n < m:
        q = _xnp.swapaxes(q, -1, -2).conj()
    return q


# ----------------------------------------------------------------------------- gamma family
def _c(v, dt):
    return np.array(v, dt)[()]


def _gamma_one(key, alpha, log_space):
    """One Gamma(alpha) draw (scalar key and alpha): Marsaglia & Tsang's rejection method,
    alpha < 1 boosted to alpha + 1 and scaled by U^(1/alpha), drawing keys as JAX does."""
    dt = get_aval(alpha).dtype
    zero, one = _c(0, dt), _c(1, dt)
    third = _c(1.0 / 3.0, dt)
    boost = P.ge(alpha, one)
    a = P.select(boost, alpha, P.add(alpha, one))
    d = P.sub(a, third)
    c = P.div(third, P.sqrt(d))

    def rejected(s):
        _, x, v, u = s
        t1 = P.ge(u, P.sub(one, P.mul(_c(0.0331, dt), P.mul(x, x))))
        t2 = P.ge(P.log(u), P.add(P.mul(x, _c(0.5, dt)), P.mul(d, P.add(P.sub(one, v), P.log(v)))))
        return P.bitwise_and(t1, t2)

    def next_xv(s):
        k, _, _ = s
        k, sub = _split2(k)
        x = _normal_real(sub, (), dt)
        return k, x, P.add(one, P.mul(x, c))

    def propose(s):
        keys = _prng.split(s[0], (3,))
        k, xk, uk = (P.reshape(P.slice(keys, (i, 0), (i + 1, 2)), (2,)) for i in range(3))
        _, x, v = while_loop(lambda t: P.le(t[2], zero), next_xv, (xk, zero, _c(-1, dt)))
        u = _uniform(uk, (), dt, zero, one)
        return k, P.mul(x, x), P.mul(P.mul(v, v), v), u

    key, sub = _split2(key)
    _, _, v, _ = while_loop(rejected, propose, (key, zero, one, _c(2, dt)))
    if log_space:
        e = P.neg(P.log1p(P.neg(_uniform(sub, (), dt, zero, one))))
        ls = P.neg(e)
        lb = P.select(P.bitwise_or(boost, P.eq(ls, zero)), zero, P.mul(ls, P.div(one, alpha)))
        return P.add(P.add(P.log(d), P.log(v)), lb)
    u = _uniform(sub, (), dt, zero, one)
    b = P.select(boost, one, P.pow(P.sub(one, u), P.div(one, alpha)))
    return P.mul(P.mul(d, v), b)


def _gamma_draws(key, a, log_space):
    """Gamma draws for every entry of `a` (one split key each, drawn one after another as JAX)."""
    shape = get_aval(a).shape
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return a
    keys = _prng.split(key, (n,))
    out = _lax_map(lambda ka: _gamma_one(ka[0], ka[1], log_space), (keys, P.reshape(a, (n,))))
    return P.reshape(out, shape)


_gamma = custom_jvp(_gamma_draws, nondiff_argnums=(2,))
_gamma.__doc__ = """Gamma draws, differentiable with respect to `a` (see _gamma_jvp: the
sampler's while loops are not differentiated)."""


@_gamma.defjvp
def _gamma_jvp(log_space, primals, tangents):
    """Implicit reparameterization, as JAX: d sample / d a = random_gamma_grad(a, sample);
    in log space d log x / d a = random_gamma_grad(a, x) / x, with x = exp(log sample) raised
    to the smallest normal float where it underflows to 0. The key has no tangent."""
    key, a = primals
    _, a_dot = tangents
    sample = _gamma(key, a, log_space)
    if get_aval(a).size == 0:
        return sample, a_dot
    if log_space:
        dt = get_aval(sample).dtype
        x = P.exp(sample)
        x = P.select(P.eq(x, _c(0, dt)), _xnp.full_like(x, dtypes.finfo(dt).tiny), x)
        grad = P.div(_random_gamma_grad(a, x), x)
    else:
        grad = _random_gamma_grad(a, sample)
    return sample, P.mul(grad, a_dot)


@_rjit(static_argnums=(2, 3, 4))
def _gamma_impl(key, a, shape, dtype, log_space):
    a = _to(a, dtype)
    a = _bcast_to(a, shape)
    return _gamma(key, a, log_space)


def _gamma_args(name, key, a, shape, dtype):
    data, _ = _key(name, key)
    dt = _float_dtype(name, dtype)
    return data, _shape_or_params(name, shape, a), dt


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a) samples (unit scale)."""
    data, shape, dt = _gamma_args("gamma", key, a, shape, dtype)
    return _gamma_impl(data, a, shape, dt, False)


def loggamma(key, a, shape=None, dtype=None):
    """log of Gamma(a) samples, accurate for small a."""
    data, shape, dt = _gamma_args("loggamma", key, a, shape, dtype)
    return _gamma_impl(data, a, shape, dt, True)


@_rjit(static_argnums=(3, 4))
def _beta_impl(key, a, b, shape, dtype):
    ka, kb = _split2(key)
    a, b = _to(a, dtype), _to(b, dtype)
    la = _gamma(ka, _bcast_to(a, shape), True)
    lb = _gamma(kb, _bcast_to(b, shape), True)
    m = P.max(la, lb)
    ga, gb = P.exp(P.sub(la, m)), P.exp(P.sub(lb, m))
    return P.div(ga, P.add(ga, gb))


def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) samples."""
    data, _ = _key("beta", key)
    dt = _float_dtype("beta", dtype)
    return _beta_impl(data, a, b, _shape_or_params("beta", shape, a, b), dt)


@_rjit(static_argnums=(2, 3))
def _dirichlet_impl(key, alpha, shape, dtype):
    alpha = _to(alpha, dtype)
    full_shape = shape + get_aval(alpha).shape[-1:]
    alpha = _bcast_to(alpha, full_shape)
    lg = _gamma(key, alpha, True)
    ax = len(full_shape) - 1
    m = P.broadcast_in_dim(P.reduce_max(lg, (ax,)), full_shape, tuple(range(ax)))
    un = P.exp(P.sub(lg, m))
    tot = P.broadcast_in_dim(P.reduce_sum(un, (ax,)), full_shape, tuple(range(ax)))
    return P.div(un, tot)


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) samples (alpha's last axis is the simplex)."""
    data, _ = _key("dirichlet", key)
    dt = _float_dtype("dirichlet", dtype)
    ash = _param_shape(alpha)
    if len(ash) < 1:
        raise ValueError(f"The concentration parameter alpha must have at least one dimension, got "
                         f"shape {ash} (in dirichlet at {_site()})")
    if shape is None:
        shape = tuple(ash[:-1])
    else:
        shape = _shape("dirichlet", shape)
        _check_param_shape("dirichlet", shape, ash[:-1])
    return _dirichlet_impl(data, alpha, shape, dt)


@_rjit(static_argnums=(2, 3))
def _chisquare_impl(key, df, shape, dtype):
    return _chisquare(key, _to(df, dtype), shape, dtype)


def chisquare(key, df, shape=None, dtype=None):
    data, _ = _key("chisquare", key)
    return _chisquare_impl(data, df, _shape_or_params("chisquare", shape, df), _float_dtype("chisquare", dtype))


@_rjit(static_argnums=(2, 3))
def _t_impl(key, df, shape, dtype):
    kn, kg = _split2(key)
    n = _normal_real(kn, shape, dtype)
    df = _to(df, dtype)
    half = P.div(df, _c(2, dtype))
    halff = _bcast_to(half, shape)
    g = _gamma(kg, halff, False)
    return P.mul(n, P.sqrt(P.div(halff, g)))


def t(key, df, shape=None, dtype=None):
    """Student's t samples."""
    data, _ = _key("t", key)
    return _t_impl(data, df, _shape_or_params("t", shape, df), _float_dtype("t", dtype))


def _generalized_normal(key, p, shape, dtype):
    k_g, k_r = _split2(key)
    inv_p = P.div(_c(1, dtype), p)
    g = _gamma(k_g, P.broadcast_in_dim(inv_p, shape, ()), False)
    return P.mul(_rademacher(k_r, shape, dtype), P.pow(g, inv_p))


@_rjit(static_argnums=(2, 3))
def _generalized_normal_impl(key, p, shape, dtype):
    return _generalized_normal(key, _to(p, dtype), shape, dtype)


def generalized_normal(key, p, shape=(), dtype=None):
    """Generalized normal samples: density proportional to exp(-|x|^p)."""
    data, _ = _key("generalized_normal", key)
    return _generalized_normal_impl(data, p, _shape("generalized_normal", shape),
                                    _float_dtype("generalized_normal", dtype))


@_rjit(static_argnums=(2, 3, 4))
def _ball_impl(key, p, d, shape, dtype):
    p = _to(p, dtype)
    k_g, k_e = _split2(key)
    g = _generalized_normal(k_g, p, shape + (d,), dtype)
    e = P.neg(P.log1p(P.neg(_uniform(k_e, shape, dtype, _c(0, dtype), _c(1, dtype)))))
    s = P.add(P.reduce_sum(P.pow(P.abs(g), p), (len(shape),)), e)
    r = P.pow(s, P.div(_c(1, dtype), p))
    return P.div(g, P.broadcast_in_dim(r, shape + (d,), tuple(range(len(shape)))))


def ball(key, d, p=2, shape=(), dtype=None):
    """Samples uniform in the unit p-norm ball of dimension d."""
    data, _ = _key("ball", key)
    d = _static_int("ball", "d", d)
    if d < 1:
        raise ValueError(f"ball: dimension d must be positive, got {d} (at {_site()})")
    return _ball_impl(data, p, d, _shape("ball", shape), _float_dtype("ball", dtype))


def _chisquare(key, df, shape, dtype):
    half = P.div(df, _c(2, dtype))
    half = _bcast_to(half, shape)
    return P.mul(P.exp(_gamma(key, half, True)), _c(2, dtype))


@_rjit(static_argnums=(3, 4))
def _f_impl(key, dfnum, dfden, shape, dtype):
    dfnum, dfden = _to(dfnum, dtype), _to(dfden, dtype)
    k_den, k_num = _split2(key)
    num = P.div(_chisquare(k_num, dfnum, shape, dtype), dfnum)
    den = P.div(_chisquare(k_den, dfden, shape, dtype), dfden)
    return P.div(num, den)


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distribution samples (a ratio of scaled chi-squares)."""
    data, _ = _key("f", key)
    return _f_impl(data, dfnum, dfden, _shape_or_params("f", shape, dfnum, dfden), _float_dtype("f", dtype))


def _poisson_knuth(key, lam, shape, dtype, max_iters):
    """Knuth: multiply uniforms until the product drops below exp(-lam) (lam < 10)."""
    f32 = dtypes.float32
    neg_lam = P.neg(lam)

    def body(c):
        i, k, key, log_prod = c
        key, sub = _split2(key)
        k = P.select(P.gt(log_prod, neg_lam), P.add(k, _c(1, dtype)), k)
        u = _uniform(sub, shape, f32, _c(0, f32), _c(1, f32))
        return P.add(i, np.int32(1)), k, key, P.add(log_prod, P.log(u))

    def cond(c):
        i, _, _, log_prod = c
        going = P.gt(log_prod, neg_lam)
        anyg = P.reduce_or(going, tuple(range(len(shape)))) if shape else going
        return P.bitwise_and(anyg, P.lt(i, np.int32(max_iters)))

    init = (np.int32(0), P.broadcast_in_dim(_c(0, dtype), shape, ()), key,
            P.broadcast_in_dim(_c(0, f32), shape, ()))
    k = while_loop(cond, body, init)[1]
    return P.sub(k, _c(1, dtype))


def _poisson_rejection(key, lam, shape, dtype, max_iters):
    """Hormann's transformed rejection (PTRS) for lam >= 10."""
    dt = get_aval(lam).dtype
    C = lambda v: _c(v, dt)  # noqa: E731
    log_lam = P.log(lam)
    b = P.add(C(0.931), P.mul(C(2.53), P.sqrt(lam)))
    a = P.add(C(-0.059), P.mul(C(0.02483), b))
    inv_alpha = P.add(C(1.1239), P.div(C(1.1328), P.sub(b, C(3.4))))
    v_r = P.sub(C(0.9277), P.div(C(3.6224), P.sub(b, C(2))))

    def body(c):
        i, k_out, accepted, key = c
        keys = _prng.split(key, (3,))
        key, k0, k1 = (P.reshape(P.slice(keys, (j, 0), (j + 1, 2)), (2,)) for j in range(3))
        u = P.sub(_uniform(k0, shape, dt, C(0), C(1)), C(0.5))
        v = _uniform(k1, shape, dt, C(0), C(1))
        us = P.sub(C(0.5), P.abs(u))
        k = P.floor(P.add(P.add(P.mul(P.add(P.div(P.mul(C(2), a), us), b), u), lam), C(0.43)))
        s_ = P.log(P.div(P.mul(v, inv_alpha), P.add(P.div(a, P.mul(us, us)), b)))
        t_ = P.sub(P.add(P.neg(lam), P.mul(k, log_lam)), P.lgamma(P.add(k, C(1))))
        accept1 = P.bitwise_and(P.ge(us, C(0.07)), P.le(v, v_r))
        reject = P.bitwise_or(P.lt(k, C(0)), P.bitwise_and(P.lt(us, C(0.013)), P.gt(v, us)))
        accept = P.bitwise_or(accept1, P.bitwise_and(P.bitwise_not(reject), P.le(s_, t_)))
        k_out = P.select(accept, k, k_out)
        return P.add(i, np.int32(1)), k_out, P.bitwise_or(accepted, accept), key

    def cond(c):
        i, _, accepted, _ = c
        pending = P.bitwise_not(accepted)
        anyp = P.reduce_or(pending, tuple(range(len(shape)))) if shape else pending
        return P.bitwise_and(anyp, P.lt(i, np.int32(max_iters)))

    init = (np.int32(0), P.broadcast_in_dim(C(-1), shape, ()), P.broadcast_in_dim(np.bool_(False), shape, ()),
            key)
    k = while_loop(cond, body, init)[1]
    return P.convert_element_type(k, dtype)


@_rjit(static_argnums=(2, 3))
def _poisson_impl(key, lam, shape, dtype):
    f32 = dtypes.float32
    lam = P.convert_element_type(lam, f32)
    lam = _bcast_to(lam, shape)
    use_knuth = P.bitwise_or(P.ne(lam, lam), P.lt(lam, _c(10, f32)))
    full = lambda v: P.broadcast_in_dim(_c(v, f32), shape, ())  # noqa: E731
    lam_knuth = P.select(use_knuth, lam, full(0.0))
    lam_rej = P.select(use_knuth, full(1e5), lam)
    max_iters = int(np.iinfo(dtype).max) if np.iinfo(dtype).max < 2 ** 31 else 2 ** 31 - 1
    out = P.select(use_knuth, _poisson_knuth(key, lam_knuth, shape, dtype, max_iters),
                   _poisson_rejection(key, lam_rej, shape, dtype, max_iters))
    return P.select(P.eq(lam, _c(0, f32)), P.broadcast_in_dim(_c(0, dtype), shape, ()), out)


def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) samples: Knuth's method for lam < 10, transformed rejection above."""
    data, _ = _key("poisson", key)
    dt = _int_dtype("poisson", dtype)
    return _poisson_impl(data, lam, _shape_or_params("poisson", shape, lam), dt)


@_rjit(static_argnums=(2, 3))
def _wald_impl(key, mean, shape, dtype):
    # Michael, Schucany & Haas: a normal's square gives a root of the inverse-Gaussian
    # quadratic, and a uniform picks it or its reflection mean**2 / x
    k1, k2 = _split2(key)
    v = _normal_real(k1, shape, dtype)
    z = _uniform(k2, shape, dtype, np.array(0.0, dtype)[()], _one(dtype))
    mean = _bcast_param(_to(mean, dtype), shape)
    y = P.mul(v, v)
    mean_sq = P.mul(mean, mean)
    half = np.array(0.5, dtype)[()]
    four = np.array(4.0, dtype)[()]
    root = P.sqrt(P.add(P.mul(P.mul(four, mean), y), P.mul(mean_sq, P.mul(y, y))))
    x = P.sub(P.add(mean, P.mul(P.mul(mean_sq, y), half)), P.mul(P.mul(mean, half), root))
    return P.select(P.le(z, P.div(mean, P.add(mean, x))), x, P.div(mean_sq, x))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) samples of mean `mean` and shape parameter 1."""
    data, _ = _key("wald", key)
    return _wald_impl(data, mean, _shape_or_params("wald", shape, mean), _float_dtype("wald", dtype))


def _not_yet(name):
    def fn(key, *args, **kwargs):
        from xlafront import _missing
        raise _missing.NotImplementedYetError(
            f"xlafront does not implement jax.random.{name} yet; used at {_missing.user_site(2)}", name=name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"jax.random.{name}: not implemented yet (the name exists because libraries wrap every "
                  f"sampler at import, e.g. flax.nnx.rnglib); calling it raises NotImplementedYetError.")
    return fn


binomial = _not_yet("binomial")
multinomial = _not_yet("multinomial")


# A JAX name this module lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
