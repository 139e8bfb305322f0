"""hyperfine's ``--export-json``: each command's ``times`` (seconds, one per run, in order)."""

from __future__ import annotations

from collections.abc import Mapping

from ryot.importers._common import entries_to_samples, numbers, read_json_file, refuse

__all__ = ["hyperfine", "read_hyperfine"]


def read_hyperfine(path: str) -> dict[str, list[float]]:
    doc = read_json_file(path, "hyperfine")
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise refuse(path, "not a hyperfine --export-json file (expected {\"results\": [...]})")
    entries = {}
    for i, r in enumerate(doc["results"]):
        if not isinstance(r, dict) or "command" not in r:
            raise refuse(path, f"/results/{i}: expected a result with a command")
        if "times" not in r:
            raise refuse(path, f"/results/{i} ({r['command']!r}) has no times: this hyperfine "
                               "is too old to export each run (hyperfine >= 1.6 does)")
        entries[str(r["command"])] = numbers(r["times"], path, f"/results/{i}/times")
    return entries


def hyperfine(n: int, params: Mapping):
    """Provider: ``{"file": "hf.json", "baseline": CMD, "candidate": CMD}`` or ``"entry"``.
    An entry is the command as hyperfine ran it, or its ``--command-name``."""
    return entries_to_samples(n, params, read_hyperfine, tool="hyperfine")
