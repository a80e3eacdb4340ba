"""A tanh MLP classifier whose parameters are a list of (W, b) tuples, trained by plain
gradient descent on a toy data set.  Log-softmax via scipy.special.logsumexp, an L2 prior
summed over the layers with a generator expression."""

import numpy as np
from scipy.special import logsumexp

import srcgrad


def init_params(scale, layer_sizes, rs=np.random.RandomState(0)):
    """A list of (weights, biases) tuples, one per layer."""
    return [
        (scale * rs.randn(m, n), scale * rs.randn(n))
        for m, n in zip(layer_sizes[:-1], layer_sizes[1:])
    ]


def predict(params, inputs):
    """Log class probabilities; inputs is (N, D)."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    return sum(np.sum(W**2) + np.sum(b**2) for W, b in params)


def log_posterior(params, inputs, targets, l2_reg=0.01):
    log_prior = -l2_reg * l2_norm(params)
    log_lik = np.sum(predict(params, inputs) * targets)
    return log_prior + log_lik


def objective(params, inputs, targets):
    return -log_posterior(params, inputs, targets) / len(inputs)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = init_params(0.3, [3, 5, 4, 3], rs)
    inputs = rs.randn(8, 3)
    labels = rs.randint(0, 3, size=8)
    targets = np.eye(3)[labels]
    return params, inputs, targets


if __name__ == "__main__":
    params, inputs, targets = make_inputs(0)
    objective_grad = srcgrad.grad(objective)
    for it in range(50):
        g = objective_grad(params, inputs, targets)
        params = [(W - 0.1 * gW, b - 0.1 * gb) for (W, b), (gW, gb) in zip(params, g)]
        if it % 10 == 0:
            print(it, objective(params, inputs, targets))
