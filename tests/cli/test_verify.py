"""`ryot verify` on a report `ryot accept` wrote, on edited copies and on unreadable files."""

import json

import pytest

from ryot.cli import main
from ryot.verification import report as report_module


def test_verify_accepts_the_report(mixed_run, capsys):
    _, out = mixed_run
    assert main(["verify", str(out / "report.json")]) == 0
    assert "consistent" in capsys.readouterr().out


def _tampered(out, tmp_path, edit):
    report = json.loads((out / "report.json").read_text())
    edit(report)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(report))
    return path


@pytest.mark.parametrize("edit, named", [
    (lambda r: r["results"][0]["samples"]["numerator"].__setitem__(0, 99.0),
     "synthetic.ratio (fast)"),
    (lambda r: r["results"][1].__setitem__("status", "PASS"), "synthetic.ratio (slow)"),
    (lambda r: r["results"][0]["statistics"].__setitem__("ci_low", 3.5), "synthetic.ratio (fast)"),
    (lambda r: r["results"][2]["samples"]["values"].__setitem__(0, 0.001), "synthetic.exact (err)"),
    (lambda r: r["results"][3].__setitem__("reason", "it passed, honest"),
     "synthetic.not_applicable (na)"),
    (lambda r: r["results"][0].__setitem__("status", "MAYBE"), "synthetic.ratio (fast)"),
    (lambda r: r.__setitem__("quick", True), "report"),
    (lambda r: r["summary"]["counts"].__setitem__("FAIL", 0), "report"),
])
def test_verify_rejects_an_edited_copy_and_names_the_metric(mixed_run, tmp_path, capsys, edit,
                                                            named):
    _, out = mixed_run
    path = _tampered(out, tmp_path, edit)
    assert main(["verify", str(path)]) == 1
    assert f"MISMATCH {named}" in capsys.readouterr().err


def test_verify_catches_an_edit_even_when_resealed(mixed_run, tmp_path, capsys):
    _, out = mixed_run

    def edit(r):
        r["results"][0]["samples"]["numerator"] = [v * 0.5 for v in
                                                   r["results"][0]["samples"]["numerator"]]
        r["results"][0] = report_module.seal(r["results"][0])

    assert main(["verify", str(_tampered(out, tmp_path, edit))]) == 1
    err = capsys.readouterr().err
    assert "statistics.estimate" in err or "the samples give FAIL" in err


@pytest.mark.parametrize("content", ["{oops", "[]", '{"format": "something.else"}'])
def test_verify_unreadable_is_exit_2(tmp_path, capsys, content):
    path = tmp_path / "r.json"
    path.write_text(content)
    assert main(["verify", str(path)]) == 2
    assert str(path) in capsys.readouterr().err
