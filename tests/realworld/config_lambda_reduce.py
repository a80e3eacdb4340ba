"""An MLP regressor driven by a module-level CONFIG dict, in the style of research scripts:
activation and loss picked by name from dicts of lambdas, the forward pass folded with
`functools.reduce(lambda h, layer: ..., layers, x)`, an L2 penalty through
`sum(map(lambda ...))`, optional bias read from the config, and a call counter kept in a
module global updated with `global`."""

import functools

import numpy as np

import srcgrad

CONFIG = {"activation": "softplus", "loss": "huber", "delta": 0.5, "l2": 1e-3,
          "use_bias": True}
CALLS = 0

ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "tanh": np.tanh,
}
LOSSES = {
    "mse": lambda r, d: 0.5 * r**2,
    "huber": lambda r, d: np.where(np.abs(r) <= d, 0.5 * r**2, d * (np.abs(r) - 0.5 * d)),
}


def layer_fn(act):
    def apply(h, layer):
        W, b = layer
        z = h @ W + (b if CONFIG["use_bias"] else 0.0)
        return act(z)
    return apply


def config_loss(layers, x, y):
    global CALLS
    CALLS += 1
    act = ACTIVATIONS[CONFIG["activation"]]
    h = functools.reduce(layer_fn(act), layers[:-1], x)
    W_out, b_out = layers[-1]
    pred = (h @ W_out + b_out).ravel()
    data = LOSSES[CONFIG["loss"]](pred - y, CONFIG["delta"]).mean()
    penalty = sum(map(lambda layer: np.sum(layer[0] ** 2), layers))
    return data + CONFIG["l2"] * penalty


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    sizes = [3, 5, 4, 1]
    layers = [(0.6 * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = rs.randn(10, 3)
    return layers, x, np.sin(x[:, 0]) + 0.3 * x[:, 1]


if __name__ == "__main__":
    layers, x, y = make_inputs(0)
    grad_fn = srcgrad.grad(config_loss)
    for it in range(3):
        g = grad_fn(layers, x, y)
        layers = [(W - 0.1 * dW, b - 0.1 * db) for (W, b), (dW, db) in zip(layers, g)]
