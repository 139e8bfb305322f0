"""A fleet report as people and CI read it: report.md (the matrix, criteria × machine kinds)
and junit.xml (a testcase per criterion with its fleet verdict, a suite per machine kind)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ryot.verification.statuses import TABLE
from ryot.verification.writers.junit import _xml
from ryot.verification.writers.mdtext import code, text

__all__ = ["render_fleet_files", "render_fleet_junit", "render_fleet_markdown"]


def _num(v) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float)) else "—"


def _cell(c: dict | None) -> str:
    if c is None:
        return "not run"
    icon = TABLE[c["status"]].icon
    if "reason" in c:
        return f"{icon} {c['status']}: {text(c['reason'])}"
    interval = (f" [{_num(c['ci_low'])}, {_num(c['ci_high'])}]"
                if c.get("ci_low") is not None else "")
    quarantined = " (quarantined)" if c.get("quarantined") else ""
    return f"{icon} {c['status']} {_num(c.get('estimate'))}{interval}{quarantined}"


def _rule(rule) -> str:
    if rule == "all":
        return "every kind"
    k = rule["at_least"]
    return f"at least {k} kind{'s' if k > 1 else ''}"


def render_fleet_markdown(report: dict) -> str:
    m, counts = report["matrix"], report["summary"]["counts"]
    kinds = m["kinds"]
    verdict = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines = [f"# ryot fleet: {text(', '.join(report['criteria_files']) or 'criteria')}", "",
             f"**Fleet verdict: {verdict}** (exit {report['summary']['exit_code']}) · "
             f"{len(kinds)} machine kinds · {len(report['parts'])} jobs · "
             f"{report['started_at']} → {report['finished_at']}", "",
             "| criterion | fleet | rule | " + " | ".join(text(k) for k in kinds) + " |",
             "|---|---|---|" + "---|" * len(kinds)]
    for v in report["verdicts"]:
        row = m["cells"][v["id"]]
        q = " QUARANTINED (not counted)" if v.get("quarantined") else ""
        lines.append(f"| {code(v['id'])} | {TABLE[v['status']].icon} **{v['status']}**{q} | "
                     f"{_rule(v['rule'])} | " + " | ".join(_cell(row.get(k)) for k in kinds) + " |")
    lines += ["", "## Jobs", "", "| kind | shard | job | attempts | status | machine | report |",
              "|---|---|---|---|---|---|---|"]
    for p in report["parts"]:
        if p["status"] == "done":
            env = p["report"]["environment"]
            machine = text(env.get("machine", {}).get("label", "—"))
            status = "done"
            sha = code(p["report"]["sha256"][:16])
        else:
            machine, status, sha = "—", f"failed: {text(p['reason'])}", "—"
        lines.append(f"| {text(p['kind'])} | {p['shard']}/{p['shards']} | "
                     f"{code(p.get('job_id') or '—')} | {p['attempts']} | {status} | {machine} | "
                     f"{sha} |")
    lines += ["", "Each part is the sealed report its job returned, untouched; `ryot verify` "
              "re-derives every part from its samples and the matrix and verdicts from the "
              "parts.", ""]
    return "\n".join(lines)


def _case(suite: ET.Element, classname: str, name: str, status: str, message: str) -> None:
    case = ET.SubElement(suite, "testcase", {"classname": _xml(classname), "name": _xml(name)})
    element = TABLE[status].junit
    if element == "skipped":
        ET.SubElement(case, "skipped", {"message": _xml(message)})
    elif element is not None:
        ET.SubElement(case, element, {"type": status, "message": _xml(message)})


def _suite(root: ET.Element, name: str, statuses: list[str]) -> ET.Element:
    return ET.SubElement(root, "testsuite", {
        "name": _xml(name), "tests": str(len(statuses)),
        **{f"{el}s" if el != "skipped" else el:
           str(sum(TABLE[s].junit == el for s in statuses)) for el in ("failure", "error",
                                                                        "skipped")}})


def render_fleet_junit(report: dict) -> str:
    m = report["matrix"]
    root = ET.Element("testsuites")
    fleet = _suite(root, "ryot fleet", [v["status"] for v in report["verdicts"]])
    for v in report["verdicts"]:
        per_kind = "; ".join(f"{k}: {c['status']}" for k, c in m["cells"][v["id"]].items())
        _case(fleet, "ryot.fleet", v["id"], v["status"], f"{v['reason']} ({per_kind})")
    for kind in m["kinds"]:
        rows = [(cid, m["cells"][cid][kind]) for cid in m["criteria"] if kind in m["cells"][cid]]
        suite = _suite(root, f"ryot fleet: {kind}", [c["status"] for _, c in rows])
        for cid, c in rows:
            _case(suite, f"ryot.fleet.{kind}", cid, c["status"],
                  c.get("reason") or f"{c['status']} {_num(c.get('estimate'))}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_fleet_files(report: dict) -> dict[str, bytes]:
    """fleet-report.json, report.md and junit.xml, rendered (nothing written)."""
    return {"fleet-report.json": (json.dumps(report, indent=1, allow_nan=False) + "\n").encode(),
            "report.md": render_fleet_markdown(report).encode(),
            "junit.xml": render_fleet_junit(report).encode()}
