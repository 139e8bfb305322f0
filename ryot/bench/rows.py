"""Row builders shared by the benchmarks: one place that turns samples into a summary."""

from __future__ import annotations

from collections.abc import Sequence

from ryot.stats.intervals import bootstrap_median, bootstrap_ratio_of_medians, relative_spread

__all__ = ["ratio_row", "sample_row"]


def sample_row(label: str, unit: str, samples: Sequence[float], **extra) -> dict:
    ci = bootstrap_median(samples)
    return {"label": label, "unit": unit, "median": ci.estimate, "ci95": [ci.low, ci.high],
            "relative_spread": relative_spread(samples), "samples": list(samples), **extra}


def ratio_row(label: str, numerator: Sequence[float], denominator: Sequence[float],
              **extra) -> dict:
    ci = bootstrap_ratio_of_medians(numerator, denominator, paired=True)
    return {"label": label, "unit": "ratio", "median": ci.estimate, "ci95": [ci.low, ci.high],
            "method": "paired bootstrap of the ratio of medians", **extra}
