#!/usr/bin/env python3
"""One prepared check of every Triton kernel on a CUDA machine, with timings against torch.

    python scripts/gpu_check.py --out results/gpu_check.json      # on a CUDA machine
    TRITON_INTERPRET=1 python scripts/gpu_check.py --smoke        # tiny sizes, CPU interpreter

For each kernel: correctness against a float64 reference (and bit-identity with the torch path
where the contract promises it), then interleaved timings with device synchronization:
matmul vs ``torch.matmul``, quantize+dequantize vs a copy (bandwidth), decode attention over
the quantized paged cache vs dense SDPA. Prints a markdown table; writes every raw sample.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ryot.bench.rows import ratio_row  # noqa: E402
from ryot.core import tuning as ko  # noqa: E402
from ryot.core.config import CompressionConfig, KernelConfig, RLVRConfig  # noqa: E402
from ryot.core.kernels.decode_attention import attention_reference  # noqa: E402
from ryot.core.kernels.matmul import matmul_reference, matmul_triton  # noqa: E402
from ryot.core.quant.blockwise import _encode_torch, decode, encode, reconstruction_error  # noqa: E402
from ryot.inference_scaling import optimize_kv_cache  # noqa: E402
from ryot.infra.atomic import write_json_atomic  # noqa: E402
from ryot.infra.provenance import fingerprint  # noqa: E402
from ryot.measure.timing import interleaved  # noqa: E402


def rel(a: torch.Tensor, ref: torch.Tensor) -> float:
    return ((a.double().cpu() - ref.double().cpu()).norm() / ref.double().cpu().norm()).item()


def check_matmul(device, smoke, rounds):
    rows = []
    shapes = [(33, 47, 29)] if smoke else [(4096, 4096, 4096), (1000, 3000, 777)]
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        for M, N, K in shapes:
            a = torch.randn(M, K, device=device, dtype=dtype)
            b = torch.randn(K, N, device=device, dtype=dtype)
            cfg = KernelConfig(16, 16, 16) if smoke else ko.tune("matmul", (M, N, K), dtype)
            check = (a[:512, :512], b[:512, :512]) if not smoke else (a, b)
            err = rel(matmul_triton(*check, cfg), matmul_reference(check[0].cpu(), check[1].cpu()))
            times = interleaved({"triton": lambda: matmul_triton(a, b, cfg),
                                 "torch": lambda: torch.matmul(a, b)},
                                rounds=rounds, warmup=2, device=str(device))
            flops = 2 * M * N * K
            med = sorted(times["triton"])[len(times["triton"]) // 2]
            rows.append({"kernel": "matmul", "case": f"{M}x{N}x{K} {str(dtype)[6:]}",
                         "config": cfg.to_dict(), "relative_error": err,
                         "tflops_triton": flops / med / 1e12,
                         **ratio_row("triton ÷ torch.matmul time", times["triton"], times["torch"]),
                         "samples": times})
    return rows


def check_quantize(device, smoke, rounds):
    rows = []
    n = 4099 if smoke else 64 << 20  # 256 MB of float32
    x = torch.randn(n, device=device)
    for bits in (8, 4):
        cfg = CompressionConfig(64, bits)
        c = encode(x, cfg, backend="triton")
        codes_t, scales_t = _encode_torch(x.cpu(), 64, bits)
        identical = torch.equal(c.codes.cpu(), codes_t) and torch.equal(c.scales.cpu(), scales_t)
        err = reconstruction_error(x, decode(c, backend="triton"))
        times = interleaved({"encode+decode": lambda: decode(encode(x, cfg, backend="triton"),
                                                             backend="triton"),
                             "copy": lambda: x.clone()}, rounds=rounds, warmup=2,
                            device=str(device))
        med = sorted(times["copy"])[len(times["copy"]) // 2]
        rows.append({"kernel": f"quantize int{bits}", "case": f"{n * 4 >> 20} MB float32 block 64",
                     "codes_identical_to_torch": identical, "relative_error": err,
                     "copy_GBps": 2 * x.nbytes / med / 1e9,
                     **ratio_row("encode+decode ÷ copy time", times["encode+decode"],
                                 times["copy"]),
                     "samples": times})
    return rows


def check_attention(device, smoke, rounds):
    rows = []
    heads, dim, group, page = (2, 16, 8, 32) if smoke else (32, 128, 64, 256)
    for tokens in ([45] if smoke else [1024, 8192]):
        for bits in (8, 4):
            cache = optimize_kv_cache(1, heads, dim, tokens, CompressionConfig(group, bits),
                                      RLVRConfig(1, 1.0, page), device=device, dtype=torch.bfloat16)
            k = torch.randn(1, heads, tokens, dim, device=device, dtype=torch.bfloat16)
            v = torch.randn(1, heads, tokens, dim, device=device, dtype=torch.bfloat16)
            cache.append(0, k, v)
            q = torch.randn(1, heads, 1, dim, device=device, dtype=torch.bfloat16)
            out = cache.attend(0, q, backend="triton")
            err = rel(out, attention_reference(q.cpu(), k.cpu(), v.cpu()))
            vs_torch = rel(out, cache.attend(0, q, backend="torch"))
            times = interleaved({"quantized": lambda: cache.attend(0, q, backend="triton"),
                                 "sdpa": lambda: F.scaled_dot_product_attention(q, k, v)},
                                rounds=rounds, warmup=2, device=str(device))
            rows.append({"kernel": f"decode attention int{bits}", "case": f"{tokens} tokens",
                         "relative_error_vs_float64": err, "relative_diff_vs_torch_path": vs_torch,
                         "memory_saved": 1 - cache.nbytes / cache.dense_nbytes,
                         **ratio_row("quantized ÷ dense SDPA time", times["quantized"],
                                     times["sdpa"]),
                         "samples": times})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes; runs on CPU under TRITON_INTERPRET=1 (for CI)")
    parser.add_argument("--out", default="results/gpu_check.json")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    if not args.smoke and not torch.cuda.is_available():
        print("gpu_check: no CUDA device; use --smoke for the CPU interpreter run", file=sys.stderr)
        return 2
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rounds = args.rounds or (3 if args.smoke else 25)
    torch.manual_seed(0)
    rows = check_matmul(device, args.smoke, rounds) + check_quantize(device, args.smoke, rounds) \
        + check_attention(device, args.smoke, rounds)
    write_json_atomic(args.out, {"check": "gpu_check", "smoke": args.smoke, **fingerprint(),
                                 "rows": rows})
    print("| kernel | case | error | ratio (median, 95% CI) | extra |\n|---|---|---|---|---|")
    for r in rows:
        err = r.get("relative_error", r.get("relative_error_vs_float64"))
        extra = {k: r[k] for k in ("tflops_triton", "copy_GBps", "memory_saved",
                                   "codes_identical_to_torch", "relative_diff_vs_torch_path")
                 if k in r}
        print(f"| {r['kernel']} | {r['case']} | {err:.2e} | {r['label']}: {r['median']:.3f} "
              f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}] | {json.dumps(extra)} |")
    ok = all(r.get("codes_identical_to_torch", True) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
