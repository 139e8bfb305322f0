"""Raw samples as a metric provider returns them, in one of six shapes.

* ``scalar`` — repeated measurements of one quantity (``values``, in the order taken);
  statistic: the median;
* ``paired`` — interleaved A/B trials (``numerator[i]`` and ``denominator[i]`` ran back to back);
  statistic: the median of the per-pair ratios ``numerator[i] / denominator[i]``;
* ``two_sample`` — two arms measured separately (one run after the other, e.g. results imported
  from asv, pytest-benchmark or hyperfine): ``baseline`` and ``candidate`` times, each arm with
  its own count; statistic: the ratio baseline ÷ candidate (``>= 1`` means the candidate is not
  slower) as exp(Hodges–Lehmann shift of the log times); measured once, never extended, like
  the kinds below;
* ``proportion`` — k successes out of n items of a finite evaluation set (an accuracy, a pass
  rate); statistic: k / n with a Wilson interval;
* ``paired_proportions`` — two models judged on the same items, as the 2×2 table of items both
  got right, only the baseline, only the candidate, neither; statistic: candidate − baseline
  accuracy (``difference``) or candidate ÷ baseline (``ratio``) with a bootstrap over items;
* ``exact`` — one deterministic value (a count, a byte ratio, a coverage figure); no interval.

Providers build the last four with :func:`two_sample`, :func:`proportion`,
:func:`paired_proportions` and :func:`exact`, or return plain Python: a list of numbers (scalar),
one number (exact), a ``{"numerator": [...], "denominator": [...]}`` dict (paired) or a
``{"baseline": [...], "candidate": [...]}`` dict (two_sample). Anything else — strings,
booleans, None — is refused with a message naming what was returned.

``count`` is the number of trials a decision rests on: pairs (paired), values (scalar), items
(proportions) and, for two_sample, the smaller arm's count (``min_samples`` applies per arm).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ryot.infra.errors import ConfigError

__all__ = [
    "ARMS", "KINDS", "NON_FINITE", "ONE_SHOT_KINDS", "TABLE_CELLS", "Samples", "coerce", "exact",
    "from_json_number", "is_number", "paired_proportions", "paired_proportions_from_items",
    "proportion", "to_json_number", "two_sample"
]

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
KINDS = ("scalar", "paired", "two_sample", "exact", "proportion", "paired_proportions")
TABLE_CELLS = ("both", "baseline_only", "candidate_only", "neither")
# measured once, never resampled (two_sample: one arm ran after the other, so more trials of
# both could not be appended as one run)
ONE_SHOT_KINDS = ("two_sample", "exact", "proportion", "paired_proportions")
ARMS = ("baseline", "candidate")  # two_sample


def to_json_number(v: float) -> float | str:
    """Strict JSON has no NaN/Infinity: those are written as "nan", "inf", "-inf"."""
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def from_json_number(v: float | str) -> float:
    return NON_FINITE[v] if isinstance(v, str) else float(v)


def is_number(v: Any) -> bool:
    """A real number that is not a bool (``True`` is an int in Python, never a measurement)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and type(v).__name__ != "bool_"


def _number(v: Any, where: str) -> float:
    if not is_number(v):
        raise ConfigError(f"a metric provider returned {type(v).__name__} {v!r} at {where}; "
                         "expected a number")
    return float(v)


def _numbers(seq: Any, where: str) -> list[float]:
    if (isinstance(seq, (str, bytes))
            or not isinstance(seq, Sequence) and not hasattr(seq, "tolist")):
        raise ConfigError(f"a metric provider returned {type(seq).__name__} for {where}; "
                         "expected a list of numbers")
    items = seq.tolist() if hasattr(seq, "tolist") else list(seq)
    return [_number(v, f"{where}[{i}]") for i, v in enumerate(items)]


def _count(v: Any, where: str) -> int:
    if not is_number(v) or float(v) != int(v) or v < 0:
        raise ConfigError(f"{where} must be a non-negative integer count, got {v!r}")
    return int(v)


