"""Renderers of a finished report. They format; they never compute or decide."""

from __future__ import annotations

import os
from pathlib import Path

from ...atomic import write_bytes_atomic, write_json_atomic, write_text_atomic
from .junit import render_junit
from .markdown import render_markdown
from .plot import render_plot

OUTPUTS = ("report.json", "report.md", "junit.xml", "plot.png")


def write_all(report: dict, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the four outputs, each atomically (temp file + rename) into ``out_dir``."""
    out = Path(out_dir)
    paths = {
        "report.json": write_json_atomic(out / "report.json", report),
        "report.md": write_text_atomic(out / "report.md", render_markdown(report)),
        "junit.xml": write_text_atomic(out / "junit.xml", render_junit(report)),
        "plot.png": write_bytes_atomic(out / "plot.png", render_plot(report)),
    }
    return paths
