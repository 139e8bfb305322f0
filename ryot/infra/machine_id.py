"""A machine's fingerprint: the facts that change performance, and a short id of them.

Stable across reboots and clock jitter: the CPU model (as the kernel names it, never its current
MHz), logical cores, memory in buckets (1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, ... GiB, so a
kernel update that reserves a few MiB more does not split a history), the ISA flags that change
kernels, the torch and CUDA versions, and the GPU model and driver when there is one. Two runs
on the same machine kind get the same id; history keeps one series per id.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cache
from pathlib import Path

from ryot.infra.machine import detect_cpu

__all__ = ["facts", "fingerprint", "fingerprint_id", "label", "memory_bucket_gib"]


def memory_bucket_gib(memory_bytes: int) -> float:
    """The nearest of 1, 1.5, 2, 3, 4, 6, 8, 12, ... GiB on a log scale (0 when unknown)."""
    if memory_bytes <= 0:
        return 0
    gib = memory_bytes / 2**30
    buckets = [base * 2**k for k in range(-4, 16) for base in (1, 1.5)]
    best = min(buckets, key=lambda b: abs(math.log(gib / b)))
    return int(best) if best == int(best) else best


def _gpu_driver() -> str | None:
    try:
        text = Path("/proc/driver/nvidia/version").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"Kernel Module\s+(?:for \S+\s+)?([0-9][0-9.]+)", text)
    return found.group(1) if found else None


def _torch_facts() -> dict:
    try:
        import torch
    except ImportError:
        return {"torch": None, "cuda": None, "gpu": None, "gpus": 0, "gpu_driver": None}
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return {"torch": torch.__version__.split("+")[0], "cuda": torch.version.cuda,
            "gpu": torch.cuda.get_device_name(0) if gpus else None, "gpus": gpus,
            "gpu_driver": _gpu_driver() if gpus else None}


@cache
def facts() -> dict:
    """This machine's fingerprint facts (read once per process)."""
    cpu = detect_cpu()
    return {"cpu": " ".join(cpu.name.split()), "cores": cpu.cores,
            "memory_gib": memory_bucket_gib(cpu.memory_bytes), "isa": list(cpu.isa_flags),
            "arch": cpu.extra.get("machine"), "system": cpu.extra.get("system"),
            **_torch_facts()}


def fingerprint_id(machine_facts: dict) -> str:
    """The 12-hex id of a set of facts (``ryot verify`` recomputes it)."""
    blob = json.dumps(machine_facts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def label(machine_facts: dict) -> str:
    """A short human name: ``Intel(R) Xeon(R) Processor · 2 cores · 24 GiB · amx_bf16``."""
    isa = machine_facts.get("isa") or []
    best = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "sve", "neon")
                 if f in isa), None)
    parts = [machine_facts.get("cpu") or "unknown CPU", f"{machine_facts.get('cores')} cores",
             f"{machine_facts.get('memory_gib')} GiB"]
    if best:
        parts.append(best)
    if machine_facts.get("gpu"):
        parts.append(f"{machine_facts.get('gpus')}× {machine_facts['gpu']}")
    return " · ".join(parts)


def fingerprint() -> dict:
    """``{"id", "label", "facts"}`` of this machine, as reports carry it."""
    found = facts()
    return {"id": fingerprint_id(found), "label": label(found), "facts": dict(found)}
