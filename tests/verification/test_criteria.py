"""Criteria files: a corpus of malformed ones (each gives exit 2 and a message that points at
it), and provider-only criteria."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ryot.cli import main
from ryot.infra.errors import CriteriaError
from ryot.verification.criteria import parse_criteria

CORPUS = Path(__file__).parent / "malformed"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough():
    assert len(EXPECTED) >= 30
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.json")
                                      if p.name != "expected.json")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_exits_2_and_points_at_the_problem(name, capsys):
    path = CORPUS / name
    assert main(["criteria", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err, err
    assert EXPECTED[name] in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("name", ["00_syntax_trailing_comma.json", "23_unknown_metric.json",
                                  "07_encoding_utf16.json", "36_huge_integer.json"])
def test_no_traceback_from_a_real_process(name):
    proc = subprocess.run([sys.executable, "-m", "ryot.cli", "criteria", "check",
                           str(CORPUS / name)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert EXPECTED[name] in proc.stderr


def test_a_missing_file_is_exit_2(tmp_path, capsys):
    assert main(["criteria", "check", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_shipped_files_are_valid(capsys):
    root = Path(__file__).resolve().parents[2]
    for path in [root / "examples" / "cheap_criteria.json"]:
        assert main(["criteria", "check", str(path)]) == 0


@pytest.mark.parametrize("name, pointer", [
    ("00_syntax_trailing_comma.json", None),
    ("23_unknown_metric.json", "/criteria/0/metric"),
])
def test_errors_carry_source_and_pointer_as_data(name, pointer):
    """Callers read where the problem is from attributes, not by parsing the message."""
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import load_criteria

    path = CORPUS / name
    with pytest.raises(CriteriaError) as info:
        load_criteria(path)
    error = info.value
    assert error.source == str(path) and error.pointer == pointer and error.message
    assert str(error) == f"{path}: " + (f"at {pointer}: " if pointer else "") + error.message


def test_schema_errors_carry_the_pointer():
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import parse_criteria

    doc = {"format": "ryot.criteria", "format_version": 1,
           "criteria": [{"id": "a", "metric": "synthetic.exact", "unit": "x", "comparator": ">=",
                         "threshold": "high", "description": "d"}]}
    with pytest.raises(CriteriaError) as info:
        parse_criteria(doc, "<dict>")
    assert info.value.pointer == "/criteria/0/threshold" and info.value.source == "<dict>"


# -- provider-only criteria (issue #12) ------------------------------------------------------------
def doc(**criterion):
    base = {"id": "my-speed", "unit": "x", "comparator": ">=", "threshold": 1.0, "description": "d"}
    return {"format": "ryot.criteria", "format_version": 1, "criteria": [{**base, **criterion}]}


def test_a_provider_only_criterion_takes_its_id_as_metric():
    c = parse_criteria(doc(provider="tests.verification.user_metrics:workload_name"), "<dict>",
                       import_references=False).criteria[0]
    assert c.metric == "my-speed" and c.provider.endswith(":workload_name")


def test_a_criterion_without_metric_or_provider_is_refused():
    with pytest.raises(CriteriaError) as info:
        parse_criteria(doc(), "<dict>")
    assert (info.value.pointer == "/criteria/0"
            and "'metric' is a required property" in str(info.value))


@pytest.mark.parametrize("estimand", ["median", "MEAN", 1, None])
def test_a_bad_estimand_is_refused_with_its_pointer(estimand):
    from ryot.infra.errors import CriteriaError
    from ryot.verification.criteria import parse_criteria

    doc = {"format": "ryot.criteria", "format_version": 1,
           "criteria": [{"id": "c", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=",
                         "threshold": 1.0, "description": "d", "estimand": estimand}]}
    with pytest.raises(CriteriaError) as caught:
        parse_criteria(doc, "c.json")
    assert caught.value.pointer == "/criteria/0/estimand" and caught.value.source == "c.json"
