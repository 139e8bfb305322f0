"""Putting the report files into their folder as one set, or keeping them safe when that fails.

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

When a step fails with an ``OSError`` (disk full, a folder that appeared where a file goes),
the old set is left untouched (a failure before step 1) or wholly removed (after it), the new
files that got in are taken out again, and the rendered set is written into a folder of its own
beside the output folder (``<out>.unwritten-<time>``, or in the system temp folder when that
fails too): :class:`~ryot.infra.errors.PublishError` names the file, the OS error and that
folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from datetime import datetime
from pathlib import Path

from ryot.infra.errors import PublishError

__all__ = ["KEPT_INFIX", "MARKER", "OUTPUTS", "STAGING_PREFIX", "keep", "publish",
           "remove_stale_staging"]

OUTPUTS = ("report.json", "report.md", "junit.xml", "plot.png")
MARKER = "report.json"  # present only beside the rest of its own set
STAGING_PREFIX = ".ryot-staging-"
KEPT_INFIX = ".unwritten-"  # <out>.unwritten-<time>: a set that could not be put into <out>


class _Step(Exception):  # noqa: N818 - an OSError at a named path, on its way to PublishError
    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(path, error)
        self.path, self.error, self.touched = path, error, False


def _describe(path: Path, error: OSError) -> str:
    code = errno.errorcode.get(error.errno or -1)
    return f"{path}: {error.strerror or error}" + (f" ({code})" if code else "")


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


def _at(path: Path, action, *args) -> None:
    try:
        action(*args)
    except OSError as exc:
        raise _Step(path, exc) from exc


def _check_target(path: Path) -> None:
    """A name of the set must be free or a file (or link): never replace a folder."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _Step(path, exc) from exc
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        error = (IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)) if stat.S_ISDIR(mode)
                 else FileExistsError(errno.EEXIST, "exists and is not a file"))
        raise _Step(path, error)


def _stage(files: dict[str, bytes], out: Path) -> Path:
    _at(out, lambda: out.mkdir(parents=True, exist_ok=True))
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    except OSError as exc:
        raise _Step(out, exc) from exc
    try:
        for name, data in files.items():
            _at(out / name, _write_synced, staging / name, data)
        _fsync_dir(staging)
        for name in OUTPUTS:
            _check_target(out / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap(files: dict[str, bytes], staging: Path, out: Path) -> None:
    """Steps 1 and 2. On an OSError once step 1 has removed something, finish removing the old
    set, take out the new files that got in, mark the error ``touched`` and re-raise."""
    touched: list[str] = []  # names whose old file is gone or whose new file is in
    try:
        for name in sorted(OUTPUTS, key=lambda n: n != MARKER):  # the marker goes first
            if os.path.lexists(out / name):
                _at(out / name, (out / name).unlink)
                touched.append(name)
        for name in sorted(files, key=lambda n: n == MARKER):  # ... and comes back last
            _at(out / name, os.replace, staging / name, out / name)
            touched.append(name)
        _fsync_dir(out)
    except _Step as step:
        step.touched = bool(touched)
        for name in OUTPUTS if touched else ():
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(out / name).st_mode):  # never what stopped it
                    os.unlink(out / name)
        raise


def _keep_in(base: Path, stem: str, files: dict[str, bytes]) -> tuple[Path | None, list[str]]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(100):
        folder = base / f"{stem}{KEPT_INFIX}{stamp}{f'-{i}' if i else ''}"
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
        except OSError as exc:
            return None, [f"{folder}: {exc.strerror or exc}"]
    else:
        return None, [f"{folder}: exists"]
    missing = []
    for name in sorted(files, key=lambda n: n != MARKER):  # the data first
        try:
            _write_synced(folder / name, files[name])
        except OSError as exc:
            missing.append(f"{name}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                (folder / name).unlink()
    if len(missing) == len(files):
        shutil.rmtree(folder, ignore_errors=True)
        return None, missing
    return folder, missing


def keep(files: dict[str, bytes], out: Path) -> tuple[Path | None, list[str]]:
    """Write ``files`` into a new folder beside ``out`` (else in the system temp folder);
    return that folder (None when nothing could be written anywhere) and what it lacks."""
    best, best_missing = None, list(files)
    for base in (out.parent, Path(tempfile.gettempdir())):
        folder, missing = _keep_in(base, out.name or "report", files)
        if folder is None:
            if best is None:
                best_missing = missing  # why: the latest reasons
            continue
        if best is None or len(missing) < len(best_missing):
            if best is not None:
                shutil.rmtree(best, ignore_errors=True)
            best, best_missing = folder, missing
        else:
            shutil.rmtree(folder, ignore_errors=True)
        if not best_missing:
            break
    return best, best_missing


def _state(out: Path, touched: bool) -> str:
    if not touched:
        return f"nothing in {out} was changed"
    left = [n for n in OUTPUTS if (out / n).is_file()]
    if not left:
        return f"the previous report set in {out} was removed (never mixed with this one)"
    return (f"the previous report set in {out} was partly removed ({', '.join(left)} left; "
            f"without {MARKER} it is never taken for a whole set)")


def publish(files: dict[str, bytes], out: Path) -> dict[str, Path]:
    """Replace the report set in ``out`` by ``files`` (name -> content); return their paths.

    Raises :class:`PublishError` when an OS error stops that, after keeping ``files``."""
    try:
        staging = _stage(files, out)
    except _Step as step:
        raise _unwritten(files, out, step) from None
    try:
        _swap(files, staging, out)
    except _Step as step:
        shutil.rmtree(staging, ignore_errors=True)  # what it held is freed before keeping
        raise _unwritten(files, out, step) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: out / name for name in files}


def _unwritten(files: dict[str, bytes], out: Path, step: _Step) -> PublishError:
    kept, missing = keep(files, out)
    if kept is None:
        where = "the finished report could not be kept anywhere either (" + "; ".join(
            missing) + ")"
    else:
        where = f"the finished report set is kept in {kept}" + (
            f" (all but {'; '.join(missing)})" if missing else "")
    return PublishError(f"could not write the report set into {out}: "
                        f"{_describe(step.path, step.error)}; {_state(out, step.touched)}; "
                        f"{where}", path=str(step.path), kept=None if kept is None else str(kept))
