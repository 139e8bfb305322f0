"""ryot.measure.samples: the sample shapes, strictly typed."""

from __future__ import annotations

import numpy as np
import pytest

from ryot.infra.schemas import validator
from ryot.measure.samples import (
    KINDS,
    ONE_SHOT_KINDS,
    Samples,
    coerce,
    paired_proportions,
    paired_proportions_from_items,
    proportion,
    two_sample,
)


@pytest.mark.parametrize("call, fragment", [
    (lambda: proportion(5, 3), "successes <= trials"),
    (lambda: proportion(-1, 3), "non-negative integer"),
    (lambda: proportion(1.5, 3), "non-negative integer"),
    (lambda: proportion(True, 3), "non-negative integer"),
    (lambda: paired_proportions(0, 0, 0, 0), "at least one item"),
    (lambda: paired_proportions(1, 1, 1, 1, statistic="odds"), "'difference' or 'ratio'"),
    (lambda: paired_proportions_from_items([True], [True, False]), "same items"),
])
def test_proportion_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        call()


@pytest.mark.parametrize("returned", ["1.0", True, None, ["1.0", 2.0], [True, 1.0],
                                      {"numerator": [1.0], "denominator": ["2"]}, {"x": 1}])
def test_providers_must_return_numbers(returned):
    with pytest.raises(ValueError, match="a metric provider returned|expected"):
        coerce(returned)


def test_numpy_numbers_are_numbers():
    assert coerce(np.float32(1.5)).values == [1.5]
    assert coerce(np.arange(3.0)).values == [0.0, 1.0, 2.0]


# -- two_sample: arms measured separately (issue #21) ---------------------------------------------
def test_two_sample_arms_keep_their_own_counts_and_round_trip():
    s = two_sample([2.0, 2.1, 2.2], np.array([1.0, 1.1]), source="asv")
    assert (s.kind, s.baseline, s.candidate, s.count) == ("two_sample", [2.0, 2.1, 2.2],
                                                         [1.0, 1.1], 2)
    d = s.to_dict()
    assert d == {"kind": "two_sample", "warmup_reached": True, "details": {"source": "asv"},
                 "baseline": [2.0, 2.1, 2.2], "candidate": [1.0, 1.1]}
    back = Samples.from_dict(d)
    assert (back.kind, back.baseline, back.candidate, back.count) == (
        "two_sample", s.baseline, s.candidate, 2)
    assert "two_sample" in KINDS and "two_sample" in ONE_SHOT_KINDS


def test_two_sample_non_finite_values_are_kept_for_the_verdict_and_written_as_strict_json():
    s = two_sample([1.0, float("nan")], [float("inf"), 0.0, -1.0])
    assert not s.all_finite() and two_sample([1.0], [2.0]).all_finite()
    d = s.to_dict()
    assert d["baseline"][1] == "nan" and d["candidate"][0] == "inf"
    back = Samples.from_dict(d)
    assert np.isnan(back.baseline[1]) and back.candidate[1:] == [0.0, -1.0]
    assert two_sample([], [1.0]).count == 0  # an empty arm: "too few samples" at the verdict


def test_two_sample_is_measured_once():
    s = two_sample([1.0, 2.0], [1.0])
    assert s.head(1) is s
    with pytest.raises(ValueError, match="measured once"):
        s.extend(two_sample([3.0], [3.0]))


def test_a_baseline_candidate_dict_is_two_sample_and_declared_kinds_are_enforced():
    s = coerce({"baseline": [3, 4.0], "candidate": (1.0,), "warmup_reached": False})
    assert (s.kind, s.baseline, s.candidate, s.warmup_reached) == (
        "two_sample", [3.0, 4.0], [1.0], False)
    assert coerce(two_sample([1.0], [2.0]), "two_sample").kind == "two_sample"
    with pytest.raises(ValueError, match="declares two_sample samples but its provider returned "
                                         "paired"):
        coerce({"numerator": [1.0], "denominator": [1.0]}, "two_sample")
    samples = Samples("two_sample", baseline=np.array([1.0, 2.0]), candidate=[np.float32(1.5)])
    assert coerce(samples).baseline == [1.0, 2.0] and coerce(samples).candidate == [1.5]


@pytest.mark.parametrize("returned, fragment", [
    ({"baseline": [1.0, "2"], "candidate": [1.0]}, r"baseline\[1\]"),
    ({"baseline": [1.0], "candidate": [None]}, r"candidate\[0\]"),
    ({"baseline": "1 2 3", "candidate": [1.0]}, "expected a list of numbers"),
    ({"baseline": [1.0], "candidate": [1.0], "numerator": [1.0]}, "return one kind"),
    ({"baseline": [1.0], "candidate": [1.0], "warmup_reached": "yes"}, "true or false"),
    (Samples("two_sample", baseline=[True], candidate=[1.0]), r"baseline\[0\]"),
])
def test_two_sample_bad_input(returned, fragment):
    with pytest.raises(ValueError, match=fragment):
        coerce(returned)


def test_two_sample_samples_fit_the_report_schema():
    entry = validator("report").schema["$defs"]["result"]["properties"]["samples"]
    from jsonschema import Draft202012Validator

    check = Draft202012Validator({**entry, "$defs": validator("report").schema["$defs"]})
    assert check.is_valid(two_sample([1.0, float("nan")], [2.0]).to_dict())
    assert not check.is_valid({**two_sample([1.0], [2.0]).to_dict(), "baseline": ["x"]})
