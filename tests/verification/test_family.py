"""``family_confidence``: Holm's step-down over a criteria file (ryot/verification/family.py),
recorded in the report, re-derived by ``ryot verify``, and its error rate measured."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

import ryot
from ryot.cli import main
from ryot.infra.schemas import first_error
from ryot.stats import sequential
from ryot.verification import family
from ryot.verification import report as report_module
from ryot.verification.criteria import load_criteria, parse_criteria
from ryot.verification.evaluate import Run, step_down
from ryot.verification.family import DECIDED, OPEN, OUT
from ryot.verification.registry import default_registry
from ryot.verification.runner import measure
from ryot.verification.verify import verify_report
from ryot.verification.writers.markdown import render_markdown

from .helpers import criterion, document, write

FIXED = "tests.verification.family_providers:fixed"
# family 0.96 over 3 criteria: step 1 at 1 - 0.04/3 = 0.98667, which 7 samples cannot reach (the
# widest interval covers 1 - 2/2^7 = 0.984375): "tight" is INVALID at step 1. The exact count is
# decided there (r = 1), so step 2 runs at 1 - 0.08/5 = 0.984: "tight" passes (r = 2) and step 3
# at 1 - 0.08/4 = 0.98 leaves "straddle" INCONCLUSIVE.
DOC = document(
    criterion(id="count", metric="synthetic.exact", unit="n", comparator="<=", threshold=1,
              params={"value": 0}),
    criterion(id="tight", metric=None, provider=FIXED, min_samples=7, max_samples=7,
              params={"values": [4.0, 4.2, 3.9, 4.1, 4.05, 3.95, 4.15]}),
    criterion(id="straddle", metric=None, provider=FIXED, min_samples=7, max_samples=7,
              params={"values": [0.9, 1.1, 0.95, 1.05, 1.0, 0.92, 1.08]}),
    family_confidence=0.96)


# -- the step-down, by hand ---------------------------------------------------------------------
def test_the_levels_are_holms_shares_of_the_two_one_sided_claims():
    assert family.criterion_confidence(0.95, 5) == pytest.approx(0.99)
    assert family.holm_confidence(0.95, 5, 4) == pytest.approx(1 - 0.1 / 6)
    assert family.criterion_confidence(0.95, 1) == pytest.approx(0.95)
    with pytest.raises(ValueError):
        family.holm_confidence(0.95, 5, 5)


def by_threshold(p):
    """A re-decision callback: criterion i decides once its total error reaches p[i]."""
    asked = []

    def redecide(i, confidence):
        asked.append((i, round(confidence, 6)))
        return 1 - confidence >= p[i]
    return redecide, asked


def test_each_round_redecides_what_is_open_at_a_looser_level_while_r_grows():
    # 5 criteria at 0.95: 0.99 first; each decision loosens the next round
    p = [0.0, 0.0105, 0.0115, 0.0135, 0.5]  # 2 alpha / (2m - r): 0.0111, 0.0125, 0.0143, 0.0167
    redecide, asked = by_threshold(p)
    f = family.step_down(0.95, 5, [DECIDED, OPEN, OPEN, OPEN, OPEN], redecide)
    assert [s.decided_before for s in f.steps] == [0, 1, 2, 3, 4]
    assert [s.confidence for s in f.steps] == pytest.approx(
        [0.99, 1 - 0.1 / 9, 0.9875, 1 - 0.1 / 7, 1 - 0.1 / 6])
    assert f.step_of == (1, 2, 3, 4, 5)  # the last never decides: its final verdict is step 5's
    assert [i for i, _ in asked] == [1, 2, 3, 4, 2, 3, 4, 3, 4, 4]
    assert f.entry(2) == {"step": 3, "confidence": f.steps[2].confidence}


def test_without_a_decision_at_step_one_there_is_no_further_step():
    redecide, asked = by_threshold([0.001] * 3)
    f = family.step_down(0.95, 3, [OPEN, OPEN, OPEN], redecide)
    assert len(f.steps) == 1 and asked == [] and f.step_of == (1, 1, 1)


def test_results_no_confidence_can_decide_keep_their_share():
    redecide, asked = by_threshold([0, 0.0125, 0])
    f = family.step_down(0.95, 4, [DECIDED, OPEN, OUT], redecide)  # one criterion not measured
    assert f.step_of == (1, 2, None) and f.entry(2) == {"step": None, "confidence": None}
    assert f.steps[1].confidence == pytest.approx(1 - 0.1 / 7)  # 2m - r = 8 - 1: OUT counts
    assert f.steps[1].decided_before == 1 and len(f.steps) == 2  # none open after step 2
    with pytest.raises(ValueError):
        family.step_down(0.95, 2, [OPEN] * 3, redecide)


def reference_holm(p, alpha):
    """Holm (1979) over 2m one-sided claims: criterion i's own side has p[i] / 2, the other 1."""
    claims = sorted([(pi / 2, i) for i, pi in enumerate(p)] + [(1.0, None)] * len(p))
    rejected = set()
    for k, (pk, i) in enumerate(claims):
        if pk > alpha / (len(claims) - k):
            break
        rejected.add(i)
    return rejected


