"""Synthetic metrics: a known true value and known noise, for tests and for measuring the
engine's own decision quality (``ryot bench decisions``).

Samplers receive ``params`` with ``_offset`` (samples taken so far) added by the runner, so a
seeded provider draws fresh samples on every call and the whole run is reproducible.
"""

from __future__ import annotations

import numpy as np

from ryot.measure.metric import Metric, NotApplicable
from ryot.measure.samples import Samples

__all__ = [
    "METRICS", "synthetic_cold", "synthetic_error", "synthetic_exact",
    "synthetic_not_applicable", "synthetic_ratio", "synthetic_scalar"
]


def _rng(params: dict) -> np.random.Generator:
    return np.random.default_rng([int(params.get("seed", 0)), int(params.get("_offset", 0))])


def synthetic_ratio(n: int, params: dict) -> Samples:
    """Paired trials whose ratio of population medians is ``true_ratio``.

    Each arm is lognormal with sigma ``noise``; a per-round drift (sigma ``drift``) multiplies
    both arms of a round, as machine load does.
    """
    rng = _rng(params)
    ratio, noise, drift = (params.get("true_ratio", 1.0), params.get("noise", 0.05),
                           params.get("drift", 0.0))
    shared = np.exp(rng.normal(0.0, drift, n))
    denominator = shared * np.exp(rng.normal(0.0, noise, n))
    numerator = shared * ratio * np.exp(rng.normal(0.0, noise, n))
    return Samples("paired", numerator=numerator.tolist(), denominator=denominator.tolist())


def synthetic_scalar(n: int, params: dict) -> Samples:
    """``value * (1 + noise * N(0, 1))``: median ``value``."""
    rng = _rng(params)
    value, noise = params.get("value", 1.0), params.get("noise", 0.05)
    return Samples("scalar", values=(value * (1 + noise * rng.standard_normal(n))).tolist())


def synthetic_exact(n: int, params: dict) -> Samples:
    return Samples("exact", values=[float(params.get("value", 0.0))])


def synthetic_cold(n: int, params: dict) -> Samples:
    """Samples taken before the measured system warmed up (an INVALID verdict)."""
    samples = synthetic_scalar(n, params)
    samples.warmup_reached = False
    return samples


def synthetic_error(n: int, params: dict) -> Samples:
    raise RuntimeError(params.get("message", "synthetic provider failure"))


def synthetic_not_applicable(n: int, params: dict) -> Samples:
    raise NotApplicable(params.get("reason", "synthetic: not applicable here"))


METRICS = (
    Metric("synthetic.ratio", "paired", "x",
           "Paired trials whose ratio of population medians is ``true_ratio``.", synthetic_ratio),
    Metric("synthetic.scalar", "scalar", "",
           "``value * (1 + noise * N(0, 1))``: median ``value``.", synthetic_scalar),
    Metric("synthetic.exact", "exact", "", "a fixed value", synthetic_exact),
    Metric("synthetic.cold", "scalar", "",
           "Samples taken before the measured system warmed up (an INVALID verdict).",
           synthetic_cold),
    Metric("synthetic.error", "scalar", "", "always raises", synthetic_error),
    Metric("synthetic.not_applicable", "scalar", "", "always NOT_APPLICABLE",
           synthetic_not_applicable),
)
