"""A mixture density network (Bishop) for a one-dimensional inverse problem: a tanh hidden
layer whose output is split with np.split into mixture logits, means and log standard
deviations, and the negative log likelihood of the targets under the mixture, written with
a hand-made stable logsumexp helper as blog posts on MDNs do."""

import numpy as np

import srcgrad

N_COMPONENTS = 3


def log_sum_exp(x, axis=None):
    x_max = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(x_max, axis=axis) + np.log(np.sum(np.exp(x - x_max), axis=axis))


def mdn_forward(params, x):
    h = np.tanh(x @ params["W_h"] + params["b_h"])
    out = h @ params["W_out"] + params["b_out"]
    logits, mu, log_sigma = np.split(out, 3, axis=1)
    return logits, mu, log_sigma


def mdn_loss(params, x, y):
    logits, mu, log_sigma = mdn_forward(params, x)
    log_pi = logits - log_sum_exp(logits, axis=1)[:, None]
    z = (y - mu) / np.exp(log_sigma)
    log_normal = -0.5 * z**2 - log_sigma - 0.5 * np.log(2 * np.pi)
    return -np.mean(log_sum_exp(log_pi + log_normal, axis=1))


def make_inputs(seed, hidden=8):
    rs = np.random.RandomState(seed)
    y = rs.uniform(-1, 1, size=(10, 1))
    x = y + 0.3 * np.sin(2 * np.pi * y) + 0.05 * rs.randn(10, 1)  # the inverse is multi-valued
    params = {
        "W_h": rs.randn(1, hidden),
        "b_h": rs.randn(hidden),
        "W_out": 0.3 * rs.randn(hidden, 3 * N_COMPONENTS),
        "b_out": 0.1 * rs.randn(3 * N_COMPONENTS),
    }
    return params, x, y


loss_and_grad = srcgrad.value_and_grad(mdn_loss)

if __name__ == "__main__":
    params, x, y = make_inputs(0)
    for epoch in range(100):
        loss, grads = loss_and_grad(params, x, y)
        params = {name: value - 0.05 * grads[name] for name, value in params.items()}
    print(loss)
