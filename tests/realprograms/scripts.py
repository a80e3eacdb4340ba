"""Script-style programs: data, sizes and hyper-parameters live in module globals that the
objective reads, and helpers take parameters with the same names as those globals."""

import numpy as np

rs = np.random.RandomState(0)
N, D = 8, 2
noise_variance = 0.1
inputs = rs.randn(N, D)
targets = np.sin(inputs[:, :1]) + 0.1 * rs.randn(N, 1)
layer_sizes = [D, 3, 1]
shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
num_weights = sum((m + 1) * n for m, n in shapes)
scale = 2.0


def predictions(weights, inputs):
    """``inputs`` shadows the global of the same name."""
    W1 = np.reshape(weights[: D * 3], (D, 3))
    b1 = weights[D * 3 : D * 3 + 3]
    W2 = np.reshape(weights[D * 3 + 3 : D * 3 + 6], (3, 1))
    b2 = weights[-1]
    return np.tanh(inputs @ W1 + b1) @ W2 + b2


def logprob(weights, inputs, targets):
    log_prior = -0.5 * np.sum(weights**2)
    preds = predictions(weights, inputs)
    return log_prior - np.sum((preds - targets) ** 2) / noise_variance


def objective(weights):
    """Reads the global data; the helpers' parameters carry the same names."""
    return -logprob(weights, inputs, targets) / N


def shifted(x, scale):
    return x * scale + 1.0


def objective_shadowed_scale(weights):
    """A callee parameter named like a global the caller also reads."""
    y = shifted(weights, 3.0)
    return np.sum(y**2) * scale


def objective_local_first(weights):
    """The caller reads the global after a callee whose local has the same name."""
    total = 0.0
    for i in range(2):
        total = total + np.sum(shifted(weights, i + 1.0))
    return total * scale + np.sum(weights * scale)
