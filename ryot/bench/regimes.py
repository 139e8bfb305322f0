"""The regimes the third-generation engine was built for, judged by the real runner.

Part of ``ryot bench decisions`` (:mod:`ryot.bench.decisions`); each cell runs ``repetitions``
seeded runs at the shipped defaults and counts wrong verdicts, decided runs, INVALID runs and
how often the final interval covers the truth:

* ``quantized paired (1 ms clock)`` — candidate 2.3 ms, baseline 2.3 ms × ratio, 3% jitter per
  arm, each time rounded to the millisecond; ``>= 3.0``;
* ``quantized scalar (1 ms clock)`` — 2.3 ms × (1 + offset), 3% jitter, rounded; ``<= 2.3 ms``;
* ``AR(1) rho 0.8`` — paired, 5% log-noise per arm, autocorrelated trial to trial; ``>= 3.0``;
* ``near zero`` — scalar N(offset, 1) against ``<= 0`` (offsets in standard deviations);
* ``periodic`` — paired, every 7th candidate trial 1.5x slower (GC aliasing), once with
  ``estimand`` typical (truth: the pseudo-median of the per-pair log ratios, computed from a
  million draws) and once with ``mean`` (truth: the ratio of mean times);
* ``breaks 1%, fixes none`` — paired proportions, baseline accuracy 0.8, the candidate breaks
  1% of the items it gets right and fixes none: ``difference >= 0`` is false (truth −0.008);
* :func:`threshold_grid` — every paired trial exactly at the threshold, for 451 thresholds
  0.50–5.00, ``>=`` and ``<=``: a value on its bound must never FAIL.
"""

from __future__ import annotations

import math

import numpy as np

from ryot.measure.metric import Metric
from ryot.measure.samples import Samples, paired_proportions
from ryot.verification.criteria import BUILTIN_DEFAULTS, Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure
from ryot.verification.verdicts import decide

__all__ = ["OFFSETS", "REGIMES", "cell", "dependence_coverage", "format_table",
           "proportions_cells", "rows", "run", "threshold_grid"]

OFFSETS = (-0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.05)
NEAR_ZERO_OFFSETS = (-0.5, -0.2, -0.1, 0.0, 0.1, 0.2, 0.5)  # in standard deviations
PERIOD, SLOW = 7, 1.5


def _rng(params: dict) -> np.random.Generator:
    return np.random.default_rng([int(params["seed"]), int(params.get("_offset", 0))])


def _quantized_paired(n: int, params: dict) -> Samples:
    rng = _rng(params)
    candidate = 2.3e-3 * np.exp(rng.normal(0, 0.03, n))
    baseline = 2.3e-3 * params["truth"] * np.exp(rng.normal(0, 0.03, n))
    tick = 1e-3
    return Samples("paired", numerator=(np.round(baseline / tick) * tick).tolist(),
                   denominator=(np.round(candidate / tick) * tick).tolist())


def _quantized_scalar(n: int, params: dict) -> Samples:
    values = params["truth"] * np.exp(_rng(params).normal(0, 0.03, n))
    return Samples("scalar", values=np.round(values).tolist())  # milliseconds, 1 ms clock


def _ar1_paired(n: int, params: dict) -> Samples:
    rng, state = _rng(params), params["ar_state"]
    arms = []
    for arm in ("b", "c"):
        x = state.get(arm, rng.normal(0, 0.05))
        out = np.empty(n)
        for i in range(n):
            x = 0.8 * x + rng.normal(0, 0.05 * math.sqrt(1 - 0.64))
            out[i] = x
        state[arm] = x
        arms.append(np.exp(out))
    return Samples("paired", numerator=(params["truth"] * arms[0]).tolist(),
                   denominator=arms[1].tolist())


def _near_zero(n: int, params: dict) -> Samples:
    return Samples("scalar", values=(params["truth"] + _rng(params).normal(0, 1, n)).tolist())


def _periodic_candidate(n: int, offset: int, rng: np.random.Generator) -> np.ndarray:
    slow = np.where((np.arange(offset, offset + n) % PERIOD) == PERIOD - 1, SLOW, 1.0)
    return np.exp(rng.normal(0, 0.05, n)) * slow


def _periodic(n: int, params: dict) -> Samples:
    rng = _rng(params)
    baseline = params["base_ratio"] * np.exp(rng.normal(0, 0.05, n))
    candidate = _periodic_candidate(n, int(params.get("_offset", 0)), rng)
    return Samples("paired", numerator=baseline.tolist(), denominator=candidate.tolist())


