"""The output folder of a run: checked before anything is measured, locked while in use.

A run takes an exclusive ``flock`` on ``DIR/.ryot.lock`` (the file stays; the lock goes with
the process, even when it is killed), so two runs never write into one folder at once: the
second one stops before measuring, with an :class:`OutputError` (exit code 2).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from ryot.infra.errors import OutputError
from ryot.verification.writers.publish import remove_stale_staging

__all__ = ["LOCK_NAME", "claimed"]

LOCK_NAME = ".ryot.lock"


def _create(out: Path, label: str) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{label} {out}: exists and is not a folder")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{label} {out}: {parent} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{label} {out}: cannot create the folder: "
                          f"{exc.strerror or exc}") from None


@contextlib.contextmanager
def claimed(path: str | os.PathLike[str], label: str = "output folder") -> Iterator[Path]:
    """Create ``path`` if needed, prove it writable and lock it for this block.

    ``label`` names the argument in messages (``--out``, ``--ryot-out``).
    """
    out = Path(path)
    _create(out, label)
    lock_path = out / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"{label} {out}: cannot write there ({lock_path}: "
                          f"{exc.strerror or exc})") from None
    try:
        _lock(fd, out, label)
        remove_stale_staging(out)  # what a killed run left; no one else writes here now
        yield out
    finally:
        os.close(fd)  # releases the lock


def _lock(fd: int, out: Path, label: str) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; runs into one folder are not guarded
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise OutputError(f"{label} {out}: is in use by another ryot run (it holds "
                              f"{out / LOCK_NAME}); wait for it or choose another folder") from None
        raise OutputError(f"{label} {out}: cannot lock {out / LOCK_NAME}: "
                          f"{exc.strerror or exc}") from None