def test_the_step_down_is_holms_procedure_on_the_claims():
    rng = np.random.default_rng(21)
    for _ in range(400):
        m = int(rng.integers(1, 8))
        p = list(rng.uniform(0, 0.06, m) * rng.choice([0.1, 1, 3], m))
        start = 1 - family.criterion_confidence(0.95, m)
        states = [DECIDED if pi <= start else OPEN for pi in p]
        redecide, _ = by_threshold(p)
        f = family.step_down(0.95, m, states, redecide)
        decided = {i for i in range(m) if p[i] <= 1 - f.steps[f.step_of[i] - 1].confidence}
        assert decided == reference_holm(p, 0.05), p


def test_a_redecision_spends_at_most_its_share():
    c = parse_criteria(document(criterion()), "<dict>").criteria[0]
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    strict, loose = 0.99, 0.98
    for taken in range(1, len(schedule) + 1):
        look = family.look_confidence(c, "scalar", taken, loose)
        spent_before = sum(1 - k for k in sequential.look_confidences(strict, schedule)[:taken - 1])
        assert spent_before + (1 - look) <= (1 - loose) + 1e-12
    assert family.look_confidence(c, "proportion", 1, loose) == loose


# -- criteria files -----------------------------------------------------------------------------
def test_family_confidence_starts_every_criterion_at_its_bonferroni_share():
    loaded = parse_criteria(DOC, "<dict>")
    assert loaded.family_confidence == 0.96
    assert {c.confidence for c in loaded.criteria} == {family.criterion_confidence(0.96, 3)}
    assert parse_criteria(document(criterion()), "<dict>").family_confidence is None


