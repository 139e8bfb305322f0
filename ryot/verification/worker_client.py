"""The engine's side of the worker process (:mod:`.worker`): user code never runs in ryot's own.

A provider that calls ``os._exit``, closes file descriptors, changes directory, reads the
environment, holds the GIL, blocks in an import or leaves threads behind does it in the worker,
not in the process that decides, seals and writes. :class:`Worker`:

* starts ``python -m ryot.verification.worker`` in a session of its own, with the environment
  minus :data:`SECRET_VARIABLES` and only its two pipes open (not the output folder's lock);
* sends each request with a hard time limit; when it runs out, asks the worker for its
  threads' stacks (``SIGUSR1``), kills its whole process group and raises
  :class:`ProviderTimeout` with the stacks as evidence;
* a worker that exits, is killed (the OOM killer's SIGKILL) or closes its pipe is
  :class:`ProviderDied` naming the exit status or signal; the next request starts a new one and
  replays the setup (imports, the workload factory), so the run goes on;
* what the request's code printed (file descriptors 1 and 2, so C code and subprocesses too) is
  appended to the capture file the caller names, one per criterion; threads it left running
  keep writing there, not into a later criterion's file;
* each request carries a fresh random ``nonce`` the answer must echo: a line on the answer pipe
  without it (provider code writing to ryot's pipe) or a second line after an answer ends the
  worker, and the request is tried once more in a fresh one (:class:`ForeignAnswer` the second
  time); a sample request that leaves Python threads running ends its worker after its answer,
  so those threads can never read the next request or answer for a later criterion.

Cost: starting a worker and importing the engine's part of ryot takes ~0.3 s; a request's
round trip well under a millisecond (docs/reliability.md has the measured figures).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ryot.verification.provider_call import TAIL_CHARS, ProviderFailure, ProviderTimeout

__all__ = ["MAX_ANSWER_BYTES", "SECRET_VARIABLES", "STARTUP_LIMIT_S", "ForeignAnswer",
           "ProviderDied", "Worker", "read_tail", "worker_environment"]

SECRET_VARIABLES = ("RYOT_SEAL_KEY",)  # what ryot holds secret never reaches user code
MAX_ANSWER_BYTES = 256 * 2**20
STARTUP_LIMIT_S = 120.0  # starting Python and ryot's engine; not charged to any criterion
_STACK_WAIT_S = 2.0


class ProviderDied(ProviderFailure):
    """The worker process ended (or closed its pipe) while a request ran."""


class ForeignAnswer(ProviderDied):
    """The answer pipe carried a line that is not the worker's answer to the request."""


_FOREIGN = ("the worker's answer pipe carried {what} (provider code writing to ryot's pipe?); "
            "the worker was killed")


def worker_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


