"""``ryot verify``: re-derive every verdict of a report from its raw samples and its criteria.

What it checks, result by result:

* the result's sha256 seal, and the report's (and its HMAC when a key is given);
* that the report has results, each criterion once;
* the method: resample count, seed, look schedule and each look's confidence are derived from
  the criterion by ryot's own rules, never read back from the report; the looks are the
  schedule's (:mod:`ryot.verification.looks`), within the sample budget;
* the sequential run: every look before the last must have been undecided on the samples it had
  seen, and the last look must give exactly the stored status, reason, statistics, SUSPICIOUS
  flag and hint;
* NOT_APPLICABLE / ERROR / sample-less INVALID entries: no statistics, a reason, no hint;
* the summary counts and exit code;
* with ``--criteria FILE``: the file's sha256, every criterion's bounds and budget, and that no
  criterion is missing or added.

What it cannot detect: samples forged consistently (invented numbers that give the stored
verdict), or a result replaced by a provider-declared INVALID/ERROR without samples — unless
the report carries an HMAC made with a key the forger does not have.
"""

from __future__ import annotations

import hmac
import math
import os
from dataclasses import dataclass

from ryot.infra.errors import ConfigError, ReportError
from ryot.infra.jsonio import body_of, sha256_of
from ryot.infra.machine_id import fingerprint_id
from ryot.infra.schemas import first_error, json_pointer
from ryot.measure.samples import ONE_SHOT_KINDS, Samples, from_json_number
from ryot.stats import sequential
from ryot.verification import family
from ryot.verification.commits import report_problems as commit_problems
from ryot.verification.criteria import CriteriaFile, Criterion, read_json
from ryot.verification.looks import looks_problems
from ryot.verification.quarantine import counted_exit_code, quarantine_problems
from ryot.verification.report import FORMAT, FORMAT_VERSION, SCHEMA, hmac_of, method
from ryot.verification.runner import quick_budget
from ryot.verification.statuses import (
    ERROR,
    FAIL,
    INVALID,
    NOT_APPLICABLE,
    PASS,
    STATUSES,
)
from ryot.verification.verdicts import Verdict, decide

__all__ = ["Mismatch", "against_criteria", "criterion_of", "load_report", "verify_report"]


@dataclass(frozen=True)
class Mismatch:
    where: str  # the result's metric and id, or "report"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def load_report(path: str | os.PathLike[str]) -> dict:
    report, _ = read_json(path, error=ReportError)
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise ReportError(f"{path}: not a ryot report (expected \"format\": \"{FORMAT}\")")
    if report.get("format_version") != FORMAT_VERSION:
        raise ReportError(f"{path}: report format_version {report.get('format_version')!r} was "
                          f"written by another ryot version; this one verifies format_version "
                          f"{FORMAT_VERSION} (re-run `ryot accept`)")
    if report.get("results") == []:
        raise ReportError(_NO_RESULTS, source=str(path), pointer="/results")
    return report


