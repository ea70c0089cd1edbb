"""Global flags, spelled as JAX spells them: `xf.config.update("jax_enable_x64", True)`.

Depends on nothing in the project; every layer may read it.
"""
import os


class Config:
    def __init__(self):
        self.x64 = os.environ.get("JAX_ENABLE_X64", "").lower() in ("1", "true", "yes")
        self.platform = os.environ.get("XLAFRONT_PLATFORM") or os.environ.get("JAX_PLATFORMS") or None
        self.disable_jit = False
        self.threefry_partitionable = True  # JAX's default since 0.5: xlafront.random follows it
        self._listeners = []

    _names = {"jax_enable_x64": "x64", "jax_platforms": "platform", "jax_platform_name": "platform",
              "jax_disable_jit": "disable_jit", "jax_threefry_partitionable": "threefry_partitionable"}

    def update(self, name, value):
        attr = self._names.get(name)
        if attr is None:
            if name.startswith("jax_"):
                return  # JAX flags that change nothing here (e.g. jax_debug_nans) are accepted.
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

    def enable_x64(self, on=True):
        self.update("jax_enable_x64", on)


config = Config()
