"""Parts of container arguments bound to a second name (by a tuple unpacking, an alias or a
loop header) and unpacked later: each part keeps its gradient."""

import numpy as np


def enumerate_then_unpack(params, x):
    h = x
    for i, layer in enumerate(params):
        W, b = layer
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def enumerate_last_layer_linear(params, x):
    h = x
    for i, layer in enumerate(params):
        W, b = layer
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return np.sum(h**2)


def enumerate_slice_then_index(params, x):
    h = x
    for i, layer in enumerate(params[:-1]):
        h = np.tanh(h @ layer[0] + layer[1])
    W, b = params[-1]
    return np.sum((h @ W + b) ** 2)


def tuple_unpack_then_alias(params, x):
    first, second = params[0], params[1]
    again = first
    W, b = again
    V, c = second
    return np.sum(np.tanh(x @ W + b) @ V + c)


def zip_with_constants(params, x):
    h = x
    for scale, layer in zip([1.0, 0.5], params):
        W, b = layer
        h = np.tanh(scale * (h @ W) + b)
    return np.sum(h)


def dict_parts_by_alias(p, x):
    enc, dec = p["enc"], p["dec"]
    h = np.tanh(x @ enc["W"] + enc["b"])
    return np.sum((h @ dec["W"] + dec["b"]) ** 2)
