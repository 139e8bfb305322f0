"""Where an AdamW8bit step's time goes with caches as cold as training leaves them: per step,
the whole ``optimizer.step()`` and the C loop's own seconds (``last_codec_seconds``), the rest
being Python (plan checks, the C call's arguments, the small parameters' fused kernel, the
``step`` writes). Rounds interleave torch's fused AdamW, AdamW8bit and AdamW8bit's torch
reference on the default model's parameters (the reference's 10+ ms evict the caches, as a
forward and backward pass would).

    python scripts/optimizer_step_parts.py --rounds 40 --out docs/data/cpu_core/CPU/parts.json
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from script_args import rounds_and_out  # noqa: E402

WARMUP = 3


def main(argv: list[str] | None = None) -> int:
    args = rounds_and_out(__doc__, 40, "interleaved rounds after 3 of warm-up", argv)
    import torch

    from ryot.core.optim.adamw8bit import AdamW8bit
    from ryot.infra.atomic import write_text_atomic
    from ryot.infra.provenance import fingerprint
    from ryot.workload.model import GPT
    from ryot.workload.presets import FULL

    torch.manual_seed(0)
    params = list(GPT(FULL.train.model_config()).parameters())
    gen = torch.Generator().manual_seed(0)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    ours = AdamW8bit(params, weight_decay=0.0, block_size=64)
    reference = AdamW8bit(params, weight_decay=0.0, block_size=64)
    reference.use_native = False
    fused = torch.optim.AdamW(params, weight_decay=0.0, fused=True)
    steps, loops, fused_steps = [], [], []
    with torch.no_grad():
        for r in range(WARMUP + args.rounds):
            start = time.perf_counter()
            fused.step()
            middle = time.perf_counter()
            ours.step()
            end = time.perf_counter()
            reference.step()
            if r >= WARMUP:
                fused_steps.append(middle - start)
                steps.append(end - middle)
                loops.append(ours.last_codec_seconds)
    python = [s - c for s, c in zip(steps, loops, strict=True)]
    medians = {name: statistics.median(v) * 1e3 for name, v in
               (("fused AdamW step", fused_steps), ("AdamW8bit step", steps),
                ("AdamW8bit C loop", loops), ("AdamW8bit rest (Python)", python))}
    out = {"what": __doc__.splitlines()[0], **fingerprint(), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "rounds": args.rounds,
           "samples_s": {"fused": fused_steps, "step": steps, "c_loop": loops},
           "median_ms": medians}
    write_text_atomic(args.out, json.dumps(out, indent=1, default=str) + "\n")
    for name, m in medians.items():
        print(f"{name:<26} {m:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
