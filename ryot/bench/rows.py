"""Row builders shared by the benchmarks: one place that turns samples into a summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..stats import bootstrap_median, bootstrap_ratio_of_medians, relative_spread
from ..timing import synchronize


def sample_row(label: str, unit: str, samples: Sequence[float], **extra) -> dict:
    ci = bootstrap_median(samples)
    return {"label": label, "unit": unit, "median": ci.estimate, "ci95": [ci.low, ci.high],
            "relative_spread": relative_spread(samples), "samples": list(samples), **extra}


def ratio_row(label: str, numerator: Sequence[float], denominator: Sequence[float], **extra) -> dict:
    ci = bootstrap_ratio_of_medians(numerator, denominator, paired=True)
    return {"label": label, "unit": "ratio", "median": ci.estimate, "ci95": [ci.low, ci.high],
            "method": "paired bootstrap of the ratio of medians", **extra}


def interleaved(arms: dict[str, Callable[[], object]], rounds: int, warmup: int = 1,
                device: str | None = None) -> dict[str, list[float]]:
    """Seconds per call of each arm, one call of every arm per round, order rotated each round."""
    names = list(arms)
    for _ in range(warmup):
        for name in names:
            arms[name]()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            arms[name]()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times
