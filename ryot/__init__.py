"""ryot: performance claims about LLM optimizations, measured, verified and gated in CI.

The package is cut into layers, one folder each (``docs/architecture.md``); an import points down
or stays in its folder. The names users call live here and in the four contract facades
(:mod:`ryot.orchestrator`, :mod:`ryot.kernel_optimizer`, :mod:`ryot.semantic_compression`,
:mod:`ryot.inference_scaling`).
"""

from ryot.infra import moved as _moved
from ryot.infra.version import __version__

__all__ = ["__version__", "evaluate", "paired_trials", "timed_samples"]

_moved.install()  # old module paths (before the layer cut) keep working, with a warning


def evaluate(criteria, *, quick=False):
    """Measure ``criteria`` (a criteria file's path, or a dict in that format) and return the
    report as report.json would hold it; writes no files, prints nothing.

    See :func:`ryot.verification.evaluate.evaluate`. Imported on first call, so
    ``import ryot`` stays cheap.
    """
    from ryot.verification.evaluate import evaluate as _evaluate

    return _evaluate(criteria, quick=quick)


def __getattr__(name):
    """``ryot.paired_trials`` and ``ryot.timed_samples`` (from :mod:`ryot.measure.timing`),
    imported on first use so ``import ryot`` stays cheap."""
    if name in ("paired_trials", "timed_samples"):
        from ryot.measure import timing

        return getattr(timing, name)
    raise AttributeError(f"module 'ryot' has no attribute {name!r}")
