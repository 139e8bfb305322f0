"""One fleet report from the parts each machine kind returned: every part untouched, a matrix
(criteria × kinds) and a fleet verdict per criterion. ``ryot verify`` re-derives all of it
(:func:`rederive`), so the merge is as checkable as a single report.

Rules, per criterion (the fleet file's ``rules``):

* ``"all"`` (the default): every kind that runs it must PASS (NOT_APPLICABLE allowed). Any FAIL
  is FAIL; else any ERROR or INVALID is ERROR; else any INCONCLUSIVE is INCONCLUSIVE; all
  NOT_APPLICABLE is NOT_APPLICABLE.
* ``{"at_least": K}``: PASS once K kinds PASS; FAIL when fewer than K could still (PASS plus
  undecided kinds); NOT_APPLICABLE when no kind applies; otherwise ERROR (a kind errored) or
  INCONCLUSIVE.
"""

from __future__ import annotations

from typing import Any

from ryot.infra.errors import RyotError
from ryot.infra.jsonio import seal
from ryot.verification.quarantine import counted_exit_code
from ryot.verification.statuses import (
    ERROR,
    FAIL,
    INCONCLUSIVE,
    INVALID,
    NOT_APPLICABLE,
    PASS,
    STATUSES,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "MergeError", "build", "decide", "failed_part",
           "part", "rederive"]

FORMAT, FORMAT_VERSION = "ryot.fleet_report", 1
_UNDECIDED = (INCONCLUSIVE, ERROR, INVALID)


class MergeError(RyotError):
    """Parts that cannot be merged (exit 2)."""


def part(kind: str, report: dict, *, shard: int = 1, shards: int = 1, attempts: int = 1,
         job_id: str | None = None) -> dict:
    """A part a job returned: its sealed report, untouched."""
    return {"kind": kind, "shard": shard, "shards": shards, "status": "done",
            "attempts": attempts, "job_id": job_id,
            "criteria": [r["id"] for r in report["results"]], "report": report}


def failed_part(kind: str, criteria: list[str], reason: str, *, shard: int = 1, shards: int = 1,
                attempts: int = 1, job_id: str | None = None) -> dict:
    """A job that returned no report: its criteria are ERROR with the scheduler's reason."""
    return {"kind": kind, "shard": shard, "shards": shards, "status": "failed",
            "attempts": attempts, "job_id": job_id, "criteria": list(criteria),
            "reason": reason, "report": None}


def decide(statuses: list[str], rule: Any) -> tuple[str, str]:
    """(fleet status, why) of one criterion's statuses on its kinds."""
    n = {s: statuses.count(s) for s in STATUSES}
    applicable = len(statuses) - n[NOT_APPLICABLE]
    if applicable == 0:
        return NOT_APPLICABLE, "not applicable on any machine kind"
    if rule == "all":
        if n[FAIL]:
            return FAIL, f"FAIL on {n[FAIL]} of {len(statuses)} kinds (every kind must PASS)"
        if n[ERROR] or n[INVALID]:
            return ERROR, f"ERROR/INVALID on {n[ERROR] + n[INVALID]} of {len(statuses)} kinds"
        if n[INCONCLUSIVE]:
            return INCONCLUSIVE, f"INCONCLUSIVE on {n[INCONCLUSIVE]} of {len(statuses)} kinds"
        return PASS, f"PASS on all {applicable} kinds it applies to"
    k = rule["at_least"]
    undecided = sum(n[s] for s in _UNDECIDED)
    if n[PASS] >= k:
        return PASS, f"PASS on {n[PASS]} kinds (at least {k} needed)"
    if n[PASS] + undecided < k:
        return FAIL, f"PASS on {n[PASS]} kinds, at most {n[PASS] + undecided} possible " \
                     f"(at least {k} needed)"
    if n[ERROR] or n[INVALID]:
        return ERROR, f"PASS on {n[PASS]} of the {k} needed; {n[ERROR] + n[INVALID]} kinds ERROR"
    return INCONCLUSIVE, f"PASS on {n[PASS]} of the {k} needed; {undecided} kinds undecided"


def _check_rules(rules: Any) -> None:
    def ok(rule: Any) -> bool:
        return rule == "all" or (isinstance(rule, dict) and set(rule) == {"at_least"}
                                 and type(rule["at_least"]) is int and rule["at_least"] >= 1)

    if not (isinstance(rules, dict) and ok(rules.get("default", "all"))
            and isinstance(rules.get("criteria", {}), dict)
            and all(ok(r) for r in rules.get("criteria", {}).values())):
        raise MergeError("rules: expected {\"default\": RULE, \"criteria\": {id: RULE}}, each "
                         "RULE \"all\" or {\"at_least\": K >= 1}", pointer="/rules")


