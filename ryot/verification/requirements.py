"""What a criterion's ``requires`` names, checked on this machine (each with a reason)."""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["CHECKS", "unmet"]


def _cuda() -> str | None:
    import torch

    return None if torch.cuda.is_available() else "no CUDA device is available"


def _multi_gpu() -> str | None:
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return None if count >= 2 else f"needs 2 or more CUDA devices, found {count}"


def _module(name: str):
    def check() -> str | None:
        return (None if importlib.util.find_spec(name)
                else f"the Python package {name} is not installed")
    return check


def _nvml() -> str | None:
    if importlib.util.find_spec("pynvml") is None:
        return "NVML is unavailable (the pynvml package is not installed)"
    return _cuda()


CHECKS = {
    "cuda": _cuda,
    "multi_gpu": _multi_gpu,
    "nvml": _nvml,
    "triton": _module("triton"),
    "bitsandbytes": _module("bitsandbytes"),
    "linux": lambda: (None if sys.platform.startswith("linux")
                      else f"needs Linux, this is {sys.platform}"),
}


def unmet(requires) -> str | None:
    """The first unmet requirement's reason, or None when all are met."""
    for name in requires:
        reason = CHECKS[name]()
        if reason:
            return f"requires {name}: {reason}"
    return None
