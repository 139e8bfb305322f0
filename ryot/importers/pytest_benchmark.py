"""pytest-benchmark's ``--benchmark-json`` with ``--benchmark-save-data``: each benchmark's
``stats.data`` (seconds per iteration, one per round, in order). A file without the data holds
only summaries (min, mean, ...): refused, since ryot decides only on raw runs."""

from __future__ import annotations

from collections.abc import Mapping

from ryot.importers._common import (
    add,
    entries_to_samples,
    need_dict,
    numbers,
    read_json_file,
    refuse,
)

__all__ = ["pytest_benchmark", "read_pytest_benchmark"]

MAJOR_VERSIONS = ("3", "4", "5")  # the JSON layout (benchmarks[].stats.data) of these


def read_pytest_benchmark(path: str) -> dict[str, list[float]]:
    doc = read_json_file(path, "pytest-benchmark")
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list) \
            or "machine_info" not in doc:
        raise refuse(path, "not a pytest-benchmark --benchmark-json file (expected "
                           "machine_info and benchmarks)")
    version = str(doc.get("version", ""))
    if version.split(".")[0] not in MAJOR_VERSIONS:
        raise refuse(path, f"written by pytest-benchmark {version or '(no version)'}; this "
                           f"importer reads versions {', '.join(MAJOR_VERSIONS)}.x")
    entries = {}
    for i, b in enumerate(doc["benchmarks"]):
        b = need_dict(b, path, f"/benchmarks/{i}")
        stats = need_dict(b.get("stats") or {}, path, f"/benchmarks/{i}/stats")
        if "data" not in stats:
            raise refuse(path, f"/benchmarks/{i} ({b.get('name')!r}) holds only summary "
                               "statistics; run pytest with --benchmark-save-data (and "
                               "--benchmark-json) so each round's time is kept")
        values = numbers(stats["data"], path, f"/benchmarks/{i}/stats/data")
        add(entries, str(b.get("name")), values)  # two tests of one name: use the fullname
        add(entries, str(b.get("fullname")), values)
    return entries


def pytest_benchmark(n: int, params: Mapping):
    """Provider: ``{"file": "bench.json", "baseline": "test_step[eager]", "candidate":
    "test_step[compiled]"}`` (names or fullnames), or ``"entry"``."""
    return entries_to_samples(n, params, read_pytest_benchmark, tool="pytest-benchmark")
