# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "s", "kind": "float"}], "seed": 2}
# found: wrong: gradient element 2 (of 13) is np.float64(13.920406087997144), central differences give np.float64(5.5670182463885) (4 wrong)
import numpy as np


G0 = np.linspace(-0.9, 1.1, 12).reshape((4, 3))


def helper2(u0):
    return 2.5 * ((G0) * (G0))


def f(x, s):
    x = x + 0.0
    x -= np.max((x).reshape(*np.shape(x)), axis=-2)
    x += (x) / (1.5 + np.tanh(np.mean(G0)))
    v0 = x
    v1 = np.cos(G0)
    v3 = helper2(x)
    return np.sum(np.sin(v3)) + 0.5 * np.sum(v0 * v0)
