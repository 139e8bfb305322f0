"""Which change-point method ryot's history uses: detection and false alarms, simulated.

Histories of per-run estimates with CV 5% and their 95% intervals (each run's interval is as
wide as its own noise, give or take 30%):

* step: 30-200 commits, a 5% drop at a random commit (at least 10 from either end); found when
  a change point is reported within 5 commits of it;
* slide: 30-200 commits, 1% lower at each of 10 commits in a row; found when a change point is
  reported from 5 before the slide's start to 5 after its end;
* A/A: 100 commits, no change; a false alarm when any change point is reported.

    python scripts/change_point_methods.py --histories 300 --out docs/data/change_point_methods.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from ryot.history.changes import find_changes

CV, Z = 0.05, 1.96


def history(rng, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
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
    values = level * (1 + CV * rng.standard_normal(n))
    half = Z * CV * level * rng.uniform(0.7, 1.3, n)
    return values, values - half, values + half, where


def ours(method):
    def detect(values, lows, highs):
        return [c.index for c in find_changes(values, lows, highs, method=method)]
    return detect


def otava_hunter(values, lows, highs):
    from otava.analysis import compute_change_points
    points, _ = compute_change_points(list(values), window_len=50, max_pvalue=0.001)
    return [p.index for p in points]


def otava_edivisive(values, lows, highs):
    from otava.analysis import compute_change_points_orig
    points, _ = compute_change_points_orig(list(values), max_pvalue=0.001, seed=1)
    return [p.index for p in points]


METHODS = {"pelt+merge": ours("pelt"), "binseg+merge": ours("binseg"),
           "otava-hunter p=0.001": otava_hunter, "otava-edivisive p=0.001": otava_edivisive}


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
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = []
    for name in args.methods:
        detect = METHODS[name]
        for kind in ("step", "slide", "aa"):
            rng = np.random.default_rng(args.seed)  # the same histories for every method
            hits, delays, seconds, raw = 0, [], [], []
            for _ in range(args.histories):
                values, lows, highs, where = history(rng, kind)
                t0 = time.perf_counter()
                found = detect(values, lows, highs)
                seconds.append(time.perf_counter() - t0)
                hit, delay = score(kind, found, where)
                hits += hit
                if delay is not None:
                    delays.append(delay)
                raw.append({"n": len(values), "where": list(where), "found": found})
            row = {"method": name, "kind": kind, "histories": args.histories, "hits": hits,
                   "rate": hits / args.histories,
                   "median_delay": statistics.median(delays) if delays else None,
                   "median_seconds": statistics.median(seconds), "raw": raw}
            rows.append(row)
            print(f"{name:26s} {kind:6s} {'false alarms' if kind == 'aa' else 'found'} "
                  f"{hits}/{args.histories} = {row['rate']:.1%}  delay "
                  f"{row['median_delay']}  {row['median_seconds'] * 1e3:.1f} ms", flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"cpu": platform.processor() or platform.machine(), "seed": args.seed,
                       "cv": CV, "rows": rows}, handle)


if __name__ == "__main__":
    main()
