"""A user's own metric provider, referenced from a criteria file as module:function."""


def always_four(n, params):
    return [4.0 + 0.01 * (i % 3) for i in range(n)]
