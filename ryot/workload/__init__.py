"""The default workload: a small GPT trained from scratch on CPython's pydoc text.

| module / folder | one job |
|---|---|
| ``model.py`` | the GPT, whole, in one file (after nanoGPT) |
| ``attention.py`` | causal attention: plain (the reference), SDPA, and recompute |
| ``data.py``, ``arithmetic.py`` | the corpora (pydoc text, addition lines), splits, batches |
| ``presets.py`` | the quick and full presets, and one trained model per preset and process |
| ``train/`` | ``Trainer``: the loop with the orchestrator in it, checkpoints, DDP |
| ``infer/`` | generation: the prompt pass, the KV cache pool, bfloat16 weights |

Nothing here imports the metrics or the acceptance engine: they use the workload, not the
reverse.
"""

__all__: list[str] = []
