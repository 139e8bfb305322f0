"""Raw samples as a metric provider returns them, in one of three shapes.

* ``scalar`` — repeated measurements of one quantity (``values``); statistic: the median;
* ``paired`` — interleaved A/B trials (``numerator[i]`` and ``denominator[i]`` ran back to back);
  statistic: median(numerator) ÷ median(denominator);
* ``exact`` — one deterministic value (a count, a byte ratio, a coverage figure); no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_json_number(v: float) -> float | str:
    """Strict JSON has no NaN/Infinity: those are written as "nan", "inf", "-inf"."""
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def from_json_number(v: float | str) -> float:
    return NON_FINITE[v] if isinstance(v, str) else float(v)


@dataclass
class Samples:
    kind: str
    values: list[float] = field(default_factory=list)
    numerator: list[float] = field(default_factory=list)
    denominator: list[float] = field(default_factory=list)
    warmup_reached: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.numerator) if self.kind == "paired" else len(self.values)

    def extend(self, more: Samples) -> None:
        if more.kind != self.kind:
            raise ValueError(f"a provider switched sample kind from {self.kind} to {more.kind}")
        self.values += more.values
        self.numerator += more.numerator
        self.denominator += more.denominator
        self.warmup_reached = self.warmup_reached and more.warmup_reached
        self.details.update(more.details)

    def all_finite(self) -> bool:
        return all(math.isfinite(v) for v in (*self.values, *self.numerator, *self.denominator))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "warmup_reached": self.warmup_reached}
        if self.details:  # the measurements an exact value was computed from, kept as evidence
            d["details"] = self.details
        if self.kind == "paired":
            d["numerator"] = [to_json_number(v) for v in self.numerator]
            d["denominator"] = [to_json_number(v) for v in self.denominator]
        else:
            d["values"] = [to_json_number(v) for v in self.values]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Samples:
        def read(key):
            return [from_json_number(v) for v in d.get(key, [])]
        return cls(kind=d["kind"], values=read("values"), numerator=read("numerator"),
                   denominator=read("denominator"), warmup_reached=d.get("warmup_reached", True))


def coerce(result: Any, kind: str | None = None) -> Samples:
    """Accept what a provider returns: Samples, a list (scalar), a number (exact), or a dict
    with ``numerator``/``denominator`` (paired)."""
    if isinstance(result, Samples):
        out = result
    elif isinstance(result, dict) and "numerator" in result:
        num, den = [float(v) for v in result["numerator"]], [float(v) for v in result["denominator"]]
        if len(num) != len(den):
            raise ValueError(f"paired samples need equal counts, got {len(num)} and {len(den)}")
        out = Samples("paired", numerator=num, denominator=den,
                      warmup_reached=bool(result.get("warmup_reached", True)))
    elif isinstance(result, (list, tuple)):
        out = Samples("scalar", values=[float(v) for v in result])
    elif isinstance(result, (int, float)) and not isinstance(result, bool):
        out = Samples("exact", values=[float(result)])
    else:
        raise ValueError(f"a metric provider returned {type(result).__name__}; expected a list "
                         "of numbers, a number, a {numerator, denominator} dict or Samples")
    if kind is not None and out.kind != kind:
        raise ValueError(f"the metric declares {kind} samples but its provider returned {out.kind}")
    return out
