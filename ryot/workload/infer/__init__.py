"""Inference with a trained model: ``generate`` (timed greedy decoding; RLVR on one problem),
``prefill`` (the optimized prompt pass and its cache pool), ``weights`` (bfloat16 copies)."""

__all__: list[str] = []
