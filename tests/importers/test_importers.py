"""Each importer reads a file its real tool wrote in this test run, and a criterion over it
decides exactly as the same raw values do when a provider hands them to ryot directly."""

from __future__ import annotations

import json

import pytest

from ryot.importers.asv import read_asv
from ryot.importers.google_benchmark import read_google_benchmark
from ryot.importers.hyperfine import read_hyperfine
from ryot.importers.pytest_benchmark import read_pytest_benchmark
from ryot.importers.torch_benchmark import read_torch_benchmark
from tests.importers.conftest import compared

DIRECT = '''from ryot.measure.samples import two_sample
BASELINE = {baseline!r}
CANDIDATE = {candidate!r}

def both(n, params):
    return two_sample(BASELINE, CANDIDATE)
'''


def _same_as_direct(evaluate, imported, baseline, candidate, tmp_path, monkeypatch):
    """The imported criterion's result equals a provider returning those values itself (the
    verdict too: real timings may be PASS or, when they drift, INVALID; never ERROR)."""
    (tmp_path / "direct_values.py").write_text(DIRECT.format(baseline=baseline,
                                                             candidate=candidate))
    monkeypatch.chdir(tmp_path)
    direct = {**imported, "provider": "direct_values:both", "params": {}}
    a, b = evaluate(imported)["results"][0], evaluate(direct)["results"][0]
    assert a["status"] == b["status"] and a["status"] != "ERROR", (a["reason"], b["reason"])
    assert a["reason"] == b["reason"]
    assert a["statistics"] == b["statistics"]
    assert a["samples"]["baseline"] == baseline and a["samples"]["candidate"] == candidate
    return a


def test_hyperfine(hyperfine_file, evaluate, tmp_path, monkeypatch):
    entries = read_hyperfine(str(hyperfine_file))
    assert len(entries["slow"]) == len(entries["fast"]) == 10
    c = compared("hyperfine", hyperfine_file, "slow", "fast")
    r = _same_as_direct(evaluate, c, entries["slow"], entries["fast"], tmp_path, monkeypatch)
    assert r["samples"]["kind"] == "two_sample"


def test_pytest_benchmark(pb_file, evaluate, tmp_path, monkeypatch):
    entries = read_pytest_benchmark(str(pb_file))
    slow, fast = entries["test_step_slow"], entries["test_step_fast"]
    assert len(slow) == len(fast) == 12
    assert entries["test_bench.py::test_step_slow"] == slow  # fullname works too
    c = compared("pytest_benchmark", pb_file, "test_step_slow", "test_step_fast")
    _same_as_direct(evaluate, c, slow, fast, tmp_path, monkeypatch)


def test_google_benchmark(google_benchmark_file, evaluate, tmp_path, monkeypatch):
    entries = read_google_benchmark(str(google_benchmark_file))
    assert len(entries["BM_slow"]) == len(entries["BM_fast"]) == 8  # repetitions, no aggregates
    c = compared("google_benchmark", google_benchmark_file, "BM_slow", "BM_fast")
    _same_as_direct(evaluate, c, entries["BM_slow"], entries["BM_fast"], tmp_path, monkeypatch)
    cpu = read_google_benchmark(str(google_benchmark_file), "cpu_time")
    assert cpu["BM_slow"] != entries["BM_slow"]


def test_asv(asv_file, evaluate, tmp_path, monkeypatch):
    entries = read_asv(str(asv_file))
    slow, fast = entries["bench.time_slow"], entries["bench.time_fast"]
    assert len(slow) >= 5 and "bench.Sizes.time_sleep(4)" in entries
    c = compared("asv", asv_file, "bench.time_slow", "bench.time_fast")
    _same_as_direct(evaluate, c, slow, fast, tmp_path, monkeypatch)
    other = tmp_path / "older.json"  # the baseline from another results file (another commit)
    other.write_text(asv_file.read_text())
    c = compared("asv", asv_file, "bench.Sizes.time_sleep(4)", "bench.Sizes.time_sleep(1)",
                 baseline_file=str(other))
    r = evaluate(c)["results"][0]  # the verdict is the machine's (real sleeps): not asserted
    assert r["status"] != "ERROR", r["reason"]
    assert r["samples"]["baseline"] == read_asv(str(other))["bench.Sizes.time_sleep(4)"]
    assert r["samples"]["candidate"] == entries["bench.Sizes.time_sleep(1)"]


def test_torch_benchmark_json_and_pickle(torch_benchmark_files, evaluate, tmp_path, monkeypatch):
    as_json, as_pickle = torch_benchmark_files
    entries = read_torch_benchmark(str(as_json))
    assert entries == read_torch_benchmark(str(as_pickle), use_pickle=True)
    large, small = entries["large"], entries["small"]
    assert entries["sum/ones/large"] == large
    c = compared("torch_benchmark", as_json, "large", "small", threshold=1.2)
    _same_as_direct(evaluate, c, large, small, tmp_path, monkeypatch)


