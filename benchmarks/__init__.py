"""asv benchmarks: track ryot's speed commit by commit and catch regressions (``asv continuous``).

This folder's job is regression tracking; ``ryot bench`` (:mod:`ryot.bench`) has the other job,
figures for people with their raw samples. Both call the same measurement functions
(:mod:`ryot.metrics.measurements`), so they measure the same thing.

asv runs this folder's current code against every commit it measures: a name older commits
lack is imported inside the benchmark that needs it (``common.module`` tries the 0.2 path, then
the older one: ``ryot.metrics.measurements``, then ``ryot.measurements``), so one
missing name costs that benchmark on those commits, not the whole module.
"""
