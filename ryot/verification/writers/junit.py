"""junit.xml for CI systems: one testcase per criterion.

FAIL -> <failure>; INCONCLUSIVE, INVALID, ERROR -> <error>; NOT_APPLICABLE -> <skipped>.
Characters XML 1.0 cannot carry (control characters in an exception message) are written as
``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(s: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(s))


def render_junit(report: dict) -> str:
    results = report["results"]
    counts = report["summary"]["counts"]
    suite = ET.Element("testsuite", {
        "name": _xml(f"ryot acceptance: {report['criteria_file']['name']}"),
        "tests": str(len(results)),
        "failures": str(counts.get("FAIL", 0)),
        "errors": str(counts.get("INCONCLUSIVE", 0) + counts.get("INVALID", 0) + counts.get("ERROR", 0)),
        "skipped": str(counts.get("NOT_APPLICABLE", 0)),
        "time": f"{sum(r['elapsed_s'] for r in results):.3f}",
        "timestamp": _xml(report["started_at"]),
    })
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "ryot.report_sha256", "value": report["sha256"]})
    for r in results:
        case = ET.SubElement(suite, "testcase", {"classname": _xml(f"ryot.{r['metric']}"),
                                                 "name": _xml(r["id"]), "time": f"{r['elapsed_s']:.3f}"})
        status, reason = r["status"], _xml(r["reason"])
        if status == "FAIL":
            ET.SubElement(case, "failure", {"type": status, "message": reason})
        elif status in ("INCONCLUSIVE", "INVALID", "ERROR"):
            el = ET.SubElement(case, "error", {"type": status, "message": reason})
            if r.get("error_traceback"):
                el.text = _xml(r["error_traceback"])
        elif status == "NOT_APPLICABLE":
            ET.SubElement(case, "skipped", {"message": reason})
        if r["suspicious"]:
            ET.SubElement(case, "system-out").text = _xml(f"SUSPICIOUS: {r['suspicious']}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
