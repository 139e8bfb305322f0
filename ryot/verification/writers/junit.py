"""junit.xml for CI systems: one testcase per criterion.

FAIL -> <failure>; INCONCLUSIVE, INVALID, ERROR -> <error>; NOT_APPLICABLE -> <skipped>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


def render_junit(report: dict) -> str:
    results = report["results"]
    counts = report["summary"]["counts"]
    suite = ET.Element("testsuite", {
        "name": f"ryot acceptance: {report['criteria_file']['name']}",
        "tests": str(len(results)),
        "failures": str(counts.get("FAIL", 0)),
        "errors": str(counts.get("INCONCLUSIVE", 0) + counts.get("INVALID", 0) + counts.get("ERROR", 0)),
        "skipped": str(counts.get("NOT_APPLICABLE", 0)),
        "time": f"{sum(r['elapsed_s'] for r in results):.3f}",
        "timestamp": report["started_at"],
    })
    for r in results:
        case = ET.SubElement(suite, "testcase", {"classname": f"ryot.{r['metric']}", "name": r["id"],
                                                 "time": f"{r['elapsed_s']:.3f}"})
        status = r["status"]
        if status == "FAIL":
            ET.SubElement(case, "failure", {"type": status, "message": r["reason"]})
        elif status in ("INCONCLUSIVE", "INVALID", "ERROR"):
            el = ET.SubElement(case, "error", {"type": status, "message": r["reason"]})
            el.text = r.get("error_traceback")
        elif status == "NOT_APPLICABLE":
            ET.SubElement(case, "skipped", {"message": r["reason"]})
        if r["suspicious"]:
            ET.SubElement(case, "system-out").text = f"SUSPICIOUS: {r['suspicious']}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
