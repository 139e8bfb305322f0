"""Any criteria document either loads or is rejected with CriteriaError (never another error)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ryot.infra.errors import CriteriaError
from ryot.verification.criteria import parse_criteria

from .strategies import json_paths, json_values, mutated

VALID = {
    "format": "ryot.criteria", "format_version": 1,
    "defaults": {"confidence": 0.9, "min_samples": 5},
    "criteria": [
        {"id": "a", "metric": "synthetic.ratio", "unit": "x", "comparator": ">=", "threshold": 3.0,
         "expected_max": 6.0, "description": "d", "params": {"true_ratio": 4}},
        {"id": "b", "metric": "synthetic.scalar", "unit": "ms", "comparator": "between", "min": 1,
         "max": 2, "description": "d", "requires": ["cuda"]},
    ],
}


PATHS = [p for p in json_paths(VALID) if p]
field_values = st.one_of(json_values, st.sampled_from(
    [">=", "<=", "between", "synthetic.exact", "no.such", -1, 0, 0.5, 1, 1e308, 10**30, "", []]))


def _load_or_reject(doc):
    try:
        loaded = parse_criteria(doc, "doc.json")
    except CriteriaError as exc:
        assert str(exc).startswith("doc.json:"), str(exc)
        return None
    for c in loaded.criteria:  # whatever loads is internally consistent
        assert c.min_samples <= c.max_samples
        if c.comparator == "between":
            assert c.min <= c.max and c.threshold is None
        else:
            assert c.threshold is not None
    return loaded


@given(json_values)
def test_random_documents_load_or_are_rejected(doc):
    _load_or_reject(doc)


@given(st.sampled_from(PATHS), field_values, st.booleans())
def test_mutated_documents_load_or_are_rejected(path, value, delete):
    _load_or_reject(mutated(VALID, path, value, delete))
