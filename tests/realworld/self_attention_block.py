"""A single-head self-attention block with layer normalisation and a residual connection,
numpy-only as in transformer-from-scratch tutorials: projections in a dict, a row softmax
helper, scaled dot products with a causal mask built by np.triu, and a regression loss on
the block's output."""

import numpy as np

import srcgrad


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layer_norm(x, gain, bias, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return gain * (x - mean) / np.sqrt(var + eps) + bias


def attention(params, x):
    T, d = x.shape
    q = x @ params["Wq"]
    k = x @ params["Wk"]
    v = x @ params["Wv"]
    scores = q @ k.T / np.sqrt(d)
    mask = np.triu(np.ones((T, T)), k=1) * -1e9
    weights = softmax(scores + mask, axis=-1)
    return weights @ v @ params["Wo"]


def block_loss(params, x, target):
    h = layer_norm(x, params["ln_gain"], params["ln_bias"])
    y = x + attention(params, h)
    return 0.5 * np.mean((y - target) ** 2)


def make_inputs(seed, T=5, d=4):
    rs = np.random.RandomState(seed)
    params = {name: rs.randn(d, d) / np.sqrt(d) for name in ("Wq", "Wk", "Wv", "Wo")}
    params["ln_gain"] = 1.0 + 0.1 * rs.randn(d)
    params["ln_bias"] = 0.1 * rs.randn(d)
    return params, rs.randn(T, d), rs.randn(T, d)


if __name__ == "__main__":
    params, x, target = make_inputs(0)
    value, grads = srcgrad.value_and_grad(block_loss)(params, x, target)
    print(value, sorted(grads))
