"""What a run writes besides checkpoints (``train_log.json``), and how a failed write is said.

A file that cannot be written (disk full, a file-size limit, a read-only folder) is not the
user's mistake and not a ryot bug: :func:`unwritable` turns the ``OSError`` into a
:class:`~ryot.infra.errors.PublishError` naming the file and the OS error (the CLI exits 4).
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path
from typing import Any

from ryot.infra.atomic import write_json_atomic
from ryot.infra.errors import PublishError
from ryot.workload.train.records import TrainResult

__all__ = ["unwritable", "write_log"]


def unwritable(path: str | os.PathLike[str], exc: OSError, what: str = "") -> PublishError:
    """``could not write PATH: File too large (EFBIG)``, plus ``what`` (what was kept)."""
    code = errno.errorcode.get(exc.errno or 0)
    reason = f"{exc.strerror} ({code})" if exc.strerror and code else str(exc)
    return PublishError(f"could not write {path}: {reason}{what}", path=str(path))


def write_log(path: Path, result: TrainResult, orchestrator: Any) -> None:
    """Write ``train_log.json``: the result and the orchestrator's checkpoint metadata. A
    completed run that cannot write it raises :class:`PublishError`; a run that ended otherwise
    only warns (its own error is the one to report)."""
    try:
        log = {**result.to_dict(), "orchestrator": orchestrator.get_checkpoint_metadata()}
        write_json_atomic(path, log)
    except Exception as exc:
        if result.status != "completed":
            warnings.warn(f"could not write {path}: {exc}", RuntimeWarning, stacklevel=3)
        elif isinstance(exc, OSError):
            raise unwritable(path, exc) from exc
        else:
            raise
