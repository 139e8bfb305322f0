"""Module-level functions for tests of ryot.infra.isolation (spawned processes import them)."""


def allocate(megabytes: int) -> int:
    import numpy as np

    block = np.ones(megabytes * (1 << 20) // 8)
    return int(block.size)


def explode() -> None:
    raise ValueError("boom")


def quick_arm_added_mib(mode: str) -> float:
    """One arm of memory.reduction on the quick preset: MiB training adds in its own process."""
    from ryot.metrics.origin import _memory
    from ryot.workload.presets import QUICK

    m = _memory(QUICK, mode)
    return (m["peak"] - m["before"]) / 2**20


def environment_seen() -> dict:
    import os
    import sys

    return {"cwd": os.getcwd(), "main": getattr(sys.modules["__main__"], "__spec__", None)
            and sys.modules["__main__"].__spec__.name, "pytest": "pytest" in sys.modules,
            "env": sorted(k for k in os.environ if k.startswith(("PYTEST_", "PYTHONMALLOC")))}
