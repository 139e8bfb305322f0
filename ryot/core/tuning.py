"""Hardware detection and measured kernel tuning with an on-disk cache.

``tune(op, shape, dtype)`` times real candidates and keeps the fastest one that is also correct
against a float64 reference:

* on CUDA, Triton tile configs of :mod:`ryot.core.kernels.matmul`, timed with device
  synchronization;
* on CPU, the same tile configs driving a tiled torch matmul (each tile one ``torch.matmul``
  call): the tile shape decides how the work is cut for the CPU's GEMM and caches.

Results persist in ``$RYOT_CACHE_DIR/tune.json`` (default ``~/.cache/ryot``), keyed by hardware
fingerprint, op, shape, dtype and ryot version. Every read-merge-write holds an ``flock`` on
``tune.json.lock``, so concurrent tuners keep each other's entries; writes are atomic. A damaged
cache (any JSON shape, invalid or unknown configs, a directory in its place) is repaired with a
warning and the missing entries re-tuned. A cache hit is a dictionary lookup.
"""

from __future__ import annotations

import json
import os
import stat
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the cache is written unlocked
    fcntl = None

from ryot.core.config import KernelConfig
from ryot.core.kernels.matmul import matmul_reference, matmul_triton
from ryot.infra.atomic import write_json_atomic
from ryot.infra.errors import ConfigError
from ryot.infra.machine import HardwareProfile, detect
from ryot.infra.switches import cache_dir
from ryot.infra.version import __version__
from ryot.measure.timing import time_callable

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
    """The tuning cache file, in ryot's cache folder (:func:`ryot.infra.switches.cache_dir`)."""
    return cache_dir("tune.json")


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def cache_key(hw: HardwareProfile, op: str, shape: tuple[int, ...], dtype: torch.dtype) -> str:
    return f"{hw.fingerprint()}|{op}|{'x'.join(map(str, shape))}|{_dtype_name(dtype)}|{__version__}"


# -- the cache file -------------------------------------------------------------------------
def _known_configs() -> frozenset[KernelConfig]:
    """Every config ``tune`` can choose: a cached entry must be one of them."""
    cpu = {KernelConfig(tm, tn, tk) for tm, tn in CPU_TILES for tk in CPU_TILE_K}
    return frozenset(cpu | set(CUDA_CANDIDATES))


def _entry_problem(entry: Any, known: frozenset[KernelConfig]) -> str | None:
    """Why a cache entry cannot be served, or None when it can."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return "expected an object with a 'config' object"
    try:
        config = KernelConfig.from_dict(entry["config"])
    except (TypeError, ValueError) as exc:
        return str(exc)
    if config not in known:
        return f"{config} is not a configuration tune() measures"
    return None


def _read_cache(path: Path) -> tuple[dict[str, dict], str | None]:
    """The servable entries on disk, and why the file needs repair (None when it does not)."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet
        return {}, None
    except OSError as exc:
        return {}, f"cannot inspect it ({exc})"
    if not stat.S_ISREG(info.st_mode):  # a directory, a FIFO (reading one would block)...
        return {}, "it is not a regular file"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return {}, f"not readable JSON ({type(exc).__name__}: {exc})"
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        return {}, "expected an object with an 'entries' object"
    entries, bad, known = {}, [], _known_configs()
    for key, entry in data["entries"].items():
        problem = _entry_problem(entry, known)
        if problem is None:
            entries[key] = entry
        else:
            bad.append(f"entry {key!r}: {problem}")
    if bad:
        return entries, (f"dropped {len(bad)} invalid entr{'y' if len(bad) == 1 else 'ies'} "
                         f"({bad[0]})")
    return entries, None


def _set_aside(path: Path) -> Path:
    """Rename a non-file ``tune.json`` out of the way (its content is kept, under a new name)."""
    n = 0
    while True:
        aside = path.with_name(f"{path.name}.broken-{int(time.time())}{f'-{n}' if n else ''}")
        if not os.path.lexists(aside):
            os.rename(path, aside)
            return aside
        n += 1


def _write_cache(path: Path, entries: dict[str, dict]) -> None:
    """Write atomically; a failure is a warning (the tuned config is still right, only not kept)."""
    try:
        if os.path.lexists(path) and not path.is_file():
            aside = _set_aside(path)
            warnings.warn(f"ryot: tuning cache {path} was not a file; moved it to {aside}",
                          RuntimeWarning, stacklevel=4)
        write_json_atomic(path, {"format": "ryot.tune_cache", "format_version": 1,
                                 "entries": entries})
    except OSError as exc:
        warnings.warn(f"ryot: could not save the tuning cache {path} ({exc})", RuntimeWarning,
                      stacklevel=4)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (a sidecar: the cache file itself is
    replaced by each write). Where no lock can be taken (no fcntl, read-only directory) the
    body runs unlocked."""
    fd = None
    if fcntl is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _load_cache(path: Path) -> dict[str, dict]:
    """The entries (read once per process); a damaged file is repaired, with a warning."""
    if str(path) in _memory:
        return _memory[str(path)]
    with _locked(path):
        entries, problem = _read_cache(path)
        if problem is not None:
            warnings.warn(f"ryot: repaired the corrupted tuning cache {path}: {problem}; "
                          "missing entries are re-tuned", RuntimeWarning, stacklevel=3)
            _write_cache(path, entries)
    _memory[str(path)] = entries
    return entries


def _store(path: Path, key: str, entry: dict) -> None:
    """Read, merge and write under the lock, so that concurrent tuners lose nothing."""
    with _locked(path):
        entries, _ = _read_cache(path)
        entries[key] = entry
        _write_cache(path, entries)
    _memory.setdefault(str(path), {}).update(entries)


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
        raise ConfigError(f"tune: unknown op {op!r}; supported: {', '.join(SUPPORTED_OPS)}")
    if (not isinstance(shape, tuple) or len(shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise ConfigError(f"tune: shape for matmul must be (M, N, K) positive ints, got {shape!r}")
    if dtype not in TOLERANCE:
        raise ConfigError(f"tune: unsupported dtype {dtype}; supported: "
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
    if key in entries:  # validated when read
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
        timings.append({"config": config.to_dict(), "median_s": median,
                        "samples_s": m.seconds_per_call, "relative_error": err,
                        "correct": err <= TOLERANCE[dtype]})
    correct = [t for t in timings if t.get("correct")]
    if not correct:
        raise RuntimeError(f"tune: no candidate for {op} {shape} {dtype} was correct: {timings}")
    best = min(correct, key=lambda t: t["median_s"])
    _store(path, key, {"config": best["config"], "device": hw.name, "tuned_at": time.time(),
                       "candidates": timings})
    return KernelConfig.from_dict(best["config"])


def detect_and_tune(op: str, shape: tuple[int, ...],
                    dtype: torch.dtype = torch.float32) -> tuple[HardwareProfile, KernelConfig]:
    return detect(), tune(op, shape, dtype)


def clear_memory_cache() -> None:
    """Forget what was read from disk (tests and cold-start benchmarks)."""
    _memory.clear()
