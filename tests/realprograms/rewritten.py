"""The same models rewritten the way srcgrad's refusal hints ask, one hint at a time.

A refusal is only useful if following its hint gives a program that works; each function here
is a program of the other modules after applying the hint its refusal gave.
"""

import numpy as np
from scipy.special import logsumexp

from .common import log_sigmoid, relu, sigmoid


# "unpacking rows in a loop target; hint: index the row inside the body"
def net_forward_hinted(params, inputs, nonlinearity):
    for layer in params[:-1]:
        W, b = layer
        inputs = nonlinearity(np.dot(inputs, W) + b)
    W, b = params[-1]
    return np.dot(inputs, W) + b


def vae_lower_bound_hinted(gen_params, rec_params, data, eps):
    out = net_forward_hinted(rec_params, data, relu)
    latent = out.shape[1] // 2
    q_mean, q_log_std = out[:, :latent], out[:, latent:]
    z = q_mean + np.exp(q_log_std) * eps
    logits = net_forward_hinted(gen_params, z, np.tanh)
    log_px = np.sum(log_sigmoid(logits * (data * 2 - 1)), axis=-1)
    log_pz = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1)
    log_qz = -0.5 * np.sum(
        (z - q_mean) ** 2 / np.exp(2 * q_log_std) + 2 * q_log_std + np.log(2 * np.pi), axis=-1
    )
    return np.mean(log_px + log_pz - log_qz)


def gan_net_hinted(params, inputs):
    W_in, b_in = params[0]
    inputs = relu(np.dot(inputs, W_in) + b_in)
    for layer in params[1:-1]:
        W, b = layer
        h = np.dot(inputs, W) + b
        h = (h - np.mean(h, axis=0, keepdims=True)) / (np.std(h, axis=0, keepdims=True) + 1)
        inputs = relu(h)
    W_out, b_out = params[-1]
    return np.dot(inputs, W_out) + b_out


def gan_objective_hinted(gen_params, dsc_params, real_data, noise):
    fake_data = sigmoid(gan_net_hinted(gen_params, noise))
    logprobs_fake = log_sigmoid(gan_net_hinted(dsc_params, fake_data))
    logprobs_real = log_sigmoid(gan_net_hinted(dsc_params, real_data))
    return np.mean(logprobs_real) - np.mean(logprobs_fake)


# "the list/tuple 'args' is passed to add as one array": the *args helper written out
def concat_and_multiply(weights, x, h):
    ones = np.ones((x.shape[0], 1))
    return np.dot(np.hstack((x, h, ones)), weights)


def char_rnn_predict_explicit(params, inputs):
    def readout(hiddens):
        ones = np.ones((hiddens.shape[0], 1))
        logits = np.dot(np.hstack((hiddens, ones)), params["predict"])
        return logits - logsumexp(logits, axis=1, keepdims=True)

    batch = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], batch, axis=0)
    outputs = [readout(hiddens)]
    for x_t in inputs:
        hiddens = np.tanh(concat_and_multiply(params["change"], x_t, hiddens))
        outputs.append(readout(hiddens))
    return outputs


def char_rnn_log_likelihood_explicit(params, inputs, targets):
    """A list built by append in a callee, read back by a loop index in the caller."""
    logprobs = char_rnn_predict_explicit(params, inputs)
    total = 0.0
    n_steps, n_seqs, _ = inputs.shape
    for t in range(n_steps):
        total += np.sum(logprobs[t] * targets[t])
    return total / (n_steps * n_seqs)


def lstm_log_likelihood_explicit(params, inputs, targets):
    """LSTM with the gates written out and the log-probabilities kept in a list."""
    n = inputs.shape[1]
    hiddens = np.repeat(params["init hiddens"], n, axis=0)
    cells = np.repeat(params["init cells"], n, axis=0)
    logprobs = []
    for x_t in inputs:
        change = np.tanh(concat_and_multiply(params["change"], x_t, hiddens))
        forget = sigmoid(concat_and_multiply(params["forget"], x_t, hiddens))
        ingate = sigmoid(concat_and_multiply(params["ingate"], x_t, hiddens))
        outgate = sigmoid(concat_and_multiply(params["outgate"], x_t, hiddens))
        cells = cells * forget + ingate * change
        hiddens = outgate * np.tanh(cells)
        out = np.dot(np.hstack((hiddens, np.ones((n, 1)))), params["predict"])
        logprobs.append(out - logsumexp(out, axis=1, keepdims=True))
    loglik = 0.0
    for t in range(len(logprobs)):
        loglik += np.sum(logprobs[t] * targets[t])
    return loglik / (inputs.shape[0] * n)


# "array method .append() has no adjoint rule": the list seeded from a name instead
def elman_rnn_loss_seeded(Wxh, Whh, Why, bh, by, xs, ys):
    h = np.zeros(Whh.shape[0])
    loss = 0.0
    for t in range(len(xs)):
        h = np.tanh(Wxh @ xs[t] + Whh @ h + bh)
        y = Why @ h + by
        p = np.exp(y - np.max(y))
        p = p / np.sum(p)
        loss = loss - np.log(p[ys[t]])
    return loss


