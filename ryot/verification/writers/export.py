"""``ryot export``: a report's estimates in the formats of the dashboards teams already run.

* ``github-action-benchmark``: its custom JSON, a list of ``{"name", "unit", "value", "range",
  "extra"}``; that action's tool is ``customBiggerIsBetter`` or ``customSmallerIsBetter`` for a
  whole file, so ``wanted`` keeps the criteria that want higher (``>=``) or lower (``<=``) values.
* ``bencher``: Bencher Metric Format, ``{benchmark: {measure: {"value", "lower_value",
  "upper_value"}}}``, the measure named ``ryot-<unit>``.

Only results with an estimate are exported; the others are returned by name, to be said.
"""

from __future__ import annotations

import re

__all__ = ["FORMATS", "export"]

FORMATS = ("github-action-benchmark", "bencher")


def _estimates(report: dict):
    for r in report["results"]:
        s = r.get("statistics") or {}
        if isinstance(s.get("estimate"), (int, float)):
            yield r, s


def _slug(unit: str) -> str:
    return "ryot-" + (re.sub(r"[^a-z0-9]+", "-", unit.lower()).strip("-") or "value")


def export(report: dict, fmt: str, wanted: str | None = None) -> tuple[object, list[str]]:
    """(the document, ids left out and why)."""
    left_out = [f"{r['id']} ({r['status']}: no estimate)" for r in report["results"]
                if not isinstance((r.get("statistics") or {}).get("estimate"), (int, float))]
    if fmt == "github-action-benchmark":
        keep = {"higher": (">=",), "lower": ("<=",), None: (">=", "<=", "between")}[wanted]
        doc = []
        for r, s in _estimates(report):
            c = r["criterion"]
            if c["comparator"] not in keep:
                left_out.append(f"{r['id']} (wants {c['comparator']}, not {wanted})")
                continue
            entry = {"name": r["id"], "unit": c.get("unit", ""), "value": s["estimate"],
                     "extra": f"{r['status']}; required {c['comparator']} "
                              f"{c.get('threshold', [c.get('min'), c.get('max')])}; "
                              f"n={s.get('n')}; report {report['sha256'][:16]}"}
            if isinstance(s.get("ci_low"), (int, float)) and isinstance(s.get("ci_high"),
                                                                          (int, float)):
                entry["range"] = f"[{s['ci_low']:.6g}, {s['ci_high']:.6g}]"
            doc.append(entry)
        return doc, left_out
    if fmt == "bencher":
        doc = {}
        for r, s in _estimates(report):
            m = {"value": s["estimate"]}
            if isinstance(s.get("ci_low"), (int, float)):
                m["lower_value"] = s["ci_low"]
            if isinstance(s.get("ci_high"), (int, float)):
                m["upper_value"] = s["ci_high"]
            doc[r["id"]] = {_slug(r["criterion"].get("unit", "")): m}
        return doc, left_out
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
