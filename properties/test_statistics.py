"""Properties of the statistics behind every verdict (issue #13).

Named for what they protect. The engine's interval depends on the *order* of trials on purpose
(drift and autocorrelation are read from it), so the permutation property is stated for the
order-free interval functions of :mod:`ryot.stats.intervals`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ryot.measure.metric import Metric
from ryot.measure.samples import Samples
from ryot.stats import intervals as stats
from ryot.verification import report as report_module
from ryot.verification.criteria import CriteriaFile, Criterion
from ryot.verification.estimates import compute_statistics
from ryot.verification.registry import Registry
from ryot.verification.runner import measure
from ryot.verification.statuses import FAIL, PASS
from ryot.verification.verdicts import decide
from ryot.verification.verify import verify_report

positive = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
values = st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1,
                  max_size=60)
ratios = st.lists(positive, min_size=1, max_size=60)
confidences = st.floats(0.6, 0.999)


def paired_from(nums, dens):
    n = min(len(nums), len(dens))
    return Samples("paired", numerator=nums[:n], denominator=dens[:n])


@given(values, confidences)
def test_the_interval_contains_its_estimate(x, confidence):
    s = compute_statistics(Samples("scalar", values=x), confidence)
    assert s.low <= s.estimate <= s.high


@given(ratios, ratios, confidences)
def test_the_paired_interval_contains_its_estimate(nums, dens, confidence):
    s = compute_statistics(paired_from(nums, dens), confidence)
    assert s.low <= s.estimate * (1 + 1e-12) and s.estimate <= s.high * (1 + 1e-12)


@given(values, confidences, confidences)
def test_higher_confidence_never_narrows_the_interval(x, c1, c2):
    lo_c, hi_c = sorted((c1, c2))
    for interval in (stats.median_interval, stats.hodges_lehmann_interval):
        a, b = interval(x, lo_c), interval(x, hi_c)
        assert b.low <= a.low and a.high <= b.high
        assert b.coverage >= a.coverage


@given(ratios, ratios, positive, positive)
def test_scaling_both_arms_leaves_the_ratio_interval_unchanged(nums, dens, scale, _):
    base = compute_statistics(paired_from(nums, dens), 0.95)
    scaled = compute_statistics(paired_from([v * scale for v in nums], [v * scale for v in dens]),
                                0.95)
    for a, b in ((base.estimate, scaled.estimate), (base.low, scaled.low),
                 (base.high, scaled.high)):
        assert math.isclose(a, b, rel_tol=1e-9)


@given(values, confidences, st.randoms(use_true_random=False))
def test_permuting_samples_leaves_the_order_free_intervals_unchanged(x, confidence, rnd):
    shuffled = list(x)
    rnd.shuffle(shuffled)
    for interval in (stats.median_interval, stats.hodges_lehmann_interval):
        a, b = interval(x, confidence), interval(shuffled, confidence)
        assert (a.estimate, a.low, a.high) == (b.estimate, b.low, b.high)


def _criterion(comparator, threshold, n):
    return Criterion(id="p", metric="p", unit="x", comparator=comparator, threshold=threshold,
                     description="property", min_samples=1, max_samples=n)


@given(values, st.floats(-1e6, 1e6), st.floats(0, 1e6))
@example([0.0, 0.0, 0.0, -1.0, -1.0, -1.0549559481575436e-190], 0.0, 0.0)  # hint overflowed
def test_verdicts_are_monotone_in_the_threshold(x, threshold, looser_by):
    samples = Samples("scalar", values=x)
    for comparator, sign in ((">=", -1), ("<=", 1)):
        looser = threshold + sign * looser_by
        at = decide(_criterion(comparator, threshold, len(x)), samples, 0.95,
                    budget_spent=True).status
        loose = decide(_criterion(comparator, looser, len(x)), samples, 0.95,
                       budget_spent=True).status
        stricter = decide(_criterion(comparator, threshold - sign * looser_by, len(x)), samples,
                          0.95, budget_spent=True).status
        if at == PASS:
            assert loose == PASS
        if at == FAIL:
            assert stricter == FAIL


@given(st.lists(positive, min_size=1, max_size=50), st.sampled_from([">=", "<="]),
       st.floats(1e-3, 1e3), st.integers(1, 12), st.sampled_from(["scalar", "paired"]))
def test_verify_agrees_with_the_runner_on_any_samples(stream, comparator, threshold, min_samples,
                                                      kind):
    """Whatever a provider returns, the report the runner's verdict makes verifies."""
    assume(min_samples <= len(stream))

    def provider(n, params):
        got = stream[params["_offset"]: params["_offset"] + n]
        if kind == "scalar":
            return Samples("scalar", values=got)
        return Samples("paired", numerator=got, denominator=[1.0] * len(got))

    registry = Registry()
    registry.register(Metric("p", kind, "x", "property", provider))
    c = Criterion(id="p", metric="p", unit="x", comparator=comparator, threshold=threshold,
                  description="property", min_samples=min_samples, max_samples=len(stream),
                  max_seconds=86400)
    m = measure(c, registry)
    criteria = CriteriaFile(path="<property>", sha256="0" * 64, name="property", criteria=(c,))
    report = report_module.build(criteria, [m], started_at="t0", finished_at="t1", quick=False)
    assert verify_report(report) == [], m.verdict


@given(st.integers(1, 400), st.integers(0, 400), confidences)
def test_wilson_interval_stays_inside_zero_one_and_contains_the_rate(trials, successes, confidence):
    assume(successes <= trials)
    ci = stats.wilson_interval(successes, trials, confidence)
    assert 0.0 <= ci.low <= successes / trials <= ci.high <= 1.0


@given(st.integers(1, 60), confidences)
def test_reported_coverage_is_what_the_binomial_says(n, confidence):
    k, coverage = stats.median_rank(n, confidence)
    exact = 1.0 - 2.0 * sum(math.comb(n, j) for j in range(k)) / 2.0 ** n
    assert math.isclose(coverage, exact, rel_tol=1e-9, abs_tol=1e-12)
    if coverage >= confidence and k + 1 <= (n + 1) // 2:  # k is the tightest that still covers
        tighter = 1.0 - 2.0 * sum(math.comb(n, j) for j in range(k + 1)) / 2.0 ** n
        assert tighter < confidence
    assert np.isfinite(coverage)
