"""ryot.metrics.overhead: the orchestrator's overhead as a fraction of a training step."""

from ryot.measure.metric import InvalidMeasurement
from ryot.metrics import overhead

Q = {"preset": "quick", "_offset": 0}


def test_overhead_is_a_fraction_or_explicitly_undefined():
    try:
        value = overhead.overhead_fraction(1, Q).values[0]
    except InvalidMeasurement as exc:
        assert "saved no time" in str(exc)
    else:
        assert value >= 0
