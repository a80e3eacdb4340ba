"""An LSTM sequence regressor from scratch: the gate weights in a dict, one concatenated
[h, x] input per step, the state carried as a tuple (h, c) rebound every step, sigmoid written
as a helper, and a squared-error loss on the last hidden state's readout."""

import numpy as np

import srcgrad


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step(params, state, x):
    h, c = state
    z = np.concatenate([h, x])
    f = sigmoid(params["Wf"] @ z + params["bf"])
    i = sigmoid(params["Wi"] @ z + params["bi"])
    o = sigmoid(params["Wo"] @ z + params["bo"])
    g = np.tanh(params["Wc"] @ z + params["bc"])
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


def sequence_loss(params, xs, target):
    hidden = params["bf"].shape[0]
    state = (np.zeros(hidden), np.zeros(hidden))
    for x in xs:
        state = lstm_step(params, state, x)
    h, _ = state
    prediction = params["Wy"] @ h + params["by"]
    return np.sum((prediction - target) ** 2)


def make_inputs(seed, n_in=2, hidden=3, n_out=2, steps=4):
    rs = np.random.RandomState(seed)
    params = {}
    for gate in "fioc":
        params["W" + gate] = 0.5 * rs.randn(hidden, hidden + n_in)
        params["b" + gate] = 0.1 * rs.randn(hidden)
    params["Wy"] = 0.5 * rs.randn(n_out, hidden)
    params["by"] = np.zeros(n_out)
    xs = [rs.randn(n_in) for _ in range(steps)]
    return params, xs, rs.randn(n_out)


if __name__ == "__main__":
    params, xs, target = make_inputs(0)
    g = srcgrad.grad(sequence_loss)(params, xs, target)
    print({k: np.abs(v).max() for k, v in g.items()})
