"""The worker process user code runs in: ``python -m ryot.verification.worker IN OUT STACKS``.

The engine (:mod:`.worker_client`) starts one per run and sends it requests, one JSON object per
line on file descriptor ``IN``; each answer is one JSON line on ``OUT`` (the first line,
``{"status": "ready"}``, says it has started):

* ``{"op": "side", "root": REPO, "tree": WORKTREE}`` — become the baseline side of an A/B
  across commits (:mod:`.across`): every ``sys.path`` entry and the working directory inside
  REPO move to the same place in WORKTREE (its ``src/`` first), and a later import that loads a
  module from REPO is an error;
* ``{"op": "import", "reference": "mod:fn", "modules": bool}`` — import a provider or workload
  module (the answer names the module's file and, when asked, every loaded module's file);
* ``{"op": "workload", "reference": ...}`` — build the workload and keep it for the run;
* ``{"op": "sample", "metric": ..., "provider": ..., "requires": [...], "n": ..., "params": ...}``
  — ``n`` more samples (or ``not_applicable`` when a requirement is unmet).

Each request names a ``capture`` file: file descriptors 1 and 2 point at it while the request
runs (so C code and subprocesses are captured too), and at /dev/null between requests. The
answer's ``status`` is ``ok``, ``not_applicable``, ``invalid``, ``error`` (an exception, with
its traceback) or ``exit`` (SystemExit, KeyboardInterrupt or another BaseException: the worker
has its own session, so a real Ctrl-C reaches only the engine). Every answer echoes the
request's ``nonce`` (the engine refuses a line without it: provider code writing to the pipe);
``threads_left`` names the Python threads a request started that are still running (the engine
then ends this worker, so they cannot reach a later criterion). A thread keeps printing into its
own request's capture file, never the next one's (:class:`_Routed`). ``SIGUSR1`` writes every
thread's stack to the ``STACKS`` file (the engine sends it before killing a worker that ran out
of time).
"""

from __future__ import annotations

import _thread
import contextlib
import faulthandler
import fcntl
import importlib
import io
import json
import os
import signal
import sys
import threading
import traceback
import weakref
from collections.abc import Iterator
from typing import Any

__all__ = ["main"]


_ORIGIN: weakref.WeakKeyDictionary[threading.Thread, str] = weakref.WeakKeyDictionary()
_CURRENT = [os.devnull]  # the capture file of the request running now


class _Routed:
    """``sys.stdout``/``sys.stderr``: text on ``fd`` that never fails on what it is given, except
    that a thread an earlier request left running writes into *that* request's capture file
    (so a finished criterion's threads never reach another criterion's evidence)."""

    def __init__(self, fd: int) -> None:
        self._stream = io.TextIOWrapper(open(fd, "wb", buffering=0, closefd=False),
                                        encoding="utf-8", errors="backslashreplace",
                                        line_buffering=True, write_through=True)

    def write(self, text: str) -> int:
        origin = _ORIGIN.get(threading.current_thread())
        if origin is not None and origin != _CURRENT[0]:
            if origin != os.devnull:
                with open(origin, "a", encoding="utf-8", errors="backslashreplace") as late:
                    late.write(text)
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _stream(fd: int) -> _Routed:
    return _Routed(fd)


def _point_output_at(path: str) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a provider may have closed or replaced it
            stream.flush()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if fd <= 2:  # the code closed 1 or 2 and the kernel reused it: move it out of the way
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
        os.close(fd)
        fd = high
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if getattr(sys.stdout, "closed", True) or sys.stdout is not _STREAMS[0]:
        sys.stdout = _STREAMS[0] = _stream(1)
    if getattr(sys.stderr, "closed", True) or sys.stderr is not _STREAMS[1]:
        sys.stderr = _STREAMS[1] = _stream(2)


_STREAMS: list[Any] = [None, None]


_LIVE: dict[object, int] = {}  # one token per thread started in this process, until it ends
_REAL_START = _thread.start_new_thread


