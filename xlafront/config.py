"""Global flags, spelled as JAX spells them: `xf.config.update("jax_enable_x64", True)`.

Depends on nothing in the project; every layer may read it.
"""
import os
import threading


def _env_bool(name, default):
    v = os.environ.get(name)
    return default if v is None else v.lower() in ("1", "true", "yes", "on")


class _ThreadLocal(threading.local):
    """Per-thread overrides that context managers set (as JAX's: `disable_jit()` in one thread
    leaves the others alone). A class attribute holds the global value (`config.update`), so a
    thread without an override of its own reads it."""
    disable_jit = False
    debug_nans = False   # jax_debug_nans / jax_debug_infs (xlafront/_debug_nans.py)
    debug_infs = False


local = _ThreadLocal()


class Config:
    @property
    def disable_jit(self):
        """`jax_disable_jit`: this thread's override (the `disable_jit` context), else global."""
        return local.disable_jit

    @disable_jit.setter
    def disable_jit(self, value):
        _ThreadLocal.disable_jit = bool(value)

    @property
    def debug_nans(self):
        """`jax_debug_nans`: this thread's override (the `debug_nans` context), else global."""
        return local.debug_nans

    @debug_nans.setter
    def debug_nans(self, value):
        _ThreadLocal.debug_nans = bool(value)

    @property
    def debug_infs(self):
        """`jax_debug_infs`: this thread's override (the `debug_infs` context), else global."""
        return local.debug_infs

    @debug_infs.setter
    def debug_infs(self, value):
        _ThreadLocal.debug_infs = bool(value)

    def __init__(self):
        self.x64 = os.environ.get("JAX_ENABLE_X64", "").lower() in ("1", "true", "yes")
        self.platform = os.environ.get("XLAFRONT_PLATFORM") or os.environ.get("JAX_PLATFORMS") or None
        self.disable_jit = False
        # Off by default, as JAX's; read by xlafront/_debug_nans.py, which swaps the checking
        # evaluators in only while a flag is on (no cost on the hot paths otherwise).
        self.debug_nans = _env_bool("JAX_DEBUG_NANS", False)
        self.debug_infs = _env_bool("JAX_DEBUG_INFS", False)
        self.threefry_partitionable = True  # JAX's default since 0.5: xlafront.random follows it
        # The persistent compilation cache (lowering/runtime.py): off until a directory is
        # set, as in JAX; the thresholds and their defaults are JAX's.
        self.compilation_cache_dir = os.environ.get("JAX_COMPILATION_CACHE_DIR") or None
        self.enable_compilation_cache = _env_bool("JAX_ENABLE_COMPILATION_CACHE", True)
        self.persistent_cache_min_compile_time_secs = float(
            os.environ.get("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", 1.0))
        self.persistent_cache_min_entry_size_bytes = int(
            os.environ.get("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", 0))
        self.num_cpu_devices = int(os.environ.get("JAX_NUM_CPU_DEVICES", -1))  # -1: XLA_FLAGS decides
        # CPU collectives across processes (xf.distributed): 'gloo' (JAX's default), 'mpi' or None
        self.cpu_collectives_implementation = os.environ.get("JAX_CPU_COLLECTIVES_IMPLEMENTATION", "gloo")
        # Sharded programs lower with the sdy dialect and compile with Shardy (JAX's default);
        # False: mhlo.sharding and GSPMD (xlafront/_sharded_jit.py)
        self.use_shardy_partitioner = _env_bool("JAX_USE_SHARDY_PARTITIONER", True)
        self._listeners = []

    _names = {"jax_enable_x64": "x64", "jax_platforms": "platform", "jax_platform_name": "platform",
              "jax_disable_jit": "disable_jit", "jax_threefry_partitionable": "threefry_partitionable",
              "jax_compilation_cache_dir": "compilation_cache_dir",
              "jax_enable_compilation_cache": "enable_compilation_cache",
              "jax_persistent_cache_min_compile_time_secs": "persistent_cache_min_compile_time_secs",
              "jax_persistent_cache_min_entry_size_bytes": "persistent_cache_min_entry_size_bytes",
              "jax_num_cpu_devices": "num_cpu_devices",
              "jax_cpu_collectives_implementation": "cpu_collectives_implementation",
              "jax_debug_nans": "debug_nans", "jax_debug_infs": "debug_infs",
              "jax_use_shardy_partitioner": "use_shardy_partitioner"}

    def update(self, name, value):
        attr = self._names.get(name)
        if attr is None:
            if name.startswith("jax_"):
                return  # JAX flags that change nothing here (e.g. jax_log_compiles) are accepted.
            raise AttributeError(f"unknown config option {name!r}")
        setattr(self, attr, value)
        # Listeners react to flags that change what cached programs compute (e.g.
        # xlafront.random clears every cache when jax_threefry_partitionable changes).
        for fn in self._listeners:
            fn(attr, value)

    def add_listener(self, fn):
        """Call fn(attr, value) after every update (attr: the attribute name, e.g. "x64")."""
        self._listeners.append(fn)

    def read(self, name):
        return getattr(self, self._names[name])

    @property
    def jax_enable_x64(self):
        return self.x64

    @property
    def jax_debug_nans(self):
        return self.debug_nans

    @property
    def jax_debug_infs(self):
        return self.debug_infs

    @property
    def jax_use_shardy_partitioner(self):
        return self.use_shardy_partitioner

    @property
    def jax_compilation_cache_dir(self):
        return self.compilation_cache_dir

    @property
    def jax_persistent_cache_min_compile_time_secs(self):
        return self.persistent_cache_min_compile_time_secs

    @property
    def jax_persistent_cache_min_entry_size_bytes(self):
        return self.persistent_cache_min_entry_size_bytes

    @property
    def jax_numpy_dtype_promotion(self):
        """Always JAX's "standard" promotion (xlafront has no "strict" mode; see
        xlafront.dtypes.numpy_dtype_promotion)."""
        return "standard"

    def enable_x64(self, on=True):
        self.update("jax_enable_x64", on)


config = Config()
