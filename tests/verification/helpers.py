"""Small builders for criteria documents in tests."""

import json


def criterion(**overrides):
    base = {"id": "c", "metric": "synthetic.scalar", "unit": "x", "comparator": ">=",
            "threshold": 1.0, "description": "test criterion"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def document(*criteria, **top):
    return {"format": "ryot.criteria", "format_version": 1, "name": "test",
            "criteria": list(criteria) or [criterion()], **top}


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path
