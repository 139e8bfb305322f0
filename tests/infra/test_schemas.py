"""ryot.infra.schemas: the shipped JSON schemas."""

from jsonschema import Draft202012Validator

from ryot.infra.schemas import validator


def test_report_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(validator("report").schema)
    Draft202012Validator.check_schema(validator("criteria").schema)
