"""What a metric provider is: a :class:`Metric` declares a sampler, and a sampler may raise
:class:`NotApplicable` or :class:`InvalidMeasurement` to report a fact about its run.

A sampler is ``sampler(n, params) -> samples`` (see :mod:`ryot.measure.samples` for the accepted
shapes): it measures ``n`` more samples each call and never decides anything. This module is on
the ground floor so providers (:mod:`ryot.metrics`, users' own) never import the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["InvalidMeasurement", "Metric", "NotApplicable"]


@dataclass(frozen=True)
class Metric:
    name: str
    # scalar | paired | two_sample | exact | proportion | paired_proportions (samples.KINDS)
    kind: str
    unit: str
    description: str
    sampler: Callable[[int, dict], Any]
    requires: tuple[str, ...] = ()  # e.g. ("cuda", "nvml"): NOT_APPLICABLE where missing


class NotApplicable(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised by a metric provider when the metric cannot be measured here (with the reason)."""


class InvalidMeasurement(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised by a provider whose measurement cannot support a decision (an INVALID verdict),
    e.g. a ratio whose denominator came out zero or negative."""
