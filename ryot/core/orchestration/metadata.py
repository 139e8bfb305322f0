"""Checkpoint metadata on disk: schema-checked, sha256-sealed, written atomically.

Beyond the schema, :func:`check` refuses what a schema cannot see: duplicate keys (in a file),
nesting deeper than ``MAX_DEPTH``, non-finite numbers, inverted bounds, and gate statistics that
no run could have produced. Every refusal is a :class:`CheckpointMetadataError` naming the
source and the JSON pointer.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ryot.infra.atomic import write_json_atomic
from ryot.infra.errors import CheckpointError
from ryot.infra.jsonio import body_of, read_strict_json, sha256_of
from ryot.infra.schemas import describe, first_error

__all__ = [
    "FORMAT", "FORMAT_VERSION", "MAX_DEPTH", "SCHEMA", "CheckpointMetadataError", "check",
    "content_sha256", "load", "save", "seal"
]

SCHEMA = "checkpoint_metadata"
FORMAT = "ryot.core.orchestration.metadata"
FORMAT_VERSION = 1
MAX_DEPTH = 32  # real metadata nests about 5 deep


class CheckpointMetadataError(CheckpointError):
    """Checkpoint metadata that is unreadable, invalid or corrupted."""


def content_sha256(meta: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the ``sha256`` field itself."""
    return sha256_of(body_of(meta, ("sha256",)))


def seal(meta: dict[str, Any]) -> dict[str, Any]:
    """Return ``meta`` with its ``sha256`` field set."""
    return {**meta, "sha256": content_sha256(meta)}


class _DuplicateKeys(dict):
    """A parsed JSON object that repeated a key (refused by :func:`check`)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    duplicates = []
    for key, _ in pairs:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    marked = _DuplicateKeys(obj)
    marked.duplicates = tuple(duplicates)
    return marked


def _pointer(parent: str, key: Any) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _scan(meta: Any, source: str) -> None:
    """Depth, duplicate keys and non-finite numbers, without recursion (deep input is refused,
    not a RecursionError; a cycle is refused as too deep)."""
    stack = [(meta, "", 0)]
    while stack:
        node, pointer, depth = stack.pop()
        where = pointer or "/"
        if depth > MAX_DEPTH:
            raise CheckpointMetadataError(f"{source}: nested deeper than {MAX_DEPTH} levels at "
                                          f"{where}")
        if isinstance(node, _DuplicateKeys):
            raise CheckpointMetadataError(
                f"{source}: duplicate key {node.duplicates[0]!r} at {where} (a JSON object may "
                "name each key once)")
        if isinstance(node, float) and not math.isfinite(node):
            raise CheckpointMetadataError(f"{source}: non-finite number {node} at {where}")
        if isinstance(node, dict):
            stack.extend((value, _pointer(pointer, key), depth + 1) for key, value in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((value, _pointer(pointer, i), depth + 1) for i, value in enumerate(node))


def _check_meaning(meta: dict[str, Any], source: str) -> None:
    """What the schema cannot express: ordered bounds, statistics a run could produce."""
    for name in ("loss", "grad_norm"):
        low, high = meta["bounds"][name]
        if low > high:
            raise CheckpointMetadataError(
                f"{source}: at /bounds/{name}: inverted bounds, low {low!r} > high {high!r}")
    stats = meta["gate_statistics"]
    checks, passed, violations = stats["checks"], stats["passed"], stats["violations"]
    failed = checks - passed
    if failed < 0:
        raise CheckpointMetadataError(
            f"{source}: at /gate_statistics/passed: {passed} passed of only {checks} checks")
    for gate, count in violations.items():
        if count > failed:
            raise CheckpointMetadataError(
                f"{source}: at /gate_statistics/violations/{gate}: {count} violations but only "
                f"{failed} failed checks ({checks} checks, {passed} passed)")
    if sum(violations.values()) < failed:
        raise CheckpointMetadataError(
            f"{source}: at /gate_statistics/violations: {failed} failed checks but only "
            f"{sum(violations.values())} violations (each failed check has at least one)")


def check(meta: Any, source: str = "checkpoint metadata") -> dict[str, Any]:
    """Validate against the schema, the rules above and the seal; raise CheckpointMetadataError
    naming the spot."""
    _scan(meta, source)
    try:
        error = first_error(SCHEMA, meta)
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. non-string keys
        raise CheckpointMetadataError(f"{source}: not a JSON document ({exc})") from None
    if error is not None:
        raise CheckpointMetadataError(f"{source}: invalid {describe(error)}")
    _check_meaning(meta, source)
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
    meta, _ = read_strict_json(path, CheckpointMetadataError, object_pairs_hook=_object)
    return check(meta, str(path))

