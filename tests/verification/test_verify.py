"""What ``ryot verify`` says, exactly, about each kind of inconsistency: promises the mutation run
(``nox -s mutation``, issue #13) found untested. A report is checked by people reading these
messages, so each forgery below asserts the full list of mismatches (where, and what)."""

from __future__ import annotations

import copy
import json
import math

import pytest

from ryot.infra.errors import ReportError
from ryot.measure.metric import Metric, NotApplicable
from ryot.measure.samples import Samples, proportion
from ryot.stats import sequential
from ryot.verification import report as report_module
from ryot.verification import verify
from ryot.verification.criteria import CriteriaFile, Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import CriterionResult, measure, quick_budget
from ryot.verification.verdicts import decide
from ryot.verification.verify import verify_report

pytestmark = pytest.mark.mutation


def crit(cid="c", **kw) -> Criterion:
    base = dict(id=cid, metric=f"m.{cid}", unit="x", comparator=">=", description="d",
                threshold=3.0, min_samples=6, max_samples=24)
    base.update(kw)
    return Criterion(**base)


def criteria_file(*cs) -> CriteriaFile:
    return CriteriaFile(path="crit.json", sha256="ab" * 32, name="t", criteria=tuple(cs))


def build(*measurements, quick=False) -> dict:
    cf = criteria_file(*(m.criterion for m in measurements))
    return report_module.build(cf, list(measurements), started_at="t0", finished_at="t1",
                               quick=quick, key=b"")


def run(c, sampler, kind="scalar", **kw) -> CriterionResult:
    registry = Registry()
    registry.register(Metric(c.metric, kind, "x", "test", sampler))
    return measure(c, registry, **kw)


def undecided(n, params):
    return [3.0 + (0.3 if (params["_offset"] + i) % 2 else -0.3) for i in range(n)]


def steady(n, params):
    return [4.0 + 0.01 * ((params["_offset"] + i) % 3) for i in range(n)]


def reseal(report, i=None):
    """What a forger with the public algorithm does after an edit: reseal the entry (unless
    ``i`` is None), recount the summary and reseal the report."""
    if i is not None:
        report["results"][i] = report_module.seal(report["results"][i])
    counts = {s: sum(r["status"] == s for r in report["results"])
              for s in report["summary"]["counts"]}
    report["summary"]["counts"] = counts
    report["summary"]["exit_code"] = report_module.exit_code(counts)
    return report_module.seal(report)


def said(report, **kw) -> list[str]:
    return [str(m) for m in verify_report(report, **kw)]


class Ticks:
    def __init__(self, step):
        self.now, self.step = -step, step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture(scope="module")
def genuine():
    """PASS (decided at the first look), INCONCLUSIVE (budget spent), NOT_APPLICABLE."""
    def unavailable(n, params):
        raise NotApplicable("needs NVML")
    return build(run(crit("a"), steady), run(crit("b"), undecided), run(crit("c"), unavailable))


def test_the_genuine_report_verifies(genuine):
    assert [r["status"] for r in genuine["results"]] == ["PASS", "INCONCLUSIVE", "NOT_APPLICABLE"]
    assert said(genuine) == []


# -- entries ---------------------------------------------------------------------------------------
def test_an_edited_entry_is_named_and_every_difference_listed(genuine):
    r = copy.deepcopy(genuine)
    entry = r["results"][0]
    entry["status"], entry["reason"] = "FAIL", "made up"
    entry["suspicious"], entry["more_samples_hint"] = "flag", 7
    assert said(reseal(r)) == [  # the entry is not resealed: its own seal is named first
        "m.a (a): its sha256 does not match its content (the entry was edited)",
        "m.a (a): status is FAIL but the samples give PASS",
    ]
    entry["status"] = "PASS"
    expected_reason = genuine["results"][0]["reason"]
    assert said(reseal(r)) == [
        "m.a (a): its sha256 does not match its content (the entry was edited)",
        f"m.a (a): reason 'made up' but the samples give {expected_reason!r}",
        "m.a (a): the SUSPICIOUS flag does not match the samples",
        "m.a (a): more_samples_hint is 7 but the samples give None",
    ]


def test_edited_statistics_are_named_key_by_key(genuine):
    r = copy.deepcopy(genuine)
    stats = r["results"][0]["statistics"]
    true_estimate, true_coverage = stats["estimate"], stats["coverage"]
    stats["estimate"] = 9.5
    del stats["coverage"]
    assert sorted(said(reseal(r, 0))) == [  # one line per key, in no particular order
        f"m.a (a): statistics.coverage is None but the samples give {true_coverage}",
        f"m.a (a): statistics.estimate is 9.5 but the samples give {true_estimate}",
    ]
    r["results"][0]["statistics"] = None
    assert said(reseal(r, 0)) == [
        f"m.a (a): statistics None but the samples give {genuine['results'][0]['statistics']}"]


