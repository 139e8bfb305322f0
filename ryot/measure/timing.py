"""How to time a callable: warm-up, device synchronization (CUDA events on a GPU), samples.

Like ``torch.utils.benchmark``'s Timer, this only runs and records; statistics live in
:mod:`ryot.stats.intervals`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ryot.infra.errors import ConfigError

__all__ = ["Measurement", "interleaved", "paired_trials", "rotated", "steady_allocator",
           "synchronize", "time_callable", "timed_samples"]

T = TypeVar("T")


def steady_allocator() -> bool:
    """Make glibc keep freed memory for reuse (no mmap/munmap and page faults per large
    allocation), the steady state a caching allocator gives. Process-wide and permanent;
    returns False where it cannot be set (not glibc)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30)
                    and libc.mallopt(m_trim_threshold, 1 << 31))
    except (OSError, AttributeError):
        return False


def synchronize(device) -> None:
    """Wait for queued device work so a clock read measures finished work. ``device`` is a
    name ("cuda:0"), a ``torch.device``, or None (the CPU: nothing to wait for). The one place
    ryot synchronizes a device: timing, training steps, generation and asv all call it."""
    if device is not None and str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object], calls: int, device: str | None) -> float:
    """Seconds for ``calls`` calls: CUDA events on a GPU (device time, no host jitter), else
    ``perf_counter`` around the calls."""
    if device and device.startswith("cuda"):
        import torch

        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3  # milliseconds -> seconds
    begin = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - begin


@dataclass
class Measurement:
    """Raw per-call times in seconds for one labelled callable."""

    label: str
    seconds_per_call: list[float] = field(default_factory=list)
    calls_per_sample: int = 1


def time_callable(fn: Callable[[], object], *, label: str = "", samples: int = 15,
                  warmup: int = 3, min_sample_seconds: float = 0.01,
                  device: str | None = None) -> Measurement:
    """Warm up, pick a call count so one sample lasts ``min_sample_seconds``, then sample."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    calls = 1
    while True:  # calibrate: a sample must be long enough for the clock's resolution
        elapsed = _timed(fn, calls, device)
        if elapsed >= min_sample_seconds or calls >= 1 << 20:
            break
        calls *= 2 if elapsed <= 0 else max(2, min(10, int(min_sample_seconds / elapsed) + 1))
    result = Measurement(label, calls_per_sample=calls)
    for _ in range(samples):
        result.seconds_per_call.append(_timed(fn, calls, device) / calls)
    return result


def rotated(names: Sequence[str], rounds: int, trial: Callable[[str, int], T], *,
            offset: int = 0) -> dict[str, list[T]]:
    """The one A/B loop: ``rounds`` rounds, each one ``trial(name, round)`` of every arm, the
    order rotated each round (starting ``offset`` places on) so drift and order effects hit
    every arm alike. ``trial`` says what one trial measures: seconds of a call
    (:func:`interleaved`), a time to first token, a whole isolated run."""
    names = list(names)
    results: dict[str, list[T]] = {name: [] for name in names}
    for r in range(rounds):
        k = (r + offset) % len(names)
        for name in names[k:] + names[:k]:
            results[name].append(trial(name, r))
    return results


def interleaved(arms: dict[str, Callable[[], object]], rounds: int, warmup: int = 1,
                device: str | None = None, rewarm: bool = False,
                calls: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each arm: ``calls`` timed calls of every arm per round, in
    :func:`rotated` order, after ``warmup`` untimed calls of each and a device sync.

    ``rewarm=True`` runs each arm once untimed right before its timed calls, so every timed
    call starts from the same allocator and cache state (large allocations otherwise make
    whichever arm runs second look several times faster).
    """
    for _ in range(warmup):
        for fn in arms.values():
            fn()
    synchronize(device)

    def trial(name: str, _round: int) -> float:
        if rewarm:
            arms[name]()
            synchronize(device)
        return _timed(arms[name], calls, device) / calls

    return rotated(arms, rounds, trial)


def _device_name(device) -> str | None:
    return None if device is None else str(device)


def paired_trials(baseline: Callable[[], object], candidate: Callable[[], object], n: int, *,
                  warmup: int = 1, device=None, rewarm: bool = False, calls: int = 1):
    """``n`` A/B trials of two callables, ready to return from a metric provider.

    Each round times ``calls`` calls of each arm (seconds per call), the order rotated every
    round (drift hits both alike), synchronizing CUDA when ``device`` is a GPU. Returns paired
    samples with ``numerator`` = baseline seconds and ``denominator`` = candidate seconds, so
    their ratio is the candidate's speedup::

        def speedup(n, params):
            return ryot.paired_trials(eager_step, compiled_step, n)
    """
    from ryot.measure.samples import Samples

    _check_count(n)
    _check_count(calls, "calls")
    times = interleaved({"baseline": baseline, "candidate": candidate}, rounds=n, warmup=warmup,
                        device=_device_name(device), rewarm=rewarm, calls=calls)
    return Samples("paired", numerator=times["baseline"], denominator=times["candidate"])


def timed_samples(fn: Callable[[], object], n: int, *, warmup: int = 1, device=None):
    """``n`` timings (seconds, one call each) of ``fn`` after ``warmup`` calls: scalar samples
    for a metric provider."""
    from ryot.measure.samples import Samples

    _check_count(n)
    times = interleaved({"fn": fn}, rounds=n, warmup=warmup, device=_device_name(device))
    return Samples("scalar", values=times["fn"])


def _check_count(n: int, what: str = "the number of trials") -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{what} must be an int >= 1, got {n!r}")
