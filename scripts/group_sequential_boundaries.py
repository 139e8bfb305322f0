"""Exact group-sequential boundaries for ryot's look schedules, against the union bound it ships.

Monte Carlo over 4M Brownian paths (seed 0): for each look, the boundary that spends exactly the
O'Brien–Fleming-type increment given no earlier crossing, and the total error the shipped
union-bound confidences actually spend. ``python scripts/group_sequential_boundaries.py``;
figures in docs/statistics.md ("Sequential design").
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from ryot.stats import sequential

NORMAL = NormalDist()


def compare(min_samples: int, max_samples: int, paths: int = 4_000_000) -> str:
    schedule = sequential.look_schedule(min_samples, max_samples)
    t = np.array(schedule) / schedule[-1]
    shipped = sequential.look_confidences(0.95, schedule)
    rng = np.random.default_rng(0)
    steps = np.diff(np.concatenate(([0.0], t)))
    z = np.abs(np.cumsum(rng.normal(0, 1, (paths, t.size)) * np.sqrt(steps), axis=1) / np.sqrt(t))
    union = [NORMAL.inv_cdf(0.5 + c / 2) for c in shipped]
    spent_by_union = float(np.any(z > np.array(union), axis=1).mean())
    alive, exact = np.ones(paths, dtype=bool), []
    for k in range(t.size):
        target = sequential.spent(0.95, t[k]) - (sequential.spent(0.95, t[k - 1]) if k else 0.0)
        ranked = np.sort(z[alive, k])[::-1]
        count = int(round(target * paths))
        exact.append(float(ranked[count]) if count < ranked.size else 0.0)
        alive &= ~(z[:, k] > exact[-1])
    return (f"looks {schedule}: the union bound spends {spent_by_union:.4f} of 0.05; last look's "
            f"nominal error {1 - shipped[-1]:.5f} shipped, {2 * (1 - NORMAL.cdf(exact[-1])):.5f} "
            "exact")


if __name__ == "__main__":
    for budget in ((12, 48), (6, 24), (12, 96)):
        print(compare(*budget))
