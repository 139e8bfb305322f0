"""plot.png: each metric's value and interval against its required band (matplotlib).

matplotlib is optional: :func:`render_plot` raises ImportError without it, and the writers
leave plot.png out with a note."""

from __future__ import annotations

import io
import math

from ryot.verification.statuses import TABLE

__all__ = ["render_plot"]


def _colour(status: str) -> str:
    return TABLE[status].colour


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _literal(s: str) -> str:
    """Text matplotlib shows as is (a ``$`` would start mathtext)."""
    return s.replace("$", r"\$")


def render_plot(report: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    fig, axes = plt.subplots(len(results), 1, figsize=(8, 0.9 * len(results) + 1.2), squeeze=False)
    for ax, r in zip(axes[:, 0], results, strict=True):
        c, s = r["criterion"], r["statistics"]
        ax.set_yticks([])
        label = r["id"] + (" [QUARANTINED]" if r.get("quarantined") else "")
        ax.set_ylabel(_literal(label), rotation=0, ha="right", va="center", fontsize=8)
        points = []
        if c["comparator"] == "between":
            ax.axvspan(c["min"], c["max"], color="#c8e6c9", alpha=0.6)
            points += [c["min"], c["max"]]
        else:
            ax.axvline(c["threshold"], color="black", lw=1)
            points.append(c["threshold"])
        if s and _finite(s["estimate"], s.get("ci_low"), s.get("ci_high")):
            ax.errorbar([s["estimate"]], [0],
                        xerr=[[s["estimate"] - s["ci_low"]], [s["ci_high"] - s["estimate"]]],
                        fmt="o", color=_colour(r["status"]), capsize=4)
            points += [s["ci_low"], s["ci_high"]]
        elif s and _finite(s["estimate"]):  # an exact value: a point, no interval
            ax.plot([s["estimate"]], [0], "o", color=_colour(r["status"]))
            points.append(s["estimate"])
        lo, hi = min(points), max(points)
        pad = (hi - lo) * 0.25 or abs(hi) * 0.25 or 1.0
        if c["comparator"] == ">=":
            ax.axvspan(c["threshold"], hi + pad, color="#c8e6c9", alpha=0.6)
        elif c["comparator"] == "<=":
            ax.axvspan(lo - pad, c["threshold"], color="#c8e6c9", alpha=0.6)
        ax.set_xlim(lo - pad, hi + pad)
        ax.text(1.01, 0.5, r["status"], transform=ax.transAxes, color=_colour(r["status"]),
                fontsize=8, va="center", fontweight="bold")
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"ryot acceptance: {_literal(report['criteria_file']['name'])}\n"
                 "point: estimate · bar: confidence interval · green: required", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
