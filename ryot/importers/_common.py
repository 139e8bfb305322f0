"""What every importer shares: reading a tool's file with errors that name it, units, and
turning entries into ryot samples (two entries: ``two_sample``; one entry: ``scalar``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ryot.infra.errors import ConfigError
from ryot.measure.samples import Samples, two_sample

__all__ = ["SECONDS_PER", "add", "entries_to_samples", "need_dict", "numbers", "read_json_file",
           "refuse"]

SECONDS_PER = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def refuse(path: str, message: str) -> ConfigError:
    return ConfigError(message, source=str(path))


def read_json_file(path: str, tool: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise refuse(path, f"cannot read this {tool} file: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise refuse(path, f"not a {tool} JSON file ({exc})") from None


def _unit(params: Mapping) -> float:
    unit = params.get("unit", "s")
    if unit not in SECONDS_PER:
        raise ConfigError(f"params.unit: expected one of {', '.join(SECONDS_PER)}, got {unit!r}")
    return SECONDS_PER[unit]


def _lookup(entries: Mapping[str, list[float]], name: Any, path: str, what: str) -> list[float]:
    if not isinstance(name, str):
        raise ConfigError(f"params.{what}: expected an entry name (a string), got {name!r}")
    if name not in entries:
        shown = ", ".join(sorted(entries)[:20]) or "none"
        raise refuse(path, f"no entry {name!r} ({what}); the file has: {shown}")
    if entries[name] is None:
        raise refuse(path, f"{name!r} ({what}) names several entries of the file; give a name "
                           "only one has (a fullname, or label/sub_label/description)")
    return entries[name]


def entries_to_samples(n: int, params: Mapping, read: Callable[[str], Mapping[str, list[float]]],
                       **details: Any) -> Samples | list[float]:
    """The samples a criterion over ``read(file)``'s entries (name -> seconds) asks for.

    ``baseline`` + ``candidate``: both arms whole, as two-sample data (the tool ran one after
    the other); ``baseline_file`` reads the baseline from another file of the same tool.
    ``entry``: that entry's values in the tool's order, ``n`` at a time from ``_offset``, as
    scalar samples in ``unit`` (s, ms, us, ns; default s).
    """
    path = params.get("file")
    if not isinstance(path, str):
        raise ConfigError(f"params.file: expected the path of the tool's result file, got {path!r}")
    if "entry" in params:
        if "baseline" in params or "candidate" in params:
            raise ConfigError("params: give either entry, or baseline and candidate")
        values = _lookup(read(path), params["entry"], path, "entry")
        start = int(params.get("_offset", 0))
        if start + n > len(values):
            raise refuse(path, f"entry {params['entry']!r} holds {len(values)} runs; the "
                               f"criterion asks for {start + n} (set max_samples <= "
                               f"{len(values)})")
        scale = _unit(params)
        return [v / scale for v in values[start:start + n]]
    if "baseline" not in params or "candidate" not in params:
        raise ConfigError("params: expected entry (one entry against a threshold), or baseline "
                          "and candidate (two entries compared)")
    candidate_entries = read(path)
    base_path = params.get("baseline_file", path)
    baseline_entries = candidate_entries if base_path == path else read(base_path)
    baseline = _lookup(baseline_entries, params["baseline"], base_path, "baseline")
    candidate = _lookup(candidate_entries, params["candidate"], path, "candidate")
    return two_sample(baseline, candidate, **details, file=path, baseline_file=base_path,
                      baseline_entry=params["baseline"], candidate_entry=params["candidate"])


def add(entries: dict, name: str, values: list[float]) -> None:
    """Add an entry; a name two different entries share becomes ambiguous (None)."""
    if name in entries and entries[name] != values:
        entries[name] = None
    else:
        entries.setdefault(name, values)


def need_dict(value: Any, path: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise refuse(path, f"{where}: expected an object, got {type(value).__name__}")
    return value


def numbers(values: Sequence, path: str, where: str) -> list[float]:
    if not isinstance(values, list) or not all(isinstance(v, (int, float))
                                               and not isinstance(v, bool) for v in values):
        raise refuse(path, f"{where}: expected a list of numbers")
    return [float(v) for v in values]
