"""Promises of the verdict engine and the runner (ryot.verification.verdicts, .runner) that the
mutation run (``nox -s mutation``, issue #13) found untested: the exact reason of every path (it
is what a report shows), the statistics and SUSPICIOUS flag each verdict carries, the inclusive
bounds, the drift rules, the more-samples hint, and what the runner hands providers and keeps
when they fail. Deterministic data and fake clocks throughout."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ryot.measure.metric import InvalidMeasurement, Metric, NotApplicable
from ryot.measure.samples import Samples, paired_proportions, proportion
from ryot.stats import intervals as stats
from ryot.stats import sequential, stationarity
from ryot.verification import verdicts
from ryot.verification.criteria import Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure, quick_budget
from ryot.verification.verdicts import (
    Statistics,
    classify,
    compute_statistics,
    decide,
    more_samples_hint,
    suspicion,
)

FLAG_ALL = -1e300  # an expected_max every estimate exceeds: every verdict carries the flag


def crit(**kw) -> Criterion:
    base = dict(id="c", metric="m", unit="x", comparator=">=", description="d", threshold=3.0,
                min_samples=1, max_samples=48, expected_max=FLAG_ALL)
    base.update(kw)
    return Criterion(**base)


def paired(ratios) -> Samples:
    return Samples("paired", numerator=list(ratios), denominator=[1.0] * len(ratios))


def scalar(values) -> Samples:
    return Samples("scalar", values=list(values))


def interval_text(s: Statistics, confidence: float = 0.95) -> str:
    return f"{s.estimate:.4g} [{s.low:.4g}, {s.high:.4g}] at {confidence:.4g} confidence"


def check(c: Criterion, samples: Samples, *, budget_spent: bool, status, reason: str,
          confidence: float = 0.95, hint=None):
    """decide() gives this status and exactly this reason, and carries the statistics of the
    samples, the SUSPICIOUS flag and the hint."""
    v = decide(c, samples, confidence, budget_spent=budget_spent)
    assert (v.status, v.reason) == (status, reason)
    assert repr(v.statistics) == repr(compute_statistics(samples, confidence))  # nan-safe
    assert v.suspicious is not None and v.suspicious == suspicion(c, v.statistics.estimate)
    assert v.more_samples_hint == hint
    return v


def noisy(centre, sd, n, seed, slope=0.0):
    rng = np.random.default_rng(seed)
    return (centre + sd * rng.normal(size=n) + slope * np.arange(n)).tolist()


def ar1(n, phi, seed, centre=5.0):
    rng = np.random.default_rng(seed)
    state, out = 0.0, []
    for _ in range(n):
        state = phi * state + rng.normal()
        out.append(centre + state)
    return out


# -- every path of decide(), with its exact reason --------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_a_non_finite_estimate_is_invalid():
    check(crit(), scalar([1.7e308] * 6), budget_spent=True, status="INVALID",
          reason="the estimate is not finite (inf)")


@pytest.mark.parametrize("value, status, reason", [
    (1.5, "PASS", "exact value 1.5 is <= 2"),
    (2.0, "PASS", "exact value 2 is <= 2"),
    (2.5, "FAIL", "exact value 2.5 is outside <= 2"),
])
def test_exact_values_say_whether_they_are_inside(value, status, reason):
    check(crit(comparator="<=", threshold=2.0), Samples("exact", values=[value]), budget_spent=True,
          status=status, reason=reason)


@pytest.mark.parametrize("slope, word", [(0.4, "rises"), (-0.4, "falls")])
def test_a_drifting_value_is_invalid_and_says_which_way(slope, word):
    values = np.round(noisy(100.0, 0.5, 48, seed=0, slope=slope), 3)
    s = compute_statistics(scalar(values), 0.95)
    check(crit(threshold=50.0), scalar(values), budget_spent=True, status="INVALID",
          reason=f"not stationary: the value {word} {abs(s.drift):.1%} over 48 trials (Mann-Kendall "
                 f"p = {s.drift_p:.2g}); fix the drift (warm-up, thermal state, interleaving) and "
                 "measure again")


def test_a_weak_drift_that_could_flip_the_verdict_postpones_it():
    values = noisy(3.3, 0.05, 24, seed=0, slope=0.002)
    s = compute_statistics(scalar(values), 0.95)
    assert verdicts.DRIFT_ALPHA <= s.drift_p < verdicts.DRIFT_POSTPONE_P
    c = crit(threshold=3.25)
    check(c, scalar(values), budget_spent=False, status=None,
          reason=f"possible drift (Mann-Kendall p = {s.drift_p:.2g}) that could change the verdict: "
                 "taking more samples before deciding")
    check(c, scalar(values), budget_spent=True, status="PASS",
          reason=f"{interval_text(s)} is wholly >= 3.25")


def test_pass_fail_and_undecided_intervals():
    values = noisy(3.5, 0.05, 24, seed=3)
    s = compute_statistics(paired(values), 0.95)
    check(crit(), paired(values), budget_spent=False, status="PASS",
          reason=f"{interval_text(s)} is wholly >= 3")
    check(crit(threshold=4.0), paired(values), budget_spent=False, status="FAIL",
          reason=f"{interval_text(s)} is wholly outside >= 4")
    check(crit(threshold=3.5), paired(values), budget_spent=False, status=None,
          reason=f"{interval_text(s)} straddles >= 3.5")


def test_too_few_samples_names_the_coverage_reached():
    check(crit(), paired([4.0] * 5), budget_spent=True, status="INVALID",
          reason="too few samples for 0.95 confidence: the widest interval from 5 samples covers "
                 "only 0.9375")


def test_too_few_dependent_samples_names_the_effective_sample_size():
    values = ar1(12, 0.8, seed=0)
    s = compute_statistics(scalar(values), 0.95)
    assert s.effective_n < s.n and s.autocorrelation > 0
    check(crit(threshold=0.0), scalar(values), budget_spent=True, status="INVALID",
          reason=f"too few samples for 0.95 confidence: the widest interval from 12 samples "
                 f"(effective n {s.effective_n:.1f} of 12: lag-1 autocorrelation "
                 f"{s.autocorrelation:.2f}) covers only {s.coverage:.4g}")


def test_an_interval_whose_coverage_equals_the_confidence_decides():
    """Six pairs reach exactly 1 - 2/64 = 0.96875; asked for exactly that, the run decides."""
    v = decide(crit(), paired([4.0] * 6), 0.96875, budget_spent=True)
    assert v.status == "PASS" and v.statistics.coverage == 0.96875


def test_noise_too_high_to_decide():
    values = [1.0, 9.0] * 12
    s = compute_statistics(scalar(values), 0.95)
    check(crit(threshold=5.0, max_noise=0.5), scalar(values), budget_spent=True, status="INVALID",
          reason=f"noise too high to decide: relative spread (MAD) {s.relative_spread:.3g} > max_noise "
                 f"0.5 and {interval_text(s)} straddles >= 5")


def test_noise_exactly_at_max_noise_is_not_too_high():
    values = [1.0, 2.0, 3.0] * 4  # median 2, MAD 1: relative spread exactly 0.5
    s = compute_statistics(scalar(values), 0.95)
    assert s.relative_spread == 0.5
    check(crit(threshold=2.0, max_noise=0.5, max_samples=12), scalar(values), budget_spent=True,
          status="INCONCLUSIVE", reason=f"{interval_text(s)} straddles >= 2 after 12 samples")


def test_inconclusive_carries_the_hint_it_names():
    values = noisy(3.05, 0.1, 24, seed=4)
    s = compute_statistics(scalar(values), 0.95)
    c = crit(max_samples=100)
    hint, text = more_samples_hint(c, s, "scalar", 0.95)
    assert hint is not None and text == (f"; about {hint} more samples (max_samples {hint + 24}) "
                                         "would likely decide it")
    check(c, scalar(values), budget_spent=True, status="INCONCLUSIVE",
          reason=f"{interval_text(s)} straddles >= 3 after 24 samples{text}", hint=hint)


def test_proportions_are_inconclusive_without_a_hint():
    samples = proportion(9, 100)
    s = compute_statistics(samples, 0.95)
    assert (s.n, s.relative_spread) == (100, 0.0)
    check(crit(threshold=0.05), samples, budget_spent=True, status="INCONCLUSIVE",
          reason=f"{interval_text(s)} straddles >= 0.05 after 100 samples")


# -- what makes samples unusable ----------------------------------------------------------------------
@pytest.mark.parametrize("samples, reason", [
    (paired([4.0] * 3), "too few samples: 3 < min_samples 6"),
    (scalar([4.0] * 5 + [math.inf]), "the samples include NaN or infinite values"),
    (Samples("scalar", values=[4.0] * 8, warmup_reached=False),
     "the provider reports its warm-up was not reached"),
    (Samples("paired", numerator=[4.0, -1.0, -2.0, 4.0, -3.0, 4.0], denominator=[1.0] * 6),
     "a ratio needs positive values in both arms: numerator[1] = -1 (and 2 more)"),
    (Samples("paired", numerator=[4.0] * 6, denominator=[1.0, 1.0, 0.0, 1.0, 1.0, 1.0]),
     "a ratio needs positive values in both arms: denominator[2] = 0"),
    (Samples("paired", numerator=[4.0] * 6, denominator=[1.0, 1.0, 0.0, 1.0, -1.0, 1.0]),
     "a ratio needs positive values in both arms: denominator[2] = 0 (and 1 more)"),
    (paired_proportions(0, 0, 5, 5, statistic="ratio"),
     "a ratio of accuracies needs a baseline that got at least one item right"),
])
def test_unusable_samples_are_invalid_saying_why(samples, reason):
    v = decide(crit(min_samples=6), samples, 0.95, budget_spent=True)
    assert (v.status, v.reason, v.statistics) == ("INVALID", reason, None)


@pytest.mark.parametrize("table, statistic", [((3, 3, 5, 1), "ratio"), ((0, 0, 5, 5), "difference")])
def test_paired_proportions_with_a_usable_table_are_judged(table, statistic):
    samples = paired_proportions(*table, statistic=statistic)
    v = decide(crit(threshold=0.5, min_samples=6), samples, 0.95, budget_spent=True)
    assert v.status in ("PASS", "FAIL", "INCONCLUSIVE")
    assert v.statistics.n == sum(table) and v.statistics.relative_spread == 0.0


# -- the statistics a verdict carries -------------------------------------------------------------------
def test_exact_statistics():
    s = compute_statistics(Samples("exact", values=[0.5, 0.09]), 0.95)
    assert s == Statistics(0.09, None, None, 2, 0.0)
    assert s.to_dict() == {"estimate": 0.09, "ci_low": None, "ci_high": None, "n": 2,
                           "relative_spread": 0.0}


def test_scalar_statistics_use_the_effective_sample_size():
    values = ar1(48, 0.7, seed=5)
    x = np.asarray(values)
    s = compute_statistics(scalar(values), 0.95)
    rho = stationarity.lag1_autocorrelation(x)
    n_eff = stationarity.effective_n(48, rho)
    ci = stats.median_interval(x, 0.95, effective_n=n_eff)
    t = stationarity.trend(x)
    assert rho > 0.3 and n_eff < 20
    assert s == Statistics(ci.estimate, ci.low, ci.high, 48, stats.relative_spread(x), ci.coverage,
                           n_eff, rho, t.slope * 47 / abs(ci.estimate), t.p_value, None)
    assert s.to_dict() == {"estimate": s.estimate, "ci_low": s.low, "ci_high": s.high, "n": 48,
                           "relative_spread": s.relative_spread, "coverage": s.coverage,
                           "effective_n": n_eff, "autocorrelation": rho, "drift": s.drift,
                           "drift_p": s.drift_p}


def test_paired_statistics_set_gross_outliers_aside():
    ratios = noisy(3.0, 0.03, 30, seed=6)
    ratios[4], ratios[17] = 9.0, 12.0  # two trials 3-4x slow on one arm
    x = np.round(np.log(ratios), 10)
    s = compute_statistics(paired(ratios), 0.95)
    rho = stationarity.lag1_autocorrelation(x)
    kept = stats.without_gross_outliers(x, verdicts.OUTLIER_MADS)
    ci = stats.hodges_lehmann_interval(kept, 0.95, effective_n=stationarity.effective_n(28, rho))
    assert s.outliers == 2 and s.to_dict()["outliers"] == 2
    assert (s.estimate, s.low, s.high, s.coverage) == (math.exp(ci.estimate), math.exp(ci.low),
                                                         math.exp(ci.high), ci.coverage)
    assert s.relative_spread == stats.mad(x)
    assert s.drift == math.expm1(stationarity.trend(x).slope * 29)
    assert s.effective_n == stationarity.effective_n(30, rho)


def test_paired_statistics_of_an_autocorrelated_series_are_wider():
    ratios = [3.0 * math.exp(0.05 * (v - 5.0)) for v in ar1(40, 0.8, seed=7)]
    s = compute_statistics(paired(ratios), 0.95)
    x = np.round(np.log(ratios), 10)
    independent = stats.hodges_lehmann_interval(x, 0.95)
    assert s.autocorrelation > 0.3
    assert s.low < math.exp(independent.low) and math.exp(independent.high) < s.high


@pytest.mark.parametrize("values, drift", [
    ([0.0] * 12, 0.0),                          # no trend around a zero median: no drift
    ([float(i) for i in range(-6, 7)], math.inf),  # a trend around a zero median: unbounded
    ([10.0 + 0.5 * i for i in range(12)], 0.5 * 11 / 12.75),
])
def test_scalar_drift_is_relative_to_the_median(values, drift):
    assert compute_statistics(scalar(values), 0.95).drift == drift


def test_proportion_statistics_report_their_trials():
    s = compute_statistics(paired_proportions(5, 2, 3, 1), 0.95)
    assert (s.n, s.relative_spread) == (11, 0.0)


# -- bounds are inclusive -----------------------------------------------------------------------------
@pytest.mark.parametrize("comparator, kw, low, high, expected", [
    (">=", {"threshold": 2.0}, 2.0, 3.0, "PASS"),
    (">=", {"threshold": 2.0}, 1.0, 2.0, None),   # touching the bound is not wholly outside
    (">=", {"threshold": 2.0}, 1.0, 1.5, "FAIL"),
    ("<=", {"threshold": 2.0}, 1.0, 2.0, "PASS"),
    ("<=", {"threshold": 2.0}, 2.0, 3.0, None),
    ("<=", {"threshold": 2.0}, 1.0, 3.0, None),
    ("<=", {"threshold": 2.0}, 2.5, 3.0, "FAIL"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 1.0, 1.5, "PASS"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 1.5, 2.0, "PASS"),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 0.5, 1.0, None),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 2.0, 2.5, None),
    ("between", {"threshold": None, "min": 1.0, "max": 2.0}, 2.1, 2.5, "FAIL"),
])
def test_classify_bounds_are_inclusive(comparator, kw, low, high, expected):
    assert classify(crit(comparator=comparator, **kw), low, high) == expected


@pytest.mark.parametrize("kw, estimate, flag", [
    ({"expected_max": 6.0}, 6.0, None),
    ({"expected_max": 6.0}, 6.5, "estimate 6.5 is above expected_max 6: a result this good often "
                                 "means a broken baseline"),
    ({"expected_max": None, "expected_min": 2.0}, 2.0, None),
    ({"expected_max": None, "expected_min": 2.0}, 1.5, "estimate 1.5 is below expected_min 2"),
])
def test_suspicion_is_outside_the_expected_range_only(kw, estimate, flag):
    assert suspicion(crit(**kw), estimate) == flag


# -- drift rules ----------------------------------------------------------------------------------------
def stat(estimate, low, high, drift, drift_p):
    return Statistics(estimate, low, high, 24, 0.01, 0.99, 24.0, 0.0, drift, drift_p, None)


@pytest.mark.parametrize("kind, s, expected", [
    # scalar: the drift is relative; 4 x |drift| x estimate widens both ends
    ("scalar", stat(12.0, 11.0, 13.0, 0.01, 0.3), False),  # 11 - 0.48 stays >= 10
    ("scalar", stat(12.0, 11.0, 13.0, 0.03, 0.3), True),   # 11 - 1.44 falls below 10
    # paired: 4 x |log(1 + drift)| widens the interval of the ratio multiplicatively
    ("paired", stat(3.6, 3.3, 3.9, 0.01, 0.3), False),
    ("paired", stat(3.6, 3.3, 3.9, 0.03, 0.3), True),
    ("paired", stat(3.6, 3.3, 3.9, 0.03, verdicts.DRIFT_POSTPONE_P), False),  # p must be below
    ("paired", stat(3.6, 3.3, 3.9, 0.5, 0.9), False),
    ("paired", stat(3.6, 3.3, 3.9, 0.5, None), False),
])
def test_a_weak_drift_postpones_only_when_it_could_flip_a_pass(kind, s, expected):
    c = crit(threshold=10.0 if kind == "scalar" else 3.0)
    assert verdicts._drift_could_flip(c, Samples(kind), s) is expected


@pytest.mark.parametrize("kind, s, expected", [
    ("scalar", stat(12.0, 11.0, 13.0, 0.01, 0.3), False),
    ("scalar", stat(12.0, 11.0, 13.0, 0.03, 0.3), True),  # 13 + 1.44 rises above 14
    ("paired", stat(3.6, 3.3, 3.9, 0.01, 0.3), False),
    ("paired", stat(3.6, 3.3, 3.9, 0.03, 0.3), True),
])
def test_a_weak_drift_postpones_only_when_it_could_flip_a_pass_below(kind, s, expected):
    c = crit(comparator="<=", threshold=14.0 if kind == "scalar" else 4.2)
    assert verdicts._drift_could_flip(c, Samples(kind), s) is expected


def test_an_undecided_proportion_is_not_postponed_for_drift():
    """A proportion has no trial order, so no drift: undecided, it straddles (the runner then
    judges it at its one look)."""
    v = decide(crit(threshold=0.05), proportion(9, 100), 0.95, budget_spent=False)
    assert v.status is None and v.reason.endswith("straddles >= 0.05")


@pytest.mark.parametrize("kind, drift, p, problem", [
    # scalar: |drift| x estimate against the half-width (here 1.0)
    ("scalar", 0.1, 0.001, False),                     # exactly the half-width: not more
    ("scalar", 0.11, 0.001, True),
    ("scalar", 0.5, verdicts.DRIFT_ALPHA, False),      # p must be below alpha
    # paired: |log(1 + drift)| against the half-width on the log scale (here 0.1)
    ("paired", math.expm1(0.09), 0.001, False),
    ("paired", math.expm1(0.11), 0.001, True),
])
def test_drift_is_a_problem_when_significant_and_larger_than_the_half_width(kind, drift, p, problem):
    s = stat(10.0, 9.0, 11.0, drift, p) if kind == "scalar" else \
        stat(3.0, 3.0 * math.exp(-0.1), 3.0 * math.exp(0.1), drift, p)
    assert (verdicts._drift_problem(Samples(kind), s, verdicts.DRIFT_ALPHA) is not None) is problem


# -- the more-samples hint ------------------------------------------------------------------------------
def test_a_paired_hint_is_the_scalar_hint_on_the_log_scale():
    s = Statistics(3.3, 3.0, 3.6, 20, 0.1)
    logged = Statistics(math.log(3.3), math.log(3.0), math.log(3.6), 20, 0.1)
    hint = more_samples_hint(crit(threshold=3.1, max_samples=1000), s, "paired", 0.95)
    assert hint[0] is not None
    assert hint == more_samples_hint(crit(threshold=math.log(3.1), max_samples=1000), logged,
                                     "scalar", 0.95)
    # a ratio bound of 0.9 is fine; a bound at or below 0 has no logarithm: no hint
    assert more_samples_hint(crit(threshold=0.9, max_samples=1000), Statistics(0.95, 0.8, 1.1, 20, 0.1),
                             "paired", 0.95)[0]
    assert more_samples_hint(crit(threshold=0.0), s, "paired", 0.95) == (None, "")


@pytest.mark.parametrize("kind", ["proportion", "paired_proportions", "exact"])
def test_no_hint_for_one_shot_measurements(kind):
    assert more_samples_hint(crit(threshold=0.05), Statistics(0.09, 0.04, 0.16, 100, 0.0), kind,
                             0.95) == (None, "")


def test_no_hint_on_the_bound():
    assert more_samples_hint(crit(), Statistics(3.0, 2.9, 3.1, 20, 0.1), "scalar", 0.95) == (None, "")


def test_a_far_estimate_needs_one_more_sample():
    assert more_samples_hint(crit(), Statistics(3.5, 3.4, 3.6, 20, 0.1), "scalar", 0.95) == \
        (1, "; about 1 more samples (max_samples 21) would likely decide it")


def test_the_hint_scales_from_effective_to_real_samples():
    s = Statistics(3.2, 2.9, 3.5, 20, 0.1, effective_n=2.5)
    need_eff = sequential.samples_to_decide(0.2, 0.3, 2, 0.95, 0.95)
    total = math.ceil(need_eff * 20 / 2.5)
    c = crit(max_samples=10_000)
    assert more_samples_hint(c, s, "scalar", 0.95) == (
        total - 20, f"; about {total - 20} more samples (max_samples {total}) would likely decide it")


def test_the_hint_limit_is_ten_budgets_but_at_most_100000_samples():
    hopeless = Statistics(3.0001, 2.5, 3.5, 20, 0.1)
    assert more_samples_hint(crit(max_samples=20_000), hopeless, "scalar", 0.95) == (
        None, "; it will likely not decide within 100000 samples (the value is too close to the "
              "bound for this noise)")


def test_a_hint_of_exactly_the_limit_is_still_given():
    """limit = 10 x max_samples = 200: a run needing exactly 200 samples gets the hint."""
    z = sequential._NORMAL.inv_cdf
    spread = 0.3 / z(0.975) * math.sqrt(20)
    factor = z(1 - 0.05 * 0.85 / 2) + z(sequential.HINT_POWER)
    distance = factor * spread * math.sqrt(sequential.HINT_SAFETY / 199.5)
    s = Statistics(3.0 + distance, 2.7 + distance, 3.3 + distance, 20, 0.1)
    assert more_samples_hint(crit(max_samples=20), s, "scalar", 0.95)[0] == 180


# -- the runner ------------------------------------------------------------------------------------------
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
    assert seen == [{"scale": 2, "_offset": o, "_quick": quick, "_workload": workload} for o in (0, 6, 12)]


def test_progress_is_reported_against_the_budget_or_the_one_shot_count():
    calls = []
    measure(crit(min_samples=6, max_samples=24), registry_of(undecided),
            on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(6, 24), (12, 24), (24, 24)]
    calls.clear()
    measure(crit(min_samples=6, max_samples=24), registry_of(lambda n, p: 4.0, kind="exact"),
            on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]


def test_samples_of_another_kind_than_the_metric_declares_are_an_error():
    m = measure(crit(min_samples=6, max_samples=24), registry_of(lambda n, p: [4.0] * n, kind="paired"))
    assert m.verdict.status == "ERROR"
    assert m.verdict.reason == "ConfigError: the metric declares paired samples but its provider returned scalar"


def test_the_hard_time_limit_counts_the_time_already_spent():
    """Past the criterion's timeout_seconds when a look starts: that call is not made."""
    m = measure(crit(min_samples=6, max_samples=24, timeout_seconds=10.0), registry_of(undecided),
                clock=Ticks(100.0))
    assert m.verdict.status == "ERROR" and m.verdict.reason.startswith("timed out after 10 s")
    assert (m.samples, m.looks) == (None, [])


