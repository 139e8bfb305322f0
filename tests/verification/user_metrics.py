"""A user's own metric provider, referenced from a criteria file as module:function."""


def always_four(n, params):
    return [4.0 + 0.01 * (i % 3) for i in range(n)]


def tiny_workload():
    """A user's workload factory: the built-in metrics train this instead of quick/full."""
    from ryot.workload.presets import Preset
    from ryot.workload.train import TrainConfig

    return Preset("user-tiny", TrainConfig(steps=8, batch_size=2, n_layer=1, n_head=2, n_embd=32,
                                           block_size=32), eval_batches=2, prompt_tokens=8,
                  new_tokens=4, steps_per_round=1)


def workload_name(n, params):
    """A user metric that sees the workload object."""
    return [float(len(params["_workload"].name))] * n


def constant_speedup(n, params):
    """Paired trials whose every ratio is 2 (the baseline always twice as slow)."""
    return {"numerator": [2.0] * n, "denominator": [1.0] * n}
