# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [4, 4]}], "seed": 0}
# expect: right
import numpy as np


G0 = np.linspace(-0.9, 1.1, 16).reshape((4, 4))


def helper2(x):
    x = x + 0.0
    out = [G0 * 2.0]
    out.append(np.sin(np.broadcast_to(x, (4, 4))))
    return out


def f(x):
    acc3 = helper2(x)
    v4 = np.stack(acc3)
    return np.sum(np.sin(v4)) + 0.5 * np.sum(x * x)
