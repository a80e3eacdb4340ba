"""A regression MLP whose activation is chosen by name from a table of functions, one of them
built with functools.partial (leaky ReLU with its slope bound) and another a lambda, the way
configurable from-scratch frameworks pick a nonlinearity; the activation function is passed
down to the forward pass as an argument."""

from functools import partial

import numpy as np

import srcgrad


def leaky_relu(x, slope):
    return np.where(x > 0, x, slope * x)


ACTIVATIONS = {
    "tanh": np.tanh,
    "leaky_relu": partial(leaky_relu, slope=0.1),
    "softplus": lambda x: np.logaddexp(0.0, x),
}


def forward(params, x, activation):
    *hidden, last = params
    for W, b in hidden:
        x = activation(x @ W + b)
    W, b = last
    return x @ W + b


def mse_loss(params, x, y):
    activation = ACTIVATIONS["leaky_relu"]
    return np.mean((forward(params, x, activation) - y) ** 2)


def make_inputs(seed, sizes=(2, 5, 4, 1)):
    rs = np.random.RandomState(seed)
    params = [(rs.randn(m, n) / np.sqrt(m), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = rs.randn(9, sizes[0])
    y = np.sin(x[:, :1]) + x[:, 1:] ** 2
    return params, x, y


if __name__ == "__main__":
    params, x, y = make_inputs(0)
    grads = srcgrad.grad(mse_loss)(params, x, y)
    print([gW.shape for gW, gb in grads])
