"""A Keras-like `Sequential` written in plain numpy: layer objects hold only their
configuration, parameters travel in a list of dicts, `forward` walks `zip(self.layers,
params)`, activations are looked up by name in a table, a helper `call(fn, *args,
**kwargs)` forwards its arguments, and the loss method takes keyword options."""

import numpy as np

import srcgrad

ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "linear": lambda z: z}


def call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def dense(x, W, b, activation="linear"):
    return ACTIVATIONS[activation](x @ W + b)


class Dense:
    def __init__(self, units, activation="linear"):
        self.units = units
        self.activation = activation


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, params, x):
        for layer, p in zip(self.layers, params):
            x = call(dense, x, p["W"], p["b"], activation=layer.activation)
        return x

    def loss(self, params, x, y, l2=0.0, **unused):
        logits = self.forward(params, x)
        logits = logits - logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        data = -np.mean(logp[np.arange(len(y)), y])
        return data + l2 * sum(np.sum(p["W"] ** 2) for p in params)


MODEL = Sequential([Dense(8, "relu"), Dense(6, "tanh"), Dense(3)])


def objective(params, x, y):
    return MODEL.loss(params, x, y, l2=1e-3, verbose=False)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    sizes = [4] + [layer.units for layer in MODEL.layers]
    params = [{"W": rs.randn(m, n) / np.sqrt(m), "b": 0.1 * rs.randn(n)} for m, n in zip(sizes[:-1], sizes[1:])]
    return params, rs.randn(10, 4), rs.randint(0, 3, size=10)


if __name__ == "__main__":
    params, x, y = make_inputs(0)
    g = srcgrad.grad(objective)(params, x, y)
    print([sorted(p) for p in g])
