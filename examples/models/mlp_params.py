"""An MLP kept as a list of ``(W, b)`` pairs, with a softmax cross-entropy loss."""

import numpy as np

import srcgrad


def mlp_logits(params, x):
    """Logits of a tanh MLP whose layers are ``params[i] = (W, b)``."""
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


@srcgrad.grad(wrt=("W1", "b1", "W2", "b2", "W3", "b3"))
def mlp_params_loss(W1, b1, W2, b2, W3, b3, x, labels):
    """Mean cross-entropy of a three-layer MLP whose parameters travel as a list."""
    params = [(W1, b1), (W2, b2), (W3, b3)]
    logits = mlp_logits(params, x)
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * logp, axis=1))