def test_a_forged_method_is_named(genuine):
    r = copy.deepcopy(genuine)
    r["results"][1]["method"]["resamples"] = 10
    r["results"][1]["method"]["confidence_per_look"] = 0.5
    conf = genuine["results"][1]["method"]["confidence_per_look"]
    assert said(reseal(r, 1)) == [
        "m.b (b): method.resamples is 10 but ryot derives 4000",
        f"m.b (b): method.confidence_per_look is 0.5 but the schedule gives {conf}",
    ]


AT = "at /results/1/method/looks do not fit the schedule [6, 12, 24] of this criterion"


@pytest.mark.parametrize("looks, message", [
    ([], f"looks [] {AT}"),
    ([24, 12], f"looks [24, 12] {AT}"),
    ([6, 12, 24, 48], f"looks [6, 12, 24, 48] {AT} (more samples than its max_samples 24)"),
    ([6, 12], "24 samples stored but the last look saw 12"),
    ([6, 12, 18], f"looks [6, 12, 18] {AT}"),  # not a schedule count, and not out of time
    ([6, 9, 24], f"looks [6, 9, 24] {AT}"),
    ([24], f"looks [24] {AT}"),  # the schedule's first look is at 6
])
def test_looks_that_do_not_fit_are_named(genuine, looks, message):
    r = copy.deepcopy(genuine)
    r["results"][1]["method"]["looks"] = looks
    assert said(reseal(r, 1))[0] == f"m.b (b): {message}"
    if "schedule" in message:  # nothing else can be checked against looks that do not fit
        assert len(said(reseal(r, 1))) == 1


def test_a_run_that_went_on_after_deciding_is_named():
    c = crit("e", min_samples=24, max_samples=96)
    samples = Samples("scalar", values=[4.0 + 0.01 * (i % 3) for i in range(96)])
    conf = sequential.look_confidences(0.95, [24, 48, 96])
    forged = CriterionResult(c, decide(c, samples, conf[2], budget_spent=True), samples,
                             [24, 48, 96], conf[2], 1.0)
    assert said(build(forged)) == [
        "m.e (e): the run went on after look 1 (24 samples), which already gives PASS",
        "m.e (e): the run went on after look 2 (48 samples), which already gives PASS",
    ]


def test_a_one_shot_measurement_is_one_look():
    m = run(crit("p", threshold=0.05), lambda n, p: proportion(9, 100), kind="proportion")
    assert m.verdict.status == "INCONCLUSIVE"
    report = build(m)
    assert said(report) == []
    report["results"][0]["method"]["looks"] = [50, 100]
    assert said(reseal(report, 0)) == ["m.p (p): looks [50, 100] but a proportion measurement is "
                                       "one look of 100"]


def test_looks_beyond_the_sample_budget_are_refused_with_the_pointer():
    c = crit("big", min_samples=12, max_samples=12)
    samples = Samples("scalar", values=[4.0 + 0.01 * (i % 3) for i in range(2_000)])
    forged = CriterionResult(c, decide(c, samples, 0.95, budget_spent=True), samples, [2_000],
                             0.95, 1.0)
    assert said(build(forged)) == [
        "m.big (big): looks [2000] at /results/0/method/looks do not fit the schedule [12] of "
        "this criterion (more samples than its max_samples 12)"]


def test_an_entry_without_samples_must_record_schedule_looks(genuine):
    r = copy.deepcopy(genuine)
    r["results"][2]["method"]["looks"] = [500]  # NOT_APPLICABLE before any sample
    assert said(reseal(r, 2)) == ["m.c (c): looks [500] at /results/2/method/looks do not fit "
                                  "the schedule [6, 12, 24] of this criterion (more samples than "
                                  "its max_samples 24)"]
    r["results"][2]["method"]["looks"] = [6, 12]  # earlier looks, then NOT_APPLICABLE
    assert said(reseal(r, 2)) == []


def test_a_last_look_cut_short_by_the_time_budget_verifies_only_when_out_of_time():
    c = crit("t", max_seconds=50.0)
    samples = Samples("scalar", values=undecided(9, {"_offset": 0}))
    conf = sequential.closing_confidence(0.95, [6, 12, 24], 1)
    m = CriterionResult(c, decide(c, samples, conf, budget_spent=True), samples, [6, 9], conf,
                        60.0)
    assert m.verdict.status == "INCONCLUSIVE"
    assert said(build(m)) == []
    m.elapsed_s = 40.0  # within the budget: the second look is at 12 samples
    assert said(build(m))[0] == ("m.t (t): looks [6, 9] at /results/0/method/looks do not fit "
                                 "the schedule [6, 12, 24] of this criterion")