_NO_RESULTS = "no results: a report with no results verifies nothing"


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = from_json_number(a), from_json_number(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def criterion_of(d: dict) -> Criterion:
    """The criterion a result was judged by; ValueError unless it is one a criteria file could
    hold (a resealed report can carry anything)."""
    as_written = {k: v for k, v in d.items() if not (k == "metric" and d.get("provider"))}
    error = first_error("criteria", {"format": "ryot.criteria", "format_version": 1,
                                     "criteria": [as_written]})  # a provider's metric is its id
    if error is not None:
        pointer = json_pointer(error).replace("/criteria/0", "criterion", 1)
        raise ConfigError(f"not a valid criterion at {pointer or 'criterion'}: {error.message}")
    fields = {k: v for k, v in d.items() if k in Criterion.__dataclass_fields__}
    fields["requires"] = tuple(fields.get("requires", ()))
    return Criterion(**fields)


def _replay(c: Criterion, samples: Samples, looks: list[int],
            elapsed_s: float) -> list[tuple[Verdict, float]]:
    """The verdicts (with their look confidence) the runner may have reached at its last look:
    two when the time budget, not the sample budget, may have ended the run."""
    if samples.kind in ONE_SHOT_KINDS:
        return [(decide(c, samples, c.confidence, budget_spent=True), c.confidence)]
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    last = len(looks) - 1
    conf = sequential.look_confidences(c.confidence, schedule)[last]
    out = [(decide(c, samples, conf, budget_spent=last == len(schedule) - 1), conf)]
    if elapsed_s > c.max_seconds:
        closing = sequential.closing_confidence(c.confidence, schedule, last)
        out.append((decide(c, samples, closing, budget_spent=True), closing))
    return out


def _went_on(c: Criterion, samples: Samples, looks: list[int]) -> list[str]:
    """Every look before the last must have been undecided on the samples it had seen."""
    if samples.kind in ONE_SHOT_KINDS:
        return []
    problems = []
    schedule = sequential.look_schedule(c.min_samples, c.max_samples)
    confidences = sequential.look_confidences(c.confidence, schedule)
    for i, n in enumerate(looks[:-1]):
        early = decide(c, samples.head(n), confidences[i], budget_spent=False)
        if early.status is not None:
            problems.append(f"the run went on after look {i + 1} ({n} samples), which already "
                            f"gives {early.status}")
    return problems


def _check_without_samples(r: dict) -> list[str]:
    """NOT_APPLICABLE / ERROR (with or without the samples taken before the failure) and a
    provider-declared INVALID: no statistics, no SUSPICIOUS flag, a reason, no hint."""
    problems = []
    if r["status"] not in (NOT_APPLICABLE, ERROR, INVALID):
        problems.append(f"status {r['status']} without samples")
    if r["statistics"] is not None:
        problems.append(f"statistics on a {r['status']} result, which the runner never computes")
    if r["suspicious"] is not None:
        problems.append(f"a SUSPICIOUS flag on a {r['status']} result, which has no estimate")
    if not r["reason"].strip():
        problems.append(f"a {r['status']} result must say why")
    if r["more_samples_hint"] is not None:
        problems.append(f"a hint of more samples on a {r['status']} result")
    return problems


def _check_result(r: dict, at: str, redecided: tuple[Verdict, float] | None = None) -> list[str]:
    """``at``: the result's JSON pointer; ``redecided``: the verdict (and look confidence) a
    family's step-down gives this result, which then replaces the runner's own last look."""
    problems = []
    warm = (r["samples"] or {}).get("warmup_reached", False)
    if not isinstance(warm, bool):
        return [f"samples.warmup_reached at {at}/samples/warmup_reached is {warm!r}, not true or "
                "false"]
    if sha256_of(body_of(r)) != r["sha256"]:
        problems.append("its sha256 does not match its content (the entry was edited)")
    try:
        c = criterion_of(r["criterion"])
        samples = Samples.from_dict(r["samples"]) if r["samples"] is not None else None
    except (TypeError, KeyError, ValueError) as exc:
        return problems + [f"unreadable criterion or samples ({exc})"]
    expected_method = method(c, samples.kind if samples else None,
                             r["method"].get("confidence_per_look"), r["method"]["looks"])
    for key, value in expected_method.items():
        if key != "confidence_per_look" and r["method"].get(key) != value:
            problems.append(f"method.{key} is {r['method'].get(key)!r} but ryot derives {value!r}")
    looks = r["method"]["looks"]
    wrong, fit = looks_problems(c, samples.kind if samples else None,
                                samples.count if samples else None, looks, r["elapsed_s"],
                                f"{at}/method/looks")
    problems += wrong
    if r["status"] in (NOT_APPLICABLE, ERROR) or samples is None:
        return problems + _check_without_samples(r)
    if not fit:
        return problems
    problems += _went_on(c, samples, looks)
    candidates = ([redecided] if redecided is not None
                  else _replay(c, samples, r["method"]["looks"], r["elapsed_s"]))
    verdict, expected_conf = next(((v, k) for v, k in candidates if v.status == r["status"]),
                                  candidates[0])
    if verdict.status != r["status"]:
        problems.append(f"status is {r['status']} but the samples give "
                        f"{verdict.status or 'no verdict yet'}")
        return problems
    if verdict.reason != r["reason"]:
        problems.append(f"reason {r['reason']!r} but the samples give {verdict.reason!r}")
    expected_stats = verdict.statistics.to_dict() if verdict.statistics else None
    stats = r["statistics"]
    if (expected_stats is None) != (stats is None):
        problems.append(f"statistics {stats} but the samples give {expected_stats}")
    elif stats is not None:
        for key in set(expected_stats) | set(stats):
            if not _close(stats.get(key), expected_stats.get(key)):
                problems.append(f"statistics.{key} is {stats.get(key)} but the samples give "
                                f"{expected_stats.get(key)}")
    if verdict.suspicious != r["suspicious"]:
        problems.append("the SUSPICIOUS flag does not match the samples")
    if verdict.more_samples_hint != r["more_samples_hint"]:
        problems.append(f"more_samples_hint is {r['more_samples_hint']} but the samples give "
                        f"{verdict.more_samples_hint}")
    conf = r["method"].get("confidence_per_look")
    if not _close(conf, expected_conf):
        problems.append(f"method.confidence_per_look is {conf} but the schedule gives "
                        f"{expected_conf}")
    return problems


def _runner_state(c: Criterion, samples: Samples | None, r: dict) -> str:
    """A result's step-1 outcome (family.state): its stored status, or, when it claims a later
    Holm step, what the runner's own last look gave (never read from the report)."""
    kind = samples.kind if samples is not None else None
    step = (r["method"].get("family") or {}).get("step")
    if not isinstance(step, int) or step < 2 or family.state(r["status"], kind) == family.OUT:
        return family.state(r["status"], kind)
    try:
        runs = [v.status for v, _ in _replay(c, samples, r["method"]["looks"], r["elapsed_s"])]
    except (IndexError, ValueError):  # looks that fit no schedule: _check_result names them
        return family.state(r["status"], kind)
    states = [family.state(s, kind) for s in runs if s is not None]
    return family.OPEN if family.OPEN in states else (states or [family.OUT])[0]


def _family(report: dict) -> tuple[dict[int, tuple[Verdict, float]], list[Mismatch]]:
    """Holm's steps of a family report re-derived from its samples and criteria, never from the
    recorded confidences: the verdicts of the results the step-down re-decided, and what
    disagrees."""
    recorded, results = report.get("family"), report["results"]
    names = [f"{r['metric']} ({r['id']})" for r in results]
    if recorded is None:
        return {}, [Mismatch(names[i], "method.family in a report without a family")
                    for i, r in enumerate(results) if "family" in r["method"]]
    size, confidence = recorded["size"], recorded["confidence"]
    if size < len(results):
        return {}, [Mismatch("report", f"family.size {size} is less than the {len(results)} "
                                       "results it covers")]
    start = family.criterion_confidence(confidence, size)
    problems, inputs, states = [], [], []
    for name, r in zip(names, results, strict=True):
        try:
            c = criterion_of(r["criterion"])
            samples = Samples.from_dict(r["samples"]) if r["samples"] is not None else None
        except (TypeError, KeyError, ValueError):  # _check_result names it
            inputs.append(None)
            states.append(family.OUT)
            continue
        if not _close(c.confidence, start):
            problems.append(Mismatch(name, f"criterion.confidence is {c.confidence} but "
                                           f"family_confidence {confidence} over {size} "
                                           f"criteria gives {start}"))
        if not looks_problems(c, samples.kind if samples else None,
                              samples.count if samples else None, r["method"]["looks"],
                              r["elapsed_s"], "")[1]:  # no replay: _check_result names it
            inputs.append(None)
            states.append(family.OUT)
            continue
        inputs.append((c, samples, len(r["method"]["looks"])))
        states.append(_runner_state(c, samples, r))
    redecided: dict[int, tuple[Verdict, float]] = {}

    def redecide(i: int, at: float) -> bool:
        c, samples, looks = inputs[i]
        look = family.look_confidence(c, samples.kind, looks, at)
        redecided[i] = (decide(c, samples, look, budget_spent=True), look)
        return redecided[i][0].status in (PASS, FAIL)

    derived = family.step_down(confidence, size, states, redecide)
    for where, problem in [("report", family.compare(recorded, derived))] + [
            (names[i], family.compare(r["method"].get("family"), derived, i))
            for i, r in enumerate(results)]:
        if problem is not None:
            problems.append(Mismatch(where, problem))
    return {i: redecided[i] for i, step in enumerate(derived.step_of)
            if step is not None and step > 1}, problems


def _where(report: dict, pointer: str) -> str:
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] == "results" and parts[2].isdigit():
        results = report.get("results")
        if (isinstance(results, list) and int(parts[2]) < len(results)
                and isinstance(results[int(parts[2])], dict)):
            r = results[int(parts[2])]
            return f"{r.get('metric', '?')} ({r.get('id', '?')})"
    return "report"


