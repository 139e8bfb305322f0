"""Training checkpoints: tensors in ``step-<N>.pt``, everything else in ``step-<N>.json``.

* ``step-<N>.pt`` holds only tensors in plain containers (model and optimizer state, RNG
  states). It is read with ``torch.load(weights_only=True)``: a file that would need any other
  object to unpickle is refused, so loading a checkpoint never runs code from it.
* ``step-<N>.json`` (strict JSON) holds the rest of the state, the step, and the sha256 and size
  of the ``.pt``. It is written after the ``.pt``, both atomically, so a checkpoint is complete
  exactly when its JSON exists and the ``.pt`` hashes to the recorded sha256.
* The JSON is sealed too: ``record_sha256`` is the sha256 of its canonical JSON without that
  field (:func:`ryot.infra.jsonio.sha256_of`), so an edited config, loss or step is refused
  like a flipped bit in the tensors.
* A write that fails (disk full) leaves no half pair: the new ``.pt`` goes when its record could
  not be written, and :class:`~ryot.infra.errors.PublishError` names the file; the earlier
  checkpoints stay.

:func:`load_latest` returns the newest intact checkpoint, warning about each newer one it had to
skip; :func:`prune` keeps the newest ``keep``. Only names ``step-<int>.pt`` count, ordered by
their number (``step-1000000`` is newer than ``step-999999``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ryot.infra.atomic import write_bytes_atomic, write_json_atomic
from ryot.infra.errors import CheckpointError
from ryot.infra.interrupts import deferred
from ryot.infra.jsonio import body_of, read_strict_json, sha256_of
from ryot.workload.train.outputs import unwritable

__all__ = [
    "FORMAT", "FORMAT_VERSION", "SEAL", "Checkpoint", "CheckpointWarning", "checkpoints", "latest",
    "load", "load_latest", "path_for", "prune", "remove_stale_temporaries", "save", "seal",
    "sidecar", "step_of"
]

FORMAT = "ryot.train_checkpoint"
FORMAT_VERSION = 2  # 2: the record is sealed (``record_sha256``)
SEAL = "record_sha256"
_NAME = re.compile(r"step-(\d+)\.pt")


class CheckpointWarning(RuntimeWarning):
    """A damaged checkpoint was skipped in favour of an earlier intact one."""


@dataclass(frozen=True)
class Checkpoint:
    path: Path  # the .pt file
    step: int
    tensors: dict[str, Any]  # what save() got as ``tensors``
    state: dict[str, Any]  # what save() got as ``state`` (JSON values)


def path_for(directory: str | os.PathLike[str], step: int) -> Path:
    return Path(directory) / f"step-{step:06d}.pt"


def sidecar(path: str | os.PathLike[str]) -> Path:
    """The JSON file that completes the checkpoint ``path``."""
    return Path(path).with_suffix(".json")


def save(path: str | os.PathLike[str], tensors: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write the tensors, then the sealed JSON record that completes them. ``state`` must be
    strict JSON. A failed write leaves neither file of a half pair and raises
    :class:`PublishError` for an ``OSError``."""
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    data = buffer.getvalue()
    path = Path(path)
    record = json.loads(json.dumps({  # the seal covers the record as it will be read back
        "format": FORMAT, "format_version": FORMAT_VERSION, "step": step_of(path),
        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "state": state},
        allow_nan=False))
    target = path
    with deferred():  # a SIGTERM between the two files waits until the pair is whole
        try:
            write_bytes_atomic(path, data)
            target = sidecar(path)
            write_json_atomic(target, seal(record))
        except BaseException as exc:
            if target != path:  # new tensors without their record: not a checkpoint
                with contextlib.suppress(OSError):
                    _delete((target, path))
            if isinstance(exc, OSError):
                raise unwritable(target, exc, "; the earlier checkpoints are kept") from exc
            raise
    return path


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its ``record_sha256`` set to the hash of everything else in it."""
    body = body_of(record, (SEAL,))
    return {**body, SEAL: sha256_of(body)}


def step_of(path: str | os.PathLike[str]) -> int | None:
    """The step in a ``step-<int>.pt`` name, else None."""
    match = _NAME.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


def _read_record(path: Path) -> dict[str, Any]:
    record_path = sidecar(path)
    if not record_path.exists():
        raise CheckpointError(f"{path}: incomplete checkpoint: its record {record_path.name} is "
                              "missing (the run stopped while writing it, or an older ryot wrote "
                              "it)")
    record, _ = read_strict_json(record_path, CheckpointError)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{record_path}: not a ryot training checkpoint record "
                              f"(expected an object with \"format\": \"{FORMAT}\")")
    if record.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{record_path}: unsupported format_version "
                              f"{record.get('format_version')!r} (expected {FORMAT_VERSION})")
    expected = sha256_of(body_of(record, (SEAL,)))
    if record.get(SEAL) != expected:
        raise CheckpointError(f"{record_path}: edited or damaged after it was written ({SEAL} "
                              f"{record.get(SEAL)!r}, its content hashes to {expected})")
    for key, kind in (("sha256", str), ("bytes", int), ("step", int), ("state", dict)):
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            raise CheckpointError(f"{record_path}: field {key!r} must be a {kind.__name__}, "
                                  f"got {record.get(key)!r}")
    if record["step"] != step_of(path):
        raise CheckpointError(f"{record_path}: records step {record['step']} but the file is "
                              f"named {path.name}")
    return record


def _why(exc: Exception) -> str:
    """The line of torch's long weights-only message that names the refused object."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line for line in lines if "unsupported" in line.lower()]
    return (named or lines or [type(exc).__name__])[0]