def _breaks(n: int, params: dict) -> Samples:
    rng = _rng(params)
    items = int(params["items"])
    baseline_right = rng.random(items) < 0.8
    broken = baseline_right & (rng.random(items) < 0.01)
    both = int(np.sum(baseline_right & ~broken))
    return paired_proportions(both, int(broken.sum()), 0, items - both - int(broken.sum()),
                              statistic="difference")


def _periodic_truths(threshold: float) -> tuple[float, float]:
    """(pseudo-median, ratio of means) of the periodic regime at base ratio 1."""
    rng = np.random.default_rng(7)
    n = 1_000_000
    logs = rng.normal(0, 0.05, n) - np.log(_periodic_candidate(n, 0, rng))
    pairs = rng.integers(0, n, size=(2, n))
    pseudo_median = float(np.exp(np.median((logs[pairs[0]] + logs[pairs[1]]) / 2)))
    mean_ratio = float(np.exp(0.05 ** 2 / 2) / (np.exp(0.05 ** 2 / 2) * (PERIOD - 1 + SLOW)
                                                  / PERIOD))
    return pseudo_median, mean_ratio


# name -> (sampler, kind, unit, comparator, threshold, truth offsets, extra criterion fields)
REGIMES = {
    "quantized paired (1 ms clock)": (_quantized_paired, "paired", "x", ">=", 3.0, OFFSETS, {}),
    "quantized scalar (1 ms clock)": (_quantized_scalar, "scalar", "ms", "<=", 2.3, OFFSETS, {}),
    "AR(1) rho 0.8": (_ar1_paired, "paired", "x", ">=", 3.0, OFFSETS, {}),
    "near zero": (_near_zero, "scalar", "x", "<=", 0.0, NEAR_ZERO_OFFSETS, {}),
    "periodic, estimand typical": (_periodic, "paired", "x", ">=", 3.0, OFFSETS,
                                   {"estimand": "typical"}),
    "periodic, estimand mean": (_periodic, "paired", "x", ">=", 3.0, OFFSETS,
                                {"estimand": "mean"}),
}


def _registry(sampler, kind: str, unit: str) -> Registry:
    registry = Registry()
    registry.register(Metric("regime", kind, unit, "a third-generation regime", sampler))
    return registry


def _criterion(comparator: str, threshold: float, unit: str, params: dict, **extra) -> Criterion:
    fields = {k: BUILTIN_DEFAULTS[k]
              for k in ("confidence", "min_samples", "max_samples", "max_noise")}
    return Criterion(id="regime", metric="regime", unit=unit, comparator=comparator,
                     threshold=threshold, description="regime trial", max_seconds=1e9,
                     params=params, **fields, **extra)


def _tally(name: str, truth: float, passes: bool, results: list, label_truth: float) -> dict:
    counts = {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "INVALID": 0, "ERROR": 0}
    covered = judged = 0
    for status, low, high in results:
        counts[status] += 1
        if low is not None and high is not None:
            judged += 1
            covered += low <= truth <= high
    reps = len(results)
    wrong = counts["FAIL"] if passes else counts["PASS"]
    return {"regime": name, "truth": label_truth, "true_value": truth, "repetitions": reps,
            "counts": counts, "wrong_rate": wrong / reps,
            "decided_rate": (counts["PASS"] + counts["FAIL"]) / reps,
            "invalid_rate": counts["INVALID"] / reps,
            "coverage": covered / judged if judged else None}


def cell(name: str, offset: float, repetitions: int) -> dict:
    """One regime at one truth: ``repetitions`` seeded runs through the real runner."""
    sampler, kind, unit, comparator, threshold, _, extra = REGIMES[name]
    registry = _registry(sampler, kind, unit)
    if name.startswith("periodic"):
        pseudo_median, mean_ratio = _periodic_truths(threshold)
        base = threshold * (1 + offset) / (mean_ratio if extra["estimand"] == "mean"
                                           else pseudo_median)
        truth = threshold * (1 + offset)
        params = {"base_ratio": base}
    elif name == "near zero":
        truth, params = offset, {"truth": offset}
    else:
        truth = threshold * (1 + offset)
        params = {"truth": truth}
    passes = truth >= threshold if comparator == ">=" else truth <= threshold
    results = []
    for rep in range(repetitions):
        c = _criterion(comparator, threshold, unit,
                       {**params, "seed": 3000 + rep, "ar_state": {}}, **extra)
        v = measure(c, registry).verdict
        s = v.statistics
        results.append((v.status, s.low if s else None, s.high if s else None))
    return _tally(name, truth, passes, results, offset)