def _each_once(results: list[dict]) -> list[Mismatch]:
    """A criterion judged twice could hide a FAIL behind a PASS copy (``ryot compare`` keeps
    one result per id)."""
    first: dict[str, int] = {}
    out = []
    for i, r in enumerate(results):
        j = first.setdefault(r["id"], i)
        if j != i:
            out.append(Mismatch(f"{r['metric']} ({r['id']})",
                                f"criterion {r['id']!r} appears again at /results/{i} (first at "
                                f"/results/{j}): a report judges each criterion once"))
    return out


def against_criteria(report: dict, criteria: CriteriaFile) -> list[Mismatch]:
    """Does the report judge exactly the criteria of ``criteria`` (same file, same bounds)?"""
    out = []
    if report["criteria_file"]["sha256"] != criteria.sha256:
        out.append(Mismatch("report", f"criteria file sha256 "
                                      f"{report['criteria_file']['sha256'][:12]}… "
                                      f"is not that of {criteria.path} ({criteria.sha256[:12]}…)"))
    recorded = report.get("family") or {}
    theirs = (recorded.get("confidence"), recorded.get("size"))
    ours = (criteria.family_confidence, len(criteria.criteria))
    if theirs != (ours if ours[0] is not None else (None, None)):
        def said(conf, size):
            return ("no family_confidence" if conf is None
                    else f"family_confidence {conf} over {size} criteria")
        out.append(Mismatch("report", f"the report has {said(*theirs)} but {criteria.path} has "
                                      f"{said(*ours)}"))
    by_id = {r["id"]: r for r in reversed(report["results"])}  # a copy: _each_once names it
    for c in criteria.criteria:
        expected = quick_budget(c) if report["quick"] else c
        r = by_id.pop(c.id, None)
        if r is None:
            out.append(Mismatch(f"{c.metric} ({c.id})", "the criterion is missing from the report"))
            continue
        stored, wanted = r["criterion"], expected.to_dict()
        for key in sorted(set(wanted) | set(stored)):  # a key the file lacks is a mismatch too
            if stored.get(key) != wanted.get(key):
                said = repr(wanted[key]) if key in wanted else "nothing"
                out.append(Mismatch(f"{c.metric} ({c.id})",
                                    f"criterion.{key} is {stored.get(key)!r} "
                                    f"but {criteria.path} says {said}"))
    theirs_h = report["criteria_file"].get("quarantine_horizon_days")
    ours_h = (criteria.quarantine_horizon_days if any(c.quarantine for c in criteria.criteria)
              else None)
    if theirs_h != ours_h:
        out.append(Mismatch("report", f"criteria_file.quarantine_horizon_days is {theirs_h!r} "
                                      f"but {criteria.path} gives {ours_h!r}"))
    for r in by_id.values():
        out.append(Mismatch(f"{r['metric']} ({r['id']})", f"not a criterion of {criteria.path}"))
    return out


