# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "ps", "kind": "list", "shapes": [[3, 4], [3, 4]]}], "seed": 0}
# expect: right
# found: internal: ValueError at f__wrt-x-ps__5def9679.py:151: too many values to unpack (expected 3) (the second form given with internal_list_in_loop_with_return.py)
import numpy as np


def f(x, ps):
    v0 = ps[0]
    v1 = np.stack(ps)
    v1[0] = np.mean(x)
    for r2 in x:
        acc3 = [x]
        for i4 in range(1):
            acc3.append(np.sin(x) * (i4 + 1.0))
        v5 = np.stack(acc3)
        if np.sum(x) > 0.0:
            return np.sum(np.sin(v5)) + 0.5 * np.sum(x * x)
    return np.sum(np.sin(v1)) + 0.5 * np.sum(x * x)
