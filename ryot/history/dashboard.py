"""``ryot history html``: a static, self-contained dashboard (no network access when opened).

One card per criterion and machine: each report's estimate (a dot coloured by its verdict,
linking to the stored report) with its interval (a vertical bar), the criterion's bound (a
dashed line), and the change points found (a vertical marker naming the commit). A selector
shows one machine fingerprint at a time. The charts are SVG drawn here; the only script is the
selector's.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from pathlib import Path

from ryot.history.check import Found
from ryot.history.series import Series
from ryot.infra.atomic import write_bytes_atomic

__all__ = ["render", "write_site"]

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 460, 170, 56, 10, 22, 26
COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#bf8700",
           "INVALID": "#8250df", "ERROR": "#57606a", "NOT_APPLICABLE": "#afb8c1"}

_STYLE = """
body{font:14px system-ui,sans-serif;margin:16px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 8px} .meta{color:#57606a;margin-bottom:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px} .machine{display:none} .machine.shown{display:block}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px;width:460px}
.card h2{font-size:14px;margin:0 0 2px} .card .sub{color:#57606a;font-size:12px}
.axis{stroke:#d0d7de} .bar{stroke:#8c959f;stroke-width:1}
.bound{stroke:#0969da;stroke-dasharray:4 3}
.change-point{stroke:#cf222e;stroke-width:2} .change-point.improvement{stroke:#1a7f37}
text{font-size:10px;fill:#57606a} .legend span{margin-right:10px}
"""

_SCRIPT = """
function show(id){document.querySelectorAll('.machine').forEach(function(m){
  m.classList.toggle('shown', m.dataset.machine===id);});}
document.getElementById('machine').addEventListener('change',function(e){show(e.target.value);});
show(document.getElementById('machine').value);
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _report_href(sha: str) -> str:
    return f"reports/{sha[:16]}.json"


def _card(s: Series, changes: list[Found]) -> str:
    pts = [p for p in s.points if p.estimate is not None]
    values = [p.estimate for p in pts]
    values += [v for p in pts for v in (p.low, p.high) if v is not None]
    values += [v for v in (s.threshold, s.low_bound, s.high_bound) if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    span = hi - lo
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    n = max(len(s.points), 2)

    def x(i: int) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * (i / (n - 1))

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - (v - lo) / (hi - lo))

    out = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
           f'<line class="axis" x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}"/>',
           f'<text x="4" y="{y(hi) + 8:.1f}">{hi:.4g}</text>',
           f'<text x="4" y="{y(lo):.1f}">{lo:.4g}</text>']
    for bound in (s.threshold, s.low_bound, s.high_bound):
        if bound is not None:
            out.append(f'<line class="bound" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(bound):.1f}" '
                       f'y2="{y(bound):.1f}"/>')
    index = {p.report: i for i, p in enumerate(s.points)}
    bars = []
    for p in s.points:
        if p.estimate is not None and p.low is not None and p.high is not None:
            xi = x(index[p.report])
            bars.append(f"M{xi:.1f} {y(p.low):.1f}V{y(p.high):.1f}")
    if bars:
        out.append(f'<path class="bar" d="{"".join(bars)}"/>')
    for f in changes:
        xi = (x(index[f.at.report]) + x(index[f.before.report])) / 2
        kind = "regression" if f.against else "improvement"
        commit = f.at.commit or f.at.finished_at
        out.append(f'<g><line class="change-point {kind}" data-commit="{_e(commit)}" '
                   f'x1="{xi:.1f}" x2="{xi:.1f}" y1="{PAD_T}" y2="{H - PAD_B}">'
                   f'<title>{_e(f.describe(s.machine))}</title></line>'
                   f'<text x="{xi + 2:.1f}" y="{PAD_T - 4}">{_e(commit[:8])} '
                   f'{f.change.relative:+.1%}</text></g>')
    for i, p in enumerate(s.points):
        if p.estimate is None:
            continue
        tip = (f"{p.commit[:10] if p.commit else '?'} · {p.finished_at} · {p.status} · "
               f"{p.estimate:.4g} [{p.low if p.low is not None else '—'}, "
               f"{p.high if p.high is not None else '—'}]")
        out.append(f'<a href="{_report_href(p.report)}"><circle class="point" '
                   f'data-report="{p.report[:16]}" data-status="{_e(p.status)}" cx="{x(i):.1f}" '
                   f'cy="{y(p.estimate):.1f}" r="3" fill="{COLOURS.get(p.status, "#000")}">'
                   f'<title>{_e(tip)}</title></circle></a>')
    out.append("</svg>")
    bound = (f"{s.comparator} {s.threshold:g}" if s.threshold is not None
             else f"between {s.low_bound:g} and {s.high_bound:g}")
    last = next((p for p in reversed(s.points) if p.estimate is not None), None)
    now = f" · last {last.estimate:.4g} {s.unit or ''} ({last.status})" if last else ""
    return (f'<div class="card" data-criterion="{_e(s.criterion)}"><h2>{_e(s.criterion)}</h2>'
            f'<div class="sub">{_e(s.metric)} · wanted {_e(bound)}{_e(now)} · '
            f'{len(s.points)} reports · {len(changes)} change points</div>{"".join(out)}</div>')


def render(all_series: list[Series], found: list[Found], labels: dict[str, str],
           title: str = "ryot history") -> str:
    """The page: a machine selector and, per machine, one card per criterion."""
    by_machine: dict[str, list[Series]] = {}
    for s in all_series:
        by_machine.setdefault(s.machine, []).append(s)
    options, sections = [], []
    ordered = sorted(by_machine.items(), key=lambda kv: (-len(kv[1]), labels.get(kv[0], "")))
    for m, series in ordered:
        reports = {p.report for s in series for p in s.points}
        options.append(f'<option value="{_e(m)}">{_e(labels.get(m, m))} ({len(reports)} '
                       f'reports)</option>')
        cards = [_card(s, [f for f in found if f.series is s]) for s in series]
        sections.append(f'<section class="machine" data-machine="{_e(m)}"><div class="cards">'
                        f'{"".join(cards)}</div></section>')
    legend = "".join(f'<span style="color:{c}">● {k}</span>' for k, c in COLOURS.items())
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1><div class=\"meta\"><label>Machine "
            f"<select id=\"machine\">{''.join(options)}</select></label> "
            f"<span class=\"legend\">{legend}</span> · bars: each run's interval · dashed: the "
            f"bound · red/green lines: change points against/with the wanted direction</div>"
            f"{''.join(sections)}<script>{_SCRIPT}</script></body></html>")


def write_site(out: str | os.PathLike[str], page: str,
               reports: Iterable[tuple[str, dict]]) -> Path:
    """``index.html`` and ``reports/<sha>.json`` (each report, as stored) under ``out``."""
    folder = Path(out)
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    for sha, body in reports:
        write_bytes_atomic(folder / _report_href(sha),
                           json.dumps(body, indent=1, allow_nan=False).encode())
    index = folder / "index.html"
    write_bytes_atomic(index, page.encode("utf-8"))
    return index
