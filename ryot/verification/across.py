"""An A/B across commits: one scalar provider, two worker processes, paired round by round.

A criterion with ``"across_commits": true`` names a scalar provider (``f(n, params)`` returning
n measurements of the code *as it is in the checkout it runs in*). With ``--baseline REF`` the
run has two workers: the run's own one on the working tree (the candidate) and one that
:meth:`BaselineSide.start` moves into a git worktree of REF (:mod:`.commits`; the worker's
``side`` request). :class:`AcrossCommits` asks them for one measurement each per round, in
rotated order (baseline first in even rounds, candidate first in odd ones), after one discarded
warm-up measurement in every new process, and both sides in fresh processes every
``rounds_per_process`` rounds
(a criterion field, default 4; each process has a speed of its own — memory layout, hash seed —
that rounds within it share and only more processes average out, as pyperf's many workers do).
``params["_offset"]`` is the round, ``params["_side"]`` the side:
``"baseline"`` or ``"candidate"``); the rounds become paired samples, numerator = baseline,
denominator = candidate, so ``>= 1.0`` means "not slower" and load shared by the two halves of a
round cancels.

Both sides run the same interpreter and installed packages; what differs is where the user's
code is imported from. A provider module imported from outside the repository (an installed,
non-editable copy) would be the same code on both sides, and a baseline that loads a module
from the working tree would be comparing the candidate with itself: both are refused before
anything is measured (:class:`~ryot.infra.errors.CriteriaError`, exit 2).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ryot.infra.errors import CriteriaError
from ryot.measure.samples import Samples
from ryot.verification.commits import Plan
from ryot.verification.criteria import Criterion
from ryot.verification.provider_call import ProviderFailure, ProviderTimeout
from ryot.verification.sources import samples_of
from ryot.verification.worker_client import STARTUP_LIMIT_S, Worker

__all__ = ["NEEDS_BASELINE", "AcrossCommits", "BaselineSide", "check_module_file",
           "check_same_code"]

NEEDS_BASELINE = ("needs --baseline REF: it compares its provider between two commits "
                  "(`ryot accept --baseline origin/main`)")
WARMUP_ROUNDS = 1


def _inside(path: str | os.PathLike[str], folder: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


_RYOT = Path(__file__).resolve().parent.parent  # imported from ryot's installation on both sides


def check_same_code(candidate: Any, baseline: Any, root: Path, tree: Path, reference: str,
                    pointer: str, source: str) -> None:
    """Refuse a module both sides loaded from different kinds of place: from its own checkout
    on one side, from elsewhere (an installed copy) on the other — that side would not be
    measuring its commit's code. ``candidate``/``baseline``: module name -> real file."""
    if not isinstance(candidate, dict) or not isinstance(baseline, dict):
        return
    for name in sorted(set(candidate) & set(baseline)):
        here, there = str(candidate[name]), str(baseline[name])
        if _inside(here, _RYOT) or _inside(there, _RYOT):
            continue
        if _inside(here, root) != _inside(there, tree):
            raise CriteriaError(
                f"{reference!r} is compared across commits, but module {name!r} comes from "
                f"{here} on the candidate side and from {there} on the baseline side: each side "
                "must import your code from its own checkout (install it in editable mode, "
                "pip install -e ., or run ryot from the repository)", source=source,
                pointer=pointer)


def check_module_file(file: Any, tree: Path, side: str, reference: str, pointer: str,
                      source: str) -> None:
    """Refuse a provider whose module does not come from ``tree`` (that side's checkout)."""
    if isinstance(file, str) and _inside(file, tree):
        return
    raise CriteriaError(
        f"{reference!r} is compared across commits, but the {side} side imported it from "
        f"{file or 'a module without a file'}, outside {tree}: both sides would run the same "
        "code. Run ryot from the repository, or install it in editable mode (pip install -e .)",
        source=source, pointer=pointer)


class BaselineSide:
    """The baseline's worker: started in ryot's working directory (ryot itself imports from its
    installation), then moved into ``tree``; its setup is replayed after a death."""

    def __init__(self, plan: Plan, tree: Path) -> None:
        self.plan, self.tree = plan, tree
        self.worker = Worker()

    def start(self) -> None:
        try:
            answer = self.worker.add_setup({"op": "side", "root": str(self.plan.root),
                                            "tree": str(self.tree)}, STARTUP_LIMIT_S,
                                           os.devnull)
        except ProviderFailure as exc:
            raise CriteriaError(f"the baseline's worker did not start in {self.tree}: {exc}",
                                source="--baseline") from None
        if answer["status"] != "ok":
            raise CriteriaError(f"the baseline's worker could not move into {self.tree}: "
                                f"{answer.get('message')}", source="--baseline")

    def close(self) -> None:
        self.worker.close()