def test_one_entry_against_an_absolute_threshold_is_scalar_in_the_unit_asked(
        hyperfine_file, evaluate):
    c = {"id": "fast_ms", "provider": "ryot.importers:hyperfine", "unit": "ms",
         "comparator": "<=", "threshold": 20, "description": "fast under 20 ms",
         "min_samples": 5, "max_samples": 10,
         "params": {"file": str(hyperfine_file), "entry": "fast", "unit": "ms"}}
    r = evaluate(c)["results"][0]
    assert r["samples"]["kind"] == "scalar" and r["status"] != "ERROR", r["reason"]
    seconds = read_hyperfine(str(hyperfine_file))["fast"]
    assert r["samples"]["values"] == pytest.approx(
        [v * 1e3 for v in seconds[:len(r["samples"]["values"])]])
    too_many = {**c, "min_samples": 12, "max_samples": 12}
    r = evaluate(too_many)["results"][0]
    assert r["status"] == "ERROR" and "holds 10 runs" in r["reason"]
    assert "max_samples" in r["reason"]


@pytest.mark.parametrize(("provider", "fixture", "what"), [
    ("pytest_benchmark", "hyperfine_file", "not a pytest-benchmark"),
    ("hyperfine", "pb_file", "not a hyperfine"),
    ("asv", "google_benchmark_file", "not an asv results file"),
    ("google_benchmark", "asv_file", "not a Google Benchmark"),
    ("torch_benchmark", "hyperfine_file", "not a torch.utils.benchmark dump"),
])
def test_a_file_of_another_tool_is_an_error_naming_the_file(provider, fixture, what, request,
                                                            evaluate):
    path = request.getfixturevalue(fixture)
    r = evaluate(compared(provider, path, "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and what in r["reason"] and str(path) in r["reason"]


def test_a_missing_entry_names_the_file_the_entry_and_what_is_there(hyperfine_file, evaluate):
    r = evaluate(compared("hyperfine", hyperfine_file, "slow", "fastest"))["results"][0]
    assert r["status"] == "ERROR"
    assert f"{hyperfine_file}: no entry 'fastest' (candidate); the file has: fast, slow" in \
        r["reason"]


def test_summaries_only_are_refused_with_the_flag_that_keeps_the_runs(
        pb_summary_file, asv_file, google_benchmark_file, tmp_path, evaluate):
    doc = json.loads(pb_summary_file.read_text())  # pytest-benchmark 5 keeps data; older did not
    for b in doc["benchmarks"]:
        del b["stats"]["data"]
    (tmp_path / "pb.json").write_text(json.dumps(doc))
    r = evaluate(compared("pytest_benchmark", tmp_path / "pb.json", "test_step_slow",
                          "test_step_fast"))["results"][0]
    assert r["status"] == "ERROR" and "--benchmark-save-data" in r["reason"]
    doc = json.loads(asv_file.read_text())  # as asv writes it without --record-samples
    i = doc["result_columns"].index("samples")
    doc["result_columns"] = doc["result_columns"][:i]
    doc["results"] = {k: v[:i] for k, v in doc["results"].items()}
    (tmp_path / "asv.json").write_text(json.dumps(doc))
    r = evaluate(compared("asv", tmp_path / "asv.json", "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and "--record-samples" in r["reason"]
    doc = json.loads(google_benchmark_file.read_text())
    doc["benchmarks"] = [b for b in doc["benchmarks"] if b.get("run_type") == "aggregate"]
    (tmp_path / "gb.json").write_text(json.dumps(doc))
    r = evaluate(compared("google_benchmark", tmp_path / "gb.json", "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and "aggregates_only" in r["reason"]


def test_a_wrong_version_is_refused(pb_file, asv_file, tmp_path, evaluate):
    doc = json.loads(pb_file.read_text())
    doc["version"] = "2.1.0"
    (tmp_path / "pb.json").write_text(json.dumps(doc))
    r = evaluate(compared("pytest_benchmark", tmp_path / "pb.json", "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and "pytest-benchmark 2.1.0" in r["reason"]
    doc = json.loads(asv_file.read_text())
    doc["version"] = 1
    (tmp_path / "asv.json").write_text(json.dumps(doc))
    r = evaluate(compared("asv", tmp_path / "asv.json", "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and "format version 1" in r["reason"]


def test_a_malformed_entry_or_an_ambiguous_name_is_an_error_naming_the_place(
        pb_file, torch_benchmark_files, tmp_path, evaluate):
    doc = json.loads(pb_file.read_text())
    doc["benchmarks"].append(None)
    (tmp_path / "pb.json").write_text(json.dumps(doc))
    r = evaluate(compared("pytest_benchmark", tmp_path / "pb.json", "a", "b"))["results"][0]
    assert r["status"] == "ERROR" and f"/benchmarks/{len(doc['benchmarks']) - 1}: expected " \
        "an object" in r["reason"]
    as_json, _ = torch_benchmark_files  # both Measurements have label "sum"
    r = evaluate(compared("torch_benchmark", as_json, "sum", "small"))["results"][0]
    assert r["status"] == "ERROR" and "names several entries" in r["reason"]
