"""``ryot compare A B``: what changed between two reports, criterion by criterion.

Both inputs are checked as ``ryot verify`` checks a report (schema, seals, every statistic and
verdict recomputed from the samples) before anything is compared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ryot.infra.errors import ReportError
from ryot.infra.schemas import excerpt
from ryot.measure.samples import from_json_number
from ryot.verification.verify import load_report, verify_report

__all__ = ["Change", "compare_reports", "load_checked", "machine_difference"]


def load_checked(path: str | os.PathLike[str]) -> dict:
    """A report that ``ryot verify`` would accept; otherwise ReportError naming the file."""
    report = load_report(path)
    problems = verify_report(report)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ReportError(f"{path}: not a consistent ryot report: "
                          f"{excerpt(str(problems[0]), 400)}{more}; "
                          f"`ryot verify {path}` lists every problem")
    return report


@dataclass(frozen=True)
class Change:
    id: str
    metric: str
    status_a: str | None
    status_b: str | None
    estimate_a: float | None
    estimate_b: float | None

    @property
    def relative_change(self) -> float | None:
        if self.estimate_a in (None, 0) or self.estimate_b is None:
            return None
        return self.estimate_b / self.estimate_a - 1

    @property
    def kind(self) -> str:
        if self.status_a is None:
            return "added"
        if self.status_b is None:
            return "removed"
        return "same" if self.status_a == self.status_b else "changed"


def _estimates(report: dict) -> dict[str, tuple[str, str, float | None]]:
    out = {}
    for i, r in enumerate(report["results"]):
        if r["id"] in out:  # load_checked refuses it; one copy must never hide another
            raise ReportError(f"criterion {r['id']!r} appears twice: a report judges each "
                              "criterion once", pointer=f"/results/{i}")
        s = r["statistics"]
        out[r["id"]] = (r["metric"], r["status"], from_json_number(s["estimate"]) if s else None)
    return out


def _machine(report: dict) -> dict:
    env = report["environment"]
    if env.get("machine"):
        return env["machine"]
    hw = env.get("hardware") or {}  # a report from before fingerprints: its hardware block
    return {"id": None, "label": f"{hw.get('name')} · {hw.get('cores')} cores",
            "facts": {"cpu": hw.get("name"), "cores": hw.get("cores")}}


def machine_difference(a: dict, b: dict) -> str | None:
    """None when both reports come from the same machine fingerprint, else what differs."""
    ma, mb = _machine(a), _machine(b)
    if ma["id"] is not None and ma["id"] == mb["id"]:
        return None
    if ma["id"] is None and mb["id"] is None and ma["facts"] == mb["facts"]:
        return None
    fa, fb = ma["facts"], mb["facts"]
    keys = [k for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    differs = "; ".join(f"{k}: {fa.get(k)!r} vs {fb.get(k)!r}" for k in keys[:4])
    return (f"the reports come from different machines ({ma['label']} vs {mb['label']}: "
            f"{differs or 'no fingerprint on one side'})")


def compare_reports(a: dict, b: dict) -> list[Change]:
    ea, eb = _estimates(a), _estimates(b)
    changes = []
    for cid in list(ea) + [k for k in eb if k not in ea]:
        ma, sa, va = ea.get(cid, (None, None, None))
        mb, sb, vb = eb.get(cid, (None, None, None))
        changes.append(Change(cid, ma or mb, sa, sb, va, vb))
    return changes
