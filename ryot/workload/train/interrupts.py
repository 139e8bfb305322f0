"""SIGTERM handled like Ctrl-C: what schedulers, docker and Kubernetes send to stop a run.

Inside :func:`terminate_as_interrupt` a SIGTERM raises :class:`Terminated`, a
``KeyboardInterrupt``, so the loop ends the run the way it ends a Ctrl-C: ``train_log.json``
says ``interrupted`` (naming the signal) and the checkpoints written so far stay. Only the first
SIGTERM raises; later ones are ignored while that run winds down.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "exit_code", "signal_name", "terminate_as_interrupt"]


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
        signal.signal(signum, signal.SIG_IGN)  # winding down: a second SIGTERM changes nothing
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
