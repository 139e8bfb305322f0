"""Run a measurement in a fresh process, so memory high-water marks do not bleed between runs.

A process's peak resident set size only grows; measuring a baseline and an optimized run in the
same process would report the larger of the two for both. ``run_isolated`` starts a new
interpreter (``spawn``), runs ``fn(*args)`` there, and returns its result with that process's
own peak RSS.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty
from typing import Any

__all__ = ["IsolatedResult", "current_rss_bytes", "peak_rss_bytes", "run_isolated"]


@dataclass(frozen=True)
class IsolatedResult:
    value: Any
    peak_rss_bytes: int


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    On Linux, ``VmHWM`` from /proc (``ru_maxrss`` survives ``exec`` and would carry the parent's
    peak into a freshly spawned child); elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int:
    """Resident memory right now (Linux /proc; else the peak as the best available figure)."""
    import os

    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return peak_rss_bytes()


def _child(fn, args, queue) -> None:
    try:
        value = fn(*args)
        queue.put(("ok", value, peak_rss_bytes()))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", 0))


def _result_of(proc, queue, timeout: float) -> tuple[str, Any, int]:
    """The child's message; a child that dies without one (a signal, ``os._exit``) is an error
    at once, not a wait for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get(timeout=0.5)
        except Empty:
            if not proc.is_alive():
                try:  # it may have put its message just before exiting
                    return queue.get(timeout=1.0)
                except Empty:
                    return "error", f"the child process exited with code {proc.exitcode} " \
                                    "without a result", 0
            if time.monotonic() > deadline:
                return "error", f"no result within {timeout:g} s", 0


def run_isolated(fn: Callable[..., Any], *args: Any, timeout: float = 3600.0) -> IsolatedResult:
    """``fn`` must be importable (a module-level function); its result must pickle."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    try:
        status, value, peak = _result_of(proc, queue, timeout)
    finally:
        proc.join(timeout=60)
        if proc.is_alive():
            proc.kill()
    if status != "ok":
        raise RuntimeError(f"isolated run of {getattr(fn, '__name__', fn)} failed: {value}")
    return IsolatedResult(value, peak)
