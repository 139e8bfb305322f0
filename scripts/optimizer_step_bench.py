"""Seconds per ``optimizer.step()`` on the default model's parameters: the optimizer-step rows of
``ryot bench training`` (:func:`ryot.bench.training._optimizer_steps`, interleaved rounds of
torch's fused and foreach AdamW, AdamW8bit's C loop at each ISA and its torch reference), alone,
with every sample written out.

    python scripts/optimizer_step_bench.py --rounds 60 --out docs/data/cpu_core/CPU/opt-step.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ryot.bench.training import _optimizer_steps  # noqa: E402
from ryot.infra.atomic import write_text_atomic  # noqa: E402
from ryot.infra.provenance import fingerprint  # noqa: E402
from ryot.workload.model import GPT  # noqa: E402
from ryot.workload.presets import FULL  # noqa: E402

FUSED = "torch AdamW (fused)"


def positive_int(text: str) -> int:
    """argparse type: an int >= 1 (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}")
    return value


def writable_file(text: str) -> Path:
    """argparse type: a file path whose folder exists (else a usage error, exit 2)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(path.parent)!r} does not exist")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=60,
                        help="interleaved rounds (default 60)")
    parser.add_argument("--out", type=writable_file, required=True,
                        help="the JSON file to write")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    samples = _optimizer_steps(GPT(FULL.train.model_config()), args.rounds)
    medians = {name: statistics.median(s) * 1e3 for name, s in samples.items()}
    out = {"what": "seconds per optimizer.step() on the default model's parameters, interleaved "
                   f"rounds (ryot.bench.training._optimizer_steps, {args.rounds} rounds)",
           "command": f"python scripts/optimizer_step_bench.py --rounds {args.rounds}",
           **fingerprint(), "torch": torch.__version__,
           "threads": torch.get_num_threads(),
           "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
               timespec="seconds"),
           "samples_s": samples, "median_ms": medians,
           "ratio_to_fused": {name: m / medians[FUSED] for name, m in medians.items()}}
    write_text_atomic(args.out, json.dumps(out, indent=1, default=str) + "\n")
    for name, m in medians.items():
        print(f"{name:<55} {m:8.3f} ms  {m / medians[FUSED]:5.2f}x fused")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
