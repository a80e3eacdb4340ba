"""Programs of tests/test_trust_table_alias.py."""

import numpy as np

ACT = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "sin": np.sin}


def by_argument(W, x, act="relu"):
    f = ACT[act]
    return np.sum(f(x @ W) ** 2)


def key_rebound_after(W, x, act="relu"):
    f = ACT[act]
    act = "sin"
    return np.sum(f(x @ W)) + np.sum(ACT[act](x @ W) ** 2)


def in_a_loop(W, x, names=("tanh", "relu", "sin")):
    for name in names:
        f = ACT[name]
        x = f(x @ W)
    return np.sum(x)


def unknown_key(W, x, act="gelu"):
    f = ACT[act]
    return np.sum(f(x @ W))
