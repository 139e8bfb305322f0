"""memory.reduction counts the memory a training arm allocates, not the library code it maps:
file-backed pages (how many a first call maps depends on the page cache) are left out, and the
evidence says how many."""

from __future__ import annotations

from pathlib import Path

import pytest

from ryot.infra.isolation import run_isolated
from ryot.metrics.measurements import training_memory_added
from tests.isolated_workloads import map_a_file_and_allocate

MIB = 1 << 20


def _filesystem(path) -> str:
    """The type of the file system ``path`` is on (the longest mount point above it)."""
    best, kind = "", ""
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            point = fields[1]
            if str(path).startswith(point.rstrip("/") + "/") and len(point) > len(best):
                best, kind = point, fields[2]
    return kind


def test_mapped_file_pages_are_left_out_and_allocations_counted(tmp_path):
    if not Path("/proc/self/mounts").exists():
        pytest.skip("no /proc: resident memory is not split into file-backed and allocated")
    if _filesystem(tmp_path) == "tmpfs":  # its pages count as shared memory, not file-backed
        pytest.skip(f"{tmp_path} is on tmpfs, whose mapped pages are RssShmem, not RssFile")
    path = tmp_path / "library.bin"
    path.write_bytes(bytes(range(256)) * (96 * MIB // 256))  # 96 MiB that a reader maps
    m = run_isolated(map_a_file_and_allocate, str(path), 64).value
    mapped = m["file_after"] - m["file_before"]
    assert mapped > 80 * MIB  # the file's pages were resident in the arm's process
    assert m["peak"] - m["before"] > 140 * MIB  # and the raw peak counts them
    assert 60 * MIB < training_memory_added(m) < 64 * MIB + 16 * MIB
