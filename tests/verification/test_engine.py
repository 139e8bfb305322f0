"""``ryot accept`` on GitHub Actions: report.md appended to the job summary."""

from __future__ import annotations

import json

import pytest

from ryot.cli import main

CRITERIA = {
    "format": "ryot.criteria", "format_version": 1, "name": "plugin",
    "criteria": [
        {"id": "passes", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
         "threshold": 1.5, "params": {"true_ratio": 2.0, "noise": 0.05}, "description": "passes"},
        {"id": "fails", "metric": "synthetic.exact", "unit": "n", "comparator": "<=",
         "threshold": 1, "params": {"value": 3}, "description": "fails"},
        {"id": "gpu", "metric": "synthetic.scalar", "unit": "n", "comparator": ">=", "threshold": 0,
         "requires": ["cuda"], "description": "skips here"},
    ],
}


@pytest.fixture
def other_repo(tmp_path):
    (tmp_path / "criteria.json").write_text(json.dumps(CRITERIA))
    return tmp_path


def test_ryot_accept_appends_report_md_to_the_github_step_summary(other_repo, monkeypatch):
    summary = other_repo / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["accept", "--criteria", str(other_repo / "criteria.json"), "--out",
                 str(other_repo / "o")]) == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "fails" in text and "passes" in text


def test_an_unwritable_step_summary_is_a_note_not_a_failure(other_repo, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(other_repo))  # a folder: cannot be appended to
    assert main(["accept", "--criteria", str(other_repo / "criteria.json"), "--out",
                 str(other_repo / "o")]) == 1  # the verdicts' exit code, unchanged
    captured = capsys.readouterr()
    assert "could not append report.md to GITHUB_STEP_SUMMARY" in captured.out + captured.err
