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