def read_tail(path: str | os.PathLike[str], limit: int = TAIL_CHARS) -> str:
    """The last ``limit`` characters a capture file holds (undecodable bytes replaced), marked
    when older output was dropped; "" for a missing or empty file."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 4 * limit))
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > len(data) or len(text) > limit:
        dropped = size - len(text[-limit:].encode("utf-8", errors="replace"))
        return f"[… about {dropped} earlier bytes dropped]\n{text[-limit:]}"
    return text


def _describe_end(code: int | None) -> str:
    if code is None:
        return "closed its pipe to ryot (still running; it was killed)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the kernel's OOM killer sends SIGKILL)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code} (os._exit, or C code calling exit)"


class Worker:
    """One worker process at a time, started on the first request and after each death.

    ``setup`` requests (imports, the workload) are replayed on every start; a failed setup
    raises from :meth:`request` like the request itself would.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ryot-worker-"))  # mode 0700
        self.setup: list[tuple[dict, float, str]] = []
        self.starts = 0
        self._proc: subprocess.Popen | None = None
        self._to: Any = None
        self._from = -1

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        req_read, req_write = os.pipe()
        ans_read, ans_write = os.pipe()
        stacks = self.folder / "stacks.txt"
        stacks.write_text("")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ryot.verification.worker", str(req_read),
                 str(ans_write), str(stacks)],
                pass_fds=(req_read, ans_write), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=worker_environment(),
                start_new_session=True)
        finally:
            os.close(req_read)
            os.close(ans_write)
        self._to = os.fdopen(req_write, "wb", buffering=0)
        self._from = ans_read
        self.starts += 1
        line, rest = self._read_line(time.monotonic() + STARTUP_LIMIT_S, STARTUP_LIMIT_S)
        ready = json.loads(line)
        if ready != {"status": "ready"} or rest:
            self.stop()
            raise ProviderDied(f"the worker process did not start: it said {ready!r}")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Kill the worker and everything it started in its session (helpers left running)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for closing in (self._to.close, lambda: os.close(self._from)):
            try:
                closing()
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- requests --------------------------------------------------------------------------
    def add_setup(self, request: dict, limit_s: float, capture: str) -> dict:
        """Run ``request`` now and again on every later start of a worker (if it succeeds)."""
        if not self.alive():
            failed = self._fresh_start()  # the earlier setup first
            if failed is not None:
                return failed
        answer = self._send(request, limit_s, capture)
        if answer["status"] == "ok":
            self.setup.append((request, limit_s, capture))
        return answer

    def request(self, request: dict, *, limit_s: float | None, capture: str) -> dict:
        """The worker's answer to ``request`` (a dict with ``status``); raises
        :class:`ProviderTimeout` or :class:`ProviderDied`, or a setup request's failure."""
        for attempt in (1, 2):
            failed = self.ensure_started()
            if failed is not None:
                return failed
            try:
                answer = self._send(request, limit_s, capture)
            except ForeignAnswer as exc:
                if attempt == 2:
                    raise ForeignAnswer(f"{exc} (twice: the second time in a fresh worker)",
                                        exc.details) from None
                continue
            if answer.get("threads_left"):
                self._end_for_threads(answer["threads_left"], capture)
            return answer
        raise AssertionError("unreachable")

    def _end_for_threads(self, names: Any, capture: str) -> None:
        """Stop the worker a sample request left threads running in (the answer stands)."""
        self.stop()
        listed = ", ".join(str(name) for name in names[:5]) if isinstance(names, list) else "?"
        try:
            with open(capture, "a", encoding="utf-8") as note:
                note.write(f"\n[ryot] the provider left Python threads running ({listed}); its "
                           "worker process was stopped so they cannot reach later criteria\n")
        except OSError:
            pass

    def ensure_started(self) -> dict | None:
        """Start a worker (replaying the setup) unless one runs; the first failed setup
        answer, or None."""
        return None if self.alive() else self._fresh_start()

    def _fresh_start(self) -> dict | None:
        """Start a worker and replay the setup; the first failed setup answer, or None."""
        self.stop()
        self._start()
        for request, limit_s, capture in self.setup:
            answer = self._send(request, limit_s, capture)
            if answer["status"] != "ok":
                return answer
        return None

    def _send(self, request: dict, limit_s: float | None, capture: str) -> dict:
        deadline = None if limit_s is None else time.monotonic() + limit_s
        nonce = secrets.token_hex(16)
        try:
            self._to.write((json.dumps({**request, "capture": capture, "nonce": nonce})
                            + "\n").encode())
        except OSError:
            return self._died()
        line, rest = self._read_line(deadline, limit_s)
        if rest or select.select([self._from], [], [], 0)[0]:
            self.stop()
            raise ForeignAnswer(_FOREIGN.format(what="more than one answer to one request"))
        try:
            parsed = json.loads(line)
        except ValueError:
            self.stop()
            raise ForeignAnswer(_FOREIGN.format(what="a line that is not JSON")) from None
        if not isinstance(parsed, dict) or parsed.get("nonce") != nonce:
            self.stop()
            raise ForeignAnswer(_FOREIGN.format(what="a line that is not the answer to this "
                                                     "request"))
        if "status" not in parsed:
            self.stop()
            raise ProviderDied("the worker process sent a malformed answer; it was killed")
        return parsed

    def _read_line(self, deadline: float | None, limit_s: float | None) -> tuple[bytes, bytes]:
        """The first line that arrives, and whatever came after it in the same read."""
        chunks: list[bytes] = []
        size = 0
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._from], [], [], wait)
            if not ready:
                raise self._timed_out(limit_s)
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                return self._died()
            chunks.append(chunk)
            size += len(chunk)
            if b"\n" in chunk:
                line, _, rest = b"".join(chunks).partition(b"\n")
                return line, rest
            if size > MAX_ANSWER_BYTES:
                self.stop()
                raise ProviderDied(f"the provider's answer exceeded {MAX_ANSWER_BYTES >> 20} MiB "
                                   "(is it returning far more samples than asked?); the worker "
                                   "was killed")

    def _died(self):
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        raise ProviderDied(f"the worker process running it {_describe_end(code)}; the run "
                           "went on in a new worker")

    def _timed_out(self, limit_s: float | None) -> ProviderTimeout:
        stacks = self.folder / "stacks.txt"
        if self._proc is not None:
            try:
                self._proc.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
            _wait_for(lambda: stacks.stat().st_size > 0, _STACK_WAIT_S)
        self.stop()
        dumped = stacks.read_text(encoding="utf-8", errors="replace").strip()
        details = (f"the worker's threads when it timed out:\n{dumped}" if dumped else None)
        return ProviderTimeout(f"timed out after {limit_s:g} s; the worker process was killed",
                               details, stopped="the worker process was killed")


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            time.sleep(0.1)  # the dump is written thread by thread
            return
        time.sleep(0.02)
