"""Escaping text from criteria files, providers and exceptions for Markdown (GitHub flavour)."""

from __future__ import annotations

import re

__all__ = ["code", "fenced", "text"]

_SPECIAL = re.compile(r"([\\`*_\[\]|~&]|<(?=[A-Za-z/!?]))")  # "<" only where a tag could start
_NEWLINES = re.compile(r"\r\n|\r|\n")


def text(s: object) -> str:
    """Literal text, safe inside a table cell: specials escaped, line breaks as ``<br>``."""
    return _NEWLINES.sub("<br>", _SPECIAL.sub(r"\\\1", str(s)))


def code(s: object) -> str:
    """An inline code span of ``s`` on one line, safe inside a table cell."""
    body = _NEWLINES.sub(" ", str(s)).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def fenced(s: str, info: str = "text") -> str:
    """A fenced code block holding ``s`` verbatim."""
    fence = "~" * max(3, max((len(run) + 1 for run in re.findall("~+", s)), default=0))
    return f"{fence}{info}\n{s.rstrip(chr(10))}\n{fence}"
