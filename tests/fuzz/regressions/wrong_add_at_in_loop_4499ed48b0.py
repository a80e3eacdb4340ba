# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [2, 3, 4]}, {"name": "ps", "kind": "list", "shapes": [[4], [4]]}], "seed": 1}
# found: wrong: value np.float64(5.927683781790399) where Python gives np.float64(-2.756950817008745)
import numpy as np

import srcgrad


@srcgrad.custom_vjp
def smooth2(u, w):
    return u * np.sin(w)


@smooth2.defvjp
def smooth2_vjp(g, ans, u, w):
    return g * np.sin(w), g * u * np.cos(w)


def f(x, ps):
    for i0 in range(2):
        v1, v2 = np.copy(ps[-1]), (ps[-1]) * 1.0
        for r3 in v1:
            np.add.at(v2, 0, np.mean(ps[0]))
            v4 = smooth2(x, x)
    v5 = x.copy()
    x = np.tanh(x + x)
    v5 = v5 - 0.1 * (np.tanh(ps[0]))
    for i6 in range(1):
        x = np.tanh(x + ps[0])
        v5[0] = np.mean(ps[0])
        v7 = np.sin(ps[-1])
    x = x - 0.1 * ((v5) / (1.5 + np.tanh(ps[0])))
    v8 = np.sum(ps[0])
    x[:, 0] = np.mean(v8)
    for r9, r10 in zip(ps[0], v5):
        v5 = v5 * 0.9 + np.sin(x)
        w11 = np.unstack(x)[0]
        for r12 in ps[-1][1:]:
            np.subtract.at(v5, 0, np.mean(x))
            def inner13(v8, u14):
                return np.max(r10[np.array([1, 0])], axis=0), (v8) / 3.0
            v15, v16 = inner13(np.broadcast_to(ps[0], (3, 4)), np.broadcast_to(v8, (3, 4)))
    v17 = ps[0]
    v18 = v5
    x[0] = np.mean(x)
    return np.sum(np.sin(v18)) + 0.5 * np.sum(ps[0] * ps[0])