@dataclass
class Samples:
    kind: str
    values: list[float] = field(default_factory=list)
    numerator: list[float] = field(default_factory=list)
    denominator: list[float] = field(default_factory=list)
    warmup_reached: bool = True
    details: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # proportion kinds
    statistic: str | None = None  # paired_proportions: "difference" or "ratio"
    baseline: list[float] = field(default_factory=list)  # two_sample: the arms, counts may
    candidate: list[float] = field(default_factory=list)  # differ (ratio baseline ÷ candidate)

    @property
    def count(self) -> int:
        if self.kind == "paired":
            return len(self.numerator)
        if self.kind == "two_sample":  # the smaller arm: min_samples holds per arm
            return min(len(self.baseline), len(self.candidate))
        if self.kind == "proportion":
            return self.counts.get("trials", 0)
        if self.kind == "paired_proportions":
            return sum(self.counts.get(c, 0) for c in TABLE_CELLS)
        return len(self.values)

    def head(self, n: int) -> Samples:
        """The first n trials (what the runner had seen at an earlier look)."""
        if self.kind in ONE_SHOT_KINDS:
            return self
        return Samples(self.kind, self.values[:n], self.numerator[:n], self.denominator[:n],
                       self.warmup_reached, dict(self.details), dict(self.counts), self.statistic)

    def extend(self, more: Samples) -> None:
        if more.kind != self.kind:
            raise ConfigError(f"a provider switched sample kind from {self.kind} to {more.kind}")
        if self.kind in ONE_SHOT_KINDS:
            raise ConfigError(f"{self.kind} samples are measured once and cannot be extended")
        self.values += more.values
        self.numerator += more.numerator
        self.denominator += more.denominator
        self.warmup_reached = self.warmup_reached and more.warmup_reached
        for key, value in more.details.items():  # per-sample lists grow with the samples
            mine = self.details.get(key)
            self.details[key] = (mine + value if isinstance(mine, list) and isinstance(value, list)
                                 else value)

    def all_finite(self) -> bool:
        return all(math.isfinite(v) for v in (*self.values, *self.numerator, *self.denominator,
                                              *self.baseline, *self.candidate))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "warmup_reached": self.warmup_reached}
        if self.details:  # the measurements a value was computed from, kept as evidence
            d["details"] = self.details
        if self.kind == "paired":
            d["numerator"] = [to_json_number(v) for v in self.numerator]
            d["denominator"] = [to_json_number(v) for v in self.denominator]
        elif self.kind == "two_sample":
            for arm in ARMS:
                d[arm] = [to_json_number(v) for v in getattr(self, arm)]
        elif self.kind == "proportion":
            d["successes"], d["trials"] = self.counts["successes"], self.counts["trials"]
        elif self.kind == "paired_proportions":
            d["table"] = {c: self.counts[c] for c in TABLE_CELLS}
            d["statistic"] = self.statistic
        else:
            d["values"] = [to_json_number(v) for v in self.values]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Samples:
        def read(key):
            return [from_json_number(v) for v in d.get(key, [])]
        kind = d["kind"]
        if kind == "proportion":
            return proportion(d["successes"], d["trials"])
        if kind == "paired_proportions":
            return paired_proportions(**d["table"], statistic=d["statistic"])
        return cls(kind=kind, values=read("values"), numerator=read("numerator"),
                   denominator=read("denominator"), warmup_reached=d.get("warmup_reached", True),
                   baseline=read("baseline"), candidate=read("candidate"))


# -- constructors for providers ----------------------------------------------------------------
def exact(value: float, **details: Any) -> Samples:
    return Samples("exact", values=[_number(value, "the exact value")], details=details)


def two_sample(baseline: Sequence[float], candidate: Sequence[float], *,
               warmup_reached: bool = True, **details: Any) -> Samples:
    """Two arms measured separately (times, each arm in the order taken; counts may differ).
    The ratio is baseline ÷ candidate. Values are only checked to be numbers here: an empty
    arm, NaN or a non-positive time makes the verdict INVALID, as for paired samples."""
    if not isinstance(warmup_reached, bool):
        raise ConfigError(f"warmup_reached must be true or false, got {warmup_reached!r}")
    return Samples("two_sample", warmup_reached=warmup_reached, details=details,
                   baseline=_numbers(baseline, "baseline"),
                   candidate=_numbers(candidate, "candidate"))


