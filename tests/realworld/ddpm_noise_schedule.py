"""The DDPM objective on 2-D points: a cosine schedule (`np.clip(1 - a[1:] / a[:-1], 0,
0.999)`, `np.cumprod(1 - betas)`) kept in a class, `extract(a, t, x_shape)` reshaping with
`(len(t),) + (1,) * (len(x_shape) - 1)`, `q_sample(..., noise=None)`, timesteps and noise
from a `default_rng` passed in, sinusoidal time embeddings, an MLP epsilon predictor."""

import numpy as np

import srcgrad


def cosine_beta_schedule(timesteps, s=0.008):
    x = np.linspace(0, timesteps, timesteps + 1) / timesteps
    a = np.cos((x + s) / (1 + s) * np.pi * 0.5) ** 2
    a = a / a[0]
    return np.clip(1 - a[1:] / a[:-1], 0, 0.999)


def extract(a, t, x_shape):
    return a[t].reshape((len(t),) + (1,) * (len(x_shape) - 1))


class Diffusion:
    def __init__(self, timesteps):
        self.num_timesteps = timesteps
        alphas_cumprod = np.cumprod(1.0 - cosine_beta_schedule(timesteps))
        self.sqrt_ac = np.sqrt(alphas_cumprod)
        self.sqrt_1m_ac = np.sqrt(1.0 - alphas_cumprod)

    def q_sample(self, x0, t, noise=None):
        noise = np.zeros_like(x0) if noise is None else noise
        return extract(self.sqrt_ac, t, x0.shape) * x0 + extract(self.sqrt_1m_ac, t, x0.shape) * noise


def time_embedding(t, dim):
    args = t[:, None] * np.exp(-np.log(1000.0) * np.arange(dim // 2) / (dim // 2))[None, :]
    return np.concatenate([np.sin(args), np.cos(args)], axis=1)


def eps_model(params, x, t, t_dim=4):
    h = np.concatenate([x, time_embedding(t, t_dim)], axis=1)
    for W, b in params["hidden"]:
        h = np.tanh(h @ W + b)
    return h @ params["W_out"] + params["b_out"]


DIFFUSION = Diffusion(50)


def ddpm_loss(params, x0, rng):
    t = rng.integers(0, DIFFUSION.num_timesteps, size=x0.shape[0])
    noise = rng.standard_normal(x0.shape)
    xt = DIFFUSION.q_sample(x0, t, noise=noise)
    return np.mean((eps_model(params, xt, t) - noise) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    H = 8
    params = {"hidden": [(0.3 * rs.randn(6, H), np.zeros(H)), (0.3 * rs.randn(H, H), np.zeros(H))],
              "W_out": 0.3 * rs.randn(H, 2), "b_out": np.zeros(2)}
    angle = rs.uniform(0, 2 * np.pi, size=12)
    x0 = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return params, x0, np.random.default_rng(seed)


if __name__ == "__main__":
    grads = srcgrad.grad(ddpm_loss)(*make_inputs(0))
