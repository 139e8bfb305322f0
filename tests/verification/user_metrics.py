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
    """A user metric that sees the workload object: a deterministic value, an exact sample."""
    from ryot.measure.samples import exact

    return exact(float(len(params["_workload"].name)))


def constant_speedup(n, params):
    """Paired trials whose ratio is about 2 (the baseline twice as slow, a little jitter: a
    zero-width interval would never decide)."""
    return {"numerator": [2.0 * (1 + 0.001 * (i % 3)) for i in range(n)],
            "denominator": [1.0] * n}


def clock_gridded(n, params):
    """Paired timings read from a 1 ms clock: a grid the engine must see."""
    import numpy as np

    rng = np.random.default_rng(int(params.get("_offset", 0)))
    base = np.round(6.6 * np.exp(rng.normal(0, 0.05, n)))
    cand = np.round(2.3 * np.exp(rng.normal(0, 0.12, n)))
    return {"numerator": base.tolist(), "denominator": cand.tolist()}