def proportion(successes: int, trials: int, **details: Any) -> Samples:
    """k successes out of n items of a finite evaluation set."""
    k, n = _count(successes, "successes"), _count(trials, "trials")
    if n < 1 or k > n:
        raise ConfigError(f"a proportion needs 1 <= trials and successes <= trials, got {k}/{n}")
    return Samples("proportion", counts={"successes": k, "trials": n}, details=details)


def paired_proportions(both: int, baseline_only: int, candidate_only: int, neither: int, *,
                       statistic: str = "difference", **details: Any) -> Samples:
    """Two models on the same items: how many items each combination got right."""
    if statistic not in ("difference", "ratio"):
        raise ConfigError(f"statistic must be 'difference' or 'ratio', got {statistic!r}")
    counts = (both, baseline_only, candidate_only, neither)
    table = {c: _count(v, c) for c, v in zip(TABLE_CELLS, counts, strict=True)}
    if sum(table.values()) < 1:
        raise ConfigError("paired proportions need at least one item")
    return Samples("paired_proportions", counts=table, statistic=statistic, details=details)


def paired_proportions_from_items(baseline_correct: Sequence[bool],
                                  candidate_correct: Sequence[bool], *,
                                  statistic: str = "difference", **details: Any) -> Samples:
    """The 2×2 table from per-item correctness of both models (same items, same order)."""
    if len(baseline_correct) != len(candidate_correct):
        raise ConfigError(f"both models must be judged on the same items, got "
                         f"{len(baseline_correct)} and {len(candidate_correct)}")
    pairs = [(bool(a), bool(b)) for a, b in zip(baseline_correct, candidate_correct, strict=True)]
    return paired_proportions(pairs.count((True, True)), pairs.count((True, False)),
                              pairs.count((False, True)), pairs.count((False, False)),
                              statistic=statistic, **details)


def coerce(result: Any, kind: str | None = None) -> Samples:
    """Accept what a provider returns: Samples, a list (scalar), a number (exact), or a dict
    with ``numerator``/``denominator`` (paired) or ``baseline``/``candidate`` (two_sample).
    Strings, booleans and None are refused."""
    if isinstance(result, Samples):
        if result.kind not in KINDS:
            raise ConfigError(f"unknown sample kind {result.kind!r}; expected one of "
                              f"{', '.join(KINDS)}")
        out = result
        out.values = _numbers(out.values, "values")
        out.numerator = _numbers(out.numerator, "numerator")
        out.denominator = _numbers(out.denominator, "denominator")
        out.baseline = _numbers(out.baseline, "baseline")
        out.candidate = _numbers(out.candidate, "candidate")
        if out.kind == "paired" and len(out.numerator) != len(out.denominator):
            raise ConfigError(f"paired samples need equal counts, got {len(out.numerator)} and "
                             f"{len(out.denominator)}")
    elif isinstance(result, dict) and "baseline" in result:
        if "numerator" in result or "denominator" in result:
            raise ConfigError("a provider returned both paired (numerator/denominator) and "
                              "two-sample (baseline/candidate) arms; return one kind")
        out = two_sample(result["baseline"], result.get("candidate", []),
                         warmup_reached=result.get("warmup_reached", True))
    elif isinstance(result, dict) and "numerator" in result:
        num = _numbers(result["numerator"], "numerator")
        den = _numbers(result.get("denominator", []), "denominator")
        if len(num) != len(den):
            raise ConfigError(f"paired samples need equal counts, got {len(num)} and {len(den)}")
        warm = result.get("warmup_reached", True)
        if not isinstance(warm, bool):
            raise ConfigError(f"warmup_reached must be true or false, got {warm!r}")
        out = Samples("paired", numerator=num, denominator=den, warmup_reached=warm)
    elif isinstance(result, (list, tuple)) or type(result).__name__ == "ndarray":
        out = Samples("scalar", values=_numbers(result, "the returned list"))
    elif is_number(result):
        out = Samples("exact", values=[float(result)])
    else:
        raise ConfigError(f"a metric provider returned {type(result).__name__} {result!r:.80}; "
                         "expected a list of numbers, a number, a {numerator, denominator} dict, "
                         "a {baseline, candidate} dict or Samples")
    if kind is not None and out.kind != kind:
        raise ConfigError(f"the metric declares {kind} samples but its provider returned "
                          f"{out.kind}")
    return out