def _tracked_start(function: Any, args: tuple, kwargs: dict | None = None) -> int:
    """``_thread.start_new_thread`` (which ``threading`` uses too), counting live threads: a
    thread is counted from the call, before it first runs, until its function returns."""
    token = object()

    def run(*a: Any, **k: Any) -> Any:
        try:
            return function(*a, **k)
        finally:
            _LIVE.pop(token, None)

    _LIVE[token] = 1
    try:
        return _REAL_START(run, args, kwargs or {})
    except BaseException:
        _LIVE.pop(token, None)
        raise


def _track_threads() -> None:
    _thread.start_new_thread = _tracked_start
    threading._start_new_thread = _tracked_start  # type: ignore[attr-defined]


def _threads_left(before: set[object], known: set[threading.Thread]) -> list[str]:
    """Names of the threads started since ``before`` that still run (``threading``'s by name,
    the others counted)."""
    count = len(set(_LIVE) - before)
    names = [t.name for t in threading.enumerate() if t not in known and t.is_alive()][:count]
    if count > len(names):
        names.append(f"{count - len(names)} more started with _thread")
    return names


@contextlib.contextmanager
def _captured(path: str, left: list[str]) -> Iterator[None]:
    """Output of the block into ``path``; ``left`` gets the threads it leaves running."""
    before, known = set(_LIVE), set(threading.enumerate())
    _CURRENT[0] = path
    _point_output_at(path)
    try:
        yield
    finally:
        _point_output_at(os.devnull)
        _CURRENT[0] = os.devnull
        for thread in threading.enumerate():  # started by this request, still running
            if thread not in known:
                _ORIGIN.setdefault(thread, path)
        left.extend(_threads_left(before, known))


def _inside(path: str, folder: str) -> bool:
    """``path`` lies in ``folder``, symbolic links resolved on both."""
    folder = os.path.realpath(folder)
    return os.path.realpath(path).startswith(folder.rstrip(os.sep) + os.sep)


_REAL: dict[str, str] = {}  # a file as a module names it -> its real path (resolved once)


def _module_files() -> dict[str, str]:
    """Every loaded module's file, symbolic links resolved (what each side really runs)."""
    found = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            if file not in _REAL:
                _REAL[file] = os.path.realpath(file)
            found[name] = _REAL[file]
    return found


