"""Renderers of a finished report (they format; they never compute or decide) and the one
function that writes them: :func:`write_all`.

Every file is rendered into memory before anything on disk is touched. Text from criteria
files and providers may hold lone surrogates (``"\\udcff"``, from undecodable bytes):
report.json escapes them (``ensure_ascii``), report.md and junit.xml write them as ``\\udcff``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ryot.verification.writers.junit import render_junit
from ryot.verification.writers.markdown import render_markdown
from ryot.verification.writers.plot import render_plot
from ryot.verification.writers.publish import MARKER, OUTPUTS, keep, publish

__all__ = ["OUTPUTS", "Written", "render_all", "write_all"]


@dataclass(frozen=True)
class Written:
    paths: dict[str, Path]  # the files written, by name
    notes: tuple[str, ...]  # what was left out and why (also in report.md)


def _json(report: dict) -> bytes:
    return (json.dumps(report, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _text(s: str) -> bytes:
    return s.encode("utf-8", errors="backslashreplace")  # a lone surrogate becomes \udcff


def _escaped(value):
    """``value`` with every lone surrogate in its strings written as ``\udcff`` (for the
    renderers that show text: UTF-8 and the plot's fonts cannot carry a lone surrogate)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def _quarantine_notes(report: dict) -> list[str]:
    notes = []
    for r in report["results"]:
        q = r["criterion"].get("quarantine")
        if q and r.get("quarantined"):
            notes.append(f"{r['id']} is QUARANTINED until {q['until']} ({q['reason']}): its "
                         f"{r['status']} is reported but does not set the exit code")
        elif q:
            notes.append(f"the quarantine of {r['id']} ended on {q['until']}: it counts again "
                         "(remove the quarantine, or give a new reason and date)")
    return notes


def render_all(report: dict) -> tuple[dict[str, bytes], list[str]]:
    """Every output's bytes, and notes on outputs that could not be rendered."""
    notes, plot, shown = _quarantine_notes(report), None, _escaped(report)
    try:
        plot = render_plot(shown)
    except ImportError as exc:  # matplotlib is an optional dependency (the dev extra)
        notes.append(f"plot.png not written: matplotlib cannot be imported ({exc}); "
                     "`pip install matplotlib` to get the plot")
    except Exception as exc:  # noqa: BLE001 - a plot must never cost the report
        notes.append(f"plot.png not written: plotting failed ({type(exc).__name__}: {exc})")
    files = {
        "report.json": _json(report),
        "report.md": _text(render_markdown(shown, notes)),
        "junit.xml": _text(render_junit(shown)),
    }
    if plot is not None:
        files["plot.png"] = plot
    return files, notes


def _keep_the_data(report: dict, out: Path, exc: Exception) -> None:
    """A renderer failed (a ryot bug): nothing was touched; keep report.json, say where."""
    data = None
    for dump in (_json, lambda r: _text(json.dumps(r, indent=2, default=repr) + "\n")):
        try:  # what made rendering fail may be in the data itself: then anything JSON can say
            data = dump(report)
            break
        except Exception:  # noqa: BLE001, S112 - the renderer's exception is the one to raise
            continue
    kept = keep({MARKER: data}, out)[0] if data is not None else None
    where = (f"its data is kept in {kept / MARKER}" if kept is not None
             else "its data could not be kept anywhere")
    exc.add_note(f"ryot: the report set was not written and nothing in {out} was changed; "
                 f"{where}")


def write_all(report: dict, out_dir: str | os.PathLike[str]) -> Written:
    """Render every output, then write them into ``out_dir`` as one set (see :mod:`.publish`).

    Raises :class:`~ryot.infra.errors.PublishError` (naming the file, the OS error and the
    folder where the rendered set was kept) when they cannot be written."""
    out = Path(os.path.abspath(os.fspath(out_dir)))
    try:
        files, notes = render_all(report)
    except Exception as exc:
        _keep_the_data(report, out, exc)
        raise
    return Written(publish(files, out), tuple(notes))
