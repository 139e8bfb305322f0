"""The output folder of a run: checked before anything is measured, locked while in use.

A run takes an exclusive ``flock`` on ``DIR/.ryot.lock`` (the file stays; the lock goes with
the process, even when it is killed), so two runs never write into one folder at once: the
second one stops before measuring, with an :class:`OutputError` (exit code 2). The folder is
made absolute when it is claimed (a provider that changes the working directory does not move
where the report goes), and every name the report set will take in it is checked then: a folder
named ``report.md`` in ``--out`` is exit 2 before anything is measured, not a lost run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ryot.infra.errors import OutputError
from ryot.verification.writers.publish import OUTPUTS, remove_stale_staging

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


def _check_names(out: Path, label: str) -> None:
    """Each name the report set takes must be free or a file (or link) that can be replaced."""
    for name in OUTPUTS:
        try:
            mode = os.lstat(out / name).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"{label} {out}: cannot look at {out / name}: "
                              f"{exc.strerror or exc}") from None
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a file"
            raise OutputError(f"{label} {out}: {out / name} is {kind}, and the report's {name} "
                              f"goes there; move it away or choose another folder")


@contextlib.contextmanager
def claimed(path: str | os.PathLike[str], label: str = "output folder") -> Iterator[Path]:
    """Create ``path`` if needed, prove it writable and lock it for this block; yield it as an
    absolute path (what a later ``os.chdir`` cannot move).

    ``label`` names the argument in messages (``--out``, ``--ryot-out``).
    """
    out = Path(os.path.abspath(os.fspath(path)))
    _create(out, label)
    lock_path = out / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"{label} {out}: cannot write there ({lock_path}: "
                          f"{exc.strerror or exc})") from None
    try:
        _lock(fd, out, label)
        _check_names(out, label)
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
