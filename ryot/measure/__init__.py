"""What a provider writes against: the sample shapes, ``Metric``, and the one measuring loop.

| module | one job |
|---|---|
| ``samples.py`` | the six sample shapes a provider returns; strict types |
| ``metric.py`` | what a provider is: ``Metric``, ``NotApplicable``, ``InvalidMeasurement`` |
| ``timing.py`` | how to time: warm-up, rotated A/B rounds, device sync (``paired_trials``) |
"""

__all__: list[str] = []
