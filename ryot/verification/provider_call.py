"""Calling user code (a metric provider, a workload factory) so that it cannot take the run down.

:func:`call` runs ``fn(*args)`` in a daemon worker thread and waits at most the time left:

* a call still running when the time is up raises :class:`ProviderTimeout`; the worker thread
  is *abandoned* (Python cannot kill a thread): it keeps running in the background until it
  returns or the process exits, and whatever it prints after that moment is no longer captured;
* ``SystemExit`` and any other ``BaseException`` raised by the provider become
  :class:`ProviderExit` (an ``Exception``, so the runner turns it into an ERROR verdict and goes
  on); ``KeyboardInterrupt`` is re-raised, so Ctrl-C still stops the run;
* everything the provider writes to ``sys.stdout``/``sys.stderr`` while it runs is captured
  into the active :func:`capture_output` collector (or discarded), never mixed into the
  progress display. Output written straight to file descriptors 1/2 (C code, subprocesses
  inheriting them) is not captured.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "MIN_TIME_LIMIT_S", "TAIL_CHARS", "TIME_LIMIT_FACTOR", "OutputTail", "ProviderExit",
    "ProviderFailure", "ProviderTimeout", "call", "capture_output", "silenced",
    "time_limit_s"
]

TIME_LIMIT_FACTOR = 3  # default hard limit per criterion: this × its max_seconds ...
MIN_TIME_LIMIT_S = 900.0  # ... but never less: a slow machine is not a hung provider
TAIL_CHARS = 2000  # how much of a provider's output a report keeps


class ProviderFailure(Exception):  # noqa: N818 - the base of the two ways a call fails
    """A provider call that neither returned nor raised an ordinary exception."""

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.details = details  # a traceback or the hung thread's stack, kept as evidence


class ProviderTimeout(ProviderFailure):
    """The provider was still running when the criterion's hard time limit ran out;
    ``stopped`` says what became of it."""

    def __init__(self, message: str, details: str | None = None,
                 stopped: str = "the provider's thread was abandoned") -> None:
        super().__init__(message, details)
        self.stopped = stopped


class ProviderExit(ProviderFailure):
    """The provider raised SystemExit (or another BaseException) instead of returning."""


class OutputTail(io.TextIOBase):
    """A text stream that keeps the last ``limit`` characters written to it (thread-safe)."""

    def __init__(self, limit: int = TAIL_CHARS) -> None:
        self.limit, self.total, self._tail, self._lock = limit, 0, "", threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        with self._lock:
            self.total += len(s)
            self._tail = (self._tail + s)[-self.limit:]
        return len(s)

    def text(self) -> str:
        """The kept tail, marked when older output was dropped."""
        with self._lock:
            if self.total > len(self._tail):
                return (f"[… {self.total - len(self._tail)} earlier characters dropped]\n"
                        f"{self._tail}")
            return self._tail


_collector: contextvars.ContextVar[OutputTail | None] = contextvars.ContextVar(
    "ryot_provider_output", default=None)


@contextlib.contextmanager
def capture_output(limit: int = TAIL_CHARS) -> Iterator[OutputTail]:
    """Collect what providers called inside this block print (the last ``limit`` characters)."""
    tail = OutputTail(limit)
    token = _collector.set(tail)
    try:
        yield tail
    finally:
        _collector.reset(token)


@contextlib.contextmanager
def silenced() -> Iterator[OutputTail]:
    """Redirect ``sys.stdout``/``sys.stderr`` (every thread's) into a tail for this block."""
    sink = _collector.get() or OutputTail()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


def time_limit_s(max_seconds: float, timeout_seconds: float | None = None) -> float:
    """The hard wall-clock limit of a criterion: its ``timeout_seconds``, or the larger of
    TIME_LIMIT_FACTOR × its sampling budget ``max_seconds`` and MIN_TIME_LIMIT_S."""
    if timeout_seconds is not None:
        return timeout_seconds
    return max(TIME_LIMIT_FACTOR * max_seconds, MIN_TIME_LIMIT_S)


def call(fn: Callable[..., Any], *args: Any, limit_s: float | None = None,
         elapsed_s: float = 0.0) -> Any:
    """``fn(*args)`` with at most ``limit_s - elapsed_s`` seconds left (None: no limit)."""
    remaining = None if limit_s is None else limit_s - elapsed_s
    if remaining is not None and remaining <= 0:
        raise ProviderTimeout(_timeout_message(limit_s))
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below
            outcome["error"] = exc
            outcome["details"] = traceback.format_exc(limit=-8)

    worker = threading.Thread(target=work, name=f"ryot-provider-{getattr(fn, '__name__', 'call')}",
                              daemon=True)
    with silenced():
        worker.start()
        worker.join(remaining)
    if worker.is_alive():
        raise ProviderTimeout(_timeout_message(limit_s), _stack_of(worker))
    error = outcome.get("error")
    if error is None:
        return outcome.get("value")
    if isinstance(error, (Exception, KeyboardInterrupt)):
        raise error
    raise ProviderExit(f"{_describe_exit(error)} instead of returning; the run went on",
                       outcome["details"])


def _timeout_message(limit_s: float | None) -> str:
    return (f"timed out after {limit_s:g} s (the criterion's hard limit; raise timeout_seconds "
            "if it needs longer); the provider's thread was abandoned")


def _describe_exit(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    return f"raised {type(error).__name__}: {error} (a BaseException)"


def _stack_of(thread: threading.Thread) -> str | None:
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return None
    return "the provider was here when it timed out:\n" + "".join(traceback.format_stack(frame))
