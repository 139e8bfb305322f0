"""Locate and load the JSON Schemas shipped in ``schemas/`` (Draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = [
    "EXCERPT_CHARS", "describe", "describe_parts", "excerpt", "first_error", "json_pointer",
    "schema_dir", "validator"
]

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # ryot/


def schema_dir() -> Path:
    """``ryot/schema_files`` in an installed wheel, else the repository's top-level ``schemas/``."""
    for candidate in (_PACKAGE_DIR / "schema_files", _PACKAGE_DIR.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ryot's schemas/ folder is missing from this installation")


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for ``schemas/<name>.schema.json`` (cached per process)."""
    path = schema_dir() / f"{name}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def json_pointer(error: ValidationError) -> str:
    """RFC 6901 pointer to the offending value ("" is the document root)."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path]
    return "/" + "/".join(parts) if parts else ""


def first_error(name: str, document: object) -> ValidationError | None:
    """The error a person should see first (jsonschema's best_match), or None when valid."""
    return best_match(validator(name).iter_errors(document))


EXCERPT_CHARS = 120  # the longest quote of a document's value an error message carries


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and end."""
    if len(text) <= limit:
        return text
    keep = max(limit // 2 - 10, 1)
    return f"{text[:keep]} …[{len(text) - 2 * keep} characters]… {text[-keep:]}"


def describe_parts(error: ValidationError) -> tuple[str, str]:
    """(pointer, what was expected): jsonschema's message quoting at most a short excerpt of
    the offending value (a document may be megabytes long)."""
    pointer = json_pointer(error) or "/ (document root)"
    message = error.message
    quoted = repr(error.instance)
    if len(quoted) > EXCERPT_CHARS and quoted in message:
        message = message.replace(quoted, excerpt(quoted))
    return excerpt(pointer), excerpt(message, 4 * EXCERPT_CHARS)


def describe(error: ValidationError) -> str:
    """``at /a/b: <what was expected>``."""
    pointer, message = describe_parts(error)
    return f"at {pointer}: {message}"
