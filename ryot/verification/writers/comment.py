"""``ryot comment``: a pull-request comment — compact Markdown sized for GitHub (a comment holds
at most 65,536 characters), one line per criterion, failures first, the change against an older
report when given, a link to the full report."""

from __future__ import annotations

from ryot.verification.statuses import TABLE
from ryot.verification.writers.mdtext import code, text

__all__ = ["LIMIT", "render_comment"]

LIMIT = 65_536  # GitHub's limit on a comment's body, in characters
_ORDER = ("FAIL", "ERROR", "INVALID", "INCONCLUSIVE", "PASS", "NOT_APPLICABLE")
_OPEN_ROWS = 30  # rows shown before the rest collapse into <details>


def _num(v) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"


def _value(r: dict) -> str:
    s = r["statistics"]
    if not s or s.get("estimate") is None:
        return "—"
    interval = (f" [{_num(s['ci_low'])}, {_num(s['ci_high'])}]"
                if s.get("ci_low") is not None and s.get("ci_high") is not None else "")
    return f"{_num(s['estimate'])}{interval} {text(r['criterion'].get('unit', ''))}".rstrip()


def _required(c: dict) -> str:
    if c["comparator"] == "between":
        return f"{_num(c['min'])}–{_num(c['max'])}"
    return f"{c['comparator']} {_num(c['threshold'])}"


def _change(r: dict, old: dict | None) -> str:
    if old is None:
        return "new"
    parts = []
    a = (old.get("statistics") or {}).get("estimate")
    b = (r.get("statistics") or {}).get("estimate")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a:
        parts.append(f"{(b / a - 1) * 100:+.1f}%")
    if old["status"] != r["status"]:
        parts.append(f"{old['status']} → {r['status']}")
    return " · ".join(parts) or "="


def _row(r: dict, old: dict | None, with_change: bool) -> str:
    status = f"{TABLE[r['status']].icon} {r['status']}"
    if r.get("quarantined"):
        status += " (quarantined)"
    cells = [status, code(r["id"]), _value(r), _required(r["criterion"])]
    if with_change:
        cells.append(_change(r, old))
    return "| " + " | ".join(cells) + " |"


def render_comment(report: dict, baseline: dict | None = None, link: str | None = None,
                   limit: int = LIMIT) -> str:
    """The comment's Markdown, always shorter than ``limit`` characters."""
    counts = {s: n for s, n in report["summary"]["counts"].items() if n}
    olds = {r["id"]: r for r in baseline["results"]} if baseline else {}
    results = sorted(report["results"], key=lambda r: _ORDER.index(r["status"]))
    name = report["criteria_file"]["name"]
    name = name if len(name) <= 200 else name[:200] + "…"
    head = [f"### ryot: {text(name)} — "
            + ", ".join(f"{TABLE[s].icon} {n} {s}" for s, n in counts.items())
            + f" (exit {report['summary']['exit_code']})", ""]
    columns = "| verdict | criterion | value [CI] | required |" + (" change |" if baseline else "")
    rule = "|---|---|---|---|" + ("---|" if baseline else "")
    link = link.replace("(", "%28").replace(")", "%29").replace(" ", "%20")[:2000] if link else None
    tail = ["", (f"[Full report](<{link}>)" if link else "Full report: report.md beside the "
                 "report") + f" · report sha256 `{report['sha256'][:16]}`"
            + (f" · compared with `{baseline['sha256'][:16]}`" if baseline else "")]
    rows = [_row(r, olds.get(r["id"]), bool(baseline)) for r in results]
    shown, hidden = rows[:_OPEN_ROWS], rows[_OPEN_ROWS:]
    body = [*head, columns, rule, *shown]
    if hidden:
        body += ["", f"<details><summary>{len(hidden)} more criteria</summary>", "", columns,
                 rule, *hidden, "", "</details>"]
    out = "\n".join(body + tail) + "\n"
    if len(out) >= limit and hidden:  # too long even collapsed: keep the rows that fit
        fixed = len("\n".join([*head, columns, rule, *shown, "", "<details><summary>"
                               f"{len(rows)} more criteria ({len(rows)} not shown: see the full "
                               "report)</summary>", "", columns, rule, "", "</details>", *tail]))
        room, keep = limit - fixed - 16, 0
        while keep < len(hidden) and room - len(hidden[keep]) - 1 > 0:
            room -= len(hidden[keep]) + 1
            keep += 1
        cut = len(hidden) - keep
        hidden = hidden[:keep]
        body = [*head, columns, rule, *shown, "", f"<details><summary>{len(hidden)} more "
                f"criteria ({cut} not shown: see the full report)</summary>", "", columns, rule,
                *hidden, "", "</details>"]
        out = "\n".join(body + tail) + "\n"
    if len(out) >= limit:  # the open rows alone are too long: keep the verdict line and a link
        out = "\n".join(head + ["Too many criteria for one comment; see the full report."]
                        + tail) + "\n"
    return out
