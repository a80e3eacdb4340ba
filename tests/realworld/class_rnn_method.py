"""A character-level RNN written as a plain class (not a framework Module): weights kept in
a dict attribute, a `forward` method looping over time and a `loss` method that takes the
parameters explicitly, differentiated through a module-level wrapper and as the bound
method `NET.loss`."""

import numpy as np

import srcgrad


class CharRNN:
    def __init__(self, vocab, hidden, seed=0):
        rs = np.random.RandomState(seed)
        self.vocab = vocab
        self.hidden = hidden
        self.params = {
            "Wxh": 0.1 * rs.randn(hidden, vocab),
            "Whh": 0.1 * rs.randn(hidden, hidden),
            "Why": 0.1 * rs.randn(vocab, hidden),
            "bh": np.zeros(hidden),
            "by": np.zeros(vocab),
        }

    def forward(self, params, inputs, h):
        logits = []
        for ix in inputs:
            x = np.zeros(self.vocab)
            x[ix] = 1.0
            h = np.tanh(params["Wxh"] @ x + params["Whh"] @ h + params["bh"])
            logits.append(params["Why"] @ h + params["by"])
        return logits, h

    def loss(self, params, inputs, targets):
        h0 = np.zeros(self.hidden)
        logits, _ = self.forward(params, inputs, h0)
        total = 0.0
        for y, t in zip(logits, targets):
            y = y - np.max(y)
            total -= y[t] - np.log(np.sum(np.exp(y)))
        return total / len(targets)


NET = CharRNN(5, 6)


def net_loss(params, inputs, targets):
    return NET.loss(params, inputs, targets)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    seq = rs.randint(0, 5, size=7)
    return NET.params, list(seq[:-1]), list(seq[1:])


if __name__ == "__main__":
    params, inputs, targets = make_inputs(0)
    dparams = srcgrad.grad(net_loss)(params, inputs, targets)
    same = srcgrad.grad(NET.loss)(params, inputs, targets)
