"""Coverage of the proportion intervals and the wrong-verdict rate of paired comparisons, exact.

``ryot bench proportions`` (docs/statistics.md, "Proportions: which interval, and its measured
coverage"). Nothing is timed or drawn at random: every figure is a sum over all outcomes (the
binomial counts, the multinomial 2×2 tables) weighted by their probabilities, so the table is the
same on every machine.

* ``one proportion`` — each method of :data:`ryot.stats.proportions.PROPORTION_METHODS` at each
  n: the exact minimum coverage over p in [0.01, 0.99] and in [0.01, 0.10], the mean coverage and
  mean expected width over a grid of p in [0.01, 0.99]; raw: the coverage at every grid p.
* ``paired regime`` — a candidate that breaks 1% of the items the baseline (accuracy 0.8) gets
  right and fixes none (true difference −0.01), and one that breaks 1% and fixes 1% (truth 0):
  coverage and the PASS / FAIL rates of ``difference >= 0`` (``ratio >= 1``), PASS when the
  interval's low end reaches the threshold, for Tango, Newcombe, Tang and today's bootstrap;
  raw: the most probable tables with their probability and interval.
* ``paired grid`` — the coverage of each paired interval at 147 cell-probability vectors (baseline
  accuracy 0.1..0.99, difference −0.1..0.1, three correlations, one of them with an empty
  discordant cell), every table of n items summed; raw: the coverage per vector.
"""

from __future__ import annotations

import numpy as np

from ryot.infra.provenance import fingerprint
from ryot.measure.samples import to_json_number
from ryot.stats.intervals import TABLE_CELLS
from ryot.stats.proportions import (
    PROPORTION_METHODS,
    binomial_log_pmf,
    every_count_bounds,
    exact_coverage,
    exact_paired_coverage,
    minimum_coverage,
    paired_difference_bounds,
    paired_ratio_bounds,
)

__all__ = [
    "CONFIDENCE", "GRID_NS", "ONE_NS", "PAIRED", "PAIRED_NS", "REGIMES", "cell_grid",
    "format_table", "run"
]

CONFIDENCE = 0.95
ONE_NS = (20, 50, 100, 1000)
PAIRED_NS = (50, 100, 1000)
GRID_NS = (20, 50)
PAIRED = (("difference", "tango"), ("difference", "newcombe"), ("difference", "bootstrap"),
          ("ratio", "tang"), ("ratio", "bootstrap"))
REGIMES = {
    "breaks 1%, fixes none": {"both": 0.79, "baseline_only": 0.01, "candidate_only": 0.0,
                              "neither": 0.20},
    "breaks 1%, fixes 1%": {"both": 0.78, "baseline_only": 0.01, "candidate_only": 0.01,
                            "neither": 0.20},
}
BOOTSTRAP_MAX_TABLES = 20_000  # ~1 ms a table (4000 resamples each); beyond, the row is skipped
TAIL = 1e-9  # a regime's tables leave out at most this much probability


def _one_proportion_rows(ns: tuple[int, ...], step: float) -> list[dict]:
    p = np.round(0.001 + step * np.arange(int(0.998 / step + 1e-9) + 1), 9)  # 0.001 .. <= 0.999
    inner = (p >= 0.01) & (p <= 0.99)
    rows = []
    for n in ns:
        for method in PROPORTION_METHODS:
            coverage = exact_coverage(n, CONFIDENCE, method, p)
            low, high = every_count_bounds(n, CONFIDENCE, method)
            pmf = np.exp(binomial_log_pmf(n, p[inner]))
            minimum, at = minimum_coverage(n, CONFIDENCE, method)
            rows.append({
                "kind": "one proportion", "label": f"{method}, n = {n}", "unit": "coverage",
                "method": method, "n": n, "confidence": CONFIDENCE, "minimum_coverage": minimum,
                "minimum_at": at,
                "minimum_coverage_p_0.01_0.10": minimum_coverage(n, CONFIDENCE, method, 0.01,
                                                                 0.10)[0],
                "mean_coverage": float(coverage[inner].mean()),
                "mean_width": float((pmf * (high - low)).sum(axis=1).mean()),
                "p": p.tolist(), "samples": coverage.tolist()})
    return rows


def _regime_rows(ns: tuple[int, ...], raw_tables: int, bootstrap: bool) -> list[dict]:
    rows = []
    for regime, cells in REGIMES.items():
        for n in ns:
            tables = None
            for statistic, method in PAIRED:
                label = f"{regime}: {statistic} by {method}, n = {n}"
                base = {"kind": "paired regime", "label": label, "unit": "fraction",
                        "regime": regime, "statistic": statistic, "method": method, "n": n}
                if method == "bootstrap" and (not bootstrap or tables > BOOTSTRAP_MAX_TABLES):
                    why = (f"{tables} tables, 4000 resamples each: too long" if bootstrap
                           else "bootstrap rows not asked for")
                    rows.append({**base, "reason": why})
                    continue
                r = exact_paired_coverage(cells, n, CONFIDENCE, statistic=statistic,
                                          method=method, tail=TAIL, keep_tables=True)
                tables = r["tables"]
                passes = r["truth"] >= r["threshold"]  # `>= threshold`: a FAIL is then wrong
                top = np.argsort(r["table_probability"])[::-1][:raw_tables]
                raw = {key: [r[f"table_{key}"][i] for i in top]
                       for key in ("counts", "probability")}
                raw.update({key: [to_json_number(r[f"table_{key}"][i]) for i in top]
                            for key in ("low", "high")})  # a ratio's bound may be inf
                rows.append({**base, **{k: v for k, v in r.items() if not k.startswith("table_")},
                             "wrong_rate": r["fail_rate"] if passes else r["pass_rate"],
                             "samples": raw, "samples_mass": float(sum(raw["probability"]))})
    return rows


