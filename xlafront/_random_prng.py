"""The threefry-2x32 PRNG behind `xlafront.random`: keys, seeding, split, fold_in, raw bits.

A key is two uint32 words. Everything is counter based: the block cipher
threefry-2x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC'11; 20 rounds, rotations 13,15,26,6 / 17,29,16,24, key-schedule parity
0x1BD11BDA) encrypts a counter with the key. The counters and the way words are
combined follow JAX's default ("partitionable") scheme, so that the same key
gives the same bits as `jax.random`:

- the counter of element i of an output of shape S is the 64-bit flat index i,
  split into (hi, lo) words;
- `bits` (32-bit) xors the two output words; narrower widths truncate that;
  64-bit joins them (hi << 32 | lo);
- `split(key, S)` returns the two output words of each counter as the new keys;
- `fold_in(key, d)` encrypts the counter (0, d).

The cipher is composed from uint32 add/xor/shift/or primitives (no dedicated
primitive): XLA fuses the whole thing into one elementwise loop, and autodiff
and vmap need no new rules.

Typed keys (`random.key`) are `PRNGKeyArray`s: a thin wrapper over the uint32
key data whose `.shape` leaves out the trailing 2. It is a pytree node whose one
leaf is that data, so jit, vmap, grad, scan... carry it with no special casing.
"""
from __future__ import annotations

import numpy as np

from xlafront import core, dtypes
from xlafront import primitives as P
from xlafront.array import ArrayImpl
from xlafront.config import config
from xlafront.core import Tracer, get_aval
from xlafront import tree_util

u32 = np.uint32
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = u32(0x1BD11BDA)
UINT = {8: dtypes.uint8, 16: dtypes.uint16, 32: dtypes.uint32, 64: dtypes.uint64}  # by bit width


# ----------------------------------------------------------------------------- the cipher
def _rotl(x, r):
    return P.bitwise_or(P.shift_left(x, u32(r)), P.shift_right_logical(x, u32(32 - r)))


# Outputs of at least this many elements get the 20 rounds unrolled: XLA fuses them into
# one elementwise loop, about twice as fast as a rolled loop (which rereads and rewrites
# the two words every 4 rounds). Smaller ones roll the 5 groups of 4 rounds into a
# while loop: the same bits, and several times less XLA compile time.
UNROLL_MIN_SIZE = 1 << 16


def threefry2x32(k0, k1, x0, x1):
    """threefry-2x32 (20 rounds) of the counter words (x0, x1) under key (k0, k1).

    All operands are uint32; rank-0 ones broadcast against the others."""
    ks = (k0, k1, P.bitwise_xor(P.bitwise_xor(k0, k1), _PARITY))
    x0 = P.add(x0, k0)
    x1 = P.add(x1, k1)
    shape = max(get_aval(x0).shape, get_aval(x1).shape, key=len)
    size = int(np.prod(shape, dtype=np.int64))
    if size < UNROLL_MIN_SIZE and shape:
        return _threefry_rolled(ks, x0, x1, shape)
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = P.add(x0, x1)
            x1 = P.bitwise_xor(x0, _rotl(x1, r))
        x0 = P.add(x0, ks[(i + 1) % 3])
        # the injected round number is added to the (scalar) key word first: one array add
        x1 = P.add(x1, P.add(ks[(i + 2) % 3], u32(i + 1)))
    return x0, x1


def _threefry_rolled(ks, x0, x1, shape):
    """The 5 groups of 4 rounds as a while loop (key schedule and rotation sets rotate)."""
    from xlafront.lax import while_loop
    x0 = P.broadcast_in_dim(x0, shape, ()) if get_aval(x0).shape != shape else x0
    x1 = P.broadcast_in_dim(x1, shape, ()) if get_aval(x1).shape != shape else x1
    rots = (np.array(_ROTATIONS[0], np.uint32), np.array(_ROTATIONS[1], np.uint32))

    def body(c):
        i, x0, x1, ka, kb, kc, ra, rb = c
        for j in range(4):
            r = P.reshape(P.slice(ra, (j,), (j + 1,)), ())
            x0 = P.add(x0, x1)
            rot = P.bitwise_or(P.shift_left(x1, r), P.shift_right_logical(x1, P.sub(u32(32), r)))
            x1 = P.bitwise_xor(x0, rot)
        x0 = P.add(x0, kb)
        i1 = P.add(i, np.int32(1))
        x1 = P.add(x1, P.add(kc, P.convert_element_type(i1, dtypes.uint32)))
        return (i1, x0, x1, kb, kc, ka, rb, ra)

    def cond(c):
        return P.lt(c[0], np.int32(5))

    init = (np.int32(0), x0, x1, *ks, *rots)
    out = while_loop(cond, body, init)
    return out[1], out[2]


def _key_words(key):
    """The two uint32 words of a single key (data of shape (2,))."""
    k0 = P.reshape(P.slice(key, (0,), (1,)), ())
    k1 = P.reshape(P.slice(key, (1,), (2,)), ())
    return k0, k1


