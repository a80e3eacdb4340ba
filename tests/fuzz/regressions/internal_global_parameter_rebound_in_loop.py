# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "layers", "kind": "pairs", "shapes": [[[4, 4], [4]], [[4, 4], [4]]]}], "seed": 0}
# expect: right
import numpy as np


G0 = np.linspace(-0.9, 1.1, 16).reshape((4, 4))


def helper9(u0, u1):
    for i10 in range(1):
        u1 = np.tanh(u1 + np.mean(u0))
    out = [u0]
    return out


def f(x, w, layers):
    acc11 = helper9(w, G0)
    v12 = np.stack(acc11)
    return np.sum(np.sin(v12)) + 0.5 * np.sum(w * w)
