"""Properties of two issue-#11 invariants, over random small shapes:

* the activation probe's fake-tensor count equals a real count, and is affine in the batch size
  (the orchestrator's activation-checkpointing decision rests on it);
* a prompt quantized in one pass and stored with ``fill_quantized`` leaves the cache holding
  exactly what token-by-token ``append`` calls leave (the optimized prefill rests on it).
"""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from ryot.core.config import CompressionConfig, RLVRConfig
from ryot.inference_scaling import optimize_kv_cache
from ryot.workload.model import GPT, GPTConfig
from ryot.workload.train.activation_memory import measure_saved_bytes, saved_activation_bytes


@st.composite
def small_models(draw):
    heads = draw(st.integers(1, 2))
    config = GPTConfig(vocab_size=draw(st.sampled_from([32, 256])),
                       block_size=draw(st.integers(2, 12)),
                       n_layer=draw(st.integers(1, 2)), n_head=heads,
                       n_embd=heads * 2 * draw(st.integers(1, 6)),
                       attention=draw(st.sampled_from(["plain", "sdpa", "recompute"])))
    torch.manual_seed(0)
    return GPT(config)


@given(model=small_models(), batch=st.integers(1, 3), autocast=st.booleans())
def test_fake_count_equals_real_count_and_is_affine_in_batch(model, batch, autocast):
    real = measure_saved_bytes(model, batch, autocast=autocast)
    assert saved_activation_bytes(model, batch, autocast=autocast) == real
    one, two = (measure_saved_bytes(model, b, autocast=autocast) for b in (1, 2))
    assert real == one + (batch - 1) * (two - one)


@given(tokens=st.integers(0, 40), group=st.sampled_from([1, 2, 4, 8]), pages=st.integers(1, 4),
       bits=st.sampled_from([4, 8]), layers=st.integers(1, 2), batch=st.integers(1, 2),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([torch.float32, torch.bfloat16]))
def test_fill_quantized_stores_what_appends_store(tokens, group, pages, bits, layers, batch, seed,
                                                  dtype):
    heads, dim = 2, 4
    gen = torch.Generator().manual_seed(seed)
    kv = [(torch.randn(batch, heads, tokens, dim, generator=gen) * 3,
           torch.randn(batch, heads, tokens, dim, generator=gen)) for _ in range(layers)]

    def cache():
        return optimize_kv_cache(layers, heads, dim, 64, CompressionConfig(group, bits),
                                 RLVRConfig(1, 1.0, group * pages), dtype=dtype)

    bulk, step = cache(), cache()
    ks, vs = torch.stack([t for pair in zip(*kv, strict=True) for t in pair]).chunk(2)
    bulk.fill_quantized(bulk.quantize_prompt(ks, vs))
    step._ensure_sequences(batch)
    for t in range(tokens):
        for layer, (k, v) in enumerate(kv):
            step.append(layer, k[:, :, t:t + 1], v[:, :, t:t + 1])
    assert bulk.nbytes == step.nbytes
    for layer in range(layers):
        for seq in range(batch):
            assert bulk.length(seq, layer) == step.length(seq, layer) == tokens
            if tokens:
                for a, b in zip(bulk.dequantized(layer, seq), step.dequantized(layer, seq),
                                strict=True):
                    assert torch.equal(a, b)
