"""The sparse autoencoder of the UFLDL tutorial: a sigmoid hidden layer, reconstruction error,
weight decay over every weight matrix of the parameter dict (params.items(), filtered by
name) and the KL sparsity penalty between the target activation rho and the mean hidden
activation rho_hat."""

import numpy as np

import srcgrad


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def kl_divergence(rho, rho_hat):
    return np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def sparse_autoencoder_cost(params, data, lam=1e-3, rho=0.1, beta=3.0):
    m = data.shape[0]
    hidden = sigmoid(data @ params["W1"] + params["b1"])
    output = sigmoid(hidden @ params["W2"] + params["b2"])
    reconstruction = 0.5 * np.sum((output - data) ** 2) / m
    weight_decay = 0.5 * lam * sum(
        np.sum(value**2) for name, value in params.items() if name.startswith("W")
    )
    rho_hat = np.mean(hidden, axis=0)
    return reconstruction + weight_decay + beta * kl_divergence(rho, rho_hat)


def initialize_parameters(visible_size, hidden_size, rs):
    r = np.sqrt(6) / np.sqrt(hidden_size + visible_size + 1)
    return {
        "W1": rs.uniform(-r, r, size=(visible_size, hidden_size)),
        "W2": rs.uniform(-r, r, size=(hidden_size, visible_size)),
        "b1": np.zeros(hidden_size),
        "b2": np.zeros(visible_size),
    }


def make_inputs(seed, visible=8, hidden=4, m=10):
    rs = np.random.RandomState(seed)
    params = initialize_parameters(visible, hidden, rs)
    data = rs.uniform(0.1, 0.9, size=(m, visible))
    return params, data


if __name__ == "__main__":
    params, data = make_inputs(0)
    cost_grad = srcgrad.grad(sparse_autoencoder_cost)
    for it in range(100):
        g = cost_grad(params, data)
        params = {k: params[k] - 0.5 * g[k] for k in params}
    print(sparse_autoencoder_cost(params, data))
