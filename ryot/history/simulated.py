"""Simulated reports, for the history's tests and benchmarks: sealed reports that ``ryot verify``
accepts, made by ryot's own runner from made-up samples (never measurements: their criteria
file is named ``simulated: …`` and their machine's facts say ``"simulated": true``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from ryot.infra.jsonio import seal
from ryot.infra.machine_id import fingerprint_id, label
from ryot.measure.metric import Metric
from ryot.verification import report as report_module
from ryot.verification.criteria import CriteriaFile, Criterion
from ryot.verification.registry import Registry
from ryot.verification.runner import measure

__all__ = ["commit_sha", "machine", "simulated_report"]


def commit_sha(i: int) -> str:
    """A made-up 40-hex commit id for commit number ``i``."""
    return hashlib.sha1(f"simulated commit {i}".encode()).hexdigest()


def machine(name: str = "Simulated CPU", cores: int = 2) -> dict:
    facts = {"cpu": name, "cores": cores, "memory_gib": 24, "isa": ["avx2"], "arch": "x86_64",
             "system": "Linux", "torch": "2.13.0", "cuda": None, "gpu": None, "gpus": 0,
             "gpu_driver": None, "simulated": True}
    return {"id": fingerprint_id(facts), "label": label(facts), "facts": facts}


def _criterion(cid: str, comparator: str, threshold: float) -> Criterion:
    return Criterion(id=cid, metric=f"simulated.{cid}", unit="x", comparator=comparator,
                     description="simulated", threshold=threshold, min_samples=8,
                     max_samples=8)


def simulated_report(commit: int, levels: Mapping[str, float], *, seed: int = 0,
                     sample_cv: float = 0.02, comparator: str = ">=", threshold: float = 0.9,
                     machine_facts: dict | None = None) -> dict:
    """A sealed report of commit number ``commit``: for each criterion id in ``levels``, 8
    samples around its level (CV ``sample_cv``), judged ``comparator threshold``."""
    rng = np.random.default_rng([seed, commit])
    registry, results = Registry(), []
    for cid, level in levels.items():
        values = level * (1 + sample_cv * rng.standard_normal(8))
        registry.register(Metric(f"simulated.{cid}", "scalar", "x", "simulated",
                                 lambda n, params, v=values: list(v[params["_offset"]:][:n])))
        results.append(measure(_criterion(cid, comparator, threshold), registry))
    cf = CriteriaFile(path="simulated.json", sha256="0" * 64, name="simulated: history",
                      criteria=tuple(m.criterion for m in results))
    stamp = f"2026-01-{1 + commit // 1440:02d}T{commit // 60 % 24:02d}:{commit % 60:02d}:00+00:00"
    report = report_module.build(cf, results, started_at=stamp, finished_at=stamp, quick=False,
                                 key=b"")
    report["environment"]["subject"] = {
        "commit": commit_sha(commit), "branch": "main", "dirty": False, "committed_at": stamp,
        "repository": "simulated", "source": "--commit"}
    report["environment"]["machine"] = machine_facts or machine()
    return seal(report)
