"""A fully connected net with batch normalisation, as in the CS231n FullyConnectedNet: the
layers are a list of dicts (W, b, gamma, beta), each hidden layer does affine - batchnorm -
ReLU with the batch statistics of training mode, the last is affine only, and the loss is
softmax cross-entropy with L2 on the weights summed by a generator expression."""

import numpy as np

import srcgrad


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta


def softmax_cross_entropy(scores, y):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = scores.shape[0]
    return -np.sum(log_probs[np.arange(N), y]) / N


def loss(layers, X, y, reg=1e-2):
    out = X
    for layer in layers[:-1]:
        a = out @ layer["W"] + layer["b"]
        out = np.maximum(0, batchnorm_forward(a, layer["gamma"], layer["beta"]))
    scores = out @ layers[-1]["W"] + layers[-1]["b"]
    data_loss = softmax_cross_entropy(scores, y)
    reg_loss = 0.5 * reg * sum(np.sum(layer["W"] ** 2) for layer in layers)
    return data_loss + reg_loss


def make_inputs(seed, dims=(5, 6, 4, 3), N=8):
    rs = np.random.RandomState(seed)
    layers = []
    for i, (m, n) in enumerate(zip(dims[:-1], dims[1:])):
        layer = {"W": rs.randn(m, n) / np.sqrt(m), "b": np.zeros(n)}
        if i < len(dims) - 2:
            layer["gamma"] = 1.0 + 0.1 * rs.randn(n)
            layer["beta"] = 0.5 + 0.1 * rs.randn(n)
        layers.append(layer)
    return layers, rs.randn(N, dims[0]), rs.randint(0, dims[-1], size=N)


def main():
    layers, X, y = make_inputs(0)
    grad_loss = srcgrad.grad(loss)
    grads = grad_loss(layers, X, y)
    for layer, g in zip(layers, grads):
        for k in layer:
            layer[k] -= 0.1 * g[k]
    print(loss(layers, X, y))


if __name__ == "__main__":
    main()
