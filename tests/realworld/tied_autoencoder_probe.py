"""A tied-weight autoencoder with a spectral code penalty and a least-squares probe: the
decoder walks `for W in reversed(layers)` with `W.T`, the code covariance's spectrum from
`np.linalg.eigh` (its smallest eigenvalues kept away from zero), a linear probe fitted on
the training rows `np.where(split == 0)[0]` by `coef, *_ = np.linalg.lstsq(...)` and scored
on the rest, `np.add.reduce` for sums, and weight decay `for k in sorted(params)`."""

import numpy as np

import srcgrad

ACT = {"tanh": np.tanh, "softplus": lambda z: np.logaddexp(0.0, z), "linear": lambda z: z}


def encode(layers, x, act="tanh"):
    h = x
    for W in layers:
        h = ACT[act](h @ W)
    return h


def decode(layers, code, act="tanh"):
    h = code
    for i, W in enumerate(reversed(layers)):
        h = h @ W.T
        h = ACT["linear" if i == len(layers) - 1 else act](h)
    return h


def spectral_penalty(code, k=2):
    centred = code - code.mean(axis=0)
    cov = centred.T @ centred / (len(code) - 1)
    evals, _ = np.linalg.eigh(cov)
    return np.add.reduce(1.0 / (evals[:k] + 1e-3))


def probe_error(code, y, split):
    train, test = np.where(split == 0)[0], np.where(split == 1)[0]
    Z = np.column_stack([code, np.ones(len(code))])
    coef, *_ = np.linalg.lstsq(Z[train], y[train], rcond=None)
    return np.mean((Z[test] @ coef - y[test]) ** 2)


def ae_loss(params, x, y, split, lam=1e-3):
    layers = [params[k] for k in ("W1", "W2")]
    code = encode(layers, x)
    recon = np.add.reduce((decode(layers, code) - x) ** 2, axis=1).mean()
    decay = sum(np.sum(params[k] ** 2) for k in sorted(params))
    return recon + 0.01 * spectral_penalty(code) + probe_error(code, y, split) + lam * decay


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    N, D = 20, 6
    params = {"W2": 0.4 * rs.randn(5, 3), "W1": 0.4 * rs.randn(D, 5)}
    x = rs.randn(N, D)
    y = x[:, 0] - 0.5 * x[:, 1] + 0.1 * rs.randn(N)
    return params, x, y, (np.arange(N) % 4 == 0).astype(int)


if __name__ == "__main__":
    params, x, y, split = make_inputs(0)
    grads = srcgrad.grad(ae_loss)(params, x, y, split)
