"""Strict JSON in, sealed JSON out: the one reader and the one seal every ryot file format uses.

* :func:`read_strict_json` — UTF-8 (a BOM is tolerated), no NaN/Infinity, no number beyond the
  range of a float (``1e999``, a 400-digit integer), no repeated keys, no runaway nesting; every
  error names the file and the line and column of a syntax error or the JSON pointer of a
  refused number.
* :func:`sha256_of` / :func:`seal` — sha256 of the canonical JSON (sorted keys, no spaces) of a
  document without its seal fields; reports, checkpoint metadata and training checkpoint records
  are sealed this way.
"""

from __future__ import annotations

import hashlib
import json
import math
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

    def __init__(self, path: str, message: str, pointer: str | None = None) -> None:
        super().__init__(message, source=path, pointer=pointer)
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


class _Refused:
    """A number strict JSON refuses, left in the document until its pointer is found."""

    def __init__(self, message: str) -> None:
        self.message = message


def _number_text(text: str) -> str:
    if len(text) <= 24:
        return text
    digits = text.lstrip("-")
    what = (f"a {len(digits)}-digit integer" if digits.isdigit()
            else f"a {len(text)}-character number")
    return f"{what} ({text[:10]}…)"


def _pointer_of_refused(doc: Any) -> tuple[str, str]:
    """(JSON pointer, message) of the first refused number, in document order (no recursion)."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, _Refused):
            return pointer or "/ (document root)", node.message
        items = (node.items() if isinstance(node, dict)
                 else enumerate(node) if isinstance(node, list) else ())
        children = [(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
                    for key, value in items]
        stack.extend(reversed(children))
    raise AssertionError("a refused number was not found in the document")


def parse_strict(text: str, *, object_pairs_hook: Callable = no_duplicate_keys) -> Any:
    """``json.loads`` without NaN/Infinity, without numbers beyond the range of a float (they
    would become infinite or overflow later) and, by default, without repeated keys. A refused
    number raises ConfigError with its JSON pointer."""
    refused: list[_Refused] = []

    def refuse(message: str) -> _Refused:
        refused.append(_Refused(message))
        return refused[-1]

    def out_of_range(text: str) -> _Refused:
        return refuse(f"{_number_text(text)} is beyond the range of a float (about ±1.8e308); "
                      "use a finite number")

    def parse_float(text: str) -> float | _Refused:
        value = float(text)
        return value if math.isfinite(value) else out_of_range(text)

    def parse_int(text: str) -> int | _Refused:
        if len(text) < 300:  # well inside the float range
            return int(text)
        try:
            value = int(text)
            float(value)
        except (ValueError, OverflowError):  # ValueError: past int's digit limit
            return out_of_range(text)
        return value

    def parse_constant(name: str) -> _Refused:
        return refuse(f"{name} is not valid JSON (use a finite number)")

    doc = json.loads(text, parse_float=parse_float, parse_int=parse_int,
                     parse_constant=parse_constant, object_pairs_hook=object_pairs_hook)
    if refused:
        pointer, message = _pointer_of_refused(doc)
        raise ConfigError(message, pointer=pointer)
    return doc


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
    except RyotError as exc:
        if exc.pointer is None:
            raise fail(f"invalid JSON: {exc.message}") from None
        raise StrictJSONError(str(path), exc.message, exc.pointer) from None
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
