"""The orchestrator's parts; ``coordinator`` wires them (the facade is :mod:`ryot.orchestrator`).

| module | one job |
|---|---|
| ``precedence.py`` | tile → compression block → KV page: raise the lower-priority value |
| ``gates.py`` | hard safety gates over loss, gradient norm and compression error |
| ``adaptation.py`` | rules R1–R4: how the configuration reacts to what a run measured |
| ``metadata.py`` | checkpoint metadata on disk: schema-checked, sealed, atomic |
| ``coordinator.py`` | ``OptimizationOrchestrator``: the state, its history, the rules above |
"""

__all__: list[str] = []
