"""junit.xml for CI systems: one testcase per criterion.

Each status's element (<failure>, <error>, <skipped> or none) comes from :mod:`..statuses`.
Characters XML 1.0 cannot carry (control characters in an exception message) are written as
``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ryot.verification.statuses import TABLE

__all__ = ["render_junit"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(s: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(s))


def _element(r: dict) -> tuple[str | None, str]:
    """The testcase's element and message: its status's, but a quarantined failure or error is
    skipped (measured and shown, not failing CI)."""
    element = TABLE[r["status"]].junit
    if r.get("quarantined") and element is not None:
        q = r["criterion"]["quarantine"]
        return "skipped", f"QUARANTINED until {q['until']} ({q['reason']}): {r['status']}: " \
                          f"{r['reason']}"
    return element, r["reason"]


def render_junit(report: dict) -> str:
    results = report["results"]
    elements = [_element(r)[0] for r in results]
    suite = ET.Element("testsuite", {
        "name": _xml(f"ryot acceptance: {report['criteria_file']['name']}"),
        "tests": str(len(results)),
        **{f"{element}s" if element != "skipped" else element: str(elements.count(element))
           for element in ("failure", "error", "skipped")},
        "time": f"{sum(r['elapsed_s'] for r in results):.3f}",
        "timestamp": _xml(report["started_at"]),
    })
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "ryot.report_sha256", "value": report["sha256"]})
    for r in results:
        case = ET.SubElement(suite, "testcase", {"classname": _xml(f"ryot.{r['metric']}"),
                                                 "name": _xml(r["id"]),
                                                 "time": f"{r['elapsed_s']:.3f}"})
        status = r["status"]
        element, reason = _element(r)
        reason = _xml(reason)
        if element == "skipped":
            ET.SubElement(case, "skipped", {"message": reason})
        elif element is not None:
            el = ET.SubElement(case, element, {"type": status, "message": reason})
            if r.get("error_traceback"):
                el.text = _xml(r["error_traceback"])
        if r["suspicious"]:
            ET.SubElement(case, "system-out").text = _xml(f"SUSPICIOUS: {r['suspicious']}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
