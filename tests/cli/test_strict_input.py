"""Faults a red team found in what ryot reads, each injected through the real command line: the
exit code, a message naming the file, the JSON pointer and what was expected, no traceback."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from ryot.cli import main
from ryot.verification import report as report_module
from tests.verification.helpers import criterion, document, write
from tests.verification.test_verify import reseal

BIG = "1" * 400  # an integer no float can hold
BEYOND = "is beyond the range of a float"




@pytest.fixture
def report(mixed_run):
    _, out = mixed_run
    return json.loads((out / "report.json").read_text())


@pytest.fixture
def criteria(mixed_run):
    _, out = mixed_run
    return out.parent / "criteria.json"


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ryot bug" not in err, err
    return code, err


# -- A: numbers beyond the float range, in every file ryot reads -----------------------------------
@pytest.mark.parametrize("number", ["1e999", "-1e400", BIG])
def test_criteria_check_refuses_params_beyond_the_float_range(tmp_path, capsys, number):
    path = tmp_path / "c.json"
    doc = document(criterion(params={"n": "MARK"}))
    path.write_text(json.dumps(doc).replace('"MARK"', number))
    code, err = run_cli(capsys, "criteria", "check", path)
    assert code == 2 and f"{path}: at /criteria/0/params/n: " in err and BEYOND in err


@pytest.mark.parametrize("number", ["1e400", BIG])
@pytest.mark.parametrize("command", ["verify", "compare"])
def test_reports_with_numbers_beyond_the_float_range_are_exit_2(report, tmp_path, capsys,
                                                                number, command):
    report["results"][0]["samples"]["numerator"][0] = "MARK"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(reseal(report, 0)).replace('"MARK"', number))
    argv = [path] if command == "verify" else [path, path]
    code, err = run_cli(capsys, command, *argv)
    assert code == 2 and f"{path}: at /results/0/samples/numerator/0: " in err and BEYOND in err


def test_migrate_refuses_an_integer_beyond_the_float_range(tmp_path, capsys):
    path = tmp_path / "legacy.json"
    path.write_text(f'{{"speedup_metrics": {{"training_speedup_min": {BIG}}}}}')
    code, err = run_cli(capsys, "criteria", "migrate", path, "-o", tmp_path / "new.json")
    assert code == 2 and f"{path}: at /speedup_metrics/training_speedup_min: " in err
    assert BEYOND in err and not (tmp_path / "new.json").exists()


# -- B: migrate's conflicting keys and inverted bounds; a report without results ------------------
@pytest.mark.parametrize("legacy, fragment", [
    ({"speedup_metrics": {"training_speedup_min": 3.0}, "more": {"training_speedup_min": 5.0}},
     "at /more/training_speedup_min: training_speedup_min is 5.0 here but 3.0 at "
     "/speedup_metrics/training_speedup_min"),
    ({"speedup_metrics": {"training_speedup_min": 6.0, "training_speedup_max": 3.0}},
     "at /speedup_metrics/training_speedup_max: training_speedup_max (3.0) is below "
     "training_speedup_min (6.0) at /speedup_metrics/training_speedup_min"),
])
def test_migrate_refuses_conflicting_keys_and_inverted_bounds(tmp_path, capsys, legacy,
                                                              fragment):
    path = write(tmp_path / "legacy.json", legacy)
    code, err = run_cli(capsys, "criteria", "migrate", path, "-o", tmp_path / "new.json")
    assert code == 2 and f"{path}: {fragment}" in err and not (tmp_path / "new.json").exists()


def test_migrate_accepts_a_key_repeated_with_the_same_value(tmp_path, capsys):
    legacy = {"speedup_metrics": {"ttft_max_ms": 200}, "memory_metrics": {"ttft_max_ms": 200}}
    code, _ = run_cli(capsys, "criteria", "migrate", write(tmp_path / "legacy.json", legacy))
    assert code == 0


@pytest.mark.parametrize("command", ["verify", "compare"])
def test_a_report_without_results_is_exit_2(report, tmp_path, capsys, command):
    report["results"] = []
    path = write(tmp_path / "empty.json", reseal(report))
    code, err = run_cli(capsys, command, *([path] if command == "verify" else [path, path]))
    assert code == 2
    assert f"{path}: at /results: no results: a report with no results verifies nothing" in err


# -- C: each criterion once, looks from the schedule, a boolean warmup_reached ---------------------
def test_verify_refuses_a_criterion_judged_twice(report, criteria, tmp_path, capsys):
    report["results"].append(copy.deepcopy(report["results"][0]))
    path = write(tmp_path / "twice.json", reseal(report))
    code, err = run_cli(capsys, "verify", path, "--criteria", criteria)
    assert code == 1 and f"ryot verify: {path}: 1 mismatch" in err
    assert ("MISMATCH synthetic.ratio (fast): criterion 'fast' appears again at /results/4 "
            "(first at /results/0)") in err


def test_compare_never_hides_a_fail_behind_a_later_pass_copy(report, mixed_run, tmp_path,
                                                             capsys):
    _, out = mixed_run
    slow = next(i for i, r in enumerate(report["results"]) if r["id"] == "slow")
    assert report["results"][slow]["status"] == "FAIL"
    passing = copy.deepcopy(next(r for r in report["results"] if r["id"] == "fast"))
    passing["id"] = passing["criterion"]["id"] = "slow"
    report["results"].append(passing)
    path = write(tmp_path / "b.json", reseal(report, len(report["results"]) - 1))
    code, err = run_cli(capsys, "compare", out / "report.json", path)
    assert code == 2 and f"{path}: not a consistent ryot report" in err
    assert f"criterion 'slow' appears again at /results/4 (first at /results/{slow})" in err


def test_verify_refuses_looks_beyond_the_sample_budget(report, tmp_path, capsys):
    report["results"][0]["method"]["looks"] = [200_000]
    path = write(tmp_path / "looks.json", reseal(report, 0))
    code, err = run_cli(capsys, "verify", path)
    assert code == 1 and f"ryot verify: {path}: 1 mismatch" in err
    assert ("synthetic.ratio (fast): looks [200000] at /results/0/method/looks do not fit the "
            "schedule [12, 24, 48] of this criterion (more samples than its max_samples 48)") in err


def test_a_family_result_with_more_looks_than_its_schedule_is_a_mismatch(tmp_path, capsys):
    """Holm's step-down re-decides "straddle" at its closing look: an IndexError before."""
    from tests.verification.test_family import DOC  # Holm over three criteria

    out = tmp_path / "out"
    main(["accept", "--criteria", str(write(tmp_path / "c.json", DOC)), "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    at = next(i for i, r in enumerate(report["results"]) if r["id"] == "straddle")
    report["results"][at]["method"]["looks"] = [7, 14, 28]  # its schedule is [7]
    path = write(tmp_path / "looks.json", reseal(report, at))
    capsys.readouterr()
    code, err = run_cli(capsys, "verify", path)
    assert code == 1 and f"ryot verify: {path}: " in err
    assert f"looks [7, 14, 28] at /results/{at}/method/looks do not fit the schedule [7]" in err


def test_verify_refuses_a_warmup_reached_that_is_not_a_boolean(report, tmp_path, capsys):
    report["results"][0]["samples"]["warmup_reached"] = "yes"
    path = write(tmp_path / "warm.json", reseal(report, 0))
    code, err = run_cli(capsys, "verify", path)
    assert code == 1 and str(path) in err
    assert "at /results/0/samples/warmup_reached: 'yes' is not of type 'boolean'" in err


# -- D: the seal key is bytes, read the same way from the environment and from a file -------------
KEY = b"\xff\xfe"  # not UTF-8


def verify_process(path, *extra, key_env: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != report_module.SEAL_KEY_ENV}
    if key_env is not None:
        env[report_module.SEAL_KEY_ENV] = key_env.decode("utf-8", "surrogateescape")
    return subprocess.run([sys.executable, "-m", "ryot.cli", "verify", str(path), *extra],
                          capture_output=True, text=True, env=env)


def test_a_non_utf8_key_works_the_same_from_the_environment_and_a_file(report, tmp_path):
    path = write(tmp_path / "keyed.json", report_module.keyed_seal(report, KEY))
    key_file = tmp_path / "ci.key"
    key_file.write_bytes(KEY + b"\n")
    for proc in (verify_process(path, key_env=b" " + KEY + b"\n"),
                 verify_process(path, "--key-file", str(key_file))):
        assert proc.returncode == 0 and "keyed seal valid" in proc.stdout, proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_report_sealed_with_another_key_fails_the_same_from_both(report, tmp_path, capsys,
                                                                   monkeypatch):
    path = write(tmp_path / "keyed.json", report_module.keyed_seal(report, b"other"))
    key_file = tmp_path / "ci.key"
    key_file.write_bytes(KEY)
    monkeypatch.setenv(report_module.SEAL_KEY_ENV, KEY.decode("utf-8", "surrogateescape"))
    from_env = run_cli(capsys, "verify", path)
    monkeypatch.delenv(report_module.SEAL_KEY_ENV)
    from_file = run_cli(capsys, "verify", path, "--key-file", key_file)
    assert from_env == from_file
    assert from_env[0] == 1 and "the keyed seal (hmac) does not match" in from_env[1]


def test_seal_key_strips_both_sources_alike(mixed_run, tmp_path, capsys, monkeypatch):
    key_file = tmp_path / "k"
    key_file.write_bytes(b"\t" + KEY + b" \r\n")
    monkeypatch.setenv(report_module.SEAL_KEY_ENV, "\t\udcff\udcfe \r\n")
    assert report_module.seal_key() == report_module.seal_key(key_file) == KEY
    monkeypatch.setenv(report_module.SEAL_KEY_ENV, " \n")  # blank: no key, as when unset
    assert report_module.seal_key() is None
    key_file.write_bytes(b" \n")
    code, err = run_cli(capsys, "verify", mixed_run[1] / "report.json", "--key-file", key_file)
    assert code == 2 and f"{key_file}: the key file is empty" in err
