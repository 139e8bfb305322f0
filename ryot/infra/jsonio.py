"""Strict JSON in, sealed JSON out: the one reader and the one seal every ryot file format uses.

* :func:`read_strict_json` — UTF-8 (a BOM is tolerated), no NaN/Infinity, no repeated keys, no
  runaway nesting; every error names the file and, for syntax errors, the line and column.
* :func:`sha256_of` / :func:`seal` — sha256 of the canonical JSON (sorted keys, no spaces) of a
  document without its seal fields; reports, checkpoint metadata and training checkpoint records
  are sealed this way.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from ryot.infra.errors import ConfigError, RyotError

__all__ = [
    "SEAL_FIELDS", "StrictJSONError", "body_of", "canonical", "no_duplicate_keys",
    "parse_strict", "read_strict_json", "reject_constant", "seal", "sha256_of"
]

SEAL_FIELDS = ("sha256", "hmac")


class StrictJSONError(RyotError):
    """A file that is not strict JSON: ``path`` (also ``source``) and ``message`` as data."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message, source=path)
        self.path = path


def reject_constant(name: str) -> Any:
    raise ConfigError(f"{name} is not valid JSON (use a finite number)")


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigError(f"duplicate key {key!r} in one object")
        seen[key] = value
    return seen


def parse_strict(text: str, *, object_pairs_hook: Callable = no_duplicate_keys) -> Any:
    """``json.loads`` without NaN/Infinity and, by default, without repeated keys."""
    return json.loads(text, parse_constant=reject_constant, object_pairs_hook=object_pairs_hook)


def read_strict_json(path: str | os.PathLike[str], error: type[Exception] | None = None, *,
                     object_pairs_hook: Callable = no_duplicate_keys) -> tuple[Any, bytes]:
    """(document, raw bytes) of a strict-JSON UTF-8 file. Problems raise ``error(f"{path}:
    {message}")``, or :class:`StrictJSONError` (path and message as data) when ``error`` is None."""
    try:
        return _read(path, object_pairs_hook)
    except StrictJSONError as exc:
        if error is None:
            raise
        raise error(str(exc)) from None


def _read(path: str | os.PathLike[str], object_pairs_hook: Callable) -> tuple[Any, bytes]:
    def fail(message: str) -> StrictJSONError:
        return StrictJSONError(str(path), message)

    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save "
                   "the file as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return parse_strict(text, object_pairs_hook=object_pairs_hook), raw
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise fail("invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise fail(f"invalid JSON: {exc}") from None


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def body_of(doc: dict, seal_fields: Iterable[str] = SEAL_FIELDS) -> dict:
    """The document without its seal fields: what a seal covers."""
    drop = set(seal_fields)
    return {k: v for k, v in doc.items() if k not in drop}


def sha256_of(obj: Any) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def seal(doc: dict, seal_fields: Iterable[str] = SEAL_FIELDS) -> dict:
    """``doc`` with its ``sha256`` set to the hash of its body."""
    body = body_of(doc, seal_fields)
    return {**body, "sha256": sha256_of(body)}