# "nested loop target; hint: unpack inside the body"
def bnn_log_posterior_unpacked(weights, shapes, inputs, targets, noise_var=0.1):
    layers = []
    start = 0
    for m, n in shapes:
        W = np.reshape(weights[start : start + m * n], (m, n))
        start += m * n
        b = weights[start : start + n]
        start += n
        layers.append((W, b))
    h = inputs
    for i, layer in enumerate(layers):
        W, b = layer
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.tanh(h)
    return -0.5 * np.sum(weights**2) - np.sum((h - targets) ** 2) / (2 * noise_var)


# "a container argument read with a key that is not a constant": the sequence as an array
def hmm_forward_table_array(log_pi, log_A, log_B, seq):
    T = seq.shape[0]
    K = log_pi.shape[0]
    alpha = np.zeros((T, K))
    alpha[0] = log_pi + log_B[:, seq[0]]
    for t in range(1, T):
        for j in range(K):
            prev = alpha[t - 1] + log_A[:, j]
            top = np.max(prev)
            alpha[t, j] = top + np.log(np.sum(np.exp(prev - top))) + log_B[j, seq[t]]
    top = np.max(alpha[-1])
    return top + np.log(np.sum(np.exp(alpha[-1] - top)))


# "unpacking rows in a loop target" in the neural ODE's dynamics
def neural_ode_loss_hinted(params, y0, targets, dt=0.1):
    y = y0
    preds = []
    for _ in range(targets.shape[0]):
        h = y
        for layer in params[:-1]:
            W, b = layer
            h = np.tanh(h @ W + b)
        W, b = params[-1]
        y = y + dt * (h @ W + b)
        preds.append(y)
    return np.mean((np.array(preds) - targets) ** 2)


# "subscript of an expression; hint: assign it to a name first" for a meshgrid unpacking
def advect_grid_named(f, vx, vy):
    rows, cols = f.shape
    grids = np.meshgrid(np.arange(rows), np.arange(cols))
    cell_ys = grids[0]
    cell_xs = grids[1]
    xs = (cell_xs - vx).ravel()
    ys = (cell_ys - vy).ravel()
    left = np.floor(xs).astype(int)
    top = np.floor(ys).astype(int)
    rw = xs - left
    bw = ys - top
    left = np.mod(left, rows)
    right = np.mod(left + 1, rows)
    top = np.mod(top, cols)
    bot = np.mod(top + 1, cols)
    flat = (1 - rw) * ((1 - bw) * f[left, top] + bw * f[left, bot])
    flat = flat + rw * ((1 - bw) * f[right, top] + bw * f[right, bot])
    return np.reshape(flat, (rows, cols))


def smoke_objective_named(velocity, smoke, target, steps=2):
    rows, cols = smoke.shape
    vx = np.reshape(velocity[: rows * cols], (rows, cols))
    vy = np.reshape(velocity[rows * cols :], (rows, cols))
    for t in range(steps):
        vx_new = advect_grid_named(vx, vx, vy)
        vy_new = advect_grid_named(vy, vx, vy)
        p = np.zeros(vx.shape)
        div = -0.5 * (np.roll(vx_new, -1, axis=0) - np.roll(vx_new, 1, axis=0))
        div = div - 0.5 * (np.roll(vy_new, -1, axis=1) - np.roll(vy_new, 1, axis=1))
        for k in range(3):
            p = (div + np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)) / 3.0
        vx = vx_new - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0))
        vy = vy_new - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1))
        smoke = advect_grid_named(smoke, vx, vy)
    return np.mean((target - smoke) ** 2)


# "unpacking in a loop over a constant; hint: index inside the body" in a make_*_funs factory
def make_nn_funs_hinted(layer_sizes, l2_reg=0.1, noise_variance=0.05):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def predictions(weights, inputs):
        start = 0
        for k in range(len(shapes)):
            m = shapes[k][0]
            n = shapes[k][1]
            W = weights[start : start + m * n].reshape((m, n))
            b = weights[start + m * n : start + m * n + n]
            start += (m + 1) * n
            outputs = np.dot(inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -l2_reg * np.sum(weights**2)
        preds = predictions(weights, inputs)
        return log_prior - np.sum((preds - targets) ** 2) / noise_variance

    return num_weights, predictions, logprob


# "the list/tuple '_out1' is passed to sum as one array; hint: stack it first"
def column_penalty_stacked(W, X, y1, y2):
    fit = np.mean((X @ W[:, 0] - y1) ** 2)
    return fit + 0.01 * np.sum(np.array([np.sum(W[:, j] ** 2) for j in range(W.shape[1])]))


# "nested loop target; hint: unpack inside the body" for enumerate over the layer list
def mlp_enumerate_unpacked(params, x, y):
    h = x
    for i, layer in enumerate(params):
        W, b = layer
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return np.mean((h - y) ** 2)