class _Worker:
    def __init__(self) -> None:
        self.workload: Any = None
        self.forbidden: str | None = None  # the working tree, on the baseline side
        self._scanned = -1  # len(sys.modules) at the last scan that found nothing wrong
        self.allowed: list[str] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

    def become_side(self, root: str, tree: str) -> dict:
        """Entries inside ``root`` move into ``tree`` where the worktree has them; others (a
        virtual environment inside the repository, untracked) stay, and stay allowed."""
        root, tree = os.path.realpath(root), os.path.realpath(tree)

        def moved(entry: str) -> str:
            real = os.path.realpath(entry or os.curdir)
            if real != root and not _inside(real, root):
                return entry
            there = tree + real[len(root):]
            if os.path.isdir(there):
                return there
            self.allowed.append(real)
            return entry

        sys.path[:] = [moved(e) for e in sys.path]
        src = os.path.join(tree, "src")
        if os.path.isdir(src) and src not in sys.path:  # an editable src/ layout's finder
            sys.path.insert(0, src)  # points at the working tree; the engine checks symmetry
        here = moved(os.getcwd())
        os.chdir(here if _inside(here, tree) or here == tree else tree)
        importlib.invalidate_caches()
        self.forbidden = root
        return {"status": "ok"}

    def _from_the_wrong_tree(self) -> str | None:
        """The first module loaded from the working tree on the baseline side (ryot's own
        package and the environments left in place excepted)."""
        if self.forbidden is None or len(sys.modules) == self._scanned:
            return None  # nothing imported since the last clean scan (the per-round case)
        forbidden = os.path.realpath(self.forbidden) + os.sep
        for name, file in _module_files().items():
            if (file.startswith(forbidden)
                    and not any(_inside(file, folder) for folder in self.allowed)):
                return f"{name} from {file}"
        self._scanned = len(sys.modules)
        return None

    def handle(self, request: dict) -> dict:
        from ryot.measure.metric import InvalidMeasurement, NotApplicable
        from ryot.measure.samples import coerce
        from ryot.verification.references import load
        from ryot.verification.requirements import unmet
        from ryot.verification.wire import to_wire

        op = request["op"]
        if op == "side":
            return self.become_side(request["root"], request["tree"])
        if op == "import":
            try:
                load(request["reference"])
            except ValueError as exc:  # load's ConfigError already names what went wrong
                return {"status": "error", "message": str(exc)}
            wrong = self._from_the_wrong_tree()
            if wrong:
                return {"status": "error", "message": f"the baseline side imported {wrong}, "
                        "in the working tree, not from the baseline's worktree"}
            module = sys.modules.get(request["reference"].partition(":")[0])
            file = getattr(module, "__file__", None)
            answer = {"status": "ok", "file": os.path.realpath(file) if file else None}
            if request.get("modules"):  # an A/B across commits compares both sides' modules
                answer["modules"] = _module_files()
            return answer
        if op == "workload":
            self.workload = load(request["reference"])()
            return {"status": "ok"}
        if request.get("provider"):
            sampler, kind, requires = load(request["provider"]), None, ()
        else:
            from ryot.verification.registry import full_registry

            metric = full_registry().get(request["metric"])
            sampler, kind, requires = metric.sampler, (metric.kind or None), metric.requires
        reason = unmet((*requires, *request.get("requires", ())))
        if reason:
            return {"status": "not_applicable", "message": reason}
        params = {**request["params"], "_workload": self.workload}
        try:
            samples = to_wire(coerce(sampler(request["n"], params), kind))
            wrong = self._from_the_wrong_tree()  # a lazy import inside the provider
            if wrong:
                return {"status": "error", "message": f"the baseline side imported {wrong}, "
                        "in the working tree, while measuring"}
            return {"status": "ok", "samples": samples}
        except NotApplicable as exc:
            return {"status": "not_applicable", "message": str(exc)}
        except InvalidMeasurement as exc:
            return {"status": "invalid", "message": str(exc)}


def _describe_exit(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r}) instead of returning; the run went on"
    said = f": {error}" if str(error) else ""
    return (f"raised {type(error).__name__}{said} (a BaseException) instead of returning; "
            "the run went on")


def _answer(worker: _Worker, request: dict) -> dict:
    left: list[str] = []
    try:
        with _captured(request["capture"], left):
            answer = worker.handle(request)
    except Exception as exc:  # noqa: BLE001 - sent to the engine as this request's ERROR
        answer = {"status": "error", "message": f"{type(exc).__name__}: {exc}",
                  "details": traceback.format_exc(limit=-8)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit from user code is an answer too
        answer = {"status": "exit", "message": _describe_exit(exc),
                  "details": traceback.format_exc(limit=-8)}
    return {**answer, "nonce": request.get("nonce"), **({"threads_left": left} if left else {})}


def _send(out: io.TextIOWrapper, answer: dict) -> None:
    try:
        text = json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as exc:  # to_wire checked the samples; this is a last guard
        text = json.dumps({"status": "error", "message": f"the answer is not JSON: {exc}",
                           "nonce": answer.get("nonce")})
    out.write(text + "\n")
    out.flush()


def main(argv: list[str]) -> int:
    fd_in, fd_out, stacks = int(argv[0]), int(argv[1]), argv[2]
    _track_threads()
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    _STREAMS[:] = [_stream(1), _stream(2)]
    sys.stdout, sys.stderr = _STREAMS
    _point_output_at(os.devnull)
    stack_file = open(stacks, "w", encoding="utf-8")  # noqa: SIM115 - open for the process
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    requests = open(fd_in, encoding="utf-8", closefd=False)  # noqa: SIM115
    answers = open(fd_out, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    worker = _Worker()
    _send(answers, {"status": "ready"})
    for line in requests:
        _send(answers, _answer(worker, json.loads(line)))
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))  # threads a provider left behind must not hold the exit
