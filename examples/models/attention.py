"""Scaled dot-product attention with learned projections and a masked softmax."""

import numpy as np

import srcgrad


@srcgrad.grad(wrt=("Wq", "Wk", "Wv"))
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
