"""report.md: a table a person reads in a pull request."""

from __future__ import annotations

ICON = {"PASS": "✅", "FAIL": "❌", "INCONCLUSIVE": "❔", "INVALID": "⚠️",
        "NOT_APPLICABLE": "➖", "ERROR": "💥"}


def _bounds(c: dict) -> str:
    if c["comparator"] == "between":
        return f"between {c['min']:g} and {c['max']:g}"
    return f"{c['comparator']} {c['threshold']:g}"


def _fmt(v) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"


def render_markdown(report: dict) -> str:
    env = report["environment"]
    hw = env["hardware"]
    counts = {k: v for k, v in report["summary"]["counts"].items() if v}
    lines = [
        f"# ryot acceptance report: {report['criteria_file']['name']}",
        "",
        f"**Summary:** {', '.join(f'{v} {k}' for k, v in counts.items())} — exit code "
        f"{report['summary']['exit_code']}{' (quick run)' if report['quick'] else ''}",
        "",
        f"Criteria `{report['criteria_file']['path']}` (sha256 `{report['criteria_file']['sha256'][:12]}…`) · "
        f"ryot {env['ryot_version']} · commit `{(env['git_commit'] or 'unknown')[:12]}` · "
        f"torch {env['torch']} · triton {env['triton']} · {hw['kind']}: {hw['name']} "
        f"({hw['cores']} cores) · {report['started_at']} → {report['finished_at']}",
        "",
        "| | criterion | metric | value [CI] | required | n | verdict | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        c, s = r["criterion"], r["statistics"]
        value = (f"{_fmt(s['estimate'])} [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}] {c.get('unit', '')}"
                 if s else "—")
        reason = r["reason"].replace("|", "\\|")
        if r["suspicious"]:
            reason += f" **SUSPICIOUS:** {r['suspicious']}"
        lines.append(f"| {ICON[r['status']]} | `{r['id']}` | `{r['metric']}` | {value} | {_bounds(c)} | "
                     f"{s['n'] if s else 0} | **{r['status']}** | {reason} |")
    lines += ["", "Intervals: percentile bootstrap of the median (ratio of medians for paired "
              "A/B trials), seeded; sequential looks use a Bonferroni-adjusted confidence. "
              "`ryot verify report.json` recomputes every figure from the raw samples.", ""]
    return "\n".join(lines)
