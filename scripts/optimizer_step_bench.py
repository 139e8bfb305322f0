"""Seconds per ``optimizer.step()`` on the default model's parameters: the optimizer-step rows of
``ryot bench training`` (:func:`ryot.bench.training._optimizer_steps`, interleaved rounds of
torch's fused and foreach AdamW, AdamW8bit's C loop at each ISA and its torch reference), alone,
with every sample written out.

    python scripts/optimizer_step_bench.py --rounds 60 --out docs/data/cpu_core/CPU/opt-step.json
"""

from __future__ import annotations

import datetime
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from script_args import rounds_and_out  # noqa: E402

FUSED = "torch AdamW (fused)"


def main(argv: list[str] | None = None) -> int:
    args = rounds_and_out(__doc__, 60, "interleaved rounds", argv)
    import torch

    from ryot.bench.training import _optimizer_steps
    from ryot.core import native
    from ryot.infra.atomic import write_text_atomic
    from ryot.infra.provenance import fingerprint
    from ryot.workload.model import GPT
    from ryot.workload.presets import FULL

    torch.manual_seed(0)
    samples = _optimizer_steps(GPT(FULL.train.model_config()), args.rounds)
    medians = {name: statistics.median(s) * 1e3 for name, s in samples.items()}
    out = {"what": "seconds per optimizer.step() on the default model's parameters, interleaved "
                   f"rounds (ryot.bench.training._optimizer_steps, {args.rounds} rounds)",
           "command": f"python scripts/optimizer_step_bench.py --rounds {args.rounds}",
           **fingerprint(), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "native_isa": native.isa("adamw8bit"),
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