def test_a_run_ends_only_after_its_time_budget_is_exceeded():
    """At exactly max_seconds the run takes its next look; past it, the look it is at closes the
    run with the error the skipped looks left."""
    c = crit(min_samples=6, max_samples=24, max_seconds=50.0, expected_max=None)
    m = measure(c, registry_of(undecided), clock=Ticks(25.0))  # elapsed 50 after look 1, 100 after 2
    schedule = sequential.look_schedule(6, 24)
    assert m.looks == [6, 12] and m.verdict.status == "INCONCLUSIVE"
    assert m.look_confidence == sequential.closing_confidence(0.95, schedule, 1)
    assert m.elapsed_s == 125.0


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


def test_the_traceback_kept_for_an_error_is_five_frames():
    def deep(k):
        if k == 0:
            raise RuntimeError("deep down")
        return deep(k - 1)

    m = measure(crit(min_samples=6, max_samples=24), registry_of(lambda n, p: deep(12)))
    assert m.verdict.reason == "RuntimeError: deep down"
    assert m.error.count('File "') == 5


@pytest.mark.parametrize("kw, budget", [
    ({"min_samples": 12, "max_samples": 48, "max_seconds": 120.0}, (12, 30.0)),
    ({"min_samples": 2, "max_samples": 50, "max_seconds": 10.0}, (12, 2.5)),
    ({"min_samples": 20, "max_samples": 48, "max_seconds": 2.0}, (20, 1.0)),
])
def test_quick_is_a_quarter_of_the_budget_never_below_the_minimum(kw, budget):
    q = quick_budget(crit(**kw))
    assert (q.max_samples, q.max_seconds) == budget and isinstance(q.max_samples, int)
