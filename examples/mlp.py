"""A two-layer perceptron with a softmax cross-entropy loss (straight-line code).

srcgrad show examples/mlp.py::mlp_loss
"""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 16, sizes 4-8-3, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        r(4, 8), r(8), r(8, 3), r(3), r(16, 4), np.eye(3)[rng.integers(0, 3, size=16)]
    )


@srcgrad.grad(wrt=("W1", "b1", "W2", "b2"), example=example)
def mlp_loss(W1, b1, W2, b2, x, y):
    """Mean cross-entropy of a ReLU MLP; ``y`` holds one-hot rows."""
    h = np.maximum(x @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(y * logp, axis=1))
