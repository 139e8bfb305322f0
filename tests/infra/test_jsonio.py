"""The strict JSON reader: numbers beyond the float range are refused at their JSON pointer."""

from __future__ import annotations

import pytest

from ryot.infra.errors import ConfigError
from ryot.infra.jsonio import StrictJSONError, parse_strict, read_strict_json

BIG = "1" * 400  # an integer no float can hold


@pytest.mark.parametrize("text, pointer, shown", [
    ('{"a": [1, {"b": 1e999}]}', "/a/1/b", "1e999"),
    ("[0, -1e400]", "/1", "-1e400"),
    (f'{{"params": {{"n": {BIG}}}}}', "/params/n", "a 400-digit integer (1111111111…)"),
    (f'{{"n": -{"9" * 5000}}}', "/n", "a 5000-digit integer"),  # past int's own digit limit
    ('{"a/b": {"~": 1E+999}}', "/a~1b/~0", "1E+999"),
    ("1e999", "/ (document root)", "1e999"),
])
def test_numbers_beyond_the_float_range_are_refused_at_their_pointer(text, pointer, shown):
    with pytest.raises(ConfigError) as info:
        parse_strict(text)
    assert info.value.pointer == pointer
    assert info.value.message.startswith(shown)
    assert "beyond the range of a float" in info.value.message


def test_the_first_refused_value_in_document_order_is_named():
    with pytest.raises(ConfigError) as info:
        parse_strict('{"a": {"b": [1, NaN]}, "c": 1e999}')
    assert (info.value.pointer, info.value.message) == (
        "/a/b/1", "NaN is not valid JSON (use a finite number)")


def test_numbers_inside_the_range_are_kept_exactly():
    big = "9" * 300  # within the float range: still an exact int
    assert parse_strict(f'[1e308, -1.5e-320, {big}, 7]') == [1e308, -1.5e-320, int(big), 7]


def test_a_file_names_itself_and_the_pointer(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"results": [{"elapsed_s": 1e400}]}')
    with pytest.raises(StrictJSONError) as info:
        read_strict_json(path)
    assert (info.value.source, info.value.pointer) == (str(path), "/results/0/elapsed_s")
    assert str(info.value).startswith(f"{path}: at /results/0/elapsed_s: 1e400 is beyond")
    with pytest.raises(ValueError, match=r"r\.json: at /results/0/elapsed_s: 1e400 is beyond"):
        read_strict_json(path, ValueError)
