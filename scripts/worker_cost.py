"""What running providers in a worker process costs (docs/reliability.md quotes the output).

    python scripts/worker_cost.py [--rounds 30]

Per round: a fresh :class:`ryot.verification.worker_client.Worker` started and importing a
trivial provider (what a run pays once, and again after a worker dies), then 20 sample requests
of one value each (what every batch pays on top of the provider's own time). Prints medians
with 95% intervals and the CPU model; raw samples go to --json if given.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time

from ryot.stats.intervals import median, median_interval
from ryot.verification.worker_client import Worker

PROVIDER = "ryot.metrics.synthetic:synthetic_exact"


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", help="write the raw samples here")
    args = parser.parse_args()
    start_s, request_s = [], []
    for _ in range(args.rounds):
        worker = Worker()
        try:
            t0 = time.perf_counter()
            answer = worker.add_setup({"op": "import", "reference": PROVIDER}, 120.0, "/dev/null")
            start_s.append(time.perf_counter() - t0)
            assert answer["status"] == "ok", answer
            for _ in range(20):
                t0 = time.perf_counter()
                answer = worker.request({"op": "sample", "metric": "synthetic.exact",
                                         "provider": None, "requires": [], "n": 1,
                                         "params": {"value": 1.0}},
                                        limit_s=60.0, capture="/dev/null")
                request_s.append(time.perf_counter() - t0)
                assert answer["status"] == "ok", answer
        finally:
            worker.close()
    for name, values, unit, scale in (("worker start + import", start_s, "ms", 1e3),
                                      ("request round trip", request_s, "ms", 1e3)):
        ci = median_interval(values, 0.95)
        print(f"{name}: median {median(values) * scale:.2f} {unit} "
              f"[{ci.low * scale:.2f}, {ci.high * scale:.2f}] (n={len(values)})")
    print(f"CPU: {_cpu()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"cpu": _cpu(), "start_s": start_s, "request_s": request_s}, handle)


if __name__ == "__main__":
    main()
