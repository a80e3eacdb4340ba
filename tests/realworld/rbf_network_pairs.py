"""A radial-basis-function network for 2-D regression with its centres and widths kept as a
list of (centre, log_width) pairs, split apart with zip(*pairs) and stacked, the kind of
pairing code people write when they grow a model one unit at a time; linear output weights
are a separate argument."""

import numpy as np

import srcgrad


def rbf_features(units, X):
    centres, log_widths = zip(*units)
    C = np.stack(centres)  # (K, D)
    widths = np.exp(np.array(log_widths))  # (K,)
    sq = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=2)
    return np.exp(-0.5 * sq / widths**2)


def rbf_loss(units, out_weights, X, y, l2=1e-2):
    phi = rbf_features(units, X)
    pred = phi @ out_weights
    return np.mean((pred - y) ** 2) + l2 * np.sum(out_weights**2)


def make_inputs(seed, n_units=4, n=12):
    rs = np.random.RandomState(seed)
    X = rs.uniform(-2, 2, size=(n, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    units = [(rs.uniform(-2, 2, size=2), np.log(1.0 + 0.1 * rs.rand())) for _ in range(n_units)]
    return units, 0.5 * rs.randn(n_units), X, y


if __name__ == "__main__":
    units, w, X, y = make_inputs(0)
    grad_units, grad_w = srcgrad.grad(rbf_loss, wrt=(0, 1))(units, w, X, y)
    print(grad_w)
