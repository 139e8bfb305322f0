"""Decision quality of the engine: how often it is wrong, undecided, and how much it samples.

Synthetic paired providers with a known true ratio near the threshold (``>= 3.0``) are judged
``repetitions`` times each, with fresh seeds. A wrong verdict is PASS when the truth fails the
criterion or FAIL when it passes it (a truth of exactly 3.0 passes ``>= 3.0``). The goal is a
wrong-verdict rate of at most ``1 − confidence``.
"""

from __future__ import annotations

import math

from ..provenance import fingerprint
from ..verification.criteria import Criterion
from ..verification.metrics import default_registry
from ..verification.runner import measure


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def run(truths=(2.9, 3.0, 3.1), noises=(0.05, 0.15), repetitions: int = 200,
        threshold: float = 3.0, confidence: float = 0.95, min_samples: int = 10,
        max_samples: int = 80) -> dict:
    registry = default_registry()
    rows = []
    for noise in noises:
        for truth in truths:
            counts = {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "INVALID": 0}
            used = []
            for rep in range(repetitions):
                c = Criterion(id="decision", metric="synthetic.ratio", unit="x", comparator=">=",
                              threshold=threshold, description="decision-quality trial",
                              confidence=confidence, min_samples=min_samples,
                              max_samples=max_samples, max_seconds=1e9,
                              params={"true_ratio": truth, "noise": noise, "seed": 1000 + rep})
                m = measure(c, registry)
                counts[m.verdict.status] = counts.get(m.verdict.status, 0) + 1
                used.append(m.samples.count)
            truth_passes = truth >= threshold
            wrong = counts["FAIL"] if truth_passes else counts["PASS"]
            low, high = wilson_interval(wrong, repetitions)
            rows.append({"label": f"truth {truth:g}, noise {noise:.0%}", "truth": truth, "noise": noise,
                         "repetitions": repetitions, "counts": counts,
                         "wrong_rate": wrong / repetitions, "wrong_rate_ci95": [low, high],
                         "inconclusive_rate": counts["INCONCLUSIVE"] / repetitions,
                         "mean_samples": sum(used) / len(used),
                         "unit": "fraction", "median": wrong / repetitions, "ci95": [low, high],
                         "samples": used})
    return {"benchmark": "decisions", "criterion": f">= {threshold:g}", "confidence": confidence,
            "min_samples": min_samples, "max_samples": max_samples, **fingerprint(), "rows": rows}


def format_table(result: dict) -> str:
    lines = ["| true ratio | noise | wrong verdicts [95% CI] | INCONCLUSIVE | PASS / FAIL | mean samples |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lo, hi = r["wrong_rate_ci95"]
        lines.append(f"| {r['truth']:g} | {r['noise']:.0%} | {r['wrong_rate']:.1%} [{lo:.1%}, {hi:.1%}] | "
                     f"{r['inconclusive_rate']:.1%} | {r['counts']['PASS']} / {r['counts']['FAIL']} | "
                     f"{r['mean_samples']:.1f} |")
    return "\n".join(lines)
