"""xlafront.sharding, as jax.sharding: device meshes and how arrays split over them.

`Mesh`, `AbstractMesh`, `AxisType`, `NamedSharding`, `PartitionSpec` (xlafront/_sharding.py)
describe a layout; `device_put(x, NamedSharding(mesh, P(...)))` splits an array over the
mesh's devices and jit runs sharded arguments on all of them (xlafront/_sharded_array.py,
xlafront/_sharded_jit.py). `SingleDeviceSharding` is the sharding of a one-device array.
Names of jax.sharding that xlafront lacks raise NotImplementedYetError (an AttributeError)."""
from xlafront.lowering import runtime as _runtime
from xlafront._sharding import (AbstractMesh, AxisType, Mesh, NamedSharding, PartitionSpec,  # noqa: F401
                                get_mesh, set_mesh, use_mesh)
from xlafront._sharded_array import Shard  # noqa: F401
from xlafront._explicit_sharding import (ShardingTypeError, auto_axes, explicit_axes,  # noqa: F401
                                         get_abstract_mesh, reshard)

__all__ = ["SingleDeviceSharding", "NamedSharding", "PartitionSpec", "Mesh", "AbstractMesh", "AxisType",
           "Sharding", "Shard", "use_mesh", "set_mesh", "get_mesh",
           "reshard", "get_abstract_mesh", "ShardingTypeError", "auto_axes", "explicit_axes"]

# jaxlib's single-device sharding as lowering/runtime.py subclasses it for device_put;
# `SingleDeviceSharding(device)` makes one, and every one-device Array's `.sharding` is one.
SingleDeviceSharding = _runtime.sharding_class()


class _ShardingMeta(type):
    def __instancecheck__(cls, x):
        return isinstance(x, (NamedSharding, SingleDeviceSharding))

    def __subclasscheck__(cls, c):
        return issubclass(c, (NamedSharding, SingleDeviceSharding))


class Sharding(metaclass=_ShardingMeta):
    """The base of the sharding types for isinstance checks (jax.sharding.Sharding)."""


# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