def proportions_cells(repetitions: int, sizes=(50, 100, 1000)) -> list[dict]:
    """``breaks 1%, fixes none`` against ``difference >= 0`` (false: truth 0.8 × −1%)."""
    registry = _registry(_breaks, "paired_proportions", "fraction")
    out = []
    for items in sizes:
        results = []
        for rep in range(repetitions):
            c = _criterion(">=", 0.0, "fraction", {"items": items, "seed": 4000 + rep})
            v = measure(c, registry).verdict
            s = v.statistics
            results.append((v.status, s.low if s else None, s.high if s else None))
        row = _tally(f"breaks 1%, fixes none, n = {items}", -0.008, False, results, -0.008)
        out.append(row)
    return out


def dependence_coverage(rhos=(0.0, 0.3, 0.5, 0.8), runs: int = 1000, n: int = 48) -> list[dict]:
    """Coverage of the reported 95% interval at one look of ``n`` paired trials whose log
    ratios follow AR(1) with lag-1 correlation rho (sd 0.07), and the mean rho estimate."""
    from ryot.verification.estimates import compute_statistics

    out = []
    for rho in rhos:
        rng = np.random.default_rng(int(rho * 100) + 17)
        covered, estimates = 0, []
        for _ in range(runs):
            x, state = np.empty(n), rng.normal(0, 0.07)
            for i in range(n):
                state = rho * state + rng.normal(0, 0.07 * math.sqrt(1 - rho * rho))
                x[i] = state
            den = np.exp(rng.normal(0, 0.05, n))
            s = compute_statistics(Samples("paired", numerator=(3.0 * den * np.exp(x)).tolist(),
                                           denominator=den.tolist()), 0.95)
            covered += s.low <= 3.0 <= s.high
            estimates.append(s.autocorrelation)
        out.append({"rho": rho, "runs": runs, "n": n, "coverage": covered / runs,
                    "mean_rho_estimate": float(np.mean(estimates))})
    return out


def threshold_grid(low: float = 0.5, high: float = 5.0, step: float = 0.01) -> dict:
    """Every paired trial exactly at the threshold: how many thresholds end FAIL."""
    rng = np.random.default_rng(11)
    fails = {">=": 0, "<=": 0}
    count = int(round((high - low) / step)) + 1
    for i in range(count):
        t = round(low + i * step, 10)
        den = np.exp(rng.normal(0, 0.05, 48))
        samples = Samples("paired", numerator=(t * den).tolist(), denominator=den.tolist())
        for comparator in fails:
            c = _criterion(comparator, t, "x", {})
            fails[comparator] += decide(c, samples, 0.95, budget_spent=True).status == "FAIL"
    return {"thresholds": count, "fail": fails}


def rows(repetitions: int = 200) -> dict:
    """Every regime at every truth offset, the proportions cells and the threshold grid."""
    cells = [cell(name, off, repetitions) for name, spec in REGIMES.items() for off in spec[5]]
    return {"regimes": cells, "proportions": proportions_cells(repetitions),
            "threshold_grid": threshold_grid(), "dependence": dependence_coverage()}


def format_table(result: dict) -> str:
    lines = ["| regime | truth | wrong | decided | INVALID | coverage |",
             "|---|---|---|---|---|---|"]
    for r in result["regimes"] + result["proportions"]:
        cov = "—" if r["coverage"] is None else f"{r['coverage']:.1%}"
        truth = f"{r['truth']:+.0%}" if abs(r["truth"]) < 0.1 and "zero" not in r["regime"] \
            else f"{r['truth']:+g}"
        lines.append(f"| {r['regime']} | {truth} | {r['wrong_rate']:.1%} | "
                     f"{r['decided_rate']:.1%} | {r['invalid_rate']:.1%} | {cov} |")
    lines += ["", "| AR(1) rho (one look at 48) | coverage of the 95% interval | mean rho "
                  "estimate |", "|---|---|---|"]
    for d in result.get("dependence", []):
        lines.append(f"| {d['rho']:g} | {d['coverage']:.1%} | {d['mean_rho_estimate']:.2f} |")
    g = result["threshold_grid"]
    lines += ["", f"Every trial exactly at the threshold, {g['thresholds']} thresholds: "
                  f"FAIL for {g['fail']['>=']} (>=) and {g['fail']['<=']} (<=)."]
    return "\n".join(lines)


def run(repetitions: int = 200) -> dict:
    """``ryot bench regimes``: the regimes alone (``ryot bench decisions`` runs them too)."""
    from ryot.infra.provenance import fingerprint

    return {"benchmark": "regimes", "repetitions": repetitions, **fingerprint(),
            "regimes": rows(repetitions)}
