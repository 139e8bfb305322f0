"""Errors that reach users: each names the input, the place in it, and what was expected.

Every error a user can cause derives from :class:`RyotError` (a ``ValueError``, so callers that
catch ``ValueError`` keep working). The command line catches it once and exits 2 with its
message; any other exception escaping ryot is a bug: exit 4 with a "this is a ryot bug" line
and the traceback.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "ConfigError", "CriteriaError", "OutputError", "PublishError",
           "ReportError", "RyotError"]


class RyotError(ValueError):
    """A mistake in what a user gave ryot (exit code 2).

    Carries its parts as data, the way jsonschema's errors carry their path: ``source`` (the
    file, argument or object at fault, or None), ``pointer`` (the JSON pointer of the offending
    value, or None when the problem is the whole input) and ``message`` (what was expected).
    ``str()`` joins them as ``source: at pointer: message``.
    """

    def __init__(self, message: str, *, source: str | None = None, pointer: str | None = None):
        self.message, self.source, self.pointer = message, source, pointer
        where = f"at {pointer}: " if pointer is not None else ""
        super().__init__(f"{source}: {where}{message}" if source is not None
                         else f"{where}{message}")


class ConfigError(RyotError):
    """A value a function or class refuses: a config field, an argument, a tensor's shape."""


class CriteriaError(RyotError):
    """A criteria file that cannot be used."""


class ReportError(RyotError):
    """A report that cannot be read."""


class OutputError(RyotError):
    """An output folder that cannot be used: not a folder, not writable, or in use."""


class CheckpointError(RyotError):
    """A checkpoint (weights or metadata) that cannot be used."""


class PublishError(Exception):
    """Finished results that could not be written (disk full, a folder in a file's place): not
    the user's input, not a verdict. The command line exits 4 with this message; ``kept`` is
    the folder where the rendered files were saved instead (None when even that failed)."""

    def __init__(self, message: str, *, path: str | None = None, kept: str | None = None):
        self.message, self.path, self.kept = message, path, kept
        super().__init__(message)
