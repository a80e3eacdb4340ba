"""Binary logistic regression as ML-from-scratch repositories write it, with the defensive
shape handling real code has: np.shape(X)[0] and X.ndim reads, a 1-D input promoted to a
column, a guard that returns early for an empty batch, and class weights built in place in
an array made inside the loss."""

import numpy as np

import srcgrad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def weighted_log_loss(w, X, y, pos_weight=2.0, eps=1e-12):
    if X.ndim == 1:
        X = X[:, None]
    n_samples = np.shape(X)[0]
    if n_samples == 0:
        return 0.0
    weights = np.ones(n_samples)
    weights[y == 1] = pos_weight
    p = sigmoid(X @ w[1:] + w[0])
    losses = -(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    return np.sum(weights * losses) / np.sum(weights)


def make_inputs(seed, n=12, d=3):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rs.randn(n) > 0).astype(float)
    return 0.1 * rs.randn(d + 1), X, y


if __name__ == "__main__":
    w, X, y = make_inputs(0)
    grad_loss = srcgrad.grad(weighted_log_loss)
    for epoch in range(200):
        w -= 0.5 * grad_loss(w, X, y)
    print(w, weighted_log_loss(w, X, y))
