"""AdamW8bit steps on the default model's parameters in a loop, one thread, the C library kept on
disk so that ``perf`` can name its functions (ryot deletes its build folder after loading):

    perf record -o perf.data python scripts/adamw8bit_loop.py --steps 2000
    perf annotate -i perf.data --stdio -s avx512_encode
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from script_args import positive_int  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=2000, help="steps (default 2000)")
    args = parser.parse_args(argv)
    import torch

    import ryot.core.native as native
    from ryot.core.optim.adamw8bit import AdamW8bit
    from ryot.workload.model import GPT
    from ryot.workload.presets import FULL

    native.shutil.rmtree = lambda *a, **k: None  # keep the built library for perf's symbols
    torch.manual_seed(0)
    params = list(GPT(FULL.train.model_config()).parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    opt = AdamW8bit(params, weight_decay=0.0, block_size=64)
    torch.set_num_threads(1)
    with torch.no_grad():
        for _ in range(args.steps):
            opt.step()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
