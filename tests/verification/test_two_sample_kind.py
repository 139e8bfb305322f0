"""The two_sample kind end to end (issue #21): criteria whose providers return two arms
measured separately go through ``ryot.evaluate``, and ``verify`` re-derives every verdict and
catches a tampered sample."""

from __future__ import annotations

import copy

import pytest

import ryot
from ryot.infra.schemas import validator
from ryot.measure.metric import Metric
from ryot.verification import report as report_module
from ryot.verification.criteria import Criterion
from ryot.verification.estimates import METHODS
from ryot.verification.registry import Registry
from ryot.verification.runner import measure
from ryot.verification.verify import verify_report

from .helpers import criterion, document

PROVIDER = "tests.verification.two_sample_providers:imported"
DOC = document(
    criterion(id="fast", metric="import.fast", provider=PROVIDER, threshold=1.5,
              params={"true_ratio": 2.0}),
    criterion(id="slow", metric="import.slow", provider=PROVIDER, threshold=1.5,
              params={"true_ratio": 1.2, "seed": 1}),
    criterion(id="near", metric="import.near", provider=PROVIDER, threshold=1.5,
              params={"true_ratio": 1.5, "noise": 0.2, "seed": 2}),
    criterion(id="tiny", metric="import.tiny", provider=PROVIDER, threshold=1.5, min_samples=3,
              params={"baseline_n": 3, "candidate_n": 3}),
    criterion(id="short_arm", metric="import.short_arm", provider=PROVIDER, threshold=1.5,
              params={"baseline_n": 40, "candidate_n": 5}),
    criterion(id="drift", metric="import.drift", provider=PROVIDER, threshold=1.5,
              params={"baseline_drift": 0.02, "baseline_n": 40, "seed": 3}),
    criterion(id="zero", metric="import.zero", provider=PROVIDER, threshold=1.5,
              params={"zero_candidate": True}),
    criterion(id="dict", metric="import.dict", comparator="between", min=1.5, max=2.5,
              threshold=None, provider="tests.verification.two_sample_providers:as_dict",
              params={"true_ratio": 2.0, "candidate_n": 50}),
)


@pytest.fixture(scope="module")
def report():
    return ryot.evaluate(DOC)


def by_id(report, cid):
    return next(r for r in report["results"] if r["id"] == cid)


def test_every_verdict_and_its_reason(report):
    got = {r["id"]: (r["status"], r["reason"]) for r in report["results"]}
    assert {k: status for k, (status, _) in got.items()} == {
        "fast": "PASS", "slow": "FAIL", "near": "INCONCLUSIVE", "tiny": "INVALID",
        "short_arm": "INVALID", "drift": "INVALID", "zero": "INVALID", "dict": "PASS"}
    assert "covers only 0.9" in got["tiny"][1]
    assert got["short_arm"][1] == ("too few samples: 40 baseline and 5 candidate, each arm needs "
                                   "min_samples 12")
    assert got["drift"][1].startswith("not stationary: the baseline time rises")
    assert "over 40 trials" in got["drift"][1]
    assert got["zero"][1].startswith("a ratio needs positive values in both arms: candidate[3]")
    assert by_id(report, "near")["more_samples_hint"] is not None


def test_the_report_carries_both_arms_and_the_method(report):
    assert validator("report").is_valid(report)
    fast = by_id(report, "fast")
    assert fast["samples"]["kind"] == "two_sample"
    assert (len(fast["samples"]["baseline"]), len(fast["samples"]["candidate"])) == (30, 24)
    assert fast["samples"]["details"] == {"source": "two_sample_providers"}
    assert (fast["method"]["statistic"], fast["method"]["interval"]) == METHODS["two_sample"]
    assert fast["method"]["looks"] == [24]  # measured once: one look, at the smaller arm's count
    s = fast["statistics"]
    assert s["n"] == 24 and s["ci_low"] <= s["estimate"] <= s["ci_high"]
    assert 1.9 < s["estimate"] < 2.1 and s["coverage"] >= 0.95


def test_verify_rederives_every_two_sample_result(report):
    assert verify_report(report) == []


def test_a_tampered_sample_is_caught_even_when_resealed(report):
    forged = copy.deepcopy(report)
    i = next(i for i, r in enumerate(forged["results"]) if r["id"] == "fast")
    forged["results"][i]["samples"]["candidate"][0] *= 3.0  # one candidate run made 3x slower
    assert any("sha256" in str(m) for m in verify_report(forged))
    forged["results"][i] = report_module.seal(forged["results"][i])
    forged = report_module.seal(forged)
    problems = [str(m) for m in verify_report(forged)]
    assert any("statistics." in p and "import.fast (fast)" in p for p in problems), problems


def test_a_relabelled_kind_is_caught(report):
    forged = copy.deepcopy(report)
    i = next(i for i, r in enumerate(forged["results"]) if r["id"] == "slow")
    forged["results"][i]["status"] = "PASS"
    forged["results"][i] = report_module.seal(forged["results"][i])
    counts = {s: sum(r["status"] == s for r in forged["results"])
              for s in forged["summary"]["counts"]}
    forged["summary"].update(counts=counts, exit_code=report_module.exit_code(counts))
    problems = [str(m) for m in verify_report(report_module.seal(forged))]
    assert any("status is PASS but the samples give FAIL" in p for p in problems), problems


def test_a_metric_declares_the_two_sample_kind():
    def sampler(n, params):
        return {"baseline": [2.0, 2.1, 1.9, 2.05] * 3, "candidate": [1.0, 1.02, 0.99] * 4}

    def wrong(n, params):
        return {"numerator": [2.0] * n, "denominator": [1.0] * n}

    registry = Registry()
    registry.register(Metric("imported", "two_sample", "x", "an imported A/B", sampler))
    registry.register(Metric("mislabelled", "two_sample", "x", "returns paired", wrong))
    c = Criterion(id="c", metric="imported", unit="x", comparator=">=", description="d",
                  threshold=1.5)
    m = measure(c, registry)
    assert m.verdict.status == "PASS" and m.looks == [12] and m.samples.kind == "two_sample"
    bad = measure(Criterion(**{**c.__dict__, "metric": "mislabelled"}), registry)
    assert bad.verdict.status == "ERROR"
    assert "declares two_sample samples but its provider returned paired" in bad.verdict.reason
