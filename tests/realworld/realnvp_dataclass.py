"""Maximum-likelihood density estimation with RealNVP affine coupling layers held in a
dataclass: alternating binary masks built from `np.arange(D) % 2`, a small tanh network
for scale and shift on the masked input, `(1 - mask)` gating, the log determinant summed
over the transformed coordinates, and a standard normal base density."""

from dataclasses import dataclass

import numpy as np

import srcgrad


@dataclass
class Coupling:
    W1: np.ndarray
    b1: np.ndarray
    Ws: np.ndarray
    Wt: np.ndarray


def coupling_forward(layer, x, mask):
    h = np.tanh((x * mask) @ layer.W1 + layer.b1)
    s = np.tanh(h @ layer.Ws) * (1 - mask)
    t = (h @ layer.Wt) * (1 - mask)
    y = x * mask + (1 - mask) * (x * np.exp(s) + t)
    return y, np.sum(s, axis=1)


def log_likelihood(layers, x):
    D = x.shape[1]
    log_det = 0.0
    for k, layer in enumerate(layers):
        mask = ((np.arange(D) + k) % 2).astype(float)
        x, ld = coupling_forward(layer, x, mask)
        log_det = log_det + ld
    log_base = -0.5 * np.sum(x ** 2, axis=1) - 0.5 * D * np.log(2 * np.pi)
    return np.mean(log_base + log_det)


def nll(layers, x):
    return -log_likelihood(layers, x)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    D, H = 4, 6
    layers = [
        Coupling(0.3 * rs.randn(D, H), np.zeros(H), 0.2 * rs.randn(H, D), 0.2 * rs.randn(H, D))
        for _ in range(3)
    ]
    x = rs.randn(20, D) @ np.array([[1.0, 0.5, 0, 0], [0, 1, 0.3, 0], [0, 0, 1, 0.2], [0, 0, 0, 1]])
    return layers, x


if __name__ == "__main__":
    layers, x = make_inputs(0)
    grads = srcgrad.grad(nll)(layers, x)
    print(grads[0].W1.shape)
