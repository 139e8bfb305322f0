"""``ryot verify`` derives rather than trusts: genuine reports pass, resealed forgeries do not."""

from __future__ import annotations

import copy
import json

import pytest

import ryot
from ryot.cli import main
from ryot.verification import report as report_module
from ryot.verification.criteria import load_criteria
from ryot.verification.verify import verify_report

CRITERIA = {
    "format": "ryot.criteria", "format_version": 1, "name": "forgery targets",
    "criteria": [
        {"id": "fast", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
         "threshold": 1.5, "params": {"true_ratio": 2.0, "noise": 0.05}, "description": "passes"},
        {"id": "slow", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
         "threshold": 3.0, "params": {"true_ratio": 2.0, "noise": 0.05}, "description": "fails"},
        {"id": "near", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
         "threshold": 2.0, "params": {"true_ratio": 2.0, "noise": 0.05, "seed": 4},
         "max_samples": 24, "description": "undecided"},
        {"id": "noisy_invalid", "metric": "synthetic.scalar", "unit": "s", "comparator": "<=",
         "threshold": 5.0, "expected_max": 1.0, "max_noise": 0.1,
         "params": {"value": 5.0, "noise": 1.0}, "description": "INVALID and outside expected_max"},
        {"id": "count", "metric": "synthetic.exact", "unit": "n", "comparator": "<=",
         "threshold": 1, "params": {"value": 0}, "description": "exact"},
        {"id": "gpu", "metric": "synthetic.scalar", "unit": "n", "comparator": ">=", "threshold": 0,
         "requires": ["cuda"], "description": "not applicable here"},
    ],
}


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("genuine")
    path = folder / "criteria.json"
    path.write_text(json.dumps(CRITERIA))
    return ryot.evaluate(str(path)), load_criteria(path)


def by_id(report, cid):
    return next(r for r in report["results"] if r["id"] == cid)


def reseal(report, cid=None):
    """What a forger with the public algorithm does after an edit."""
    if cid is not None:
        i = next(i for i, r in enumerate(report["results"]) if r["id"] == cid)
        report["results"][i] = report_module.seal(report["results"][i])
    counts = {s: sum(r["status"] == s for r in report["results"])
              for s in report["summary"]["counts"]}
    report["summary"]["counts"] = counts
    report["summary"]["exit_code"] = report_module.exit_code(counts)
    return report_module.seal(report)


def test_every_genuine_status_verifies(genuine):
    report, criteria = genuine
    statuses = {r["id"]: r["status"] for r in report["results"]}
    assert statuses["fast"] == "PASS" and statuses["slow"] == "FAIL"
    assert statuses["noisy_invalid"] == "INVALID" and statuses["gpu"] == "NOT_APPLICABLE"
    assert by_id(report, "noisy_invalid")["suspicious"]  # INVALID and outside expected_max
    assert verify_report(report, criteria=criteria) == []


def test_a_keyed_seal_verifies_with_its_key_only(genuine, tmp_path, monkeypatch, capsys):
    report, _ = genuine
    keyed = report_module.keyed_seal(report, b"s3cret")
    assert verify_report(keyed, key=b"s3cret") == []
    assert "keyed seal" in str(verify_report(keyed, key=b"other")[0])
    assert "no keyed seal" in str(verify_report(report, key=b"s3cret")[0])
    forged = copy.deepcopy(keyed)
    by_id(forged, "slow")["status"] = "INVALID"
    forged = report_module.keyed_seal(reseal(forged, "slow"), b"guess")
    assert any("keyed seal" in str(m) for m in verify_report(forged, key=b"s3cret"))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(keyed))
    key = tmp_path / "key"
    key.write_text("s3cret\n")
    assert main(["verify", str(path), "--key-file", str(key)]) == 0
    monkeypatch.setenv("RYOT_SEAL_KEY", "wrong")
    assert main(["verify", str(path)]) == 1
    assert main(["verify", str(path), "--key-file", str(tmp_path / "missing")]) == 2
    assert "cannot read the key file" in capsys.readouterr().err


def forge_threshold(r):
    c = by_id(r, "slow")
    c["criterion"]["threshold"] = 1.0
    return "slow"


def forge_drop(r):
    r["results"] = [x for x in r["results"] if x["id"] != "slow"]
    return None


def forge_confidence(r):
    by_id(r, "near")["method"]["confidence_per_look"] = 0.5
    return "near"


def forge_looks(r):
    by_id(r, "fast")["method"]["looks"] = [by_id(r, "fast")["method"]["looks"][-1]]
    return "fast"


def forge_relabel(r):
    x = by_id(r, "slow")
    x["status"] = "INVALID"
    return "slow"


def forge_resamples(r):
    by_id(r, "fast")["method"]["resamples"] = 10**9
    return "fast"


@pytest.mark.parametrize("forge, needs_criteria", [
    (forge_threshold, True), (forge_drop, True), (forge_confidence, False),
    (forge_looks, False), (forge_relabel, False), (forge_resamples, False),
])
def test_resealed_forgeries_are_rejected(genuine, forge, needs_criteria):
    report, criteria = genuine
    forged = copy.deepcopy(report)
    forged = reseal(forged, forge(forged))
    found = verify_report(forged, criteria=criteria)
    assert found, f"{forge.__name__} passed verify"
    if not needs_criteria:
        assert verify_report(forged), f"{forge.__name__} needs the criteria file to be caught"


def test_verify_against_another_criteria_file_names_the_difference(genuine, tmp_path):
    report, _ = genuine
    other = copy.deepcopy(CRITERIA)
    other["criteria"][0]["threshold"] = 1.2
    other["criteria"].append({"id": "extra", "metric": "synthetic.exact", "unit": "n",
                              "comparator": ">=", "threshold": 0, "description": "new"})
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other))
    found = [str(m) for m in verify_report(report, criteria=load_criteria(path))]
    assert any("criteria file sha256" in m for m in found)
    assert any("criterion.threshold is 1.5" in m for m in found)
    assert any("extra" in m and "missing" in m for m in found)


def test_an_old_report_format_is_a_clear_error(genuine, tmp_path, capsys):
    report, _ = genuine
    old = dict(report, format_version=1)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    assert main(["verify", str(path)]) == 2
    assert "format_version 1" in capsys.readouterr().err


def test_a_failed_entry_with_samples_cannot_carry_forged_statistics(genuine):
    """Bug found by mutation testing: NOT_APPLICABLE/ERROR entries that kept samples were not
    checked for statistics or a SUSPICIOUS flag."""
    report, _ = genuine
    forged = copy.deepcopy(report)
    gpu = by_id(forged, "gpu")
    gpu["samples"] = {"kind": "scalar", "warmup_reached": True, "values": [1.0] * 12}
    gpu["statistics"] = {"estimate": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 12,
                         "relative_spread": 0.0}
    gpu["suspicious"] = "forged"
    found = [str(m) for m in verify_report(reseal(forged, "gpu"))]
    assert any("statistics on a NOT_APPLICABLE result" in m for m in found)
    assert any("SUSPICIOUS flag on a NOT_APPLICABLE result" in m for m in found)


def test_a_mistyped_criterion_field_is_a_mismatch_not_a_traceback(genuine, tmp_path, capsys):
    """Bug found by mutation testing: a resealed report with "min_samples": "x" crashed verify."""
    report, _ = genuine
    forged = copy.deepcopy(report)
    by_id(forged, "fast")["criterion"]["min_samples"] = "x"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(reseal(forged, "fast")))
    assert main(["verify", str(path)]) == 1
    err = capsys.readouterr().err
    assert "not a valid criterion at criterion/min_samples" in err and "Traceback" not in err
