"""Fixtures shared by the test files."""
import jax
import pytest

import xlafront as xf


@pytest.fixture
def x64():
    old_xf, old_jax = xf.config.x64, jax.config.jax_enable_x64
    xf.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        xf.config.update("jax_enable_x64", old_xf)
        jax.config.update("jax_enable_x64", old_jax)
