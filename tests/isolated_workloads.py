"""Module-level functions for tests of ryot.infra.isolation (spawned processes import them)."""


def allocate(megabytes: int) -> int:
    import numpy as np

    block = np.ones(megabytes * (1 << 20) // 8)
    return int(block.size)


def explode() -> None:
    raise ValueError("boom")


def quick_arm_added_mib(mode: str) -> float:
    """One arm of memory.reduction on the quick preset: MiB training adds in its own process."""
    from ryot.metrics.measurements import training_memory_added
    from ryot.metrics.origin import _memory
    from ryot.workload.presets import QUICK

    return training_memory_added(_memory(QUICK, mode)) / 2**20


def environment_seen() -> dict:
    import os
    import sys

    return {"cwd": os.getcwd(), "main": getattr(sys.modules["__main__"], "__spec__", None)
            and sys.modules["__main__"].__spec__.name, "pytest": "pytest" in sys.modules,
            "env": sorted(k for k in os.environ if k.startswith(("PYTEST_", "PYTHONMALLOC")))}


def map_a_file_and_allocate(path: str, anon_mib: int) -> dict:
    """A stand-in training arm: reads a file through a mapping (file-backed pages, as library
    code is) and allocates ``anon_mib`` MiB of its own; returns what the memory criteria read."""
    import mmap

    import numpy as np

    from ryot.infra.isolation import file_backed_bytes
    from ryot.metrics.measurements import rss_before_training, training_memory

    before, file_before = rss_before_training(), file_backed_bytes()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        touched = sum(mapped[i] for i in range(0, len(mapped), 4096))
        block = np.ones(anon_mib * (1 << 20) // 8)
        out = training_memory(before, file_before)
    return {**out, "touched": touched, "size": int(block.size)}
