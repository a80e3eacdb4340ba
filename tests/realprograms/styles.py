"""Program-structure idioms of published code: factories returning closures, model classes,
activation tables, random-number generators passed in, builtin sums over comprehensions."""

import numpy as np

from .common import relu


def make_nn_funs(layer_sizes, l2_reg=0.1, noise_variance=0.05):
    """Returns (number of weights, predictions, log posterior) closing over the layer shapes."""
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        start = 0
        layers = []
        for m, n in shapes:
            W = weights[start : start + m * n].reshape((m, n))
            b = weights[start + m * n : start + m * n + n]
            layers.append((W, b))
            start += (m + 1) * n
        return layers

    def predictions(weights, inputs):
        for W, b in unpack_layers(weights):
            outputs = np.dot(inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -l2_reg * np.sum(weights**2)
        preds = predictions(weights, inputs)
        log_lik = -np.sum((preds - targets) ** 2) / noise_variance
        return log_prior + log_lik

    return num_weights, predictions, logprob


class Regressor:
    """A model object: configuration on ``self``, parameters passed to a method."""

    def __init__(self, l2=0.01, activation="tanh"):
        self.l2 = l2
        self.activation = activation

    def forward(self, params, x):
        h = x @ params["W1"] + params["b1"]
        h = np.tanh(h) if self.activation == "tanh" else relu(h)
        return h @ params["W2"] + params["b2"]

    def loss(self, params, x, y):
        err = self.forward(params, x)[:, 0] - y
        return np.mean(err**2) + self.l2 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


ACTIVATIONS = {"tanh": np.tanh, "relu": relu, "softplus": lambda x: np.logaddexp(0.0, x)}


def configurable_net(params, x, y, activations=("softplus", "tanh")):
    """Activation functions looked up by name in a module-level table."""
    h = x
    for (W, b), name in zip(params, activations):
        h = ACTIVATIONS[name](h @ W + b)
    return np.sum((h - y) ** 2)


def dropout_net(params, x, y, rs, keep=0.8):
    """Dropout with a generator passed in, as training scripts thread their ``rs`` through."""
    (W1, b1), (W2, b2) = params
    h = relu(x @ W1 + b1)
    mask = rs.rand(*h.shape) < keep
    h = h * mask / keep
    return np.mean((h @ W2 + b2 - y) ** 2)


def weight_decay_loss(params, x, y, lam=1e-2):
    """Builtin sum over a list comprehension for the regulariser; unpacking in the comprehension."""
    h = x
    for W, b in params:
        h = np.tanh(h @ W + b)
    reg = sum([np.sum(W**2) for W, _ in params])
    return np.mean((h - y) ** 2) + lam * reg


def autoencoder_named_parts(params, x):
    """Encoder and decoder as a dict of lists, visited by a loop over a constant tuple of names."""
    h = x
    for part in ("encoder", "decoder"):
        for W, b in params[part]:
            h = np.tanh(h @ W + b)
    return np.mean((h - x) ** 2)


def vae_sampled_objective(params, x, rng):
    """A VAE's reparameterised sample, drawn inside the objective from a Generator passed in;
    the sizes read from the data with len and np.shape."""
    h = np.tanh(x @ params["enc"])
    mu = h @ params["mu"]
    log_var = h @ params["log_var"]
    z = mu + np.exp(0.5 * log_var) * rng.standard_normal(np.shape(mu))
    recon = np.tanh(z @ params["dec"])
    kl = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var))
    return np.sum((recon - x) ** 2) / len(x) + kl / np.shape(x)[0]


def minibatch_loss(w, X, y, rs, batch=4):
    """A minibatch drawn inside the loss, as SGD scripts do, then the squared error."""
    idx = rs.choice(len(X), size=batch, replace=False)
    noise = 0.01 * rs.randn(*w.shape)
    pred = X[idx] @ (w + noise)
    return np.mean((pred - y[idx]) ** 2)
