"""``torch.utils.benchmark`` Measurements: each run's time per call (``raw_times[i] /
number_per_run``, seconds), from a JSON file of ``dataclasses.asdict(measurement)`` (one, or a
list of them) or, with ``"pickle": true``, a pickled Measurement or list (a pickle runs code
when loaded: only files you trust, as with criteria files). An entry is the Measurement's
``description``, ``sub_label``, ``label`` or ``stmt``, or ``label/sub_label/description``."""

from __future__ import annotations

import pickle
from collections.abc import Mapping

from ryot.importers._common import (
    add,
    entries_to_samples,
    need_dict,
    numbers,
    read_json_file,
    refuse,
)

__all__ = ["read_torch_benchmark", "torch_benchmark"]

_FIELDS = ("description", "sub_label", "label", "stmt")


def _as_dicts(path: str, use_pickle: bool) -> list[dict]:
    if use_pickle:
        import dataclasses

        try:
            with open(path, "rb") as handle:
                loaded = pickle.load(handle)  # noqa: S301 - the user names a file they trust
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise refuse(path, f"cannot load a pickled Measurement: {exc}") from None
        items = loaded if isinstance(loaded, list) else [loaded]
        if not all(dataclasses.is_dataclass(m) and hasattr(m, "raw_times") for m in items):
            raise refuse(path, "expected a pickled torch.utils.benchmark Measurement (or list)")
        return [dataclasses.asdict(m) for m in items]
    doc = read_json_file(path, "torch.utils.benchmark")
    items = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(m, dict) and "raw_times" in m and "number_per_run" in m
               for m in items):
        raise refuse(path, "not a torch.utils.benchmark dump (expected dataclasses.asdict of a "
                           "Measurement: number_per_run, raw_times, task_spec)")
    return items


def read_torch_benchmark(path: str, use_pickle: bool = False) -> dict[str, list[float]]:
    entries: dict[str, list[float]] = {}
    for i, m in enumerate(_as_dicts(path, use_pickle)):
        per_run = m["number_per_run"]
        if type(per_run) is not int or per_run < 1:
            raise refuse(path, f"[{i}].number_per_run: expected a positive integer")
        times = [t / per_run for t in numbers(m["raw_times"], path, f"[{i}].raw_times")]
        spec = need_dict(m.get("task_spec") or {}, path, f"[{i}].task_spec")
        names = [str(spec[f]) for f in _FIELDS if spec.get(f)]
        names.append("/".join(str(spec.get(f) or "") for f in ("label", "sub_label",
                                                                "description")))
        for name in dict.fromkeys(names):
            add(entries, name, times)
    return entries


def torch_benchmark(n: int, params: Mapping):
    """Provider: ``{"file": "timer.json", "baseline": "eager", "candidate": "compiled"}`` or
    ``"entry"``; ``"pickle": true`` for a pickled Measurement."""
    use_pickle = bool(params.get("pickle", False))
    return entries_to_samples(n, params, lambda p: read_torch_benchmark(p, use_pickle),
                              tool="torch.utils.benchmark")
