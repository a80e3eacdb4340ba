"""A GRU cell run over a sequence, with a mean squared error on every step's output."""

import numpy as np

import srcgrad


def sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 5, 6 steps, hidden 4, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(m for _ in range(3) for m in (r(3, 4), r(4, 4))),
        r(4, 2),
        r(6, 5, 3),
        r(6, 5, 2),
    )


@srcgrad.grad(wrt=("Wz", "Uz", "Wr", "Ur", "Wh", "Uh", "Wy"), example=example)
def gru_loss(Wz, Uz, Wr, Ur, Wh, Uh, Wy, xs, ys):
    """Mean squared error of the per-step read-outs; ``xs`` is (T, n, d), ``ys`` (T, n, k)."""
    h = np.zeros((xs.shape[1], Uz.shape[0]))
    total = 0.0
    for t in range(xs.shape[0]):
        z = sigmoid(xs[t] @ Wz + h @ Uz)
        r = sigmoid(xs[t] @ Wr + h @ Ur)
        h_tilde = np.tanh(xs[t] @ Wh + (r * h) @ Uh)
        h = (1.0 - z) * h + z * h_tilde
        err = h @ Wy - ys[t]
        total = total + np.mean(err * err)
    return total / xs.shape[0]
