# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "ps", "kind": "list", "shapes": [[3, 4], [3, 4]]}], "seed": 0}
# expect: right
# found: wrong: gradient element 12 (of 36) is np.float64(0.0), central differences give np.float64(0.6541256339920309) (12 wrong) (a hand-minimised wrong_list_param_early_return.py)
import numpy as np


def f(x, ps):
    for i8 in range(1):
        if np.sum(ps[0]) > 0.0:
            return np.sum(np.sin(ps[0]))
    for i11 in range(1):
        return np.sum(np.sin(ps[0]))
    return np.sum(np.sin(ps[0]))
