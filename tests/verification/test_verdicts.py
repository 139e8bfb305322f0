"""Every verdict path, driven by synthetic providers of known distributions."""

import math

import pytest

from ryot.measure.samples import Samples
from ryot.verification.criteria import Criterion
from ryot.verification.registry import default_registry
from ryot.verification.runner import measure
from ryot.verification.verdicts import decide, more_samples_hint


def crit(metric="synthetic.ratio", **kw):
    base = dict(id="c", metric=metric, unit="x", comparator=">=", description="d", threshold=3.0,
                min_samples=10, max_samples=80)
    base.update(kw)
    return Criterion(**base)


def run(c):
    return measure(c, default_registry())


def test_pass_when_the_whole_interval_clears_the_threshold():
    m = run(crit(params={"true_ratio": 4.0, "noise": 0.05}))
    assert m.verdict.status == "PASS"
    assert m.verdict.statistics.low >= 3.0
    assert m.looks[-1] < 80  # far from the threshold: decided before the budget is spent


def test_fail_when_the_whole_interval_misses_it():
    m = run(crit(params={"true_ratio": 2.0, "noise": 0.05}))
    assert m.verdict.status == "FAIL" and m.verdict.statistics.high < 3.0


def test_sequential_sampling_takes_more_samples_near_the_threshold():
    m = run(crit(params={"true_ratio": 3.15, "noise": 0.15, "seed": 3}, max_samples=160))
    assert len(m.looks) > 1 and m.looks == sorted(m.looks)
    assert m.samples.count == m.looks[-1]


def test_inconclusive_after_the_budget_says_how_many_more_samples():
    m = run(crit(params={"true_ratio": 3.0, "noise": 0.15, "seed": 1}, max_samples=20))
    assert m.verdict.status == "INCONCLUSIVE"
    assert "straddles" in m.verdict.reason and m.samples.count == 20
    if m.verdict.more_samples_hint is not None:
        assert "more samples would likely decide it" in m.verdict.reason


def test_inconclusive_when_out_of_time():
    ticks = iter(range(0, 10_000, 100))
    m = measure(crit(params={"true_ratio": 3.0, "noise": 0.15}, max_seconds=50),
                default_registry(), clock=lambda: float(next(ticks)))
    assert m.verdict.status == "INCONCLUSIVE" and len(m.looks) == 1
    # the last look spends all the error the skipped looks left: the full confidence
    assert m.look_confidence == pytest.approx(0.95)


def test_more_samples_hint_shrinks_as_the_estimate_moves_away():
    c = crit(comparator=">=", metric="synthetic.scalar")
    from ryot.verification.verdicts import Statistics
    near, _ = more_samples_hint(c, Statistics(3.05, 2.9, 3.2, 20, 0.1), "scalar", 0.95)
    far, _ = more_samples_hint(c, Statistics(3.3, 2.9, 3.7, 20, 0.1), "scalar", 0.95)
    assert near > far >= 1
    assert more_samples_hint(c, Statistics(3.0, 2.9, 3.1, 20, 0.1), "scalar", 0.95)[0] is None


def test_a_hint_beyond_ten_budgets_says_it_will_not_decide():
    c = crit(comparator=">=", metric="synthetic.scalar", max_samples=20)
    from ryot.verification.verdicts import Statistics
    hint, text = more_samples_hint(c, Statistics(3.001, 2.5, 3.5, 20, 0.1), "scalar", 0.95)
    assert hint is None and "will likely not decide within 200 samples" in text


@pytest.mark.parametrize("metric, params, fragment", [
    ("synthetic.cold", {"value": 5.0}, "warm-up was not reached"),
    ("synthetic.scalar", {"value": 5.0, "noise": 3.0}, "noise too high"),
])
def test_invalid_when_the_samples_cannot_support_a_decision(metric, params, fragment):
    m = run(crit(metric, params=params))
    assert m.verdict.status == "INVALID" and fragment in m.verdict.reason


def test_invalid_on_non_finite_or_too_few_samples():
    c = crit("synthetic.scalar")
    v = decide(c, Samples("scalar", values=[1.0] * 9 + [math.nan]), 0.95, budget_spent=True)
    assert v.status == "INVALID" and "NaN" in v.reason
    v = decide(c, Samples("scalar", values=[5.0] * 3), 0.95, budget_spent=True)
    assert v.status == "INVALID" and "too few samples: 3 < min_samples 10" in v.reason


