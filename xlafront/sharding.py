"""xlafront.sharding, as jax.sharding: xlafront runs every array on one device, so the one
sharding there is is `SingleDeviceSharding` (the class of `x.sharding`). Multi-device
shardings (`NamedSharding`, `PartitionSpec`, `Mesh`, ...) are not implemented yet: using
one raises xlafront's NotImplementedYetError (an AttributeError) naming it and the line."""
from xlafront.lowering import runtime as _runtime

__all__ = ["SingleDeviceSharding"]

# jaxlib's single-device sharding as lowering/runtime.py subclasses it for device_put;
# `SingleDeviceSharding(device)` makes one, and every Array's `.sharding` is an instance.
SingleDeviceSharding = _runtime.sharding_class()

# A JAX name xlafront lacks: an AttributeError that says so (xlafront/_missing.py).
from xlafront._missing import module_getattr as _module_getattr  # noqa: E402
__getattr__ = _module_getattr(__name__)
