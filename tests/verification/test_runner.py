"""ryot.verification.runner: sequential sampling of one criterion; what it hands providers
and keeps when they fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ryot.measure.metric import InvalidMeasurement, Metric, NotApplicable
from ryot.stats import sequential
from ryot.verification.criteria import Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure, quick_budget


# -- the second-generation statistics (issue #14) --------------------------------------------------
def plain_crit(**kw):
    base = dict(id="c", metric="m", unit="x", comparator=">=", description="d", threshold=3.0,
                min_samples=1, max_samples=48)
    base.update(kw)
    return Criterion(**base)


def test_runner_flags_a_drifting_provider():
    def drifting(n, params):
        i0 = params["_offset"]
        rng = np.random.default_rng(i0)
        return {"numerator": [3.3 * (0.99 ** (i0 + i)) * math.exp(rng.normal(0, 0.02))
                              for i in range(n)],
                "denominator": [1.0] * n}
    registry = Registry()
    registry.register(Metric("drift", "paired", "x", "drifting", drifting))
    m = measure(plain_crit(metric="drift", min_samples=12), registry)
    assert m.verdict.status == "INVALID" and "not stationary" in m.verdict.reason


# -- found untested by the mutation run (``nox -s mutation``, issue #13) ---------------------------
# What the runner hands providers and keeps when they fail. Deterministic data and fake
# clocks throughout.
FLAG_ALL = -1e300  # an expected_max every estimate exceeds: every verdict carries the flag


def crit(**kw) -> Criterion:
    base = dict(id="c", metric="m", unit="x", comparator=">=", description="d", threshold=3.0,
                min_samples=1, max_samples=48, expected_max=FLAG_ALL)
    base.update(kw)
    return Criterion(**base)


class Ticks:
    """A clock that advances ``step`` seconds per reading, from ``start``."""

    def __init__(self, step: float, start: float = 1000.0):
        self.now, self.step = start - step, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def registry_of(sampler, kind="scalar", requires=()) -> Registry:
    registry = Registry()
    registry.register(Metric("m", kind, "x", "test metric", sampler, requires))
    return registry


def undecided(n, params):
    """Scalar samples that straddle 3.0 at every look."""
    return [3.0 + (0.3 if (params["_offset"] + i) % 2 else -0.3) for i in range(n)]


@pytest.mark.mutation
@pytest.mark.parametrize("quick", [False, True])
def test_providers_receive_their_offset_quick_flag_and_workload(quick):
    seen = []

    def sampler(n, params):
        seen.append({k: params[k] for k in ("scale", "_offset", "_quick", "_workload")})
        return undecided(n, params)

    workload = object()
    kwargs = {"quick": True} if quick else {}
    m = measure(crit(min_samples=6, max_samples=24, params={"scale": 2}, expected_max=None),
                registry_of(sampler), workload=workload, **kwargs)
    assert m.looks == [6, 12, 24]
    assert seen == [{"scale": 2, "_offset": o, "_quick": quick, "_workload": workload}
                    for o in (0, 6, 12)]


@pytest.mark.mutation
def test_progress_is_reported_against_the_budget_or_the_one_shot_count():
    calls = []
    measure(crit(min_samples=6, max_samples=24), registry_of(undecided),
            on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(6, 24), (12, 24), (24, 24)]
    calls.clear()
    measure(crit(min_samples=6, max_samples=24), registry_of(lambda n, p: 4.0, kind="exact"),
            on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]


@pytest.mark.mutation
def test_samples_of_another_kind_than_the_metric_declares_are_an_error():
    m = measure(crit(min_samples=6, max_samples=24),
                registry_of(lambda n, p: [4.0] * n, kind="paired"))
    assert m.verdict.status == "ERROR"
    assert m.verdict.reason == ("ConfigError: the metric declares paired samples but its provider "
                                "returned scalar")


@pytest.mark.mutation
def test_the_hard_time_limit_counts_the_time_already_spent():
    """Past the criterion's timeout_seconds when a look starts: that call is not made."""
    m = measure(crit(min_samples=6, max_samples=24, timeout_seconds=10.0), registry_of(undecided),
                clock=Ticks(100.0))
    assert m.verdict.status == "ERROR" and m.verdict.reason.startswith("timed out after 10 s")
    assert (m.samples, m.looks) == (None, [])


@pytest.mark.mutation
def test_a_run_ends_only_after_its_time_budget_is_exceeded():
    """At exactly max_seconds the run takes its next look; past it, the look it is at closes the
    run with the error the skipped looks left."""
    c = crit(min_samples=6, max_samples=24, max_seconds=50.0, expected_max=None)
    # elapsed 50 after look 1, 100 after 2
    m = measure(c, registry_of(undecided), clock=Ticks(25.0))
    schedule = sequential.look_schedule(6, 24)
    assert m.looks == [6, 12] and m.verdict.status == "INCONCLUSIVE"
    assert m.look_confidence == sequential.closing_confidence(0.95, schedule, 1)
    assert m.elapsed_s == 125.0


@pytest.mark.mutation
def test_requirements_unmet_are_not_applicable_for_this_criterion(monkeypatch):
    import ryot.verification.requirements as req

    monkeypatch.setitem(req.CHECKS, "cuda", lambda: "no CUDA device is available")
    c = crit(requires=("cuda",))
    m = measure(c, registry_of(undecided))
    assert m.verdict.status == "NOT_APPLICABLE" and m.criterion is c and m.samples is None


def failing_on_second_call(exc):
    def sampler(n, params):
        if params["_offset"]:
            raise exc
        return undecided(n, params)
    return sampler


@pytest.mark.mutation
@pytest.mark.parametrize("exc, status, keeps_samples", [
    (NotApplicable("no GPU after all"), "NOT_APPLICABLE", True),
    (InvalidMeasurement("the denominator came out zero"), "INVALID", False),
    (SystemExit(3), "ERROR", True),
    (RuntimeError("disk on fire"), "ERROR", True),
])
def test_a_provider_failing_mid_run_keeps_what_was_measured(exc, status, keeps_samples):
    c = crit(min_samples=6, max_samples=24)
    m = measure(c, registry_of(failing_on_second_call(exc)), clock=Ticks(1.0))
    assert m.criterion is c and m.verdict.status == status and m.verdict.statistics is None
    assert m.looks == [6]
    assert (m.samples.count if m.samples else None) == (6 if keeps_samples else None)
    # clock readings: start, then two per look before the failing call, one more at its end
    assert m.elapsed_s == 4.0
    assert (m.error is not None) == (status == "ERROR")


@pytest.mark.mutation
def test_the_traceback_kept_for_an_error_is_five_frames():
    def deep(k):
        if k == 0:
            raise RuntimeError("deep down")
        return deep(k - 1)

    m = measure(crit(min_samples=6, max_samples=24), registry_of(lambda n, p: deep(12)))
    assert m.verdict.reason == "RuntimeError: deep down"
    assert m.error.count('File "') == 5


@pytest.mark.mutation
@pytest.mark.parametrize("kw, budget", [
    ({"min_samples": 12, "max_samples": 48, "max_seconds": 120.0}, (12, 30.0)),
    ({"min_samples": 2, "max_samples": 50, "max_seconds": 10.0}, (12, 2.5)),
    ({"min_samples": 20, "max_samples": 48, "max_seconds": 2.0}, (20, 1.0)),
])
def test_quick_is_a_quarter_of_the_budget_never_below_the_minimum(kw, budget):
    q = quick_budget(crit(**kw))
    assert (q.max_samples, q.max_seconds) == budget and isinstance(q.max_samples, int)
