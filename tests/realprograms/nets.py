"""Feed-forward classifiers and regressors: MLPs with (W, b) lists, logistic and softmax models."""

import numpy as np
from scipy.special import logsumexp

from .common import relu, sigmoid, stable_logsumexp

# ---------------------------------------------------------------- MLP, params as [(W, b), ...]


def mlp_predict(params, inputs):
    """Log class probabilities of a tanh MLP; params is a list of (weights, bias) pairs."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def mlp_log_posterior(params, inputs, targets, l2=0.01):
    prior = -l2 * sum(np.sum(W**2) + np.sum(b**2) for W, b in params)
    loglik = np.sum(mlp_predict(params, inputs) * targets)
    return prior + loglik


def mlp_hidden_slice(params, inputs, targets):
    """Hidden layers from ``params[:-1]``, output layer unpacked from ``params[-1]``."""
    h = inputs
    for layer in params[:-1]:
        W, b = layer
        h = relu(h @ W + b)
    W_out, b_out = params[-1]
    logits = h @ W_out + b_out
    logprobs = logits - stable_logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(logprobs * targets, axis=1))


def mlp_indexed_layers(params, inputs, targets):
    """Layers read by index, the way code ported from other languages does it."""
    n_layers = len(params)
    h = inputs
    for i in range(n_layers):
        W = params[i][0]
        b = params[i][1]
        h = h @ W + b
        if i < n_layers - 1:
            h = np.tanh(h)
    return 0.5 * np.mean((h - targets) ** 2)


# ---------------------------------------------------------------- dict parameters


def dict_mlp_loss(params, x, y):
    """Two-layer regressor with named parameters and a weight-decay term over the dict."""
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    pred = hidden @ params["W2"] + params["b2"]
    decay = 1e-3 * sum(np.sum(v**2) for k, v in params.items() if k.startswith("W"))
    return np.mean((pred[:, 0] - y) ** 2) + decay


def dict_mlp_layer_keys(params, x, y):
    """Layer names built from the layer index: keys known only by formatting."""
    h = x
    for i in range(1, 3):
        h = h @ params["W%d" % i] + params[f"b{i}"]
        if i == 1:
            h = sigmoid(h)
    return np.sum((h[:, 0] - y) ** 2)


# ---------------------------------------------------------------- linear models


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def logistic_nll(weights, inputs, targets):
    """Negative log-likelihood of a logistic regression with labels in {0, 1}."""
    preds = logistic_predictions(weights, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def softmax_classifier(W, b, X, labels, reg=1e-2):
    """Multinomial logistic regression with integer labels and fancy-index lookup."""
    scores = X.dot(W) + b
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(scores), axis=1))
    correct = scores[np.arange(X.shape[0]), labels]
    data_loss = np.mean(log_norm - correct)
    return data_loss + 0.5 * reg * np.sum(W * W)


# ---------------------------------------------------------------- batch normalisation


def batch_normalize(activations, eps=1e-5):
    mu = np.mean(activations, axis=0, keepdims=True)
    var = np.var(activations, axis=0, keepdims=True)
    return (activations - mu) / np.sqrt(var + eps)


def batchnorm_net(params, inputs, targets):
    """An MLP with batch normalisation and a learned scale/shift per hidden layer."""
    h = inputs
    for W, b, gamma, beta in params["hidden"]:
        h = relu(gamma * batch_normalize(h @ W + b) + beta)
    W, b = params["out"]
    out = h @ W + b
    return np.mean(np.abs(out - targets) ** 1.5)