def load(path: str | os.PathLike[str]) -> Checkpoint:
    """Verify and read one checkpoint; :class:`CheckpointError` names the file and the fault."""
    path = Path(path)
    if step_of(path) is None:
        raise CheckpointError(f"{path}: not a checkpoint name (expected step-<int>.pt)")
    record = _read_record(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != record["bytes"] or digest != record["sha256"]:
        raise CheckpointError(
            f"{path}: corrupted (sha256 {digest}, {len(data)} bytes; {sidecar(path).name} records "
            f"{record['sha256']}, {record['bytes']} bytes)")
    try:
        tensors = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: refused: it holds objects other than tensors and plain "
                              f"containers, which could run code when loaded "
                              f"({_why(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - any other damage to a foreign file
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(tensors, dict):
        raise CheckpointError(f"{path}: expected a dict of tensors, got {type(tensors).__name__}")
    return Checkpoint(path, record["step"], tensors, record["state"])


def checkpoints(directory: str | os.PathLike[str]) -> list[Path]:
    """The ``step-<int>.pt`` files in ``directory``, oldest step first; other names are ignored."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        step = step_of(entry.name)
        if step is not None and stat.S_ISREG(entry.stat().st_mode):
            found.append((step, Path(entry.path)))
    return [path for _, path in sorted(found)]


def latest(directory: str | os.PathLike[str]) -> Path | None:
    """The checkpoint file with the highest step (not verified; see :func:`load_latest`)."""
    found = checkpoints(directory)
    return found[-1] if found else None


def load_latest(directory: str | os.PathLike[str], at_most: int | None = None) -> Checkpoint | None:
    """The newest intact checkpoint (with step <= ``at_most``), or None when there is none.

    Each damaged newer one is skipped with a :class:`CheckpointWarning`; when every checkpoint
    is damaged, :class:`CheckpointError` lists them all.
    """
    candidates = [p for p in checkpoints(directory) if at_most is None or step_of(p) <= at_most]
    failures = []
    for path in reversed(candidates):
        try:
            found = load(path)
        except CheckpointError as exc:
            failures.append(str(exc))
            warnings.warn(f"skipping damaged checkpoint: {exc}", CheckpointWarning, stacklevel=2)
            continue
        if failures:
            warnings.warn(f"using {path} (step {found.step}), the newest intact checkpoint",
                          CheckpointWarning, stacklevel=2)
        return found
    if failures:
        raise CheckpointError(f"{directory}: no intact checkpoint; " + "; ".join(failures))
    return None


def _delete(files) -> list[Path]:
    """Delete ``files`` in order (a file already gone is fine); return those deleted."""
    removed = []
    for file in files:
        try:
            file.unlink()
            removed.append(file)
        except FileNotFoundError:
            pass
    return removed


def remove_stale_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the hidden ``.step-*.tmp`` files a killed run left mid-write (an atomic write
    never exposes them under a checkpoint's name; they only take space)."""
    return _delete(Path(directory).glob(".step-*.tmp"))


def prune(directory: str | os.PathLike[str], keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest checkpoints (``keep=0``: keep all), and a killed
    run's temporary files; return the deleted."""
    removed = remove_stale_temporaries(directory)
    if keep <= 0:
        return removed
    for path in checkpoints(directory)[:-keep]:
        # the record first: a half-deleted pair is incomplete
        removed += _delete((sidecar(path), path))
    return removed
