"""Does the drift test mistake per-process levels for a trend? (issue #22, measured)

An A/B across commits measures rounds in blocks of ``rounds_per_process``, each block in a
fresh pair of processes with a speed of its own. This simulates stationary log-ratio series with
a level per block of 4 (sd ``block_sd``) plus noise per round (sd ``noise_sd``) and counts how
often ryot's Mann–Kendall test (``ryot.stats.stationarity.trend``, alpha 0.05) calls a trend,
per round as ryot runs it, and on block medians (an alternative that was considered and
dropped: it was no better).

    python scripts/block_trend_simulation.py      # prints one line per setting, as JSON
"""

from __future__ import annotations

import json

import numpy as np

from ryot.stats.stationarity import trend

BLOCK, SERIES, ALPHA = 4, 300, 0.05


def series(rng, n, block_sd, noise_sd):
    levels = np.repeat(rng.normal(0.0, block_sd, -(-n // BLOCK)), BLOCK)[:n]
    return levels + rng.normal(0.0, noise_sd, n)


def main() -> int:
    rng = np.random.default_rng(22)
    for block_sd, noise_sd in ((0.03, 0.05), (0.06, 0.03)):
        for n in (48, 96, 192):
            runs = [series(rng, n, block_sd, noise_sd) for _ in range(SERIES)]
            per_round = float(np.mean([trend(x).p_value < ALPHA for x in runs]))
            medians = [np.array([np.median(x[i:i + BLOCK]) for i in range(0, n, BLOCK)])
                       for x in runs]
            per_block = float(np.mean([trend(m).p_value < ALPHA for m in medians]))
            print(json.dumps({"block_sd": block_sd, "noise_sd": noise_sd, "rounds": n,
                              "series": SERIES, "false_alarms_per_round": per_round,
                              "false_alarms_on_block_medians": per_block}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
