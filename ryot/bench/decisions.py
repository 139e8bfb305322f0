"""Decision quality of the engine: how often it is wrong, how often it decides, how much it samples.

Seeded streams of paired trials with a known true ratio (``truth``) are judged by the real
runner (:func:`ryot.verification.runner.measure`) against ``>= 3.0``, ``repetitions`` times per
cell, at the shipped default budget and confidence. Scenarios model what CI machines do:

* ``independent CV 5% / 20%`` — each arm lognormal, sigma 0.05 / 0.20;
* ``outliers baseline / candidate`` — CV 5%, and 5% of trials 3x slower on that arm;
* ``drift falls / rises`` — CV 5%, the candidate 0.5% slower (faster) per trial;
* ``AR(1) rho 0.5`` — CV 5% log-noise on each arm, autocorrelated trial to trial;
* ``shared load 10%`` — CV 5%, and a per-round factor (sigma 0.10) on both arms of a round.

A verdict is wrong when it is PASS and the truth fails the criterion, or FAIL and the truth
passes (a truth of exactly 3.0 passes ``>= 3.0``). In the drift scenarios no single ratio is
true, so every verdict other than INVALID counts as wrong. ``hints`` measures the other promise:
a fresh run given the ``max_samples`` an INCONCLUSIVE verdict suggests decides how often.
"""

from __future__ import annotations

import math

import numpy as np

from ryot.infra.provenance import fingerprint
from ryot.measure.metric import Metric
from ryot.measure.samples import Samples
from ryot.verification.criteria import BUILTIN_DEFAULTS, Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure

__all__ = [
    "SCENARIOS", "THRESHOLD", "TRUTH_OFFSETS", "criterion", "format_table", "run",
    "scenario_sampler", "wilson"
]

THRESHOLD = 3.0
TRUTH_OFFSETS = (-0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.05)
SCENARIOS = {
    "independent CV 5%": {"noise": 0.05},
    "independent CV 20%": {"noise": 0.20},
    "outliers baseline (5% of trials 3x)": {"noise": 0.05, "outliers": 0.05,
                                            "outlier_arm": "baseline"},
    "outliers candidate (5% of trials 3x)": {"noise": 0.05, "outliers": 0.05,
                                             "outlier_arm": "candidate"},
    "drift falls 0.5%/trial": {"noise": 0.05, "drift_per_trial": -0.005},
    "drift rises 0.5%/trial": {"noise": 0.05, "drift_per_trial": 0.005},
    "AR(1) rho 0.5": {"noise": 0.05, "ar1": 0.5},
    "shared load 10%": {"noise": 0.05, "shared_load": 0.10},
}


def _ar1(rng: np.random.Generator, n: int, rho: float, sigma: float,
         state: float) -> tuple[np.ndarray, float]:
    """n steps of a stationary AR(1) series with marginal sd sigma, continuing from state."""
    out = np.empty(n)
    innovation = sigma * math.sqrt(1 - rho * rho)
    for i in range(n):
        state = rho * state + rng.normal(0.0, innovation)
        out[i] = state
    return out, state


def scenario_sampler(n: int, params: dict) -> Samples:
    """Paired trials (numerator = baseline seconds, denominator = candidate seconds) whose
    nominal ratio is ``true_ratio``, with the noise of one scenario; seeded per call."""
    offset = int(params.get("_offset", 0))
    rng = np.random.default_rng([int(params["seed"]), offset])
    noise = params.get("noise", 0.05)
    if params.get("ar1"):
        state = params["ar_state"]  # one mutable dict per run: the series continues across calls
        base_noise, state["b"] = _ar1(rng, n, params["ar1"], noise,
                                      state.get("b", rng.normal(0, noise)))
        cand_noise, state["c"] = _ar1(rng, n, params["ar1"], noise,
                                      state.get("c", rng.normal(0, noise)))
    else:
        base_noise, cand_noise = rng.normal(0, noise, n), rng.normal(0, noise, n)
    baseline = params["true_ratio"] * np.exp(base_noise)
    candidate = np.exp(cand_noise)
    if params.get("drift_per_trial"):
        candidate = candidate * (1.0 - params["drift_per_trial"]) ** np.arange(offset, offset + n)
    if params.get("outliers"):
        hit = rng.random(n) < params["outliers"]
        arm = baseline if params["outlier_arm"] == "baseline" else candidate
        arm[hit] *= 3.0
    if params.get("shared_load"):
        load = np.exp(rng.normal(0, params["shared_load"], n))
        baseline, candidate = baseline * load, candidate * load
    return Samples("paired", numerator=baseline.tolist(), denominator=candidate.tolist())


def _registry() -> Registry:
    registry = Registry()
    registry.register(Metric("scenario.ratio", "paired", "x", "decision-quality scenario",
                             scenario_sampler))
    return registry


def criterion(truth: float, seed: int, scenario: dict, **budget) -> Criterion:
    fields = {k: BUILTIN_DEFAULTS[k]
              for k in ("confidence", "min_samples", "max_samples", "max_noise")}
    fields.update(budget)
    return Criterion(id="decision", metric="scenario.ratio", unit="x", comparator=">=",
                     threshold=THRESHOLD, description="decision-quality trial", max_seconds=1e9,
                     params={"true_ratio": truth, "seed": seed, "ar_state": {}, **scenario},
                     **fields)


def wilson(successes: int, trials: int) -> tuple[float, float]:
    from ryot.stats.intervals import wilson_interval

    if trials == 0:
        return (0.0, 1.0)
    ci = wilson_interval(successes, trials, 0.95)
    return (ci.low, ci.high)


