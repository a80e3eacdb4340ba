"""An Elman recurrent network unrolled by a Python loop over time steps.

srcgrad show examples/rnn.py::rnn_loss
"""

import numpy as np

import srcgrad


@srcgrad.grad(wrt=("Wh", "Wx", "b"))
def rnn_loss(Wh, Wx, b, xs, target):
    """Squared error of the last hidden state after running the cell over ``xs`` (T, n, d)."""
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx + b)
    err = h - target
    return 0.5 * np.sum(err * err)
