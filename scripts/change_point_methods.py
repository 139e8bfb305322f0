"""Which change-point method ryot's history uses: detection and false alarms, simulated.

Histories of per-run estimates with CV 5% and their 95% intervals (each run's interval is as
wide as its own noise, give or take 30%):

* step: 30-200 commits, a 5% drop at a random commit (at least 10 from either end); found when
  a change point is reported within 5 commits of it;
* slide: 30-200 commits, 1% lower at each of 10 commits in a row; found when a change point is
  reported from 5 before the slide's start to 5 after its end;
* A/A: 100 commits, no change; a false alarm when any change point is reported.

Besides the methods, an **oracle** that is told there is exactly one step and places it by least
squares (the maximum-likelihood split) bounds what any method can do on the step histories:
where the oracle misses, the data do not say where the step was.

``--cvs`` repeats everything at other per-run CVs (the issue names 5%; a run whose estimate is a
median of many samples has a smaller one).

    python scripts/change_point_methods.py --histories 300 --out docs/data/change_point_methods.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from ryot.history.changes import find_changes
from ryot.infra import machine_id

Z = 1.96


def history(rng, kind: str, cv: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    n = 100 if kind == "aa" else int(rng.integers(30, 201))
    level = np.ones(n)
    where = (0, 0)
    if kind == "step":
        k = int(rng.integers(10, n - 9))
        level[k:] = 0.95
        where = (k, k)
    elif kind == "slide":
        k = int(rng.integers(10, n - 19))
        for i in range(10):
            level[k + i:] *= 0.99
        where = (k, k + 10)
    values = level * (1 + cv * rng.standard_normal(n))
    half = Z * cv * level * rng.uniform(0.7, 1.3, n)
    return values, values - half, values + half, where


def ours(method):
    def detect(values, lows, highs):
        return [c.index for c in find_changes(values, lows, highs, method=method)]
    return detect


def otava_hunter(values, lows, highs):
    from otava.analysis import compute_change_points
    points, _ = compute_change_points(list(values), window_len=50, max_pvalue=0.001)
    return [int(p.index) for p in points]


def otava_edivisive(values, lows, highs):
    from otava.analysis import compute_change_points_orig
    points, _ = compute_change_points_orig(list(values), max_pvalue=0.001, seed=1)
    return [int(p.index) for p in points]


def oracle_one_step(values, lows, highs):
    """The least-squares split of a series known to hold exactly one step."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    csum, total = np.cumsum(x), float(np.sum(x))
    k = np.arange(1, n)
    left, right = csum[:-1], total - csum[:-1]
    # minimising the two segments' squared error = maximising this between-segment term
    gain = left**2 / k + right**2 / (n - k)
    return [int(k[np.argmax(gain)])]


METHODS = {"pelt+merge": ours("pelt"), "binseg+merge": ours("binseg"),
           "otava-hunter p=0.001": otava_hunter, "otava-edivisive p=0.001": otava_edivisive,
           "oracle (one step, known)": oracle_one_step}
KINDS = {"oracle (one step, known)": ("step",)}


def score(kind: str, found: list[int], where: tuple[int, int]) -> tuple[bool, int | None]:
    if kind == "aa":
        return bool(found), None
    lo, hi = where[0] - 5, where[1] + 5
    hits = [f for f in found if lo <= f <= hi]
    if not hits:
        return False, None
    return True, min(abs(f - where[0]) for f in hits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--histories", type=int, default=300)
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--cvs", nargs="*", type=float, default=[0.05])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = []
    for cv, name in ((cv, name) for cv in args.cvs for name in args.methods):
        detect = METHODS[name]
        for kind in KINDS.get(name, ("step", "slide", "aa")):
            rng = np.random.default_rng(args.seed)  # the same histories for every method
            hits, delays, seconds, raw = 0, [], [], []
            for _ in range(args.histories):
                values, lows, highs, where = history(rng, kind, cv)
                t0 = time.perf_counter()
                found = detect(values, lows, highs)
                seconds.append(time.perf_counter() - t0)
                hit, delay = score(kind, found, where)
                hits += hit
                if delay is not None:
                    delays.append(delay)
                raw.append({"n": len(values), "where": list(where), "found": found})
            row = {"method": name, "cv": cv, "kind": kind, "histories": args.histories,
                   "hits": hits,
                   "rate": hits / args.histories,
                   "median_delay": statistics.median(delays) if delays else None,
                   "median_seconds": statistics.median(seconds), "raw": raw}
            rows.append(row)
            print(f"cv {cv:.1%} {name:26s} {kind:6s} {'false alarms' if kind == 'aa' else 'found'} "
                  f"{hits}/{args.histories} = {row['rate']:.1%}  delay "
                  f"{row['median_delay']}  {row['median_seconds'] * 1e3:.1f} ms", flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"cpu": machine_id.facts()["cpu"], "seed": args.seed,
                       "command": "python " + " ".join(sys.argv), "rows": rows}, handle)


if __name__ == "__main__":
    main()
