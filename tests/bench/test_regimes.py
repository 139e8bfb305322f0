"""The third-generation regimes of ``ryot bench decisions``: a tiny run, real runner."""

from __future__ import annotations

from ryot.bench import regimes


def test_a_tiny_run_of_every_regime_has_its_rows_and_no_wrong_verdict_at_the_edges():
    for name in regimes.REGIMES:
        row = regimes.cell(name, 0.05 if "zero" not in name else 0.5, 3)
        assert row["repetitions"] == 3 and sum(row["counts"].values()) == 3
        assert row["wrong_rate"] == 0.0, (name, row["counts"])
    (props,) = regimes.proportions_cells(3, sizes=(50,))
    assert props["counts"]["PASS"] == 0  # the candidate is worse: never a PASS


def test_the_threshold_grid_never_fails():
    grid = regimes.threshold_grid(1.0, 1.2, 0.05)
    assert grid == {"thresholds": 5, "fail": {">=": 0, "<=": 0}}


def test_dependence_coverage_rows():
    (row,) = regimes.dependence_coverage((0.5,), runs=20)
    assert row["rho"] == 0.5 and 0.0 <= row["coverage"] <= 1.0 and row["runs"] == 20