def _cell(registry: Registry, scenario_name: str, truth: float, repetitions: int, **budget) -> dict:
    scenario = SCENARIOS[scenario_name]
    drifting = "drift_per_trial" in scenario
    counts = {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "INVALID": 0, "ERROR": 0}
    used = []
    for rep in range(repetitions):
        m = measure(criterion(truth, 1000 + rep, dict(scenario), **budget), registry)
        counts[m.verdict.status] += 1
        used.append(m.samples.count if m.samples else 0)
    if drifting:
        wrong = repetitions - counts["INVALID"]
    else:
        wrong = counts["FAIL"] if truth >= THRESHOLD else counts["PASS"]
    decided = counts["PASS"] + counts["FAIL"]
    low, high = wilson(wrong, repetitions)
    return {"scenario": scenario_name, "truth": truth, "repetitions": repetitions, "counts": counts,
            "wrong_rate": wrong / repetitions, "wrong_rate_ci95": [low, high],
            "decided_rate": decided / repetitions, "mean_samples": sum(used) / len(used),
            "label": f"{scenario_name}, truth {truth:g}", "unit": "fraction",
            "median": wrong / repetitions, "ci95": [low, high], "samples": used}


def _hint_rows(registry: Registry, repetitions: int) -> list[dict]:
    """Runs that end INCONCLUSIVE with a hint, followed: a fresh run with the suggested budget."""
    rows = []
    for offset in (-0.03, -0.02, 0.02, 0.03):
        truth = THRESHOLD * (1 + offset)
        scenario = SCENARIOS["independent CV 5%"]
        given = followed_decided = 0
        suggested = []
        for rep in range(repetitions):
            first = measure(criterion(truth, 5000 + rep, dict(scenario), max_samples=24), registry)
            hint = first.verdict.more_samples_hint
            if first.verdict.status != "INCONCLUSIVE" or hint is None:
                continue
            given += 1
            budget = first.samples.count + hint
            suggested.append(budget)
            again = measure(criterion(truth, 90_000 + rep, dict(scenario), max_samples=budget),
                            registry)
            followed_decided += again.verdict.status in ("PASS", "FAIL")
        rows.append({"truth": truth, "offset": offset, "hints_given": given,
                     "followed_decided": followed_decided,
                     "followed_decided_rate": followed_decided / given if given else None,
                     "median_suggested_max_samples":
                         float(np.median(suggested)) if suggested else None})
    return rows


def _small_n_rows(registry: Registry, repetitions: int) -> list[dict]:
    """A single look with very few samples, truth exactly at the threshold."""
    rows = []
    for n in (1, 2, 3, 5, 6, 8):
        counts = {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "INVALID": 0, "ERROR": 0}
        for rep in range(repetitions):
            m = measure(criterion(THRESHOLD, 7000 + rep, dict(SCENARIOS["independent CV 5%"]),
                                  min_samples=n, max_samples=n), registry)
            counts[m.verdict.status] += 1
        rows.append({"n": n, "counts": counts, "wrong_rate": counts["FAIL"] / repetitions})
    return rows


def run(repetitions: int = 400, scenarios: tuple[str, ...] | None = None,
        offsets: tuple[float, ...] = TRUTH_OFFSETS, hints: bool = True,
        regimes: bool = True) -> dict:
    registry = _registry()
    rows = [_cell(registry, name, THRESHOLD * (1 + off), repetitions)
            for name in (scenarios or tuple(SCENARIOS)) for off in offsets]
    budget = {k: BUILTIN_DEFAULTS[k] for k in ("confidence", "min_samples", "max_samples")}
    result = {"benchmark": "decisions", "criterion": f">= {THRESHOLD:g}", **budget,
              "repetitions": repetitions, **fingerprint(), "rows": rows}
    if hints:
        result["hints"] = _hint_rows(registry, repetitions)
        result["small_n"] = _small_n_rows(registry, repetitions)
    if regimes:  # the third-generation regimes: quantized, dependent, near zero, periodic, ...
        from ryot.bench import regimes as third

        result["regimes"] = third.rows(repetitions)
    return result


def format_table(result: dict) -> str:
    lines = ["| scenario | truth | wrong [95% CI] | decided | INVALID | mean samples |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lo, hi = r["wrong_rate_ci95"]
        offset = r["truth"] / THRESHOLD - 1
        lines.append(f"| {r['scenario']} | {offset:+.0%} | "
                     f"{r['wrong_rate']:.1%} [{lo:.1%}, {hi:.1%}] | "
                     f"{r['decided_rate']:.1%} | {r['counts']['INVALID'] / r['repetitions']:.1%} | "
                     f"{r['mean_samples']:.1f} |")
    if result.get("hints"):
        lines += ["", "| truth | INCONCLUSIVE with a hint | followed: decided "
                      "| median suggested max_samples |",
                  "|---|---|---|---|"]
        for h in result["hints"]:
            rate = ("—" if h["followed_decided_rate"] is None
                    else f"{h['followed_decided_rate']:.1%}")
            med = ("—" if h["median_suggested_max_samples"] is None
                   else f"{h['median_suggested_max_samples']:.0f}")
            lines.append(f"| {h['offset']:+.0%} | {h['hints_given']} | {rate} | {med} |")
    if result.get("small_n"):
        lines += ["", "| n (one look), truth at the threshold | PASS | FAIL (wrong) | INVALID |",
                  "|---|---|---|---|"]
        for s in result["small_n"]:
            c = s["counts"]
            lines.append(f"| {s['n']} | {c['PASS']} | {c['FAIL']} | {c['INVALID']} |")
    return "\n".join(lines)
