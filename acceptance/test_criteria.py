"""One test per criterion: PASS passes, NOT_APPLICABLE skips, anything else fails with the reason."""

import pytest


def test_criterion(criterion_id, acceptance_report):
    result = acceptance_report[criterion_id]
    status, reason = result["status"], result["reason"]
    if result["suspicious"]:
        print(f"SUSPICIOUS: {result['suspicious']}")
    if status == "NOT_APPLICABLE":
        pytest.skip(reason)
    if status != "PASS":
        pytest.fail(f"{status}: {reason}", pytrace=False)
