"""ryot.metrics.core: the orchestrator and compression metrics' providers."""

from ryot.metrics import core


def test_the_provider_pairs_the_same_two_arms():
    s = core.roundtrip_vs_clone(3, {"megabytes": 0.25})
    assert s.kind == "paired" and len(s.numerator) == len(s.denominator) == 3
