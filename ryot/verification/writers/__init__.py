"""Renderers of a finished report (they format; they never compute or decide) and the one
function that writes them: :func:`write_all`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ryot.verification.writers.junit import render_junit
from ryot.verification.writers.markdown import render_markdown
from ryot.verification.writers.plot import render_plot
from ryot.verification.writers.publish import OUTPUTS, publish

__all__ = ["OUTPUTS", "Written", "render_all", "write_all"]


@dataclass(frozen=True)
class Written:
    paths: dict[str, Path]  # the files written, by name
    notes: tuple[str, ...]  # what was left out and why (also in report.md)


def render_all(report: dict) -> tuple[dict[str, bytes], list[str]]:
    """Every output's bytes, and notes on outputs that could not be rendered."""
    notes, plot = [], None
    try:
        plot = render_plot(report)
    except ImportError as exc:  # matplotlib is an optional dependency (the dev extra)
        notes.append(f"plot.png not written: matplotlib cannot be imported ({exc}); "
                     "`pip install matplotlib` to get the plot")
    except Exception as exc:  # noqa: BLE001 - a plot must never cost the report
        notes.append(f"plot.png not written: plotting failed ({type(exc).__name__}: {exc})")
    files = {
        "report.json": (json.dumps(report, indent=2, allow_nan=False) + "\n").encode("utf-8"),
        "report.md": render_markdown(report, notes).encode("utf-8"),
        "junit.xml": render_junit(report).encode("utf-8"),
    }
    if plot is not None:
        files["plot.png"] = plot
    return files, notes


def write_all(report: dict, out_dir: str | os.PathLike[str]) -> Written:
    """Write the outputs into ``out_dir`` as one set (see :mod:`.publish`)."""
    files, notes = render_all(report)
    return Written(publish(files, Path(out_dir)), tuple(notes))
