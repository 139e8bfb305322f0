"""Checkpoint metadata on disk: schema-checked, sha256-sealed, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from .atomic import write_json_atomic
from .schemas import describe, first_error

SCHEMA = "checkpoint_metadata"
FORMAT = "ryot.checkpoint_metadata"
FORMAT_VERSION = 1


class CheckpointMetadataError(ValueError):
    """Checkpoint metadata that is unreadable, invalid or corrupted."""


def content_sha256(meta: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the ``sha256`` field itself."""
    body = {k: v for k, v in meta.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seal(meta: dict[str, Any]) -> dict[str, Any]:
    """Return ``meta`` with its ``sha256`` field set."""
    return {**meta, "sha256": content_sha256(meta)}


def check(meta: Any, source: str = "checkpoint metadata") -> dict[str, Any]:
    """Validate against the schema and the seal; raise CheckpointMetadataError naming the spot."""
    try:
        error = first_error(SCHEMA, meta)
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. non-string keys
        raise CheckpointMetadataError(f"{source}: not a JSON document ({exc})") from None
    if error is not None:
        raise CheckpointMetadataError(f"{source}: invalid {describe(error)}")
    try:
        expected = content_sha256(meta)
    except (TypeError, ValueError) as exc:
        raise CheckpointMetadataError(f"{source}: not strict JSON ({exc})") from None
    if meta["sha256"] != expected:
        raise CheckpointMetadataError(
            f"{source}: sha256 mismatch at /sha256 (stored {meta['sha256']}, content hashes to "
            f"{expected}): the metadata was modified or corrupted")
    return meta


def save(path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Seal (if needed), validate, then write atomically."""
    sealed = meta if "sha256" in meta else seal(meta)
    check(sealed, str(path))
    write_json_atomic(path, sealed)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read, parse, validate and verify the seal; errors name the file and the position."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointMetadataError(f"{path}: cannot read ({exc})") from None
    try:
        meta = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CheckpointMetadataError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise CheckpointMetadataError(f"{path}: {exc}") from None
    return check(meta, str(path))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")
