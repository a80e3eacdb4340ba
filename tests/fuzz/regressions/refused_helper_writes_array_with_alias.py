# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3]}, {"name": "ps", "kind": "list", "shapes": [[4, 4], [4, 4]]}], "seed": 314}
# found: wrong value when a helper writing into its argument was accepted (an experiment since reverted); now refused at the helper's write
import numpy as np

import srcgrad


G0 = np.linspace(-0.9, 1.1, 16).reshape((4, 4))


def fill_edges(Z, s=0.5):
    Z[0] = Z[-1] * s
    Z[-1] += np.tanh(Z[0])
    return Z


@srcgrad.custom_vjp
def smooth2(u, w):
    return u * np.sin(w)


@smooth2.defvjp
def smooth2_vjp(g, ans, u, w):
    return g * np.sin(w), g * u * np.cos(w)


def f(x, ps):
    def inner0(G0):
        x = (G0) * 0.5 + 0.25
        v1 = x
        v3 = sum(np.sum(r * r) for r in x)
        for i4 in range(3):
            x = fill_edges(x, np.mean(v3))
            c5 = {"p": x, "q": np.var(v1, keepdims=True)}
            v6 = G0
        return smooth2((v1).reshape(*np.shape(v1)), v1), (v1) if np.max(G0) > 0.5 else np.sin(v1)
    v7, v8 = inner0(ps[0])
    if np.sum(ps[-1]) > 0.0:
        return np.sum(np.sin(v8)) + 0.5 * np.sum(x * x)
    if np.mean(G0) < 0.2:
        if np.max(v7) > 0.5:
            v9 = x
        v10 = ps[0] * 1.5
    else:
        v12 = sum(np.sum(r * r) for r in G0)
        v13 = ps[0][np.array([1, 0])]
    return np.sum(np.sin(v8)) + 0.5 * np.sum(ps[-1] * ps[-1])
