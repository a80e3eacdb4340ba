"""One generator step of a 1-D GAN from scratch (numpy-only GAN tutorials): generator and
discriminator are MLPs with parameters as lists of [W, b] lists, the discriminator's logits
turned into the non-saturating generator loss -log D(G(z)) via np.logaddexp, the latent
noise a fixed batch drawn by the training loop."""

import numpy as np

import srcgrad


def mlp(params, x, activation=np.tanh):
    for W, b in params[:-1]:
        x = activation(np.dot(x, W) + b)
    W, b = params[-1]
    return np.dot(x, W) + b


def generator_loss(gen_params, disc_params, z):
    fake = mlp(gen_params, z)
    logits = mlp(disc_params, fake)
    # -log sigmoid(logits) = log(1 + exp(-logits))
    return np.mean(np.logaddexp(0.0, -logits))


def discriminator_loss(disc_params, gen_params, z, real):
    fake_logits = mlp(disc_params, mlp(gen_params, z))
    real_logits = mlp(disc_params, real)
    return np.mean(np.logaddexp(0.0, -real_logits)) + np.mean(np.logaddexp(0.0, fake_logits))


def init(sizes, rs):
    return [[0.5 * rs.randn(m, n), 0.1 * rs.randn(n)] for m, n in zip(sizes[:-1], sizes[1:])]


def make_inputs(seed, latent=2, hidden=5):
    rs = np.random.RandomState(seed)
    gen_params = init([latent, hidden, 1], rs)
    disc_params = init([1, hidden, 1], rs)
    z = rs.randn(6, latent)
    return gen_params, disc_params, z


def main():
    gen_params, disc_params, z = make_inputs(0)
    rs = np.random.RandomState(1)
    g_step = srcgrad.grad(generator_loss)
    d_step = srcgrad.grad(discriminator_loss)
    for it in range(20):
        real = 2.0 + 0.5 * rs.randn(6, 1)
        gd = d_step(disc_params, gen_params, z, real)
        disc_params = [[W - 0.05 * gW, b - 0.05 * gb] for (W, b), (gW, gb) in zip(disc_params, gd)]
        gg = g_step(gen_params, disc_params, z)
        gen_params = [[W - 0.05 * gW, b - 0.05 * gb] for (W, b), (gW, gb) in zip(gen_params, gg)]
    print(generator_loss(gen_params, disc_params, z))


if __name__ == "__main__":
    main()
