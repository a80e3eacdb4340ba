"""An Elman recurrent network unrolled by a Python loop over time steps.

srcgrad show examples/rnn.py::rnn_loss
"""

import numpy as np

import srcgrad


def example():
    """Arguments to specialise the committed gradient on (``srcgrad gen`` calls it):
    hidden 16, input 8, batch 4, 12 steps, float64."""
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(16, 16)) * 0.3,
        rng.normal(size=(8, 16)) * 0.3,
        np.zeros(16),
        rng.normal(size=(12, 4, 8)),
        rng.normal(size=(4, 16)),
    )


@srcgrad.grad(wrt=("Wh", "Wx", "b"), example=example)
def rnn_loss(Wh, Wx, b, xs, target):
    """Squared error of the last hidden state after running the cell over ``xs`` (T, n, d)."""
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx + b)
    err = h - target
    return 0.5 * np.sum(err * err)
