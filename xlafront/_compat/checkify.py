"""`jax._src.checkify` (flax.nnx: `from jax._src import checkify as checkify_lib`): the
public `jax.experimental.checkify` module's names (xlafront/experimental/checkify.py)."""
from xlafront.experimental.checkify import *  # noqa: F401,F403
from xlafront.experimental.checkify import __getattr__  # noqa: F401

from typing import TypeVar as _TypeVar  # noqa: E402

from xlafront.experimental.checkify import ErrorCategory as JaxException  # noqa: E402,F401

Out = _TypeVar("Out")  # flax.nnx annotates with it at def time
