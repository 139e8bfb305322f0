"""The fleet file: machine kinds, their executor settings, and how their verdicts merge.

Validated by ``schemas/fleet.schema.json``; every error names the file and the JSON pointer
of the offending value, like a criteria file's. :func:`plan` checks the fleet against a
criteria file (ids that exist, rules that can be met) and cuts it into jobs.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from ryot.infra.errors import RyotError
from ryot.infra.jsonio import StrictJSONError, read_strict_json
from ryot.infra.schemas import describe_parts, first_error

__all__ = ["FleetError", "FleetFile", "JobPlan", "MachineKind", "load_fleet", "parse_fleet",
           "plan"]

FORMAT, FORMAT_VERSION = "ryot.fleet", 1


class FleetError(RyotError):
    """A fleet file that cannot be used (exit 2)."""


@dataclass(frozen=True)
class MachineKind:
    name: str
    executor: str  # "slurm" | "local"
    slurm: dict[str, Any] = field(default_factory=dict)
    time_limit_min: int | None = None
    retries: int = 0
    criteria: tuple[str, ...] | None = None  # None: all
    shards: int = 1
    index: int = 0  # its place in the file, for pointers


@dataclass(frozen=True)
class FleetFile:
    path: str
    sha256: str
    name: str
    machines: tuple[MachineKind, ...]
    rules: dict[str, Any]  # {"default": rule, "criteria": {id: rule}}

    def rule(self, criterion_id: str) -> Any:
        return self.rules.get("criteria", {}).get(criterion_id, self.rules.get("default", "all"))


@dataclass(frozen=True)
class JobPlan:
    """One job: a machine kind and the criteria it runs."""

    kind: MachineKind
    shard: int  # 1-based
    shards: int
    criteria: tuple[str, ...]

    @property
    def label(self) -> str:
        """The kind's name, with ``-shard2of3`` when it is cut (also a folder name)."""
        if self.shards == 1:
            return self.kind.name
        return f"{self.kind.name}-shard{self.shard}of{self.shards}"


def load_fleet(path: str | os.PathLike[str]) -> FleetFile:
    try:
        doc, raw = read_strict_json(path)
    except StrictJSONError as exc:
        raise FleetError(exc.message, source=exc.path, pointer=exc.pointer) from None
    return parse_fleet(doc, str(path), hashlib.sha256(raw).hexdigest())


def parse_fleet(doc: Any, source: str, sha256: str = "") -> FleetFile:
    error = first_error("fleet", doc)
    if error is not None:
        pointer, message = describe_parts(error)
        raise FleetError(message, source=source, pointer=pointer)
    kinds, seen = [], {}
    for i, m in enumerate(doc["machines"]):
        if m["name"] in seen:
            raise FleetError(f"duplicate machine name {m['name']!r} (also at /machines/"
                             f"{seen[m['name']]})", source=source, pointer=f"/machines/{i}/name")
        seen[m["name"]] = i
        if m["executor"] == "local" and "slurm" in m:
            raise FleetError("a local machine takes no slurm settings (use time_limit_min)",
                             source=source, pointer=f"/machines/{i}/slurm")
        if m["executor"] == "slurm" and "time_limit_min" in m:
            raise FleetError("a slurm machine's time limit is slurm.time_limit_min",
                             source=source, pointer=f"/machines/{i}/time_limit_min")
        kinds.append(MachineKind(
            name=m["name"], executor=m["executor"], slurm=dict(m.get("slurm", {})),
            time_limit_min=m.get("time_limit_min"), retries=m.get("retries", 0),
            criteria=tuple(m["criteria"]) if "criteria" in m else None,
            shards=m.get("shards", 1), index=i))
    rules = {"default": doc.get("rules", {}).get("default", "all"),
             "criteria": dict(doc.get("rules", {}).get("criteria", {}))}
    return FleetFile(source, sha256, doc.get("name", ""), tuple(kinds), rules)


def _rule_pointer(cid: str) -> str:
    return "/rules/criteria/" + cid.replace("~", "~0").replace("/", "~1")  # RFC 6901


def plan(fleet: FleetFile, criteria_ids: list[str], *, whole_file: bool = False) -> list[JobPlan]:
    """The jobs: each kind's criteria (in the criteria file's order) cut into its shards.

    ``whole_file``: the criteria file must run whole on every kind (its family confidence is
    over all its criteria), so a subset or shards are refused.
    """
    known = set(criteria_ids)
    jobs: list[JobPlan] = []
    runs_on: dict[str, int] = dict.fromkeys(criteria_ids, 0)
    for kind in fleet.machines:
        at = f"/machines/{kind.index}"
        for j, cid in enumerate(kind.criteria or ()):
            if cid not in known:
                raise FleetError(f"no criterion {cid!r} in the criteria file (it has: "
                                 f"{', '.join(criteria_ids)})", source=fleet.path,
                                 pointer=f"{at}/criteria/{j}")
        chosen = [c for c in criteria_ids if kind.criteria is None or c in kind.criteria]
        if whole_file and (kind.criteria is not None or kind.shards > 1):
            raise FleetError("the criteria file has a family_confidence (one decision over all "
                             "its criteria): it runs whole on each machine, without a criteria "
                             "subset or shards", source=fleet.path, pointer=at)
        if kind.shards > len(chosen):
            raise FleetError(f"{kind.shards} shards for {len(chosen)} criteria",
                             source=fleet.path, pointer=f"{at}/shards")
        for s in range(kind.shards):
            jobs.append(JobPlan(kind, s + 1, kind.shards, tuple(chosen[s::kind.shards])))
        for c in chosen:
            runs_on[c] += 1
    labels: dict[str, JobPlan] = {}
    for job in jobs:  # labels name folders: two that differ only in case would share one
        other = labels.setdefault(job.label.lower(), job)
        if other is not job:
            raise FleetError(f"machine kind {job.kind.name!r}'s job {job.label!r} would share "
                             f"its folder with {other.label!r}: rename one",
                             source=fleet.path, pointer=f"/machines/{job.kind.index}/name")
    for cid in fleet.rules["criteria"]:
        if cid not in known:
            raise FleetError(f"no criterion {cid!r} in the criteria file", source=fleet.path,
                             pointer=_rule_pointer(cid))
    for cid in criteria_ids:
        rule = fleet.rule(cid)
        if isinstance(rule, dict) and rule["at_least"] > runs_on[cid]:
            where = _rule_pointer(cid) if cid in fleet.rules["criteria"] else "/rules/default"
            raise FleetError(f"at_least {rule['at_least']} kinds for {cid!r}, which runs on "
                             f"{runs_on[cid]}", source=fleet.path, pointer=where)
    return jobs
