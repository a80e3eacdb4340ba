"""Volume rendering along rays as in NeRF-style renderers: densities and colours from a tiny
MLP at sample points, alpha compositing with an exclusive cumulative product of
transmittances, and a photometric loss against target pixel colours."""

import numpy as np

import srcgrad


def mlp(params, pts):
    W1, b1, W2, b2 = params
    h = np.maximum(pts @ W1 + b1, 0.0)
    out = h @ W2 + b2
    sigma = np.log1p(np.exp(out[..., 0]))
    rgb = 1.0 / (1.0 + np.exp(-out[..., 1:]))
    return sigma, rgb


def render(params, origins, dirs, near=0.5, far=2.0, n_samples=6):
    t = np.linspace(near, far, n_samples)
    pts = origins[:, None, :] + dirs[:, None, :] * t[None, :, None]
    sigma, rgb = mlp(params, pts)
    delta = np.concatenate([t[1:] - t[:-1], np.array([1e10])])
    alpha = 1.0 - np.exp(-sigma * delta[None, :])
    trans = np.cumprod(1.0 - alpha + 1e-10, axis=-1)
    trans = np.concatenate([np.ones_like(trans[:, :1]), trans[:, :-1]], axis=-1)
    weights = alpha * trans
    return np.sum(weights[..., None] * rgb, axis=1)


def photometric_loss(params, origins, dirs, target):
    pred = render(params, origins, dirs)
    return np.mean((pred - target) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = [0.5 * rs.randn(3, 8), 0.1 * rs.randn(8), 0.5 * rs.randn(8, 4), 0.1 * rs.randn(4)]
    origins = 0.1 * rs.randn(5, 3)
    dirs = rs.randn(5, 3)
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    return params, origins, dirs, rs.rand(5, 3)


if __name__ == "__main__":
    params, origins, dirs, target = make_inputs(0)
    grad_fn = srcgrad.grad(photometric_loss)
    for step in range(10):
        grads = grad_fn(params, origins, dirs, target)
        params = [p - 0.1 * g for p, g in zip(params, grads)]
