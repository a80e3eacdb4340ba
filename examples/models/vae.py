"""A variational autoencoder's negative ELBO with the reparameterisation trick."""

import numpy as np

import srcgrad


@srcgrad.grad(wrt=("We", "be", "Wmu", "Wlv", "Wd", "bd"))
def vae_loss(We, be, Wmu, Wlv, Wd, bd, x, eps):
    """Bernoulli reconstruction loss plus the Gaussian KL term; ``eps`` is the noise."""
    h = np.tanh(x @ We + be)
    mu = h @ Wmu
    log_var = h @ Wlv
    z = mu + np.exp(0.5 * log_var) * eps
    logits = z @ Wd + bd
    recon = np.sum(np.logaddexp(0.0, logits) - x * logits, axis=1)
    kl = -0.5 * np.sum(1.0 + log_var - mu**2 - np.exp(log_var), axis=1)
    return np.mean(recon + kl)
