"""Sequential sampling: when to look at the data, and how much error each look may spend.

A run looks at its samples at counts halving back from ``max_samples`` to ``min_samples``
(:func:`look_schedule`). Each look may decide, so each spends part of the error budget
``alpha = 1 − confidence``. The split follows a Lan–DeMets error-spending function of the
information fraction ``t = n / max_samples``, O'Brien–Fleming type:
``spent(t) = 2 − 2·Phi(z_{alpha/2} / sqrt(t))`` — almost nothing early, most of it at the last
look, where the interval is narrowest. Look i runs at confidence
``1 − (spent(t_i) − spent(t_{i−1}))``; the increments sum to alpha, so by the union bound the
chance of any wrong decision across all looks is at most ``1 − confidence`` (conservative: it
ignores that looks are correlated).

Pure functions of the criterion's numbers: ``ryot verify`` derives the same schedule and
confidences from the criterion instead of trusting the report.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = [
    "HINT_MAX_FACTOR", "HINT_POWER", "HINT_SAFETY", "NEED_CAP", "closing_confidence",
    "look_confidences", "look_schedule", "samples_to_decide", "spent"
]

_NORMAL = NormalDist()


def look_schedule(min_samples: int, max_samples: int) -> list[int]:
    """Sample counts at which a sequential run looks: halving back from the maximum while the
    count stays at or above the minimum (so the last looks, which decide most, are far apart)."""
    top = max(1, max_samples)
    looks = [top]
    while (nxt := math.ceil(looks[-1] / 2)) >= max(1, min_samples) and nxt < looks[-1]:
        looks.append(nxt)
    return looks[::-1]


def spent(confidence: float, t: float) -> float:
    """O'Brien–Fleming-type error spent by information fraction t (0 < t <= 1)."""
    alpha = 1.0 - confidence
    if t >= 1.0:
        return alpha
    if t <= 0.0:
        return 0.0
    z = _NORMAL.inv_cdf(1.0 - alpha / 2.0)
    return min(alpha, 2.0 - 2.0 * _NORMAL.cdf(z / math.sqrt(t)))


def look_confidences(confidence: float, schedule: list[int]) -> list[float]:
    """The confidence of each look of ``schedule``; the spent errors sum to 1 − confidence."""
    last = schedule[-1]
    out, before = [], 0.0
    for n in schedule:
        now = spent(confidence, n / last)
        out.append(1.0 - max(now - before, 0.0))
        before = now
    return out


def closing_confidence(confidence: float, schedule: list[int], index: int) -> float:
    """The confidence of look ``index`` when it is the run's last (the time budget ran out):
    it may spend all the error the earlier looks left unspent."""
    before = spent(confidence, schedule[index - 1] / schedule[-1]) if index > 0 else 0.0
    return 1.0 - max((1.0 - confidence) - before, 0.0)


# -- how many more samples would likely decide -------------------------------------------------
HINT_POWER = 0.8
HINT_SAFETY = 2.0  # tuned by `ryot bench hints`: followed hints must decide >= 80% of runs
HINT_MAX_FACTOR = 10  # beyond this multiple of the budget a hint is "will not decide"
NEED_CAP = 10**18  # samples_to_decide's answer where the need is beyond any run (> 1e18)


def samples_to_decide(distance: float, half_width: float, n: int, look_confidence: float,
                      confidence: float) -> int | None:
    """Total samples a fresh run would need to decide with probability ~HINT_POWER.

    ``distance`` is |estimate − nearest bound| and ``half_width`` the interval's half-width at
    ``n`` samples and ``look_confidence``, on the same scale. The standard error shrinks like
    1/sqrt(n); a fresh run of N samples spends most of its error at its last look, so its final
    interval is about as wide as one at ``confidence`` less a small early spend. None when the
    inputs cannot say (no spread, or the estimate sits on the bound).
    """
    if n < 2 or distance <= 0 or half_width <= 0 or not math.isfinite(distance + half_width):
        return None
    se = half_width / _NORMAL.inv_cdf(0.5 + look_confidence / 2.0)
    spread = se * math.sqrt(n)
    z_final = _NORMAL.inv_cdf(1.0 - (1.0 - confidence) * 0.85 / 2.0)  # ~15% spent early
    z_power = _NORMAL.inv_cdf(HINT_POWER)
    ratio = (z_final + z_power) * spread / distance
    if ratio > 1e9:  # past any run's reach (and its square past float's range for tiny distances)
        return NEED_CAP
    need = HINT_SAFETY * ratio ** 2
    return int(math.ceil(max(need, n + 1)))
