"""A character-level vanilla RNN in the style of the well-known minimal numpy char-rnn: the
forward pass keeps dictionaries of per-step vectors (xs, hs, ys, ps) keyed by the time step,
one-hot inputs written in place into fresh zero vectors, column-vector states, and a loss
summed over the sequence.  The gradient replaces the hand-written backward pass."""

import numpy as np

import srcgrad

vocab_size, hidden_size = 5, 6


def loss_fun(Wxh, Whh, Why, bh, by, inputs, targets, hprev):
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    return loss


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    Wxh = rs.randn(hidden_size, vocab_size) * 0.1
    Whh = rs.randn(hidden_size, hidden_size) * 0.1
    Why = rs.randn(vocab_size, hidden_size) * 0.1
    bh = 0.1 * rs.randn(hidden_size, 1)
    by = 0.1 * rs.randn(vocab_size, 1)
    data = rs.randint(0, vocab_size, size=8)
    inputs, targets = list(data[:-1]), list(data[1:])
    hprev = np.zeros((hidden_size, 1))
    return Wxh, Whh, Why, bh, by, inputs, targets, hprev


if __name__ == "__main__":
    args = make_inputs(0)
    grad_fun = srcgrad.grad(loss_fun, wrt=(0, 1, 2, 3, 4))
    dWxh, dWhh, dWhy, dbh, dby = grad_fun(*args)
    for d in (dWxh, dWhh, dWhy, dbh, dby):
        np.clip(d, -5, 5, out=d)
    print(loss_fun(*args))