def _machine_problems(report: dict) -> list[Mismatch]:
    """The machine fingerprint's id must be the hash of its facts."""
    machine = report["environment"].get("machine")
    if machine is None or machine["id"] == fingerprint_id(machine["facts"]):
        return []
    return [Mismatch("report", f"environment.machine.id {machine['id']} is not the "
                               f"fingerprint of its facts ({fingerprint_id(machine['facts'])})")]


def verify_report(report: dict, *, criteria: CriteriaFile | None = None,
                  key: bytes | None = None) -> list[Mismatch]:
    """Every inconsistency found; empty when the report is exactly what its samples say."""
    try:
        error = first_error(SCHEMA, report)
    except RecursionError:
        return [Mismatch("report", "nested too deeply to be a ryot report")]
    if error is not None:
        pointer = json_pointer(error)
        return [Mismatch(_where(report, pointer), f"invalid at {pointer or '/'}: {error.message}")]
    if not report["results"]:
        return [Mismatch("report", f"at /results: {_NO_RESULTS}")]
    mismatches = _each_once(report["results"])
    mismatches += [Mismatch(where, problem) for where, problem in commit_problems(report)]
    mismatches += _machine_problems(report)
    redecided, found = _family(report)
    mismatches += found
    for i, r in enumerate(report["results"]):
        for problem in _check_result(r, f"/results/{i}", redecided.get(i)):
            mismatches.append(Mismatch(f"{r['metric']} ({r['id']})", problem))
    counts = {s: sum(r["status"] == s for r in report["results"]) for s in STATUSES}
    if report["summary"]["counts"] != counts:
        mismatches.append(Mismatch("report", f"summary counts {report['summary']['counts']} "
                                             f"do not match the results {counts}"))
    mismatches += [Mismatch(where, problem) for where, problem in quarantine_problems(report)]
    if report["summary"]["exit_code"] != counted_exit_code(report["results"]):
        mismatches.append(Mismatch("report", "summary exit_code does not match the results"))
    if sha256_of(body_of(report)) != report["sha256"] and not mismatches:
        mismatches.append(Mismatch("report", "the report's sha256 does not match its content "
                                             "(its header or summary was edited)"))
    if key is not None:
        if "hmac" not in report:
            mismatches.append(Mismatch("report", "no keyed seal (hmac), but a key was given"))
        elif not hmac.compare_digest(report["hmac"], hmac_of(report, key)):
            mismatches.append(Mismatch("report", "the keyed seal (hmac) does not match: the report "
                                                 "was changed or sealed with another key"))
    if criteria is not None:
        mismatches += against_criteria(report, criteria)
    return mismatches
