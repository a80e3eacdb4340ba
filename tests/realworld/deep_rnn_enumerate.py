"""A stacked (multi-layer) Elman RNN for sequence regression: each layer's weights are a
(W_x, W_h, b) tuple in a list, the per-layer hidden states a list updated in place inside a
loop over time with enumerate over the layers, and a linear readout scored against a target
at every step."""

import numpy as np

import srcgrad


def rnn_forward(layers, readout, inputs):
    hidden = [np.zeros(W_h.shape[0]) for (_, W_h, _) in layers]
    outputs = []
    for x in inputs:
        h_in = x
        for depth, (W_x, W_h, b) in enumerate(layers):
            hidden[depth] = np.tanh(W_x @ h_in + W_h @ hidden[depth] + b)
            h_in = hidden[depth]
        W_out, b_out = readout
        outputs.append(W_out @ h_in + b_out)
    return outputs


def sequence_loss(layers, readout, inputs, targets):
    outputs = rnn_forward(layers, readout, inputs)
    return sum(np.sum((y - t) ** 2) for y, t in zip(outputs, targets)) / len(targets)


def make_inputs(seed, n_in=2, sizes=(4, 3), n_out=1, steps=5):
    rs = np.random.RandomState(seed)
    layers = []
    prev = n_in
    for size in sizes:
        layers.append((0.5 * rs.randn(size, prev), 0.5 * rs.randn(size, size), 0.1 * rs.randn(size)))
        prev = size
    readout = (0.5 * rs.randn(n_out, prev), np.zeros(n_out))
    inputs = [rs.randn(n_in) for _ in range(steps)]
    targets = [np.array([np.sum(x)]) for x in inputs]
    return layers, readout, inputs, targets


if __name__ == "__main__":
    layers, readout, inputs, targets = make_inputs(0)
    g_layers, g_readout = srcgrad.grad(sequence_loss, wrt=(0, 1))(layers, readout, inputs, targets)
    print(len(g_layers), [g.shape for g in g_readout])