def test_warmup_reached_must_be_a_boolean(genuine):
    r = copy.deepcopy(genuine["results"][0])
    r["samples"]["warmup_reached"] = "yes"
    assert verify._check_result(r, "/results/0") == [
        "samples.warmup_reached at /results/0/samples/warmup_reached is 'yes', not true or false"]
    report = copy.deepcopy(genuine)
    report["results"][0] = report_module.seal(r)
    assert said(reseal(report))[0].startswith("m.a (a): invalid at "
                                              "/results/0/samples/warmup_reached")


# -- entries without samples -----------------------------------------------------------------------
def test_an_entry_without_samples_must_only_say_why(genuine):
    r = copy.deepcopy(genuine)
    na = r["results"][2]
    na["statistics"] = genuine["results"][0]["statistics"]
    na["reason"], na["more_samples_hint"] = " ", 3
    assert said(reseal(r, 2)) == [
        "m.c (c): statistics on a NOT_APPLICABLE result, which the runner never computes",
        "m.c (c): a NOT_APPLICABLE result must say why",
        "m.c (c): a hint of more samples on a NOT_APPLICABLE result",
    ]
    r = copy.deepcopy(genuine)
    r["results"][0]["samples"] = r["results"][0]["statistics"] = None
    r["results"][0]["method"]["statistic"] = r["results"][0]["method"]["interval"] = "none"
    assert said(reseal(r, 0)) == ["m.a (a): status PASS without samples"]


def test_not_applicable_after_some_samples_verifies():
    def later(n, params):
        if params["_offset"]:
            raise NotApplicable("the device went away")
        return undecided(n, params)
    m = run(crit("n"), later)
    assert m.verdict.status == "NOT_APPLICABLE" and m.samples.count == 6
    assert said(build(m)) == []


def test_an_invalid_entry_without_statistics_verifies():
    m = run(crit("i"), lambda n, p: [math.nan] * n)
    assert m.verdict.status == "INVALID" and m.verdict.statistics is None
    assert said(build(m)) == []


# -- runs ended by the time budget -----------------------------------------------------------------
def test_a_run_ended_by_time_verifies_only_when_it_really_ran_out():
    c = crit("t", max_seconds=50.0)
    m = run(c, undecided, clock=Ticks(25.0))
    assert m.looks == [6, 12] and m.verdict.status == "INCONCLUSIVE" and m.elapsed_s > 50
    report = build(m)
    assert said(report) == []
    report["results"][0]["elapsed_s"] = 50.0  # within the budget: the run should have gone on
    assert said(reseal(report, 0)) == ["m.t (t): status is INCONCLUSIVE but the samples give no "
                                       "verdict yet"]


# -- the report as a whole -------------------------------------------------------------------------
def test_summary_and_seal_mismatches_are_the_reports(genuine):
    r = copy.deepcopy(genuine)
    r["summary"]["counts"]["PASS"] = 2
    r["summary"]["exit_code"] = 0
    counts = genuine["summary"]["counts"]
    assert said(report_module.seal(r)) == [
        f"report: summary counts {r['summary']['counts']} do not match the results {counts}",
        "report: summary exit_code does not match the results",
    ]
    r = copy.deepcopy(genuine)
    r["finished_at"] = "t2"
    assert said(r) == ["report: the report's sha256 does not match its content (its header or "
                       "summary was edited)"]
    r = copy.deepcopy(genuine)
    r["results"][1]["reason"] = "edited"  # an entry edited: the report-level seal is not repeated
    assert all(m.startswith("m.b (b): ") for m in said(r))


def test_keyed_seal_mismatches_are_the_reports(genuine):
    assert said(genuine, key=b"k") == ["report: no keyed seal (hmac), but a key was given"]
    keyed = report_module.keyed_seal(copy.deepcopy(genuine), b"other")
    assert said(keyed, key=b"k") == ["report: the keyed seal (hmac) does not match: the report was "
                                     "changed or sealed with another key"]