def test_not_applicable_when_a_requirement_is_unmet_or_the_provider_says_so(monkeypatch):
    import ryot.verification.requirements as req

    monkeypatch.setitem(req.CHECKS, "cuda", lambda: "no CUDA device is available")
    m = run(crit("synthetic.scalar", requires=("cuda",)))
    assert m.verdict.status == "NOT_APPLICABLE" and "requires cuda" in m.verdict.reason
    m = run(crit("synthetic.not_applicable", params={"reason": "needs NVML"}))
    assert m.verdict.status == "NOT_APPLICABLE" and m.verdict.reason == "needs NVML"


def test_error_keeps_the_providers_message():
    m = run(crit("synthetic.error", params={"message": "disk on fire"}))
    assert m.verdict.status == "ERROR" and m.verdict.reason == "RuntimeError: disk on fire"
    assert "disk on fire" in m.error


def test_invalid_measurement_from_a_provider_is_invalid(monkeypatch):
    from ryot.measure.metric import InvalidMeasurement

    def undefined(n, params):
        raise InvalidMeasurement("nothing was saved, the share is undefined")

    monkeypatch.setattr("tests.verification.user_metrics.always_four", undefined)
    m = run(crit("user.metric", provider="tests.verification.user_metrics:always_four"))
    assert m.verdict.status == "INVALID" and "undefined" in m.verdict.reason


def test_suspicious_flags_a_too_good_result_without_failing_it():
    m = run(crit(params={"true_ratio": 12.0, "noise": 0.05}, expected_max=6.0))
    assert m.verdict.status == "PASS"
    assert "above expected_max 6" in m.verdict.suspicious


@pytest.mark.parametrize("comparator, kw, value, expected", [
    ("<=", {"threshold": 2.0}, 1.5, "PASS"),
    ("<=", {"threshold": 2.0}, 2.5, "FAIL"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 1.5, "PASS"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 2.5, "FAIL"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 0.5, "FAIL"),
    (">=", {"threshold": 2.0}, 2.0, "PASS"),
])
def test_comparators_on_exact_values(comparator, kw, value, expected):
    c = crit("synthetic.exact", comparator=comparator, params={"value": value}, **kw)
    assert run(c).verdict.status == expected


def test_between_straddling_is_inconclusive():
    c = crit("synthetic.scalar", comparator="between", threshold=None, min=0.9, max=1.0,
             params={"value": 1.0, "noise": 0.1}, max_samples=10)
    assert run(c).verdict.status == "INCONCLUSIVE"


def test_user_provider_by_module_function_reference():
    c = crit("user.metric", provider="tests.verification.user_metrics:always_four",
             comparator=">=", threshold=3.0)
    m = run(c)
    assert m.verdict.status == "PASS" and m.samples.kind == "scalar"


def test_metrics_from_installed_packages_via_entry_points(monkeypatch):
    from importlib import metadata

    from ryot.measure.metric import Metric
    from ryot.verification.registry import Registry

    class FakeEntryPoint:
        def __init__(self, name, value, target):
            self.name, self.value, self._target = name, value, target

        def load(self):
            if isinstance(self._target, Exception):
                raise self._target
            return self._target

    plugin_metric = Metric("acme.latency", "scalar", "ms", "from a plugin", lambda n, p: [1.0] * n)
    points = [FakeEntryPoint("acme.latency", "acme:metric", plugin_metric),
              FakeEntryPoint("acme.speed", "acme:speed", lambda n, p: [2.0] * n),
              FakeEntryPoint("acme.broken", "acme:broken", ImportError("no module named acme"))]
    monkeypatch.setattr(metadata, "entry_points", lambda group: points if group == "ryot.metrics" else [])
    registry = Registry()
    problems = registry.load_entry_points()
    assert "acme.latency" in registry and "acme.speed" in registry and "acme.broken" not in registry
    assert problems == ["entry point acme.broken = acme:broken: ImportError: no module named acme"]
    m = measure(crit("acme.speed", threshold=1.5, min_samples=6, max_samples=6), registry)
    assert m.verdict.status == "PASS"
