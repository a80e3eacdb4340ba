"""An LSTM run over a sequence by a Python loop, with a squared-error read-out."""

import numpy as np

import srcgrad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@srcgrad.grad(wrt=("Wx", "Wh", "b", "Wy"))
def lstm_loss(Wx, Wh, b, Wy, xs, target):
    """Squared error of the read-out of the last hidden state; ``xs`` is (T, n, d)."""
    n, hidden = xs.shape[1], Wh.shape[0]
    h = np.zeros((n, hidden))
    c = np.zeros((n, hidden))
    for t in range(xs.shape[0]):
        z = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :hidden])
        f = sigmoid(z[:, hidden : 2 * hidden])
        o = sigmoid(z[:, 2 * hidden : 3 * hidden])
        g = np.tanh(z[:, 3 * hidden :])
        c = f * c + i * g
        h = o * np.tanh(c)
    pred = h @ Wy
    return 0.5 * np.sum((pred - target) ** 2)
