"""Soft-DTW between a predicted and a target sequence, for training a sequence predictor:
a (n+1) x (m+1) dynamic-programming table filled cell by cell in a double loop, with an
infinite border, a soft minimum by log-sum-exp of three neighbours."""

import numpy as np

import srcgrad

GAMMA = 0.5


def softmin3(a, b, c, gamma):
    vals = np.array([a, b, c]) / -gamma
    vmax = np.max(vals)
    return -gamma * (vmax + np.log(np.sum(np.exp(vals - vmax))))


def soft_dtw(x, y, gamma=GAMMA):
    n, m = x.shape[0], y.shape[0]
    D = np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = softmin3(R[i - 1, j - 1], R[i - 1, j], R[i, j - 1], gamma)
            R[i, j] = D[i - 1, j - 1] + r
    return R[n, m]


def predict(W, xs):
    return np.tanh(xs @ W)


def loss(W, xs, target):
    return soft_dtw(predict(W, xs), target)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    xs = rs.randn(5, 3)
    target = np.sin(np.linspace(0, 3, 4))[:, None] * np.ones((1, 2))
    return 0.5 * rs.randn(3, 2), xs, target


if __name__ == "__main__":
    W, xs, target = make_inputs(0)
    g = srcgrad.grad(loss)
    for _ in range(20):
        W = W - 0.1 * g(W, xs, target)
    print(loss(W, xs, target))
