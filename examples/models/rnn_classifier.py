"""An Elman RNN classifier: hidden states collected in a list, mean-pooled, softmax loss."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 3, 4 steps, hidden 5, 3 classes, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(2, 5), r(5, 5), r(5), r(5, 3), r(3)),
        r(4, 3, 2),
        np.eye(3)[rng.integers(0, 3, size=3)],
    )


@srcgrad.grad(wrt=("Wx", "Wh", "b", "Wy", "by"), example=example)
def rnn_classifier_loss(Wx, Wh, b, Wy, by, xs, labels):
    """Cross-entropy of a read-out of the mean hidden state; ``xs`` is (T, n, d)."""
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    states = []
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh + b)
        states.append(h)
    pooled = np.mean(np.stack(states), axis=0)
    logits = pooled @ Wy + by
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * logp, axis=1))
