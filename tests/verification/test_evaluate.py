"""``ryot.evaluate``: the report as a dict, no files, no output; the same pipeline as accept."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

import ryot
from ryot.cli import main
from ryot.infra.errors import CriteriaError
from ryot.infra.schemas import validator
from ryot.verification.verify import verify_report

from .helpers import criterion, document, write

DOC = document(
    criterion(id="ratio", metric="synthetic.ratio", threshold=3.0,
              params={"true_ratio": 4.0, "noise": 0.05}),
    criterion(id="exact", metric="synthetic.exact", comparator="<=", threshold=0.05,
              params={"value": 0.01}),
    criterion(id="chatty", metric="user.chatty",
              provider="tests.verification.fault_providers:noisy", min_samples=8, max_samples=8),
)


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_dict_gives_a_sealed_report_and_nothing_else(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    report = ryot.evaluate(DOC)
    assert capfd.readouterr() == ("", "")  # the chatty provider's output went into the report
    assert _files(tmp_path) == []  # no files
    assert validator("report").is_valid(report) and verify_report(report) == []
    assert {r["id"]: r["status"] for r in report["results"]} == {
        "ratio": "PASS", "exact": "PASS", "chatty": "PASS"}
    assert "NOISE-OUT" in report["provider_output"]["chatty"]
    canonical = json.dumps(DOC, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report["criteria_file"] == {"path": "<dict>", "name": "test",
                                       "sha256": hashlib.sha256(canonical.encode()).hexdigest()}


def test_a_path_and_accept_give_the_same_results(tmp_path):
    path = write(tmp_path / "c.json", DOC)
    report = ryot.evaluate(path, quick=True)
    assert report["criteria_file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert main(["accept", "--criteria", str(path), "--out", str(tmp_path / "o"), "--quick"]) == 0
    written = json.loads((tmp_path / "o" / "report.json").read_text())

    def comparable(r):  # everything but the clock
        return {k: v for k, v in r.items() if k not in ("elapsed_s", "sha256")}

    assert [comparable(r) for r in report["results"]] == [comparable(r) for r in written["results"]]
    assert report["quick"] and written["provider_output"] == report["provider_output"]


@pytest.mark.parametrize("bad, fragment", [
    ({"format": "ryot.criteria"}, "<dict>: at / (document root): '"),
    (document(criterion(threshold=float("nan"))), "<dict>: not representable as JSON"),
    (document(criterion(metric="no.such")), "<dict>: at /criteria/0/metric: unknown metric"),
    (document(criterion(params={"n": 10**400})),
     "<dict>: at /criteria/0/params/n: a 401-digit integer"),
    ("/nonexistent/criteria.json", "/nonexistent/criteria.json: cannot read"),
    (42, "criteria: expected the path of a criteria file or a dict"),
])
def test_bad_input_raises_criteria_error_and_prints_nothing(capfd, bad, fragment):
    with pytest.raises(CriteriaError) as info:
        ryot.evaluate(bad)
    assert fragment in str(info.value)
    assert capfd.readouterr() == ("", "")


def test_import_ryot_stays_cheap():
    code = ("import ryot, sys; print(sorted(m for m in ('ryot.verification', 'torch', 'rich') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# -- a provider-only criterion (issue #12) ---------------------------------------------------------
def doc(**criterion):
    base = {"id": "my-speed", "unit": "x", "comparator": ">=", "threshold": 1.0, "description": "d"}
    return {"format": "ryot.criteria", "format_version": 1, "criteria": [{**base, **criterion}]}


def test_a_provider_only_report_verifies(tmp_path):
    (tmp_path / "c.json").write_text(__import__("json").dumps(
        doc(provider="tests.verification.user_metrics:constant_speedup", min_samples=6,
            max_samples=6)))
    report = ryot.evaluate(str(tmp_path / "c.json"))
    from ryot.verification.verify import verify_report

    assert report["results"][0]["metric"] == "my-speed"
    assert verify_report(report) == []


@pytest.mark.parametrize("estimand", ["typical", "mean"])
def test_third_generation_reports_verify(estimand):
    """A gridded provider and either estimand: the report records the grid and the method, and
    verify re-derives both (an edited estimand is a mismatch)."""
    import copy

    from ryot.verification.verify import verify_report
    from tests.verification.test_verify_forgeries import reseal

    report = ryot.evaluate(doc(provider="tests.verification.user_metrics:clock_gridded",
                               threshold=2.0, min_samples=12, max_samples=24,
                               estimand=estimand))
    result = report["results"][0]
    assert result["criterion"]["estimand"] == estimand
    assert ("mean" in result["method"]["statistic"]) == (estimand == "mean")
    if estimand == "typical":
        assert result["statistics"]["resolution"] == 1.0
    assert verify_report(report) == []
    forged = copy.deepcopy(report)
    forged["results"][0]["criterion"]["estimand"] = "typical" if estimand == "mean" else "mean"
    assert verify_report(reseal(forged, "my-speed")) != []
