"""The acceptance suite: one pytest item per criterion, all sharing one measurement run.

    pytest acceptance                                   # the default success_criteria.json
    pytest acceptance --criteria examples/cheap_criteria.json --quick --ryot-out results/x

The run is ``ryot accept``'s (the same pipeline, output folder lock and files): it writes
report.json, report.md, junit.xml and plot.png.
"""

from __future__ import annotations

import sys

import pytest
from rich.console import Console

from ryot.verification.criteria import load_criteria
from ryot.verification.engine import accept, default_criteria_path, default_out_dir
from ryot.verification.errors import CriteriaError, OutputError


def pytest_addoption(parser):
    group = parser.getgroup("ryot acceptance")
    group.addoption("--criteria", default=None, help="criteria file (default: success_criteria.json)")
    group.addoption("--quick", action="store_true", help="a quarter of each sample budget")
    group.addoption("--ryot-out", default=None, help="where the report files go")


def _criteria_path(config):
    return config.getoption("--criteria") or default_criteria_path()


def pytest_generate_tests(metafunc):
    if "criterion_id" in metafunc.fixturenames:
        try:
            ids = [c.id for c in load_criteria(_criteria_path(metafunc.config)).criteria]
        except CriteriaError as exc:
            raise pytest.UsageError(str(exc)) from None
        metafunc.parametrize("criterion_id", ids, ids=ids)


@pytest.fixture(scope="session")
def acceptance_report(pytestconfig):
    out = pytestconfig.getoption("--ryot-out") or default_out_dir()
    try:
        report, written = accept(_criteria_path(pytestconfig), out,
                                 quick=pytestconfig.getoption("--quick"),
                                 console=Console(file=sys.stderr), out_label="--ryot-out")
    except (CriteriaError, OutputError) as exc:
        pytest.exit(str(exc), returncode=2)
    for note in written.notes:
        print(f"\nryot note: {note}")
    print(f"\nryot report: {written.paths['report.json']}")
    return {r["id"]: r for r in report["results"]}
