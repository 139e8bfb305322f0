"""ryot: performance claims about LLM optimizations, measured, verified and gated in CI."""

__version__ = "0.1.0"


def evaluate(criteria, *, quick=False):
    """Measure ``criteria`` (a criteria file's path, or a dict in that format) and return the
    report as report.json would hold it; writes no files, prints nothing.

    See :func:`ryot.verification.evaluate.evaluate`. Imported on first call, so
    ``import ryot`` stays cheap.
    """
    from .verification.evaluate import evaluate as _evaluate

    return _evaluate(criteria, quick=quick)


def __getattr__(name):
    """``ryot.paired_trials`` and ``ryot.timed_samples`` (from :mod:`ryot.timing`), imported
    on first use so ``import ryot`` stays cheap."""
    if name in ("paired_trials", "timed_samples"):
        from . import timing

        return getattr(timing, name)
    raise AttributeError(f"module 'ryot' has no attribute {name!r}")
