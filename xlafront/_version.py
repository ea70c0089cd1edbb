"""The package version (a leaf module, so that lower modules need not import xlafront/__init__)."""
__version__ = "0.1.0"
