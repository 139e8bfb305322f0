"""SIGTERM handled like Ctrl-C: what schedulers, docker and Kubernetes send to stop a run.

Inside :func:`terminate_as_interrupt` a SIGTERM (or SIGINT) raises :class:`Terminated`, a
``KeyboardInterrupt``, so the loop ends the run the way it ends a Ctrl-C: ``train_log.json``
says ``interrupted`` (naming the signal) and the checkpoints written so far stay. Only the first
SIGTERM raises; later ones are ignored while that run winds down.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "deferred", "exit_code", "raise_pending", "signal_name",
           "terminate_as_interrupt"]

_PENDING: list[int] = []  # the signal received inside terminate_as_interrupt(), if any
_DEFERRING = [0]  # depth of deferred() blocks: a signal arriving inside one waits for its end


class Terminated(KeyboardInterrupt):
    """A termination signal turned into an interrupt; ``signum`` is the signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def signal_name(exc: BaseException) -> str:
    """The signal behind an interrupt: SIGTERM for :class:`Terminated`, else SIGINT."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT)).name


def exit_code(exc: BaseException) -> int:
    """The shell's code for a process ended by that signal: 130 (SIGINT), 143 (SIGTERM)."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Raise :class:`Terminated` on the first SIGTERM inside the block (main thread only; a
    no-op elsewhere); the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, frame) -> None:
        signal.signal(signum, signal.SIG_IGN)  # winding down: a second one changes nothing
        _PENDING[:] = [signum]
        if not _DEFERRING[0]:
            raise Terminated(signum)

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        _PENDING.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block a termination signal must not cut in two (writing a checkpoint's two files): a
    SIGTERM or SIGINT arriving inside it raises :class:`Terminated` when the outermost such
    block ends, not where it landed."""
    already = bool(_PENDING)  # winding down from an earlier one: nothing new to raise
    _DEFERRING[0] += 1
    try:
        yield
    finally:
        _DEFERRING[0] -= 1
    if not _DEFERRING[0] and not already:
        raise_pending()


def raise_pending() -> None:
    """Raise the interrupt again if one arrived and the run is still going: Python drops a
    KeyboardInterrupt raised inside a finalizer ("Exception ignored in ..."), and a Ctrl-C or
    SIGTERM must never be lost that way. Called by the training loop at every step."""
    if _PENDING:
        raise Terminated(_PENDING[0])
