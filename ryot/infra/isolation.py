"""Run a measurement in a fresh process, so memory high-water marks do not bleed between runs.

A process's peak resident set size only grows; measuring a baseline and an optimized run in the
same process would report the larger of the two for both. ``run_isolated`` starts a new
interpreter, runs ``fn(*args)`` there, and returns its result with that process's
own peak RSS. How the child starts is fixed, whoever calls (a plain script, ``ryot accept``,
pytest, nox): see :func:`run_isolated`.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RUNNER_VARIABLES", "IsolatedResult", "child_environment", "current_rss_bytes",
           "file_backed_bytes", "peak_rss_bytes", "run_isolated"]


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
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return peak_rss_bytes()


def file_backed_bytes() -> int:
    """Resident bytes of this process that map files (``RssFile``, Linux /proc; 0 elsewhere):
    library code and data files — shared, reclaimable page cache rather than memory the process
    allocates. How much a first call into a library maps depends on the page cache (a freshly
    installed torch, still in large folios, maps tens of MiB more for the same code)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):  # no /proc, or a line it cannot read: nothing to leave out
        pass
    return 0


# What a runner sets for itself and must not reach the measured process: test runners' and
# session managers' own variables, and the interpreter switches that change how memory is
# allocated or tracked (pymalloc off, tracemalloc, dev mode); RYOT_SEAL_KEY is ryot's secret.
RUNNER_VARIABLES = ("PYTEST_", "NOX_", "COV_CORE_", "PYTHONMALLOC", "PYTHONMALLOCSTATS",
                    "PYTHONTRACEMALLOC", "PYTHONDEVMODE", "PYTHONASYNCIODEBUG", "PYTHONSTARTUP",
                    "PYTHONFAULTHANDLER", "PYTHONPROFILEIMPORTTIME", "PYTHONINSPECT",
                    "RYOT_SEAL_KEY")


def child_environment(fn: Callable[..., Any]) -> dict[str, str]:
    """The measured child's environment: the caller's without :data:`RUNNER_VARIABLES`, with
    the folder ``fn``'s module is imported from first on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(RUNNER_VARIABLES)}
    root = _import_root(fn)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _import_root(fn: Callable[..., Any]) -> str | None:
    module = sys.modules.get(getattr(fn, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    if not path or fn.__module__ == "__main__":
        raise ValueError(f"{getattr(fn, '__qualname__', fn)} must be defined in an importable "
                         "module (not __main__) to run isolated")
    root = Path(path).resolve().parent
    for _ in range(fn.__module__.count(".") + (Path(path).stem == "__init__")):
        root = root.parent
    return str(root)


def run_isolated(fn: Callable[..., Any], *args: Any, timeout: float = 3600.0) -> IsolatedResult:
    """``fn(*args)`` in a fresh interpreter (``python -m ryot.infra.isolated_child``); ``fn``
    must be a module-level function, its arguments and result must pickle.

    The child's start does not depend on who calls: it never imports the caller's main module
    (multiprocessing's spawn would), runs in an empty temporary folder, and gets
    :func:`child_environment`. Its standard output and error are the caller's.
    """
    payload = pickle.dumps((fn, args))
    result_read, result_write = os.pipe()
    with tempfile.TemporaryDirectory(prefix="ryot-isolated-") as folder:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ryot.infra.isolated_child", str(result_write)],
                stdin=subprocess.PIPE, pass_fds=(result_write,), cwd=folder,
                env=child_environment(fn))
        finally:
            os.close(result_write)
        with os.fdopen(result_read, "rb") as results:
            try:
                proc.stdin.write(payload)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            status, value, peak = _result_of(proc, results, timeout)
    if status != "ok":
        raise RuntimeError(f"isolated run of {getattr(fn, '__name__', fn)} failed: {value}")
    return IsolatedResult(value, peak)


def _result_of(proc: subprocess.Popen, results, timeout: float) -> tuple[str, Any, int]:
    """The child's message; a child that dies without one (a signal, ``os._exit``) is an error
    at once, not a wait for ``timeout``."""
    ready, _, _ = select.select([results], [], [], timeout)
    data = results.read() if ready else b""
    try:
        code = proc.wait(timeout=60 if ready else 0.1)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    if not ready:
        return "error", f"no result within {timeout:g} s", 0
    if not data:
        return "error", f"the child process exited with code {code} without a result", 0
    return pickle.loads(data)
