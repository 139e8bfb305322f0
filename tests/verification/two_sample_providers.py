"""Two-sample providers for test_two_sample_kind.py: arms measured separately (all baseline
runs, then all candidate runs), as an importer of asv / pytest-benchmark / hyperfine results
returns them. Seeded, so a report is reproducible."""

from __future__ import annotations

import math

import numpy as np

from ryot.measure.samples import two_sample


def _arms(params: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(params.get("seed", 0))
    noise = params.get("noise", 0.05)
    base = rng.lognormal(math.log(params.get("true_ratio", 2.0)), noise,
                         params.get("baseline_n", 30))
    cand = rng.lognormal(0.0, noise, params.get("candidate_n", 24))
    base *= np.exp(params.get("baseline_drift", 0.0) * np.arange(base.size))  # per run
    return base, cand


def imported(n, params):
    """Samples built with ryot.measure.samples.two_sample (``n`` is ignored: measured once)."""
    base, cand = _arms(params)
    if params.get("zero_candidate"):
        cand[3] = 0.0
    return two_sample(base.tolist(), cand.tolist(), source="two_sample_providers")


def as_dict(n, params):
    """The plain-Python shape: a {baseline, candidate} dict."""
    base, cand = _arms(params)
    return {"baseline": base.tolist(), "candidate": cand.tolist()}