def _cells(parts: list[dict]) -> tuple[list[str], list[str], dict]:
    kinds = list(dict.fromkeys(p["kind"] for p in parts))
    order, cells, definitions, seals = [], {}, {}, {}
    for i, p in enumerate(parts):
        if p["status"] == "done":
            sha = p["report"]["sha256"]
            if sha in seals:
                raise MergeError(f"the same report ({sha[:16]}) is part {seals[sha]} and part "
                                 f"{i}: one run counts once", pointer=f"/parts/{i}")
            seals[sha] = i
        elif not p["criteria"]:
            raise MergeError("a failed part names the criteria it should have run",
                             pointer=f"/parts/{i}/criteria")
        results = {r["id"]: r for r in (p["report"] or {}).get("results", [])}
        for cid in p["criteria"]:
            if cid not in order:
                order.append(cid)
            row = cells.setdefault(cid, {})
            if p["kind"] in row:
                raise MergeError(f"criterion {cid!r} appears twice for machine kind "
                                 f"{p['kind']!r}", pointer=f"/parts/{i}")
            if p["status"] == "done":
                r = results[cid]
                definition = {k: v for k, v in r["criterion"].items() if k != "description"}
                seen = definitions.setdefault(cid, (p["kind"], definition))
                if seen[1] != definition:
                    raise MergeError(f"criterion {cid!r} is not the same on {seen[0]!r} and "
                                     f"{p['kind']!r}: one verdict needs one definition",
                                     pointer=f"/parts/{i}")
                s = r.get("statistics") or {}
                row[p["kind"]] = {"status": r["status"], "estimate": s.get("estimate"),
                                  "ci_low": s.get("ci_low"), "ci_high": s.get("ci_high"),
                                  "unit": r["criterion"].get("unit"),
                                  "machine": (p["report"]["environment"].get("machine") or {})
                                  .get("label")}
                if "quarantined" in r:
                    row[p["kind"]]["quarantined"] = r["quarantined"]
            else:
                row[p["kind"]] = {"status": ERROR, "reason": p["reason"]}
    return kinds, order, cells


def _derived(parts: list[dict], rules: dict) -> dict:
    _check_rules(rules)
    kinds, order, cells = _cells(parts)
    verdicts = []
    for cid in order:
        rule = rules.get("criteria", {}).get(cid, rules.get("default", "all"))
        status, why = decide([c["status"] for c in cells[cid].values()], rule)
        verdict = {"id": cid, "status": status, "reason": why, "rule": rule}
        flags = [c["quarantined"] for c in cells[cid].values() if "quarantined" in c]
        if flags:  # quarantined on every kind that ran it: reported, not counted
            verdict["quarantined"] = all(flags)
        verdicts.append(verdict)
    counts = {s: sum(v["status"] == s for v in verdicts) for s in STATUSES}
    return {"matrix": {"kinds": kinds, "criteria": order, "cells": cells},
            "verdicts": verdicts, "summary": {"counts": counts,
                                              "exit_code": counted_exit_code(verdicts)}}


def build(parts: list[dict], *, rules: dict | None = None, fleet: dict | None = None,
          started_at: str, finished_at: str) -> dict:
    """The sealed fleet report. ``fleet``: the fleet file's {path, sha256, name}, or None."""
    if not parts:
        raise MergeError("nothing to merge: no parts")
    rules = rules or {"default": "all", "criteria": {}}
    files = {(p["report"]["criteria_file"].get("name"), p["kind"]) for p in parts if p["report"]}
    report = {"format": FORMAT, "format_version": FORMAT_VERSION, "fleet": fleet,
              "started_at": started_at, "finished_at": finished_at, "rules": rules,
              "criteria_files": sorted({name or "" for name, _ in files}),
              "parts": parts, **_derived(parts, rules)}
    return seal(report)


def rederive(report: dict) -> list[str]:
    """Each place where the fleet report's matrix, verdicts or summary differ from what its
    parts and rules give (empty when they agree)."""
    try:
        derived = _derived(report["parts"], report["rules"])
    except (MergeError, KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        return [f"the parts cannot be merged: {type(exc).__name__}: {exc}"]
    problems = []
    for key in ("matrix", "verdicts", "summary"):
        if report.get(key) != derived[key]:
            problems.append(f"{key} is not what the parts and rules give")
    for i, p in enumerate(report["parts"]):
        try:
            ids = [r["id"] for r in p["report"]["results"]] if p["status"] == "done" else None
        except (KeyError, TypeError):
            problems.append(f"/parts/{i}/report is not a report")
            continue
        if ids is not None and p["criteria"] != ids:
            problems.append(f"/parts/{i}/criteria does not match its report's results")
    return problems