def test_schema_errors_are_placed_at_the_entry_they_are_in(genuine):
    r = copy.deepcopy(genuine)
    r["results"][1]["status"] = "MAYBE"
    (m,) = verify_report(r)
    assert m.where == "m.b (b)" and m.message.startswith("invalid at /results/1/status: 'MAYBE'")
    del r["results"][1]["metric"]
    (m,) = verify_report(r)
    assert m.where == "? (b)" and m.message.startswith("invalid at /results/1: ")
    r = copy.deepcopy(genuine)
    del r["results"][0]["id"]
    assert verify_report(r)[0].where == "m.a (?)"
    r = copy.deepcopy(genuine)
    r["results"] = "none"
    (m,) = verify_report(r)
    assert (m.where, m.message) == ("report", "invalid at /results: 'none' is not of type 'array'")
    r = copy.deepcopy(genuine)
    del r["summary"]
    (m,) = verify_report(r)
    assert (m.where, m.message) == ("report", "invalid at /: 'summary' is a required property")


def test_a_malformed_entry_is_a_problem_of_the_report(genuine):
    r = copy.deepcopy(genuine)
    r["results"][1] = 5
    assert said(r) == ["report: invalid at /results/1: 5 is not of type 'object'"]


def test_an_unreadable_criterion_is_named(genuine):
    r = copy.deepcopy(genuine)
    del r["results"][0]["criterion"]["description"]
    (message,) = said(reseal(r, 0))
    assert (message.startswith("m.a (a): unreadable criterion or samples (")
            and "description" in message)


def test_a_report_nested_too_deeply_is_refused(genuine):
    r = copy.deepcopy(genuine)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    r["environment"] = deep
    assert said(r) == ["report: nested too deeply to be a ryot report"]


def test_a_criterion_judged_twice_is_refused_naming_both_places(genuine):
    r = copy.deepcopy(genuine)
    r["results"].append(copy.deepcopy(r["results"][0]))
    expected = ["m.a (a): criterion 'a' appears again at /results/3 (first at /results/0): a "
                "report judges each criterion once"]
    assert said(reseal(r)) == expected
    criteria = criteria_file(*(verify.criterion_of(x["criterion"]) for x in genuine["results"]))
    assert said(reseal(r), criteria=criteria) == expected


def test_a_report_without_results_verifies_nothing(genuine):
    r = copy.deepcopy(genuine)
    r["results"] = []
    assert said(reseal(r)) == ["report: at /results: no results: a report with no results "
                               "verifies nothing"]


# -- against the criteria file ---------------------------------------------------------------------
def test_the_report_is_checked_against_its_criteria_file(genuine):
    other = CriteriaFile(path="other.json", sha256="cd" * 32, name="t",
                         criteria=(crit("x"), crit("a", threshold=2.0), crit("y"), crit("b"),
                                   crit("c")))
    assert said(genuine, criteria=other) == [
        "report: criteria file sha256 abababababab… is not that of other.json (cdcdcdcdcdcd…)",
        "m.x (x): the criterion is missing from the report",
        "m.a (a): criterion.threshold is 3.0 but other.json says 2.0",
        "m.y (y): the criterion is missing from the report",
    ]
    fewer = CriteriaFile(path="crit.json", sha256="ab" * 32, name="t",
                         criteria=(crit("a"), crit("b")))
    assert said(genuine, criteria=fewer) == ["m.c (c): not a criterion of crit.json"]


def test_a_quick_report_is_checked_against_the_quick_budget():
    c = crit("q", max_samples=48)
    m = run(quick_budget(c), steady)
    report = build(m, quick=True)
    full = CriteriaFile(path="crit.json", sha256="ab" * 32, name="t", criteria=(c,))
    assert said(report, criteria=full) == []


def test_criterion_of_reads_requirements_as_a_tuple():
    d = crit("r", requires=("cuda",)).to_dict()
    assert verify.criterion_of(d) == crit("r", requires=("cuda",))
    del d["requires"]
    assert verify.criterion_of(d) == crit("r")


# -- reading a report, comparing numbers -----------------------------------------------------------
def test_load_report_refuses_what_is_not_a_report(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(ReportError):
        verify.load_report(path)
    for doc in ([1, 2], {"format": "other"}):
        path.write_text(json.dumps(doc))
        with pytest.raises(ReportError,
                           match=r'r\.json: not a ryot report '
                                 r'\(expected "format": "ryot\.report"\)$'):
            verify.load_report(path)


@pytest.mark.parametrize("a, b, same", [
    (None, None, True), (None, 1.0, False), (1.0, None, False),
    ("nan", "nan", True), ("nan", 1.0, False), (1.0, "nan", False), ("inf", "inf", True),
    (1.0, 1.0 + 1e-12, True), (1.0, 1.0 + 1e-6, False),  # relative float noise only
    (0.0, 1e-13, True), (0.0, 1e-9, False),               # absolute noise near zero
])
def test_numbers_compare_up_to_float_noise(a, b, same):
    assert verify._close(a, b) is same
