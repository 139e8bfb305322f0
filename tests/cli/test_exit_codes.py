"""Exit 2 is the user's mistake (one line, no traceback); any other exception is a ryot bug:
exit 4 with a line that says so and the traceback. Bugs are injected into real commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ryot.cli.verify
from ryot.cli import main
from ryot.core.config import KernelConfig
from ryot.core.orchestration.metadata import CheckpointMetadataError
from ryot.core.orchestration.precedence import IncompatibleConfigError
from ryot.infra.errors import (
    CheckpointError,
    ConfigError,
    CriteriaError,
    OutputError,
    PublishError,
    ReportError,
    RyotError,
)
from ryot.infra.jsonio import StrictJSONError
from ryot.workload.train.run_dir import RunDirError


@pytest.mark.parametrize("cls", [ConfigError, CriteriaError, ReportError, OutputError,
                                 CheckpointError, StrictJSONError, RunDirError,
                                 IncompatibleConfigError, CheckpointMetadataError])
def test_every_user_facing_error_derives_from_the_one_base(cls):
    assert issubclass(cls, RyotError) and issubclass(cls, ValueError)


def test_the_base_carries_source_pointer_and_message():
    e = RyotError("expected a number", source="crit.json", pointer="/criteria/0/threshold")
    assert (e.source, e.pointer, e.message) == ("crit.json", "/criteria/0/threshold",
                                                "expected a number")
    assert str(e) == "crit.json: at /criteria/0/threshold: expected a number"
    assert str(RyotError("plain")) == "plain"
    assert str(StrictJSONError("f.json", "duplicate key")) == "f.json: duplicate key"


def test_a_bad_config_value_is_a_config_error_naming_the_field():
    with pytest.raises(ConfigError, match="tile_m"):
        KernelConfig(0, 64, 32)


def test_a_user_mistake_is_exit_2_without_a_traceback(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ryot: error: ") and "missing.json" in err and "Traceback" not in err


@pytest.mark.parametrize("bug", [ZeroDivisionError("division by zero"),
                                 ValueError("an internal ValueError is a bug too"),
                                 KeyError("results")])
def test_a_bug_inside_a_command_is_exit_4_with_the_traceback(monkeypatch, tmp_path, capsys, bug):
    report = tmp_path / "report.json"
    report.write_text("{}")

    def broken(path):
        raise bug

    monkeypatch.setattr("ryot.verification.verify.load_report", broken)
    assert main(["verify", str(report)]) == 4
    err = capsys.readouterr().err
    assert "this is a ryot bug" in err and "Traceback" in err and type(bug).__name__ in err


def test_a_ryot_error_raised_deep_inside_is_still_exit_2(monkeypatch, capsys):
    def refuse(args):
        raise ReportError("not a report", source="r.json", pointer="/results")

    monkeypatch.setattr(ryot.cli.verify, "run", refuse)
    assert main(["verify", "r.json"]) == 2
    assert capsys.readouterr().err == "ryot: error: r.json: at /results: not a report\n"


def test_ryot_train_a_bug_is_exit_4_a_bad_run_dir_exit_2(monkeypatch, tmp_path, capsys):
    import ryot.cli.train

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(ryot.cli.train, "train", broken)
    assert main(["train", "--steps", "1"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("ryot train: internal error") and "RuntimeError: a bug" in err

    def refuse(*args, **kwargs):
        raise RunDirError(f"{tmp_path} holds another run")

    monkeypatch.setattr(ryot.cli.train, "train", refuse)
    assert main(["train", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "holds another run" in err and "Traceback" not in err


def test_exit_2_from_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "ryot.cli", "criteria", "check", "nope.json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nope.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_results_that_could_not_be_written_are_exit_4_with_one_line(monkeypatch, capsys):
    message = ("could not write the report set into /r/out: /r/out/plot.png: No space left on "
               "device (ENOSPC); nothing in /r/out was changed; the finished report set is kept "
               "in /r/out.unwritten-20250101-000000")

    def unwritten(args):
        raise PublishError(message, path="/r/out/plot.png", kept="/r/out.unwritten-20250101-000000")

    monkeypatch.setattr(ryot.cli.verify, "run", unwritten)
    assert main(["verify", "r.json"]) == 4  # never 0 (success) nor 1 (a check failed)
    err = capsys.readouterr().err
    assert err == f"ryot: error: {message}\n"  # no "ryot bug", no traceback
    assert not issubclass(PublishError, RyotError)  # not the user's mistake: not exit 2


def test_exit_4_is_documented_in_accept_help_and_the_readme(capsys):
    with pytest.raises(SystemExit):
        main(["accept", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 all PASS" in text and "2 bad input" in text
    assert "4 a ryot bug or finished results that could not be written" in text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| 4 |")]
    assert "a ryot bug" in row and "results that could not be written" in row
    assert "the rendered set was kept" in row
