"""Module-level functions for tests of ryot.infra.isolation (spawned processes import them)."""


def allocate(megabytes: int) -> int:
    import numpy as np

    block = np.ones(megabytes * (1 << 20) // 8)
    return int(block.size)


def explode() -> None:
    raise ValueError("boom")
