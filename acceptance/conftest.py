"""The acceptance suite: one pytest item per criterion, all sharing one measurement run.

    pytest acceptance                                   # the default success_criteria.json
    pytest acceptance --criteria examples/cheap_criteria.json --quick --ryot-out results/x

The run also writes report.json, report.md, junit.xml and plot.png (like ``ryot accept``).
"""

from __future__ import annotations

import pytest

from ryot.verification import report as report_module
from ryot.verification.criteria import load_criteria
from ryot.verification.engine import default_criteria_path, default_out_dir, run_measurements
from ryot.verification.errors import CriteriaError
from ryot.verification.writers import write_all


def pytest_addoption(parser):
    group = parser.getgroup("ryot acceptance")
    group.addoption("--criteria", default=None, help="criteria file (default: success_criteria.json)")
    group.addoption("--quick", action="store_true", help="a quarter of each sample budget")
    group.addoption("--ryot-out", default=None, help="where the report files go")


def _criteria(config):
    path = config.getoption("--criteria") or default_criteria_path()
    try:
        return load_criteria(path)
    except CriteriaError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc):
    if "criterion_id" in metafunc.fixturenames:
        ids = [c.id for c in _criteria(metafunc.config).criteria]
        metafunc.parametrize("criterion_id", ids, ids=ids)


@pytest.fixture(scope="session")
def acceptance_report(pytestconfig):
    criteria = _criteria(pytestconfig)
    started = report_module.now()
    measurements = run_measurements(criteria, quick=pytestconfig.getoption("--quick"))
    report = report_module.build(criteria, measurements, started_at=started,
                                 finished_at=report_module.now(),
                                 quick=pytestconfig.getoption("--quick"))
    out = pytestconfig.getoption("--ryot-out") or default_out_dir()
    paths = write_all(report, out)
    print(f"\nryot report: {paths['report.json']}")
    return {r["id"]: r for r in report["results"]}
