"""Moved to :mod:`ryot.metrics.workload`; ``Preset`` and the built-in presets are re-exported."""

from ..metrics.workload import FULL, PRESETS, QUICK, Preset  # noqa: F401
