"""Scaled dot-product attention with learned projections and a masked softmax."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    5 tokens, width 4, head 3, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(4, 3) for _ in range(3)),
        r(5, 4),
        np.tril(np.ones((5, 5), dtype=bool)),
        r(5, 3),
    )


@srcgrad.grad(wrt=("Wq", "Wk", "Wv"), example=example)
def attention_loss(Wq, Wk, Wv, x, mask, target):
    """Squared error of one causal attention head over ``x`` (T, D); ``mask`` is (T, T)."""
    q = x @ Wq
    k = x @ Wk
    v = x @ Wv
    scores = q @ k.T / np.sqrt(q.shape[1])
    scores = np.where(mask, scores, -1e9)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    out = weights @ v
    return np.mean((out - target) ** 2)
