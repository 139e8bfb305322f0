"""``ryot bench proportions``: a tiny run keeps its raw data and prints its three tables."""

import json

import pytest

from ryot import bench
from ryot.bench.proportions import cell_grid


def test_tiny_run_writes_rows_with_raw_data(tmp_path):
    result, path = bench.run("proportions", tmp_path, one_ns=(10,), paired_ns=(20,),
                             grid_ns=(4,), step=0.01, raw_tables=25, bootstrap=False)
    stored = json.loads(path.read_text())
    assert stored["benchmark"] == "proportions" and stored["hardware"]["cores"] >= 1
    kinds = {row["kind"] for row in stored["rows"]}
    assert kinds == {"one proportion", "paired regime", "paired grid"}
    for row in stored["rows"]:
        if row["kind"] == "one proportion":
            assert len(row["samples"]) == len(row["p"]) == 100 and max(row["p"]) <= 0.999
            assert min(row["samples"]) >= row["minimum_coverage"] - 1e-7
        elif row["kind"] == "paired regime" and row["method"] == "bootstrap":
            assert row["reason"] and "samples" not in row
        elif row["kind"] == "paired regime":
            raw = row["samples"]
            assert 0 < len(raw["counts"]) <= 25 and len(raw["low"]) == len(raw["counts"])
            assert all(sum(c) == 20 for c in raw["counts"])
            assert 0 < row["samples_mass"] <= row["mass"] + 1e-12
        else:
            assert len(row["samples"]) == len(row["grid"]) == row["points"]
    text = bench.format_rows(result)
    assert "clopper_pearson" in text and "breaks 1%, fixes none" in text and "tango" in text


def test_tiny_run_shows_the_bootstraps_wrong_pass():
    result = bench.proportions.run(one_ns=(), paired_ns=(20,), grid_ns=())
    rows = {(r["regime"], r["statistic"], r["method"]): r for r in result["rows"]}
    fixes_none = "breaks 1%, fixes none"
    assert rows[(fixes_none, "difference", "tango")]["wrong_rate"] == 0.0
    assert rows[(fixes_none, "ratio", "tang")]["wrong_rate"] == 0.0
    old = rows[(fixes_none, "difference", "bootstrap")]["wrong_rate"]
    assert old == pytest.approx(0.99 ** 20, abs=1e-6)  # [0, 0] whenever no broken item is seen


def test_cell_grid_is_a_probability_vector_each():
    grid = cell_grid()
    assert len(grid) == 147
    assert all(min(g.values()) >= 0 and sum(g.values()) == pytest.approx(1.0) for g in grid)
