"""Models as srcgrad.nn Modules: a residual MLP and a small convolutional net (its
convolution written in plain numpy), each differentiated as a whole.

The gradient of a model is a model of the same class whose parameters hold the gradients;
its backward pass is one readable module under generated/, layer by layer:

    srcgrad gen examples/modules.py
    srcgrad show examples/modules.py::cnn_loss
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import srcgrad
from srcgrad import nn, tree


class Linear(nn.Module):
    def __init__(self, n_in, n_out, rng):
        self.weight = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        self.bias = np.zeros(n_out)

    def __call__(self, x):
        return x @ self.weight.T + self.bias


class ResidualMLP(nn.Module):
    """784-h-h-10 with a residual connection around the middle layer."""

    def __init__(self, rng, n_in=784, hidden=64, n_out=10):
        self.inp = Linear(n_in, hidden, rng)
        self.mid = Linear(hidden, hidden, rng)
        self.out = Linear(hidden, n_out, rng)

    def __call__(self, x):
        h = np.maximum(self.inp(x), 0.0)
        h = h + np.maximum(self.mid(h), 0.0)
        return self.out(h)


class Conv2d(nn.Module):
    """A 'valid' convolution over (batch, channels, height, width) images."""

    def __init__(self, c_in, c_out, k, rng):
        scale = np.sqrt(2.0 / (c_in * k * k))
        self.weight = rng.standard_normal((c_out, c_in, k, k)) * scale
        self.bias = np.zeros(c_out)
        self.k = k

    def __call__(self, x):
        patches = sliding_window_view(x, (self.k, self.k), axis=(2, 3))
        y = np.einsum("bchwij,ocij->bohw", patches, self.weight)
        return y + self.bias[None, :, None, None]


class SmallCNN(nn.Module):
    """conv3x3 1->4, ReLU, 2x2 mean pool, fc -> 10."""

    def __init__(self, rng, size=12):
        self.conv = Conv2d(1, 4, 3, rng)
        side = (size - 2) // 2
        self.fc = Linear(4 * side * side, 10, rng)

    def __call__(self, x):
        h = np.maximum(self.conv(x), 0.0)
        b, c, hh, ww = h.shape
        h = h.reshape(b, c, hh // 2, 2, ww // 2, 2).mean(axis=(3, 5))
        return self.fc(h.reshape(b, -1))


def cross_entropy(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def cross_entropy_of(model, x, labels):
    return cross_entropy(model(x), labels)


def resmlp_example():
    rng = np.random.default_rng(0)
    return ResidualMLP(rng), rng.standard_normal((8, 784)), rng.integers(0, 10, 8)


def cnn_example():
    rng = np.random.default_rng(0)
    return SmallCNN(rng), rng.standard_normal((8, 1, 12, 12)), rng.integers(0, 10, 8)


@srcgrad.value_and_grad(example=resmlp_example)
def resmlp_loss(model, x, labels):
    return cross_entropy(model(x), labels)


@srcgrad.value_and_grad(example=cnn_example)
def cnn_loss(model, x, labels):
    return cross_entropy(model(x), labels)


if __name__ == "__main__":
    for name, (loss, example) in {
        "resmlp": (resmlp_loss, resmlp_example),
        "cnn": (cnn_loss, cnn_example),
    }.items():
        model, x, labels = example()
        value, g = loss(model, x, labels)
        norms = [
            f"{'.'.join(map(str, path))} {np.linalg.norm(a):.3f}"
            for path, a in tree.leaves_with_paths(g)
            if a is not None
        ]
        print(f"{name}: loss {value:.4f}; gradient norms: {', '.join(norms)}")
        print(f"  backward pass: {loss.path}")
