"""Moved: the model, data and loop are :mod:`ryot.training`, the metric providers and the default
workload :mod:`ryot.metrics`. Kept so that criteria files' workload factories importing
``ryot.workloads.default.Preset`` keep working.
"""