def _counters(shape):
    """(hi, lo) words of the 64-bit flat index of every element of `shape`."""
    n = int(np.prod(shape, dtype=np.int64))
    if n >= 2 ** 32:
        raise NotImplementedError(f"random arrays of {n} >= 2**32 elements are not supported")
    lo = P.reshape(P.iota(dtypes.uint32, n), shape) if shape != (n,) else P.iota(dtypes.uint32, n)
    return u32(0), lo


def random_bits(key, bit_width, shape):
    """Unsigned integers of `bit_width` bits with `shape` from a single key (uint32[2])."""
    shape = tuple(shape)
    if not partitionable():
        return _random_bits_original(key, bit_width, shape)
    k0, k1 = _key_words(key)
    hi, lo = _counters(shape)
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    if not shape:
        y0, y1 = P.reshape(y0, ()), P.reshape(y1, ())
    if bit_width == 64:
        a = P.shift_left(P.convert_element_type(y0, dtypes.uint64), np.uint64(32))
        return P.bitwise_or(a, P.convert_element_type(y1, dtypes.uint64))
    bits = P.bitwise_xor(y0, y1)
    if bit_width == 32:
        return bits
    return P.convert_element_type(bits, UINT[bit_width])


def split(key, shape):
    """New keys (uint32[*shape, 2]) from a single key."""
    shape = tuple(shape)
    if not partitionable():
        n = int(np.prod(shape, dtype=np.int64))
        k0, k1 = _key_words(key)
        return P.reshape(_threefry_words_original(k0, k1, 2 * n), shape + (2,))
    k0, k1 = _key_words(key)
    hi, lo = _counters(shape)
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    if not shape:
        y0, y1 = P.reshape(y0, ()), P.reshape(y1, ())
    y0 = P.reshape(y0, shape + (1,))
    y1 = P.reshape(y1, shape + (1,))
    return P.concatenate([y0, y1], len(shape))


def fold_in(key, data):
    """A new key from a single key and a uint32 scalar."""
    k0, k1 = _key_words(key)
    y0, y1 = threefry2x32(k0, k1, u32(0), data)
    return P.concatenate([P.reshape(y0, (1,)), P.reshape(y1, (1,))], 0)


def partitionable():
    """config jax_threefry_partitionable: False selects the original (non-partitionable) scheme."""
    return bool(config.threefry_partitionable)


# ---- the non-partitionable scheme (config jax_threefry_partitionable=False)
def _threefry_words_original(k0, k1, m):
    """m uint32 words: the counters 0..m-1 padded to even length, hashed as two halves."""
    half = (m + 1) // 2
    c = P.iota(dtypes.uint32, m)
    if m % 2:  # an odd count is padded with a zero counter
        c = P.concatenate([c, P.broadcast_in_dim_p.bind(u32(0), shape=(1,), broadcast_dimensions=())], 0)
    a, b = threefry2x32(k0, k1, P.slice(c, (0,), (half,)), P.slice(c, (half,), (2 * half,)))
    out = P.concatenate([a, b], 0)
    return P.slice(out, (0,), (m,)) if m != 2 * half else out


def _random_bits_original(key, bit_width, shape):
    n = int(np.prod(shape, dtype=np.int64))
    k0, k1 = _key_words(key)
    if bit_width == 64:
        w = _threefry_words_original(k0, k1, 2 * n)
        a = P.convert_element_type(P.slice(w, (0,), (n,)), dtypes.uint64)
        b = P.convert_element_type(P.slice(w, (n,), (2 * n,)), dtypes.uint64)
        bits = P.bitwise_or(P.shift_left(a, np.uint64(32)), b)
    elif bit_width == 32:
        bits = _threefry_words_original(k0, k1, n)
    else:
        # narrow values are the little-endian pieces of ceil(n * width / 32) words
        per = 32 // bit_width
        m = -(-n * bit_width // 32)
        w = _threefry_words_original(k0, k1, m)
        shifts = P.mul(P.iota(dtypes.uint32, per), u32(bit_width))
        pieces = P.shift_right_logical(P.broadcast_in_dim(w, (m, per), (0,)),
                                       P.broadcast_in_dim(shifts, (m, per), (1,)))
        pieces = P.bitwise_and(pieces, u32(2 ** bit_width - 1))
        bits = P.convert_element_type(P.reshape(pieces, (m * per,)), UINT[bit_width])
        if m * per != n:
            bits = P.slice(bits, (0,), (n,))
    return P.reshape(bits, shape)


# ----------------------------------------------------------------------------- typed keys
class KeyDType:
    """The dtype of typed keys; prints as JAX's `key<fry>`."""
    name = "key<fry>"
    impl = "threefry2x32"
    type = dtypes.prng_key  # its scalar type, as JAX's (`issubdtype(key.dtype, prng_key)`)
    itemsize = 8

    def __repr__(self):
        return "key<fry>"

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, KeyDType) or other == "key<fry>"

    def __hash__(self):
        return hash("key<fry>")


key_dtype = KeyDType()


