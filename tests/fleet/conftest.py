"""Criteria and fleet files for the fleet tests, written into a working folder the test runs in
(providers are found from the working directory, as `python -m` finds modules)."""

from __future__ import annotations

import json

import pytest

PROVIDER = '''import time

def sleepy(n, params):
    time.sleep(params.get("seconds", 600))
    return [1.0] * n
'''


def criterion(cid, value, comparator=">=", threshold=1.0, **extra):
    return {"id": cid, "metric": "synthetic.scalar", "params": {"value": value, "noise": 0.01},
            "comparator": comparator, "threshold": threshold, "unit": "x",
            "description": cid, "min_samples": 8, "max_samples": 8, **extra}


def sleepy(cid="slow", seconds=600):
    return {"id": cid, "provider": "fleet_providers:sleepy", "params": {"seconds": seconds},
            "comparator": ">=", "threshold": 0.5, "unit": "x", "description": "sleeps",
            "min_samples": 2, "max_samples": 2}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "fleet_providers.py").write_text(PROVIDER)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_criteria(folder, *criteria, name="fleet test"):
    path = folder / "criteria.json"
    path.write_text(json.dumps({"format": "ryot.criteria", "format_version": 1, "name": name,
                                "criteria": list(criteria)}))
    return path


def write_fleet(folder, *machines, rules=None, name="fleet.json"):
    doc = {"format": "ryot.fleet", "format_version": 1, "machines": list(machines)}
    if rules is not None:
        doc["rules"] = rules
    path = folder / name
    path.write_text(json.dumps(doc))
    return path
