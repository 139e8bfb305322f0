"""Putting the report files into their folder as one set.

The files are first written (and fsync'd) into a staging folder inside the output folder,
then moved into place in an order that never shows a mix of two runs:

1. the previous set is removed, ``report.json`` first;
2. the new files are renamed in (same file system: each rename is atomic), ``report.json`` last.

At every moment the folder holds files of one run only, and ``report.json`` is present only
when the rest of its set is. A run killed midway leaves no ``report.json`` (and perhaps a
``.ryot-staging-*`` folder, removed by the next run in that folder). Replacing the whole
folder instead would be one step shorter but could swap away files that are not ryot's when
``--out`` names a folder in use for other things. Callers hold the folder's lock
(:mod:`..outdir`), so no other run writes there meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["MARKER", "OUTPUTS", "STAGING_PREFIX", "publish", "remove_stale_staging"]

OUTPUTS = ("report.json", "report.md", "junit.xml", "plot.png")
MARKER = "report.json"  # present only beside the rest of its own set
STAGING_PREFIX = ".ryot-staging-"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_staging(out: Path) -> None:
    """Remove staging folders a killed run left behind (call only while holding the lock)."""
    for stale in out.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def publish(files: dict[str, bytes], out: Path) -> dict[str, Path]:
    """Replace the report set in ``out`` by ``files`` (name -> content); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        for name, data in files.items():
            _write_synced(staging / name, data)
        _fsync_dir(staging)
        for name in sorted(OUTPUTS, key=lambda n: n != MARKER):  # the marker goes first
            (out / name).unlink(missing_ok=True)
        for name in sorted(files, key=lambda n: n == MARKER):  # ... and comes back last
            os.replace(staging / name, out / name)
        _fsync_dir(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: out / name for name in files}
