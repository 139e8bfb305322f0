"""Google Benchmark's ``--benchmark_format=json`` (or ``--benchmark_out``) with
``--benchmark_repetitions=N``: each repetition's time per iteration (``real_time``, or
``cpu_time`` with ``"time": "cpu_time"``), converted from its ``time_unit``. Aggregates (mean,
median, stddev) are never read; a file of aggregates only is refused."""

from __future__ import annotations

from collections.abc import Mapping

from ryot.importers._common import (
    SECONDS_PER,
    entries_to_samples,
    need_dict,
    read_json_file,
    refuse,
)

__all__ = ["google_benchmark", "read_google_benchmark"]


def read_google_benchmark(path: str, time: str = "real_time") -> dict[str, list[float]]:
    doc = read_json_file(path, "Google Benchmark")
    if not isinstance(doc, dict) or "context" not in doc or not isinstance(doc.get("benchmarks"),
                                                                          list):
        raise refuse(path, "not a Google Benchmark JSON file (expected context and benchmarks)")
    entries: dict[str, list[float]] = {}
    aggregates = set()
    for i, b in enumerate(doc["benchmarks"]):
        b = need_dict(b, path, f"/benchmarks/{i}")
        name = str(b.get("run_name", b.get("name")))
        if b.get("run_type") == "aggregate":
            aggregates.add(name)
            continue
        unit, value = b.get("time_unit", "ns"), b.get(time)
        if not isinstance(unit, str) or unit not in SECONDS_PER \
                or not isinstance(value, (int, float)) or isinstance(value, bool):
            raise refuse(path, f"/benchmarks/{i} ({name!r}): expected a number {time} and a "
                               f"time_unit in {', '.join(SECONDS_PER)}")
        entries.setdefault(name, []).append(float(b[time]) * SECONDS_PER[unit])
    if aggregates and not entries:
        raise refuse(path, "the file holds only aggregates (mean, median, stddev); run without "
                           "--benchmark_report_aggregates_only so each repetition is kept")
    return entries


def google_benchmark(n: int, params: Mapping):
    """Provider: ``{"file": "gb.json", "baseline": "BM_copy/4096", "candidate":
    "BM_fast_copy/4096"}`` (run names), or ``"entry"``; ``"time": "cpu_time"`` optional."""
    time = params.get("time", "real_time")
    if time not in ("real_time", "cpu_time"):
        raise refuse(str(params.get("file")), f"params.time: expected real_time or cpu_time, "
                                              f"got {time!r}")
    return entries_to_samples(n, params, lambda p: read_google_benchmark(p, time),
                              tool="google-benchmark", time=time)
