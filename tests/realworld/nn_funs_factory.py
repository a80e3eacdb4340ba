"""A regression net whose weights live in one flat vector, unpacked layer by layer by a
generator inside a factory (``make_nn_funs``) that returns closures over the layer sizes and
the regularisation strength.  The objective the script optimises calls the closures the
factory made at module level."""

import numpy as np
from scipy.stats import norm

import srcgrad


def make_nn_funs(layer_sizes, L2_reg, noise_variance, nonlinearity=np.tanh):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        for m, n in shapes:
            yield weights[: m * n].reshape((m, n)), weights[m * n : m * n + n]
            weights = weights[(m + 1) * n :]

    def predictions(weights, inputs):
        for W, b in unpack_layers(weights):
            outputs = np.dot(inputs, W) + b
            inputs = nonlinearity(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -L2_reg * np.sum(weights**2, axis=-1)
        preds = predictions(weights, inputs)
        log_lik = np.sum(norm.logpdf(preds, targets, np.sqrt(noise_variance)))
        return log_prior + log_lik

    return num_weights, predictions, logprob


num_weights, predictions, logprob = make_nn_funs(
    layer_sizes=[1, 6, 6, 1], L2_reg=0.1, noise_variance=0.05
)


def objective(weights, inputs, targets):
    return -logprob(weights, inputs, targets)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    inputs = np.linspace(-2, 2, 9).reshape((9, 1))
    targets = np.cos(inputs) + 0.1 * rs.randn(9, 1)
    weights = 0.3 * rs.randn(num_weights)
    return weights, inputs, targets


objective_grad = srcgrad.grad(objective)

if __name__ == "__main__":
    weights, inputs, targets = make_inputs(0)
    for i in range(100):
        weights = weights - 1e-3 * objective_grad(weights, inputs, targets)
    print(objective(weights, inputs, targets))
