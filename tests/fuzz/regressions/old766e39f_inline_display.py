# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 0}
# expect: right
# found on 766e39f: wrong: gradient element 0 (of 12) is np.float64(0.32870804957149025), central differences give np.float64(-0.09210732532238808) (12 wrong)
import numpy as np


def f(x):
    v3 = np.sum((x, np.sin(x)))
    return np.sum(np.sin(v3)) + 0.5 * np.sum(x * x)