def cell_grid() -> list[dict[str, float]]:
    """Cell probabilities: baseline accuracy, candidate − baseline, and P(both) at 0, ½ and 1 of
    its feasible range (1: the candidate's or baseline's discordant cell is empty)."""
    out = []
    for base in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        for diff in (-0.1, -0.05, -0.01, 0.0, 0.01, 0.05, 0.1):
            cand = base + diff
            if not 0 < cand < 1:
                continue
            lo, hi = max(0.0, base + cand - 1), min(base, cand)
            for f in (0.0, 0.5, 1.0):
                both = lo + f * (hi - lo)
                cells = [both, base - both, cand - both, 1 - base - cand + both]
                cells = [max(0.0, round(c, 12)) for c in cells]
                out.append(dict(zip(TABLE_CELLS, (c / sum(cells) for c in cells), strict=True)))
    return out


def _grid_rows(ns: tuple[int, ...]) -> list[dict]:
    grid = cell_grid()
    log_p = np.log(np.maximum([[g[c] for c in TABLE_CELLS] for g in grid], 1e-300))
    rows = []
    for n in ns:
        a, b, c = np.meshgrid(*[np.arange(n + 1)] * 3, indexing="ij")
        keep = a + b + c <= n
        counts = np.stack([a[keep], b[keep], c[keep], n - (a + b + c)[keep]], axis=1)
        lf = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1.0, n + 1)))))
        pmf = np.exp(lf[n] - lf[counts].sum(axis=1)[None, :] + log_p @ counts.T)  # grid × tables
        p = np.array([[g[cell] for cell in TABLE_CELLS] for g in grid])
        cand, base = p[:, 0] + p[:, 2], p[:, 0] + p[:, 1]
        for statistic, method in PAIRED:
            if method == "bootstrap":
                continue
            if statistic == "difference":
                low, high = paired_difference_bounds(*counts.T, CONFIDENCE, method)
                truth = cand - base
            else:
                low, high = paired_ratio_bounds(*counts.T, CONFIDENCE)
                truth = cand / base
            covers = (low[None, :] <= truth[:, None]) & (truth[:, None] <= high[None, :])
            coverage = (pmf * covers).sum(axis=1)
            worst = int(np.argmin(coverage))
            rows.append({"kind": "paired grid", "label": f"{statistic} by {method}, n = {n}",
                         "unit": "coverage", "statistic": statistic, "method": method, "n": n,
                         "minimum_coverage": float(coverage[worst]), "minimum_at": grid[worst],
                         "mean_coverage": float(coverage.mean()),
                         "below_0.93": int((coverage < 0.93).sum()), "points": len(grid),
                         "grid": grid, "samples": coverage.tolist()})
    return rows


def run(one_ns: tuple[int, ...] = ONE_NS, paired_ns: tuple[int, ...] = PAIRED_NS,
        grid_ns: tuple[int, ...] = GRID_NS, step: float = 0.001, raw_tables: int = 200,
        bootstrap: bool = True) -> dict:
    rows = (_one_proportion_rows(one_ns, step) + _regime_rows(paired_ns, raw_tables, bootstrap)
            + _grid_rows(grid_ns))
    return {"benchmark": "proportions", "confidence": CONFIDENCE, **fingerprint(), "rows": rows}


def _pct(x: float) -> str:
    return f"{x:.2%}"


def format_table(result: dict) -> str:
    rows = result["rows"]
    lines = ["| method | n | min coverage, p in [0.01, 0.99] (at p) | min, p in [0.01, 0.10] "
             "| mean coverage | mean width |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['n']} | {r['minimum_coverage']:.4f} ({r['minimum_at']:.4f}) "
              f"| {r['minimum_coverage_p_0.01_0.10']:.4f} | {r['mean_coverage']:.4f} "
              f"| {r['mean_width']:.4f} |" for r in rows if r["kind"] == "one proportion"]
    lines += ["", "| regime | statistic, method | n | coverage | PASS | FAIL | wrong |",
              "|---|---|---|---|---|---|---|"]
    for r in (r for r in rows if r["kind"] == "paired regime"):
        head = f"| {r['regime']} | {r['statistic']}, {r['method']} | {r['n']} |"
        lines.append(f"{head} — | — | — | {r['reason']} |" if "reason" in r else
                     f"{head} {_pct(r['coverage'])} | {_pct(r['pass_rate'])} "
                     f"| {_pct(r['fail_rate'])} | {_pct(r['wrong_rate'])} |")
    grid = [r for r in rows if r["kind"] == "paired grid"]
    if grid:
        lines += ["", "| statistic, method | n | min coverage (at cells both/base/cand/neither) "
                  "| mean coverage | points below 0.93 |", "|---|---|---|---|---|"]
        for r in grid:
            at = "/".join(f"{r['minimum_at'][c]:.3g}" for c in TABLE_CELLS)
            lines.append(f"| {r['statistic']}, {r['method']} | {r['n']} "
                         f"| {r['minimum_coverage']:.4f} ({at}) | {r['mean_coverage']:.4f} "
                         f"| {r['below_0.93']} of {r['points']} |")
    return "\n".join(lines)