class PRNGKeyArray(core.Array):
    """An array of typed PRNG keys (threefry-2x32) over uint32 key data of shape (*shape, 2).
    An xf.Array (as JAX's key arrays are jax.Arrays) whose base may be a tracer."""
    __slots__ = ("_base",)
    __array_priority__ = 100

    def __init__(self, base):
        self._base = base

    shape = property(lambda self: tuple(self._base.shape[:-1]))
    ndim = property(lambda self: len(self._base.shape) - 1)
    size = property(lambda self: int(np.prod(self._base.shape[:-1], dtype=np.int64)))
    dtype = property(lambda self: key_dtype)
    weak_type = False

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d key array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if any(i is Ellipsis for i in idx):
            idx = idx + (slice(None),)
        elif sum(i is not None for i in idx) > self.ndim:
            raise IndexError(f"too many indices for key array of shape {self.shape}")
        return PRNGKeyArray(self._base[idx])

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        n = self.size
        shape = tuple(int(s) for s in shape)
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
            shape = tuple(n // known if s == -1 else s for s in shape)
        return PRNGKeyArray(P.reshape(self._base, shape + (2,)))

    def ravel(self):
        return self.reshape((self.size,))

    @property
    def T(self):
        nd = self.ndim
        return PRNGKeyArray(P.transpose(self._base, tuple(range(nd))[::-1] + (nd,)))

    def block_until_ready(self):
        if isinstance(self._base, ArrayImpl):
            self._base.block_until_ready()
        return self

    def __eq__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return (self._base == other._base).all(axis=-1)

    def __ne__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return (self._base != other._base).any(axis=-1)

    __hash__ = None

    def __repr__(self):
        if isinstance(self._base, Tracer):   # as JAX prints a traced key: JitTracer(key<fry>[])
            return self._base._repr(_key_text)
        return f"Array({self.shape}, dtype=key<fry>) overlaying:\n{np.asarray(self._base)}"

    def __array__(self, dtype=None, copy=None):
        raise TypeError("JAX array with PRNGKey dtype cannot be converted to a NumPy array. "
                        "Use jax.random.key_data(arr) if you wish to extract the underlying integer array.")


def _key_text(aval):
    """The type of the keys whose data has aval `aval` (data shape (*shape, 2)): key<fry>[...]."""
    return f"key<fry>[{','.join(map(str, aval.shape[:-1]))}]"


tree_util.register_pytree_node(
    PRNGKeyArray,
    lambda k: ((k._base,), None),
    lambda _, children: PRNGKeyArray(children[0]),
)


def check_key(name, key, single=True):
    """(uint32 key data, is_typed) of a key argument; TypeError/ValueError as JAX for bad ones."""
    if isinstance(key, PRNGKeyArray):
        data, typed, kshape = key._base, True, key.shape
    else:
        data, typed = key, False
        if not isinstance(key, (ArrayImpl, Tracer, np.ndarray)):
            if isinstance(key, (list, tuple)) or np.isscalar(key):
                data = np.asarray(key)
            else:
                raise TypeError(f"{name}: expected a PRNG key array, got {type(key).__name__} "
                                f"(at {core.user_site()})")
        a = get_aval(data)
        if a.dtype != dtypes.uint32:
            raise TypeError(f"{name}: invalid PRNG key data at {core.user_site()}: expected "
                            f"key_data.dtype = uint32; got dtype={a.dtype.name} (a raw key is "
                            f"uint32[..., 2], as made by random.PRNGKey)")
        if a.shape[-1:] != (2,):
            raise TypeError(f"{name}: invalid PRNG key data at {core.user_site()}: expected "
                            f"key_data.shape to end with (2,); got shape={a.shape}")
        kshape = a.shape
    if single and len(get_aval(data).shape) != 1:
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{kshape} != () (at {core.user_site()}). Use jax.vmap for batching.")
    return data, typed


def wrap(data, typed):
    return PRNGKeyArray(data) if typed else data


# ----------------------------------------------------------------------------- seeds
def seed_words_of_int(seed: int):
    """Key data of a Python int seed, as JAX: (hi, lo) words of the seed as a (canonical) int."""
    if not -2 ** 63 <= seed < 2 ** 64:
        raise OverflowError(f"Python int {seed} too large to convert to a PRNG seed")
    if config.x64:
        if seed >= 2 ** 63:
            raise OverflowError(f"Python int {seed} too large to convert to int64")
        s = seed & 0xFFFFFFFFFFFFFFFF
        return np.array([s >> 32, s & 0xFFFFFFFF], dtype=np.uint32)
    return np.array([0, seed & 0xFFFFFFFF], dtype=np.uint32)


def seed_words(seed):
    """Key data from a traced or array integer scalar seed."""
    lo = P.reshape(P.convert_element_type(seed, dtypes.uint32), (1,))
    if get_aval(seed).dtype.itemsize == 8:   # a 64-bit seed's high word; 0 for narrower ones
        s = P.convert_element_type(seed, dtypes.uint64)
        hi = P.reshape(P.convert_element_type(P.shift_right_logical(s, np.uint64(32)), dtypes.uint32), (1,))
    else:
        hi = P.broadcast_in_dim(u32(0), (1,), ())
    return P.concatenate([hi, lo], 0)

