"""`ryot train`: the command's output and its usage errors."""

import json

import pytest

from ryot.cli import main


def test_ryot_train_subcommand(capsys):
    assert main(["train", "--steps", "3", "--batch-size", "2", "--n-layer", "1", "--n-head", "2",
                 "--n-embd", "32", "--block-size", "16"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


def test_cli_bad_keep_checkpoints_and_run_dir_are_exit_2(tmp_path, capsys):
    from ryot.cli.train import main

    with pytest.raises(SystemExit) as info:
        main(["--keep-checkpoints", "-1"])
    assert (info.value.code == 2
            and "keep_checkpoints must be an int >= 0" in capsys.readouterr().err)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert main(["--steps", "1", "--run-dir", str(not_a_dir)]) == 2
    assert "--run-dir must be a directory" in capsys.readouterr().err
    assert not_a_dir.read_text() == ""
