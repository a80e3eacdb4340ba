"""An LSTM run over a sequence by a Python loop, with a squared-error read-out."""

import numpy as np

import srcgrad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 5, 6 steps, hidden 4, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (r(3, 16), r(4, 16), r(16), r(4, 2), r(6, 5, 3), r(5, 2))


@srcgrad.grad(wrt=("Wx", "Wh", "b", "Wy"), example=example)
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
