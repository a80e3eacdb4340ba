"""A two-layer perceptron with a softmax cross-entropy loss (straight-line code).

srcgrad show examples/mlp.py::mlp_loss
"""

import numpy as np

import srcgrad


@srcgrad.grad(wrt=("W1", "b1", "W2", "b2"))
def mlp_loss(W1, b1, W2, b2, x, y):
    """Mean cross-entropy of a ReLU MLP; ``y`` holds one-hot rows."""
    h = np.maximum(x @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(y * logp, axis=1))
