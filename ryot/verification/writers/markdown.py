"""report.md: a table a person reads in a pull request. Every string that came from a
criteria file, a provider or an exception is escaped (:mod:`.mdtext`)."""

from __future__ import annotations

from collections.abc import Sequence

from ryot.verification.statuses import TABLE, bounds_of
from ryot.verification.writers.mdtext import code, fenced, text

__all__ = ["render_markdown"]


def _bounds(c: dict) -> str:
    return text(bounds_of(c))


def _fmt(v) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"


def _value(s: dict) -> str:
    """``estimate [low, high]``; an exact value has no interval."""
    interval = (f" [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]"
                if s.get("ci_low") is not None and s.get("ci_high") is not None else "")
    return f"{_fmt(s['estimate'])}{interval}"


def _family_line(report: dict) -> list[str]:
    family = report.get("family")
    if not family:
        return []
    steps = len(family["steps"])
    return [f"**Family confidence {_fmt(family['confidence'])}** over {family['size']} criteria "
            f"(Holm, {steps} step{'s' if steps > 1 else ''}): every PASS and FAIL below is right "
            f"together with this confidence.", ""]


def _side(commit: dict) -> str:
    dirty = ", with uncommitted changes" if commit["dirty"] else ""
    return f"{text(commit['ref'])} ({code(commit['sha'][:7])}{dirty})"


def _commits_line(report: dict) -> list[str]:
    """"HEAD (abc123) vs origin/main (def456)" for an A/B across commits."""
    commits = report.get("commits")
    if not commits:
        return []
    return [f"**Across commits:** {_side(commits['candidate'])} vs {_side(commits['baseline'])}"
            " — each value below is baseline ÷ candidate (≥ 1: the candidate is not slower).",
            ""]


def render_markdown(report: dict, notes: Sequence[str] = ()) -> str:
    env = report["environment"]
    hw = env["hardware"]
    counts = {k: v for k, v in report["summary"]["counts"].items() if v}
    source = report["criteria_file"]
    lines = [
        f"# ryot acceptance report: {text(source['name'])}",
        "",
        f"**Summary:** {', '.join(f'{v} {k}' for k, v in counts.items())} — exit code "
        f"{report['summary']['exit_code']}{' (quick run)' if report['quick'] else ''}",
        "",
        f"Criteria {code(source['path'])} (sha256 `{source['sha256'][:12]}…`) · "
        f"ryot {text(env['ryot_version'])} · "
        f"commit {code((env['git_commit'] or 'unknown')[:12])} · "
        f"torch {text(env['torch'])} · triton {text(env['triton'])} · {text(hw['kind'])}: "
        f"{text(hw['name'])} ({text(hw['cores'])} cores) · {text(report['started_at'])} → "
        f"{text(report['finished_at'])}",
        "",
        *_commits_line(report),
        *_family_line(report),
        "| | criterion | metric | value [CI] | required | n | verdict | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        c, s = r["criterion"], r["statistics"]
        value = f"{_value(s)} {text(c.get('unit', ''))}" if s else "—"
        reason = text(r["reason"])
        if r["suspicious"]:
            reason += f" **SUSPICIOUS:** {text(r['suspicious'])}"
        verdict = f"**{r['status']}**"
        q = c.get("quarantine")
        if r.get("quarantined"):
            verdict += " QUARANTINED"
            reason += (f" **QUARANTINED** until {text(q['until'])} (not counted in the exit "
                       f"code): {text(q['reason'])}")
        elif q:
            reason += f" (its quarantine ended {text(q['until'])}: counted again)"
        lines.append(f"| {TABLE[r['status']].icon} | {code(r['id'])} | {code(r['metric'])} | "
                     f"{value} | {_bounds(c)} | {s['n'] if s else 0} | {verdict} | "
                     f"{reason} |")
    lines += ["", "How each value and interval was computed is in report.json (each result's "
              "`method`; docs/statistics.md explains them). `ryot verify report.json` recomputes "
              "every figure from the raw samples.", ""]
    if notes:
        lines += ["**Notes:**", "", *(f"- {text(n)}" for n in notes), ""]
    outputs = report.get("provider_output") or {}
    if outputs:
        lines += ["## What the providers printed", "",
                  "Kept out of the summary; the last characters of each are in report.json "
                  "(`provider_output`).", ""]
        for name, printed in outputs.items():
            lines += [f"{code(name)}:", "", fenced(printed), ""]
    lines += [f"Report sha256 `{report['sha256']}` (the same in report.json and junit.xml of "
              "this set).", ""]
    return "\n".join(lines)
