"""ryot's version: one place, read by the package, provenance and the tuning cache key."""

__all__ = ["__version__"]

__version__ = "0.1.0"
