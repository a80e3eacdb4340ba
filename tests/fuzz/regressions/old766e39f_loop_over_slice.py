# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "layers", "kind": "pairs", "shapes": [[[4, 4], [4]], [[4, 4], [4]]]}], "seed": 0}
# expect: right
# found on 766e39f: wrong: gradient element 24 (of 64) is np.float64(0.0), central differences give np.float64(0.3515331490344664) (20 wrong)
import numpy as np


def f(x, w, layers):
    h0 = x
    for layer in layers[:-1]:
        W, b = layer
        h0 = np.tanh(h0 @ W + b)
    return np.sum(np.sin(x)) + 0.5 * np.sum(h0 * h0)
