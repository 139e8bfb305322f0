"""Errors that reach users: each names the input, the place in it, and what was expected."""



class CriteriaError(ValueError):
    """A criteria file that cannot be used (exit code 2).

    Carries its parts as data: ``source`` (the file, or "<dict>"), ``pointer`` (the JSON pointer
    of the offending value, or None when the problem is the whole input) and ``message`` (what
    was expected). ``str()`` joins them as ``source: at pointer: message``.
    """

    def __init__(self, message: str, *, source: str | None = None, pointer: str | None = None):
        self.message, self.source, self.pointer = message, source, pointer
        where = f"at {pointer}: " if pointer is not None else ""
        super().__init__(f"{source}: {where}{message}" if source is not None else f"{where}{message}")


class ReportError(ValueError):
    """A report that cannot be read (exit code 2)."""


class OutputError(ValueError):
    """An output folder that cannot be used: not a folder, not writable, or in use (exit 2)."""
