"""A one-stage detector's classification head trained with the sigmoid focal loss: logits
from a linear head over anchor features, p_t chosen with np.where on the binary targets,
alpha weighting, (1 - p_t)^gamma modulation, ignored anchors (label -1) masked out, and
normalisation by the number of positive anchors (at least one)."""

import numpy as np

import srcgrad


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def focal_loss(W, b, feats, labels, alpha=0.25, gamma=2.0):
    logits = feats @ W + b
    p = sigmoid(logits)
    valid = labels >= 0
    y = (labels == 1).astype(feats.dtype)
    ce = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
    p_t = np.where(y == 1, p, 1 - p)
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    loss = alpha_t * (1 - p_t) ** gamma * ce
    loss = loss * valid
    num_pos = max(1.0, float((labels == 1).sum()))
    return loss.sum() / num_pos


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    feats = rs.randn(10, 5)
    labels = rs.choice([-1, 0, 1], size=(10, 3), p=[0.2, 0.6, 0.2])
    return 0.2 * rs.randn(5, 3), np.full(3, -2.0), feats, labels


if __name__ == "__main__":
    W, b, feats, labels = make_inputs(0)
    dW, db = srcgrad.grad(focal_loss, wrt=(0, 1))(W, b, feats, labels)
    print(dW, db)