@pytest.mark.parametrize("value", [0, 1, 1.5, "x", 0.5, None])
def test_a_bad_family_confidence_is_exit_2_with_its_pointer(value, tmp_path, capsys):
    path = write(tmp_path / "c.json", document(criterion(), family_confidence=value))
    assert main(["criteria", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "/family_confidence" in err and str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("doc, pointer", [
    (document(criterion(), criterion(id="d", confidence=0.99), family_confidence=0.95),
     "/criteria/1/confidence"),
    (document(criterion(), family_confidence=0.95, defaults={"confidence": 0.9}),
     "/defaults/confidence"),
])
def test_a_confidence_of_its_own_beside_the_family_is_refused(doc, pointer, tmp_path, capsys):
    path = write(tmp_path / "c.json", doc)
    assert main(["criteria", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert pointer in err and "family_confidence" in err


# -- the report and verify ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("family") / "criteria.json", DOC)
    return ryot.evaluate(str(path)), load_criteria(path), path


def by_id(report, cid):
    return next(r for r in report["results"] if r["id"] == cid)


def reseal(report):
    """What a forger with the public algorithm does after an edit: every seal made again."""
    report["results"] = [report_module.seal(r) for r in report["results"]]
    return report_module.seal(report)


def test_the_report_records_the_family_and_each_results_step(genuine):
    report, _, _ = genuine
    assert first_error("report", report) is None
    recorded = report["family"]
    assert (recorded["confidence"], recorded["size"]) == (0.96, 3)
    assert [s["decided_before"] for s in recorded["steps"]] == [0, 1, 2]
    assert [s["confidence"] for s in recorded["steps"]] == pytest.approx([1 - 0.04 / 3, 0.984,
                                                                          0.98])
    got = {r["id"]: (r["status"], r["method"]["family"]["step"]) for r in report["results"]}
    assert got == {"count": ("PASS", 1), "tight": ("PASS", 2), "straddle": ("INCONCLUSIVE", 3)}
    assert "at 0.984 confidence is wholly >= 1" in by_id(report, "tight")["reason"]
    assert by_id(report, "tight")["method"]["confidence_per_look"] == pytest.approx(0.984)
    assert report["summary"]["counts"]["PASS"] == 2
    assert ("**Family confidence 0.96** over 3 criteria (Holm, 3 steps)"
            in render_markdown(report))
    edited = copy.deepcopy(report)
    edited["family"]["procedure"] = "none"  # the report's seal covers the family
    assert report_module.seal(edited)["sha256"] != report["sha256"]
    assert any("family.procedure" in str(m) for m in verify_report(edited))


def test_a_report_is_stepped_down_from_the_runners_own_verdicts_each_time():
    run = Run(parse_criteria(DOC, "<dict>"))
    for c in run.criteria.criteria:
        run.measure(c)
    assert run.results[1].verdict.status == "INVALID"  # the runner's step 1 stays as it was
    first, second = run.report(), run.report()
    assert [r["status"] for r in first["results"]] == [r["status"] for r in second["results"]]
    assert first["family"] == second["family"]


def test_verify_accepts_a_genuine_family_report(genuine, tmp_path, capsys):
    report, criteria, path = genuine
    assert verify_report(report) == [] and verify_report(report, criteria=criteria) == []
    out = write(tmp_path / "report.json", report)
    assert main(["verify", str(out), "--criteria", str(path)]) == 0


def forge_family_confidence(r):
    r["family"]["confidence"] = 0.9
    return "criterion.confidence is"


def forge_every_confidence(r):  # the family and every criterion, consistently
    r["family"]["confidence"] = 0.95
    for x in r["results"]:
        x["criterion"]["confidence"] = family.criterion_confidence(0.95, 3)
    return "confidence_per_look"


def forge_size(r):
    r["family"]["size"] = 4
    return "over 4 criteria gives"


def forge_small_size(r):
    r["family"]["size"] = 2
    return "family.size 2 is less than the 3 results"


def forge_steps(r):
    r["family"]["steps"][1]["confidence"] = 0.95
    return "family.steps is"


def forge_step_confidence(r):
    by_id(r, "straddle")["method"]["family"]["confidence"] = 0.9
    return "method.family.confidence is 0.9"


def forge_criterion_confidence(r):
    by_id(r, "straddle")["criterion"]["confidence"] = 0.9
    return "straddle): criterion.confidence is 0.9"


def forge_step_one(r):  # "the runner decided it": the runner's own look gives INVALID
    by_id(r, "tight")["method"]["family"] = {"step": 1, "confidence": r["family"]["steps"][0][
        "confidence"]}
    return "tight (tight): status is PASS but the samples give INVALID"


def forge_later_step(r):  # an exact count decided at step 1 claimed for step 2
    by_id(r, "count")["method"]["family"] = {"step": 2, "confidence": r["family"]["steps"][1][
        "confidence"]}
    return "(count): method.family.step is 2 but the step-down gives 1"


def forge_relabel(r):
    by_id(r, "straddle")["status"] = "PASS"
    return "status is PASS"


def forge_no_family(r):  # the family and every trace of it removed
    del r["family"]
    for x in r["results"]:
        del x["method"]["family"]
    return "tight): status is PASS"


@pytest.mark.parametrize("forge", [
    forge_family_confidence, forge_every_confidence, forge_size, forge_small_size, forge_steps,
    forge_step_confidence, forge_criterion_confidence, forge_step_one, forge_later_step,
    forge_relabel, forge_no_family,
])
def test_a_resealed_family_forgery_is_a_named_mismatch(genuine, forge, tmp_path, capsys):
    report, _, _ = genuine
    forged = copy.deepcopy(report)
    expect = forge(forged)
    found = [str(m) for m in verify_report(reseal(forged))]
    assert any(expect in m for m in found), found
    out = write(tmp_path / "forged.json", reseal(forged))
    assert main(["verify", str(out)]) == 1
    assert expect in capsys.readouterr().err


def test_verify_with_the_criteria_file_checks_its_family(genuine, tmp_path):
    report, criteria, _ = genuine
    plain = {k: v for k, v in DOC.items() if k != "family_confidence"}
    other = load_criteria(write(tmp_path / "plain.json", plain))
    found = [str(m) for m in verify_report(report, criteria=other)]
    assert any("family_confidence 0.96 over 3 criteria but" in m and "no family_confidence" in m
               for m in found), found
    # a family report stripped of its family, whose verdicts all came from step 1: only the
    # criteria file can tell
    simple = document(criterion(id="count", metric="synthetic.exact", unit="n", comparator="<=",
                                threshold=1, params={"value": 0}), family_confidence=0.96)
    path = write(tmp_path / "simple.json", simple)
    stripped = ryot.evaluate(str(path))
    del stripped["family"]
    del stripped["results"][0]["method"]["family"]
    stripped = reseal(stripped)
    assert verify_report(stripped) == []
    found = [str(m) for m in verify_report(stripped, criteria=load_criteria(path))]
    assert any("the report has no family_confidence" in m for m in found), found


# -- how often a family is wrong ----------------------------------------------------------------
def boundary_file(far: int, with_family: bool, m: int = 8):
    """m paired criteria, alternately >= and <= 1.0, their true ratio on the bound (a FAIL is
    wrong, a PASS right) except the first ``far``, 1.5x on the passing side."""
    criteria = [criterion(id=f"c{j}", metric="synthetic.ratio", comparator=">=" if j % 2 == 0
                          else "<=", threshold=1.0,
                          params={"true_ratio": (1.5 if j < far else 1.0) ** (-1) ** j,
                                  "noise": 0.05})
                for j in range(m)]
    top = {"family_confidence": 0.95} if with_family else {}
    return parse_criteria(document(*criteria, **top), "<sim>")


def family_wise_wrong(runs: int, far: int, m: int = 8) -> dict[bool, float]:
    """The share of runs with any wrong verdict, per-criterion 0.95 (False) or family 0.95."""
    registry, wrong = default_registry(), {False: 0, True: 0}
    for with_family in (False, True):
        base = boundary_file(far, with_family, m)
        for run in range(runs):
            file = replace(base, criteria=tuple(
                replace(c, params={**c.params, "seed": 1000 * run + j})
                for j, c in enumerate(base.criteria)))
            results = [measure(c, registry) for c in file.criteria]
            if with_family:
                results, _ = step_down(file, results)
            wrong[with_family] += any(r.verdict.status == "FAIL" for r in results)
    return {k: v / runs for k, v in wrong.items()}


def test_a_family_of_eight_at_the_bound_is_wrong_at_most_one_minus_its_confidence():
    rate = family_wise_wrong(250, far=0)  # ~20 s: 1.2% vs 14.8% (2,000 runs: 1.75% vs 12.6%)
    assert rate[True] <= 0.05
    assert rate[False] > 0.05  # eight criteria at 0.95 each, no family: wrong more often


@pytest.mark.slow
@pytest.mark.parametrize("m, far", [(8, 0), (8, 3)])
def test_the_family_wise_error_over_many_runs(m, far):
    """docs/statistics.md's figures: 2,000 seeded runs per arm (~1.5 min each)."""
    rate = family_wise_wrong(2000, far, m)
    assert rate[True] <= 0.05 + 0.01  # slack: 2 standard errors of a 5% rate over 2,000 runs
    assert rate[False] > rate[True]


def test_a_family_share_that_rounds_to_one_is_exit_2_with_its_pointer():
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import parse_criteria

    doc = {"format": "ryot.criteria", "format_version": 1, "family_confidence": 0.9999999999999999,
           "criteria": [{"id": f"c{i}", "metric": "synthetic.ratio", "unit": "x",
                         "comparator": ">=", "threshold": 1.0, "description": "d"}
                        for i in range(2)]}
    with pytest.raises(CriteriaError) as caught:
        parse_criteria(doc, "<dict>")
    assert caught.value.pointer == "/family_confidence" and "rounds to 1" in caught.value.message
