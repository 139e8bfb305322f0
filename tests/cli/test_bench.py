"""`ryot bench`: an unknown name is a usage error."""

import pytest

from ryot.cli import main


def test_cli_bench_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "nonsense"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
