"""A GRU sequence classifier written as classes: a `GRUCell` whose `__call__` takes the
parameters explicitly, a `SequenceClassifier` holding the cell as an attribute and
calling it in a loop over time, gates split with `np.split`, the hidden state rebound
each step, and the loss taken through a module-level model instance."""

import numpy as np

import srcgrad


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class GRUCell:
    def __init__(self, n_in, n_hidden):
        self.n_in = n_in
        self.n_hidden = n_hidden

    def __call__(self, p, x, h):
        xh = np.concatenate([x, h])
        z, r = np.split(sigmoid(p["W_zr"] @ xh + p["b_zr"]), 2)
        h_tilde = np.tanh(p["W_h"] @ np.concatenate([x, r * h]) + p["b_h"])
        return (1.0 - z) * h + z * h_tilde


class SequenceClassifier:
    def __init__(self, n_in, n_hidden, n_classes):
        self.cell = GRUCell(n_in, n_hidden)
        self.n_classes = n_classes

    def __call__(self, p, xs):
        h = np.zeros(self.cell.n_hidden)
        for x in xs:
            h = self.cell(p, x, h)
        return p["W_out"] @ h + p["b_out"]

    def loss(self, p, batch, labels):
        total = 0.0
        for xs, label in zip(batch, labels):
            logits = self(p, xs)
            logits = logits - np.max(logits)
            total += np.log(np.sum(np.exp(logits))) - logits[label]
        return total / len(labels)


MODEL = SequenceClassifier(3, 4, 2)


def sequence_loss(params, batch, labels):
    return MODEL.loss(params, batch, labels)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = {"W_zr": 0.4 * rs.randn(8, 7), "b_zr": np.zeros(8),
              "W_h": 0.4 * rs.randn(4, 7), "b_h": np.zeros(4),
              "W_out": 0.4 * rs.randn(2, 4), "b_out": np.zeros(2)}
    batch = [rs.randn(5, 3) for _ in range(3)]
    return params, batch, [0, 1, 1]


if __name__ == "__main__":
    params, batch, labels = make_inputs(0)
    grads = srcgrad.grad(sequence_loss)(params, batch, labels)
