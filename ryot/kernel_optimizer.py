"""Hardware detection and measured kernel tuning with an on-disk cache.

``tune(op, shape, dtype)`` times real candidates and keeps the fastest one that is also correct
against a float64 reference:

* on CUDA, Triton tile configs of :mod:`ryot.kernels.matmul`, timed with device synchronization;
* on CPU, the same tile configs driving a tiled torch matmul (each tile one ``torch.matmul``
  call): the tile shape decides how the work is cut for the CPU's GEMM and caches.

Results persist in ``$RYOT_CACHE_DIR/tune.json`` (default ``~/.cache/ryot``), keyed by hardware
fingerprint, op, shape, dtype and ryot version. The file is written atomically; a corrupted one
is reported with a warning and re-tuned. A cache hit is a dictionary lookup.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import torch

from . import __version__
from .atomic import write_json_atomic
from .config import KernelConfig
from .hardware import HardwareProfile, detect
from .kernels.matmul import matmul_reference, matmul_triton
from .timing import time_callable

__all__ = ["HardwareProfile", "detect", "tune", "detect_and_tune", "cache_path", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("matmul",)
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 1e-2, torch.float16: 5e-3}

CUDA_CANDIDATES = [KernelConfig(m, n, k, w, s) for (m, n, k, w, s) in [
    (128, 128, 64, 8, 3), (128, 128, 32, 4, 4), (128, 64, 64, 4, 3), (64, 128, 64, 4, 3),
    (64, 64, 64, 4, 4), (128, 256, 64, 8, 3), (256, 128, 64, 8, 3), (64, 64, 32, 4, 2)]]
CPU_TILES = [(64, 64), (128, 128), (256, 256), (512, 512), (256, 1024), (1024, 256)]
CPU_TILE_K = [128, 512, 4096]

_memory: dict[str, dict[str, dict]] = {}  # cache file path -> its entries


def cache_path() -> Path:
    root = os.environ.get("RYOT_CACHE_DIR")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ryot"
    return Path(root) / "tune.json"


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def cache_key(hw: HardwareProfile, op: str, shape: tuple[int, ...], dtype: torch.dtype) -> str:
    return f"{hw.fingerprint()}|{op}|{'x'.join(map(str, shape))}|{_dtype_name(dtype)}|{__version__}"


def _load_cache(path: Path) -> dict[str, dict]:
    if str(path) in _memory:
        return _memory[str(path)]
    entries: dict[str, dict] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
                raise ValueError("expected an object with an 'entries' object")
            for entry in data["entries"].values():
                KernelConfig.from_dict(entry["config"])  # validate every entry
            entries = data["entries"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"ryot: ignoring corrupted tuning cache {path} ({exc}); re-tuning",
                          RuntimeWarning, stacklevel=3)
            entries = {}
    _memory[str(path)] = entries
    return entries


def _save_cache(path: Path, entries: dict[str, dict]) -> None:
    write_json_atomic(path, {"format": "ryot.tune_cache", "format_version": 1, "entries": entries})


def matmul_tiled_torch(a: torch.Tensor, b: torch.Tensor, config: KernelConfig) -> torch.Tensor:
    """CPU matmul cut into ``tile_m x tile_n`` output tiles and ``tile_k`` slices of K."""
    M, K = a.shape
    N = b.shape[1]
    out = torch.empty((M, N), dtype=a.dtype)
    tm, tn, tk = config.tile_m, config.tile_n, config.tile_k
    for i in range(0, M, tm):
        for j in range(0, N, tn):
            if tk >= K:
                torch.matmul(a[i:i + tm], b[:, j:j + tn], out=out[i:i + tm, j:j + tn])
                continue
            acc = torch.zeros((min(tm, M - i), min(tn, N - j)), dtype=torch.float32)
            for k in range(0, K, tk):
                acc.addmm_(a[i:i + tm, k:k + tk].float(), b[k:k + tk, j:j + tn].float())
            out[i:i + tm, j:j + tn] = acc
    return out


def _candidates(hw: HardwareProfile, shape: tuple[int, int, int]) -> list[KernelConfig]:
    if hw.kind == "cuda":
        return CUDA_CANDIDATES
    M, N, K = shape
    seen, out = set(), []
    for tm, tn in CPU_TILES:
        for tk in CPU_TILE_K:
            # tiles larger than the problem behave like the problem size: skip duplicates
            key = (min(tm, M), min(tn, N), min(tk, K))
            if key not in seen:
                seen.add(key)
                out.append(KernelConfig(tm, tn, tk))
    return out


def _validate(op: str, shape, dtype) -> tuple[int, int, int]:
    if op not in SUPPORTED_OPS:
        raise ValueError(f"tune: unknown op {op!r}; supported: {', '.join(SUPPORTED_OPS)}")
    if (not isinstance(shape, tuple) or len(shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise ValueError(f"tune: shape for matmul must be (M, N, K) positive ints, got {shape!r}")
    if dtype not in TOLERANCE:
        raise ValueError(f"tune: unsupported dtype {dtype}; supported: "
                         + ", ".join(_dtype_name(d) for d in TOLERANCE))
    return shape


def tune(op: str, shape: tuple[int, ...], dtype: torch.dtype = torch.float32, *,
         samples: int = 5) -> KernelConfig:
    """The fastest correct config for ``op`` at ``shape`` (``(M, N, K)`` for matmul)."""
    M, N, K = _validate(op, shape, dtype)
    hw = detect()
    path = cache_path()
    entries = _load_cache(path)
    key = cache_key(hw, op, shape, dtype)
    if key in entries:
        return KernelConfig.from_dict(entries[key]["config"])

    device = "cuda" if hw.kind == "cuda" else "cpu"
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn((M, K), generator=gen).to(device=device, dtype=dtype)
    b = torch.randn((K, N), generator=gen).to(device=device, dtype=dtype)
    reference = matmul_reference(a.cpu(), b.cpu())
    run = matmul_triton if hw.kind == "cuda" else matmul_tiled_torch
    timings = []
    for config in _candidates(hw, (M, N, K)):
        try:
            result = run(a, b, config)
        except Exception as exc:  # noqa: BLE001 - e.g. a config needing too much shared memory
            timings.append({"config": config.to_dict(), "error": f"{type(exc).__name__}: {exc}"})
            continue
        err = ((result.cpu().double() - reference).norm() / reference.norm()).item()
        m = time_callable(lambda c=config: run(a, b, c), samples=samples, warmup=1,
                          min_sample_seconds=0.005, device=device)
        median = sorted(m.seconds_per_call)[len(m.seconds_per_call) // 2]
        timings.append({"config": config.to_dict(), "median_s": median, "samples_s": m.seconds_per_call,
                        "relative_error": err, "correct": err <= TOLERANCE[dtype]})
    correct = [t for t in timings if t.get("correct")]
    if not correct:
        raise RuntimeError(f"tune: no candidate for {op} {shape} {dtype} was correct: {timings}")
    best = min(correct, key=lambda t: t["median_s"])
    entries[key] = {"config": best["config"], "device": hw.name, "tuned_at": time.time(),
                    "candidates": timings}
    on_disk = {}
    if path.exists():  # merge with entries other processes may have written meanwhile
        try:
            on_disk = json.loads(path.read_text(encoding="utf-8")).get("entries", {})
        except (OSError, ValueError, AttributeError):
            on_disk = {}
    entries.update({k: v for k, v in on_disk.items() if k not in entries and isinstance(v, dict)})
    _save_cache(path, entries)
    return KernelConfig.from_dict(best["config"])


def detect_and_tune(op: str, shape: tuple[int, ...],
                    dtype: torch.dtype = torch.float32) -> tuple[HardwareProfile, KernelConfig]:
    return detect(), tune(op, shape, dtype)


def clear_memory_cache() -> None:
    """Forget what was read from disk (tests and cold-start benchmarks)."""
    _memory.clear()
