"""The optimizer core: it knows nothing of criteria, reports, metrics or the workload.

| folder / module | one job |
|---|---|
| ``config.py`` | the orchestrator's validated configs (kernel, compression, RLVR, state) |
| ``orchestration/`` | precedence (tile → block → page), gates, adaptation, checkpoint metadata |
| ``quant/`` | block-wise absmax int8/int4; bitsandbytes' 8-bit dynamic code |
| ``optim/`` | ``AdamW8bit`` and its fused flat update |
| ``kv/`` | the paged quantized KV cache and its codes |
| ``path_selection.py`` | RLVR path selection |
| ``kernels/`` | each Triton kernel beside its torch reference |
| ``native/`` | small C loops built with ``cc`` on first use |
| ``tuning.py`` | measured kernel tuning with its cache |
| ``fast_paths.py`` | ``torch.compile`` helpers |
"""

__all__: list[str] = []
