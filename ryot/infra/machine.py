"""Hardware facts read from the OS and the CUDA runtime, never assumed."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from functools import cache

__all__ = ["HardwareProfile", "detect", "detect_cpu", "detect_cuda"]

# ISA flags worth knowing for kernel choices, as /proc/cpuinfo spells them.
_INTERESTING_CPU_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c",
    "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "avx512_fp16",
    "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve", "sve2", "neon",
)


@dataclass(frozen=True)
class HardwareProfile:
    """What one device is. ``kind`` is ``cpu`` or ``cuda``."""

    kind: str
    name: str
    cores: int  # CPU logical cores, or CUDA streaming multiprocessors
    memory_bytes: int
    isa_flags: tuple[str, ...] = ()  # CPU only
    capability: tuple[int, int] | None = None  # CUDA only
    l2_cache_bytes: int | None = None  # CUDA only
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["isa_flags"] = list(self.isa_flags)
        d["capability"] = list(self.capability) if self.capability else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> HardwareProfile:
        d = dict(d)
        d["isa_flags"] = tuple(d.get("isa_flags", ()))
        cap = d.get("capability")
        d["capability"] = tuple(cap) if cap else None
        return cls(**d)

    def fingerprint(self) -> str:
        """Short stable id of the hardware: used to key tuning caches."""
        blob = json.dumps(
            [self.kind, self.name, self.cores, self.isa_flags, self.capability], sort_keys=True
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read_cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break  # the first processor block is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _total_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def detect_cpu() -> HardwareProfile:
    info = _read_cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    if platform.machine() in ("aarch64", "arm64") and "asimd" in flags:
        flags.add("neon")
    name = info.get("model name") or info.get("Hardware") or platform.processor() or "unknown CPU"
    return HardwareProfile(
        kind="cpu",
        name=name,
        cores=os.cpu_count() or 1,
        memory_bytes=_total_memory_bytes(),
        isa_flags=tuple(f for f in _INTERESTING_CPU_FLAGS if f in flags),
        extra={"machine": platform.machine(), "system": platform.system()},
    )


def detect_cuda(index: int = 0) -> HardwareProfile:
    import torch

    props = torch.cuda.get_device_properties(index)
    return HardwareProfile(
        kind="cuda",
        name=props.name,
        cores=props.multi_processor_count,
        memory_bytes=props.total_memory,
        capability=(props.major, props.minor),
        l2_cache_bytes=getattr(props, "L2_cache_size", None),
        extra={"cuda": str(torch.version.cuda)},
    )


@cache
def detect(device: str | None = None) -> HardwareProfile:
    """The CUDA device when one is present (or asked for), else the CPU. Cached per process."""
    if device is None or device.startswith("cuda"):
        try:
            import torch

            if torch.cuda.is_available():
                index = int(device.split(":")[1]) if device and ":" in device else 0
                return detect_cuda(index)
        except ImportError:
            pass
    return detect_cpu()
