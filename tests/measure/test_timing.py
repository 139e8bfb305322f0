"""The helpers a user's provider is built from, and provider-only criteria (issue #12)."""

from __future__ import annotations

import time

import pytest

import ryot
from ryot.infra.errors import CriteriaError
from ryot.verification.criteria import parse_criteria


def test_paired_trials_rotates_the_order_and_returns_paired_samples():
    calls = []

    def arm(name):
        def run():
            calls.append(name)
        return run

    s = ryot.paired_trials(arm("base"), arm("cand"), 4, warmup=1)
    assert s.kind == "paired" and len(s.numerator) == len(s.denominator) == 4
    assert all(v > 0 for v in s.numerator + s.denominator)  # seconds; no timing claim in a unit test
    rounds = calls[2:]  # after one warm-up call of each arm
    assert rounds[0:2] == ["base", "cand"] and rounds[2:4] == ["cand", "base"]


def test_timed_samples_are_scalar_seconds():
    s = ryot.timed_samples(lambda: time.sleep(0.001), 3, warmup=0)
    assert s.kind == "scalar" and len(s.values) == 3 and min(s.values) >= 0.001  # sleep's floor


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_trial_counts_must_be_positive_ints(n):
    with pytest.raises(ValueError, match="the number of trials must be an int >= 1"):
        ryot.paired_trials(lambda: None, lambda: None, n)
    with pytest.raises(ValueError, match="the number of trials must be an int >= 1"):
        ryot.timed_samples(lambda: None, n)


def doc(**criterion):
    base = {"id": "my-speed", "unit": "x", "comparator": ">=", "threshold": 1.0, "description": "d"}
    return {"format": "ryot.criteria", "format_version": 1, "criteria": [{**base, **criterion}]}


def test_a_provider_only_criterion_takes_its_id_as_metric():
    c = parse_criteria(doc(provider="tests.verification.user_metrics:workload_name"), "<dict>",
                       import_references=False).criteria[0]
    assert c.metric == "my-speed" and c.provider.endswith(":workload_name")


def test_a_criterion_without_metric_or_provider_is_refused():
    with pytest.raises(CriteriaError) as info:
        parse_criteria(doc(), "<dict>")
    assert info.value.pointer == "/criteria/0" and "'metric' is a required property" in str(info.value)


def test_a_provider_only_report_verifies(tmp_path):
    (tmp_path / "c.json").write_text(__import__("json").dumps(
        doc(provider="tests.verification.user_metrics:constant_speedup", min_samples=6, max_samples=6)))
    report = ryot.evaluate(str(tmp_path / "c.json"))
    from ryot.verification.verify import verify_report

    assert report["results"][0]["metric"] == "my-speed"
    assert verify_report(report) == []
