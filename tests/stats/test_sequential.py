"""ryot.stats.sequential: the look schedule, error spending and how many more samples a
hint asks for."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from ryot.stats import sequential


def test_error_spending_sums_to_alpha():
    schedule = sequential.look_schedule(12, 48)
    assert schedule == [12, 24, 48]
    spent = sum(1 - c for c in sequential.look_confidences(0.95, schedule))
    assert spent == pytest.approx(0.05)
    assert sequential.closing_confidence(0.95, schedule, 0) == pytest.approx(0.95)


# -- found untested by the mutation run (``nox -s mutation``, issue #13) ---------------------------
# Each test checks a number against an independent oracle (a closed formula, an exact
# distribution, or a published value); the mutants it kills are what a wrong implementation
# of that number would look like. Fixed seeds throughout.
def obrien_fleming(confidence: float, t: float) -> float:
    """The module's documented spending function: 2 - 2 Phi(z_{alpha/2} / sqrt(t))."""
    alpha = 1.0 - confidence
    return 2.0 - 2.0 * NormalDist().cdf(NormalDist().inv_cdf(1.0 - alpha / 2.0) / math.sqrt(t))


@pytest.mark.mutation
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.999])
def test_error_spent_follows_the_obrien_fleming_function(confidence):
    alpha = 1.0 - confidence
    assert sequential.spent(confidence, 0.0) == 0.0  # nothing is spent before the first trial
    assert sequential.spent(confidence, 1.0) == alpha  # everything by the last look, exactly
    for t in (0.125, 0.25, 0.5, 0.9):
        assert sequential.spent(confidence, t) == pytest.approx(obrien_fleming(confidence, t),
                                                                rel=1e-12)


@pytest.mark.mutation
def test_the_schedule_halves_down_to_the_minimum_even_at_one_sample():
    assert sequential.look_schedule(1, 8) == [1, 2, 4, 8]
    assert sequential.look_schedule(2, 8) == [2, 4, 8]
    assert sequential.look_schedule(12, 48) == [12, 24, 48]


@pytest.mark.mutation
@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_a_run_stopped_by_time_spends_exactly_what_earlier_looks_left(index):
    """Stopping at look ``index`` (time budget spent): the earlier looks' errors plus the closing
    look's add up to 1 - confidence, no more (a wrong decision stays at most that likely)."""
    schedule = sequential.look_schedule(6, 48)
    assert schedule == [6, 12, 24, 48]
    earlier = sum(1.0 - c for c in sequential.look_confidences(0.95, schedule)[:index])
    closing = sequential.closing_confidence(0.95, schedule, index)
    assert earlier + (1.0 - closing) == pytest.approx(0.05, abs=1e-15)
    before = obrien_fleming(0.95, schedule[index - 1] / schedule[-1]) if index else 0.0
    assert closing == pytest.approx(1.0 - (0.05 - before), abs=1e-15)


# -- how many more samples a hint asks for ---------------------------------------------------------
def documented_hint(distance, half_width, n, look_confidence, confidence):
    """sequential.samples_to_decide as its docstring describes it: the standard error from the
    interval, shrinking like 1/sqrt(N); a final look at ``confidence`` less ~15% spent early;
    power 0.8; the safety factor."""
    z = NormalDist().inv_cdf
    spread = half_width / z(0.5 + look_confidence / 2) * math.sqrt(n)
    z_final = z(1.0 - (1.0 - confidence) * 0.85 / 2.0)
    return sequential.HINT_SAFETY * ((z_final + z(sequential.HINT_POWER)) * spread / distance) ** 2


@pytest.mark.mutation
@pytest.mark.parametrize("distance, half_width, n, look_confidence", [
    (0.05, 0.2, 24, 0.95), (0.01, 0.1, 2, 0.99), (0.3, 0.5, 12, 0.9)])
def test_a_hint_is_the_documented_sample_size(distance, half_width, n, look_confidence):
    need = documented_hint(distance, half_width, n, look_confidence, 0.95)
    assert need > n + 1
    assert sequential.samples_to_decide(distance, half_width, n, look_confidence,
                                        0.95) == math.ceil(need)


@pytest.mark.mutation
def test_a_hint_asks_for_at_least_one_more_sample():
    assert sequential.samples_to_decide(10.0, 0.01, 24, 0.95, 0.95) == 25


@pytest.mark.mutation
@pytest.mark.parametrize("distance, half_width, n", [
    (0.1, 0.0, 24), (0.0, 0.1, 24), (0.1, 0.1, 1), (math.inf, 0.1, 24), (0.1, math.inf, 24),
    (math.nan, 0.1, 24)])
def test_no_hint_when_the_inputs_cannot_say(distance, half_width, n):
    assert sequential.samples_to_decide(distance, half_width, n, 0.95, 0.95) is None


def test_an_estimate_a_hair_from_the_bound_needs_more_than_any_run_not_an_overflow():
    """Found by Hypothesis: distance 5e-191 squared its ratio past float's range (OverflowError
    out of decide)."""
    assert sequential.samples_to_decide(5.27e-191, 0.5, 6, 0.95, 0.95) == sequential.NEED_CAP
    assert sequential.samples_to_decide(1e-12, 0.5, 6, 0.95, 0.95) == sequential.NEED_CAP