class _OneCpu:
    """Both sides' main threads on one CPU while they take turns (they never run at once):
    on a VM two vCPUs can differ in speed for seconds at a time, which pairing cannot cancel
    when each side sits on its own (seen: per-round ratios near 1.5 for long stretches of an
    A/A run). :meth:`pin` before each measurement (a restarted worker is a new process);
    :meth:`restore` gives each process the affinity it had."""

    def __init__(self) -> None:
        self.able = hasattr(os, "sched_setaffinity")  # Linux; elsewhere the sides run unpinned
        self.cpu = {min(os.sched_getaffinity(0))} if self.able else set()
        self.before: dict[int, set[int]] = {}

    def pin(self, worker: Worker) -> None:
        pid = worker.pid
        if not self.able or pid is None or pid in self.before:
            return
        try:
            self.before[pid] = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, self.cpu)
        except OSError:  # it ended just now, or the system does not allow it
            self.before.pop(pid, None)

    def restore(self) -> None:
        for pid, cpus in self.before.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, cpus)
        self.before.clear()


class AcrossCommits:
    """A runner source (:mod:`.sources`) measuring ``c`` on both sides in rotated rounds."""

    def __init__(self, baseline: Worker, candidate: Worker, capture: Callable[[Criterion], str],
                 labels: tuple[str, str] = ("baseline", "candidate")) -> None:
        self.sides = ((labels[0], baseline), (labels[1], candidate))
        self.capture = capture
        self._warmed: dict[str, int] = {}  # side -> the worker start it was warmed up in

    def sample(self, c: Criterion, n: int, params: dict[str, Any],
               limit_s: float | None) -> Samples:
        self.pinning = _OneCpu()
        try:
            return self._sample(c, n, params, limit_s)
        finally:
            self.pinning.restore()

    def _sample(self, c: Criterion, n: int, params: dict[str, Any],
                limit_s: float | None) -> Samples:
        deadline = None if limit_s is None else time.monotonic() + limit_s
        params = {k: v for k, v in params.items() if k != "_workload"}
        offset, every = int(params.get("_offset", 0)), c.rounds_per_process
        pairs = []
        for index in range(offset, offset + n):
            if every and index % every == 0:  # fresh processes: a process's own speed
                for _, worker in self.sides:  # averages out over many (round 0 too: the
                    worker.stop()             # run's worker has measured other criteria)
            pairs.append(self._round(c, params, deadline, index))
        return Samples("paired", numerator=[b for b, _ in pairs],
                       denominator=[k for _, k in pairs])

    def _round(self, c: Criterion, params: dict, deadline: float | None,
               index: int) -> tuple[float, float]:
        order = self.sides if index % 2 == 0 else self.sides[::-1]
        values = {}
        for label, worker in order:
            values[label] = self._one(c, worker, label,
                                      {**params, "_offset": index, "_side": label}, deadline)
        return values[self.sides[0][0]], values[self.sides[1][0]]

    def _one(self, c: Criterion, worker: Worker, label: str, params: dict,
             deadline: float | None) -> float:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise ProviderTimeout(f"out of time on the {label} side",
                                  stopped="before its next round")
        request = {"op": "sample", "metric": c.metric, "provider": c.provider,
                   "requires": list(c.requires), "n": 1, "params": params}
        try:
            failed = worker.ensure_started()
            if failed is not None:
                samples_of(failed)  # raises what the failed setup's answer stands for
            for _ in range(WARMUP_ROUNDS if self._warmed.get(label) != worker.starts else 0):
                self.pinning.pin(worker)  # a new process (a restart, a death, threads left):
                samples_of(worker.request(request, limit_s=left, capture=self.capture(c)))
                worker.ensure_started()   # warm it up, and throw the value away
            self._warmed[label] = worker.starts
            self.pinning.pin(worker)
            got = samples_of(worker.request(request, limit_s=left, capture=self.capture(c)))
        except ProviderTimeout as exc:
            raise ProviderTimeout(str(exc), exc.details,
                                  stopped=f"{exc.stopped} (on the {label} side)") from None
        except ProviderFailure as exc:
            raise type(exc)(f"on the {label} side: {exc}", exc.details) from None
        if got.kind != "scalar" or got.count != 1:
            raise ProviderFailure(f"on the {label} side the provider returned {got.kind} samples "
                                  f"({got.count}) when one scalar measurement was asked for; "
                                  "a criterion compared across commits names a scalar provider")
        return float(got.values[0])
