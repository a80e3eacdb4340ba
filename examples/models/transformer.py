"""One Transformer block (multi-head self-attention and an MLP, pre-norm) with a mean loss."""

import numpy as np

import srcgrad


def layer_norm(x, gamma, beta):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + 1e-5) + beta


def softmax(s):
    e = np.exp(s - np.max(s, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 2, 3 tokens, width 8, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(8, 8) for _ in range(4)),
        r(8, 16),
        r(16, 8),
        1 + r(8),
        1 + r(8),
        r(2, 3, 8),
        r(2, 3, 8),
    )


@srcgrad.grad(wrt=("Wq", "Wk", "Wv", "Wo", "W1", "W2", "g1", "g2"), example=example)
def block_loss(Wq, Wk, Wv, Wo, W1, W2, g1, g2, x, target):
    """Squared error of one pre-norm block over ``x`` (batch, T, D) with 4 heads."""
    B, T, D = x.shape
    H = 4
    dh = D // H
    a = layer_norm(x, g1, 0.0)
    q = (a @ Wq).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
    k = (a @ Wk).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
    v = (a @ Wv).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
    att = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh))
    y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    x = x + y @ Wo
    m = layer_norm(x, g2, 0.0)
    x = x + np.maximum(m @ W1, 0.0) @ W2
    return np.mean((x - target) ** 2)
