"""`ryot criteria migrate`: the file it writes checks; bad input is exit 2."""

import json

import pytest

from ryot.cli import main
from tests.verification.helpers import LEGACY


def test_cli_migrate_writes_a_file_that_checks(tmp_path, capsys):
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({**LEGACY, "extra": {"mystery_min": 1}}))
    out = tmp_path / "new.json"
    assert main(["criteria", "migrate", str(legacy), "-o", str(out)]) == 0
    assert "not mapped: /extra/mystery_min" in capsys.readouterr().err
    assert main(["criteria", "check", str(out)]) == 0


def test_cli_migrate_prints_to_stdout_by_default(tmp_path, capsys):
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(LEGACY))
    assert main(["criteria", "migrate", str(legacy)]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "ryot.criteria"


@pytest.mark.parametrize("content, fragment", [
    ("[1, 2]", "a legacy criteria file is an object"),
    ('{"speedup_metrics": 3}', "at /speedup_metrics: expected a section object"),
    ('{"format": "ryot.criteria", "criteria": []}', "already in the current format"),
    ("{nope", "line 1, column 2"),
])
def test_cli_migrate_bad_input_is_exit_2(tmp_path, capsys, content, fragment):
    path = tmp_path / "legacy.json"
    path.write_text(content)
    assert main(["criteria", "migrate", str(path)]) == 2
    assert fragment in capsys.readouterr().err
