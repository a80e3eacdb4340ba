"""Generative models: a variational autoencoder and a GAN with three-layer networks."""

import numpy as np

from .common import diag_gaussian_logpdf, log_sigmoid, relu, sigmoid


def net_forward(params, inputs, nonlinearity=np.tanh):
    """A feed-forward net; params is a list of (W, b); no nonlinearity after the last layer."""
    for W, b in params[:-1]:
        inputs = nonlinearity(np.dot(inputs, W) + b)
    W, b = params[-1]
    return np.dot(inputs, W) + b


# ---------------------------------------------------------------- VAE


def encode(enc_params, data):
    """Mean and log standard deviation of q(z | x), from one net with 2 * latent outputs."""
    out = net_forward(enc_params, data, relu)
    latent = out.shape[1] // 2
    return out[:, :latent], out[:, latent:]


def reparameterize(mean, log_std, eps):
    return mean + np.exp(log_std) * eps


def bernoulli_log_density(targets, logits):
    """log p(targets | logits) for {0, 1} targets, summed over features."""
    signs = targets * 2 - 1
    return np.sum(log_sigmoid(logits * signs), axis=-1)


def vae_lower_bound(gen_params, rec_params, data, eps):
    """Monte Carlo ELBO with a fixed noise sample ``eps``."""
    q_mean, q_log_std = encode(rec_params, data)
    z = reparameterize(q_mean, q_log_std, eps)
    logits = net_forward(gen_params, z)
    log_px = bernoulli_log_density(data, logits)
    log_pz = diag_gaussian_logpdf(z, 0.0, 0.0 * z)
    log_qz = diag_gaussian_logpdf(z, q_mean, q_log_std)
    return np.mean(log_px + log_pz - log_qz)


def vae_analytic_kl(params, data, eps):
    """ELBO with the closed-form Gaussian KL; encoder and decoder in one tuple."""
    enc, dec = params
    mu, log_std = encode(enc, data)
    z = reparameterize(mu, log_std, eps)
    recon = sigmoid(net_forward(dec, z))
    rec_err = np.sum(data * np.log(recon + 1e-7) + (1 - data) * np.log(1 - recon + 1e-7), axis=1)
    kl = 0.5 * np.sum(np.exp(2 * log_std) + mu**2 - 1.0 - 2 * log_std, axis=1)
    return -np.mean(rec_err - kl)


# ---------------------------------------------------------------- GAN


def gan_batch_normalize(activations):
    mbmean = np.mean(activations, axis=0, keepdims=True)
    return (activations - mbmean) / (np.std(activations, axis=0, keepdims=True) + 1)


def gan_net(params, inputs):
    """Input layer, batch-normalised middle layers from ``params[1:-1]``, linear output."""
    W_in, b_in = params[0]
    inputs = relu(np.dot(inputs, W_in) + b_in)
    for W, b in params[1:-1]:
        outputs = gan_batch_normalize(np.dot(inputs, W) + b)
        inputs = relu(outputs)
    W_out, b_out = params[-1]
    return np.dot(inputs, W_out) + b_out


def gan_objective(gen_params, dsc_params, real_data, noise):
    """Discriminator's log-probability of real minus fake, with a fixed noise batch."""
    fake_data = sigmoid(gan_net(gen_params, noise))
    logprobs_fake = log_sigmoid(gan_net(dsc_params, fake_data))
    logprobs_real = log_sigmoid(gan_net(dsc_params, real_data))
    return np.mean(logprobs_real) - np.mean(logprobs_fake)


def gan_generator_loss(gen_params, dsc_params, noise):
    """Non-saturating generator loss: -log D(G(z))."""
    fake = np.tanh(net_forward(gen_params, noise, relu))
    return -np.mean(log_sigmoid(net_forward(dsc_params, fake, relu)))
