"""Locate and load the JSON Schemas shipped in ``schemas/`` (Draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

_PACKAGE_DIR = Path(__file__).resolve().parent


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


def describe(error: ValidationError) -> str:
    """``at /a/b: <what was expected>`` — the pointer plus jsonschema's message."""
    pointer = json_pointer(error) or "/ (document root)"
    return f"at {pointer}: {error.message}"
