"""Sequence models: a character RNN, an LSTM and a GRU, each looping over time steps."""

import numpy as np
from scipy.special import logsumexp

from .common import sigmoid


def append_bias_and_multiply(weights, *args):
    """Concatenate the inputs with a column of ones and multiply by ``weights``."""
    ones = np.ones((args[0].shape[0], 1))
    joined = np.hstack(args + (ones,))
    return np.dot(joined, weights)


# ---------------------------------------------------------------- character RNN


def char_rnn_predict(params, inputs):
    """Log-probabilities for every time step; inputs has shape (time, batch, alphabet)."""

    def step(x_t, hiddens):
        return np.tanh(append_bias_and_multiply(params["change"], x_t, hiddens))

    def readout(hiddens):
        logits = append_bias_and_multiply(params["predict"], hiddens)
        return logits - logsumexp(logits, axis=1, keepdims=True)

    batch = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], batch, axis=0)
    outputs = [readout(hiddens)]
    for x_t in inputs:
        hiddens = step(x_t, hiddens)
        outputs.append(readout(hiddens))
    return outputs


def char_rnn_log_likelihood(params, inputs, targets):
    logprobs = char_rnn_predict(params, inputs)
    total = 0.0
    n_steps, n_seqs, _ = inputs.shape
    for t in range(n_steps):
        total += np.sum(logprobs[t] * targets[t])
    return total / (n_steps * n_seqs)


def elman_rnn_loss(Wxh, Whh, Why, bh, by, xs, ys):
    """A vanilla RNN over one sequence; hidden states kept in a list, loss by cross-entropy."""
    hs = [np.zeros(Whh.shape[0])]
    loss = 0.0
    for t in range(len(xs)):
        h = np.tanh(Wxh @ xs[t] + Whh @ hs[-1] + bh)
        hs.append(h)
        y = Why @ h + by
        p = np.exp(y - np.max(y))
        p = p / np.sum(p)
        loss = loss - np.log(p[ys[t]])
    return loss


# ---------------------------------------------------------------- LSTM


def lstm_predict(params, inputs):
    def update(x_t, hiddens, cells):
        change = np.tanh(append_bias_and_multiply(params["change"], x_t, hiddens))
        forget = sigmoid(append_bias_and_multiply(params["forget"], x_t, hiddens))
        ingate = sigmoid(append_bias_and_multiply(params["ingate"], x_t, hiddens))
        outgate = sigmoid(append_bias_and_multiply(params["outgate"], x_t, hiddens))
        cells = cells * forget + ingate * change
        hiddens = outgate * np.tanh(cells)
        return hiddens, cells

    def to_logprobs(hiddens):
        out = append_bias_and_multiply(params["predict"], hiddens)
        return out - logsumexp(out, axis=1, keepdims=True)

    n = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], n, axis=0)
    cells = np.repeat(params["init cells"], n, axis=0)
    output = [to_logprobs(hiddens)]
    for x_t in inputs:
        hiddens, cells = update(x_t, hiddens, cells)
        output.append(to_logprobs(hiddens))
    return output


def lstm_log_likelihood(params, inputs, targets):
    logprobs = lstm_predict(params, inputs)
    loglik = 0.0
    T, N, _ = inputs.shape
    for t in range(T):
        loglik += np.sum(logprobs[t] * targets[t])
    return loglik / (T * N)


# ---------------------------------------------------------------- GRU


def gru_cell(params, x, h):
    Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh = params
    z = sigmoid(x @ Wz + h @ Uz + bz)
    r = sigmoid(x @ Wr + h @ Ur + br)
    h_tilde = np.tanh(x @ Wh + (r * h) @ Uh + bh)
    return (1 - z) * h + z * h_tilde


def gru_sequence_loss(params, readout, xs, target):
    """Run a GRU over ``xs`` (time, batch, features); regress the mean state onto a target."""
    h = np.zeros((xs.shape[1], params[1].shape[0]))
    states = []
    for x in xs:
        h = gru_cell(params, x, h)
        states.append(h)
    H = np.stack(states)
    pred = np.mean(H, axis=0) @ readout
    return np.sum((pred - target) ** 2)
