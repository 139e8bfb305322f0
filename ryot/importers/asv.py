"""asv's results files (``.asv/results/<machine>/<commit>-<env>.json``, result format version
2) written with ``asv run --record-samples``: each benchmark's ``samples`` (seconds for time
benchmarks, one per repeat). A parameterized benchmark's entries are named as asv shows them:
``suite.time_sort(100, 'quick')``. Without ``--record-samples`` only summaries are stored:
refused. Comparing two commits is two results files: ``baseline_file`` names the older one."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from ryot.importers._common import entries_to_samples, need_dict, numbers, read_json_file, refuse

__all__ = ["asv", "read_asv"]

RESULT_VERSION = 2


def read_asv(path: str) -> dict[str, list[float]]:
    doc = read_json_file(path, "asv results")
    if not isinstance(doc, dict) or "result_columns" not in doc or "results" not in doc:
        raise refuse(path, "not an asv results file (expected result_columns and results)")
    if doc.get("version") != RESULT_VERSION:
        raise refuse(path, f"asv results format version {doc.get('version')!r}; this importer "
                           f"reads version {RESULT_VERSION} (asv >= 0.5)")
    columns = doc["result_columns"]
    if not isinstance(columns, list):
        raise refuse(path, "result_columns: expected a list of column names")
    if "samples" not in columns:
        raise refuse(path, "no samples column: run asv with --record-samples")
    at = {name: i for i, name in enumerate(columns)}
    entries: dict[str, list[float]] = {}
    for name, row in need_dict(doc["results"], path, "results").items():
        if not isinstance(row, list):
            raise refuse(path, f"results/{name}: expected a list (one value per column)")
        samples = row[at["samples"]] if len(row) > at["samples"] else None
        params = row[at["params"]] if "params" in at and len(row) > at["params"] else []
        if samples is None:
            continue  # a benchmark without samples: lookups name what the file has
        if not isinstance(samples, list) or not isinstance(params, list) or not all(
                isinstance(p, list) for p in params):
            raise refuse(path, f"results/{name}: expected lists of samples and of parameters")
        size = 1
        for values in params:
            size *= len(values)
        if size != len(samples):  # checked before the combinations are made
            raise refuse(path, f"results/{name}: {len(samples)} sample lists for {size} "
                               "parameter combinations")
        combos = [""] if not params else [f"({', '.join(map(str, c))})"
                                          for c in itertools.product(*params)]
        for combo, values in zip(combos, samples, strict=True):
            if values is not None:  # a combination that failed or was skipped
                entries[f"{name}{combo}"] = numbers(values, path, f"results/{name}{combo}")
    if not entries and doc["results"]:
        raise refuse(path, "no benchmark has samples: run asv with --record-samples")
    return entries


def asv(n: int, params: Mapping):
    """Provider: ``{"file": NEW.json, "baseline_file": OLD.json, "baseline": "suite.time_x",
    "candidate": "suite.time_x"}``, or ``"entry"``."""
    return entries_to_samples(n, params, read_asv, tool="asv")
