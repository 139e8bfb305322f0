"""Errors that reach users: each names the input, the place in it, and what was expected."""


class CriteriaError(ValueError):
    """A criteria file that cannot be used (exit code 2)."""


class ReportError(ValueError):
    """A report that cannot be read (exit code 2)."""


class NotApplicable(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised by a metric provider when the metric cannot be measured here (with the reason)."""


class InvalidMeasurement(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised by a provider whose measurement cannot support a decision (an INVALID verdict),
    e.g. a ratio whose denominator came out zero or negative."""


class OutputError(ValueError):
    """An output folder that cannot be used: not a folder, not writable, or in use (exit 2)."""
