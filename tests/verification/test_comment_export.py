"""`ryot comment` (a pull-request comment within GitHub's size limit, failures first, every
criterion shown or counted) and `ryot export` (github-action-benchmark, Bencher)."""

from __future__ import annotations

import json
import re

from ryot.cli import main
from ryot.history.simulated import simulated_report
from ryot.verification.writers.comment import LIMIT, render_comment


def _report(n=300, low=()):
    levels = {f"c{i:03d}": (0.8 if i in low else 1.0) for i in range(n)}
    return simulated_report(1, levels)


def test_a_comment_shows_every_criterion_failures_first_and_fits_a_github_comment():
    report = _report(300, low={150, 299})
    out = render_comment(report, link="https://ci.example/report.md")
    assert len(out) < LIMIT
    ids = re.findall(r"`(c\d{3})`", out)
    assert sorted(ids) == sorted(r["id"] for r in report["results"])  # every one, once
    assert ids[:2] == ["c150", "c299"]  # the FAILs first
    assert "<details><summary>270 more criteria</summary>" in out
    assert "[Full report](<https://ci.example/report.md>)" in out


def test_a_comment_too_long_even_collapsed_stays_under_the_limit_and_says_so():
    report = _report(300)
    out = render_comment(report, limit=5000)
    assert len(out) < 5000
    shown = len(re.findall(r"`(c\d{3})`", out))
    cut = int(re.search(r"\((\d+) not shown: see the full report\)", out).group(1))
    assert shown + cut == 300


def test_the_change_against_an_older_report(tmp_path, capsys):
    old = simulated_report(1, {"speed": 1.0, "memory": 1.0})
    new = simulated_report(2, {"speed": 0.8, "memory": 1.0})
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert main(["comment", str(tmp_path / "new.json"), "--baseline-report",
                 str(tmp_path / "old.json")]) == 0
    out = capsys.readouterr().out
    speed = next(line for line in out.splitlines() if "`speed`" in line)
    assert "PASS → FAIL" in speed and re.search(r"-2\d\.\d%", speed)
    assert out.index("`speed`") < out.index("`memory`")


def test_exports(tmp_path, capsys):
    report = simulated_report(1, {"speed": 1.0, "memory": 2.0})
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert main(["export", str(path), "--format", "bencher", "-o", str(tmp_path / "b.json")]) == 0
    bmf = json.loads((tmp_path / "b.json").read_text())
    speed = report["results"][0]["statistics"]
    assert bmf["speed"]["ryot-x"] == {"value": speed["estimate"], "lower_value": speed["ci_low"],
                                      "upper_value": speed["ci_high"]}
    assert main(["export", str(path), "--format", "github-action-benchmark"]) == 0
    gab = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in gab] == ["speed", "memory"] and gab[0]["unit"] == "x"
    assert main(["export", str(path), "--format", "github-action-benchmark", "--wanted",
                 "lower"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "left out speed (wants >=, not lower)" in captured.err
    assert main(["export", str(path), "--format", "bencher", "--wanted", "lower"]) == 2


def test_a_long_name_and_a_link_with_markdown_stay_inside_the_limit():
    report = _report(40)
    report["criteria_file"]["name"] = "|" * 40_000
    out = render_comment(report, link="x) **y** (", limit=5000)
    assert len(out) < 5000 and "[Full report](<x%29%20**y**%20%28>)" in out


def test_a_report_the_schema_refuses_is_exit_2(tmp_path, capsys):
    report = _report(3)
    report["results"][0]["status"] = "MAYBE"
    (tmp_path / "r.json").write_text(json.dumps(report))
    assert main(["comment", str(tmp_path / "r.json")]) == 2
    assert "not a valid report: at /results/0/status" in capsys.readouterr().err
