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


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 8, sizes 3-5-4-3, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(3, 5), r(5), r(5, 4), r(4), r(4, 3), r(3)),
        r(8, 3),
        np.eye(3)[rng.integers(0, 3, size=8)],
    )


@srcgrad.grad(wrt=("W1", "b1", "W2", "b2", "W3", "b3"), example=example)
def mlp_params_loss(W1, b1, W2, b2, W3, b3, x, labels):
    """Mean cross-entropy of a three-layer MLP whose parameters travel as a list."""
    params = [(W1, b1), (W2, b2), (W3, b3)]
    logits = mlp_logits(params, x)
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * logp, axis=1))
