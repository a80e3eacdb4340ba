"""Models for tests/test_models.py: both habits of srcgrad.nn.Module, nested sub-modules,
lists of blocks, static fields that switch branches, buffers, inheritance, a shared layer,
a generator the model holds, and helper methods."""

import numpy as np

from srcgrad import nn


class Dense(nn.Module):
    def __init__(self, n_in, n_out, rng, act="tanh"):
        self.W = rng.standard_normal((n_in, n_out)) * 0.5
        self.b = 0.1 * rng.standard_normal(n_out)
        self.act = act

    def __call__(self, x):
        h = x @ self.W + self.b
        if self.act == "tanh":
            return np.tanh(h)
        if self.act == "relu":
            return np.maximum(h, 0.0)
        return h


class Net(nn.Module):
    def __init__(self, rng, sizes=(4, 8, 8, 3)):
        super().__init__()
        self.blocks = [
            Dense(a, b, rng, act="tanh") for a, b in zip(sizes[:-2], sizes[1:-1])
        ]
        self.head = Dense(sizes[-2], sizes[-1], rng, act="none")
        self.scale = 0.5

    def __call__(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale


class Affine(nn.Module):
    W: np.ndarray
    b: np.ndarray
    act: str = nn.static("tanh")

    def __call__(self, x):
        h = x @ self.W + self.b
        return np.tanh(h) if self.act == "tanh" else h


class Scaled(Affine):
    gain: np.ndarray = None

    def __call__(self, x):
        return self.gain * super_call(self, x)


def super_call(layer, x):
    return np.tanh(x @ layer.W + layer.b)


class Norm(nn.Module):
    def __init__(self, n):
        self.gamma = np.ones(n)
        self.beta = np.zeros(n)
        self.running_mean = nn.buffer(np.zeros(n))
        self.eps = 1e-5

    def __call__(self, x):
        if self.training:
            mu = np.mean(x, axis=0)
        else:
            mu = self.running_mean
        var = np.mean((x - mu) ** 2, axis=0)
        return self.gamma * (x - mu) / np.sqrt(var + self.eps) + self.beta


class Encoder(nn.Module):
    def __init__(self, rng):
        self.layers = {"inp": Dense(4, 6, rng), "out": Dense(6, 6, rng, act="relu")}
        self.norm = Norm(6)

    def encode(self, x):
        return self.layers["out"](self.layers["inp"](x))

    def __call__(self, x):
        return self.norm(self.encode(x))


class Tied(nn.Module):
    def __init__(self, rng):
        layer = Dense(4, 4, rng)
        self.first = layer
        self.second = layer

    def __call__(self, x):
        return self.second(self.first(x))


class Dropout(nn.Module):
    def __init__(self, rng, p=0.25):
        self.lin = Dense(4, 5, rng)
        self.p = p
        self.rng = rng

    def __call__(self, x):
        h = self.lin(x)
        if self.training:
            keep = self.rng.random(h.shape) >= self.p
            h = np.where(keep, h / (1.0 - self.p), 0.0)
        return h


def mse(model, x, y):
    return np.mean((model(x) - y) ** 2)


def loss_with_aux(model, x, y):
    pred = model(x)
    return np.mean((pred - y) ** 2), pred


class BatchNorm(nn.Module):
    def __init__(self, n, momentum=0.1):
        self.gamma = np.ones(n)
        self.beta = np.zeros(n)
        self.running_mean = nn.buffer(np.zeros(n))
        self.running_var = nn.buffer(np.ones(n))
        self.momentum = momentum
        self.eps = 1e-5

    def __call__(self, x):
        if self.training:
            mu = np.mean(x, axis=0)
            var = np.var(x, axis=0)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mu
            self.running_var = (1 - m) * self.running_var + m * var
        else:
            mu = self.running_mean
            var = self.running_var
        return self.gamma * (x - mu) / np.sqrt(var + self.eps) + self.beta


class BNNet(nn.Module):
    def __init__(self, rng):
        self.lin = Dense(4, 6, rng, act="none")
        self.bn = BatchNorm(6)
        self.out = Dense(6, 3, rng, act="none")

    def __call__(self, x):
        return self.out(np.tanh(self.bn(self.lin(x))))


class WritesParameter(nn.Module):
    def __init__(self):
        self.W = np.ones((4, 3))

    def __call__(self, x):
        self.W = self.W * 2.0
        return x @ self.W


def leaky(h):
    return np.where(h > 0, h, 0.1 * h)


class WithActivation(nn.Module):
    def __init__(self, rng, act=np.tanh):
        self.W = rng.standard_normal((4, 3))
        self.act = act

    def __call__(self, x):
        return self.act(x @ self.W)


class Reshaper(nn.Module):
    def __init__(self):
        self.W = np.linspace(0.5, 1.5, 6)
        self.size = (2, 3)
        self.betas = (0.9, 0.999)

    def __call__(self, x):
        h = (x * self.W).reshape((self.size[0], self.size[1]))
        return h * self.betas[0]
