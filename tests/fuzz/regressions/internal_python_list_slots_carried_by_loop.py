# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "layers", "kind": "pairs", "shapes": [[[4, 4], [4]], [[4, 4], [4]]]}], "seed": 0}
# found: internal: AttributeError at indexing.py:91: 'list' object has no attribute 'shape'
import numpy as np


def f(x, layers):
    h0 = x
    for layer in layers[:-1]:
        W, b = layer
        h0 = np.tanh(h0 @ W + b)
    acc1 = [None] * 3
    for i2 in range(3):
        acc1[i2] = np.sin(np.broadcast_to(np.prod((x, np.sin(h0))), (3,))) * (i2 + 1.0)
    v3 = np.stack(acc1)
    v4 = 2.0 * np.tanh(0.5 * (v3)) - 1.0
    h0 = np.tanh(h0 + np.mean(2.5 * (v3)))
    acc1 = acc1[::-1]
    v5 = np.stack(acc1)
    return np.sum(np.sin(v5)) + 0.5 * np.sum(x * x)
