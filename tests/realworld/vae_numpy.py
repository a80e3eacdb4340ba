"""A variational autoencoder in plain numpy for binarised data: encoder and decoder are MLPs
with parameters as lists of (W, b) pairs, the encoder's output split into mean and log
standard deviation, the reparameterisation noise drawn from a RandomState passed to the
objective, a Bernoulli likelihood through np.logaddexp and the closed-form Gaussian KL."""

import numpy as np

import srcgrad


def relu(x):
    return np.maximum(0.0, x)


def neural_net(params, inputs):
    for W, b in params[:-1]:
        inputs = relu(inputs @ W + b)
    W, b = params[-1]
    return inputs @ W + b


def encode(enc_params, x, latent_dim):
    out = neural_net(enc_params, x)
    return out[:, :latent_dim], out[:, latent_dim:]


def bernoulli_log_likelihood(logits, x):
    # log p(x | logits) = x * logits - log(1 + exp(logits)), summed over pixels
    return np.sum(x * logits - np.logaddexp(0.0, logits), axis=1)


def gaussian_kl(mean, log_std):
    return 0.5 * np.sum(np.exp(2 * log_std) + mean**2 - 1.0 - 2 * log_std, axis=1)


def vae_loss(enc_params, dec_params, x, rs, latent_dim=2):
    mean, log_std = encode(enc_params, x, latent_dim)
    eps = rs.randn(*mean.shape)
    z = mean + np.exp(log_std) * eps
    logits = neural_net(dec_params, z)
    elbo = bernoulli_log_likelihood(logits, x) - gaussian_kl(mean, log_std)
    return -np.mean(elbo)


def init_net(sizes, rs, scale=0.3):
    return [(scale * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def make_inputs(seed, data_dim=6, latent_dim=2):
    rs = np.random.RandomState(seed)
    enc = init_net([data_dim, 5, 2 * latent_dim], rs)
    dec = init_net([latent_dim, 5, data_dim], rs)
    x = (rs.rand(4, data_dim) > 0.5).astype(float)
    return enc, dec, x, np.random.RandomState(seed + 1)


if __name__ == "__main__":
    enc, dec, x, rs = make_inputs(0)
    loss_grad = srcgrad.grad(vae_loss, wrt=(0, 1))
    g_enc, g_dec = loss_grad(enc, dec, x, rs)
    print(vae_loss(enc, dec, x, np.random.RandomState(1)))
