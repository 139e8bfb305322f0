"""ryot.workload.infer.weights: the bfloat16 weights made once, and when a forward uses them."""

import torch

from ryot.workload.infer.weights import CPU_BF16_MIN_POSITIONS, inference_copy, weights_for
from ryot.workload.model import GPT, GPTConfig

CPU = torch.device("cpu")


def _model(attention="plain", seed=0, std=0.08):
    """A small GPT with weights large enough that attention is far from uniform."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=128, n_layer=2, n_head=4, n_embd=64, attention=attention))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, std)
    return model.eval()


def test_cpu_forwards_over_few_positions_per_thread_keep_float32_weights():
    model = _model()
    threshold = CPU_BF16_MIN_POSITIONS * torch.get_num_threads()
    assert weights_for(model, 1, CPU) is model
    assert weights_for(model, threshold - 1, CPU) is model
    assert weights_for(model, threshold, CPU) is inference_copy(model)


def test_inference_copy_is_reused_until_the_weights_change():
    model = _model()
    copy = inference_copy(model)
    assert inference_copy(model) is copy
    assert copy.lm_head.weight.dtype == torch.bfloat16 and copy.ln_f.weight.dtype == torch.float32
    assert model.lm_head.weight.dtype == torch.float32 and model.lm_head.weight is model.wte.weight
    with torch.no_grad():
        model.blocks[0].mlp.c_fc.weight.add_(1.0)  # an in-place update: the version changes
    fresh = inference_copy(model)
    assert fresh is not copy
    torch.testing.assert_close(fresh.blocks[0].mlp.c_fc.weight.float(),
                               model.blocks[0].mlp.c_fc.weight, atol=0.02, rtol=0.01)
    with torch.no_grad():  # a write that bypasses the version counter (as native code does)
        model.blocks[1].attn.c_proj.weight.data.mul_(2.0)
    assert inference_copy(model) is not fresh
