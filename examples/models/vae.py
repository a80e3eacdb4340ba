"""A variational autoencoder's negative ELBO with the reparameterisation trick."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 4, 6 features, latent 2, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(6, 5), r(5), r(5, 2), r(5, 2), r(2, 6), r(6)),
        rng.uniform(size=(4, 6)),
        r(4, 2),
    )


@srcgrad.grad(wrt=("We", "be", "Wmu", "Wlv", "Wd", "bd"), example=example)
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
